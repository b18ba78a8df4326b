/* policy: whether one contact may get one message now — an address for
 * the channel, consent, the exclusion segment, the frequency cap — and
 * why not, in words a report can print. */
#ifndef NUDGE_POLICY_H
#define NUDGE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"
#include "util.h"

/* The compiled policy over one store connection: prepared statements and
 * the exclusion segment, compiled once.  Not thread-safe. */
typedef struct nudge_policy nudge_policy;

/* Prepares the checks of cfg (its frequency cap, exclude and sunset;
 * quiet hours are nudge_policy_quiet's) with now as the clock: the cap's
 * window and the segment's `within` count back from it.  cfg may be NULL
 * (consent and addresses only).
 * Errors: EX_USAGE for a bad exclude expression (err "exclude: column N:
 * ..."), store errors, EX_OSERR. */
int nudge_policy_open(nudge_policy **out, nudge_store *st,
    const nudge_policy_cfg *cfg, int64_t now, nudge_err *err);
void nudge_policy_close(nudge_policy *p);

/* fn(arg, contact_id): the contact's messages of this run not yet sent
 * events (in flight on another channel), added to what the frequency cap
 * counts. */
void nudge_policy_inflight(nudge_policy *p, int64_t (*fn)(void *, int64_t),
    void *arg);

enum nudge_verdict {
	NUDGE_POLICY_SEND,
	NUDGE_POLICY_SKIP,
};

/* Decides for contact_id on channel (email, sms or push).  transactional
 * messages (a receipt, a password reset) are not stopped by the
 * frequency cap or the exclusion segment, only by consent; their sent
 * events (props {"transactional":true}) do not count against the cap.  On NUDGE_POLICY_SKIP, reason (at
 * least 64 bytes are useful; cut to len) says why, first match wins:
 *   "no such contact"
 *   "no email address" (phone for sms, push id for push)
 *   "unsubscribed (email, 2026-10-15, import:a.csv:4)" -- also bounced
 *     and complained: the channel's latest consent row, its date and
 *     source
 *   "excluded by policy: bought within 2d"
 *   "frequency cap: 3 in 7d"
 *   "sunset: no open or click in 180d" -- known for longer than the
 *     sunset period and no opened or clicked event in it (not for
 *     transactional messages)
 * A contact with no consent row for the channel may be sent to, unless the
 * channel is opt-in in the config (nudge_seg_consent_optin):
 *   "no consent (sms is opt-in)".
 * Errors: EX_DATAERR for an unknown channel; store errors. */
int nudge_policy_check(nudge_policy *p, int64_t contact_id,
    const char *channel, int transactional, enum nudge_verdict *verdict,
    char *reason, size_t len, nudge_err *err);

/* Whether now falls in cfg's quiet hours (cfg may be NULL).  When it
 * does, why says so and until when, as "quiet hours 21:00-08:00
 * Asia/Jerusalem, until 2026-11-03T06:00:00Z": send holds every message
 * (no claim, nothing written) and the next trigger run offers them again.
 * Otherwise why is "".  Errors: EX_SOFTWARE (the zone cannot be read). */
int nudge_policy_quiet(const nudge_policy_cfg *cfg, int64_t now, char *why,
    size_t len, nudge_err *err);

#endif
