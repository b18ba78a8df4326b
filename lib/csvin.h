/* csvin: streaming CSV over libcsv, one record at a time in constant
 * memory, with the physical line each record starts on, a UTF-8 BOM
 * skipped, UTF-16 (with a BOM) transcoded, the separator (comma,
 * semicolon, tab) sniffed, CRLF or LF line ends, quoted newlines, and
 * each field checked for valid UTF-8. */
#ifndef NUDGE_CSVIN_H
#define NUDGE_CSVIN_H

#include <stdio.h>

#include "util.h"

/* The longest field accepted; a longer one stops the read (EX_DATAERR),
 * so that a runaway quote cannot take the machine's memory. */
#define NUDGE_CSV_MAX_FIELD (1u << 20)

typedef struct nudge_csv_rec {
	size_t n;        /* number of fields */
	char **f;        /* the fields, each NUL-terminated */
	size_t *len;     /* their lengths (a field may hold a NUL: then
			    bad_utf8 names it) */
	long line;       /* physical line the record starts on, 1-based */
	size_t bad_utf8; /* 1 + index of the first field that is not valid
			    UTF-8, or 0 */
} nudge_csv_rec;

typedef struct nudge_csv nudge_csv;

/* Reads from fp (not closed by nudge_csv_close); name is for messages. */
int nudge_csv_open(nudge_csv **out, FILE *fp, const char *name,
    nudge_err *err);
/* Sets the field separator (',', ';' or '\t'); without a call it is
 * sniffed from the first line: the one of the three most used outside
 * quotes, comma on a tie. */
void nudge_csv_set_delimiter(nudge_csv *c, int delim);
/* The separator in use (set, or sniffed once a record was read). */
int nudge_csv_delimiter(const nudge_csv *c);
/* "UTF-8", or "UTF-16LE"/"UTF-16BE" when the file began with that BOM
 * (it is then transcoded to UTF-8 as it is read). */
const char *nudge_csv_encoding(const nudge_csv *c);
/* Returns 1 with the next record in *rec (valid until the next call), 0 at
 * the end of input, or EX_IOERR / EX_DATAERR ("name:line: why") /
 * EX_OSERR. */
int nudge_csv_next(nudge_csv *c, const nudge_csv_rec **rec, nudge_err *err);
void nudge_csv_close(nudge_csv *c);

/* Writes one CSV record to fp, quoting fields that need it (RFC 4180).
 * Returns 0, or -1 on a write error. */
int nudge_csv_write(FILE *fp, const char *const *f, const size_t *len,
    size_t n);

/* Writes the two leading fields a and b, then rec's fields, as one CSV
 * record: the form of a rejects file ("line,reason,..." for the header,
 * then each rejected row with its line number and reason).  Returns 0, or
 * -1 on a write error. */
int nudge_csv_write_rejected(FILE *fp, const char *a, const char *b,
    const nudge_csv_rec *rec);

#endif
