/* send: one blast over email — the recipient stream in, for each contact
 * policy, render, ledger claim, delivery and its outcome recorded as a
 * ledger row and an event. */
#ifndef NUDGE_SEND_H
#define NUDGE_SEND_H

#include <stdio.h>

#include "config.h"
#include "store.h"
#include "util.h"

/* What happened to one line of the stream. */
typedef struct nudge_send_result {
	long line;
	const char *input;    /* the line's first field, as given */
	int64_t contact_id;   /* 0 when no contact was found */
	const char *status;   /* sent, failed, bounced, skipped, duplicate,
				 unknown, tempfail, rendered (--dry-run) */
	const char *detail;   /* the provider's id, or why */
	const char *campaign, *step; /* a trigger line's; else NULL */
} nudge_send_result;

typedef void nudge_send_result_fn(void *arg, const nudge_send_result *r);

typedef struct nudge_send_opts {
	const nudge_config *cfg;  /* may be NULL */
	const char *campaign;     /* the campaign the messages belong to */
	const char *step;         /* the campaign's step (trigger lines), or
				     NULL: the ledger key's step is "" */
	const nudge_policy_cfg *policy; /* replaces cfg's policy (a
				     campaign's overrides), or NULL */
	const char *channel;      /* "email"; sms and push only into a
				     file:// transport so far */
	const char *template_path;
	const char *transport;    /* overrides the config's channels: email:
				     url */
	const char *from;         /* overrides the template's From: and the
				     config's from */
	int dry_run;              /* render and build only: no claim, no
				     delivery, nothing written */
	int resend_unknown;       /* send again where a crash left the
				     outcome unknown */
	int transactional;        /* not counted against frequency caps */
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
} nudge_send_stats;

/*
 * Reads contacts from in (one a line; the first tab-separated field an id,
 * email or E.164 phone; further fields are ignored) and sends each the
 * template.  Per contact: the policy (consent, suppression, frequency cap,
 * exclusion) may skip it; the template is rendered (a missing field skips
 * it); the ledger key (campaign, "", contact) is claimed and committed
 * before the message is handed to the transport, so a crash never sends
 * one twice (the claim is left `unknown`, resent only with
 * resend_unknown); the outcome is recorded in the ledger with a sent,
 * failed or bounced event (a bounce also suppresses the address).  Claims
 * left by a send that died are first marked `unknown` and counted in
 * stats->recovered.  on_result hears of every line.
 * Errors (the run stops; what was sent is recorded): EX_USAGE (no
 * transport, a bad URL or from), EX_DATAERR (a template or address
 * problem for all messages), EX_NOINPUT (template missing), EX_TEMPFAIL,
 * store and transport errors.
 */
int nudge_send_run(nudge_store *st, FILE *in, const nudge_send_opts *o,
    nudge_send_stats *stats, nudge_err *err);

#endif
