/* template: parse a message template once into segments, render it many
 * times with context-aware escaping (nudge-template(5)). */
#include "template.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Where a placeholder's value lands, which decides its escaping. */
enum ctx {
	C_TEXT,      /* the text body: control characters but \t \n dropped */
	C_HEADER,    /* runs of control characters become one space */
	C_HTML,      /* HTML text or a quoted non-URL attribute value */
	C_URL_START, /* a whole URL attribute: http(s)/mailto, HTML-escaped */
	C_URL_PART,  /* inside a URL after its start: percent-encoded */
};

enum filter { F_UPPER = 1, F_LOWER, F_TITLE };
#define MAXFILT 4

struct seg {
	const char *s;   /* a literal, or a placeholder's default */
	size_t n;
	char *name;      /* NULL for a literal */
	const char *file; /* a placeholder's file (t->name or t->hname), */
	int line, col;    /* line and column, for nudge_tpl_each_field */
	unsigned char ctx, nfilt, has_def;
	unsigned char filt[MAXFILT];
};

struct nudge_tpl {
	char *src, *hsrc;          /* literals point into these */
	char *name, *hname;        /* the file names in errors */
	struct seg *seg;
	size_t nseg, capseg;
	size_t first[NUDGE_TPL_NPARTS], last[NUDGE_TPL_NPARTS];
	unsigned parts;
	int missing_empty;
	int notrack;               /* X-Nudge-Track: no */
};

static const char *const header_names[] = {
	"Subject", "From", "Reply-To", "Preheader", "Title",
};

/* Where the parser is, for file:line:col errors. */
struct pos {
	const char *name;
	const char *line_start;
	int line;
};

static int
col_of(const struct pos *p, const char *at)
{
	const char *s;
	int col = 1;

	/* Characters, not bytes, so that a caret under Hebrew lines up. */
	for (s = p->line_start; s < at; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			col++;
	return col;
}

static int
perr(nudge_err *err, const struct pos *p, const char *at, const char *what,
    const char *val, size_t vn)
{
	char q[128];

	if (val == NULL)
		return nudge_errf(err, EX_DATAERR, "%s:%d:%d: %s", p->name,
		    p->line, col_of(p, at), what);
	return nudge_errf(err, EX_DATAERR, "%s:%d:%d: %s: \"%s\"", p->name,
	    p->line, col_of(p, at), what, nudge_quote(q, sizeof q, val, vn));
}

static int
add_seg(nudge_tpl *t, struct seg **out, nudge_err *err)
{
	if (t->nseg == t->capseg) {
		size_t cap = t->capseg ? t->capseg * 2 : 32;
		struct seg *s = realloc(t->seg, cap * sizeof *s);

		if (s == NULL)
			return nudge_errf(err, EX_OSERR, "%s", strerror(errno));
		t->seg = s;
		t->capseg = cap;
	}
	*out = &t->seg[t->nseg++];
	memset(*out, 0, sizeof **out);
	return 0;
}

static int
add_lit(nudge_tpl *t, const char *s, size_t n, nudge_err *err)
{
	struct seg *g;
	int rc;

	if (n == 0)
		return 0;
	/* Join with a literal just before (split by an HTML tag scan). */
	if (t->nseg > 0 && t->seg[t->nseg - 1].name == NULL &&
	    t->seg[t->nseg - 1].s + t->seg[t->nseg - 1].n == s) {
		t->seg[t->nseg - 1].n += n;
		return 0;
	}
	if ((rc = add_seg(t, &g, err)) != 0)
		return rc;
	g->s = s;
	g->n = n;
	return 0;
}

static int
is_name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '.' ||
	    c == '-';
}

/*
 * The HTML scanner: a small subset of the HTML5 tokenizer, enough to know
 * whether a placeholder sits in text, in a quoted attribute value (and
 * whether that attribute is a URL), or somewhere it cannot be made safe.
 */
