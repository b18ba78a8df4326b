/* mime: RFC 5322 + MIME message building: encoded words, folding,
 * quoted-printable and base64 bodies, multipart/alternative,
 * List-Unsubscribe (RFC 2045-2047, 5322, 2369, 8058). */
#include "mime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "sha.h"

#define FOLD 78 /* the preferred line length; 998 is the hard limit */

/* splitmix64: fast, and good enough for boundaries and Message-IDs,
 * which need to be unique, not secret.  One state per thread, seeded from
 * getrandom(2); a message with a seed gets its own state. */
static _Thread_local uint64_t rng_state;
static _Thread_local int rng_seeded;

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t *
rng_for(const nudge_mime_msg *m, uint64_t *local)
{
	if (m->seed != 0) {
		*local = m->seed;
		return local;
	}
	if (!rng_seeded) {
		if (getrandom(&rng_state, sizeof rng_state, 0) !=
		    (ssize_t)sizeof rng_state)
			rng_state = (uint64_t)time(NULL) ^
			    (uint64_t)(uintptr_t)&rng_state;
		rng_seeded = 1;
	}
	return &rng_state;
}

static int
put_hex64(nudge_buf *b, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char s[16];
	int i;

	for (i = 15; i >= 0; i--, v >>= 4)
		s[i] = hex[v & 15];
	return nudge_buf_add(b, s, 16);
}

/* Addresses: checked, never repaired. */
static int
check_addr(const char *a, const char *what, nudge_err *err)
{
	const char *at = NULL, *s;
	char q[128];

	if (a == NULL || *a == '\0')
		return nudge_errf(err, EX_DATAERR, "%s: no address", what);
	for (s = a; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || strchr("<>,;\"()[]\\", c))
			return nudge_errf(err, EX_DATAERR, "%s: not an "
			    "address: \"%s\"", what, nudge_quote(q, sizeof q, a,
			    strlen(a)));
		if (c == '@') {
			if (at != NULL)
				at = a;
			else
				at = s;
		}
	}
	if (at == NULL || at == a || at[1] == '\0' || s - a > 254)
		return nudge_errf(err, EX_DATAERR, "%s: not an address: \"%s\"",
		    what, nudge_quote(q, sizeof q, a, strlen(a)));
	return 0;
}

static int
check_domain(const char *d, nudge_err *err)
{
	const char *s;
	char q[128];

	for (s = d; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
			break;
	if (*s != '\0' || s == d || s - d > 253)
		return nudge_errf(err, EX_DATAERR, "Message-ID domain: not a "
		    "domain: \"%s\"", nudge_quote(q, sizeof q, d, strlen(d)));
	return 0;
}

/* Copies s into b with every run of control characters (CR, LF, NUL, tab
 * and the rest) made one space, and spaces trimmed at both ends: nothing
 * in a header value can end the line it is on. */
static int
clean(nudge_buf *b, const char *s)
{
	nudge_buf_reset(b);
	if (s == NULL)
		return nudge_buf_add(b, "", 0);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f) {
			while ((unsigned char)s[1] < 0x20 && s[1] != '\0')
				s++;
			c = ' ';
		}
		if (c == ' ' && (b->len == 0 || b->s[b->len - 1] == ' '))
			continue;
		if (nudge_buf_putc(b, (char)c) == -1)
			return -1;
	}
	while (b->len > 0 && b->s[b->len - 1] == ' ')
		b->len--;
	return nudge_buf_add(b, "", 0);
}

/* A header being written: col is the length of its current line. */
struct hdr {
	nudge_buf *b;
	size_t col;
};

static int
h_start(struct hdr *h, nudge_buf *b, const char *name)
{
	h->b = b;
	h->col = strlen(name) + 1;
	if (nudge_buf_puts(b, name) == -1 || nudge_buf_putc(b, ':') == -1)
		return -1;
	return 0;
}

/* Appends a word after a space, folding before it (CRLF + the space)
 * when the line would pass FOLD. */
