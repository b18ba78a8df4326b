/* csvin: streaming CSV records with line numbers, over libcsv. */
#include "csvin.h"

#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

#define BLOCK (64 * 1024)

struct nudge_csv {
	struct csv_parser p;
	FILE *fp;
	char *name;
	char *block;         /* bytes read and not yet fed */
	size_t bpos, blen;
	int eof, first;
	int delim;           /* the field separator; 0 until sniffed */
	const char *enc;     /* "UTF-8" or the UTF-16 the file came in */
	iconv_t cd;          /* UTF-16 to UTF-8, or (iconv_t)-1 */
	char *raw;           /* UTF-16 bytes read and not yet transcoded */
	size_t rawlen;
	long long rawoff;    /* the file offset of raw[0], for messages */
	long line_no;        /* the physical line being fed */
	int in_record;
	long start_line;
	/* the record being built: field bytes, each NUL-terminated, in data */
	nudge_buf data;
	size_t *off, *lens, nf, capf;
	char **ptrs;
	size_t bad;
	int done, oom;
	nudge_csv_rec rec;
};

/* libcsv grows its field buffer with this: refusing past the limit makes
 * csv_parse stop with CSV_ENOMEM, which we report as a too-long field. */
static void *
capped_realloc(void *p, size_t n)
{
	if (n > NUDGE_CSV_MAX_FIELD + 1024)
		return NULL;
	return realloc(p, n);
}

/* Only LF ends a record (so one physical line holds at most one record
 * end), and CR is blank space around a field, which makes CRLF work. */
static int
is_term(unsigned char c)
{
	return c == '\n';
}

static int
is_space(unsigned char c)
{
	return c == '\r';
}

static void
on_field(void *s, size_t len, void *data)
{
	struct nudge_csv *c = data;
	size_t k;

	if (c->oom)
		return;
	if (c->nf == c->capf) {
		size_t cap = c->capf ? c->capf * 2 : 16;
		size_t *o = realloc(c->off, cap * sizeof *o);
		size_t *l;

		if (o == NULL) {
			c->oom = 1;
			return;
		}
		c->off = o;
		if ((l = realloc(c->lens, cap * sizeof *l)) == NULL) {
			c->oom = 1;
			return;
		}
		c->lens = l;
		c->capf = cap;
	}
	/* the ' that nudge's CSV writer put before a formula cell */
	if (s != NULL && (k = nudge_fmt_csv_unmark(s, len)) > 0) {
		s = (char *)s + k;
		len -= k;
	}
	c->off[c->nf] = c->data.len;
	c->lens[c->nf] = len;
	if (nudge_buf_add(&c->data, s, len) == -1 ||
	    nudge_buf_putc(&c->data, '\0') == -1) {
		c->oom = 1;
		return;
	}
	if (c->bad == 0 && !nudge_utf8_valid(s != NULL ? s : "", len))
		c->bad = c->nf + 1;
	c->nf++;
}

static void
on_record(int term, void *data)
{
	struct nudge_csv *c = data;

	(void)term;
	c->done = 1;
}

