/* besthour: the best hour to send, per contact — each contact's human
 * opens and clicks counted by hour of the day and day of the week,
 * blended with the whole list's pattern the fewer events the contact
 * has; the send_hour_fits and send_hours tables; and what trigger asks
 * of them for a step with `send_at: best_hour` (nudge-campaign(5)). */
#ifndef NUDGE_BESTHOUR_H
#define NUDGE_BESTHOUR_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

/* The prior weight k of nudge_besthour_run when none is given: a
 * contact's own pattern counts for n / (n + 5) after n events. */
#define NUDGE_BESTHOUR_PRIOR 5.0

/* One contact's hours: its events, and its ranking of the 24 hours (in
 * the fit's zone) best first, as letters 'a' (00:00) to 'x' (23:00). */
typedef struct nudge_besthour {
	int64_t contact;
	long events;
	int hour, wday;     /* the best hour 0..23, weekday 0 (Sunday)..6 */
	double weight;      /* n / (n + k): the share of its own pattern */
	char rank[25];
} nudge_besthour;

/* A fit: the list's pattern and what it came from. */
typedef struct nudge_besthour_fit {
	char tz[64];        /* the zone of the hours */
	double prior;       /* k */
	size_t contacts;    /* with at least one human open or click */
	long events;
	int hour, wday;     /* the list's best */
	double hours[24], wdays[7]; /* the list's shares (sum 1) */
	char rank[25];      /* the list's ranking */
	int64_t id;         /* its send_hour_fits row, once saved */
} nudge_besthour_fit;

/*
 * Reads every human open and click before end (an `opened` event whose
 * prop proxy names an image proxy, apple, google or yahoo, is left out),
 * counts them by hour of the day and day of the week in the zone tz
 * (NULL: UTC) per contact and for the list, and blends: a contact with
 * n events and c_h of them in hour h gets the share
 *     (c_h + k * L_h) / (n + k),   L_h = (C_h + 1) / (C + 24)
 * where C_h of the list's C events fell in hour h (the posterior mean of
 * a Dirichlet prior of weight k centred on the list's pattern, itself
 * smoothed by one event an hour); days of the week alike (C + 7).  The
 * best hour is the largest share; ties go to the list's larger share,
 * then to the earlier hour.  *out (malloc'ed, free it) gets a row per
 * contact with events, in contact order.  Errors: EX_DATAERR when there
 * is no human open or click ("nothing to learn from"), EX_USAGE for an
 * unknown zone, store errors, EX_OSERR.
 */
int nudge_besthour_run(nudge_store *st, int64_t end, const char *tz,
    double prior, nudge_besthour_fit *f, nudge_besthour **out, size_t *n,
    nudge_err *err);

/* Records the fit (sets f->id) and replaces send_hours with d[0..n), in
 * one transaction.  Errors: store errors. */
int nudge_besthour_save(nudge_store *st, nudge_besthour_fit *f,
    const nudge_besthour *d, size_t n, int64_t now, nudge_err *err);

/*
 * What trigger needs for one step at one time: which of the hours of
 * the latest fit's zone may be sent in (allowed[h]), and which hour it
 * is now in that zone.  A contact is due now when the first hour of its
 * ranking (send_hours, else the list's) that is allowed is the hour now.
 * Without a fit, every contact has the ranking 00:00, 01:00, ...: the
 * first allowed hour.
 */
typedef struct nudge_besthour_now {
	nudge_store *st;
	int allowed[24];
	int hour;           /* the hour now, in the fit's zone */
	char rank[25];      /* the list's ranking */
	char tz[64];        /* the fit's zone, "" without a fit */
} nudge_besthour_now;

/* Reads the latest fit into b and sets b->hour for now; allowed[] is
 * all 1 (the caller clears the hours it must not send in: see
 * nudge_besthour_allow).  Not thread-safe: it sets TZ.  Errors: store
 * errors. */
int nudge_besthour_start(nudge_store *st, int64_t now, nudge_besthour_now *b,
    nudge_err *err);

/* Clears allowed[h] for each hour h of the next 24 (from the start of
 * the hour now) whose start is, in the zone tz (NULL: UTC), outside
 * [from, to) (minutes of the day; from > to wraps past midnight; from <
 * 0: no window), or for which quiet(t, arg) is non-zero at its start
 * (quiet may be NULL).  Not thread-safe: it sets TZ (the caller holds
 * its lock). */
void nudge_besthour_allow(nudge_besthour_now *b, int64_t now,
    const char *tz, int from, int to, int (*quiet)(int64_t, void *),
    void *arg);

/* trigger --check: appends to notes a line for each step of c with
 * send_at: best_hour when the store st has no hours fit yet (every
 * contact would get the window's first hour).  Errors: store errors. */
struct nudge_campaign;
int nudge_besthour_check(nudge_store *st, const struct nudge_campaign *c,
    nudge_buf *notes, nudge_err *err);

/* Whether contact is due now (see nudge_besthour_now); *due is 1 when
 * no hour is allowed.  Errors: store errors. */
int nudge_besthour_due(nudge_besthour_now *b, int64_t contact, int *due,
    nudge_err *err);

#endif
