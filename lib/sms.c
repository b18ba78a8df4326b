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

	switch (c) {
	case '\n': case '\r':
		return 1;
	case '^': case '{': case '}': case '\\': case '[': case '~':
	case ']': case '|': case 0x20ac: case '\f':
		return 2;
	case '`':
		return 0;
	default:
		break;
	}
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

/* Counts the units of p[0..n) and the parts of a long message, where a
 * character of w units that does not fit starts the next part; in
 * GSM-7, -1 at the first character it lacks. */
static int
count(const unsigned char *p, size_t n, int ucs2, size_t *units, int *segs)
{
	size_t i, len, seg_units = 0, max = ucs2 ? 67u : 153u;
	uint32_t ch;
	int w;

	*units = 0;
	*segs = 1;
	for (i = 0; i < n; i += len) {
		if (p[i] < 0x80) {
			ch = p[i];
			len = 1;
		} else {
			ch = decode(p + i, n - i, &len);
		}
		if (ucs2)
			w = ch > 0xffff ? 2 : 1;
		else if ((w = septets(ch)) == 0)
			return -1;
		*units += (size_t)w;
		if (seg_units + (size_t)w > max) {
			(*segs)++;
			seg_units = 0;
		}
		seg_units += (size_t)w;
	}
	return 0;
}

void
nudge_sms_measure(const char *s, size_t n, nudge_sms_count *c)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t units;
	int segs;

	/* GSM-7 unless a character is not in it: then all of it UCS-2 */
	c->ucs2 = count(p, n, 0, &units, &segs) == -1;
	if (c->ucs2)
		(void)count(p, n, 1, &units, &segs);
	c->units = units;
	c->segments = units <= (c->ucs2 ? 70u : 160u) ? 1 : segs;
}

const char *
nudge_sms_encoding(const nudge_sms_count *c)
{
	return c->ucs2 ? "UCS-2" : "GSM-7";
}
