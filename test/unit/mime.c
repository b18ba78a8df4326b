/* Unit tests for lib/mime: exact output of a fixed message, and every other
 * message parsed back (headers unfolded, encoded words, parts, QP and
 * base64 decoded) to compare with what went in. */
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "tap.h"
#include "template.h"

/* A parsed message: unfolded header lines and the body. */
struct parsed {
	char *hdr[64];
	size_t nhdr;
	const char *body;
	size_t maxline, maxhline;
	char *copy;
};

static void
parse_msg(const char *msg, struct parsed *p)
{
	char *s, *end, *line;
	const char *q;
	size_t len = 0;

	memset(p, 0, sizeof *p);
	for (q = msg; *q; q++) {
		if (*q == '\n') {
			if (len > p->maxline)
				p->maxline = len;
			len = 0;
		} else if (*q != '\r')
			len++;
	}
	p->copy = strdup(msg);
	end = strstr(p->copy, "\r\n\r\n");
	if (end == NULL)
		return;
	p->body = msg + (end - p->copy) + 4;
	end[2] = '\0';
	for (s = line = p->copy; *s; s++) {
		size_t l;

		if (s[0] != '\r' || s[1] != '\n')
			continue;
		l = (size_t)(s - line) - (line == p->copy ? 0 : 0);
		if (s[2] == ' ' || s[2] == '\t') {
			/* Unfold: drop the CRLF, keep the space. */
			memmove(s, s + 2, strlen(s + 2) + 1);
			continue;
		}
		*s = '\0';
		(void)l;
		if (p->nhdr < 64)
			p->hdr[p->nhdr++] = line;
		line = s + 2;
		s++;
	}
	/* Header line lengths, before unfolding. */
	len = 0;
	for (q = msg; q < p->body; q++)
		if (*q == '\n') {
			if (len > p->maxhline)
				p->maxhline = len;
			len = 0;
		} else if (*q != '\r')
			len++;
}

static const char *
hget(const struct parsed *p, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < p->nhdr; i++)
		if (strncasecmp(p->hdr[i], name, n) == 0 && p->hdr[i][n] == ':')
			return p->hdr[i] + n + 2;
	return NULL;
}

static int
b64val(int c)
{
	const char *t =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(t, c) : NULL;

	return p ? (int)(p - t) : -1;
}

static void
unb64(nudge_buf *o, const char *s, size_t n)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int v = b64val(s[i]);

		if (v < 0)
			continue;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			nudge_buf_putc(o, (char)((acc >> bits) & 0xff));
		}
	}
}

static int
hexv(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ?
	    c - 'A' + 10 : -1;
}

static void
unqp(nudge_buf *o, const char *s, size_t n, int q_word)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 < n + 1 && s[i + 1] == '\r' &&
		    s[i + 2] == '\n') {
			i += 2;
		} else if (s[i] == '=' && i + 2 < n) {
			nudge_buf_putc(o, (char)(hexv(s[i + 1]) * 16 +
			    hexv(s[i + 2])));
			i += 2;
		} else if (q_word && s[i] == '_')
			nudge_buf_putc(o, ' ');
		else
			nudge_buf_putc(o, s[i]);
	}
}

/* Decodes RFC 2047 words in an unfolded value; whitespace between two
 * encoded words is dropped.  Sets *maxw to the longest encoded word. */
static char *
decode_words(const char *v, size_t *maxw)
{
	nudge_buf o = {0}, ws = {0};
	int last_ew = 0;

	*maxw = 0;
	while (*v) {
		const char *e;

		if (*v == ' ') {
			nudge_buf_putc(&ws, ' ');
			v++;
			continue;
		}
		if (strncmp(v, "=?UTF-8?", 8) == 0 &&
		    (e = strstr(v + 10, "?=")) != NULL) {
			size_t wl = (size_t)(e + 2 - v);

			if (wl > *maxw)
				*maxw = wl;
			if (!last_ew)
				nudge_buf_add(&o, ws.s, ws.len);
			if (v[8] == 'B')
				unb64(&o, v + 10, (size_t)(e - v - 10));
			else
				unqp(&o, v + 10, (size_t)(e - v - 10), 1);
			v = e + 2;
			last_ew = 1;
		} else {
			nudge_buf_add(&o, ws.s, ws.len);
			while (*v && *v != ' ')
				nudge_buf_putc(&o, *v++);
			last_ew = 0;
		}
		nudge_buf_reset(&ws);
	}
	nudge_buf_add(&o, "", 0);
	nudge_buf_free(&ws);
	return o.s;
}

