/* event: recording events (what happened to a contact: sent, opened,
 * purchase, ...) with their consent side effects, and importing them in
 * bulk from CSV or JSON lines. */
#ifndef NUDGE_EVENT_H
#define NUDGE_EVENT_H

#include <stdint.h>
#include <stdio.h>

#include "store.h"
#include "util.h"

/*
 * The per-campaign counts behind nudge report's default view (report.c),
 * kept by triggers on events (store.c's migrations) so that the report
 * reads a few rows a campaign, not every event of it:
 * campaign_counts: a campaign's events of each counted type, the
 * distinct contacts they concern and the first one's time;
 * campaign_channels: its sent events' parts per channel (an SMS's
 * segments, else 1), for sms_segments and cost.
 * NUDGE_EVENT_COUNTED: the counted types, as an SQL list.
 * NUDGE_EVENT_PARTS(e): an event's parts, e its row.
 * NUDGE_EVENT_COUNTS_SQL recomputes both tables from events: the
 * migration that makes them, and an import that dropped the triggers
 * with the indexes (eventimport.c), run it.  The channels are added up
 * row by row into their few keys, as the insert trigger does, over one
 * sequential scan of the table (NOT INDEXED): through events_type_at
 * (type = 'sent') it read each sent row by a random lookup and then
 * sorted them all for the GROUP BY; 2M events: 0.81 s of CPU against
 * 0.43 s, and at 100M the lookups are reads from disk.
 */
#define NUDGE_EVENT_COUNTED "('sent', 'failed', 'bounced', 'opened'," \
	" 'clicked', 'unsubscribed', 'complained')"
#define NUDGE_EVENT_PARTS(e) "CASE WHEN " e ".channel = 'sms' THEN" \
	" coalesce(" e ".props ->> 'segments', 1) ELSE 1 END"
/* NUDGE_EVENT_COUNT_ONE(cid, type, contact, id, at): counts one event,
 * its columns given as SQL expressions, into campaign_counts: the insert
 * trigger's statement (NEW.*), and a writer's with the triggers off
 * (event.c, nudge_store_own_counts: parameters).  NUDGE_EVENT_PARTS_OF(e):
 * the head of the statement that adds event e's parts into
 * campaign_channels, the same two. */
#define NUDGE_EVENT_COUNT_ONE(cid, type, contact, id, at) \
	"INSERT INTO campaign_counts VALUES (" cid ", " type ", 1," \
	" NOT EXISTS (SELECT 1 FROM events e" \
	" WHERE e.campaign_id = " cid " AND e.type = " type \
	" AND e.contact_id = " contact " AND e.id <> " id "), " at ")" \
	" ON CONFLICT DO UPDATE SET events = events + 1," \
	" contacts = contacts + excluded.contacts," \
	" first_at = min(first_at, excluded.first_at)"
#define NUDGE_EVENT_PARTS_OF(e) \
	"INSERT INTO campaign_channels SELECT " e ".campaign_id," \
	" coalesce(" e ".channel, ''), " NUDGE_EVENT_PARTS(e)
#define NUDGE_EVENT_COUNTS_SQL \
	"DELETE FROM campaign_counts; DELETE FROM campaign_channels;" \
	"INSERT INTO campaign_counts SELECT campaign_id, type, count(*)," \
	" count(DISTINCT contact_id), min(at) FROM events" \
	" WHERE campaign_id IS NOT NULL AND type IN " NUDGE_EVENT_COUNTED \
	" GROUP BY campaign_id, type;" \
	"INSERT INTO campaign_channels SELECT campaign_id," \
	" coalesce(channel, ''), " NUDGE_EVENT_PARTS("events") \
	" FROM events NOT INDEXED" \
	" WHERE campaign_id IS NOT NULL AND type = 'sent'" \
	" ON CONFLICT DO UPDATE SET parts = parts + excluded.parts;"

/* One event, ready to store: every reference resolved, every field
 * checked by the caller or by nudge_event_record.  Strings are borrowed. */
typedef struct nudge_event {
	int64_t contact_id;
	const char *type;        /* [a-z][a-z0-9_]*: nudge_event_type_ok */
	const char *channel;     /* a name, or NULL */
	const char *campaign;    /* a campaign name, or NULL */
	const char *step;        /* or NULL */
	int64_t message_id;      /* the ledger row, or 0 */
	int64_t at;              /* Unix seconds */
	const char *props_json;  /* a JSON object, or NULL */
	const char *source;      /* where consent rows say they came from;
				    NULL means "event" */
	int keep_consent;        /* a `bounced` that suppresses nothing (a
				    soft or sender-side bounce: bounce.h) */
} nudge_event;

