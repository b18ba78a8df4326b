/* template: parse a message template once into segments, render it many
 * times with context-aware escaping (nudge-template(5)). */
#include "template.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "json.h"

/* Where a placeholder's value lands, which decides its escaping. */
enum ctx {
	C_TEXT,      /* the text body: control characters but \t \n dropped */
	C_HEADER,    /* runs of control characters become one space */
	C_HTML,      /* HTML text or a quoted non-URL attribute value */
	C_URL_START, /* a whole URL attribute: http(s)/mailto, HTML-escaped */
	C_URL_PART,  /* inside a URL after its start: percent-encoded */
};

enum filter { F_UPPER = 1, F_LOWER, F_TITLE, F_MONEY, F_DATE, F_NUMBER };
#define MAXFILT 4
/* Blocks nest this deep at most (a loop's frames are kept in an array). */
#define MAXDEPTH 8

/* What a segment is: a literal, a placeholder, or a block's tag. */
enum kind { K_LIT, K_FIELD, K_IF, K_EACH, K_ELSE, K_END };

struct seg {
	const char *s;   /* a literal, or a placeholder's default */
	size_t n;
	char *name;      /* a placeholder's field, #each's path, #if's
			    condition; NULL otherwise */
	const char *file; /* a placeholder's file (t->name or t->hname), */
	int line, col;    /* line and column, for nudge_tpl_each_field */
	unsigned char kind, ctx, nfilt, has_def;
	unsigned char local;  /* a placeholder inside an #each */
	unsigned char filt[MAXFILT];
	/* K_IF, K_EACH: the index of its {{else}} or else its end; K_ELSE:
	 * of its end; K_END: of its opener.  K_IF: cond is its number. */
	size_t jump, cond;
};

struct variant {
	char lang[16];
	int rtl;
	nudge_tpl *t;
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
	size_t ncond, cond_base;   /* its #if's are cond_base + 0..ncond-1 */
	struct variant *var;       /* the language variants */
	size_t nvar;
};

/* One running {{#each}}: a copy of its array, the element being
 * rendered and where the next one starts. */
struct frame {
	size_t start;           /* the #each's segment */
	nudge_buf arr;
	size_t pos;
	const char *item;       /* into arr */
	size_t itemn;
};