static int
h_word(struct hdr *h, const char *s, size_t n)
{
	if (h->col + 1 + n > FOLD && h->col > 12) {
		if (nudge_buf_add(h->b, "\r\n", 2) == -1)
			return -1;
		h->col = 0;
	}
	if (nudge_buf_putc(h->b, ' ') == -1 || nudge_buf_add(h->b, s, n) == -1)
		return -1;
	h->col += 1 + n;
	return 0;
}

static int
h_end(struct hdr *h)
{
	return nudge_buf_add(h->b, "\r\n", 2);
}

static size_t
u8len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static int
q_safe(unsigned char c)
{
	/* RFC 2047 5(3): what a Q word may hold as itself in a phrase. */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	    c == '-' || c == '/';
}

/*
 * Writes s[0..n) as RFC 2047 encoded words, each at most 68 characters (so
 * that "Subject: " and one word fit in 78; 75 is the limit), never
 * splitting a UTF-8 character: B when most bytes would need escaping
 * (Hebrew), else Q.  Whitespace between encoded words is not content, so
 * the folding between them changes nothing.
 */
static int
h_encoded(struct hdr *h, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, esc = 0;
	int useb;

	for (i = 0; i < n; i++)
		if (!q_safe((unsigned char)s[i]) && s[i] != ' ')
			esc++;
	useb = esc * 3 > n;
	i = 0;
	while (i < n) {
		char w[80];
		size_t wl = 10, start = i;

		memcpy(w, useb ? "=?UTF-8?B?" : "=?UTF-8?Q?", 10);
		if (useb) {
			size_t j, k;

			while (i < n) {
				size_t cl = u8len((unsigned char)s[i]);

				if (i + cl > n)
					cl = n - i;
				if (i + cl - start > 42)
					break;
				i += cl;
			}
			for (j = start; j < i; j += 3) {
				unsigned char in[3] = {0, 0, 0};
				size_t got = i - j < 3 ? i - j : 3;

				for (k = 0; k < got; k++)
					in[k] = (unsigned char)s[j + k];
				w[wl++] = b64[in[0] >> 2];
				w[wl++] = b64[((in[0] & 3) << 4) | (in[1] >> 4)];
				w[wl++] = got > 1 ?
				    b64[((in[1] & 15) << 2) | (in[2] >> 6)] : '=';
				w[wl++] = got > 2 ? b64[in[2] & 63] : '=';
			}
		} else {
			while (i < n) {
				size_t cl = u8len((unsigned char)s[i]), k, cost;

				if (i + cl > n)
					cl = n - i;
				for (k = cost = 0; k < cl; k++) {
					unsigned char c = (unsigned char)s[i + k];

					cost += q_safe(c) || c == ' ' ? 1 : 3;
				}
				if (wl + cost > 66)
					break;
				for (k = 0; k < cl; k++) {
					unsigned char c = (unsigned char)s[i + k];

					if (c == ' ')
						w[wl++] = '_';
					else if (q_safe(c))
						w[wl++] = (char)c;
					else {
						w[wl++] = '=';
						w[wl++] = hex[c >> 4];
						w[wl++] = hex[c & 15];
					}
				}
				i += cl;
			}
		}
		w[wl++] = '?';
		w[wl++] = '=';
		if (h_word(h, w, wl) == -1)
			return -1;
	}
	return 0;
}

/* Writes an unstructured value (Subject, extra headers), cleaned: as is,
 * folded at its spaces, when it is short-worded printable ASCII with no
 * "=?" a reader would decode; else as encoded words. */
static int
h_unstructured(struct hdr *h, const char *s, size_t n)
{
	size_t i, w = 0;
	int plain = strstr(s, "=?") == NULL;

	for (i = 0; i < n && plain; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			plain = 0;
		w = c == ' ' ? 0 : w + 1;
		if (w > 70)
			plain = 0;
	}
	if (!plain)
		return h_encoded(h, s, n);
	for (i = 0; i < n;) {
		size_t e = i;

		while (e < n && s[e] != ' ')
			e++;
		if (h_word(h, s + i, e - i) == -1)
			return -1;
		i = e + 1;
	}
	return 0;
}

