/* tplctx: what a message template reads from the store besides the
 * contact's own fields (nudge-template(5)): the data of the contact's
 * latest event of a type (latest.TYPE.PATH) and the truth of the
 * template's {{#if}} conditions, compiled once by the segment compiler. */
#ifndef NUDGE_TPLCTX_H
#define NUDGE_TPLCTX_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "template.h"
#include "util.h"

/*
 * Event data.  A lookup of "latest.TYPE.PATH" reads the props of the
 * contact's latest TYPE event (by at, then id) and returns its member
 * PATH (a.b.c) as text: a string unquoted, a number as written, an array
 * or object as JSON (for {{#each}}); "latest.TYPE.at" is the event's
 * time (Unix seconds) unless its props have an "at".  One indexed query
 * (events_contact) per event type and message, the props kept; each name
 * is read once a message (the text and HTML parts name the same).
 * A step of a journey started by an event (campaign.h entry: on) reads
 * that entry event's props as "event.PATH" ("event.at" its time) in the
 * same way: one query by the event's id a message, the props kept.
 */
typedef struct nudge_evdata nudge_evdata;

/* Errors: EX_OSERR, store errors. */
int nudge_evdata_open(nudge_evdata **out, nudge_store *st, nudge_err *err);

/* The value of name (which starts "latest." or "event.") for contact
 * and the message's entry event (0: none, and event.* has no value), as
 * a template lookup (valid until the next call), or NULL: no such event,
 * no such member, a JSON null, or a store error (then *failed is set). */
const char *nudge_evdata_lookup(nudge_evdata *d, int64_t contact,
    int64_t entry, const char *name, size_t *len, int *failed);
void nudge_evdata_free(nudge_evdata *d);

/*
 * Conditions.  Every {{#if COND}} of a template (its variants' too) is
 * compiled by the segment compiler when the template is loaded.  The
 * first time a condition is asked, its segment query runs once and its
 * contact ids are kept, sorted: each contact is then a binary search.
 * One query per distinct condition (the text part and the HTML part
 * usually ask the same) and send, whatever the number of messages:
 * evaluating the condition per contact (c.id = ? AND cond) reran the
 * uncorrelated IN (SELECT ...) subqueries the compiler makes for events
 * and lists for every message, a scan of all the type's events each
 * (minutes for 20,000 messages).  The cost is the condition's audience
 * over the whole store: 8 bytes a contact it holds for.
 */
typedef struct nudge_tplcond nudge_tplcond;

/* Compiles t's conditions (*out NULL when it has none).  now is the
 * clock for `within`.  Errors: EX_DATAERR "file:line:col: ..." for a
 * condition that does not compile, EX_OSERR, store errors. */
int nudge_tplcond_open(nudge_tplcond **out, nudge_store *st,
    const nudge_tpl *t, int64_t now, nudge_err *err);

/* Sets *truth to condition i for contact.  Errors: store errors,
 * EX_OSERR. */
int nudge_tplcond_eval(nudge_tplcond *c, int64_t contact, size_t i,
    int *truth, nudge_err *err);
void nudge_tplcond_free(nudge_tplcond *c);

#endif