struct loops {
	struct frame f[MAXDEPTH];
	/* the last :date: times [dfrom, dto) are the day dtext in dzone
	 * (setting TZ makes libc read the zone's file: twice a date) */
	char dzone[64], dtext[48];
	int64_t dfrom, dto;
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
	if (t->nseg > 0 && t->seg[t->nseg - 1].kind == K_LIT &&
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
	if (n == 5 && memcmp(s, "money", 5) == 0)
		return F_MONEY;
	if (n == 4 && memcmp(s, "date", 4) == 0)
		return F_DATE;
	if (n == 6 && memcmp(s, "number", 6) == 0)
		return F_NUMBER;
	return 0;
}

/* The blocks open while a part is parsed: their segments' indexes. */
struct bstack {
	size_t at[MAXDEPTH];
	int n;
	int loops;      /* how many of them are an #each before its else */
};

/* True when a block tag from open to close_end is alone on its line but
 * for spaces and tabs; *after is then the line's \n (or end).  Such a
 * line leaves nothing in the output, not even its \n. */
static int
standalone(const struct pos *p, const char *open, const char *close_end,
    const char *end, const char **after)
{
	const char *s;

	for (s = p->line_start; s < open; s++)
		if (*s != ' ' && *s != '\t')
			return 0;
	for (s = close_end; s < end && *s != '\n'; s++)
		if (*s != ' ' && *s != '\t')
			return 0;
	*after = s;
	return 1;
}

/* Parses the block tag {{#if COND}}, {{#each PATH}}, {{else}}, {{/if}} or
 * {{/each}} whose content runs from r (past "{{" and spaces) to close. */
static int
block_tag(nudge_tpl *t, struct pos *p, struct bstack *bk, char *open,
    char *r, char *close, struct html *h, nudge_err *err)
{
	struct seg *g, *o;
	char *e = close, *w;
	size_t wn, oi;
	int rc, kind;

	if (h != NULL && h->st != H_DATA)
		return perr(err, p, open, "a block tag ({{#if}}, {{#each}}, "
		    "{{else}}, {{/...}}) can only sit in HTML text, not "
		    "inside a tag or an attribute", NULL, 0);
	while (e > r && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (*r == '#') {
		for (w = ++r; r < e && *r >= 'a' && *r <= 'z'; r++)
			;
		wn = (size_t)(r - w);
		if (wn == 2 && memcmp(w, "if", 2) == 0)
			kind = K_IF;
		else if (wn == 4 && memcmp(w, "each", 4) == 0)
			kind = K_EACH;
		else
			return perr(err, p, w, "unknown block (#if or #each)",
			    w, (size_t)(e - w));
		if (r < e && *r != ' ' && *r != '\t')
			return perr(err, p, w, "unknown block (#if or #each)",
			    w, (size_t)(e - w));
		while (r < e && (*r == ' ' || *r == '\t'))
			r++;
		if (r == e)
			return perr(err, p, open, kind == K_IF ? "{{#if}} needs "
			    "a condition" : "{{#each}} needs a field path",
			    NULL, 0);
		for (w = r; w < e; w++)
			if (*w == '\0')
				return perr(err, p, open, "a NUL byte in a "
				    "block tag", NULL, 0);
		if (kind == K_EACH) {
			char *x = r;

			if (!is_name_start(*x))
				return perr(err, p, r, "expected a field path "
				    "after #each", r, (size_t)(e - r));
			while (x < e && is_name_char(*x))
				x++;
			if (x != e)
				return perr(err, p, x, "expected \"}}\" after "
				    "the path of #each", x, (size_t)(e - x));
		}
		if (bk->n == MAXDEPTH)
			return perr(err, p, open, "blocks nest deeper than 8",
			    NULL, 0);
		if ((rc = add_seg(t, &g, err)) != 0)
			return rc;
		g->kind = (unsigned char)kind;
		if ((g->name = malloc((size_t)(e - r) + 1)) == NULL)
			return nudge_errf(err, EX_OSERR, "%s", strerror(errno));
		memcpy(g->name, r, (size_t)(e - r));
		g->name[e - r] = '\0';
		g->file = p->name;
		g->line = p->line;
		g->col = col_of(p, r);
		g->local = bk->loops > 0;
		if (kind == K_IF)
			g->cond = t->ncond++;
		else
			bk->loops++;
		bk->at[bk->n++] = t->nseg - 1;
		return 0;
	}
	if (*r == '/') {
		const char *want;

		for (w = ++r; r < e && *r >= 'a' && *r <= 'z'; r++)
			;
		wn = (size_t)(r - w);
		if (bk->n == 0)
			return perr(err, p, open, "this closes no block",
			    open, (size_t)(close + 2 - open));
		oi = bk->at[bk->n - 1];
		o = &t->seg[oi];
		want = o->kind == K_IF ? "if" : "each";
		if (r != e || wn != strlen(want) || memcmp(w, want, wn) != 0) {
			char what[128];

			snprintf(what, sizeof what, "expected {{/%s}} to close "
			    "the {{#%s}} of line %d column %d", want, want,
			    o->line, o->col);
			return perr(err, p, open, what, open,
			    (size_t)(close + 2 - open));
		}
		if (o->kind == K_EACH && o->jump == 0)
			bk->loops--;
		if ((rc = add_seg(t, &g, err)) != 0)
			return rc;
		g->kind = K_END;
		g->jump = oi;
		o = &t->seg[oi];
		if (o->jump == 0)
			o->jump = t->nseg - 1;
		else
			t->seg[o->jump].jump = t->nseg - 1;
		bk->n--;
		return 0;
	}
	/* else */
	if (r + 4 != e)
		return perr(err, p, r, "expected {{else}}", r,
		    (size_t)(e - r));
	if (bk->n == 0)
		return perr(err, p, open, "this {{else}} is in no {{#if}} or "
		    "{{#each}}", NULL, 0);
	oi = bk->at[bk->n - 1];
	if (t->seg[oi].jump != 0)
		return perr(err, p, open, "a second {{else}} in one block",
		    NULL, 0);
	if (t->seg[oi].kind == K_EACH)
		bk->loops--;
	if ((rc = add_seg(t, &g, err)) != 0)
		return rc;
	g->kind = K_ELSE;
	t->seg[oi].jump = t->nseg - 1;
	return 0;
}

static int
is_block(const char *r, const char *close)
{
	return *r == '#' || *r == '/' || (close - r >= 4 &&
	    memcmp(r, "else", 4) == 0 && !is_name_char(r[4]));
}

/*
 * Parses s[0..n), one part's text, into segments: literals, placeholders
 * "{{ name[:filter...] [| default] }}" and block tags.  A placeholder
 * stays on one line; a block opened in a part closes in it.  hdr: a
 * header value (no HTML scanning); h: the HTML scanner for the HTML part,
 * else NULL.  p->line_start and p->line must match s on entry; they
 * follow the text.
 */
static int
parse_part(nudge_tpl *t, struct pos *p, char *s, size_t n, int hdr,
    struct html *h, nudge_err *err)
{
	char *end = s + n, *lit = s, *q;
	struct bstack bk;
	int rc;

	memset(&bk, 0, sizeof bk);
	for (q = s; q < end; q++) {
		char *open, *close, *r, *name, *litend;
		const char *after = NULL;
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
		for (close = q + 2; close + 1 < end && *close != '\n'; close++)
			if (close[0] == '}' && close[1] == '}')
				break;
		if (close + 1 >= end || *close != '}')
			return perr(err, p, open, "this \"{{\" has no closing "
			    "\"}}\" on its line", NULL, 0);
		r = q + 2;
		while (*r == ' ' || *r == '\t')
			r++;
		litend = q;
		if (is_block(r, close) && !hdr &&
		    standalone(p, open, close + 2, end, &after))
			litend = (char *)p->line_start;
		if ((rc = add_lit(t, lit, (size_t)(litend - lit), err)) != 0)
			return rc;
		if (h != NULL)
			html_scan(h, lit, (size_t)(litend - lit));
		if (is_block(r, close)) {
			if ((rc = block_tag(t, p, &bk, open, r, close, h,
			    err)) != 0)
				return rc;
			if (after != NULL && after < end) {
				/* the line and its \n are gone */
				p->line++;
				p->line_start = after + 1;
				q = (char *)after;
				lit = (char *)after + 1;
			} else if (after != NULL) {
				q = end - 1;
				lit = end;
			} else {
				q = close + 1;
				lit = close + 2;
			}
			continue;
		}
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
		g->kind = K_FIELD;
		g->local = bk.loops > 0;
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
				    "lower, title, money, date or number)", f,
				    (size_t)(fe - f));
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
	if (bk.n > 0) {
		const struct seg *o = &t->seg[bk.at[bk.n - 1]];

		return nudge_errf(err, EX_DATAERR, "%s:%d:%d: this {{#%s}} is "
		    "never closed with {{/%s}}", o->file, o->line, o->col,
		    o->kind == K_IF ? "if" : "each", o->kind == K_IF ? "if" :
		    "each");
	}
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

/* Reads the template at path and its .html sibling. */
static int
load_one(const char *path, nudge_tpl **out, nudge_err *err)
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

/* True when s[0..n) is a language tag nudge takes for a variant: two
 * lower-case letters, maybe "-" or "_" and a region (he, pt-BR). */
static int
lang_tag(const char *s, size_t n)
{
	size_t i;

	if (n < 2 || n > 10 || !(s[0] >= 'a' && s[0] <= 'z') ||
	    !(s[1] >= 'a' && s[1] <= 'z'))
		return 0;
	if (n == 2)
		return 1;
	if (n < 4 || (s[2] != '-' && s[2] != '_'))
		return 0;
	for (i = 3; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

static int
var_cmp(const void *a, const void *b)
{
	return strcmp(((const struct variant *)a)->lang,
	    ((const struct variant *)b)->lang);
}

/* Loads the variants STEM.LANG.EXT beside t's file path. */
static int
load_variants(nudge_tpl *t, const char *path, nudge_err *err)
{
	static const char *const rtl[] = { "ar", "he", "fa", "ur", "yi",
		"ps", "dv", "ckb" };
	const char *base = strrchr(path, '/'), *dot;
	char dir[1024], full[2048];
	size_t dl, sl, el;
	DIR *d;
	struct dirent *de;
	int rc = 0;

	base = base != NULL ? base + 1 : path;
	dot = strrchr(base, '.');
	if (dot == NULL || dot == base)
		return 0;
	dl = (size_t)(base - path);
	if (dl >= sizeof dir)
		return 0;
	memcpy(dir, path, dl);
	dir[dl] = '\0';
	sl = (size_t)(dot - base);
	el = strlen(dot);
	if ((d = opendir(dl > 0 ? dir : ".")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		size_t nl = strlen(nm), ll, i;
		struct variant *v;
		nudge_tpl *vt;

		if (nl <= sl + 1 + el || strncmp(nm, base, sl) != 0 ||
		    nm[sl] != '.' || strcmp(nm + nl - el, dot) != 0)
			continue;
		ll = nl - el - sl - 1;
		if (!lang_tag(nm + sl + 1, ll) || ll >= sizeof v->lang)
			continue;
		snprintf(full, sizeof full, "%s%s", dir, nm);
		if ((rc = load_one(full, &vt, err)) != 0)
			break;
		if (vt->parts != t->parts) {
			rc = nudge_errf(err, EX_DATAERR, "%s: a language "
			    "variant has other parts (Subject, text, HTML...) "
			    "than %s", full, path);
			nudge_tpl_free(vt);
			break;
		}
		if ((v = realloc(t->var, (t->nvar + 1) * sizeof *v)) == NULL) {
			nudge_tpl_free(vt);
			rc = nudge_errf(err, EX_OSERR, "%s", strerror(errno));
			break;
		}
		t->var = v;
		v = &t->var[t->nvar++];
		memset(v, 0, sizeof *v);
		memcpy(v->lang, nm + sl + 1, ll);
		v->lang[ll] = '\0';
		v->t = vt;
		for (i = 0; i < sizeof rtl / sizeof rtl[0]; i++)
			if (strncmp(v->lang, rtl[i], strlen(rtl[i])) == 0 &&
			    (v->lang[strlen(rtl[i])] == '\0' ||
			    v->lang[strlen(rtl[i])] == '-' ||
			    v->lang[strlen(rtl[i])] == '_'))
				v->rtl = 1;
	}
	closedir(d);
	if (rc == 0 && t->nvar > 1)
		qsort(t->var, t->nvar, sizeof *t->var, var_cmp);
	if (rc == 0) {
		size_t i, base_n = t->ncond;

		for (i = 0; i < t->nvar; i++) {
			t->var[i].t->cond_base = base_n;
			base_n += t->var[i].t->ncond;
		}
	}
	return rc;
}

int
nudge_tpl_load(const char *path, nudge_tpl **out, nudge_err *err)
{
	int rc;

	if ((rc = load_one(path, out, err)) != 0)
		return rc;
	if ((rc = load_variants(*out, path, err)) != 0) {
		nudge_tpl_free(*out);
		*out = NULL;
	}
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
nudge_tpl_threadsafe(const nudge_tpl *t)
{
	size_t i, k;

	for (i = 0; i < t->nseg; i++)
		for (k = 0; k < t->seg[i].nfilt; k++)
			if (t->seg[i].filt[k] == F_DATE)
				return 0;
	for (i = 0; i < t->nvar; i++)
		if (!nudge_tpl_threadsafe(t->var[i].t))
			return 0;
	return 1;
}

/* True when a name inside an #each is not the loop item's own. */
static int
outer_name(const char *name)
{
	static const char *const cols[] = { "id", "email", "phone",
		"push_id", "first_name", "last_name", "unsubscribe_url" };
	size_t i;

	if (strncmp(name, "attrs.", 6) == 0 ||
	    strncmp(name, "latest.", 7) == 0 ||
	    strncmp(name, "event.", 6) == 0)
		return 1;
	for (i = 0; i < sizeof cols / sizeof cols[0]; i++)
		if (strcmp(name, cols[i]) == 0)
			return 1;
	return 0;
}

int
nudge_tpl_each_field(const nudge_tpl *t, nudge_tpl_field_fn *fn, void *ctx)
{
	char where[1100];
	size_t i;
	int rc;

	for (i = 0; i < t->nseg; i++) {
		const struct seg *g = &t->seg[i];

		if (g->kind != K_FIELD && g->kind != K_EACH)
			continue;
		if (g->local && !outer_name(g->name))
			continue;
		snprintf(where, sizeof where, "%s:%d:%d", g->file, g->line,
		    g->col);
		if ((rc = fn(ctx, g->name, g->kind == K_EACH || g->has_def,
		    where)) != 0)
			return rc;
	}
	for (i = 0; i < t->nvar; i++)
		if ((rc = nudge_tpl_each_field(t->var[i].t, fn, ctx)) != 0)
			return rc;
	return 0;
}

int
nudge_tpl_each_cond(const nudge_tpl *t, nudge_tpl_cond_fn *fn, void *ctx,
    size_t *n)
{
	char where[1100];
	size_t i, total = t->ncond;
	int rc;

	for (i = 0; i < t->nvar; i++)
		total += t->var[i].t->ncond;
	if (n != NULL)
		*n = total;
	if (fn == NULL)
		return 0;
	for (i = 0; i < t->nseg; i++) {
		const struct seg *g = &t->seg[i];

		if (g->kind != K_IF)
			continue;
		snprintf(where, sizeof where, "%s:%d:%d", g->file, g->line,
		    g->col);
		if ((rc = fn(ctx, t->cond_base + g->cond, g->name, where)) != 0)
			return rc;
	}
	for (i = 0; i < t->nvar; i++)
		if ((rc = nudge_tpl_each_cond(t->var[i].t, fn, ctx,
		    NULL)) != 0)
			return rc;
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
	for (i = 0; i < t->nvar; i++)
		nudge_tpl_free(t->var[i].t);
	free(t->var);
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
	nudge_buf_free(&out->scratch2);
	if (out->loops != NULL) {
		struct loops *L = out->loops;

		for (i = 0; i < MAXDEPTH; i++)
			nudge_buf_free(&L->f[i].arr);
		free(L);
		out->loops = NULL;
	}
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

/* Applies the case filter f to b in place.  Case changes cover ASCII
 * and the Latin-1 letters (U+00C0..U+00FE); other characters, Hebrew
 * among them, have no case and pass unchanged. */
static void
case_filter(int f, nudge_buf *b)
{
	size_t i, wlen = 0; /* characters since the word started */

	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->s[i];
		int up = f == F_UPPER || (f == F_TITLE && wlen == 0);

		if (c >= 'a' && c <= 'z' && up)
			b->s[i] = (char)(c - 32);
		else if (c >= 'A' && c <= 'Z' && !up)
			b->s[i] = (char)(c + 32);
		else if (c == 0xc3 && i + 1 < b->len) {
			unsigned char d = (unsigned char)b->s[i + 1];

			if (up && d >= 0xa0 && d <= 0xbe && d != 0xb7)
				b->s[i + 1] = (char)(d - 0x20);
			else if (!up && d >= 0x80 && d <= 0x9e && d != 0x97)
				b->s[i + 1] = (char)(d + 0x20);
		}
		/* A word starts after a space, a tab or '-', and after a
		 * "'" that follows one letter: O'Neil, D'Angelo, but
		 * Don't. */
		if (c == ' ' || c == '-' || c == '\t' ||
		    (c == '\'' && wlen == 1))
			wlen = 0;
		else if ((c & 0xc0) != 0x80)
			wlen++;
	}
}

/*
 * A small JSON reader for {{#each}} items: enough to walk an array and
 * find an object's member, never building a tree.  Values are spans of
 * the text; strings are unescaped only when printed.
 */
/* Returns the end of the JSON value at s, or NULL when it is not one. */
static const char *
jskip(const char *s, const char *e, int depth)
{
	char close;

	s = nudge_json_skip_ws(s, e);
	if (s >= e)
		return NULL;
	if (*s == '"') {
		for (s++; s < e; s++) {
			if (*s == '\\')
				s++;
			else if (*s == '"')
				return s + 1;
		}
		return NULL;
	}
	if (*s == '[' || *s == '{') {
		close = *s == '[' ? ']' : '}';
		if (depth > 64)
			return NULL;
		s = nudge_json_skip_ws(s + 1, e);
		if (s < e && *s == close)
			return s + 1;
		for (;;) {
			if (close == '}') {
				if ((s = jskip(s, e, depth + 1)) == NULL)
					return NULL;
				s = nudge_json_skip_ws(s, e);
				if (s >= e || *s != ':')
					return NULL;
				s++;
			}
			if ((s = jskip(s, e, depth + 1)) == NULL)
				return NULL;
			s = nudge_json_skip_ws(s, e);
			if (s >= e)
				return NULL;
			if (*s == ',')
				s++;
			else if (*s == close)
				return s + 1;
			else
				return NULL;
		}
	}
	while (s < e && *s != ',' && *s != ']' && *s != '}' && *s != ' ' &&
	    *s != '\t' && *s != '\n' && *s != '\r' && *s != ':')
		s++;
	return s;
}

/* The next element of an array whose elements start at *pos: sets
 * [*v, *v + *vn) and moves *pos on.  Returns 0 at the end or on bad
 * JSON. */
static int
jnext(const char *arr, size_t n, size_t *pos, const char **v, size_t *vn)
{
	const char *e = arr + n, *s = nudge_json_skip_ws(arr + *pos, e), *ve;

	if (s >= e || *s == ']' || (ve = jskip(s, e, 0)) == NULL || ve == s)
		return 0;
	*v = s;
	*vn = (size_t)(ve - s);
	s = nudge_json_skip_ws(ve, e);
	if (s < e && *s == ',')
		s++;
	*pos = (size_t)(s - arr);
	return 1;
}

/* Finds the member path (a.b.c) in the object o[0..n).  Returns 1 with
 * its value's span, or 0. */
static int
jget(const char *o, size_t n, const char *path, const char **v, size_t *vn)
{
	const char *e = o + n, *s, *seg = path, *dot;
	size_t sl;

	for (;;) {
		dot = strchr(seg, '.');
		sl = dot != NULL ? (size_t)(dot - seg) : strlen(seg);
		s = nudge_json_skip_ws(o, e);
		if (s >= e || *s != '{')
			return 0;
		s = nudge_json_skip_ws(s + 1, e);
		for (;;) {
			const char *k, *ke, *ve;

			if (s >= e || *s != '"')
				return 0;
			k = s + 1;
			if ((ke = jskip(s, e, 0)) == NULL)
				return 0;
			s = nudge_json_skip_ws(ke, e);
			if (s >= e || *s != ':')
				return 0;
			s = nudge_json_skip_ws(s + 1, e);
			if ((ve = jskip(s, e, 0)) == NULL)
				return 0;
			if ((size_t)(ke - 1 - k) == sl &&
			    memcmp(k, seg, sl) == 0) {
				o = s;
				e = ve;
				break;
			}
			s = nudge_json_skip_ws(ve, e);
			if (s < e && *s == ',')
				s = nudge_json_skip_ws(s + 1, e);
			else
				return 0;
		}
		if (dot == NULL) {
			*v = o;
			*vn = (size_t)(e - o);
			return 1;
		}
		seg = dot + 1;
	}
}

static int
put_utf8(nudge_buf *b, unsigned long c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	return nudge_buf_add(b, u, n);
}

/* The text of the JSON value v[0..n): a string unescaped into b, a number
 * or true/false as written, an array or object as its JSON; NULL for
 * null (no value) or on memory failure (*oom set). */
static const char *
jtext(const char *v, size_t n, nudge_buf *b, size_t *len, int *oom)
{
	const char *e = v + n, *s;

	while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		e--;
	v = nudge_json_skip_ws(v, e);
	if ((size_t)(e - v) == 4 && memcmp(v, "null", 4) == 0)
		return NULL;
	if (v >= e || *v != '"') {
		*len = (size_t)(e - v);
		return v;
	}
	nudge_buf_reset(b);
	for (s = v + 1; s < e && *s != '"'; s++) {
		long c;

		if (*s != '\\') {
			if (nudge_buf_putc(b, *s) == -1)
				goto oom;
			continue;
		}
		if (++s >= e)
			break;
		switch (*s) {
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if ((c = nudge_hex4(s + 1, e)) < 0) {
				c = 0xfffd;
				break;
			}
			s += 4;
			if (c >= 0xd800 && c < 0xdc00 && e - s > 6 &&
			    s[1] == '\\' && s[2] == 'u') {
				long lo = nudge_hex4(s + 3, e);

				if (lo >= 0xdc00 && lo < 0xe000) {
					c = 0x10000 + ((c - 0xd800) << 10) +
					    (lo - 0xdc00);
					s += 6;
				}
			}
			if (c >= 0xd800 && c < 0xe000)
				c = 0xfffd;
			break;
		default: c = (unsigned char)*s;
		}
		if (put_utf8(b, (unsigned long)c) == -1)
			goto oom;
	}
	*len = b->len;
	return b->s != NULL ? b->s : "";
oom:
	*oom = 1;
	return NULL;
}

/* Number and date formatting for :number, :money and :date. */

/* Parses v[0..n) as a number into *x; -1 when it is not one. */
static int
num_parse(const char *v, size_t n, double *x)
{
	char tmp[64], *end;

	while (n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	errno = 0;
	*x = strtod(tmp, &end);
	if (*end != '\0' || errno != 0 || *x != *x || *x > 1e15 ||
	    *x < -1e15)
		return -1;
	return 0;
}

/* Appends x with dec decimals (trailing zeros dropped unless fixed) and
 * the integer part's thousands separated by ",". */
static int
num_put(nudge_buf *b, double x, int dec, int fixed)
{
	static const double scale[] = { 1, 10, 100 };
	char tmp[64], *dot, *p;
	size_t ilen, i, start;
	double y, r;

	/* an amount with at most dec decimals (12.25, 806), as nearly every
	 * price is: its digits from an integer, as "%.*f" would print them
	 * (within 1e-3 of an integer, the value is far from a rounding
	 * tie); snprintf of a double cost more than the rest of a :money */
	if (dec >= 0 && dec <= 2 && (y = x * scale[dec]) > -1e15 &&
	    y < 1e15 && ((r = nearbyint(y)) - y) < 1e-3 && (y - r) < 1e-3) {
		unsigned long long v = (unsigned long long)(r < 0 ? -r : r);
		char dig[24];
		int nd = 0, k;

		p = tmp;
		if (r < 0)
			*p++ = '-';
		do
			dig[nd++] = (char)('0' + v % 10);
		while ((v /= 10) > 0);
		while (nd <= dec)
			dig[nd++] = '0';
		for (k = nd - 1; k >= 0; k--) {
			*p++ = dig[k];
			if (k == dec && dec > 0)
				*p++ = '.';
		}
		*p = '\0';
	} else
		snprintf(tmp, sizeof tmp, "%.*f", dec, x);
	if (strcmp(tmp, "-0") == 0 || strncmp(tmp, "-0.", 3) == 0) {
		for (p = tmp + 1; *p == '0' || *p == '.'; p++)
			;
		if (*p == '\0')
			memmove(tmp, tmp + 1, strlen(tmp));
	}
	dot = strchr(tmp, '.');
	if (dot != NULL && !fixed) {
		p = tmp + strlen(tmp);
		while (p > dot + 1 && p[-1] == '0')
			*--p = '\0';
		if (p == dot + 1)
			*dot = '\0';
		dot = strchr(tmp, '.');
	}
	start = tmp[0] == '-' ? 1 : 0;
	ilen = (dot != NULL ? (size_t)(dot - tmp) : strlen(tmp)) - start;
	if (start && nudge_buf_putc(b, '-') == -1)
		return -1;
	for (i = 0; i < ilen; i++) {
		if (i > 0 && (ilen - i) % 3 == 0 && nudge_buf_putc(b, ',') == -1)
			return -1;
		if (nudge_buf_putc(b, tmp[start + i]) == -1)
			return -1;
	}
	return dot != NULL ? nudge_buf_puts(b, dot) : 0;
}

/* Currencies with a sign of their own, and those with no minor unit. */
static const char *
cur_sign(const char *c)
{
	static const char *const t[] = { "USD", "$", "EUR", "\xe2\x82\xac",
		"GBP", "\xc2\xa3", "ILS", "\xe2\x82\xaa", "JPY", "\xc2\xa5",
		"INR", "\xe2\x82\xb9" };
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i += 2)
		if (strcmp(c, t[i]) == 0)
			return t[i + 1];
	return NULL;
}

static int
money_put(nudge_buf *b, double x, const char *cur)
{
	const char *sign = cur[0] != '\0' ? cur_sign(cur) : NULL;
	int dec = strcmp(cur, "JPY") == 0 || strcmp(cur, "KRW") == 0 ? 0 : 2;

	if (x < 0 && (sign != NULL || cur[0] != '\0')) {
		if (nudge_buf_putc(b, '-') == -1)
			return -1;
		x = -x;
	}
	if (sign != NULL) {
		if (nudge_buf_puts(b, sign) == -1)
			return -1;
	} else if (cur[0] != '\0' && (nudge_buf_puts(b, cur) == -1 ||
	    nudge_buf_putc(b, ' ') == -1))
		return -1;
	return num_put(b, x, dec, 1);
}

/* Appends the day of t in zone tz (NULL: UTC) as "2 December 2026",
 * keeping the day in L.  nudge_tz_local takes the process's one TZ in
 * turns: see nudge_tpl_threadsafe. */
static int
date_put(nudge_buf *b, int64_t t, const char *tz, struct loops *L)
{
	static const char *const month[] = { "January", "February", "March",
		"April", "May", "June", "July", "August", "September",
		"October", "November", "December" };
	struct tm tm;

	if (tz == NULL)
		tz = "UTC";
	if (strcmp(L->dzone, tz) == 0 && t >= L->dfrom && t < L->dto)
		return nudge_buf_puts(b, L->dtext);
	if (nudge_tz_local(t, tz, &tm) == -1)
		return -2;
	snprintf(L->dtext, sizeof L->dtext, "%d %s %d", tm.tm_mday,
	    month[tm.tm_mon], tm.tm_year + 1900);
	snprintf(L->dzone, sizeof L->dzone, "%s", tz);
	if (strlen(tz) >= sizeof L->dzone)
		L->dzone[0] = '\0';
	/* the rest of the day, but for an hour a DST change may take */
	L->dfrom = t - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
	L->dto = L->dfrom + 23 * 3600;
	return nudge_buf_puts(b, L->dtext);
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

/* A rendering in progress. */
struct rctx {
	const nudge_tpl_env *env;
	nudge_tpl_out *out;
	struct loops *L;
	int depth;              /* loops running */
	const char *seg_name[MAXDEPTH]; /* their paths */
	int oom;
	nudge_err *err;
};

/* The value of name: a member of the loop items, innermost first ("this"
 * is the innermost item itself), then the contact's field. */
static const char *
resolve(struct rctx *r, const char *name, nudge_buf *b, size_t *n)
{
	int d;

	for (d = r->depth - 1; d >= 0; d--) {
		const struct frame *f = &r->L->f[d];
		const char *v;
		size_t vn;

		if (d == r->depth - 1 && strcmp(name, "this") == 0)
			return jtext(f->item, f->itemn, b, n, &r->oom);
		if (jget(f->item, f->itemn, name, &v, &vn))
			return jtext(v, vn, b, n, &r->oom);
	}
	return r->env->lookup(r->env->ctx, name, n);
}

/* Sets cur to the ISO 4217 code v[0..n) in upper case; 0 when it is
 * not one. */
static int
cur_code(const char *v, size_t n, char cur[4])
{
	size_t i;

	if (v == NULL || n != 3)
		return 0;
	for (i = 0; i < 3; i++) {
		char c = v[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (c < 'A' || c > 'Z')
			return 0;
		cur[i] = c;
	}
	cur[3] = '\0';
	return 1;
}

/* The name of the "currency" member beside name (a.b.total: a.b.currency)
 * into sib, cut to fit.  Copied, not snprintf'd: it runs for every
 * :money of every message. */
static void
sibling(char *sib, size_t sz, const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t n = dot != NULL ? (size_t)(dot + 1 - name) : 0;

	if (n > sz - sizeof "currency")
		n = sz - sizeof "currency";
	memcpy(sib, name, n);
	memcpy(sib + n, "currency", sizeof "currency");
}

/* The currency for :money of field name: the "currency" beside it (the
 * loop item's, the event's, attrs.currency); inside a loop, the one
 * beside the list (an item of latest.purchase.items is in
 * latest.purchase.currency); else the environment's. */
static void
currency_of(struct rctx *r, const char *name, char cur[4])
{
	char sib[256];
	const char *v;
	size_t n = 0;
	int d;

	cur[0] = '\0';
	sibling(sib, sizeof sib, name);
	v = resolve(r, sib, &r->out->scratch2, &n);
	if (cur_code(v, n, cur))
		return;
	for (d = r->depth - 1; d >= 0; d--) {
		int keep = r->depth;

		sibling(sib, sizeof sib, r->seg_name[d]);
		r->depth = d;   /* the list's own scope */
		v = resolve(r, sib, &r->out->scratch2, &n);
		r->depth = keep;
		if (cur_code(v, n, cur))
			return;
	}
	v = r->env->currency;
	(void)cur_code(v, v != NULL ? strlen(v) : 0, cur);
}

/* Applies the filters of g to v[0..n) in out->scratch. */
static int
apply(struct rctx *r, const struct seg *g, const char *v, size_t n)
{
	nudge_buf *b = &r->out->scratch;
	size_t k;
	char q[80];

	nudge_buf_reset(b);
	if (nudge_buf_add(b, v, n) == -1)
		return EX_OSERR;
	for (k = 0; k < g->nfilt; k++) {
		int f = g->filt[k], rc;
		double x;
		int64_t t;

		switch (f) {
		case F_UPPER:
		case F_LOWER:
		case F_TITLE:
			case_filter(f, b);
			continue;
		case F_NUMBER:
		case F_MONEY:
			if (num_parse(b->s, b->len, &x) == -1)
				return nudge_errf(r->err, EX_DATAERR, "field "
				    "\"%s\" is not a number: \"%s\"", g->name,
				    nudge_quote(q, sizeof q, b->s, b->len));
			nudge_buf_reset(b);
			if (f == F_NUMBER)
				rc = num_put(b, x, 2, 0);
			else {
				char cur[4];

				currency_of(r, g->name, cur);
				if (r->oom)
					return EX_OSERR;
				rc = money_put(b, x, cur);
			}
			if (rc == -1)
				return EX_OSERR;
			continue;
		case F_DATE: {
			char tz[64];
			const char *z;
			size_t zn = 0;

			if (num_parse(b->s, b->len, &x) == 0 && x == (double)
			    (int64_t)x)
				t = (int64_t)x;
			else if (nudge_time_parse(b->s, &t) != 0)
				return nudge_errf(r->err, EX_DATAERR, "field "
				    "\"%s\" is not a time: \"%s\"", g->name,
				    nudge_quote(q, sizeof q, b->s, b->len));
			z = r->env->lookup(r->env->ctx, "attrs.tz", &zn);
			if (z != NULL && zn > 0 && zn < sizeof tz) {
				memcpy(tz, z, zn);
				tz[zn] = '\0';
				z = tz;
			} else
				z = r->env->tz;
			if (r->L == NULL && (r->L = r->out->loops =
			    calloc(1, sizeof *r->L)) == NULL)
				return EX_OSERR;
			nudge_buf_reset(b);
			if ((rc = date_put(b, t, z, r->L)) == -1)
				return EX_OSERR;
			if (rc == -2)
				return nudge_errf(r->err, EX_DATAERR, "field "
				    "\"%s\": a time out of range", g->name);
			continue;
		}
		}
	}
	return 0;
}

static int
field(struct rctx *r, const nudge_tpl *t, const struct seg *g, nudge_buf *b)
{
	const char *v;
	size_t n = 0;
	int rc;

	v = resolve(r, g->name, &r->out->scratch2, &n);
	if (r->oom)
		return EX_OSERR;
	if (v == NULL || is_blank(v, n)) {
		if (g->has_def) {
			v = g->s;
			n = g->n;
		} else if (t->missing_empty)
			return 0;
		else
			return nudge_errf(r->err, EX_DATAERR, "no value for "
			    "field \"%s\" and no default", g->name);
	} else if (g->nfilt > 0) {
		if ((rc = apply(r, g, v, n)) != 0)
			return rc == EX_OSERR ? nudge_errf(r->err, EX_OSERR,
			    "%s", strerror(ENOMEM)) : rc;
		v = r->out->scratch.s;
		n = r->out->scratch.len;
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

			return nudge_errf(r->err, EX_DATAERR, "field \"%s\" is "
			    "not an http, https or mailto URL: \"%s\"", g->name,
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
	return rc == -1 ? nudge_errf(r->err, EX_OSERR, "%s", strerror(ENOMEM))
	    : 0;
}

/* The end of a loop's body at segment i (its else or its end): the next
 * item's first segment, or past the block when the items are done. */
static size_t
loop_next(struct rctx *r, const nudge_tpl *t, size_t i)
{
	struct frame *f = &r->L->f[r->depth - 1];

	if (jnext(f->arr.s, f->arr.len, &f->pos, &f->item, &f->itemn))
		return f->start + 1;
	r->depth--;
	return (t->seg[i].kind == K_ELSE ? t->seg[i].jump : i) + 1;
}

/* Starts the #each at segment i: the next segment to render. */
static int
loop_start(struct rctx *r, const nudge_tpl *t, size_t i, size_t *next)
{
	const struct seg *g = &t->seg[i];
	struct frame *f;
	const char *v, *s;
	size_t n = 0;

	*next = g->jump + 1;    /* nothing to loop over: else, or past */
	v = resolve(r, g->name, &r->out->scratch2, &n);
	if (r->oom)
		return nudge_errf(r->err, EX_OSERR, "%s", strerror(ENOMEM));
	if (v == NULL)
		return 0;
	s = nudge_json_skip_ws(v, v + n);
	if (s == v + n)
		return 0;
	if (*s != '[')
		return nudge_errf(r->err, EX_DATAERR, "%s:%d:%d: field \"%s\" "
		    "is not a list", g->file, g->line, g->col, g->name);
	if (r->L == NULL) {
		if ((r->L = r->out->loops = calloc(1, sizeof *r->L)) == NULL)
			return nudge_errf(r->err, EX_OSERR, "%s",
			    strerror(ENOMEM));
	}
	f = &r->L->f[r->depth];
	nudge_buf_reset(&f->arr);
	if (nudge_buf_add(&f->arr, s, (size_t)(v + n - s)) == -1)
		return nudge_errf(r->err, EX_OSERR, "%s", strerror(ENOMEM));
	f->pos = 1;
	f->start = i;
	r->seg_name[r->depth] = g->name;
	if (!jnext(f->arr.s, f->arr.len, &f->pos, &f->item, &f->itemn))
		return 0;
	r->depth++;
	*next = i + 1;
	return 0;
}

static int
render_part(struct rctx *r, const nudge_tpl *t, size_t i, size_t last,
    nudge_buf *b)
{
	int rc, truth;

	r->depth = 0;
	while (i < last) {
		const struct seg *g = &t->seg[i];
		const struct seg *o;

		switch (g->kind) {
		case K_LIT:
			if (nudge_buf_add(b, g->s, g->n) == -1)
				return nudge_errf(r->err, EX_OSERR, "%s",
				    strerror(ENOMEM));
			i++;
			break;
		case K_FIELD:
			if ((rc = field(r, t, g, b)) != 0)
				return rc;
			i++;
			break;
		case K_IF:
			if (r->env->cond == NULL)
				return nudge_errf(r->err, EX_DATAERR, "%s:%d:%d: "
				    "{{#if}} cannot be evaluated here",
				    g->file, g->line, g->col);
			truth = 0;
			if ((rc = r->env->cond(r->env->ctx, t->cond_base +
			    g->cond, &truth, r->err)) != 0)
				return rc;
			i = truth ? i + 1 : g->jump + 1;
			break;
		case K_EACH:
			if ((rc = loop_start(r, t, i, &i)) != 0)
				return rc;
			break;
		case K_ELSE:
			o = &t->seg[t->seg[g->jump].jump];
			i = o->kind == K_IF ? g->jump + 1 : loop_next(r, t, i);
			break;
		default: /* K_END */
			o = &t->seg[g->jump];
			i = o->kind == K_EACH && o->jump == i ?
			    loop_next(r, t, i) : i + 1;
		}
	}
	return 0;
}

/* Puts dir="rtl" on the <html> tag of an HTML part (else its <body>),
 * or wraps the part in a <div dir="rtl">, unless the tag has a dir. */
static int
add_rtl(nudge_buf *b)
{
	static const char *const tags[] = { "<html", "<body" };
	nudge_buf w = {0};
	size_t k, i;

	for (k = 0; k < 2; k++) {
		size_t tl = strlen(tags[k]);

		for (i = 0; i + tl < b->len; i++) {
			char c = b->s[i + tl];
			const char *gt;

			if (strncasecmp(b->s + i, tags[k], tl) != 0 ||
			    (c != ' ' && c != '>' && c != '\n' && c != '\t'))
				continue;
			gt = memchr(b->s + i, '>', b->len - i);
			if (gt != NULL) {
				size_t j;

				for (j = i; b->s + j + 4 <= gt; j++)
					if (strncasecmp(b->s + j, " dir=", 5) ==
					    0)
						return 0;
			}
			if (nudge_buf_add(&w, b->s, i + tl) == -1 ||
			    nudge_buf_puts(&w, " dir=\"rtl\"") == -1 ||
			    nudge_buf_add(&w, b->s + i + tl,
			    b->len - i - tl) == -1)
				goto oom;
			goto done;
		}
	}
	if (nudge_buf_puts(&w, "<div dir=\"rtl\">") == -1 ||
	    nudge_buf_add(&w, b->s, b->len) == -1 ||
	    nudge_buf_puts(&w, "</div>") == -1)
		goto oom;
done:
	nudge_buf_free(b);
	*b = w;
	return 0;
oom:
	nudge_buf_free(&w);
	return -1;
}

/* The variant for the contact's attrs.lang: the same tag, else the same
 * language (he-IL finds he); t itself when none. */
static const struct variant *
pick(const nudge_tpl *t, const nudge_tpl_env *env)
{
	const char *v;
	size_t n = 0, i, pl;

	if (t->nvar == 0 || (v = env->lookup(env->ctx, "attrs.lang", &n)) ==
	    NULL)
		return NULL;
	for (i = 0; i < t->nvar; i++)
		if (strlen(t->var[i].lang) == n &&
		    strncasecmp(t->var[i].lang, v, n) == 0)
			return &t->var[i];
	for (pl = 0; pl < n && v[pl] != '-' && v[pl] != '_'; pl++)
		;
	for (i = 0; i < t->nvar; i++)
		if (strlen(t->var[i].lang) == pl &&
		    strncasecmp(t->var[i].lang, v, pl) == 0)
			return &t->var[i];
	return NULL;
}

int
nudge_tpl_render_env(const nudge_tpl *t, const nudge_tpl_env *env,
    nudge_tpl_out *out, nudge_err *err)
{
	const struct variant *var = pick(t, env);
	struct rctx r;
	size_t k;
	int rc;

	if (var != NULL)
		t = var->t;
	memset(&r, 0, sizeof r);
	r.env = env;
	r.out = out;
	r.L = out->loops;
	r.err = err;
	for (k = 0; k < NUDGE_TPL_NPARTS; k++) {
		nudge_buf *b = &out->part[k];

		nudge_buf_reset(b);
		if (!(t->parts & (1u << k)))
			continue;
		if ((rc = render_part(&r, t, t->first[k], t->last[k], b)) != 0)
			return rc;
		if (k < NUDGE_TPL_TEXT)
			header_fit(b, strlen(header_names[k]));
	}
	if (var != NULL && var->rtl && (t->parts & (1u << NUDGE_TPL_HTML)) &&
	    add_rtl(&out->part[NUDGE_TPL_HTML]) == -1)
		return nudge_errf(err, EX_OSERR, "%s", strerror(ENOMEM));
	return 0;
}

int
nudge_tpl_render(const nudge_tpl *t, nudge_tpl_lookup lookup, void *ctx,
    nudge_tpl_out *out, nudge_err *err)
{
	nudge_tpl_env env;

	memset(&env, 0, sizeof env);
	env.lookup = lookup;
	env.ctx = ctx;
	return nudge_tpl_render_env(t, &env, out, err);
}