/* Writes a display name as atoms, one quoted string, or encoded words. */
static int
h_phrase(struct hdr *h, const char *s, size_t n)
{
	size_t i;
	int atoms = strstr(s, "=?") == NULL, quoted = n <= 60;
	nudge_buf *b = h->b;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			atoms = quoted = 0;
		else if (c != ' ' && !(c >= 'a' && c <= 'z') &&
		    !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    !strchr("!#$%&'*+-/=?^_`{|}~", c))
			atoms = 0;
	}
	if (atoms && n <= 70)
		return h_unstructured(h, s, n);
	if (!quoted)
		return h_encoded(h, s, n);
	if (h->col + n + 3 > FOLD && h->col > 12) {
		if (nudge_buf_add(b, "\r\n", 2) == -1)
			return -1;
		h->col = 0;
	}
	if (nudge_buf_add(b, " \"", 2) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if ((s[i] == '"' || s[i] == '\\') &&
		    nudge_buf_putc(b, '\\') == -1)
			return -1;
		else if (nudge_buf_putc(b, s[i]) == -1)
			return -1;
	h->col += n + 3;
	return nudge_buf_putc(b, '"');
}

static int
h_mailbox(nudge_buf *b, const char *hname, nudge_buf *tmp, const char *name,
    const char *addr)
{
	struct hdr h;
	nudge_buf ab = {0};
	int rc;

	if (h_start(&h, b, hname) == -1 || clean(tmp, name) == -1)
		return -1;
	if (tmp->len > 0 && h_phrase(&h, tmp->s, tmp->len) == -1)
		return -1;
	if (nudge_buf_putc(&ab, '<') == -1 || nudge_buf_puts(&ab, addr) == -1 ||
	    nudge_buf_putc(&ab, '>') == -1) {
		nudge_buf_free(&ab);
		return -1;
	}
	if (tmp->len == 0) {
		/* "To: <a@b>" reads oddly: a bare address. */
		rc = h_word(&h, ab.s + 1, ab.len - 2);
	} else
		rc = h_word(&h, ab.s, ab.len);
	nudge_buf_free(&ab);
	return rc == -1 ? -1 : h_end(&h);
}

static int
check_url(const char *u, const char *scheme, const char *what,
    nudge_err *err)
{
	const char *s;
	char q[128];

	for (s = u; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == '<' || *s == '>' || *s == '"')
			break;
	if (*s != '\0' || strncasecmp(u, scheme, strlen(scheme)) != 0 ||
	    strlen(u) <= strlen(scheme) || s - u > 900)
		return nudge_errf(err, EX_DATAERR, "%s: not a %s URL: \"%s\"", what,
		    scheme, nudge_quote(q, sizeof q, u, strlen(u)));
	return 0;
}

static int
check_hname(const char *n, nudge_err *err)
{
	static const char *const own[] = {
		"Date", "From", "To", "Reply-To", "Subject", "Message-ID",
		"MIME-Version", "List-Unsubscribe", "List-Unsubscribe-Post",
		"Cc", "Bcc", "Sender", "Return-Path",
	};
	const char *s;
	size_t i;
	char q[128];

	for (s = n; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == ':')
			break;
	if (*s != '\0' || s == n || s - n > 76)
		return nudge_errf(err, EX_DATAERR, "not a header name: \"%s\"",
		    nudge_quote(q, sizeof q, n, strlen(n)));
	for (i = 0; i < sizeof own / sizeof own[0]; i++)
		if (strcasecmp(n, own[i]) == 0)
			break;
	if (i < sizeof own / sizeof own[0] || strncasecmp(n, "Content-", 8) == 0)
		return nudge_errf(err, EX_DATAERR, "header \"%s\" is nudge's own",
		    nudge_quote(q, sizeof q, n, strlen(n)));
	return 0;
}

/* Bodies. */

/* The bytes quoted-printable writes as themselves (and \n, a line
 * break): a table, as the test runs for every byte of every body. */
