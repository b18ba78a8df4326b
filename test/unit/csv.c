/* csv: the one CSV writer (fmt.c) and its reader (csvin.c): formula cells
 * written with a leading ', every value read back as it was written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvin.h"
#include "fmt.h"
#include "tap.h"

/* One field as the writer writes it. */
static char *
field(const char *s)
{
	static char out[256];
	nudge_buf b = { 0 };

	nudge_fmt_csv_field(&b, s, strlen(s));
	snprintf(out, sizeof out, "%.*s", (int)b.len, b.s != NULL ? b.s : "");
	nudge_buf_free(&b);
	return out;
}

int
main(void)
{
	static const char *const vals[] = {
		"=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0",
		"-2+3", "@SUM(1)", "\tx", "\rx", "'=already", "''", "'",
		"'a", "O'Neill", "-5", "+972521234567", "3.25", "-1e-05",
		"-", "+", "-.", "=", "plain", " lead", "a,b", "q\"q",
		"two\nlines", "\xef\xbb\xbf" "bom", "'-5", "'\t", "",
	};
	size_t n = sizeof vals / sizeof vals[0], i;
	const nudge_csv_rec *rec;
	nudge_csv *c = NULL;
	nudge_err err;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	is_str(field("=1+1"), "'=1+1", "= gets the mark");
	is_str(field("+cmd"), "'+cmd", "+ gets the mark");
	is_str(field("-2+3"), "'-2+3", "- before a formula gets the mark");
	is_str(field("@SUM(1)"), "'@SUM(1)", "@ gets the mark");
	is_str(field("\tx"), "'\tx", "a leading tab gets the mark");
	is_str(field("\rx"), "\"'\rx\"", "a leading CR: the mark, quoted");
	is_str(field("=a,b"), "\"'=a,b\"", "the mark goes inside the quotes");
	is_str(field("-5"), "-5", "a negative number is written as is");
	is_str(field("+972521234567"), "+972521234567",
	    "an E.164 phone is written as is");
	is_str(field("-1e-05"), "-1e-05", "a number with an exponent as is");
	is_str(field("-"), "'-", "a lone - is no number");
	is_str(field("'=x"), "''=x", "a cell that looks marked gets a mark");
	is_str(field("''"), "'''", "two quotes get a third");
	is_str(field("O'Neill"), "O'Neill", "a quote inside: as is");
	is_str(field("'a"), "'a", "a quote before a letter: as is");
	is_str(field("plain"), "plain", "plain text as is");
	is_str(field(" lead"), "\" lead\"", "a leading blank is quoted");
	is_str(field("\xef\xbb\xbf" "x"), "\"\xef\xbb\xbf" "x\"",
	    "a leading BOM is quoted");
	is_int(nudge_fmt_csv_unmark("'=x", 3), 1, "the reader takes the mark");
	is_int(nudge_fmt_csv_unmark("'a", 2), 0, "but not a quote before a "
	    "letter");
	is_int(nudge_fmt_csv_unmark("'", 1), 0, "nor a lone quote");

	/* every value through the rejects writer and back through the
	 * reader: the same bytes */
	fp = open_memstream(&buf, &len);
	ok(nudge_csv_write(fp, vals, NULL, n) == 0, "write a record");
	fclose(fp);
	fp = fmemopen(buf, len, "r");
	ok(nudge_csv_open(&c, fp, "t.csv", &err) == 0, "open it");
	ok(nudge_csv_next(c, &rec, &err) == 1, "read it back");
	is_int(rec->n, n, "as many fields");
	for (i = 0; i < n && i < rec->n; i++) {
		char d[64];

		snprintf(d, sizeof d, "field %zu reads back as written", i);
		if (!is_str(rec->f[i], vals[i], d))
			printf("#   in the file: %s\n", buf);
	}
	nudge_csv_close(c);
	fclose(fp);
	free(buf);
	return done_testing();
}