/* Prepared statements and the campaign cache for recording many events
 * over one store connection.  Not thread-safe; one per connection. */
typedef struct nudge_event_writer nudge_event_writer;

/* Makes a writer; now is the created_at of campaigns and contacts it
 * creates.  Each of its statements is prepared at its first use, so that
 * recording one event prepares only what that event needs.
 * Errors: EX_OSERR. */
int nudge_event_writer_open(nudge_event_writer **out, nudge_store *st,
    int64_t now, nudge_err *err);
void nudge_event_writer_close(nudge_event_writer *w);
/* Prepares now what recording an event of type (NULL: any) needs, so
 * that a caller can do it before it takes the write lock: nudge-track
 * holds the lock for the insert and the commit only, not for compiling
 * the insert and the triggers on events with it.  Errors: store errors. */
int nudge_event_writer_prepare(nudge_event_writer *w, const char *type,
    nudge_err *err);

/* Stores ev and its consent rows: `unsubscribed` unsubscribes ev's
 * channel, or email, sms and push when it has none; `bounced` and
 * `complained` mark ev's channel (email when none); `subscribed` with a
 * channel subscribes it again; `inbound` on channel sms whose text prop
 * is a stop word (STOP, UNSUBSCRIBE, CANCEL, ..., Hebrew הסר)
 * unsubscribes sms.  The consent rows carry ev->at and
 * ev->source and point at the event.  Sets *id (if not NULL) to the new
 * event's id.  Makes no transaction of its own: the caller wraps the
 * call (or a whole import) in nudge_store_begin/commit.
 * Errors: EX_DATAERR for a bad type or channel; store errors. */
int nudge_event_record(nudge_event_writer *w, const nudge_event *ev,
    int64_t *id, nudge_err *err);

/* Appends one consent row (contact, channel, status, at, source, the
 * event it comes from or 0) outside any event: a bounce re-classified,
 * a soft-bounce limit reached.  Errors: store errors. */
int nudge_event_consent(nudge_event_writer *w, int64_t contact_id,
    const char *channel, const char *status, int64_t at, const char *source,
    int64_t event_id, nudge_err *err);

/* The id of the campaign called name, inserted with created_at = the
 * writer's now when missing.  Cached in memory: a repeated name costs a
 * hash lookup.  Errors: store errors, EX_OSERR. */
int nudge_event_campaign_id(nudge_event_writer *w, const char *name,
    int64_t *id, nudge_err *err);

/* Tells the writer that the campaign called name has id id (read by the
 * caller in the same transaction), so that an event of it costs no
 * query: nudge-track knows the id from the token and the name from the
 * ledger.  Errors: EX_OSERR. */
int nudge_event_campaign_known(nudge_event_writer *w, const char *name,
    int64_t id, nudge_err *err);

/* Finds the contact that ref names (an id, an email or a phone,
 * normalised with country as nudge_contact_find does) with the writer's
 * prepared statements.  When there is none and create is set, creates it
 * from an email or phone and sets *created.  *id is 0 when the contact
 * does not exist and was not created.  Errors: EX_DATAERR (a malformed
 * reference, or create with an unknown id; err holds the reason without
 * a field name), store errors. */
int nudge_event_contact(nudge_event_writer *w, const char *ref,
    const char *country, int create, int64_t *id, int *created,
    nudge_err *err);

/* True when s is an event type: [a-z][a-z0-9_]*, at most 64 bytes. */
int nudge_event_type_ok(const char *s);
/* What an option says of a value that is not (one wording for every
 * command). */
#define NUDGE_EVENT_TYPE_WANTED \
	"expected an event type such as purchase ([a-z][a-z0-9_]*)"

/* Whether an event of type t writes consent rows (unsubscribed, bounced,
 * complained, subscribed, inbound): a cheap first test. */
int nudge_event_is_consent_type(const char *t);

/* Adds "key":value to the JSON object being built in b (opening it when
 * b is empty).  A value that is a JSON number (at most 15 significant
 * digits, so that no precision is lost) is stored as a number, anything
 * else as a string.  Close the object with nudge_event_props_end.
 * Returns 0, or -1 when memory runs out. */
int nudge_event_prop(nudge_buf *b, const char *key, size_t klen,
    const char *val, size_t vlen);
/* Closes the object; returns b's text, or NULL when no prop was added. */
const char *nudge_event_props_end(nudge_buf *b);