static const unsigned char qp_plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Whether base64 is shorter than quoted-printable for s[0..n). */
static int
want_base64(const char *s, size_t n)
{
	size_t i, esc = 0;

	for (i = 0; i < n; i++)
		esc += !qp_plain[(unsigned char)s[i]];
	return n + 2 * esc > n / 3 * 4 + 4;
}

/* Makes room for need more bytes in b, growing it as nudge_buf_add does,
 * so that the encoders below write through a pointer: a call per byte
 * cost more than the encoding itself. */
static char *
room(nudge_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 64;
	char *s;

	if (b->s != NULL && b->len + need + 1 <= b->cap)
		return b->s + b->len;
	while (cap < b->len + need + 1) {
		if (cap > SIZE_MAX / 2)
			return NULL;
		cap *= 2;
	}
	if ((s = realloc(b->s, cap)) == NULL)
		return NULL;
	b->s = s;
	b->cap = cap;
	return s + b->len;
}

/*
 * Quoted-printable (RFC 2045 6.7): lines of at most 76 characters, a
 * line break of the input (LF or CRLF) a CRLF, a lone CR, '=' and every
 * byte outside printable ASCII escaped, a space or tab before a line end
 * escaped, and a line's first '.' or "From ".  No "=XX" is split by a
 * soft break.
 */