/* Part i (0-based) of a multipart body: decoded content and its
 * Content-Type.  Returns 0 or -1. */
static int
get_part(const struct parsed *p, int idx, nudge_buf *out, char *ctype,
    size_t ctlen)
{
	const char *ct = hget(p, "Content-Type"), *bq, *s, *e, *hend, *cte;
	char delim[128];
	int i;

	if (ct == NULL || (bq = strstr(ct, "boundary=\"")) == NULL)
		return -1;
	snprintf(delim, sizeof delim, "--%.*s", (int)(strchr(bq + 10, '"') -
	    bq - 10), bq + 10);
	s = p->body;
	for (i = 0; i <= idx; i++) {
		if ((s = strstr(s, delim)) == NULL)
			return -1;
		s += strlen(delim) + 2;
	}
	if ((e = strstr(s, delim)) == NULL)
		return -1;
	e -= 2; /* the CRLF before the delimiter is the delimiter's */
	hend = strstr(s, "\r\n\r\n");
	snprintf(ctype, ctlen, "%.*s", (int)(strchr(s, '\r') - s), s);
	cte = strstr(s, "Content-Transfer-Encoding: ");
	if (cte == NULL || cte > hend)
		return -1;
	cte += 27;
	if (strncmp(cte, "base64", 6) == 0)
		unb64(out, hend + 4, (size_t)(e - hend - 4));
	else
		unqp(out, hend + 4, (size_t)(e - hend - 4), 0);
	nudge_buf_add(out, "", 0);
	return 0;
}

/* The decoded body of a single-part message, trailing line breaks
 * dropped.  Returns 0 or -1. */
static int
get_single(const struct parsed *p, nudge_buf *out)
{
	const char *cte = hget(p, "Content-Transfer-Encoding");
	size_t n = strlen(p->body);

	if (cte == NULL)
		return -1;
	if (strncmp(cte, "base64", 6) == 0)
		unb64(out, p->body, n);
	else
		unqp(out, p->body, n, 0);
	while (out->len > 0 && (out->s[out->len - 1] == '\n' ||
	    out->s[out->len - 1] == '\r'))
		out->len--;
	nudge_buf_add(out, "", 0);
	return 0;
}

static char *
crlf(const char *s)
{
	nudge_buf o = {0};

	for (; *s; s++)
		if (*s == '\n')
			nudge_buf_add(&o, "\r\n", 2);
		else
			nudge_buf_putc(&o, *s);
	nudge_buf_add(&o, "", 0);
	return o.s;
}

static nudge_mime_msg
base_msg(void)
{
	nudge_mime_msg m;

	memset(&m, 0, sizeof m);
	m.from_addr = "news@shop.example";
	m.from_name = "Shop";
	m.to_addr = "dana@example.com";
	m.to_name = "Dana Levi";
	m.subject = "Hello";
	m.date = 1793491200 + 37800;
	m.text = "Hi Dana\n";
	m.text_len = strlen(m.text);
	m.seed = 42;
	return m;
}

