/* fmt: writes rows (contacts, report lines) to a stream as bare ids, TSV,
 * CSV, JSON lines or a table aligned for a terminal. */
#ifndef NUDGE_FMT_H
#define NUDGE_FMT_H

#include <stddef.h>
#include <stdio.h>

#include <sqlite3.h>

#include "util.h"

enum nudge_fmt_kind {
	NUDGE_FMT_IDS,   /* the first column only, one per line */
	NUDGE_FMT_TSV,   /* no header; \t \n \r \\ escaped in values */
	NUDGE_FMT_CSV,   /* nudge_fmt_csv_field: header line, CRLF */
	NUDGE_FMT_JSON,  /* one object per line, keys the column names */
	NUDGE_FMT_TABLE, /* header, rule, aligned columns (buffers rows) */
};

enum nudge_fmt_type {
	NUDGE_FMT_NULL,  /* empty in text formats, null in JSON */
	NUDGE_FMT_NUM,   /* written bare in JSON, right-aligned in a table */
	NUDGE_FMT_TEXT,
};

typedef struct nudge_fmt_val {
	enum nudge_fmt_type type;
	const char *s;   /* need not be NUL-terminated; NULL for NULL */
	size_t n;
} nudge_fmt_val;

typedef struct nudge_fmt nudge_fmt;

/* Sets *kind from a name: ids, tsv, csv, json or table.  Returns 0, or -1
 * for an unknown name. */
int nudge_fmt_kind_parse(const char *name, enum nudge_fmt_kind *kind);

/* Starts a writer of rows of ncols columns (at least 1) named cols (copied)
 * to fp, which stays the caller's.  CSV writes its header here, a table
 * at nudge_fmt_close.  Errors: EX_OSERR (memory), EX_IOERR. */
int nudge_fmt_open(nudge_fmt **out, FILE *fp, enum nudge_fmt_kind kind,
    const char *const *cols, size_t ncols, nudge_err *err);

/*
 * CSV cells, the one writer of every CSV file nudge writes (this module's
 * NUDGE_FMT_CSV, rejects files through nudge_csv_write): appends s[0..n)
 * to b as one field, quoted as RFC 4180 needs.  A cell a spreadsheet
 * would take for a formula (it starts with = + - @, a tab or CR and is
 * not a plain decimal number such as -5 or +972521234567) is written
 * with a ' before it, and so is a cell that starts with ' and one of
 * those or a second ': nudge_fmt_csv_unmark takes exactly that ' off
 * again when nudge reads CSV (nudge(1), CSV FILES).  Returns 0, or -1
 * when out of memory.
 */
int nudge_fmt_csv_field(nudge_buf *b, const char *s, size_t n);

/* The bytes to drop from the start of a CSV field as read: 1 for the '
 * of a marked cell (a ' then = + - @ \t \r or '), else 0. */
size_t nudge_fmt_csv_unmark(const char *s, size_t n);

/* Writes one row of the ncols values.  Returns 0, EX_OSERR or EX_IOERR. */
int nudge_fmt_row(nudge_fmt *f, const nudge_fmt_val *vals, nudge_err *err);

/* Writes the current row of s, whose first ncols result columns are the
 * values (SQLite integers and reals become NUDGE_FMT_NUM). */
int nudge_fmt_stmt_row(nudge_fmt *f, sqlite3_stmt *s, nudge_err *err);

/* Writes what is buffered (a table), flushes fp and frees f (also when f
 * is NULL: then it does nothing).  Returns 0, or EX_IOERR when a write
 * failed at any point. */
int nudge_fmt_close(nudge_fmt *f, nudge_err *err);

struct nudge_store;
/* Writes every row of s (prepared on st and bound; finalized here) to fp
 * as nudge_fmt_open would with kind and cols.  Returns 0, or a store
 * error about what, EX_OSERR or EX_IOERR. */
int nudge_fmt_query(FILE *fp, enum nudge_fmt_kind kind,
    const char *const *cols, size_t ncols, struct nudge_store *st,
    sqlite3_stmt *s, const char *what, nudge_err *err);

/* The number of terminal columns s[0..n) takes: UTF-8 decoded, combining
 * marks (Hebrew points, accents) 0, East Asian wide characters 2, others
 * 1; an invalid byte counts 1. */
size_t nudge_fmt_width(const char *s, size_t n);

#endif