static int
put_qp(nudge_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, col = 0;
	char *o, *o0;


	/* Worst case: every byte 3 characters, a soft break each 25. */
	if (n > SIZE_MAX / 4 || (o = o0 = room(b, n * 3 + n / 8 + 8)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* Fast path: a run of bytes written as themselves that fits
		 * on the line, copied at once (most of a text body).  Not at
		 * a line's start ('.', "From "), and without a space or tab
		 * just before a line end, which the slow path escapes. */
		if (col > 0 && c != '\n' && qp_plain[c]) {
			size_t j = i, lim = i + (75 - col);

			if (lim > n)
				lim = n;
			while (j < lim && s[j] != '\n' &&
			    qp_plain[(unsigned char)s[j]])
				j++;
			if ((j == n || s[j] == '\n' || s[j] == '\r') &&
			    (s[j - 1] == ' ' || s[j - 1] == '\t'))
				j--;
			if (j > i) {
				memcpy(o, s + i, j - i);
				o += j - i;
				col += j - i;
				i = j - 1;
				continue;
			}
		}
		if (c == '\n' || (c == '\r' && i + 1 < n && s[i + 1] == '\n')) {
			if (c == '\r')
				i++;
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
			continue;
		}
		/* A '.' or "From " opening a line is escaped too: some
		 * transports and mailboxes would change the line. */
		if (!qp_plain[c] || (col == 0 && (c == '.' ||
		    (c == 'F' && n - i >= 5 && memcmp(s + i, "From ", 5) ==
		    0))) ||
		    ((c == ' ' || c == '\t') && (i + 1 == n ||
		    s[i + 1] == '\n' || s[i + 1] == '\r'))) {
			if (col + 3 > 75) {
				memcpy(o, "=\r\n", 3);
				o += 3;
				col = 0;
			}
			*o++ = '=';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
			col += 3;
		} else {
			if (col + 1 > 75) {
				memcpy(o, "=\r\n", 3);
				o += 3;
				col = 0;
			}
			*o++ = (char)c;
			col++;
		}
	}
	b->len += (size_t)(o - o0);
	b->s[b->len] = '\0';
	return 0;
}

/* Base64 of the text s[0..n) in canonical form (LF -> CRLF), 76
 * characters a line: 57 canonical bytes are gathered, then encoded. */
static int
put_b64(nudge_buf *b, const char *s, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char in[60];
	size_t i = 0, got, k;
	int first = 1, pend_lf = 0;
	char *o, *o0;

	/* Worst case: all LF (2n bytes), 4/3, a CRLF each 76. */
	if (n > SIZE_MAX / 4 || (o = o0 = room(b, n * 3 + 8)) == NULL)
		return -1;
	while (i < n || pend_lf) {
		for (got = 0; got < 57 && (i < n || pend_lf);) {
			unsigned char c;

			if (pend_lf) {
				in[got++] = '\n';
				pend_lf = 0;
				continue;
			}
			c = (unsigned char)s[i++];
			if (c == '\n' && (i < 2 || s[i - 2] != '\r')) {
				c = '\r';
				pend_lf = 1;
			}
			in[got++] = c;
		}
		if (!first) {
			*o++ = '\r';
			*o++ = '\n';
		}
		first = 0;
		for (k = 0; k + 3 <= got; k += 3, o += 4) {
			o[0] = b64[in[k] >> 2];
			o[1] = b64[((in[k] & 3) << 4) | (in[k + 1] >> 4)];
			o[2] = b64[((in[k + 1] & 15) << 2) | (in[k + 2] >> 6)];
			o[3] = b64[in[k + 2] & 63];
		}
		if (k < got) {
			in[got] = in[got + 1] = 0;
			o[0] = b64[in[k] >> 2];
			o[1] = b64[((in[k] & 3) << 4) | (in[k + 1] >> 4)];
			o[2] = got - k > 1 ?
			    b64[((in[k + 1] & 15) << 2) | (in[k + 2] >> 6)] : '=';
			o[3] = '=';
			o += 4;
		}
	}
	b->len += (size_t)(o - o0);
	b->s[b->len] = '\0';
	return 0;
}

static int
put_part(nudge_buf *b, const char *type, const char *s, size_t n)
{
	int b64 = want_base64(s, n);

	if (nudge_buf_puts(b, "Content-Type: ") == -1 ||
	    nudge_buf_puts(b, type) == -1 ||
	    nudge_buf_puts(b, b64 ? "; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n" :
	    "; charset=utf-8\r\nContent-Transfer-Encoding: "
	    "quoted-printable\r\n\r\n") == -1)
		return -1;
	return b64 ? put_b64(b, s, n) : put_qp(b, s, n);
}

/* The HTML with the preheader as hidden text just inside <body>, or at the
 * top when there is no <body>. */
static int
with_preheader(nudge_buf *tmp, const char *html, size_t n, const char *pre)
{
	size_t at = 0, i;

	for (i = 0; i + 5 <= n; i++)
		if (html[i] == '<' && strncasecmp(html + i, "<body", 5) == 0) {
			const char *gt = memchr(html + i, '>', n - i);

			if (gt != NULL)
				at = (size_t)(gt - html) + 1;
			break;
		}
	nudge_buf_reset(tmp);
	if (nudge_buf_add(tmp, html, at) == -1 ||
	    nudge_buf_puts(tmp, "\n<div style=\"display:none;max-height:0;"
	    "overflow:hidden;mso-hide:all;font-size:1px;line-height:1px;"
	    "opacity:0\">") == -1)
		return -1;
	for (; *pre; pre++) {
		unsigned char c = (unsigned char)*pre;
		const char *rep = NULL;

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default:
			if (c < 0x20 || c == 0x7f)
				rep = " ";
		}
		if (rep ? nudge_buf_puts(tmp, rep) : nudge_buf_putc(tmp, *pre))
			return -1;
	}
	if (nudge_buf_puts(tmp, "</div>\n") == -1 ||
	    nudge_buf_add(tmp, html + at, n - at) == -1)
		return -1;
	return 0;
}