static void
test_exact(void)
{
	nudge_mime_msg m = base_msg();
	nudge_mime_header x[] = {{"X-Campaign", "nov-promo"}};
	nudge_buf b = {0};
	nudge_err err;

	m.html = "<p>Hi Dana</p>\n";
	m.html_len = strlen(m.html);
	m.reply_to = "help@shop.example";
	m.msgid_key = "nov-promo/1/42";
	m.unsub_mailto = "mailto:unsub@shop.example?subject=u-42";
	m.unsub_https = "https://shop.example/u/42?t=abc";
	m.extra = x;
	m.nextra = 1;
	is_int(nudge_mime_build(&m, &b, &err), 0, "a full message builds");
	is_str(nudge_buf_str(&b),
	    "Date: Sun, 1 Nov 2026 10:30:00 +0000\r\n"
	    "From: Shop <news@shop.example>\r\n"
	    "To: Dana Levi <dana@example.com>\r\n"
	    "Reply-To: help@shop.example\r\n"
	    "Subject: Hello\r\n"
	    "Message-ID: <2641ece23321b8a6900c10c82a88e9bd.nudge@shop.example>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "List-Unsubscribe: <mailto:unsub@shop.example?subject=u-42>,\r\n"
	    " <https://shop.example/u/42?t=abc>\r\n"
	    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
	    "X-Campaign: nov-promo\r\n"
	    "Content-Type: multipart/alternative;\r\n"
	    " boundary=\"=_nudge_28efe333b266f103bdd73226\"\r\n"
	    "\r\n"
	    "--=_nudge_28efe333b266f103bdd73226\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "Hi Dana\r\n"
	    "\r\n"
	    "--=_nudge_28efe333b266f103bdd73226\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "<p>Hi Dana</p>\r\n"
	    "\r\n"
	    "--=_nudge_28efe333b266f103bdd73226--\r\n", "the exact message");
	nudge_buf_free(&b);
}

static void
test_hebrew(void)
{
	nudge_mime_msg m = base_msg();
	const char *subj = "שלום דנה, המבצע הגדול של נובמבר מתחיל היום "
	    "ונמשך שבוע שלם — 30% הנחה על הכול!";
	const char *text = "שלום דנה,\n\nהמבצע מתחיל היום.\nלהתראות\n";
	struct parsed p;
	nudge_buf b = {0}, part = {0};
	nudge_err err;
	char ct[200], *dec, *want;
	size_t maxw;

	m.subject = subj;
	m.from_name = "החנות של דנה";
	m.text = text;
	m.text_len = strlen(text);
	m.html = "<p dir=\"rtl\">שלום דנה</p>\n";
	m.html_len = strlen(m.html);
	is_int(nudge_mime_build(&m, &b, &err), 0, "a Hebrew message builds");
	parse_msg(b.s, &p);
	ok(p.maxhline <= 78, "header lines fold within 78");
	dec = decode_words(hget(&p, "Subject"), &maxw);
	is_str(dec, subj, "the Hebrew subject decodes to the original");
	ok(maxw > 0 && maxw <= 75, "encoded words are at most 75 characters");
	ok(strstr(hget(&p, "Subject"), "=?UTF-8?B?") != NULL,
	    "Hebrew takes B encoding");
	free(dec);
	dec = decode_words(hget(&p, "From"), &maxw);
	is_str(dec, "החנות של דנה <news@shop.example>",
	    "the display name decodes");
	free(dec);
	ok(get_part(&p, 0, &part, ct, sizeof ct) == 0, "text part found");
	is_str(ct, "Content-Type: text/plain; charset=utf-8", "text part type");
	want = crlf(text);
	is_str(part.s, want, "base64 text decodes to the input (CRLF)");
	ok(strstr(b.s, "Content-Transfer-Encoding: base64") != NULL,
	    "mostly Hebrew goes base64");
	free(want);
	nudge_buf_reset(&part);
	ok(get_part(&p, 1, &part, ct, sizeof ct) == 0, "html part found");
	is_str(part.s, "<p dir=\"rtl\">שלום דנה</p>\r\n", "html decodes");
	free(p.copy);
	nudge_buf_free(&part);
	nudge_buf_free(&b);
}

static void
test_long_lines(void)
{
	nudge_mime_msg m = base_msg();
	struct parsed p;
	nudge_buf b = {0}, part = {0};
	nudge_err err;
	char *text = malloc(5001), ct[200], *dec;
	char subj[400];
	size_t i, maxw;

	for (i = 0; i < 5000; i++)
		text[i] = "abcdefgh= .\t"[i % 12];
	text[5000] = '\0';
	for (i = 0; i < sizeof subj - 1; i++)
		subj[i] = (char)('a' + i % 26);
	subj[sizeof subj - 1] = '\0';
	m.text = text;
	m.text_len = 5000;
	m.html = text;
	m.html_len = 5000;
	m.subject = subj;
	m.to_name = subj;
	is_int(nudge_mime_build(&m, &b, &err), 0, "a 5,000-char line builds");
	parse_msg(b.s, &p);
	ok(p.maxline <= 998, "no line over 998 octets");
	ok(p.maxline <= 78, "in fact none over 78");
	ok(get_part(&p, 0, &part, ct, sizeof ct) == 0 &&
	    strcmp(part.s, text) == 0, "quoted-printable decodes to the input");
	dec = decode_words(hget(&p, "Subject"), &maxw);
	is_str(dec, subj, "a 399-char word in a subject survives, encoded");
	free(dec);
	free(p.copy);
	free(text);
	nudge_buf_free(&part);
	nudge_buf_free(&b);
}

