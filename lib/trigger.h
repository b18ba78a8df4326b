/* trigger: which (contact, campaign, step) are due now and not yet in the
 * ledger — one SQL query per step of a campaign (the first step: the
 * audience less the ledger, then those candidates checked). */
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
 * Finds, as of now, every due step of c and calls fn for each, per step
 * in contact id order:
 *   the first step: contacts in the audience not yet in the ledger for
 *     it (for a recurring campaign: in this round);
 *   step k > 0: contacts whose step k-1 was sent (ledger status sent) at
 *     least `after` ago, not yet in the ledger for step k;
 * and for both: the contact has an address for the step's channel and is
 * not unsubscribed, bounced or complained on it; for k > 0, the goal did
 * not hold (its events counted since the contact's entry step); the step's
 * if: holds and unless: does not; with fallback, no opened or
 * clicked event of the previous step.  Steps are evaluated last to first
 * so that one run never makes a contact due for two steps of a journey.
 * With explain not NULL, nothing runs: each step's SQL and parameters are
 * appended to it instead.  Reads only.
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

#endif