static const char *const wday[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char *const mon[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static int
build(const nudge_mime_msg *m, nudge_buf *b, nudge_buf *tmp, nudge_err *err)
{
	uint64_t local, *rng = rng_for(m, &local);
	const char *dom;
	struct hdr h;
	struct tm tm;
	time_t t = (time_t)m->date;
	char bound[40];
	size_t i;
	int rc;

	if ((rc = check_addr(m->from_addr, "From", err)) != 0 ||
	    (rc = check_addr(m->to_addr, "To", err)) != 0 ||
	    (m->reply_to != NULL &&
	    (rc = check_addr(m->reply_to, "Reply-To", err)) != 0) ||
	    (m->unsub_mailto != NULL && (rc = check_url(m->unsub_mailto,
	    "mailto:", "List-Unsubscribe", err)) != 0) ||
	    (m->unsub_https != NULL && (rc = check_url(m->unsub_https,
	    "https://", "List-Unsubscribe", err)) != 0))
		return rc;
	for (i = 0; i < m->nextra; i++)
		if ((rc = check_hname(m->extra[i].name, err)) != 0)
			return rc;
	dom = m->msgid_domain ? m->msgid_domain :
	    strrchr(m->from_addr, '@') + 1;
	if ((rc = check_domain(dom, err)) != 0)
		return rc;
	if (m->text == NULL && m->html == NULL)
		return nudge_errf(err, EX_DATAERR, "a message needs a text or "
		    "an HTML body");

	if (gmtime_r(&t, &tm) == NULL)
		return nudge_errf(err, EX_DATAERR, "date out of range");
	if (nudge_buf_printf(b, "Date: %s, %d %s %d %02d:%02d:%02d +0000\r\n",
	    wday[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec) == -1 ||
	    h_mailbox(b, "From", tmp, m->from_name, m->from_addr) == -1 ||
	    h_mailbox(b, "To", tmp, m->to_name, m->to_addr) == -1 ||
	    (m->reply_to != NULL &&
	    nudge_buf_printf(b, "Reply-To: %s\r\n", m->reply_to) == -1))
		goto oom;
	if (clean(tmp, m->subject) == -1 || h_start(&h, b, "Subject") == -1 ||
	    (tmp->len > 0 && h_unstructured(&h, tmp->s, tmp->len) == -1) ||
	    h_end(&h) == -1)
		goto oom;
	if (nudge_buf_puts(b, "Message-ID: <") == -1)
		goto oom;
	if (m->msgid_key != NULL) {
		unsigned char md[NUDGE_SHA256_LEN];
		uint64_t a = 0, c = 0;

		nudge_sha256(m->msgid_key, strlen(m->msgid_key), md);
		for (i = 0; i < 8; i++) {
			a = a << 8 | md[i];
			c = c << 8 | md[8 + i];
		}
		if (put_hex64(b, a) == -1 || put_hex64(b, c) == -1 ||
		    nudge_buf_puts(b, ".nudge") == -1)
			goto oom;
	} else if (put_hex64(b, splitmix(rng)) == -1 ||
	    put_hex64(b, splitmix(rng)) == -1)
		goto oom;
	if (nudge_buf_printf(b, "@%s>\r\nMIME-Version: 1.0\r\n", dom) == -1)
		goto oom;
	if (m->unsub_mailto != NULL || m->unsub_https != NULL) {
		if (h_start(&h, b, "List-Unsubscribe") == -1)
			goto oom;
		nudge_buf_reset(tmp);
		if (m->unsub_mailto != NULL &&
		    (nudge_buf_printf(tmp, "<%s>%s", m->unsub_mailto,
		    m->unsub_https ? "," : "") == -1 ||
		    h_word(&h, tmp->s, tmp->len) == -1))
			goto oom;
		nudge_buf_reset(tmp);
		if (m->unsub_https != NULL &&
		    (nudge_buf_printf(tmp, "<%s>", m->unsub_https) == -1 ||
		    h_word(&h, tmp->s, tmp->len) == -1))
			goto oom;
		if (h_end(&h) == -1)
			goto oom;
		/* RFC 8058: one-click needs an HTTPS URI to POST to. */
		if (m->unsub_https != NULL && nudge_buf_puts(b,
		    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") ==
		    -1)
			goto oom;
	}
	for (i = 0; i < m->nextra; i++)
		if (clean(tmp, m->extra[i].value) == -1 ||
		    h_start(&h, b, m->extra[i].name) == -1 ||
		    (tmp->len > 0 && h_unstructured(&h, tmp->s, tmp->len) ==
		    -1) || h_end(&h) == -1)
			goto oom;

	if (m->html == NULL || m->text == NULL) {
		const char *s = m->text ? m->text : m->html;
		size_t n = m->text ? m->text_len : m->html_len;

		if (m->text == NULL && m->preheader != NULL) {
			if (with_preheader(tmp, s, n, m->preheader) == -1)
				goto oom;
			s = tmp->s;
			n = tmp->len;
		}
		if (put_part(b, m->text ? "text/plain" : "text/html", s, n) ==
		    -1 || nudge_buf_add(b, "\r\n", 2) == -1)
			goto oom;
		return 0;
	}
	/* "=_" cannot occur in quoted-printable or base64 text, so the
	 * boundary cannot occur in the parts whatever they hold. */
	memcpy(bound, "=_nudge_", 8);
	snprintf(bound + 8, sizeof bound - 8, "%016llx%08llx",
	    (unsigned long long)splitmix(rng),
	    (unsigned long long)(splitmix(rng) >> 32));
	if (nudge_buf_printf(b, "Content-Type: multipart/alternative;\r\n"
	    " boundary=\"%s\"\r\n\r\n--%s\r\n", bound, bound) == -1 ||
	    put_part(b, "text/plain", m->text, m->text_len) == -1 ||
	    nudge_buf_printf(b, "\r\n--%s\r\n", bound) == -1)
		goto oom;
	if (m->preheader != NULL) {
		if (with_preheader(tmp, m->html, m->html_len, m->preheader) ==
		    -1 || put_part(b, "text/html", tmp->s, tmp->len) == -1)
			goto oom;
	} else if (put_part(b, "text/html", m->html, m->html_len) == -1)
		goto oom;
	if (nudge_buf_printf(b, "\r\n--%s--\r\n", bound) == -1)
		goto oom;
	return 0;
oom:
	return nudge_errf(err, EX_OSERR, "%s", strerror(ENOMEM));
}

int
nudge_mime_build(const nudge_mime_msg *m, nudge_buf *out, nudge_err *err)
{
	nudge_buf tmp = {0};
	size_t len0 = out->len;
	int rc;

	rc = build(m, out, &tmp, err);
	nudge_buf_free(&tmp);
	if (rc != 0) {
		out->len = len0;
		if (out->s != NULL)
			out->s[len0] = '\0';
	}
	return rc;
}

int
nudge_mime_mailbox(const char *s, char *name, size_t namelen, char *addr,
    size_t addrlen, nudge_err *err)
{
	const char *lt = strrchr(s, '<'), *as, *ae, *ns, *ne;
	char q[128];

	if (lt != NULL) {
		as = lt + 1;
		if ((ae = strchr(as, '>')) == NULL ||
		    ae[1 + strspn(ae + 1, " \t")] != '\0')
			return nudge_errf(err, EX_DATAERR, "not a mailbox: \"%s\"",
			    nudge_quote(q, sizeof q, s, strlen(s)));
		ns = s;
		ne = lt;
	} else {
		as = s;
		ae = s + strlen(s);
		ns = ne = s;
	}
	while (ns < ne && (*ns == ' ' || *ns == '\t'))
		ns++;
	while (ne > ns && (ne[-1] == ' ' || ne[-1] == '\t'))
		ne--;
	if (ne - ns >= 2 && *ns == '"' && ne[-1] == '"') {
		ns++;
		ne--;
	}
	while (as < ae && *as == ' ')
		as++;
	while (ae > as && ae[-1] == ' ')
		ae--;
	if ((size_t)(ne - ns) >= namelen || (size_t)(ae - as) >= addrlen)
		return nudge_errf(err, EX_DATAERR, "mailbox too long: \"%s\"",
		    nudge_quote(q, sizeof q, s, strlen(s)));
	memcpy(name, ns, (size_t)(ne - ns));
	name[ne - ns] = '\0';
	memcpy(addr, as, (size_t)(ae - as));
	addr[ae - as] = '\0';
	return check_addr(addr, "address", err);
}
