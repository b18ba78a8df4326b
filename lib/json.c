/* json: reading one value out of a JSON text by a dotted path, without a
 * parser library: what provider answers and event props need (an id, an
 * error message, an SMS's text).  Shared by provider.c and event.c. */
#include "json.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *skip_value(const char *p, const char *e, int depth);

/* Skips a JSON string at p (at its opening quote). */
static const char *
skip_string(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '\\') {
			if (++p == e)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		} else if ((unsigned char)*p < 0x20) {
			return NULL;
		}
	}
	return NULL;
}

/* Skips one JSON value (after blanks); NULL when it is not JSON. */
static const char *
skip_value(const char *p, const char *e, int depth)
{
	char close;

	p = nudge_json_skip_ws(p, e);
	if (p == e || depth > 64)
		return NULL;
	if (*p == '"')
		return skip_string(p, e);
	if (*p == '{' || *p == '[') {
		close = *p == '{' ? '}' : ']';
		p = nudge_json_skip_ws(p + 1, e);
		if (p < e && *p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				if (p == e || *p != '"' ||
				    (p = skip_string(p, e)) == NULL)
					return NULL;
				p = nudge_json_skip_ws(p, e);
				if (p == e || *p++ != ':')
					return NULL;
			}
			if ((p = skip_value(p, e, depth + 1)) == NULL)
				return NULL;
			p = nudge_json_skip_ws(p, e);
			if (p == e)
				return NULL;
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
			p = nudge_json_skip_ws(p, e);
		}
	}
	if (strchr("-0123456789", *p) != NULL) {
		while (p < e && strchr("+-0123456789.eE", *p) != NULL)
			p++;
		return p;
	}
	if (e - p >= 4 && (memcmp(p, "true", 4) == 0 ||
	    memcmp(p, "null", 4) == 0))
		return p + 4;
	if (e - p >= 5 && memcmp(p, "false", 5) == 0)
		return p + 5;
	return NULL;
}

/* Copies the JSON string at p (its opening quote) unescaped. */
static void
copy_string(const char *p, const char *e, char *out, size_t outlen)
{
	size_t o = 0;
	long u;

	for (p++; p < e && *p != '"' && o + 4 < outlen; p++) {
		if (*p != '\\') {
			out[o++] = *p;
			continue;
		}
		if (++p == e)
			break;
		switch (*p) {
		case 'n': out[o++] = '\n'; break;
		case 't': out[o++] = '\t'; break;
		case 'r': out[o++] = '\r'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'u':
			if ((u = nudge_hex4(p + 1, e)) == -1) {
				out[o++] = '?';
				break;
			}
			p += 4;
			if (u >= 0xd800 && u <= 0xdbff && e - p > 6 &&
			    p[1] == '\\' && p[2] == 'u') {
				/* a pair: one character past U+FFFF */
				long lo = nudge_hex4(p + 3, e);

				if (lo >= 0xdc00 && lo <= 0xdfff) {
					u = 0x10000 + ((u - 0xd800) << 10) +
					    (lo - 0xdc00);
					p += 6;
					out[o++] = (char)(0xf0 | u >> 18);
					out[o++] = (char)(0x80 | (u >> 12 & 63));
					out[o++] = (char)(0x80 | (u >> 6 & 63));
					out[o++] = (char)(0x80 | (u & 63));
					break;
				}
			}
			if (u < 0x80) {
				out[o++] = (char)u;
			} else if (u < 0x800) {
				out[o++] = (char)(0xc0 | u >> 6);
				out[o++] = (char)(0x80 | (u & 63));
			} else if (u < 0xd800 || u > 0xdfff) {
				out[o++] = (char)(0xe0 | u >> 12);
				out[o++] = (char)(0x80 | (u >> 6 & 63));
				out[o++] = (char)(0x80 | (u & 63));
			} else {
				out[o++] = '?';
			}
			break;
		default: out[o++] = *p;
		}
	}
	out[o] = '\0';
}

int
nudge_json_find(const char *text, size_t len, const char *path,
    const char **v, size_t *vn)
{
	const char *p = text, *e = text + len, *c = path, *end, *q;
	size_t clen, klen;
	long idx;

	for (;;) {
		p = nudge_json_skip_ws(p, e);
		if (p == e)
			return -1;
		if (*c == '\0')
			break;
		clen = strcspn(c, ".");
		if (*p == '{') {
			p = nudge_json_skip_ws(p + 1, e);
			for (;;) {
				if (p == e || *p != '"' ||
				    (end = skip_string(p, e)) == NULL)
					return -1;
				klen = (size_t)(end - p - 2);
				q = nudge_json_skip_ws(end, e);
				if (q == e || *q != ':')
					return -1;
				q++;
				if (klen == clen && memcmp(p + 1, c, clen) == 0) {
					p = q;
					break;
				}
				if ((p = skip_value(q, e, 0)) == NULL)
					return -1;
				p = nudge_json_skip_ws(p, e);
				if (p == e || *p != ',')
					return -1;
				p = nudge_json_skip_ws(p + 1, e);
			}
		} else if (*p == '[' && isdigit((unsigned char)*c)) {
			idx = strtol(c, NULL, 10);
			p = nudge_json_skip_ws(p + 1, e);
			for (; idx > 0; idx--) {
				if ((p = skip_value(p, e, 0)) == NULL)
					return -1;
				p = nudge_json_skip_ws(p, e);
				if (p == e || *p != ',')
					return -1;
				p++;
			}
			p = nudge_json_skip_ws(p, e);
			if (p < e && *p == ']')
				return -1;
		} else {
			return -1;
		}
		c += clen;
		if (*c == '.')
			c++;
	}
	if ((end = skip_value(p, e, 0)) == NULL)
		return -1;
	*v = p;
	*vn = (size_t)(end - p);
	return 0;
}

size_t
nudge_json_unquote(const char *s, size_t n, char *out)
{
	copy_string(s, s + n, out, n + 6);
	return strlen(out);
}

int
nudge_json_path(const char *text, size_t len, const char *path, char *out,
    size_t outlen)
{
	const char *v;
	size_t n;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (nudge_json_find(text, len, path, &v, &n) != 0 ||
	    (n == 4 && memcmp(v, "null", 4) == 0))
		return -1;
	if (*v == '"') {
		copy_string(v, v + n, out, outlen);
		return 0;
	}
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

const char *
nudge_json_skip_value(const char *p, const char *e)
{
	return skip_value(p, e, 0);
}