static void
test_injection(void)
{
	nudge_mime_msg m = base_msg();
	static const char *const want_names[] = {
		"Date", "From", "To", "Subject", "Message-ID", "MIME-Version",
		"Content-Type", "Content-Transfer-Encoding",
	};
	struct parsed p;
	nudge_buf b = {0};
	nudge_err err;
	char *dec;
	size_t i, maxw;
	int names_ok = 1;

	m.subject = "Hi\r\nBcc: all@example.com\r\n\r\nbody";
	m.to_name = "Eve\nBcc: x@example.com\r";
	m.from_name = "Shop\0\r\nX-Evil: 1";
	is_int(nudge_mime_build(&m, &b, &err), 0, "builds with CR/LF in names");
	parse_msg(b.s, &p);
	is_int(p.nhdr, 8, "exactly eight header fields");
	for (i = 0; i < p.nhdr && i < 8; i++)
		if (strncmp(p.hdr[i], want_names[i], strlen(want_names[i])) ||
		    p.hdr[i][strlen(want_names[i])] != ':')
			names_ok = 0;
	ok(names_ok, "and no Bcc or other injected field");
	dec = decode_words(hget(&p, "Subject"), &maxw);
	is_str(dec, "Hi Bcc: all@example.com body",
	    "CR/LF in the subject became spaces");
	free(dec);
	dec = decode_words(hget(&p, "To"), &maxw);
	is_str(dec, "\"Eve Bcc: x@example.com\" <dana@example.com>",
	    "CR/LF in a display name became a space, the name quoted");
	free(dec);
	is_str(hget(&p, "From"), "Shop <news@shop.example>",
	    "a NUL ends the C string: the rest never arrives");
	free(p.copy);

	m = base_msg();
	nudge_buf_reset(&b);
	m.to_addr = "dana@example.com\r\nBcc: x@example.com";
	is_int(nudge_mime_build(&m, &b, &err), EX_DATAERR,
	    "an address with CR/LF is refused");
	is_str(err.msg, "To: not an address: \"dana@example.com\\r\\nBcc: "
	    "x@example.com\"", "and the error says which");
	is_int(b.len, 0, "nothing is written");
	m.to_addr = "dana @example.com";
	is_int(nudge_mime_build(&m, &b, &err), EX_DATAERR, "space refused");
	m.to_addr = "<dana@example.com>";
	is_int(nudge_mime_build(&m, &b, &err), EX_DATAERR, "<> refused");
	m.to_addr = "a@b.example,c@d.example";
	is_int(nudge_mime_build(&m, &b, &err), EX_DATAERR, "comma refused");
	m.to_addr = "a@b@c";
	is_int(nudge_mime_build(&m, &b, &err), EX_DATAERR, "two @ refused");
	m = base_msg();
	m.reply_to = "x\n@y";
	is_int(nudge_mime_build(&m, &b, &err), EX_DATAERR,
	    "reply-to checked too");
	m = base_msg();
	m.unsub_https = "https://x.example/u\r\nBcc: y";
	is_int(nudge_mime_build(&m, &b, &err), EX_DATAERR,
	    "an unsubscribe URL with CR/LF is refused");
	m = base_msg();
	m.unsub_https = "http://x.example/u";
	is_int(nudge_mime_build(&m, &b, &err), EX_DATAERR,
	    "an http unsubscribe URL is refused (RFC 8058 wants https)");
	m = base_msg();
	{
		nudge_mime_header x[] = {{"Bcc", "x@example.com"}};
		nudge_mime_header y[] = {{"X-A\r\nBcc", "x"}};
		nudge_mime_header z[] = {{"X-Tag", "a\r\nBcc: x@example.com"}};

		m.extra = x;
		m.nextra = 1;
		is_int(nudge_mime_build(&m, &b, &err), EX_DATAERR,
		    "an extra Bcc is refused");
		m.extra = y;
		is_int(nudge_mime_build(&m, &b, &err), EX_DATAERR,
		    "an extra header name with CR/LF is refused");
		m.extra = z;
		nudge_buf_reset(&b);
		is_int(nudge_mime_build(&m, &b, &err), 0, "an extra value");
		ok(strstr(b.s, "X-Tag: a Bcc: x@example.com\r\n") != NULL,
		    "has its CR/LF made a space");
	}
	nudge_buf_free(&b);
}

