/* token: signed tracking tokens, base64 and HMAC (sha.c). */
#include "token.h"

#include <stdio.h>
#include <string.h>

#include "sha.h"

#define VERSION 1
/* The longest token nudge_token_open reads, in base64 characters. */
#define TOKEN_MAX 8192

static const char b64std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
nudge_b64_encode(nudge_buf *out, const void *p, size_t n, int url)
{
	const unsigned char *s = p;
	const char *a = url ? b64url : b64std;
	char q[4];
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		q[0] = a[s[i] >> 2];
		q[1] = a[(s[i] & 3) << 4 | s[i + 1] >> 4];
		q[2] = a[(s[i + 1] & 15) << 2 | s[i + 2] >> 6];
		q[3] = a[s[i + 2] & 63];
		if (nudge_buf_add(out, q, 4) == -1)
			return -1;
	}
	if (n - i == 1) {
		q[0] = a[s[i] >> 2];
		q[1] = a[(s[i] & 3) << 4];
		q[2] = q[3] = '=';
		return nudge_buf_add(out, q, url ? 2 : 4);
	}
	if (n - i == 2) {
		q[0] = a[s[i] >> 2];
		q[1] = a[(s[i] & 3) << 4 | s[i + 1] >> 4];
		q[2] = a[(s[i + 1] & 15) << 2];
		q[3] = '=';
		return nudge_buf_add(out, q, url ? 3 : 4);
	}
	if (out->s == NULL)
		return nudge_buf_add(out, "", 0);
	return 0;
}

static int
b64val(char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

int
nudge_b64_decode(nudge_buf *out, const char *s, size_t n, int url)
{
	unsigned acc = 0;
	int bits = 0, v;
	size_t i;

	if (!url && n % 4 == 0)
		while (n > 0 && s[n - 1] == '=' && n % 4 != 2)
			n--;
	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c;

		if ((v = b64val(s[i], url)) < 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			c = (unsigned char)(acc >> bits);
			if (nudge_buf_add(out, &c, 1) == -1)
				return -1;
			acc &= (1u << bits) - 1;
		}
	}
	/* The bits left over must be zero: one spelling per token. */
	if (acc != 0)
		return -1;
	if (out->s == NULL)
		return nudge_buf_add(out, "", 0);
	return 0;
}

int
nudge_hmac(int mdlen, const void *key, size_t keylen, const void *msg,
    size_t n, unsigned char *md)
{
	return nudge_sha_hmac(mdlen, key, keylen, msg, n, md);
}