enum hstate {
	H_DATA, H_TAGNAME, H_INTAG, H_ATTRNAME, H_AFTERNAME, H_BEFOREVAL,
	H_VAL_DQ, H_VAL_SQ, H_VAL_UNQ, H_COMMENT, H_RAW, H_ENDTAG,
};

struct html {
	enum hstate st;
	char tag[16], attr[24];
	size_t taglen, attrlen;
	int val_empty, raw_script;
	const char *raw_end;       /* "</script" or "</style" */
};

static int
url_attr(const char *a)
{
	static const char *const names[] = {
		"href", "src", "action", "formaction", "background", "poster",
		"cite", "longdesc", "usemap", "xlink:href", "srcset",
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(a, names[i]) == 0)
			return 1;
	return 0;
}

static void
html_scan(struct html *h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		switch (h->st) {
		case H_DATA:
			if (c != '<')
				break;
			if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
				h->st = H_COMMENT;
				i += 3;
			} else if (i + 1 < n && s[i + 1] == '/') {
				h->st = H_ENDTAG;
				i++;
			} else if (i + 1 < n && (is_name_start(s[i + 1]) ||
			    s[i + 1] == '!' || s[i + 1] == '?')) {
				h->st = H_TAGNAME;
				h->taglen = 0;
			}
			break;
		case H_ENDTAG:
			if (c == '>')
				h->st = H_DATA;
			break;
		case H_COMMENT:
			if (n - i >= 3 && memcmp(s + i, "-->", 3) == 0) {
				h->st = H_DATA;
				i += 2;
			}
			break;
		case H_RAW:
			if (n - i >= strlen(h->raw_end) &&
			    strncasecmp(s + i, h->raw_end,
			    strlen(h->raw_end)) == 0) {
				h->st = H_ENDTAG;
				i += strlen(h->raw_end) - 1;
			}
			break;
		case H_TAGNAME:
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
			    c == '/' || c == '>') {
				h->tag[h->taglen < sizeof h->tag ?
				    h->taglen : sizeof h->tag - 1] = '\0';
				h->st = H_INTAG;
				i--;
			} else if (h->taglen < sizeof h->tag - 1)
				h->tag[h->taglen++] = c;
			break;
		case H_INTAG:
		case H_AFTERNAME:
			if (c == '>') {
				h->st = H_DATA;
				if (strcasecmp(h->tag, "script") == 0) {
					h->st = H_RAW;
					h->raw_end = "</script";
				} else if (strcasecmp(h->tag, "style") == 0) {
					h->st = H_RAW;
					h->raw_end = "</style";
				}
			} else if (c == '=' && h->st == H_AFTERNAME) {
				h->st = H_BEFOREVAL;
			} else if (c != ' ' && c != '\t' && c != '\n' &&
			    c != '\r' && c != '/') {
				h->st = H_ATTRNAME;
				h->attrlen = 0;
				i--;
			}
			break;
		case H_ATTRNAME:
			if (c == '=' || c == ' ' || c == '\t' || c == '\n' ||
			    c == '\r' || c == '/' || c == '>') {
				h->attr[h->attrlen] = '\0';
				h->st = c == '=' ? H_BEFOREVAL : H_AFTERNAME;
				if (c == '>' || c == '/')
					i--;
			} else if (h->attrlen < sizeof h->attr - 1)
				h->attr[h->attrlen++] = c;
			break;
		case H_BEFOREVAL:
			h->val_empty = 1;
			if (c == '"')
				h->st = H_VAL_DQ;
			else if (c == '\'')
				h->st = H_VAL_SQ;
			else if (c == '>') {
				h->st = H_INTAG;
				i--;
			} else if (c != ' ' && c != '\t' && c != '\n' &&
			    c != '\r') {
				h->st = H_VAL_UNQ;
				h->val_empty = 0;
			}
			break;
		case H_VAL_DQ:
		case H_VAL_SQ:
			if (c == (h->st == H_VAL_DQ ? '"' : '\''))
				h->st = H_INTAG;
			else
				h->val_empty = 0;
			break;
		case H_VAL_UNQ:
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
			    c == '>') {
				h->st = H_INTAG;
				if (c == '>')
					i--;
			}
			break;
		}
	}
}

