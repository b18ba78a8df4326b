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

/* Why a contact is not sent a message: the class a summary counts,
 * with its text beside it (nudge_skip_name); the detail of the one case
 * is the reason text of nudge_policy_check or the error of the step that
 * skipped it.  The policy's classes, then those of send's other steps. */
enum nudge_skip {
	NUDGE_SKIP_NONE,	/* "": not skipped */
	NUDGE_SKIP_NO_CONTACT,	/* "no such contact" */
	NUDGE_SKIP_NO_EMAIL,	/* "no email address" */
	NUDGE_SKIP_NO_PHONE,	/* "no phone number" */
	NUDGE_SKIP_NO_PUSH_ID,	/* "no push id" */
	NUDGE_SKIP_UNSUBSCRIBED, /* "unsubscribed" */
	NUDGE_SKIP_BOUNCED,	/* "bounced" */
	NUDGE_SKIP_COMPLAINED,	/* "complained" */
	NUDGE_SKIP_NO_CONSENT,	/* "no consent": another consent status */
	NUDGE_SKIP_EXCLUDED,	/* "excluded by policy" */
	NUDGE_SKIP_CAP,		/* "frequency cap" */
	NUDGE_SKIP_SUNSET,	/* "sunset" */
	NUDGE_SKIP_BAD_REF,	/* "not a contact": a line that names none */
	NUDGE_SKIP_TEMPLATE,	/* "template": it cannot be rendered for
				   this contact (a field without a value) */
	NUDGE_SKIP_MESSAGE,	/* "message not built" (mime) */
	NUDGE_SKIP_NO_TRANSPORT, /* "no transport" for the step's channel */
	NUDGE_SKIP__N
};

/* The words for s ("frequency cap"), never NULL. */
const char *nudge_skip_name(enum nudge_skip s);

/* Decides for contact_id on channel (email, sms or push).  transactional
 * is a nudge_msg_kind (config.h): transactional messages (a receipt, a
 * password reset) are not stopped by the frequency cap or the exclusion
 * segment, only by consent; their sent events (props
 * {"transactional":true}) do not count against the cap.  Requested ones
 * (a sign-up's confirmation) are stopped only by a bounce or complaint.
 * Sets *skip to NUDGE_SKIP_NONE when it may be sent, else to the class of
 * why not, and reason (at least 64 bytes are useful; cut to len) to the
 * words of this case, first match wins:
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
    const char *channel, int transactional, enum nudge_skip *skip,
    char *reason, size_t len, nudge_err *err);

/* Whether now falls in cfg's quiet hours (cfg may be NULL).  When it
 * does, why says so and until when, as "quiet hours 21:00-08:00
 * Asia/Jerusalem, until 2026-11-03T06:00:00Z": send holds every message
 * (no claim, nothing written; a dry run renders them and marks them) and
 * the next trigger run offers them again (a one-off send -c exits 75:
 * only running it again sends them).
 * Otherwise why is "".  Errors: EX_SOFTWARE (the zone cannot be read). */
int nudge_policy_quiet(const nudge_policy_cfg *cfg, int64_t now, char *why,
    size_t len, nudge_err *err);

#endif
