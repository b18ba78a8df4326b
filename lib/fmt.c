/* fmt: rows to a stream as ids, TSV, CSV, JSON lines or an aligned table. */
#include "fmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* A table cell: where its display text sits in the writer's arena. */
struct cell {
	size_t off, len, width;
	int num;
};

struct nudge_fmt {
	FILE *fp;
	enum nudge_fmt_kind kind;
	size_t ncols;
	char **cols;
	nudge_buf line;        /* the row being built */
	nudge_buf tmp;
	nudge_buf arena;       /* table: every cell's text */
	struct cell *cells;    /* table: nrows * ncols cells, header first */
	size_t ncells, cap;
	int ioerr;
};

int
nudge_fmt_kind_parse(const char *name, enum nudge_fmt_kind *kind)
{
	static const char *const names[] = { "ids", "tsv", "csv", "json",
	    "table" };
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0) {
			*kind = (enum nudge_fmt_kind)i;
			return 0;
		}
	return -1;
}

/* Decodes one UTF-8 character at s (n > 0 bytes left); sets *len.
 * Returns the code point, or -1 for an invalid byte (length 1). */
static long
utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	long cp;
	size_t need, i;

	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 2, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 3, cp = s[0] & 0x07;
	else
		goto bad;
	if (need >= n)
		goto bad;
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	*len = need + 1;
	return cp;
bad:
	*len = 1;
	return -1;
}

/* Zero-width: combining marks of the scripts nudge's users write (Latin
 * accents, Hebrew points and cantillation, Arabic harakat), joiners and
 * direction marks, variation selectors. */
static int
zero_width(long c)
{
	return (c >= 0x0300 && c <= 0x036f) ||
	    (c >= 0x0483 && c <= 0x0489) ||
	    (c >= 0x0591 && c <= 0x05bd) || c == 0x05bf ||
	    c == 0x05c1 || c == 0x05c2 || c == 0x05c4 || c == 0x05c5 ||
	    c == 0x05c7 ||
	    (c >= 0x0610 && c <= 0x061a) || (c >= 0x064b && c <= 0x065f) ||
	    c == 0x0670 || (c >= 0x06d6 && c <= 0x06dc) ||
	    (c >= 0x06df && c <= 0x06e4) ||
	    (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2060 && c <= 0x2064) || (c >= 0x20d0 && c <= 0x20ff) ||
	    (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0xfe20 && c <= 0xfe2f) ||
	    c == 0xfeff;
}