/* Returns the context of a placeholder at the scanner's state h, or -1
 * with *why set when no escaping can make a value safe there. */
static int
html_ctx(struct html *h, const char **why)
{
	switch (h->st) {
	case H_DATA:
	case H_COMMENT:
		return C_HTML;
	case H_VAL_DQ:
	case H_VAL_SQ:
		if (strncasecmp(h->attr, "on", 2) == 0 ||
		    strcasecmp(h->attr, "style") == 0) {
			*why = "a placeholder cannot go in a style or on* "
			    "attribute";
			return -1;
		}
		if (url_attr(h->attr)) {
			int c = h->val_empty ? C_URL_START : C_URL_PART;

			h->val_empty = 0;
			return c;
		}
		h->val_empty = 0;
		return C_HTML;
	case H_RAW:
		*why = "a placeholder cannot go in a <script> or <style>";
		return -1;
	case H_VAL_UNQ:
	case H_BEFOREVAL:
		*why = "a placeholder in an attribute value needs quotes "
		    "around the value";
		return -1;
	default:
		*why = "a placeholder cannot go inside a tag, only in text "
		    "or in a quoted attribute value";
		return -1;
	}
}

static int
parse_filter(const char *s, size_t n)
{
	if (n == 5 && memcmp(s, "upper", 5) == 0)
		return F_UPPER;
	if (n == 5 && memcmp(s, "lower", 5) == 0)
		return F_LOWER;
	if (n == 5 && memcmp(s, "title", 5) == 0)
		return F_TITLE;
	return 0;
}

/*
 * Parses s[0..n), one part's text, into segments: literals and
 * placeholders "{{ name[:filter...] [| default] }}".  A placeholder stays
 * on one line.  hdr: a header value (no HTML scanning); h: the HTML
 * scanner for the HTML part, else NULL.  p->line_start and p->line must
 * match s on entry; they follow the text.
 */
static int
parse_part(nudge_tpl *t, struct pos *p, char *s, size_t n, int hdr,
    struct html *h, nudge_err *err)
{
	char *end = s + n, *lit = s, *q;
	int rc;

