/* send: one send run over every channel (email, sms, push) — the
 * recipient stream in, for each contact policy, render, ledger claim,
 * delivery and its outcome recorded as a ledger row and an event. */
#ifndef NUDGE_SEND_H
#define NUDGE_SEND_H

#include <stdio.h>

#include "config.h"
#include "policy.h"
#include "store.h"
#include "util.h"

/* What happened to one line of the stream. */
typedef struct nudge_send_result {
	long line;
	const char *input;    /* the line's first field, as given */
	int64_t contact_id;   /* 0 when no contact was found */
	const char *status;   /* sent, failed, bounced, skipped, duplicate,
				 unknown, tempfail, held (not sent, left for
				 a rerun), rendered (--dry-run: quiet hours
				 do not hold it, stats.held counts those they
				 would) */
	const char *detail;   /* the provider's id, or why */
	const char *campaign, *step; /* a trigger line's; else NULL */
	enum nudge_skip skip; /* skipped: the class of why; else NONE */
} nudge_send_result;

typedef void nudge_send_result_fn(void *arg, const nudge_send_result *r);

typedef struct nudge_send_opts {
	const nudge_config *cfg;  /* may be NULL */
	const char *campaign;     /* the campaign the messages belong to */
	const char *step;         /* the campaign's step (trigger lines), or
				     NULL: the ledger key's step is "" */
	const nudge_policy_cfg *policy; /* replaces cfg's policy (a
				     campaign's overrides), or NULL */
	const char *channel;      /* "email", "sms" or "push" */
	const char *template_path;
	const char *entry_on;     /* the campaign's entry: on EVENT (its
				     steps' templates may name event.*), or
				     NULL */
	const char *variant;      /* the step's A/B variant (abtest.h),
				     written into the ledger row, or NULL */
	const char *subject;      /* replaces the rendered subject (a
				     variant's), or NULL */
	const char *transport;    /* overrides the config's channels:
				     CHANNEL: url */
	const char *from;         /* overrides the template's From: and the
				     config's from */
	int dry_run;              /* render and build only: no claim, no
				     delivery, nothing written; quiet hours
				     hold nothing, they mark */
	int resend_unknown;       /* send again where a crash left the
				     outcome unknown */
	int transactional;        /* not counted against frequency caps */
	const char *topic;        /* skip whoever left this topic on the
				     preference page (consent channel
				     "topic:NAME", signup.h), or NULL */
	int parallel;             /* connections; 0: the config's, else 1 */
	double rate;              /* messages/s; 0: the config's, else none */
	int file_nosync;          /* file:// without fsync (tests) */
	int64_t now;
	nudge_send_result_fn *on_result;
	void *arg;
} nudge_send_opts;

typedef struct nudge_send_stats {
	long read, sent, failed, bounced, tempfail, skipped, duplicate,
	    unknown, rendered, recovered, held;
	long given_back;          /* claims of a send that died that never
				     left: given back to be sent (journal.h) */
	long segments;            /* sms segments sent (dry run: rendered),
				     counted after link tracking */
	long tracked_segments;    /* of segments, those link tracking added */
	char quiet[128];          /* the quiet hours that held messages (a
				     dry run: would hold them), as
				     nudge_policy_quiet says, or "" */
	long skips[NUDGE_SKIP__N]; /* skipped, by class of why */
	long held_out;            /* kept from a campaign by a holdout: a
				     `held-out` ledger row, no message */
	long journalled;          /* outcomes of a send that died, read
				     from its journal and recorded */
} nudge_send_stats;

/* A send run: the store's ledger and event writer, one transport per
 * channel (opened for its first message, all delivering at once, each
 * on its own network thread), and the lanes that feed them. */
typedef struct nudge_sender nudge_sender;
/* One campaign step (or the --campaign of a one-off send) of a run: its
 * channel, template and policy. */
typedef struct nudge_sender_lane nudge_sender_lane;