static void
test_misc(void)
{
	nudge_mime_msg m = base_msg();
	struct parsed p;
	nudge_buf b = {0}, c = {0}, part = {0};
	nudge_err err;
	char name[100], addr[100], ct[200];
	const char *id1, *id2;
	char *idc;

	m.seed = 0;
	nudge_mime_build(&m, &b, &err);
	nudge_mime_build(&m, &c, &err);
	id1 = strstr(b.s, "Message-ID: ");
	id2 = strstr(c.s, "Message-ID: ");
	ok(id1 && id2 && strncmp(id1, id2, 50) != 0,
	    "two random Message-IDs differ");
	nudge_buf_reset(&b);
	nudge_buf_reset(&c);
	m.msgid_key = "a/1/1";
	nudge_mime_build(&m, &b, &err);
	nudge_mime_build(&m, &c, &err);
	id1 = strstr(b.s, "Message-ID: ");
	idc = strndup(id1, (size_t)(strchr(id1, '\r') - id1));
	ok(strstr(c.s, idc) != NULL, "a key gives the same Message-ID");
	m.msgid_key = "a/1/2";
	nudge_buf_reset(&c);
	nudge_mime_build(&m, &c, &err);
	ok(strstr(c.s, idc) == NULL, "another key another one");
	free(idc);

	m = base_msg();
	m.text = NULL;
	m.html = "<html><BODY class=\"x\"><p>Hi</p></body></html>";
	m.html_len = strlen(m.html);
	m.preheader = "Sale <today> & tomorrow\r\n";
	nudge_buf_reset(&b);
	is_int(nudge_mime_build(&m, &b, &err), 0, "HTML only, preheader");
	parse_msg(b.s, &p);
	is_str(hget(&p, "Content-Type"), "text/html; charset=utf-8",
	    "a single text/html part");
	free(p.copy);

	m.text = "Hi";
	m.text_len = 2;
	m.html = "<p>Hi</p>";
	m.html_len = strlen(m.html);
	m.preheader = "Sale <today>";
	nudge_buf_reset(&b);
	nudge_mime_build(&m, &b, &err);
	parse_msg(b.s, &p);
	get_part(&p, 1, &part, ct, sizeof ct);
	is_str(part.s, "\r\n<div style=\"display:none;max-height:0;overflow:"
	    "hidden;mso-hide:all;font-size:1px;line-height:1px;opacity:0\">"
	    "Sale &lt;today&gt;</div>\r\n<p>Hi</p>",
	    "a preheader goes first, hidden and escaped");
	free(p.copy);

	m = base_msg();
	m.text = ".\nFrom here\nx.\n";
	m.text_len = strlen(m.text);
	nudge_buf_reset(&b);
	nudge_mime_build(&m, &b, &err);
	ok(strstr(b.s, "\r\n\r\n=2E\r\n=46rom here\r\nx.\r\n") != NULL,
	    "a leading '.' and \"From \" are escaped");

	m = base_msg();
	m.to_name = "Levi, Dana";
	nudge_buf_reset(&b);
	nudge_mime_build(&m, &b, &err);
	ok(strstr(b.s, "To: \"Levi, Dana\" <dana@example.com>\r\n") != NULL,
	    "a name with a comma is quoted");
	m.to_name = "=?UTF-8?B?QmNjOg==?=";
	nudge_buf_reset(&b);
	nudge_mime_build(&m, &b, &err);
	ok(strstr(b.s, "To: \"=?UTF-8?B?QmNjOg==?=\" <dana@example.com>\r\n")
	    != NULL, "a name that looks encoded is quoted (never decoded)");
	m.to_name = NULL;
	nudge_buf_reset(&b);
	nudge_mime_build(&m, &b, &err);
	ok(strstr(b.s, "To: dana@example.com\r\n") != NULL,
	    "no name: a bare address");

	is_int(nudge_mime_mailbox("Shop <news@shop.example>", name,
	    sizeof name, addr, sizeof addr, &err), 0, "mailbox parses");
	ok(strcmp(name, "Shop") == 0 && strcmp(addr, "news@shop.example") == 0,
	    "name and address");
	is_int(nudge_mime_mailbox(" \"Levi, Dana\" <d@x.example> ", name,
	    sizeof name, addr, sizeof addr, &err), 0, "a quoted name");
	is_str(name, "Levi, Dana", "unquoted");
	is_int(nudge_mime_mailbox("d@x.example", name, sizeof name, addr,
	    sizeof addr, &err), 0, "a bare address");
	ok(name[0] == '\0' && strcmp(addr, "d@x.example") == 0, "no name");
	is_int(nudge_mime_mailbox("Shop <news@shop.example> x", name,
	    sizeof name, addr, sizeof addr, &err), EX_DATAERR,
	    "junk after > refused");
	nudge_buf_free(&b);
	nudge_buf_free(&c);
	nudge_buf_free(&part);
}