	for (q = s; q < end; q++) {
		char *open, *close, *r, *name;
		struct seg *g;
		const char *why;
		size_t nn;
		int ctx;

		if (*q == '\n') {
			p->line++;
			p->line_start = q + 1;
			continue;
		}
		if (*q != '{' || q + 1 >= end || q[1] != '{')
			continue;
		open = q;
		if ((rc = add_lit(t, lit, (size_t)(q - lit), err)) != 0)
			return rc;
		if (h != NULL)
			html_scan(h, lit, (size_t)(q - lit));
		for (close = q + 2; close + 1 < end && *close != '\n'; close++)
			if (close[0] == '}' && close[1] == '}')
				break;
		if (close + 1 >= end || *close != '}')
			return perr(err, p, open, "this \"{{\" has no closing "
			    "\"}}\" on its line", NULL, 0);
		r = q + 2;
		while (*r == ' ' || *r == '\t')
			r++;
		if (!is_name_start(*r)) {
			char *e = r;

			while (e < close && *e != ' ' && *e != '\t')
				e++;
			return perr(err, p, r, "expected a field name after "
			    "\"{{\"", r, (size_t)(e - r));
		}
		for (name = r; is_name_char(*r); r++)
			;
		nn = (size_t)(r - name);
		if (hdr)
			ctx = C_HEADER;
		else if (h == NULL)
			ctx = C_TEXT;
		else if ((ctx = html_ctx(h, &why)) == -1)
			return perr(err, p, open, why, NULL, 0);
		if ((rc = add_seg(t, &g, err)) != 0)
			return rc;
		g->ctx = (unsigned char)ctx;
		if ((g->name = malloc(nn + 1)) == NULL)
			return nudge_errf(err, EX_OSERR, "%s", strerror(errno));
		memcpy(g->name, name, nn);
		g->name[nn] = '\0';
		g->file = p->name;
		g->line = p->line;
		g->col = col_of(p, name);
		while (*r == ':') {
			char *f = ++r;
			int fl;

			while (*r >= 'a' && *r <= 'z')
				r++;
			if ((fl = parse_filter(f, (size_t)(r - f))) == 0) {
				char *fe = f;

				while (fe < close && *fe != ':' && *fe != '|' &&
				    *fe != ' ')
					fe++;
				return perr(err, p, f, "unknown filter (upper, "
				    "lower or title)", f, (size_t)(fe - f));
			}
			if (g->nfilt == MAXFILT)
				return perr(err, p, f, "too many filters",
				    NULL, 0);
			g->filt[g->nfilt++] = (unsigned char)fl;
		}
		while (*r == ' ' || *r == '\t')
			r++;
		if (*r == '|') {
			char *d = r + 1, *de = close;

			while (d < de && (*d == ' ' || *d == '\t'))
				d++;
			while (de > d && (de[-1] == ' ' || de[-1] == '\t'))
				de--;
			g->has_def = 1;
			g->s = d;
			g->n = (size_t)(de - d);
		} else if (r != close)
			return perr(err, p, r, "expected \":filter\", "
			    "\"|default\" or \"}}\"", r, (size_t)(close - r));
		q = close + 1;
		lit = close + 2;
	}
	if ((rc = add_lit(t, lit, (size_t)(end - lit), err)) != 0)
		return rc;
	if (h != NULL)
		html_scan(h, lit, (size_t)(end - lit));
	return 0;
}

static int
parse_html(nudge_tpl *t, struct pos *p, char *s, size_t n, nudge_err *err)
{
	struct html h;
	int rc;

	memset(&h, 0, sizeof h);
	t->first[NUDGE_TPL_HTML] = t->nseg;
	rc = parse_part(t, p, s, n, 0, &h, err);
	t->last[NUDGE_TPL_HTML] = t->nseg;
	t->parts |= 1u << NUDGE_TPL_HTML;
	return rc;
}

/* Returns the length of the line at s (without its \n and a \r before). */
static size_t
line_len(const char *s, const char *end, const char **next)
{
	const char *e = memchr(s, '\n', (size_t)(end - s));
	size_t n;

	if (e == NULL)
		e = end;
	*next = e < end ? e + 1 : end;
	n = (size_t)(e - s);
	if (n > 0 && s[n - 1] == '\r')
		n--;
	return n;
}

static int
is_html_sep(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == 12 && memcmp(s, "--- html ---", 12) == 0;
}

/* Removes every \r that ends a line, so that parts are \n-terminated. */
static size_t
strip_cr(char *s, size_t n)
{
	size_t i, j;

	for (i = j = 0; i < n; i++)
		if (!(s[i] == '\r' && i + 1 < n && s[i + 1] == '\n'))
			s[j++] = s[i];
	s[j] = '\0';
	return j;
}

