/* Fuzz target token: a tracking token checked against the key.  The
 * fuzzer cannot forge the MAC, so the input is also taken as a token's
 * contents (kind, ids, step, link from the input), sealed with the key
 * and opened again: the same token, one spelling, and any change of one
 * character makes it bad. */
#include "fuzz.h"

#include "token.h"

static const char key[] = "fuzz-secret";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nudge_token t = { 0 }, u;
	nudge_buf scratch = { 0 }, sealed = { 0 }, dec = { 0 };
	enum nudge_token_verdict v;
	nudge_err err;
	char step[300], c;
	int64_t nums[3] = { 0, 0, 0 };
	size_t i, k, steplen;

	if (size > 8192)
		return 0;
	/* 1. the input as a token */
	/* ending at an unreadable page: a read past the end faults */
	v = nudge_token_open(fuzz_guarded(data, size), size, key,
	    sizeof key - 1, FUZZ_NOW, &t, &scratch);
	CHECK(v == NUDGE_TOKEN_OK || v == NUDGE_TOKEN_BAD ||
	    v == NUDGE_TOKEN_EXPIRED);
	(void)nudge_b64_decode(&dec, (const char *)data, size, 1);
	nudge_buf_reset(&dec);
	(void)nudge_b64_decode(&dec, (const char *)data, size, 0);

	/* 2. the input as a token's contents */
	if (size < 1 + 3 * 8 + 1)
		goto out;
	memset(&t, 0, sizeof t);
	t.kind = (enum nudge_token_kind)(1 + data[0] % 3);
	for (i = 0; i < 3; i++) {
		uint64_t x = 0;

		for (k = 0; k < 8; k++)
			x = x << 8 | data[1 + i * 8 + k];
		nums[i] = (int64_t)(x & INT64_MAX);
	}
	t.campaign_id = nums[0];
	t.contact_id = nums[1];
	t.expires = FUZZ_NOW + (nums[2] % (10 * 365 * 86400LL));
	data += 25;
	size -= 25;
	steplen = data[0] < size - 1 ? data[0] : size - 1;
	memcpy(step, data + 1, steplen);
	step[steplen] = '\0';
	t.step = step;
	data += 1 + steplen;
	size -= 1 + steplen;
	if (t.kind == NUDGE_TOKEN_CLICK) {
		t.link = (const char *)data;
		t.link_len = size;
	}
	if (nudge_token_seal(&t, key, sizeof key - 1, &sealed, &err) != 0)
		goto out;
	nudge_buf_reset(&scratch);
	v = nudge_token_open(sealed.s, sealed.len, key, sizeof key - 1,
	    FUZZ_NOW, &u, &scratch);
	CHECK(v == NUDGE_TOKEN_OK);
	CHECK(u.kind == t.kind && u.campaign_id == t.campaign_id &&
	    u.contact_id == t.contact_id && u.expires == t.expires);
	CHECK(strlen(u.step) == strlen(step) && strcmp(u.step, step) == 0);
	if (t.kind == NUDGE_TOKEN_CLICK)
		CHECK(u.link_len == t.link_len &&
		    (t.link_len == 0 || memcmp(u.link, t.link, t.link_len) == 0));
	else
		CHECK(u.link == NULL);
	/* one character changed: refused */
	i = (size_t)nums[2] % sealed.len;
	c = sealed.s[i];
	sealed.s[i] = c == 'A' ? 'B' : 'A';
	nudge_buf_reset(&scratch);
	CHECK(nudge_token_open(sealed.s, sealed.len, key, sizeof key - 1,
	    FUZZ_NOW, &u, &scratch) == NUDGE_TOKEN_BAD);
	/* the wrong key: refused */
	sealed.s[i] = c;
	nudge_buf_reset(&scratch);
	CHECK(nudge_token_open(sealed.s, sealed.len, "other", 5, FUZZ_NOW, &u,
	    &scratch) == NUDGE_TOKEN_BAD);
out:
	nudge_buf_free(&scratch);
	nudge_buf_free(&sealed);
	nudge_buf_free(&dec);
	return 0;
}
