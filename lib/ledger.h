/* ledger: the message ledger (HACKING.md, "Delivery guarantees") — one row
 * in `messages` per idempotency key (campaign, step, contact, entry
 * event), claimed
 * durably before a message leaves and given its outcome after; recovery
 * of claims left by a process that died. */
#ifndef NUDGE_LEDGER_H
#define NUDGE_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

/* Prepared statements over one store connection, and this process's
 * name ("pid@host:starttime") written into the rows it claims.  Not
 * thread-safe; one per connection. */
typedef struct nudge_ledger nudge_ledger;

/* Prepares the ledger on st and sets PRAGMA synchronous = FULL on that
 * connection, so that every commit (a claim above all) is on disk before
 * it returns: a claim that a power cut could undo might let a message go
 * out twice.  Errors: store errors, EX_OSERR. */
int nudge_ledger_open(nudge_ledger **out, nudge_store *st, nudge_err *err);
void nudge_ledger_close(nudge_ledger *l);

/* This process's claimer name, as written to messages.claimed_by. */
const char *nudge_ledger_me(const nudge_ledger *l);

enum nudge_claim {
	NUDGE_CLAIM_WON,     /* the row is ours: send the message */
	NUDGE_CLAIM_DONE,    /* already claimed, sent, failed or bounced */
	NUDGE_CLAIM_UNKNOWN, /* `unknown` (a crash mid-send) and not
				resend_unknown */
};

/* Claims the key (campaign_id, step, contact_id) for channel: inserts a
 * `claimed` row with attempts 1, or when resend_unknown is set takes over
 * an `unknown` row (attempts + 1).  Exactly one of several processes
 * claiming one key at once wins.  step NULL means "".  Sets *result, and
 * *id to the row's id (claimed or found).
 * Durability: with no transaction open, the claim is its own transaction,
 * committed (fsync'd, see nudge_ledger_open) before this returns.  A
 * caller may claim a batch inside nudge_store_begin ... nudge_store_commit
 * to pay one fsync for many; then nothing of the batch may be sent before
 * that commit returns.
 * Errors: EX_TEMPFAIL (store locked past the busy timeout), store
 * errors. */
int nudge_ledger_claim(nudge_ledger *l, int64_t campaign_id,
    const char *step, int64_t contact_id, const char *channel,
    int resend_unknown, int64_t now, enum nudge_claim *result, int64_t *id,
    nudge_err *err);

/* nudge_ledger_claim with the row's A/B variant (NULL: none), and with
 * held_out set a row of status `held-out` (attempts 0) instead of a
 * claim: a contact a holdout keeps from the campaign (abtest.h), whose
 * row times the later steps and goals as a sent one does, and for whom
 * nothing is sent.  *result is then NUDGE_CLAIM_WON when the row is
 * new.  Errors as nudge_ledger_claim. */
int nudge_ledger_claim_as(nudge_ledger *l, int64_t campaign_id,
    const char *step, int64_t contact_id, const char *channel,
    const char *variant, int held_out, int resend_unknown, int64_t now,
    enum nudge_claim *result, int64_t *id, nudge_err *err);

enum nudge_outcome {
	NUDGE_OUT_SENT,      /* detail: the provider's message id, or NULL */
	NUDGE_OUT_FAILED,    /* detail: the error */
	NUDGE_OUT_BOUNCED,   /* detail: the error (e.g. the 5xx reply) */
	NUDGE_OUT_UNKNOWN,   /* handed over, no answer: may have arrived;
				detail: what happened.  A later claim finds
				it NUDGE_CLAIM_UNKNOWN: not sent again */
};

/* Records the outcome of row id.  Allowed: claimed -> sent, failed,
 * bounced or unknown; sent -> bounced (a bounce that comes back later).  Like a
 * claim, its own transaction unless the caller has one open.
 * Errors: EX_DATAERR when the row does not exist or is in a state the
 * transition does not start from (its status is named); store errors. */
int nudge_ledger_outcome(nudge_ledger *l, int64_t id,
    enum nudge_outcome out, const char *detail, int64_t now,
    nudge_err *err);

/* Counts one more delivery attempt of a claimed row (a 4xx retry) and
 * keeps the last error; the row stays `claimed`.  Errors as outcome. */
int nudge_ledger_retry(nudge_ledger *l, int64_t id, const char *error,
    int64_t now, nudge_err *err);