/* The exact test has the boundary and Message-ID of seed 42 in it: fill
 * them in from the message itself, after checking their shape. */
static void
test_exact_shape(void)
{
	nudge_mime_msg m = base_msg();
	nudge_buf b = {0}, c = {0};
	nudge_err err;
	const char *bq;

	m.html = "x";
	m.html_len = 1;
	nudge_mime_build(&m, &b, &err);
	nudge_mime_build(&m, &c, &err);
	is_str(b.s, c.s, "the same seed builds the same message");
	bq = strstr(b.s, "boundary=\"=_nudge_");
	ok(bq != NULL && strlen(bq) > 43 && bq[42] == '"',
	    "boundary is =_nudge_ and 24 hex digits");
	nudge_buf_free(&b);
	nudge_buf_free(&c);
}

static const char *
lookup(void *ctx, const char *name, size_t *len)
{
	const char *const *kv = ctx;

	for (; kv[0] != NULL; kv += 2)
		if (strcmp(kv[0], name) == 0) {
			*len = strlen(kv[1]);
			return kv[1];
		}
	return NULL;
}

/* The sample template rendered for a contact whose first name tries to
 * add a header, built, and parsed back. */
static void
test_template(void)
{
	const char *contact[] = {
		"first_name", "דנה\r\nBcc: all@example.com",
		"attrs.city", "חיפה", NULL,
	};
	nudge_tpl *t = NULL;
	nudge_tpl_out o = {0};
	nudge_mime_msg m = base_msg();
	nudge_buf b = {0}, part = {0};
	nudge_err err;
	struct parsed p;
	char name[200], addr[200], ct[200], *dec;
	size_t maxw;

	if (!ok(nudge_tpl_load("samples/templates/welcome.txt", &t, &err) == 0,
	    "sample template loads"))
		return;
	ok(nudge_tpl_render(t, lookup, contact, &o, &err) == 0, "renders");
	ok(nudge_mime_mailbox(nudge_buf_str(&o.part[NUDGE_TPL_FROM]), name,
	    sizeof name, addr, sizeof addr, &err) == 0, "its From: parses");
	m.from_name = name;
	m.from_addr = addr;
	m.subject = nudge_buf_str(nudge_tpl_subject(&o));
	m.preheader = nudge_buf_str(&o.part[NUDGE_TPL_PREHEADER]);
	m.text = o.part[NUDGE_TPL_TEXT].s;
	m.text_len = o.part[NUDGE_TPL_TEXT].len;
	m.html = o.part[NUDGE_TPL_HTML].s;
	m.html_len = o.part[NUDGE_TPL_HTML].len;
	is_int(nudge_mime_build(&m, &b, &err), 0, "and builds");
	parse_msg(b.s, &p);
	is_int(p.nhdr, 7, "seven header fields");
	ok(hget(&p, "Bcc") == NULL, "none of them Bcc");
	dec = decode_words(hget(&p, "Subject"), &maxw);
	is_str(dec, "דנה Bcc: all@example.com, ברוכים הבאים ל-Shop! 🎉",
	    "the subject decodes, CR/LF a space");
	free(dec);
	get_part(&p, 1, &part, ct, sizeof ct);
	ok(strstr(part.s, "<body>\r\n<div style=\"display:none;") != NULL,
	    "the preheader sits just inside <body>");
	ok(strstr(part.s, "city=%D7%97%D7%99%D7%A4%D7%94\"") != NULL,
	    "the link carries the encoded city");
	free(p.copy);
	nudge_buf_free(&part);
	nudge_buf_free(&b);
	nudge_tpl_out_free(&o);
	nudge_tpl_free(t);
}