static int
parse_headers(nudge_tpl *t, struct pos *p, char **sp, char *end,
    nudge_err *err)
{
	char *s = *sp;
	int rc;

	for (;;) {
		const char *next;
		size_t n, i, k;
		char *colon, *v, *ve;

		if (s >= end)
			return perr(err, p, s, "expected a blank line after "
			    "the headers", NULL, 0);
		n = line_len(s, end, &next);
		if (n == 0) {
			p->line++;
			p->line_start = next;
			*sp = (char *)next;
			return 0;
		}
		if (*s == ' ' || *s == '\t')
			return perr(err, p, s, "header continuation lines are "
			    "not supported: keep a header on one line",
			    NULL, 0);
		colon = memchr(s, ':', n);
		for (i = 0; colon != NULL && s + i < colon; i++)
			if (!is_name_char(s[i]))
				colon = NULL;
		if (colon == NULL || colon == s)
			return perr(err, p, s, "expected a header line "
			    "\"Name: value\" or a blank line", s, n);
		v = colon + 1;
		ve = s + n;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (k = 0; k < NUDGE_TPL_HTML; k++)
			if (k < sizeof header_names / sizeof header_names[0] &&
			    strlen(header_names[k]) == (size_t)(colon - s) &&
			    strncasecmp(s, header_names[k],
			    (size_t)(colon - s)) == 0)
				break;
		if (k < sizeof header_names / sizeof header_names[0]) {
			char *c;

			if (t->parts & (1u << k))
				return perr(err, p, s, "header given twice",
				    s, (size_t)(colon - s));
			/* Tabs and other control characters (a lone CR)
			 * become spaces: a header value is one line. */
			for (c = v; c < ve; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					*c = ' ';
			t->parts |= 1u << k;
			t->first[k] = t->nseg;
			rc = parse_part(t, p, v, (size_t)(ve - v), 1, NULL,
			    err);
			t->last[k] = t->nseg;
			if (rc != 0)
				return rc;
		} else if ((size_t)(colon - s) == 15 &&
		    strncasecmp(s, "X-Nudge-Missing", 15) == 0) {
			if (ve - v == 5 && strncasecmp(v, "empty", 5) == 0)
				t->missing_empty = 1;
			else if (ve - v == 4 && strncasecmp(v, "skip", 4) == 0)
				t->missing_empty = 0;
			else
				return perr(err, p, v, "X-Nudge-Missing is "
				    "skip or empty", v, (size_t)(ve - v));
		} else if ((size_t)(colon - s) == 13 &&
		    strncasecmp(s, "X-Nudge-Track", 13) == 0) {
			if (ve - v == 2 && strncasecmp(v, "no", 2) == 0)
				t->notrack = 1;
			else if (ve - v == 3 && strncasecmp(v, "yes", 3) == 0)
				t->notrack = 0;
			else
				return perr(err, p, v, "X-Nudge-Track is yes "
				    "or no", v, (size_t)(ve - v));
		} else
			return perr(err, p, s, "unknown header (Subject, From, "
			    "Reply-To, Preheader, Title, X-Nudge-Missing, "
			    "X-Nudge-Track)",
			    s, (size_t)(colon - s));
		p->line++;
		p->line_start = next;
		s = (char *)next;
	}
}

int
nudge_tpl_parse(const char *name, const char *src, size_t n,
    const char *html, size_t hn, nudge_tpl **out, nudge_err *err)
{
	nudge_tpl *t;
	struct pos p;
	char *s, *end, *body, *sep = NULL;
	const char *next;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof *t)) == NULL ||
	    (t->src = malloc(n + 1)) == NULL ||
	    (t->name = strdup(name)) == NULL ||
	    (html != NULL && (t->hsrc = malloc(hn + 1)) == NULL)) {
		nudge_tpl_free(t);
		return nudge_errf(err, EX_OSERR, "%s", strerror(errno));
	}
	memcpy(t->src, src, n);
	t->src[n] = '\0';
	if (memchr(t->src, '\0', n) != NULL) {
		nudge_tpl_free(t);
		return nudge_errf(err, EX_DATAERR, "%s: a NUL byte in a "
		    "template", name);
	}
	n = strip_cr(t->src, n);
	s = t->src;
	end = s + n;
	p.name = t->name;
	p.line = 1;
	p.line_start = s;
	if ((rc = parse_headers(t, &p, &s, end, err)) != 0)
		goto fail;
	/* The text body runs to a "--- html ---" line or the end. */
	for (body = s; body < end; body = (char *)next) {
		size_t ln = line_len(body, end, &next);

		if (is_html_sep(body, ln)) {
			sep = body;
			break;
		}
	}
	t->first[NUDGE_TPL_TEXT] = t->nseg;
	rc = parse_part(t, &p, s, (size_t)((sep ? sep : end) - s), 0, NULL,
	    err);
	t->last[NUDGE_TPL_TEXT] = t->nseg;
	t->parts |= 1u << NUDGE_TPL_TEXT;
	if (rc != 0)
		goto fail;
	if (sep != NULL) {
		if (html != NULL) {
			rc = perr(err, &p, sep, "this template has an HTML "
			    "part and a sibling .html file: keep one", NULL, 0);
			goto fail;
		}
		p.line++;
		p.line_start = next;
		if ((rc = parse_html(t, &p, (char *)next,
		    (size_t)(end - next), err)) != 0)
			goto fail;
	} else if (html != NULL) {
		char hname[1024];

		memcpy(t->hsrc, html, hn);
		t->hsrc[hn] = '\0';
		hn = strip_cr(t->hsrc, hn);
		snprintf(hname, sizeof hname, "%s (HTML)", name);
		if ((t->hname = strdup(hname)) == NULL) {
			rc = nudge_errf(err, EX_OSERR, "%s", strerror(errno));
			goto fail;
		}
		p.name = t->hname;
		p.line = 1;
		p.line_start = t->hsrc;
		if ((rc = parse_html(t, &p, t->hsrc, hn, err)) != 0)
			goto fail;
	}
	*out = t;
	return 0;