/*
 * Opens a run over st with the options o (o->campaign, template_path,
 * channel and policy are the lanes'; the rest hold for the whole run).
 * Claims left by a send that died are first marked `unknown` and counted
 * in stats->recovered, except those its in-flight journal shows never
 * started: given back (sent by this run if its input has them) and
 * counted in stats->given_back, and those whose outcome it journalled:
 * recorded, counted in stats->journalled.  stats start at zero and add
 * up over the run.  This run's journal is created (journal.h).
 * Errors: store errors, EX_OSERR, EX_CANTCREAT or EX_IOERR (the journal
 * cannot be created or written: nothing is claimed).
 */
int nudge_sender_open(nudge_sender **out, nudge_store *st,
    const nudge_send_opts *o, nudge_send_stats *stats, nudge_err *err);

/*
 * A lane for lo (lo->campaign, step, channel, template_path, policy,
 * transactional; lo must outlive nothing: it is copied): loads the
 * template, prepares the policy (with quiet hours) and opens the
 * channel's transport if it is the channel's first lane (with lo's
 * transport, parallel and rate).  The lane lives until the run closes.
 * Errors: EX_USAGE (no campaign, channel, template, transport; a bad URL
 * or provider), EX_NOINPUT (template missing), EX_DATAERR (a template
 * without Subject: or text), store and transport errors.
 */
int nudge_sender_add_lane(nudge_sender *s, const nudge_send_opts *lo,
    nudge_sender_lane **out, nudge_err *err);

/*
 * A lane for step ("STEP#EVENT"), an instance of a journey started by
 * event entry (campaign.h entry: on), that sends as parent (the lane of
 * STEP) does: the same template, conditions, policy and transport, read
 * and prepared once for every instance, and entry's props as the
 * template's event.*.  Only the step of its ledger key and results is
 * its own.  The lane lives until the run closes.  Errors: EX_OSERR.
 */
int nudge_sender_add_instance(nudge_sender *s,
    const nudge_sender_lane *parent, const char *step, int64_t entry,
    nudge_sender_lane **out, nudge_err *err);

/* The options lane l was opened with (its step's campaign, channel,
 * template, policy). */
const nudge_send_opts *nudge_sender_lane_opts(const nudge_sender_lane *l);

/* Line (contact cid) of lane l is kept from its campaign: with row, a
 * holdout's (abtest.h), the ledger gets a `held-out` row of its key and
 * nothing is sent (a dry run writes nothing), reported as "held-out";
 * without, it waits (an A/B test's rest before its winner), reported as
 * "held" with why.  Returns 0 or a store error. */
int nudge_sender_hold_out(nudge_sender *s, nudge_sender_lane *l, long line,
    const char *text, int64_t cid, int row, const char *why);

/*
 * Sends contact text (an id, email or E.164 phone; line its number in
 * the stream) by lane l.  Per contact: the policy (consent, suppression,
 * frequency cap counting this run's messages in flight on every
 * channel, exclusion) may skip it; the template is rendered (a missing
 * field skips it); the ledger key (campaign, step, contact) is claimed
 * and committed before the message is handed to the transport, so a
 * crash never sends one twice (the claim is left `unknown`, resent only
 * with resend_unknown); the outcome is recorded in the ledger with a
 * sent, failed or bounced event (a bounce also suppresses the address).
 * A line whose channel has a full window waits in memory while the
 * lines of other channels go on.  o->on_result hears of every line,
 * in the order outcomes come.  A channel whose provider is down (the
 * circuit breaker) holds its lines for a rerun; the others go on.
 * Returns 0, or a fatal code that stops the run (credentials, a command
 * that cannot run: EX_UNAVAILABLE; store errors; EX_OSERR).
 */
int nudge_sender_take(nudge_sender *s, nudge_sender_lane *l, long line,
    const char *text);

/*
 * Sends what waits, claims the last batch, waits for every outcome and
 * records it.  Returns 0, the fatal code of the run, EX_TEMPFAIL with
 * err naming the provider that went down, or EX_IOERR when the journal
 * could not be written: from then on no message started, the lines
 * taken were held.
 */
int nudge_sender_finish(nudge_sender *s);

/* Closes the transports (messages without an outcome are left claimed,
 * `unknown` for the next run) and frees s and its lanes. */
void nudge_sender_close(nudge_sender *s);

#endif