int
nudge_csv_open(nudge_csv **out, FILE *fp, const char *name, nudge_err *err)
{
	struct nudge_csv *c;

	*out = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (c->block = malloc(BLOCK)) == NULL ||
	    (c->name = strdup(name)) == NULL) {
		if (c != NULL)
			free(c->block);
		free(c);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if (csv_init(&c->p, 0) != 0) {
		free(c->block);
		free(c->name);
		free(c);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	csv_set_realloc_func(&c->p, capped_realloc);
	csv_set_term_func(&c->p, is_term);
	csv_set_space_func(&c->p, is_space);
	c->fp = fp;
	c->first = 1;
	c->line_no = 1;
	c->enc = "UTF-8";
	c->cd = (iconv_t)-1;
	*out = c;
	return 0;
}

void
nudge_csv_set_delimiter(nudge_csv *c, int delim)
{
	c->delim = delim;
	if (delim != 0)
		csv_set_delim(&c->p, (unsigned char)delim);
}

int
nudge_csv_delimiter(const nudge_csv *c)
{
	return c->delim != 0 ? c->delim : ',';
}

const char *
nudge_csv_encoding(const nudge_csv *c)
{
	return c->enc;
}

/* The separator the first line uses most outside quotes: comma,
 * semicolon or tab (comma when none or on a tie, as RFC 4180 says).
 * Looks at the first block only: a header longer than 64 KiB is
 * comma-separated or named with --delimiter. */
static int
sniff(const char *s, size_t n)
{
	size_t i, comma = 0, semi = 0, tab = 0;
	int q = 0;

	for (i = 0; i < n && (q || s[i] != '\n'); i++) {
		if (s[i] == '"')
			q = !q;
		else if (!q && s[i] == ',')
			comma++;
		else if (!q && s[i] == ';')
			semi++;
		else if (!q && s[i] == '\t')
			tab++;
	}
	if (tab > comma && tab >= semi)
		return '\t';
	if (semi > comma)
		return ';';
	return ',';
}

/* Reads the next block of UTF-16 and transcodes it into c->block, *n
 * bytes (0 at the end).  Returns 0, or a code with err set. */
static int
read_utf16(struct nudge_csv *c, size_t *n, nudge_err *err)
{
	size_t got, in_left, out_left;
	char *in, *out;

	/* raw holds BLOCK / 2 bytes: as UTF-8 that is at most 3/2 of it
	 * (3 bytes for 2 of a BMP character, 4 for a surrogate pair's 4),
	 * which fits the block. */
	*n = 0;
	got = fread(c->raw + c->rawlen, 1, BLOCK / 2 - c->rawlen, c->fp);
	if (got == 0 && ferror(c->fp))
		return nudge_errf(err, EX_IOERR, "%s: %s", c->name,
		    strerror(errno));
	c->rawlen += got;
	if (c->rawlen == 0)
		return 0;
	in = c->raw;
	in_left = c->rawlen;
	out = c->block;
	out_left = BLOCK;
	if (iconv(c->cd, &in, &in_left, &out, &out_left) == (size_t)-1 &&
	    (errno != EINVAL || got == 0)) {
		/* EINVAL: a character cut at the block's end, kept for the
		 * next read; at the end of the file it is a broken one. */
		return nudge_errf(err, EX_DATAERR, "%s: byte %lld: not valid "
		    "%s", c->name, c->rawoff + (long long)(in - c->raw),
		    c->enc);
	}
	c->rawoff += (long long)(in - c->raw);
	memmove(c->raw, in, in_left);
	c->rawlen = in_left;
	*n = BLOCK - out_left;
	return 0;
}

/* Fills c->block with the next bytes of UTF-8 (c->blen of them, 0 at the
 * end).  The first time, a UTF-8 BOM is dropped, a UTF-16 BOM switches to
 * transcoding, and the separator is sniffed unless one was set.  Returns
 * 0, or a code with err set. */
static int
fill(struct nudge_csv *c, nudge_err *err)
{
	size_t k = 0;
	int rc;

	c->bpos = 0;
	if (c->first) {
		unsigned char *b = (unsigned char *)c->block;

		c->first = 0;
		k = fread(c->block, 1, 3, c->fp);
		if (k == 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
			k = 0;
		else if (k >= 2 && b[0] == 0xff && b[1] == 0xfe)
			c->enc = "UTF-16LE";
		else if (k >= 2 && b[0] == 0xfe && b[1] == 0xff)
			c->enc = "UTF-16BE";
		if (c->enc[3] != '-' || c->enc[4] != '8') {
			if ((c->cd = iconv_open("UTF-8", c->enc)) ==
			    (iconv_t)-1)
				return nudge_errf(err, EX_OSERR, "%s: cannot "
				    "read %s: %s", c->name, c->enc,
				    strerror(errno));
			if ((c->raw = malloc(BLOCK / 2)) == NULL)
				return nudge_errf(err, EX_OSERR,
				    "out of memory");
			c->rawlen = k - 2;
			memcpy(c->raw, c->block + 2, c->rawlen);
			c->rawoff = 2;
		}
	}
	if (c->cd != (iconv_t)-1) {
		if ((rc = read_utf16(c, &c->blen, err)) != 0)
			return rc;
	} else {
		c->blen = k + fread(c->block + k, 1, BLOCK - k, c->fp);
		if (c->blen == 0 && ferror(c->fp))
			return nudge_errf(err, EX_IOERR, "%s: %s", c->name,
			    strerror(errno));
	}
	if (c->delim == 0 && c->blen > 0)
		nudge_csv_set_delimiter(c, sniff(c->block, c->blen));
	return 0;
}

/* Hands the completed record to the caller: returns 1, or EX_OSERR. */
static int
finish_record(struct nudge_csv *c, const nudge_csv_rec **rec, nudge_err *err)
{
	size_t i;
	char **p;

	c->in_record = 0;
	if (c->nf > 0) {
		if ((p = realloc(c->ptrs, c->nf * sizeof *p)) == NULL)
			return nudge_errf(err, EX_OSERR, "out of memory");
		c->ptrs = p;
	}
	for (i = 0; i < c->nf; i++)
		c->ptrs[i] = c->data.s + c->off[i];
	c->rec.n = c->nf;
	c->rec.f = c->ptrs;
	c->rec.len = c->lens;
	c->rec.line = c->start_line;
	c->rec.bad_utf8 = c->bad;
	*rec = &c->rec;
	return 1;
}

static int
parse_error(struct nudge_csv *c, nudge_err *err)
{
	if (csv_error(&c->p) == CSV_ENOMEM && !c->oom)
		return nudge_errf(err, EX_DATAERR,
		    "%s:%ld: a field is longer than %u bytes (a quote left "
		    "open?)", c->name, c->start_line, NUDGE_CSV_MAX_FIELD);
	if (c->oom || csv_error(&c->p) == CSV_ENOMEM)
		return nudge_errf(err, EX_OSERR, "%s:%ld: out of memory",
		    c->name, c->start_line);
	return nudge_errf(err, EX_DATAERR, "%s:%ld: %s", c->name,
	    c->start_line, csv_strerror(csv_error(&c->p)));
}

int
nudge_csv_next(nudge_csv *c, const nudge_csv_rec **rec, nudge_err *err)
{
	nudge_buf_reset(&c->data);
	c->nf = 0;
	c->bad = 0;
	c->done = 0;
	for (;;) {
		const char *nl;
		size_t seg;

		if (c->bpos == c->blen) {
			int rc;

			if (c->eof)
				break;
			if ((rc = fill(c, err)) != 0)
				return rc;
			if (c->blen == 0) {
				c->eof = 1;
				break;
			}
			continue;
		}
		nl = memchr(c->block + c->bpos, '\n', c->blen - c->bpos);
		seg = nl != NULL ? (size_t)(nl - c->block) + 1 - c->bpos
		    : c->blen - c->bpos;
		if (!c->in_record)
			c->start_line = c->line_no;
		if (csv_parse(&c->p, c->block + c->bpos, seg, on_field,
		    on_record, c) != seg || c->oom)
			return parse_error(c, err);
		c->bpos += seg;
		if (nl != NULL)
			c->line_no++;
		if (c->done)
			return finish_record(c, rec, err);
		/* pstate 0 is libcsv's ROW_NOT_BEGUN: nothing of a record
		 * has been read yet (blank lines leave it there). */
		c->in_record = c->p.pstate != 0 || c->nf > 0;
	}
	/* libcsv reports an open quote at the end only in strict mode, which
	 * would also refuse the sloppy quoting people's files have: pstate 2
	 * is FIELD_BEGUN. */
	if ((c->p.pstate == 2 && c->p.quoted) ||
	    csv_fini(&c->p, on_field, on_record, c) != 0) {
		return nudge_errf(err, EX_DATAERR,
		    "%s:%ld: a quoted field is not closed at the end of the "
		    "file", c->name, c->start_line);
	}
	if (c->oom)
		return nudge_errf(err, EX_OSERR, "out of memory");
	if (c->done)
		return finish_record(c, rec, err);
	return 0;
}

void
nudge_csv_close(nudge_csv *c)
{
	if (c == NULL)
		return;
	csv_free(&c->p);
	if (c->cd != (iconv_t)-1)
		iconv_close(c->cd);
	free(c->raw);
	nudge_buf_free(&c->data);
	free(c->off);
	free(c->lens);
	free(c->ptrs);
	free(c->block);
	free(c->name);
	free(c);
}

int
nudge_csv_write(FILE *fp, const char *const *f, const size_t *len, size_t n)
{
	nudge_buf b = { 0 };
	size_t i;
	int rc = 0;

	/* fmt.c's writer: quoting and formula cells as every CSV nudge
	 * writes them */
	for (i = 0; i < n && rc == 0; i++) {
		const char *s = f[i] != NULL ? f[i] : "";

		rc = (i > 0 ? nudge_buf_putc(&b, ',') : 0) |
		    nudge_fmt_csv_field(&b, s, len != NULL ? len[i] :
		    strlen(s));
	}
	if (rc == 0)
		rc = nudge_buf_putc(&b, '\n');
	if (rc == 0 && fwrite(b.s, 1, b.len, fp) != b.len)
		rc = -1;
	nudge_buf_free(&b);
	return rc;
}

int
nudge_csv_write_rejected(FILE *fp, const char *a, const char *b,
    const nudge_csv_rec *rec)
{
	nudge_buf lead = { 0 };
	int rc;

	rc = nudge_fmt_csv_field(&lead, a, strlen(a)) |
	    nudge_buf_putc(&lead, ',') |
	    nudge_fmt_csv_field(&lead, b, strlen(b));
	if (rc == 0 && rec->n > 0)
		rc = nudge_buf_putc(&lead, ',');
	if (rc == 0 && fwrite(lead.s, 1, lead.len, fp) != lead.len)
		rc = -1;
	nudge_buf_free(&lead);
	return rc == 0 ? nudge_csv_write(fp, (const char *const *)rec->f,
	    rec->len, rec->n) : -1;
}