/* s with each line break (LF or CRLF) as CRLF. */
static char *
canon(const char *s)
{
	nudge_buf o = {0};

	for (; *s; s++)
		if (*s == '\n' && (o.len == 0 || o.s[o.len - 1] != '\r'))
			nudge_buf_add(&o, "\r\n", 2);
		else
			nudge_buf_putc(&o, *s);
	nudge_buf_add(&o, "", 0);
	return o.s;
}

/* Quoted-printable over many texts of the bytes that matter (spaces and
 * tabs before line ends, '.', "From ", '=', UTF-8, lines of every length
 * around the 76-column limit): each decodes to the input with its line
 * breaks as CRLF, no line is longer than 76, and no line ends in a space
 * or tab. */
static void
test_qp_random(void)
{
	static const char *const bits[] = {
		"a", "b", " ", "\t", ".", "From ", "=", "\n", "\r\n", "שלום",
		"xyz", "  ", "F", "\xc3\xa9",
	};
	unsigned rnd = 12345;
	int round, bad_dec = 0, bad_len = 0, bad_ws = 0;

	for (round = 0; round < 400; round++) {
		nudge_mime_msg m = base_msg();
		struct parsed p;
		nudge_buf b = {0}, part = {0}, text = {0}, *want;
		char ct[200], *wantc;
		const char *body, *l, *e;
		int k, n;

		n = 1 + round % 97;
		for (k = 0; k < n * 3; k++) {
			rnd = rnd * 1103515245u + 12345u;
			nudge_buf_puts(&text,
			    bits[(rnd >> 16) % (sizeof bits / sizeof *bits)]);
		}
		/* keep it text: base64 would be chosen for too many escapes */
		m.text = text.s;
		m.text_len = text.len;
		m.html = NULL;
		m.html_len = 0;
		if (nudge_mime_build(&m, &b, NULL) != 0) {
			bad_dec++;
			goto next;
		}
		parse_msg(b.s, &p);
		wantc = canon(text.s);
		(void)want;
		for (k = (int)strlen(wantc); k > 0 && (wantc[k - 1] == '\n' ||
		    wantc[k - 1] == '\r'); k--)
			wantc[k - 1] = '\0';
		if (strstr(b.s, "quoted-printable") != NULL) {
			body = p.body;
			for (l = body; (e = strstr(l, "\r\n")) != NULL; l = e + 2) {
				if (e - l > 76)
					bad_len++;
				if (e > l && (e[-1] == ' ' || e[-1] == '\t'))
					bad_ws++;
			}
		}
		nudge_buf_reset(&part);
		if (get_single(&p, &part) != 0 || strcmp(part.s, wantc) != 0) {
			if (bad_dec++ == 0)
				fprintf(stderr, "# first difference, round %d:\n%s\n---\n%s\n",
				    round, b.s, wantc);
		}
		free(wantc);
		free(p.copy);
next:
		nudge_buf_free(&part);
		nudge_buf_free(&text);
		nudge_buf_free(&b);
		(void)ct;
	}
	is_int(bad_dec, 0, "400 random texts: quoted-printable decodes to each");
	is_int(bad_len, 0, "no encoded line over 76 characters");
	is_int(bad_ws, 0, "no encoded line ends in a space or tab");
}

int
main(void)
{
	test_exact_shape();
	test_exact();
	test_hebrew();
	test_long_lines();
	test_qp_random();
	test_injection();
	test_misc();
	test_template();
	return done_testing();
}