fail:
	nudge_tpl_free(t);
	return rc;
}

static int
slurp(const char *path, char **out, size_t *len, nudge_err *err)
{
	FILE *fp;
	nudge_buf b = {0};
	char chunk[8192];
	size_t n;

	if ((fp = fopen(path, "rb")) == NULL)
		return nudge_errf(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR,
		    "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		if (nudge_buf_add(&b, chunk, n) == -1) {
			fclose(fp);
			nudge_buf_free(&b);
			return nudge_errf(err, EX_OSERR, "%s", strerror(ENOMEM));
		}
	if (ferror(fp)) {
		int e = errno;

		fclose(fp);
		nudge_buf_free(&b);
		return nudge_errf(err, EX_IOERR, "%s: %s", path, strerror(e));
	}
	fclose(fp);
	if (b.s == NULL && nudge_buf_add(&b, "", 0) == -1)
		return nudge_errf(err, EX_OSERR, "%s", strerror(ENOMEM));
	*out = b.s;
	*len = b.len;
	return 0;
}

int
nudge_tpl_load(const char *path, nudge_tpl **out, nudge_err *err)
{
	char *src = NULL, *html = NULL, *sib;
	const char *base, *dot;
	size_t n = 0, hn = 0, stem;
	int rc;

	*out = NULL;
	if ((rc = slurp(path, &src, &n, err)) != 0)
		return rc;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	stem = dot != NULL && dot != base ? (size_t)(dot - path) : strlen(path);
	if ((sib = malloc(stem + 6)) == NULL) {
		free(src);
		return nudge_errf(err, EX_OSERR, "%s", strerror(errno));
	}
	memcpy(sib, path, stem);
	memcpy(sib + stem, ".html", 6);
	if (strcmp(sib, path) != 0) {
		rc = slurp(sib, &html, &hn, err);
		if (rc == EX_NOINPUT)
			rc = 0;
	}
	if (rc == 0)
		rc = nudge_tpl_parse(path, src, n, html, hn, out, err);
	free(sib);
	free(src);
	free(html);
	return rc;
}

unsigned
nudge_tpl_parts(const nudge_tpl *t)
{
	return t->parts;
}

int
nudge_tpl_track(const nudge_tpl *t)
{
	return !t->notrack;
}

