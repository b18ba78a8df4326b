/* trigger: which (contact, campaign, step) are due now and not yet in the
 * ledger — a few SQL queries per step of a campaign (the entry: the
 * audience less the ledger, then who can get which step), steps the
 * contact cannot get passed over; campaigns run side by side. */
#ifndef NUDGE_TRIGGER_H
#define NUDGE_TRIGGER_H

#include <stdint.h>

#include "campaign.h"
#include "store.h"
#include "util.h"

/* One due step for one contact.  step is the ledger's step: the step id,
 * and for a recurring campaign (entry: every D) "@" and the start of the
 * current round, as in "digest@2026-11-05T00:00:00Z". */
typedef struct nudge_due {
	int64_t contact_id;
	const nudge_campaign *c;
	const nudge_step *s;
	const char *step;
} nudge_due;

typedef void nudge_due_fn(void *arg, const nudge_due *d);

/*
 * Finds, as of now, every due step of c and calls fn for each: the later
 * steps, last to first, then the contacts entering; per query in contact
 * id order.  A contact can get a step when it has an address for the
 * step's channel and is not unsubscribed, bounced or complained on it.
 * Step k is due when the contact can get it, its if: holds and unless:
 * does not, and:
 *   on entry: the contact is in the audience with no ledger row for any
 *     step (for a recurring campaign: in this round), and k is the first
 *     step it can get whose if:/unless: hold, those before passed over;
 *   after step j < k was sent (ledger status sent) at least the wait of
 *     step j + 1 ago: no ledger row for a step after j, steps j+1..k-1
 *     passed over (their channels not got, their conditions holding),
 *     the goal not reached (its events counted since the journey's first
 *     ledger row), and with fallback no opened or clicked event of step
 *     k - 1.
 * A step passed over is never sent later: a ledger row of a later step
 * keeps it from being due.  Steps are evaluated last to first so that
 * one run never makes a contact due for two steps of a journey.
 * With explain not NULL, nothing runs: each query's SQL and parameters
 * are appended to it instead.  Reads only.
 * Errors: EX_USAGE (an expression that does not compile against the
 * store, e.g. an unknown @name: "path: audience: column N: ..."), store
 * errors, EX_OSERR.
 */
int nudge_trigger_run(nudge_store *st, const nudge_campaign *c, int64_t now,
    nudge_due_fn *fn, void *arg, nudge_buf *explain, nudge_err *err);

/* Writes the round suffix of c at now ("" for a campaign entered once)
 * into buf (at least 40 bytes). */
void nudge_trigger_round(const nudge_campaign *c, int64_t now, char *buf,
    unsigned long len);

/*
 * Campaigns run side by side.  nudge_trigger_start starts up to nthreads
 * threads (at least 1), each with its own read-only connection to the
 * store at path, which run cs[0..n) as nudge_trigger_run does, each
 * campaign's due steps kept in memory (16 bytes a step); the campaigns'
 * order is kept by nudge_trigger_next, which waits for campaign i (call
 * it for i = 0, 1, ... in turn) and calls fn for its due steps from the
 * calling thread, in the order nudge_trigger_run would.  Errors of
 * start: EX_OSERR (no thread could start); of next: those of
 * nudge_trigger_run and of opening the store, for that campaign.
 * nudge_trigger_end waits for the threads and frees p (stopping the
 * campaigns not yet started).
 */
typedef struct nudge_trigger_pool nudge_trigger_pool;

int nudge_trigger_start(const char *path, nudge_campaign *const *cs,
    size_t n, int64_t now, int nthreads, nudge_trigger_pool **p,
    nudge_err *err);
int nudge_trigger_next(nudge_trigger_pool *p, size_t i, nudge_due_fn *fn,
    void *arg, nudge_err *err);
void nudge_trigger_end(nudge_trigger_pool *p);

#endif
