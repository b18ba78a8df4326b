/* report: what campaigns did — messages sent, failed and bounced, opens,
 * clicks, unsubscribes, complaints and conversions — as unique contacts
 * and rates, grouped by campaign, step, channel or day. */
#ifndef NUDGE_REPORT_H
#define NUDGE_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "fmt.h"
#include "store.h"
#include "util.h"

enum nudge_report_by {
	NUDGE_REPORT_CAMPAIGN,
	NUDGE_REPORT_STEP,     /* campaign and step */
	NUDGE_REPORT_CHANNEL,
	NUDGE_REPORT_DAY,      /* the UTC day of each event */
	NUDGE_REPORT_BOUNCE,   /* bounces and complaints by class, per
				  campaign and receiving domain */
};

typedef struct nudge_report_opts {
	const char *campaign;    /* only this campaign, or NULL */
	int has_since;
	int64_t since;           /* only events at or after this time */
	int has_until;
	int64_t until;           /* only events before this time */
	enum nudge_report_by by;
	const char *conversion;  /* the event type that counts as a
				    conversion: "purchase" when NULL */
	int64_t window;          /* a conversion counts when it comes at
				    most this long after a sent message:
				    7 days when 0 */
} nudge_report_opts;

/* Sets *by from "campaign", "step", "channel", "day" or "bounce"; 0 or
 * -1. */
int nudge_report_by_parse(const char *name, enum nudge_report_by *by);

/*
 * Prepares the report as one query over the events that belong to a
 * campaign.  Each row holds the group's key columns (campaign; campaign,
 * step; channel; or day), then sent, failed, bounced, opened, open_pct,
 * clicked, click_pct, unsubscribed, complained, conversions,
 * conversion_pct: each figure the number of distinct contacts with such an
 * event, each rate a percentage of sent with one decimal.  *cols and
 * *ncols name the columns (static storage).  Rows come in the order the
 * groups started.
 * By bounce, the rows are instead campaign ("" for bounces of no message
 * nudge sent), receiving domain, then hard, soft, sender_side and
 * complained (distinct contacts with an email bounce of that class, see
 * bounce.h, or a complaint) and top_reasons (the three commonest bounce
 * reasons with their counts of bounces), the largest groups first.  Errors: store errors.
 */
int nudge_report_prepare(nudge_store *st, const nudge_report_opts *o,
    sqlite3_stmt **stmt, const char *const **cols, size_t *ncols,
    nudge_err *err);

/*
 * Writes the report as one self-contained HTML page to fp: headline
 * figures of the period [since, until) (since defaults to 30 days before
 * until) with their change against the period of the same length before
 * it; messages, clicks and conversions per day as a line chart; a funnel
 * per campaign; bars per channel and per step; under each chart a table
 * of its figures, the campaign table the same as the CSV report of the
 * period.  Inline SVG and CSS only: no script, no network.  title names
 * the business (may be NULL).  Errors: store errors, EX_IOERR.
 */
int nudge_report_html(nudge_store *st, const nudge_report_opts *o,
    const char *title, FILE *fp, nudge_err *err);

/* Writes the report to fp in kind's format (nudge_fmt), formula cells
 * neutralised.  Errors: store errors, EX_OSERR, EX_IOERR. */
int nudge_report_write(nudge_store *st, const nudge_report_opts *o,
    enum nudge_fmt_kind kind, FILE *fp, nudge_err *err);

#endif
