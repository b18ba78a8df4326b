/* listimport: importing contacts from CSV into the store (import-list):
 * header mapping, validation, upsert by email or phone, list memberships,
 * all in one transaction. */
#ifndef NUDGE_LISTIMPORT_H
#define NUDGE_LISTIMPORT_H

#include <stdio.h>

#include "csvin.h"
#include "store.h"
#include "util.h"

/* What a row does to a contact the store has (--update). */
enum nudge_update {
	NUDGE_UPDATE_ALL,    /* its non-blank cells replace the store's
				values; attrs are merged, the row's winning */
	NUDGE_UPDATE_BLANKS, /* it fills only what the store lacks: empty
				fields and attrs keys it does not have */
	NUDGE_UPDATE_NONE,   /* it changes no field (lists and consent
				still apply) */
};

typedef struct nudge_import_opts {
	const char *name;           /* the input's name in messages */
	int key_phone;              /* upsert by phone instead of email */
	const char *const *lists;   /* --list: every row joins these */
	size_t nlists;
	const char *const *maps;    /* --map COLUMN=FIELD */
	size_t nmaps;
	int replace_lists;          /* a row's lists become its only ones */
	int dry_run;                /* validate and count, then roll back */
	enum nudge_update update;   /* --update */
	const char *country;        /* default_country for phones, or NULL */
	int delimiter;              /* ',', ';', '\t', or 0 to sniff it */
	const char *format;         /* --format: a name nudge_import_format
				       gives, or NULL to recognise it */
	int64_t now;
	/* Called once with the header, then for every rejected row with a
	 * reason such as `email: not an address (no @): "foo"`.  A non-zero
	 * return (a sysexits code, with err set) stops the import. */
	int (*on_header)(void *ctx, const nudge_csv_rec *hdr, nudge_err *err);
	int (*on_reject)(void *ctx, const nudge_csv_rec *rec,
	    const char *reason, nudge_err *err);
	/* Called for a row kept without a field it had that could not be
	 * read (`phone: ...: "052"`); may be NULL. */
	int (*on_drop)(void *ctx, const nudge_csv_rec *rec,
	    const char *reason, nudge_err *err);
	void *ctx;
} nudge_import_opts;

typedef struct nudge_import_stats {
	long read, inserted, updated, unchanged, rejected, memberships;
	long dropped;     /* rows kept without a field that was unreadable */
	long no_cc;       /* of them, phones left out for want of a country
			     code; how many look Israeli (05..., 10 digits)
			     and North American (10 digits, 2-9...) */
	long no_cc_il, no_cc_us;
	long consents;    /* consent rows written */
	long stale;       /* subscribes not applied: unsubscribed later */
	int64_t stale_at; /* the latest such unsubscribe, and its source */
	char stale_source[32];
	const char *format; /* the format read ("csv": none recognised) */
	int delimiter;    /* the separator used */
	const char *encoding; /* "UTF-8", "UTF-16LE", "UTF-16BE" */
} nudge_import_stats;

/* The i-th export format import-list knows: its name (for --format)
 * and a line saying what it is.  Returns 1, or 0 past the last. */
int nudge_import_format(size_t i, const char **name, const char **what);

/* The attrs key a column's name becomes: ASCII letters lower-cased,
 * every run of other ASCII characters one underscore, none at the ends,
 * a leading digit after an underscore ("Default Address City" ->
 * "default_address_city"); other UTF-8 kept.  Writes at most size - 1
 * bytes and a NUL to out; returns the key's length (0: nothing left). */
size_t nudge_import_attr_key(const char *column, char *out, size_t size);

/* The field a header column maps to by default ("E-mail" -> "email",
 * "Mobile" -> "phone", ...), or NULL for an attrs column. */
const char *nudge_import_field(const char *column);

/* Imports every record of fp into st in one transaction: committed when
 * the whole input was read (rejected rows included, reported through
 * on_reject), rolled back on any error or with dry_run.  A rejected row
 * never touches the store.  Consent is written only from a
 * recognised export's consent columns (see nudge-import-list(1)); a
 * subscribe older than the contact's latest unsubscribe on the channel is
 * not applied but counted in stale.
 * Errors: EX_USAGE (a bad --map), EX_DATAERR (no header, no key column,
 * duplicate columns, an unreadable record), EX_IOERR, store errors. */
int nudge_import_contacts(nudge_store *st, FILE *fp,
    const nudge_import_opts *o, nudge_import_stats *stats, nudge_err *err);

#endif
