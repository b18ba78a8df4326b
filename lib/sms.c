/* sms: GSM-7 / UCS-2 detection and segment counting. */
#include "sms.h"

#include <stdint.h>

/* The GSM 03.38 default alphabet beyond printable ASCII, and the ASCII
 * characters it lacks. */
static const uint32_t gsm_basic[] = {
	0x00a3, 0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec, 0x00f2, 0x00c7,
	0x00d8, 0x00f8, 0x00c5, 0x00e5, 0x0394, 0x03a6, 0x0393, 0x039b,
	0x03a9, 0x03a0, 0x03a8, 0x03a3, 0x0398, 0x039e, 0x00c6, 0x00e6,
	0x00df, 0x00c9, 0x00a4, 0x00a1, 0x00c4, 0x00d6, 0x00d1, 0x00dc,
	0x00a7, 0x00bf, 0x00e4, 0x00f6, 0x00f1, 0x00fc, 0x00e0,
};

/* 1 or 2 septets, or 0 when c is not in GSM-7. */
static int
septets(uint32_t c)
{
	size_t i;

	if (c == '\n' || c == '\r')
		return 1;
	if (c == '^' || c == '{' || c == '}' || c == '\\' || c == '[' ||
	    c == '~' || c == ']' || c == '|' || c == 0x20ac || c == '\f')
		return 2;
	if (c == '`')
		return 0;
	if (c >= 0x20 && c < 0x7f)
		return 1;
	for (i = 0; i < sizeof gsm_basic / sizeof gsm_basic[0]; i++)
		if (gsm_basic[i] == c)
			return 1;
	return 0;
}

/* Decodes one UTF-8 character at s (n > 0 bytes left); sets *len. */
static uint32_t
decode(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t c = s[0];
	size_t k, i;

	if (c < 0x80) {
		*len = 1;
		return c;
	}
	k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
	if (k == 0 || k > n) {
		*len = 1;
		return 0xfffd;
	}
	c &= 0x3fu >> (k - 1);
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*len = i;
			return 0xfffd;
		}
		c = c << 6 | (s[i] & 0x3f);
	}
	*len = k;
	return c;
}

void
nudge_sms_measure(const char *s, size_t n, nudge_sms_count *c)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, len, units = 0, seg_units = 0;
	int segs = 1, w, ucs2 = 0;
	uint32_t ch;

	for (i = 0; i < n; i += len)
		if (septets(decode(p + i, n - i, &len)) == 0) {
			ucs2 = 1;
			break;
		}
	/* count twice: the total, and the parts of a long message, where
	 * a character of w units that does not fit starts the next part */
	for (i = 0; i < n; i += len) {
		ch = decode(p + i, n - i, &len);
		w = ucs2 ? (ch > 0xffff ? 2 : 1) : septets(ch);
		units += (size_t)w;
		if (seg_units + (size_t)w > (ucs2 ? 67u : 153u)) {
			segs++;
			seg_units = 0;
		}
		seg_units += (size_t)w;
	}
	c->ucs2 = ucs2;
	c->units = units;
	c->segments = units <= (ucs2 ? 70u : 160u) ? 1 : segs;
	if (n == 0)
		c->segments = 1;
}

const char *
nudge_sms_encoding(const nudge_sms_count *c)
{
	return c->ucs2 ? "UCS-2" : "GSM-7";
}
