/* report: what campaigns did — messages sent and the contacts they
 * reached, failures, bounces, opens, clicks, unsubscribes, complaints,
 * conversions with their revenue under a chosen attribution, and what
 * the messages cost — grouped by campaign, step, channel, day or link. */
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
	NUDGE_REPORT_DAY,      /* the day of each event (see local_days) */
	NUDGE_REPORT_BOUNCE,   /* bounces and complaints by class, per
				  campaign and receiving domain */
	NUDGE_REPORT_LINK,     /* clicks per campaign and URL */
	NUDGE_REPORT_CHURN,    /* the contact's churn_risk band now
				  (nudge predict): active under 30%, at
				  risk to 70%, gone from 70%, or none */
	NUDGE_REPORT_FIELD,    /* the value of a computed field (field) of
				  each event's contact */
};

enum nudge_report_attribution {
	NUDGE_ATTR_LAST,       /* a conversion is credited to the one
				  message that reached its contact last
				  within the window before it */
	NUDGE_ATTR_FIRST,      /* ... first within the window */
	NUDGE_ATTR_ANY,        /* ... to every group with a message within
				  the window before it (counted once in
				  each: totals across groups may count it
				  more than once) */
};

typedef struct nudge_report_opts {
	const char *campaign;    /* only this campaign, or NULL */
	int has_since;
	int64_t since;           /* only events at or after this time */
	int has_until;
	int64_t until;           /* only events before this time */
	enum nudge_report_by by;
	const char *field;       /* NUDGE_REPORT_FIELD: the computed field
				    (segment.h nudge_seg_computed) */
	int64_t now;             /* the clock of the field's windows */
	const char *conversion;  /* the event type that counts as a
				    conversion: "purchase" when NULL */
	int64_t window;          /* a conversion counts when it comes at
				    most this long after a sent message:
				    7 days when 0 */
	enum nudge_report_attribution attribution;
	const char *value;       /* the conversion's prop holding its value:
				    "total" when NULL */
	const char *currency;    /* NULL, or a conversion whose `currency`
				    prop names another (case aside) adds
				    nothing to revenue */
	int local_days;          /* --by day in the process's local time
				    (the caller sets TZ), else UTC */
	size_t nprices;          /* the price of one message per channel
				    (of one segment for sms): cost */
	char *const *price_channel;
	const double *price;
} nudge_report_opts;

/* Sets *a from "last-touch", "first-touch" or "any"; 0 or -1. */
int nudge_report_attribution_parse(const char *name,
    enum nudge_report_attribution *a);

/* Sets *by from "campaign", "step", "channel", "day", "bounce", "link"
 * or "churn"; 0 or -1.  A computed field's name is the caller's to check
 * (NUDGE_REPORT_FIELD, once the configuration is read). */
int nudge_report_by_parse(const char *name, enum nudge_report_by *by);

/*
 * Prepares the report as one query over the events that belong to a
 * campaign.  Each row holds the group's key columns (campaign; campaign,
 * step; channel; day; or churn_risk band), then messages (sent events), contacts (distinct
 * contacts sent to), failed, bounced, opened, open_pct_contacts, clicked,
 * click_pct_contacts, unsubscribed, complained, converted,
 * conversion_pct_contacts (each a count of distinct contacts, each rate a
 * percentage of contacts with one decimal), conversions (conversion
 * events credited to the group under o->attribution), revenue (their
 * values summed), revenue_per_message, sms_segments, cost (messages, and
 * sms segments, times o's prices; NULL with no prices) and
 * revenue_per_cost.  A message's group, and so its credit, is that of
 * its sent event; the filters (campaign, since, until) select messages.
 * *cols and *ncols name the columns (static storage).  Rows come in the
 * order the groups started.
 * By link, the rows are campaign, url, clicks (clicked events with that
 * url prop), contacts (distinct) and click_pct_contacts (of the
 * campaign's contacts sent to), the campaigns in the order they started,
 * their most clicked links first.
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
