/* dsn: bounces and complaints by mail — RFC 3464 delivery status
 * notifications and RFC 5965 (ARF) feedback reports, read from a maildir,
 * an mbox or a single message, recorded as bounced and complained events
 * (and so into consent). */
#ifndef NUDGE_DSN_H
#define NUDGE_DSN_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

/* What one message of the input turned out to be. */
typedef struct nudge_dsn_result {
	const char *where;      /* "FILE" or "FILE:N" (the Nth of an mbox) */
	const char *status;     /* bounced, complained, duplicate, unmatched,
				   ignored */
	const char *recipient;  /* the address reported, or "" */
	int64_t contact_id;     /* 0 when unmatched */
	int64_t message_id;     /* the ledger row found, or 0 */
	const char *detail;     /* the status code, feedback type, or why */
} nudge_dsn_result;

typedef void nudge_dsn_result_fn(void *arg, const nudge_dsn_result *r);

enum nudge_dsn_parser {
	NUDGE_DSN_AUTO,         /* Sisimai when installed, else nudge's */
	NUDGE_DSN_BUILTIN,      /* nudge's RFC 3464/5965 reader */
	NUDGE_DSN_SISIMAI       /* Sisimai, or EX_UNAVAILABLE */
};

typedef struct nudge_dsn_opts {
	const char *source;     /* the consent source, or NULL for
				   "dsn:NAME" */
	enum nudge_dsn_parser parser;
	int sisimai_json;       /* the input is Sisimai's JSON (its dump),
				   not mail */
	int64_t soft_limit;     /* soft bounces that suppress (0: never) */
	int64_t soft_within;    /* ... within this many seconds */
	const char *country;
	int dry_run;            /* everything but the commit */
	int64_t now;            /* the events' time */
	nudge_dsn_result_fn *on_result;
	void *arg;
} nudge_dsn_opts;

typedef struct nudge_dsn_counts {
	long messages, bounced, complained, duplicate, unmatched, ignored;
	long hard, soft, sender;        /* bounced, by class (bounce.h) */
	long soft_suppressed;           /* soft_limit reached */
	long reclassified, restored;    /* earlier verdicts corrected, and
					   addresses given back by that */
	char parser[64];                /* who read the mail, for people */
} nudge_dsn_counts;

/*
 * Reads path -- a maildir (new/ then cur/, each in name order), a
 * directory of message files, an mbox ("From " lines), one message, or
 * "-" for stdin -- and records each report: with Sisimai (o->parser AUTO
 * and Sisimai installed, or SISIMAI) its verdicts, then nudge's own
 * RFC 3464/5965 reader over the files Sisimai found nothing in; with
 * o->sisimai_json, path is Sisimai's JSON.  A bounce gets a reason and a
 * class (bounce.h): a `bounced` email event in every class, a consent row
 * (suppression) only for a hard one, or for the soft one that reaches
 * o->soft_limit within o->soft_within with no open, click or delivery
 * since; an ARF report (any Feedback-Type) is a `complained` email event.
 * The contact is the Original-Recipient (else Final-Recipient; for ARF
 * Original-Rcpt-To, else the returned message's To:); the returned
 * message's Message-ID, when it is one that nudge-send made, names the
 * ledger row (campaign, step, message_id; the row becomes `bounced`).
 * A report seen before (the same file name, returned Message-ID and
 * recipient, or the same ledger row) is a duplicate, recorded once; read
 * again with another verdict it corrects the event, and gives back an
 * address the old verdict alone had suppressed.  Delays and anything that
 * is no report are ignored.  One transaction.
 * Errors: EX_NOINPUT (path missing), EX_UNAVAILABLE (SISIMAI and Sisimai
 * is not installed), EX_SOFTWARE (Sisimai failed), EX_DATAERR (not
 * Sisimai's JSON), EX_IOERR, store errors.
 */
int nudge_dsn_import(nudge_store *st, const char *path,
    const nudge_dsn_opts *o, nudge_dsn_counts *n, nudge_err *err);

#endif