/* Wide: the East Asian Wide and Fullwidth blocks and emoji. */
static int
double_width(long c)
{
	return (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
	    (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	    (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) ||
	    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	    (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd);
}

size_t
nudge_fmt_width(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0, len;
	long c;

	while (n > 0) {
		c = utf8_next(p, n, &len);
		if (c < 0 || !zero_width(c))
			w += c >= 0 && double_width(c) ? 2 : 1;
		p += len;
		n -= len;
	}
	return w;
}

/* Appends s with control characters written as \t \n \r or \xNN, and a
 * backslash doubled when esc_bs is set (TSV, where \ starts an escape). */
static int
add_escaped(nudge_buf *b, const char *s, size_t n, int esc_bs)
{
	size_t i, start;
	char tmp[8];

	for (i = start = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != 0x7f && (c != '\\' || !esc_bs))
			continue;
		if (nudge_buf_add(b, s + start, i - start) == -1)
			return -1;
		start = i + 1;
		if (c == '\t')
			strcpy(tmp, "\\t");
		else if (c == '\n')
			strcpy(tmp, "\\n");
		else if (c == '\r')
			strcpy(tmp, "\\r");
		else if (c == '\\')
			strcpy(tmp, "\\\\");
		else
			snprintf(tmp, sizeof tmp, "\\x%02x", c);
		if (nudge_buf_puts(b, tmp) == -1)
			return -1;
	}
	return nudge_buf_add(b, s + start, n - start);
}

/* Characters that make a spreadsheet take a cell for a formula (OWASP's
 * CSV injection list), and the marks nudge_fmt_csv_unmark takes off. */
#define FORMULA_START "=+-@\t\r"
#define MARKED_START  "=+-@\t\r'"

/* A plain decimal number ("-5", "+972521234567", "3.25", "-1e-05"): a
 * spreadsheet reads it as a number and runs nothing. */
static int
plain_number(const char *s, size_t n)
{
	size_t i = 0, d = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		d++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
	if (d > 0 && i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
	}
	return d > 0 && i == n;
}

/* Whether s gets the leading ': a formula cell, or a cell that starts
 * with the mark already (so that reading takes off exactly what writing
 * put on, and "'=x" comes back as "'=x"). */
static int
needs_mark(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (s[0] == '\'')
		return n > 1 && memchr(MARKED_START, s[1],
		    sizeof MARKED_START - 1) != NULL;
	return memchr(FORMULA_START, s[0], sizeof FORMULA_START - 1) !=
	    NULL && !plain_number(s, n);
}

size_t
nudge_fmt_csv_unmark(const char *s, size_t n)
{
	return n > 1 && s[0] == '\'' && memchr(MARKED_START, s[1],
	    sizeof MARKED_START - 1) != NULL ? 1 : 0;
}

int
nudge_fmt_csv_field(nudge_buf *b, const char *s, size_t n)
{
	int mark;
	size_t i;

	if (n == 0)
		return 0;
	mark = needs_mark(s, n);
	/* quoted: the separators, and blanks or a BOM at an end, which a
	 * reader would strip (at the start of a file the BOM would be
	 * taken for the file's) */
	if (memchr(s, ',', n) == NULL && memchr(s, '"', n) == NULL &&
	    memchr(s, '\r', n) == NULL && memchr(s, '\n', n) == NULL &&
	    s[0] != ' ' && s[n - 1] != ' ' &&
	    (n < 3 || memcmp(s, "\xef\xbb\xbf", 3) != 0))
		return (mark ? nudge_buf_putc(b, '\'') : 0) |
		    nudge_buf_add(b, s, n);
	if (nudge_buf_putc(b, '"') == -1 ||
	    (mark && nudge_buf_putc(b, '\'') == -1))
		return -1;
	for (i = 0; i < n; i++)
		if ((s[i] == '"' && nudge_buf_putc(b, '"') == -1) ||
		    nudge_buf_putc(b, s[i]) == -1)
			return -1;
	return nudge_buf_putc(b, '"');
}

static int
flush_line(nudge_fmt *f)
{
	if (f->line.len > 0 &&
	    fwrite(f->line.s, 1, f->line.len, f->fp) != f->line.len)
		f->ioerr = 1;
	nudge_buf_reset(&f->line);
	return 0;
}

/* Stores one table cell's display text. */
static int
add_cell(nudge_fmt *f, const char *s, size_t n, int num)
{
	struct cell *c;
	size_t off = f->arena.len;

	if (f->ncells == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct cell *p = realloc(f->cells, cap * sizeof *p);
		if (p == NULL)
			return -1;
		f->cells = p;
		f->cap = cap;
	}
	if (add_escaped(&f->arena, s, n, 0) == -1)
		return -1;
	c = &f->cells[f->ncells++];
	c->off = off;
	c->len = f->arena.len - off;
	c->width = nudge_fmt_width(f->arena.s ? f->arena.s + off : "",
	    c->len);
	c->num = num;
	return 0;
}

int
nudge_fmt_open(nudge_fmt **out, FILE *fp, enum nudge_fmt_kind kind,
    const char *const *cols, size_t ncols, nudge_err *err)
{
	nudge_fmt *f;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (ncols == 0)
		return nudge_errf(err, EX_SOFTWARE, "fmt: no columns");
	if ((f = calloc(1, sizeof *f)) == NULL ||
	    (f->cols = calloc(ncols, sizeof *f->cols)) == NULL) {
		free(f);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	f->fp = fp;
	f->kind = kind;
	f->ncols = ncols;
	for (i = 0; i < ncols; i++)
		if ((f->cols[i] = strdup(cols[i])) == NULL)
			rc = -1;
	if (rc == 0 && kind == NUDGE_FMT_CSV) {
		for (i = 0; i < ncols && rc == 0; i++)
			rc = (i > 0 ? nudge_buf_putc(&f->line, ',') : 0) |
			    nudge_fmt_csv_field(&f->line, cols[i],
			    strlen(cols[i]));
		if (rc == 0)
			rc = nudge_buf_puts(&f->line, "\r\n");
		flush_line(f);
	} else if (rc == 0 && kind == NUDGE_FMT_TABLE) {
		for (i = 0; i < ncols && rc == 0; i++)
			rc = add_cell(f, cols[i], strlen(cols[i]), 0);
	}
	if (rc != 0) {
		f->kind = NUDGE_FMT_IDS; /* nothing left to write */
		nudge_fmt_close(f, NULL);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	*out = f;
	return 0;
}

int
nudge_fmt_row(nudge_fmt *f, const nudge_fmt_val *v, nudge_err *err)
{
	size_t i;
	int rc = 0;

	switch (f->kind) {
	case NUDGE_FMT_IDS:
		rc = nudge_buf_add(&f->line, v[0].s ? v[0].s : "", v[0].n) |
		    nudge_buf_putc(&f->line, '\n');
		break;
	case NUDGE_FMT_TSV:
	case NUDGE_FMT_CSV: {
		const int tsv = f->kind == NUDGE_FMT_TSV;

		for (i = 0; i < f->ncols && rc == 0; i++) {
			if (i > 0)
				rc = nudge_buf_putc(&f->line, tsv ? '\t' : ',');
			if (rc == 0 && v[i].s != NULL)
				rc = tsv ? add_escaped(&f->line, v[i].s, v[i].n,
				    1) : nudge_fmt_csv_field(&f->line, v[i].s,
				    v[i].n);
		}
		rc = rc | nudge_buf_puts(&f->line, tsv ? "\n" : "\r\n");
		break;
	}
	case NUDGE_FMT_JSON:
		rc = nudge_buf_putc(&f->line, '{');
		for (i = 0; i < f->ncols && rc == 0; i++) {
			if (i > 0)
				rc = nudge_buf_putc(&f->line, ',');
			rc = rc | nudge_buf_json_str(&f->line, f->cols[i],
			    strlen(f->cols[i])) | nudge_buf_putc(&f->line, ':');
			if (rc != 0)
				break;
			if (v[i].type == NUDGE_FMT_NULL || v[i].s == NULL)
				rc = nudge_buf_puts(&f->line, "null");
			else if (v[i].type == NUDGE_FMT_NUM)
				rc = nudge_buf_add(&f->line, v[i].s, v[i].n);
			else
				rc = nudge_buf_json_str(&f->line, v[i].s,
				    v[i].n);
		}
		rc = rc | nudge_buf_puts(&f->line, "}\n");
		break;
	case NUDGE_FMT_TABLE:
		for (i = 0; i < f->ncols && rc == 0; i++)
			rc = add_cell(f, v[i].s ? v[i].s : "", v[i].n,
			    v[i].type == NUDGE_FMT_NUM);
		return rc ? nudge_errf(err, EX_OSERR, "out of memory") : 0;
	}
	if (rc != 0)
		return nudge_errf(err, EX_OSERR, "out of memory");
	flush_line(f);
	return f->ioerr ? nudge_errf(err, EX_IOERR, "write error") : 0;
}

/* Writes v in decimal into the end of buf; returns where it starts. */
static char *
i64_text(int64_t v, char *end)
{
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	*--end = '\0';
	do
		*--end = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--end = '-';
	return end;
}

int
nudge_fmt_stmt_row(nudge_fmt *f, sqlite3_stmt *s, nudge_err *err)
{
	nudge_fmt_val stackv[16] = { 0 }, *v = stackv;
	char nums[16][24];
	size_t i;
	int rc;

	if (f->ncols > 16 && (v = calloc(f->ncols, sizeof *v)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	for (i = 0; i < f->ncols; i++) {
		int t = sqlite3_column_type(s, (int)i);

		if (t == SQLITE_NULL) {
			v[i].type = NUDGE_FMT_NULL;
			v[i].s = NULL;
			v[i].n = 0;
			continue;
		}
		v[i].type = t == SQLITE_INTEGER || t == SQLITE_FLOAT ?
		    NUDGE_FMT_NUM : NUDGE_FMT_TEXT;
		if (t == SQLITE_INTEGER && i < 16) {
			/* ids are most of the output: no text conversion */
			v[i].s = i64_text(sqlite3_column_int64(s, (int)i),
			    nums[i] + sizeof nums[i]);
			v[i].n = strlen(v[i].s);
			continue;
		}
		v[i].s = (const char *)sqlite3_column_text(s, (int)i);
		v[i].n = (size_t)sqlite3_column_bytes(s, (int)i);
		if (v[i].s == NULL)
			v[i].type = NUDGE_FMT_NULL;
	}
	rc = nudge_fmt_row(f, v, err);
	if (v != stackv)
		free(v);
	return rc;
}

/* Writes the buffered table: widths per column, a rule under the header,
 * two spaces between columns, numbers right-aligned, no trailing blanks. */
static void
write_table(nudge_fmt *f)
{
	size_t *w, r, i, k, nrows = f->ncells / f->ncols;
	nudge_buf b = { 0 };
	int *num, rc = 0;

	w = calloc(f->ncols, sizeof *w);
	num = calloc(f->ncols, sizeof *num);
	if (w == NULL || num == NULL) {
		f->ioerr = 1;
		goto out;
	}
	for (i = 0; i < f->ncols; i++)
		num[i] = nrows > 1;
	for (r = 0; r < nrows; r++)
		for (i = 0; i < f->ncols; i++) {
			struct cell *c = &f->cells[r * f->ncols + i];
			if (c->width > w[i])
				w[i] = c->width;
			if (r > 0 && !c->num && c->len > 0)
				num[i] = 0;
		}
	/* Output line 0 is the header, line 1 the rule, line L the row
	 * L - 1. */
	for (r = 0; r <= nrows && rc == 0; r++) {
		nudge_buf_reset(&b);
		for (i = 0; i < f->ncols && rc == 0; i++) {
			struct cell *c = &f->cells[(r < 2 ? 0 : r - 1) *
			    f->ncols + i];
			size_t pad = w[i] - c->width;

			if (i > 0)
				rc |= nudge_buf_puts(&b, "  ");
			if (r == 1) {
				for (k = 0; k < w[i]; k++)
					rc |= nudge_buf_putc(&b, '-');
				continue;
			}
			for (k = 0; num[i] && k < pad; k++)
				rc |= nudge_buf_putc(&b, ' ');
			rc |= nudge_buf_add(&b, f->arena.s + c->off, c->len);
			for (k = 0; !num[i] && k < pad; k++)
				rc |= nudge_buf_putc(&b, ' ');
		}
		while (b.len > 0 && b.s[b.len - 1] == ' ')
			b.len--;
		rc |= nudge_buf_putc(&b, '\n');
		if (rc == 0 && fwrite(b.s, 1, b.len, f->fp) != b.len)
			rc = -1;
	}
	if (rc != 0)
		f->ioerr = 1;
out:
	nudge_buf_free(&b);
	free(w);
	free(num);
}

int
nudge_fmt_close(nudge_fmt *f, nudge_err *err)
{
	size_t i;
	int ioerr;

	if (f == NULL)
		return 0;
	if (f->kind == NUDGE_FMT_TABLE && f->ncells > 0)
		write_table(f);
	if (fflush(f->fp) == EOF || ferror(f->fp))
		f->ioerr = 1;
	ioerr = f->ioerr;
	for (i = 0; i < f->ncols; i++)
		free(f->cols[i]);
	free(f->cols);
	free(f->cells);
	nudge_buf_free(&f->line);
	nudge_buf_free(&f->tmp);
	nudge_buf_free(&f->arena);
	free(f);
	return ioerr ? nudge_errf(err, EX_IOERR, "write error") : 0;
}

int
nudge_fmt_query(FILE *fp, enum nudge_fmt_kind kind, const char *const *cols,
    size_t ncols, nudge_store *st, sqlite3_stmt *s, const char *what,
    nudge_err *err)
{
	nudge_fmt *f;
	int rc, step;

	if ((rc = nudge_fmt_open(&f, fp, kind, cols, ncols, err)) != 0) {
		sqlite3_finalize(s);
		return rc;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		if ((rc = nudge_fmt_stmt_row(f, s, err)) != 0)
			break;
	if (rc == 0 && step != SQLITE_DONE)
		rc = nudge_store_error(st, err, what);
	sqlite3_finalize(s);
	if (nudge_fmt_close(f, rc == 0 ? err : NULL) != 0 && rc == 0)
		rc = EX_IOERR;
	return rc;
}