int
nudge_tpl_each_field(const nudge_tpl *t, nudge_tpl_field_fn *fn, void *ctx)
{
	char where[1100];
	size_t i;
	int rc;

	for (i = 0; i < t->nseg; i++) {
		const struct seg *g = &t->seg[i];

		if (g->name == NULL)
			continue;
		snprintf(where, sizeof where, "%s:%d:%d", g->file, g->line,
		    g->col);
		if ((rc = fn(ctx, g->name, g->has_def, where)) != 0)
			return rc;
	}
	return 0;
}

void
nudge_tpl_free(nudge_tpl *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nseg; i++)
		free(t->seg[i].name);
	free(t->seg);
	free(t->src);
	free(t->hsrc);
	free(t->name);
	free(t->hname);
	free(t);
}

void
nudge_tpl_out_free(nudge_tpl_out *out)
{
	size_t i;

	for (i = 0; i < NUDGE_TPL_NPARTS; i++)
		nudge_buf_free(&out->part[i]);
	nudge_buf_free(&out->scratch);
}

/* Rendering. */

static int
is_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
		    s[i] != '\r')
			return 0;
	return 1;
}

/* Applies the filters of g to v[0..n) into b.  Case changes cover ASCII
 * and the Latin-1 letters (U+00C0..U+00FE); other characters, Hebrew
 * among them, have no case and pass unchanged. */
static int
filter(const struct seg *g, const char *v, size_t n, nudge_buf *b)
{
	size_t i, k;

	nudge_buf_reset(b);
	if (nudge_buf_add(b, v, n) == -1)
		return -1;
	for (k = 0; k < g->nfilt; k++) {
		size_t wlen = 0; /* characters since the word started */

		for (i = 0; i < b->len; i++) {
			unsigned char c = (unsigned char)b->s[i];
			int up = g->filt[k] == F_UPPER ||
			    (g->filt[k] == F_TITLE && wlen == 0);

			if (c >= 'a' && c <= 'z' && up)
				b->s[i] = (char)(c - 32);
			else if (c >= 'A' && c <= 'Z' && !up)
				b->s[i] = (char)(c + 32);
			else if (c == 0xc3 && i + 1 < b->len) {
				unsigned char d = (unsigned char)b->s[i + 1];

				if (up && d >= 0xa0 && d <= 0xbe && d != 0xb7)
					b->s[i + 1] = (char)(d - 0x20);
				else if (!up && d >= 0x80 && d <= 0x9e &&
				    d != 0x97)
					b->s[i + 1] = (char)(d + 0x20);
			}
			/* A word starts after a space, a tab or '-', and
			 * after a "'" that follows one letter: O'Neil,
			 * D'Angelo, but Don't. */
			if (c == ' ' || c == '-' || c == '\t' ||
			    (c == '\'' && wlen == 1))
				wlen = 0;
			else if ((c & 0xc0) != 0x80)
				wlen++;
		}
	}
	return 0;
}

static int
emit_text(nudge_buf *b, const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t')
			continue;
		if (nudge_buf_add(b, s + start, i - start) == -1)
			return -1;
		start = i + 1;
	}
	return nudge_buf_add(b, s + start, n - start);
}

static int
emit_header(nudge_buf *b, const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != 0x7f)
			continue;
		if (nudge_buf_add(b, s + start, i - start) == -1)
			return -1;
		/* A run of control characters is one space. */
		while (i + 1 < n && ((unsigned char)s[i + 1] < 0x20 ||
		    s[i + 1] == 0x7f))
			i++;
		if (nudge_buf_putc(b, ' ') == -1)
			return -1;
		start = i + 1;
	}
	return nudge_buf_add(b, s + start, n - start);
}

static int
emit_html(nudge_buf *b, const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep;

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			if ((c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t')
				continue;
			rep = "";
		}
		if (nudge_buf_add(b, s + start, i - start) == -1 ||
		    nudge_buf_puts(b, rep) == -1)
			return -1;
		start = i + 1;
	}
	return nudge_buf_add(b, s + start, n - start);
}

