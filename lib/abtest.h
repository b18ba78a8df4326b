/* abtest: A/B tests and holdouts (nudge-campaign(5)) — which variant a
 * contact gets and whether a holdout keeps it out (stable hashes), when
 * a test's winner is due and which one it is (a two-proportion z-test),
 * and the uplift a holdout measures, with 95% intervals in plain words.
 * Decisions go to the ab_results table; messages rows carry the
 * variant (ledger.c writes them). */
#ifndef NUDGE_ABTEST_H
#define NUDGE_ABTEST_H

#include <stdint.h>
#include <stdio.h>

#include "campaign.h"
#include "store.h"
#include "util.h"

/* A number in [0, 1) fixed by (a, b, contact, salt): the same contact
 * always lands in the same place, whatever run or process asks. */
double nudge_ab_unit(const char *a, const char *b, int64_t contact,
    char salt);

/* Whether contact is in step s's test share (s has a test). */
int nudge_ab_in_test(const nudge_campaign *c, const nudge_step *s,
    int64_t contact);

/* The variant of s that contact gets while the test runs (or always,
 * when s has variants and no test): drawn by weight. */
const nudge_variant *nudge_ab_assign(const nudge_campaign *c,
    const nudge_step *s, int64_t contact);

/* The variant of s called id, or NULL. */
const nudge_variant *nudge_ab_variant(const nudge_step *s, const char *id);

/* Whether a holdout keeps contact from c: c's `holdout:` share, or the
 * config's global share (0: none) of all contacts, kept from every
 * campaign. */
int nudge_ab_held_out(const nudge_campaign *c, double global,
    int64_t contact);

const char *nudge_ab_metric_name(enum nudge_ab_metric m);

enum nudge_ab_phase {
	NUDGE_AB_TESTING,  /* the test share is being sent, or waits */
	NUDGE_AB_DUE,      /* the wait is over, no winner recorded yet */
	NUDGE_AB_DECIDED,  /* winner holds the winner's id */
};

/* Where step s's test stands at now: its first message (the earliest
 * claim of the step) starts the wait.  winner (len bytes) gets the
 * recorded winner.  Errors: store errors. */
int nudge_ab_phase(nudge_store *st, const nudge_campaign *c,
    const nudge_step *s, int64_t now, enum nudge_ab_phase *phase,
    char *winner, size_t len, nudge_err *err);

/*
 * Picks step s's winner from the messages of its test share: per
 * variant, the contacts sent it and how many of them clicked or opened
 * it, or converted (a conversion event at or after the message), or
 * the revenue per contact (the `total` of those events); the best
 * variant against the next best by a two-proportion z-test (for
 * revenue, a z-test of two means), significant at 95% when |z| >= 1.96.
 * Without a significant difference the first variant wins.  why gets
 * one line saying so.  With record, the decision is written to
 * ab_results once: *recorded says whether this call wrote it (0: an
 * earlier run had).  conversion: the event type, "purchase" if NULL.
 * Errors: store errors, EX_OSERR.
 */
int nudge_ab_decide(nudge_store *st, const nudge_campaign *c,
    const nudge_step *s, const char *conversion, int64_t now, int record,
    int *recorded, nudge_buf *why, nudge_err *err);

/* The contacts each variant needs to tell a 20% relative difference
 * from base rate p0 at 95% (two-sided) with power 80%. */
long nudge_ab_needed(double p0);

/* The base rate nudge assumes for metric m when it judges a test's
 * size: clicked 3%, opened 20%, converted and revenue 2%. */
double nudge_ab_base_rate(enum nudge_ab_metric m);

/*
 * Writes the holdout uplift of campaign to fp: contacts treated (a
 * message of the campaign sent) and held out, each group's conversion
 * rate (a conversion event within window after the contact's first row
 * of the campaign) and revenue per contact, the absolute and relative
 * uplift with their 95% intervals (normal approximation), and in words
 * whether the interval excludes zero.  Nothing when the campaign has no
 * held-out contact.  Errors: store errors, EX_IOERR.
 */
int nudge_ab_uplift(nudge_store *st, const char *campaign,
    const char *conversion, int64_t window, FILE *fp, nudge_err *err);

/*
 * Writes the comparison of campaign's best-hour sends (send_at:
 * best_hour) against its fixed-time control share to fp: messages sent
 * in each group, and per group the share opened (image proxies' opens
 * left out), clicked, and converted (a conversion event within window
 * after the message), each difference with its 95% interval (normal
 * approximation), and in words whether an interval excludes zero.
 * Nothing when the campaign has no such message.  Errors: store errors,
 * EX_IOERR.
 */
int nudge_ab_best_hour(nudge_store *st, const char *campaign,
    const char *conversion, int64_t window, FILE *fp, nudge_err *err);

/* Writes the A/B decisions of campaign to fp, a line each step:
 * "winner: " and why it won (the metric per variant and the test, as
 * trigger wrote them).  Nothing when no test of it is decided.
 * Errors: store errors, EX_IOERR. */
int nudge_ab_decisions(nudge_store *st, const char *campaign, FILE *fp,
    nudge_err *err);

/* Writes the A/B figures per (campaign, step, variant) to fp as
 * nudge_fmt kind: contacts sent, opened, clicked, converted and revenue,
 * and the test's decision.  Errors: store errors, EX_OSERR, EX_IOERR. */
int nudge_ab_report(nudge_store *st, const char *campaign,
    const char *conversion, int kind, FILE *fp, nudge_err *err);

#endif

/* Whether some step of c has an A/B test. */
int nudge_ab_has_test(const nudge_campaign *c);

/* trigger --check: appends to notes a line for each test step of c whose
 * share is too small to tell a 20% relative difference (at the base
 * rate of its metric, power 80%): with st (may be NULL), the audience
 * counted now; without, the contacts it needs.  Errors: store errors. */
int nudge_ab_check(nudge_store *st, const nudge_campaign *c, int64_t now,
    nudge_buf *notes, nudge_err *err);

/* For each test step of c whose wait is over and has no winner: decides
 * it (nudge_ab_decide), recorded unless record is 0 (a dry run), and
 * appends why to notes, a line each (only for decisions this call
 * made).  Errors: store errors, EX_OSERR. */
int nudge_ab_settle(nudge_store *st, const nudge_campaign *c, int64_t now,
    int record, nudge_buf *notes, nudge_err *err);
