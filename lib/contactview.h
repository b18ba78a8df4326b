/* contactview: the support desk's read-only views of the store — one
 * contact's whole story (fields, lists, consent history, events,
 * messages), finding a contact by part of a name, email or phone, the
 * lists with their consent breakdown, the event types seen, and the bare
 * names shell completion offers.  Every view is a few indexed queries:
 * none reads a whole table it does not show. */
#ifndef NUDGE_CONTACTVIEW_H
#define NUDGE_CONTACTVIEW_H

#include <stdint.h>
#include <stdio.h>

#include "fmt.h"
#include "store.h"
#include "util.h"

/*
 * Writes contact id's story to fp.  NUDGE_FMT_TABLE: titled sections
 * (contact, lists, consent, events, messages), each a table, newest
 * first; NUDGE_FMT_JSON: one object on one line with the contact's
 * fields, "attrs", and arrays "lists", "consent", "events" and
 * "messages" (newest first; props and proof as JSON).  With pc (the
 * config's policy), a last part says per channel whether the send policy
 * would send the contact marketing at now, and why not (unsubscribed,
 * no consent on an opt-in channel, frequency cap, sunset, excluded):
 * what no ledger row holds, since a skipped contact is never claimed
 * ("policy_now" in JSON).  Returns 0;
 * EX_DATAERR "no such contact" when id is not one; store errors;
 * EX_IOERR.
 */
struct nudge_policy_cfg;
int nudge_cview_show(nudge_store *st, int64_t id, enum nudge_fmt_kind kind,
    const struct nudge_policy_cfg *pc, int64_t now, FILE *fp,
    nudge_err *err);

/* Writes the contacts whose email, phone, first or last name or full
 * name contains text (case-insensitive for ASCII), or whose phone is
 * text written as people type phones (normalised with country, which may
 * be NULL), by id: columns id, email, phone, name.  *found is set to how
 * many.  One scan of contacts.  Returns 0, store errors, EX_IOERR. */
int nudge_cview_find(nudge_store *st, const char *text, const char *country,
    enum nudge_fmt_kind kind, FILE *fp, long *found, nudge_err *err);

/* Writes every list: list, members, and the members' latest consent on
 * email (subscribed, unsubscribed, bounced, complained, no_record).
 * Returns 0, store errors, EX_IOERR. */
int nudge_cview_lists(nudge_store *st, enum nudge_fmt_kind kind, FILE *fp,
    nudge_err *err);

/* Writes every event type in the store: type, events, last_seen.  The
 * types come by a skip-scan of the events_type_at index (one seek each)
 * and last_seen by one seek each (under 1 ms on the bench store of 6.8M
 * events); events counts the type's index entries, which is the cost:
 * 0.7 s there, against 2.2 s for GROUP BY type over the table.
 * Returns 0, store errors, EX_IOERR. */
int nudge_cview_types(nudge_store *st, enum nudge_fmt_kind kind, FILE *fp,
    nudge_err *err);

/* The names shell completion offers, one a line, sorted: what is
 * "lists", "types", "campaigns" or "steps" (of the campaign called
 * campaign, from the ledger's unique key).  Each is one index walk.
 * Returns 0, EX_USAGE for another what, store errors, EX_IOERR. */
int nudge_cview_names(nudge_store *st, const char *what,
    const char *campaign, FILE *fp, nudge_err *err);

#endif