static int
emit_url_part(nudge_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char pct[3];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			continue;
		pct[0] = '%';
		pct[1] = hex[c >> 4];
		pct[2] = hex[c & 15];
		if (nudge_buf_add(b, s + start, i - start) == -1 ||
		    nudge_buf_add(b, pct, 3) == -1)
			return -1;
		start = i + 1;
	}
	return nudge_buf_add(b, s + start, n - start);
}

/* True when s[0..n) is an http, https or mailto URL with no space or
 * control character: only those may fill a whole href or src. */
static int
safe_url(const char *s, size_t n)
{
	size_t i;

	if (!((n > 7 && strncasecmp(s, "http://", 7) == 0) ||
	    (n > 8 && strncasecmp(s, "https://", 8) == 0) ||
	    (n > 7 && strncasecmp(s, "mailto:", 7) == 0)))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* Cuts a header value to what fits in one 998-octet line after
 * "Name: " (on a character boundary) and trims spaces at both ends. */
static void
header_fit(nudge_buf *b, size_t namelen)
{
	size_t max = 998 - namelen - 2, start = 0;

	if (b->len > max) {
		b->len = max;
		while (b->len > 0 &&
		    ((unsigned char)b->s[b->len] & 0xc0) == 0x80)
			b->len--;
	}
	while (b->len > 0 && b->s[b->len - 1] == ' ')
		b->len--;
	while (start < b->len && b->s[start] == ' ')
		start++;
	if (start > 0)
		memmove(b->s, b->s + start, b->len - start);
	b->len -= start;
	if (b->s != NULL)
		b->s[b->len] = '\0';
}

int
nudge_tpl_render(const nudge_tpl *t, nudge_tpl_lookup lookup, void *ctx,
    nudge_tpl_out *out, nudge_err *err)
{
	size_t k, i;

	for (k = 0; k < NUDGE_TPL_NPARTS; k++) {
		nudge_buf *b = &out->part[k];

		nudge_buf_reset(b);
		if (!(t->parts & (1u << k)))
			continue;
		for (i = t->first[k]; i < t->last[k]; i++) {
			const struct seg *g = &t->seg[i];
			const char *v;
			size_t n = 0;
			int rc;

			if (g->name == NULL) {
				if (nudge_buf_add(b, g->s, g->n) == -1)
					goto oom;
				continue;
			}
			v = lookup(ctx, g->name, &n);
			if (v == NULL || is_blank(v, n)) {
				if (g->has_def) {
					v = g->s;
					n = g->n;
				} else if (t->missing_empty)
					continue;
				else
					return nudge_errf(err, EX_DATAERR,
					    "no value for field \"%s\" and "
					    "no default", g->name);
			} else if (g->nfilt > 0) {
				if (filter(g, v, n, &out->scratch) == -1)
					goto oom;
				v = out->scratch.s;
				n = out->scratch.len;
			}
			switch (g->ctx) {
			case C_TEXT:
				rc = emit_text(b, v, n);
				break;
			case C_HEADER:
				rc = emit_header(b, v, n);
				break;
			case C_URL_START:
				if (!safe_url(v, n)) {
					char q[80];

					return nudge_errf(err, EX_DATAERR,
					    "field \"%s\" is not an http, "
					    "https or mailto URL: \"%s\"", g->name,
					    nudge_quote(q, sizeof q, v, n));
				}
				rc = emit_html(b, v, n);
				break;
			case C_URL_PART:
				rc = emit_url_part(b, v, n);
				break;
			default:
				rc = emit_html(b, v, n);
			}
			if (rc == -1)
				goto oom;
		}
		if (k < NUDGE_TPL_TEXT)
			header_fit(b, strlen(header_names[k]));
	}
	return 0;
oom:
	return nudge_errf(err, EX_OSERR, "%s", strerror(ENOMEM));
}
