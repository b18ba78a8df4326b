/* Unit tests for token: base64 both ways, SHA-1 and SHA-256 against
 * FIPS 180 examples, HMAC against RFC 2202 and 4231, and
 * tokens that round-trip and refuse forgery, truncation, tampering,
 * another key, another kind and expiry. */
#include <stdio.h>
#include <string.h>

#include "sha.h"
#include "tap.h"
#include "token.h"

/* md[0..n) as lower-case hex, in a static buffer. */
static const char *
hex(const unsigned char *md, size_t n)
{
	static char h[2 * NUDGE_SHA256_LEN + 1];
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(h + 2 * i, 3, "%02x", md[i]);
	return h;
}

static void
test_sha(void)
{
	static const char two[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	unsigned char md[NUDGE_SHA256_LEN], big[131];

	nudge_sha1("abc", 3, md);
	is_str(hex(md, 20), "a9993e364706816aba3e25717850c26c9cd0d89d",
	    "SHA-1 of abc (FIPS 180)");
	nudge_sha256("abc", 3, md);
	is_str(hex(md, 32), "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad", "SHA-256 of abc");
	nudge_sha256(two, strlen(two), md);
	is_str(hex(md, 32), "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1", "SHA-256 over two blocks");
	nudge_sha256("", 0, md);
	is_str(hex(md, 32), "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855", "SHA-256 of nothing");
	ok(nudge_hmac(20, "Jefe", 4, "what do ya want for nothing?", 28,
	    md) == 0, "HMAC-SHA1");
	is_str(hex(md, 20), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
	    "HMAC-SHA1 matches RFC 2202 case 2");
	memset(big, 0xaa, sizeof big);
	ok(nudge_hmac(32, big, sizeof big, "Test Using Larger Than Block-Size "
	    "Key - Hash Key First", 54, md) == 0, "HMAC-SHA256, a long key");
	is_str(hex(md, 32), "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54",
	    "a key longer than a block is hashed first (RFC 4231 case 6)");
	ok(nudge_hmac(48, "k", 1, "m", 1, md) == -1, "no HMAC-SHA384");
}

static const char key[] = "s3cret-tracking-key";

static void
test_b64(void)
{
	nudge_buf b = { 0 };

	nudge_b64_encode(&b, "foobar", 6, 0);
	is_str(b.s, "Zm9vYmFy", "base64 of foobar");
	nudge_buf_reset(&b);
	nudge_b64_encode(&b, "fooba", 5, 0);
	is_str(b.s, "Zm9vYmE=", "base64 pads");
	nudge_buf_reset(&b);
	nudge_b64_encode(&b, "\xfb\xff", 2, 1);
	is_str(b.s, "-_8", "URL-safe base64 has no padding and - _");
	nudge_buf_reset(&b);
	ok(nudge_b64_decode(&b, "-_8", 3, 1) == 0 && b.len == 2 &&
	    memcmp(b.s, "\xfb\xff", 2) == 0, "decodes it back");
	nudge_buf_reset(&b);
	ok(nudge_b64_decode(&b, "-_9", 3, 1) == -1,
	    "refuses non-zero trailing bits");
	nudge_buf_reset(&b);
	ok(nudge_b64_decode(&b, "ab+c", 4, 1) == -1,
	    "refuses + in URL-safe base64");
	nudge_buf_reset(&b);
	ok(nudge_b64_decode(&b, "abcde", 5, 1) == -1,
	    "refuses an impossible length");
	nudge_buf_reset(&b);
	ok(nudge_b64_decode(&b, "Zm9vYmE=", 8, 0) == 0 && b.len == 5,
	    "standard base64 with padding decodes");
	nudge_buf_free(&b);
}

static void
test_hmac(void)
{
	/* RFC 4231 test case 2 */
	static const unsigned char want[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04,
		0x24, 0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08,
		0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec,
		0x38, 0x43,
	};
	unsigned char md[32];
	const char *msg = "what do ya want for nothing?";

	ok(nudge_hmac(32, "Jefe", 4, msg, strlen(msg), md) == 0 &&
	    memcmp(md, want, 32) == 0, "HMAC-SHA256 matches RFC 4231 case 2");
	ok(nudge_ct_equal("abc", "abc", 3) && !nudge_ct_equal("abc", "abd", 3),
	    "constant-time compare");
}

static void
test_tokens(void)
{
	nudge_token t = { NUDGE_TOKEN_CLICK, 7, 12345, "step-2",
		2000000000, "https://shop.example/a?b=c&d=%20", 0 }, u;
	nudge_buf tok = { 0 }, sc = { 0 }, bad = { 0 };
	nudge_err err;
	size_t i;
	int all;

	t.link_len = strlen(t.link);
	ok(nudge_token_seal(&t, key, strlen(key), &tok, &err) == 0,
	    "seals a click token");
	for (i = 0, all = 1; i < tok.len; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_", tok.s[i]))
			all = 0;
	ok(all, "the token is URL-safe");
	is_int(nudge_token_open(tok.s, tok.len, key, strlen(key), 1900000000,
	    &u, &sc), NUDGE_TOKEN_OK, "opens it");
	ok(u.kind == NUDGE_TOKEN_CLICK && u.campaign_id == 7 &&
	    u.contact_id == 12345 && u.expires == 2000000000,
	    "kind, campaign, contact and expiry come back");
	is_str(u.step, "step-2", "the step comes back");
	is_str(u.link, "https://shop.example/a?b=c&d=%20",
	    "the link comes back");
	is_int(nudge_token_open(tok.s, tok.len, key, strlen(key), 2000000001,
	    &u, &sc), NUDGE_TOKEN_EXPIRED, "after its expiry it is expired");
	is_int(nudge_token_open(tok.s, tok.len, "other", 5, 0, &u, &sc),
	    NUDGE_TOKEN_BAD, "another key: bad");
	for (i = 1; i < tok.len; i += 7)
		if (nudge_token_open(tok.s, i, key, strlen(key), 0, &u, &sc) !=
		    NUDGE_TOKEN_BAD)
			break;
	ok(i >= tok.len, "every truncation is bad");
	for (i = 0, all = 1; i < tok.len; i++) {
		nudge_buf_reset(&bad);
		nudge_buf_add(&bad, tok.s, tok.len);
		bad.s[i] = bad.s[i] == 'A' ? 'B' : 'A';
		if (nudge_token_open(bad.s, bad.len, key, strlen(key), 0, &u,
		    &sc) != NUDGE_TOKEN_BAD)
			all = 0;
	}
	ok(all, "changing any one character makes it bad");
	nudge_buf_reset(&bad);
	nudge_buf_add(&bad, tok.s, tok.len);
	nudge_buf_puts(&bad, "AA");
	is_int(nudge_token_open(bad.s, bad.len, key, strlen(key), 0, &u, &sc),
	    NUDGE_TOKEN_BAD, "appending makes it bad");
	is_int(nudge_token_open("", 0, key, strlen(key), 0, &u, &sc),
	    NUDGE_TOKEN_BAD, "empty is bad");

	/* an open token sealed by the same key is not a click token with
	 * another link: the kind and link are under the MAC */
	nudge_buf_reset(&tok);
	t.kind = NUDGE_TOKEN_OPEN;
	t.link = NULL;
	t.step = NULL;
	ok(nudge_token_seal(&t, key, strlen(key), &tok, &err) == 0,
	    "seals an open token");
	is_int(nudge_token_open(tok.s, tok.len, key, strlen(key), 0, &u, &sc),
	    NUDGE_TOKEN_OK, "opens it");
	ok(u.kind == NUDGE_TOKEN_OPEN && u.link == NULL && *u.step == '\0',
	    "open kind, no link, empty step");
	ok(tok.len < 40, "an open token is short");
	t.contact_id = -1;
	ok(nudge_token_seal(&t, key, strlen(key), &tok, &err) == EX_DATAERR,
	    "a negative contact is refused");
	t.contact_id = 1;
	ok(nudge_token_seal(&t, key, 0, &tok, &err) == EX_DATAERR,
	    "an empty key is refused");
	nudge_buf_free(&tok);
	nudge_buf_free(&sc);
	nudge_buf_free(&bad);
}

int
main(void)
{
	test_b64();
	test_sha();
	test_hmac();
	test_tokens();
	return done_testing();
}