/* Gives back a claim of this process whose message never left (a
 * circuit breaker opened before its first attempt): the row is deleted,
 * so that the next run sends it.  A row not `claimed` by this process is
 * left alone.  Like a claim, its own transaction unless the caller has
 * one open.  Errors: store errors. */
int nudge_ledger_release(nudge_ledger *l, int64_t id, nudge_err *err);

/* A claim that recovery turned into `unknown`. */
typedef struct nudge_ledger_lost {
	int64_t id, campaign_id, contact_id, claimed_at;
	const char *step, *channel, *claimed_by;
} nudge_ledger_lost;

typedef void nudge_ledger_lost_fn(void *arg, const nudge_ledger_lost *m);

/* At the start of a run: every `claimed` row whose claimer is no longer
 * alive (same host, and no process with that pid and start time), or
 * that was claimed before now - timeout (timeout > 0; the only test for
 * claims from another host), becomes `unknown`, with an error saying
 * why — but for a claimer surely dead on this host that left an
 * in-flight journal of this boot (journal.h: the ids of the messages
 * whose first attempt it started, each written before a byte could
 * leave, and their outcomes as they came), a row whose outcome is in
 * the journal gets it (sent, failed, bounced with their event, or
 * unknown) as its sender would have recorded it; a row of attempts 1
 * whose id is not in the journal never left, nor one whose journalled
 * outcome says it surely did not leave: its claim is given back (the
 * row deleted, as nudge_ledger_release does) and the next run sends
 * it.  No journal, or one of another boot
 * (not fsync'd, a crash of the OS may have cut it): all `unknown`.  The
 * journals of dead claimers are then removed.  Rows of this process and
 * of live claimers younger than the timeout are left alone.  Calls fn
 * (if not NULL) for each row marked `unknown` and sets *n (if not NULL)
 * to their count; nudge_ledger_given_back() then tells how many claims
 * were given back, nudge_ledger_journalled() how many outcomes were
 * recorded.  One transaction.
 * Errors: store errors, EX_OSERR. */
int nudge_ledger_recover(nudge_ledger *l, int64_t now, int64_t timeout,
    nudge_ledger_lost_fn *fn, void *arg, long *n, nudge_err *err);

/* Claims the last nudge_ledger_recover gave back (never left). */
long nudge_ledger_given_back(const nudge_ledger *l);

/* Outcomes the last nudge_ledger_recover read from the journals of dead
 * claimers and recorded (with their events). */
long nudge_ledger_journalled(const nudge_ledger *l);

/* True when the claimer named by s ("pid@host:starttime") is a live
 * process on this host; false when it is surely gone; -1 when this host
 * cannot tell (another host, a malformed name, or a live pid that /proc
 * hides, which may be a reused one). */
int nudge_ledger_claimer_alive(const char *s);

/* The journey instance of a ledger step "STEP#EVENT" (a journey started
 * by an event, nudge-campaign(5) `entry: on EVENT`): the event's id;
 * 0 for a step with no "#".  A claim of "STEP#EVENT" is the row of
 * step "STEP#EVENT" (as a round's is "STEP@ROUND") and entry_event
 * EVENT: a column of the key, which joins the entry event. */
int64_t nudge_ledger_instance(const char *step);

/* Writes the idempotency key "nudge-CAMPAIGN-STEP-CONTACT" (what HTTP
 * providers get as their Idempotency-Key) into buf; returns buf, or NULL
 * when it does not fit. */
char *nudge_ledger_key(char *buf, size_t len, int64_t campaign_id,
    const char *step, int64_t contact_id);

/* Writes the local part of the Message-ID that nudge_mime_build derives
 * from the ledger key ("<32 hex digits>.nudge") into buf (at least 39
 * bytes). */
void nudge_track_msgid_local(const char *key, char *buf);

/* Finds the ledger row of contact_id whose Message-ID (as sent by
 * nudge-send, "<...@domain>" or without brackets) is msgid: sets *id (0
 * when none matches), and the campaign's name, the step and the channel
 * of the row.  O(messages of the contact).  Errors: store errors. */
int nudge_track_find_message(nudge_store *st, int64_t contact_id,
    const char *msgid, int64_t *id, char *campaign, size_t camplen,
    char *step, size_t steplen, char *channel, size_t chanlen,
    nudge_err *err);

#endif
