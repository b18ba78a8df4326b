/* util: error reports, growable buffers, UTF-8 checks. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

int
nudge_errf(nudge_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int
grow(nudge_buf *b, size_t need)
{
	size_t cap;
	char *s;

	if (b->failed)
		return -1;
	if (b->len + need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + need + 1) {
		if (cap > SIZE_MAX / 2) {
			b->failed = 1;
			return -1;
		}
		cap *= 2;
	}
	if ((s = realloc(b->s, cap)) == NULL) {
		b->failed = 1;
		return -1;
	}
	b->s = s;
	b->cap = cap;
	return 0;
}

int
nudge_buf_add(nudge_buf *b, const void *p, size_t n)
{
	if (grow(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

char *
nudge_buf_room(nudge_buf *b, size_t n)
{
	return grow(b, n) == -1 ? NULL : b->s + b->len;
}

void
nudge_buf_wrote(nudge_buf *b, size_t n)
{
	b->len += n;
	b->s[b->len] = '\0';
}

int
nudge_buf_puts(nudge_buf *b, const char *s)
{
	return nudge_buf_add(b, s, strlen(s));
}

int
nudge_buf_putc(nudge_buf *b, char c)
{
	/* the escapers and the MIME encoders write a byte at a time */
	if (!b->failed && b->len + 2 <= b->cap) {
		b->s[b->len++] = c;
		b->s[b->len] = '\0';
		return 0;
	}
	return nudge_buf_add(b, &c, 1);
}

int
nudge_buf_printf(nudge_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return -1;
	/* one pass when it fits in the room left, as it mostly does */
	if (b->s != NULL && b->cap > b->len) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return 0;
		}
		b->s[b->len] = '\0';
	} else {
		va_start(ap, fmt);
		n = vsnprintf(NULL, 0, fmt, ap);
		va_end(ap);
	}
	if (n < 0 || grow(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int
nudge_buf_json_str(nudge_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start;
	char esc[7];

	if (nudge_buf_putc(b, '"') == -1)
		return -1;
	for (i = start = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		switch (c) {
		case '"': rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = '\0';
			rep = esc;
		}
		if (nudge_buf_add(b, s + start, i - start) == -1 ||
		    nudge_buf_puts(b, rep) == -1)
			return -1;
		start = i + 1;
	}
	if (nudge_buf_add(b, s + start, n - start) == -1)
		return -1;
	return nudge_buf_putc(b, '"');
}

int
nudge_buf_replace(nudge_buf *b, const char *s, const char *from,
    const char *to)
{
	size_t n = strlen(from);
	const char *p;

	while ((p = strstr(s, from)) != NULL) {
		if (nudge_buf_add(b, s, (size_t)(p - s)) == -1 ||
		    nudge_buf_puts(b, to) == -1)
			return -1;
		s = p + n;
	}
	return nudge_buf_puts(b, s);
}

void
nudge_buf_reset(nudge_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->s != NULL)
		b->s[0] = '\0';
}

void
nudge_buf_free(nudge_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

const char *
nudge_buf_str(const nudge_buf *b)
{
	return b->s != NULL ? b->s : "";
}

int
nudge_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len, k;
		uint32_t cp;

		if (c >= 0x01 && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1fu;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0fu;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07u;
		} else {
			return 0; /* NUL, stray continuation, 0xc0/0xc1, > 0xf4 */
		}
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

const char *
nudge_quote(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t i, o = 0, boundary = 0;

	if (dstlen < 8) {
		if (dstlen > 0)
			dst[0] = '\0';
		return dst;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[8];
		size_t tl;

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
			if (c == '\n')
				tl = (size_t)snprintf(tmp, sizeof tmp, "\\n");
			else if (c == '\r')
				tl = (size_t)snprintf(tmp, sizeof tmp, "\\r");
			else if (c == '\t')
				tl = (size_t)snprintf(tmp, sizeof tmp, "\\t");
			else if (c == '"' || c == '\\')
				tl = (size_t)snprintf(tmp, sizeof tmp, "\\%c", c);
			else
				tl = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", c);
		} else {
			tmp[0] = (char)c;
			tl = 1;
		}
		if ((c & 0xc0) != 0x80)
			boundary = o; /* a character starts here */
		if (o + tl + 4 >= dstlen) {
			o = (c & 0xc0) == 0x80 ? boundary : o;
			memcpy(dst + o, "...", 4);
			return dst;
		}
		memcpy(dst + o, tmp, tl);
		o += tl;
	}
	dst[o] = '\0';
	return dst;
}

char *
nudge_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int
nudge_tmpfile(const char *stem, FILE **out, nudge_err *err)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/nudge-%s.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp", stem);
	if ((fd = mkstemp(path)) == -1)
		return nudge_errf(err, EX_CANTCREAT, "%s: %s", path,
		    strerror(errno));
	unlink(path);
	if ((*out = fdopen(fd, "w+")) == NULL) {
		close(fd);
		return nudge_errf(err, EX_OSERR, "%s: %s", path,
		    strerror(errno));
	}
	return 0;
}