int
nudge_token_code(const void *key, size_t keylen, int64_t contact,
    int64_t event, char out[7])
{
	unsigned char md[32];
	char msg[64];
	uint32_t v;
	int n;

	n = snprintf(msg, sizeof msg, "code:%lld:%lld", (long long)contact,
	    (long long)event);
	if (nudge_hmac(32, key, keylen, msg, (size_t)n, md) != 0)
		return -1;
	v = ((uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 |
	    (uint32_t)md[2] << 8 | md[3]) % 1000000u;
	snprintf(out, 7, "%06u", (unsigned)v);
	return 0;
}

int
nudge_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	size_t i;

	/* every byte compared, whatever the first difference */
	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

static int
put_varint(nudge_buf *b, uint64_t v)
{
	unsigned char c;

	do {
		c = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			c |= 0x80;
		if (nudge_buf_add(b, &c, 1) == -1)
			return -1;
	} while (v != 0);
	return 0;
}

static int
get_varint(const unsigned char **p, const unsigned char *end, int64_t *out)
{
	uint64_t v = 0;
	int shift = 0;

	for (;;) {
		if (*p >= end || shift > 56)
			return -1;
		v |= (uint64_t)(**p & 0x7f) << shift;
		shift += 7;
		if (!(*(*p)++ & 0x80))
			break;
	}
	if (v > INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int
nudge_token_seal(const nudge_token *t, const void *key, size_t keylen,
    nudge_buf *out, nudge_err *err)
{
	unsigned char md[32], head;
	nudge_buf p = { 0 };
	size_t steplen = t->step != NULL ? strlen(t->step) : 0;
	int rc = 0;

	if (keylen == 0)
		return nudge_errf(err, EX_DATAERR, "token: an empty secret");
	if (t->campaign_id < 0 || t->contact_id < 0 || t->expires < 0)
		return nudge_errf(err, EX_DATAERR, "token: a negative number");
	if (steplen > 255)
		return nudge_errf(err, EX_DATAERR, "token: step name over 255 "
		    "bytes");
	if (t->kind < NUDGE_TOKEN_OPEN || t->kind > NUDGE_TOKEN_CONFIRM)
		return nudge_errf(err, EX_DATAERR, "token: unknown kind");
	/* What nudge_token_open refuses is not sealed: a click without a
	 * link or with a NUL in it would be a link that never opens. */
	if (t->kind == NUDGE_TOKEN_CLICK && (t->link == NULL ||
	    t->link_len == 0 || memchr(t->link, '\0', t->link_len) != NULL))
		return nudge_errf(err, EX_DATAERR, "token: a click without a "
		    "link, or with a NUL in it");
	head = (unsigned char)(VERSION << 4 | t->kind);
	if (nudge_buf_add(&p, &head, 1) == -1 ||
	    put_varint(&p, (uint64_t)t->campaign_id) == -1 ||
	    put_varint(&p, (uint64_t)t->contact_id) == -1 ||
	    put_varint(&p, (uint64_t)t->expires) == -1 ||
	    put_varint(&p, steplen) == -1 ||
	    nudge_buf_add(&p, t->step != NULL ? t->step : "", steplen) == -1 ||
	    (t->kind == NUDGE_TOKEN_CLICK && t->link != NULL &&
	    nudge_buf_add(&p, t->link, t->link_len) == -1))
		goto nomem;
	if (nudge_hmac(32, key, keylen, p.s, p.len, md) == -1) {
		rc = nudge_errf(err, EX_SOFTWARE, "token: HMAC failed");
		goto out;
	}
	if (nudge_buf_add(&p, md, NUDGE_TOKEN_MAC) == -1)
		goto nomem;
	if ((p.len * 4 + 2) / 3 > TOKEN_MAX) {
		rc = nudge_errf(err, EX_DATAERR, "token: over %d characters",
		    TOKEN_MAX);
		goto out;
	}
	if (nudge_b64_encode(out, p.s, p.len, 1) == -1)
		goto nomem;
	goto out;
nomem:
	rc = nudge_errf(err, EX_OSERR, "out of memory");
out:
	explicit_bzero(md, sizeof md);
	nudge_buf_free(&p);
	return rc;
}

enum nudge_token_verdict
nudge_token_open(const char *s, size_t n, const void *key, size_t keylen,
    int64_t now, nudge_token *t, nudge_buf *scratch)
{
	const unsigned char *p, *end;
	unsigned char md[32];
	int64_t steplen;
	size_t plen;
	int kind;

	memset(t, 0, sizeof *t);
	nudge_buf_reset(scratch);
	/* a generous bound: no link of ours is 4 KiB */
	if (keylen == 0 || n > TOKEN_MAX ||
	    nudge_b64_decode(scratch, s, n, 1) == -1 ||
	    scratch->len < 6 + NUDGE_TOKEN_MAC)
		return NUDGE_TOKEN_BAD;
	plen = scratch->len - NUDGE_TOKEN_MAC;
	if (nudge_hmac(32, key, keylen, scratch->s, plen, md) == -1 ||
	    !nudge_ct_equal(md, scratch->s + plen, NUDGE_TOKEN_MAC))
		return NUDGE_TOKEN_BAD;
	/* From here on the payload is ours: still parse it strictly. */
	p = (const unsigned char *)scratch->s;
	end = p + plen;
	if (*p >> 4 != VERSION)
		return NUDGE_TOKEN_BAD;
	kind = *p++ & 15;
	if (kind < NUDGE_TOKEN_OPEN || kind > NUDGE_TOKEN_CONFIRM ||
	    get_varint(&p, end, &t->campaign_id) == -1 ||
	    get_varint(&p, end, &t->contact_id) == -1 ||
	    get_varint(&p, end, &t->expires) == -1 ||
	    get_varint(&p, end, &steplen) == -1 || steplen > end - p)
		return NUDGE_TOKEN_BAD;
	t->kind = (enum nudge_token_kind)kind;
	/* The step and the link are copied after the payload, each with a
	 * NUL of its own. */
	{
		size_t off = (size_t)(p - (const unsigned char *)scratch->s);
		size_t linkoff = off + (size_t)steplen;
		size_t linklen = plen - linkoff, sstart, lstart;

		if (kind != NUDGE_TOKEN_CLICK && linklen != 0)
			return NUDGE_TOKEN_BAD;
		if (kind == NUDGE_TOKEN_CLICK && linklen == 0)
			return NUDGE_TOKEN_BAD;
		/* grow first, then copy: growing may move the buffer */
		sstart = scratch->len;
		lstart = sstart + (size_t)steplen + 1;
		while (scratch->len < lstart + linklen + 1)
			if (nudge_buf_putc(scratch, '\0') == -1)
				return NUDGE_TOKEN_BAD;
		memcpy(scratch->s + sstart, scratch->s + off, (size_t)steplen);
		memcpy(scratch->s + lstart, scratch->s + linkoff, linklen);
		t->step = scratch->s + sstart;
		if (kind == NUDGE_TOKEN_CLICK) {
			t->link = scratch->s + lstart;
			t->link_len = linklen;
			if (memchr(t->link, '\0', linklen) != NULL)
				return NUDGE_TOKEN_BAD;
		}
		if (memchr(t->step, '\0', (size_t)steplen) != NULL)
			return NUDGE_TOKEN_BAD;
	}
	if (t->expires < now)
		return NUDGE_TOKEN_EXPIRED;
	return NUDGE_TOKEN_OK;
}

int
nudge_track_url(nudge_buf *out, const char *base, const void *key,
    size_t keylen, char kind, int64_t campaign_id, const char *step,
    int64_t contact_id, const char *link, size_t len, int64_t now,
    nudge_err *err)
{
	nudge_token t = { 0 };
	size_t i, blen = strlen(base);

	for (i = 0; link != NULL && i < len; i++)
		if ((unsigned char)link[i] <= 0x20 || link[i] == 0x7f)
			return nudge_errf(err, EX_DATAERR, "a link with a "
			    "space or control character");
	t.kind = kind == 'o' ? NUDGE_TOKEN_OPEN : kind == 'c' ?
	    NUDGE_TOKEN_CLICK : kind == 's' ? NUDGE_TOKEN_CONFIRM :
	    NUDGE_TOKEN_UNSUB;
	t.campaign_id = campaign_id;
	t.contact_id = contact_id;
	t.step = step;
	t.expires = now + (kind == 'u' ? NUDGE_TOKEN_UNSUB_TTL : kind == 's' ?
	    NUDGE_TOKEN_CONFIRM_TTL : NUDGE_TOKEN_TTL);
	t.link = link;
	t.link_len = len;
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (nudge_buf_add(out, base, blen) == -1 ||
	    (kind == 's' ? nudge_buf_puts(out, "/s/confirm/") :
	    nudge_buf_printf(out, "/%c/", kind)) == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	return nudge_token_seal(&t, key, keylen, out, err);
}