/* `nudge event add`: one event from command-line text. */
typedef struct nudge_event_add_opts {
	const char *contact;       /* id, email or phone */
	const char *type;
	const char *channel, *campaign, *step;  /* or NULL */
	const char *at;            /* ISO 8601, or NULL for now */
	const char *const *props;  /* "K=V" strings */
	size_t nprops;
	const char *source;        /* NULL: "event add" */
	const char *country;       /* default_country for phones */
	int create;                /* create an unknown contact */
	int64_t now;
} nudge_event_add_opts;

/* Records one event in its own transaction.  Sets *id to the event and
 * *created when the contact was created.  Errors: EX_USAGE (a --prop
 * without '=' or an empty or repeated key), EX_DATAERR ("FIELD: why:
 * \"value\"", including "contact: no such contact"), store errors
 * (EX_TEMPFAIL when locked). */
int nudge_event_add(nudge_store *st, const nudge_event_add_opts *o,
    int64_t *id, int *created, nudge_err *err);

enum nudge_event_format { NUDGE_EVENT_CSV, NUDGE_EVENT_JSON };

/* Called for each rejected row: field is the column or key ("" for the
 * whole row), why a short reason, value the offending text. */
typedef void nudge_event_reject_fn(void *arg, long line, const char *field,
    const char *why, const char *value, size_t vlen);

typedef struct nudge_event_import_opts {
	enum nudge_event_format format;
	const char *name;        /* the input's name, for messages and the
				    consent source "import:NAME:LINE" */
	const char *source;      /* consent source instead, or NULL */
	const char *country;
	int create, dry_run;
	int64_t now;             /* the default `at`, and created_at */
	int64_t rebuild_bytes;   /* a regular file this big (and bigger
				    than the events table) is imported with
				    its indexes rebuilt at the end; 0 means
				    32 MiB */
	long batch;              /* commit every this many recorded rows
				    (0: NUDGE_EVENT_BATCH); a dry run is
				    one transaction */
	FILE *rejects;           /* rejected rows go here, or NULL */
	const char *type;        /* --type: the type of rows without one */
	const char *const *maps; /* --map COLUMN=FIELD (CSV) */
	size_t nmaps;
	int date_order;          /* 'd' (dd/mm/yyyy), 'm' (mm/dd/yyyy), or 0:
				    such a date is read only when it cannot
				    be the other */
	nudge_event_reject_fn *on_reject;  /* or NULL */
	void *arg;
} nudge_event_import_opts;

typedef struct nudge_event_counts {
	long read, recorded, rejected, created;
	long skipped;            /* rows an earlier run of the same file
				    recorded (a killed import's rerun), and
				    orders the store holds already */
	long committed;          /* rows recorded in committed batches */
	const char *orders;      /* "shopify-orders" or "woocommerce" when
				    the CSV was read as an orders export:
				    one event per order, rejected counts
				    orders */
} nudge_event_counts;

/* Reads a time as exports write it: what nudge_time_parse reads
 * ("2026-11-24 14:03:12 +0200", "2026-11-24T14:03:12+02:00"), or a
 * spreadsheet's DD/MM/YYYY or MM/DD/YYYY (also with . or -) with an
 * optional HH:MM[:SS], in UTC, read by date_order ('d', 'm' or 0: only
 * when one of the two numbers is over 12).  Returns 0, or -1 with *why
 * set ("not a time", "ambiguous date: ..."). */
int nudge_event_time(const char *s, int date_order, int64_t *at,
    const char **why);

/* Imports events from in, streaming, in constant memory, committing
 * every o->batch recorded rows (one transaction for a dry run).
 * A bad row is rejected (counted, written to o->rejects, passed to
 * o->on_reject) and the import goes on; the good rows are recorded.
 * A regular file is journalled in event_imports by its fingerprint
 * (size, first and last MiB, and the options that change what its rows
 * record): each batch commits with the last line it covers, so a rerun
 * of the same file after a kill records only the rows after that line,
 * and a rerun after a complete import records none (counted in
 * n->skipped; their rejects are reported again).  An orders export
 * records an order only when its contact has no event of the same type,
 * time and order already, so that a re-exported file adds only the new
 * orders.  Returns 0 when the import ran to the end, whatever was
 * rejected.  Fatal errors roll back the open batch only: EX_DATAERR (a
 * CSV header without a contact or type column, a quote left open, a
 * field over the limit), EX_IOERR (reading in or writing rejects),
 * EX_TEMPFAIL (store locked), other store errors, EX_OSERR. */
#define NUDGE_EVENT_BATCH 100000
int nudge_event_import(nudge_store *st, FILE *in,
    const nudge_event_import_opts *o, nudge_event_counts *n, nudge_err *err);

#endif