int
nudge_strset(char **dst, const char *s)
{
	free(*dst);
	return (*dst = strdup(s)) == NULL ? -1 : 0;
}

size_t
nudge_edit_distance(const char *a, const char *b)
{
	enum { MAX = 64 };
	size_t d[MAX + 1][MAX + 1], i, j, m, n, v;

	m = strnlen(a, MAX);
	n = strnlen(b, MAX);
	for (i = 0; i <= m; i++)
		d[i][0] = i;
	for (j = 0; j <= n; j++)
		d[0][j] = j;
	for (i = 1; i <= m; i++)
		for (j = 1; j <= n; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[m][n];
}

const char *
nudge_closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t i, d, bestd, max = (strlen(word) + 1) / 3;

	if (max < 1)
		max = 1;
	bestd = max + 1;
	for (i = 0; i < n; i++) {
		if (cands[i] == NULL)
			continue;
		if (strcmp(cands[i], word) == 0)
			return NULL;
		if (strcasecmp(cands[i], word) == 0) {
			best = cands[i];
			bestd = 0;
		} else if ((d = nudge_edit_distance(word, cands[i])) < bestd) {
			best = cands[i];
			bestd = d;
		}
	}
	return best;
}

size_t
nudge_fmt_i64(char *buf, int64_t v)
{
	char tmp[20];
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t k = 0, n = 0;

	do {
		tmp[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		buf[n++] = '-';
	while (k > 0)
		buf[n++] = tmp[--k];
	return n;
}

char *
nudge_strcpy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return dst;
}

int
nudge_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}

int
nudge_parse_rate(const char *s, double *per_s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !(v > 0) || v > 1e6)
		return -1;
	if (strcmp(end, "/m") == 0)
		v /= 60;
	else if (strcmp(end, "/h") == 0)
		v /= 3600;
	else if (*end != '\0' && strcmp(end, "/s") != 0)
		return -1;
	*per_s = v;
	return 0;
}

int
nudge_is_name(const char *s)
{
	size_t i;

	if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
		if (i >= 64)
			return 0;
	}
	return 1;
}

int
nudge_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int64_t
nudge_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
nudge_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
nudge_parse_share(const char *s, double *out)
{
	char *end;
	double v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtod(s, &end);
	if (end == s || strcmp(end, "%") != 0 || !(v > 0) || !(v < 100))
		return -1;
	*out = v / 100;
	return 0;
}

int
nudge_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long
nudge_hex4(const char *s, const char *e)
{
	long u = 0;
	int i, d;

	if (e - s < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((d = nudge_hexval(s[i])) < 0)
			return -1;
		u = u << 4 | d;
	}
	return u;
}

uint64_t
nudge_fnv64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3u;
	return h;
}
