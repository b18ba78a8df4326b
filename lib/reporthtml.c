/* reporthtml: the report as one HTML page a person looks at (see
 * nudge_report_html in report.h).  The figures come from the same queries
 * as the text report; this file only draws them: inline SVG charts, each
 * with a table of its figures under it, for people and for screen
 * readers.  Everything from the store is escaped; names get dir="auto" so
 * that Hebrew and Arabic campaign names read right to left. */
#include "report.h"
#include "abtest.h"
#include "fmt.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One row of a report query, its key and figures kept. */
struct row {
	char *key[2];
	double v[18];           /* the figures, in report.c's order */
};

/* report.c's figure columns after the keys */
enum { F_MESSAGES, F_SENT, F_FAILED, F_BOUNCED, F_OPENED, F_OPEN_PCT,
	F_CLICKED, F_CLICK_PCT, F_UNSUB, F_COMPLAINED, F_CONVERTED,
	F_CONV_PCT, F_CONV, F_REVENUE, F_REVENUE_MSG, F_SEGMENTS, F_COST,
	F_REVENUE_COST, NFIG };

struct table {
	struct row *rows;
	size_t n, nkeys;
	char **cols;            /* the column names, copied: the report's
				   are overwritten by its next query */
	size_t ncols;
	char **text;            /* every cell as the CSV report writes it,
				   n * ncols */
};

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->rows[i].key[0]);
		free(t->rows[i].key[1]);
	}
	for (i = 0; i < t->n * t->ncols; i++)
		free(t->text[i]);
	for (i = 0; t->cols != NULL && i < t->ncols; i++)
		free(t->cols[i]);
	free(t->cols);
	free(t->rows);
	free(t->text);
	memset(t, 0, sizeof *t);
}

/* Runs the report grouped by `by` over o into t. */
static int
load(nudge_store *st, const nudge_report_opts *o, enum nudge_report_by by,
    struct table *t, nudge_err *err)
{
	nudge_report_opts p = *o;
	const char *const *cols;
	sqlite3_stmt *s = NULL;
	size_t i, cap = 0;
	int rc;

	memset(t, 0, sizeof *t);
	p.by = by;
	if ((rc = nudge_report_prepare(st, &p, &s, &cols, &t->ncols,
	    err)) != 0)
		return rc;
	t->nkeys = t->ncols - NFIG;
	if ((t->cols = calloc(t->ncols, sizeof *t->cols)) == NULL)
		goto oom;
	for (i = 0; i < t->ncols; i++)
		if ((t->cols[i] = strdup(cols[i])) == NULL)
			goto oom;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct row *r;

		if (t->n == cap) {
			size_t c = cap ? 2 * cap : 16;
			struct row *nr = realloc(t->rows, c * sizeof *nr);
			char **nt = realloc(t->text, c * t->ncols * sizeof *nt);

			if (nr != NULL)
				t->rows = nr;
			if (nt != NULL)
				t->text = nt;
			if (nr == NULL || nt == NULL)
				goto oom;
			cap = c;
		}
		r = &t->rows[t->n];
		memset(r, 0, sizeof *r);
		for (i = 0; i < t->ncols; i++) {
			const char *v = (const char *)sqlite3_column_text(s,
			    (int)i);

			if ((t->text[t->n * t->ncols + i] = strdup(v != NULL ? v :
			    "")) == NULL)
				goto oom;
			if (i < t->nkeys)
				r->key[i] = strdup(v != NULL ? v : "");
			else
				r->v[i - t->nkeys] = sqlite3_column_double(s,
				    (int)i);
		}
		t->n++;
		if (r->key[0] == NULL || (t->nkeys == 2 && r->key[1] == NULL))
			goto oom;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return nudge_store_error(st, err, "report");
	return 0;
oom:
	sqlite3_finalize(s);
	return nudge_errf(err, EX_OSERR, "out of memory");
}

/* Text for HTML: & < > " ' escaped. */
static void
esc(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&#39;", fp); break;
		default: putc(*s, fp);
		}
	}
}

/* A whole number with thousands separators. */
static void
num(FILE *fp, double v)
{
	char b[32], o[48];
	long long n = (long long)(v < 0 ? v - 0.5 : v + 0.5);
	size_t len, i, j = 0;

	snprintf(b, sizeof b, "%lld", n < 0 ? -n : n);
	len = strlen(b);
	if (n < 0)
		o[j++] = '-';
	for (i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			o[j++] = ',';
		o[j++] = b[i];
	}
	o[j] = '\0';
	fputs(o, fp);
}

/* The headline of a period: messages, contacts reached and the rest. */
enum { H_MESSAGES, H_CONTACTS, H_OPENED, H_CLICKED, H_CONV, H_REVENUE,
	H_UNSUB, H_COMPLAINED, H_BOUNCED, H_SEGMENTS, H_SMS_COST, NHEAD };

static const struct {
	const char *id, *label;
} heads[NHEAD] = {
	{ "messages", "Messages sent" },
	{ "contacts", "Contacts reached" },
	{ "opened", "Opened" },
	{ "clicked", "Clicked" },
	{ "conversions", "Conversions" },
	{ "revenue", "Revenue" },
	{ "unsubscribed", "Unsubscribed" },
	{ "complained", "Complaints" },
	{ "bounced", "Bounced" },
	{ "sms_segments", "SMS segments" },
	{ "sms_cost", "SMS cost" },
};

/* The price of one SMS segment (report: price: sms:), or -1 when the
 * configuration names none. */
static double
sms_price(const nudge_report_opts *o)
{
	size_t i;

	for (i = 0; i < o->nprices; i++)
		if (strcmp(o->price_channel[i], "sms") == 0)
			return o->price[i];
	return -1;
}

/* The headline figures of [since, until): each conversion event counted
 * once however many messages came before it (as last-touch credits it),
 * its value prop summed when in the report's currency. */
static int
headline(nudge_store *st, const nudge_report_opts *o, int64_t since,
    int64_t until, double *h, nudge_err *err)
{
	sqlite3_stmt *s = NULL;
	char sql[1400];
	int rc, i;

	snprintf(sql, sizeof sql, "WITH ev AS (SELECT e.* FROM events e"
	    " WHERE e.campaign_id IS NOT NULL AND e.at >= ?1 AND e.at < ?2%s),"
	    " conv AS (SELECT p.id, p.props FROM events p"
	    " WHERE p.type = ?3 AND p.at >= ?1 AND p.at < ?2 + ?4"
	    " AND EXISTS (SELECT 1 FROM ev e WHERE e.type = 'sent'"
	    " AND e.contact_id = p.contact_id AND p.at >= e.at"
	    " AND p.at <= e.at + ?4))"
	    " SELECT count(*) FILTER (WHERE type = 'sent'),"
	    " count(DISTINCT contact_id) FILTER (WHERE type = 'sent'),"
	    " count(DISTINCT contact_id) FILTER (WHERE type = 'opened'),"
	    " count(DISTINCT contact_id) FILTER (WHERE type = 'clicked'),"
	    " (SELECT count(*) FROM conv),"
	    " (SELECT coalesce(sum(CASE WHEN ?6 IS NULL OR"
	    " props ->> 'currency' IS NULL OR upper(props ->> 'currency') = ?6"
	    " THEN CAST(props ->> ?7 AS REAL) END), 0) FROM conv),"
	    " count(DISTINCT contact_id) FILTER (WHERE type = 'unsubscribed'),"
	    " count(DISTINCT contact_id) FILTER (WHERE type = 'complained'),"
	    " count(DISTINCT contact_id) FILTER (WHERE type = 'bounced'),"
	    " coalesce(sum(CASE WHEN type = 'sent' AND channel = 'sms' THEN"
	    " coalesce(props ->> 'segments', 1) END), 0) FROM ev",
	    o->campaign != NULL ? " AND e.campaign_id = (SELECT id FROM"
	    " campaigns WHERE name = ?5)" : "");
	if ((rc = nudge_store_prepare(st, &s, sql, err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, until);
	sqlite3_bind_text(s, 3, o->conversion != NULL ? o->conversion :
	    "purchase", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, o->window > 0 ? o->window : 7 * 86400);
	if (o->campaign != NULL)
		sqlite3_bind_text(s, 5, o->campaign, -1, SQLITE_STATIC);
	if (o->currency != NULL)
		sqlite3_bind_text(s, 6, o->currency, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, o->value != NULL ? o->value : "total", -1,
	    SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return nudge_store_error(st, err, "report");
	}
	for (i = 0; i < H_SMS_COST; i++)
		h[i] = sqlite3_column_double(s, i);
	h[H_SMS_COST] = sms_price(o) >= 0 ? h[H_SEGMENTS] * sms_price(o) : 0;
	sqlite3_finalize(s);
	return 0;
}

static const char style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Arial,sans-serif;"
    "margin:0 auto;max-width:1100px;padding:1em 1.5em;color:#1d2330;"
    "background:#fff}"
    "h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .5em;"
    "border-bottom:1px solid #dde;padding-bottom:.2em}"
    ".period{color:#556}"
    ".tiles{display:grid;grid-template-columns:repeat(auto-fill,"
    "minmax(160px,1fr));gap:.6em;margin:0;padding:0}"
    ".tile{border:1px solid #dde;border-radius:6px;padding:.5em .7em}"
    ".tile dt{font-size:.85em;color:#556}.tile dd{margin:0}"
    ".tile .v{font-size:1.5em;font-weight:600}"
    ".d{font-size:.8em;color:#556}.up{color:#17733a}.down{color:#b3261e}"
    "svg{max-width:100%;height:auto}svg text{font-size:12px;fill:#334}"
    ".funnels{display:grid;grid-template-columns:repeat(auto-fill,"
    "minmax(250px,1fr));gap:.8em}"
    "figure{margin:0;border:1px solid #eef;border-radius:6px;padding:.4em}"
    "figcaption{font-weight:600;margin-bottom:.2em}"
    ".scroll{overflow-x:auto}"
    "table{border-collapse:collapse;margin:.6em 0;font-size:.85em}"
    "td{white-space:nowrap}"
    "th,td{border-bottom:1px solid #eef;padding:.2em .6em;text-align:right}"
    "th:first-child,td:first-child,td.k{text-align:start}"
    "caption{text-align:start;color:#556;padding:.2em 0}"
    "details{margin:.4em 0}"
    ".s0{stroke:#2f6db5;fill:#2f6db5}.s1{stroke:#d9822b;fill:#d9822b}"
    ".s2{stroke:#17733a;fill:#17733a}"
    ".bar{fill:#2f6db5}.bar.b1{fill:#5b8fd0}.bar.b2{fill:#86b0e3}"
    ".bar.b3{fill:#17733a}"
    ".legend span{margin-inline-end:1em}.legend i{display:inline-block;"
    "width:.8em;height:.8em;margin-inline-end:.3em}"
    ".legend i.s0{background:#2f6db5}.legend i.s1{background:#d9822b}"
    ".legend i.s2{background:#17733a}"
    "@media print{details{display:block}}";

/* The table of t's figures (as the CSV report writes them). */
static void
figures_table(FILE *fp, const struct table *t, const char *id,
    const char *caption)
{
	size_t i, j;

	fprintf(fp, "<details open><summary>The figures</summary>"
	    "<div class=\"scroll\"><table id=\"%s\"><caption>", id);
	esc(fp, caption);
	fputs("</caption><thead><tr>", fp);
	for (j = 0; j < t->ncols; j++) {
		fputs("<th scope=\"col\">", fp);
		esc(fp, t->cols[j]);
		fputs("</th>", fp);
	}
	fputs("</tr></thead><tbody>\n", fp);
	for (i = 0; i < t->n; i++) {
		fputs("<tr>", fp);
		for (j = 0; j < t->ncols; j++) {
			fputs(j < t->nkeys ? "<td class=\"k\" dir=\"auto\">" :
			    "<td>", fp);
			esc(fp, t->text[i * t->ncols + j]);
			fputs("</td>", fp);
		}
		fputs("</tr>\n", fp);
	}
	fputs("</tbody></table></div></details>\n", fp);
}

/* Horizontal bars, one per row of t, for figure f. */
static void
bars(FILE *fp, const struct table *t, int f, const char *id,
    const char *label)
{
	double max = 0;
	size_t i;
	int h = 26, w = 640, lw = 200;

	for (i = 0; i < t->n; i++)
		if (t->rows[i].v[f] > max)
			max = t->rows[i].v[f];
	fprintf(fp, "<svg class=\"chart bars\" id=\"%s\" role=\"img\""
	    " viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">"
	    "<title>", id, w, (int)t->n * h + 4, w, (int)t->n * h + 4);
	esc(fp, label);
	fputs("</title>\n", fp);
	for (i = 0; i < t->n; i++) {
		const struct row *r = &t->rows[i];
		double bw = max > 0 ? (w - lw - 70) * r->v[f] / max : 0;

		fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\""
		    " direction=\"ltr\">", lw - 6, (int)i * h + 17);
		esc(fp, r->key[0]);
		if (t->nkeys == 2 && *r->key[1] != '\0') {
			fputs(" / ", fp);
			esc(fp, r->key[1]);
		}
		fprintf(fp, "</text><rect class=\"bar\" data-value=\"%.0f\""
		    " x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\"/>"
		    "<text x=\"%.1f\" y=\"%d\">", r->v[f], lw, (int)i * h + 4,
		    bw, h - 8, lw + bw + 6, (int)i * h + 17);
		num(fp, r->v[f]);
		fputs("</text>\n", fp);
	}
	fputs("</svg>\n", fp);
}

/* A funnel per campaign: sent, opened, clicked, converted. */
static void
funnels(FILE *fp, const struct table *t)
{
	static const struct { int f; const char *name; } steps[] = {
		{ F_SENT, "reached" }, { F_OPENED, "opened" },
		{ F_CLICKED, "clicked" }, { F_CONV, "converted" },
	};
	size_t i, k;

	fputs("<div class=\"funnels\">\n", fp);
	for (i = 0; i < t->n; i++) {
		const struct row *r = &t->rows[i];
		double max = r->v[F_SENT] > 0 ? r->v[F_SENT] : 1;

		fputs("<figure class=\"funnel\"><figcaption dir=\"auto\">", fp);
		esc(fp, r->key[0]);
		fputs("</figcaption><svg role=\"img\" viewBox=\"0 0 240 104\""
		    " width=\"240\" height=\"104\"><title>Funnel of ", fp);
		esc(fp, r->key[0]);
		fputs("</title>\n", fp);
		for (k = 0; k < 4; k++) {
			double v = r->v[steps[k].f];
			double bw = 130 * v / max;

			fprintf(fp, "<text x=\"62\" y=\"%d\" text-anchor=\"end\">"
			    "%s</text><rect class=\"bar b%zu\" data-step=\"%s\""
			    " data-value=\"%.0f\" x=\"68\" y=\"%d\" width=\"%.1f\""
			    " height=\"18\"/><text x=\"%.1f\" y=\"%d\">",
			    (int)k * 26 + 15, steps[k].name, k, steps[k].name, v,
			    (int)k * 26 + 2, bw, 68 + bw + 4, (int)k * 26 + 15);
			num(fp, v);
			fputs("</text>\n", fp);
		}
		fputs("</svg></figure>\n", fp);
	}
	fputs("</div>\n", fp);
}

static void day(char *b, size_t n, int64_t t);

/* Messages, clicks and conversions per day as lines, a point for each day
 * that has events, placed by its date on an axis from since to until, so
 * that days with nothing are gaps. */
static void
lines(FILE *fp, const struct table *t, int64_t since, int64_t until)
{
	static const struct { int f; const char *name; } series[] = {
		{ F_MESSAGES, "messages" }, { F_CLICKED, "clicked" },
		{ F_CONV, "conversions" },
	};
	const int w = 900, h = 260, l = 50, r = 45, top = 15, b = 40;
	double max = 1, d0 = (double)(since / 86400);
	double span = (double)((until - 1) / 86400) - d0, *x;
	char lab[16];
	size_t i, k;

	if (span < 1)
		span = 1;
	if ((x = calloc(t->n + 1, sizeof *x)) == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		struct tm tm = { 0 };

		if (sscanf(t->rows[i].key[0], "%d-%d-%d", &tm.tm_year,
		    &tm.tm_mon, &tm.tm_mday) == 3) {
			tm.tm_year -= 1900;
			tm.tm_mon--;
			x[i] = l + (w - l - r) * ((double)(timegm(&tm) / 86400) -
			    d0) / span;
		} else
			x[i] = l;
	}
	for (i = 0; i < t->n; i++)
		for (k = 0; k < 3; k++)
			if (t->rows[i].v[series[k].f] > max)
				max = t->rows[i].v[series[k].f];
	fputs("<p class=\"legend\">", fp);
	for (k = 0; k < 3; k++)
		fprintf(fp, "<span><i class=\"s%zu\"></i>%s</span>", k,
		    series[k].name);
	fprintf(fp, "</p><svg class=\"chart line\" id=\"per-day\" role=\"img\""
	    " viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\"><title>Messages,"
	    " contacts who clicked and conversions per day</title>\n", w, h, w, h);
	fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\""
	    " stroke=\"#99a\"/><text x=\"%d\" y=\"%d\" text-anchor=\"end\">",
	    l, h - b, w - r, h - b, l - 6, top + 4);
	num(fp, max);
	fprintf(fp, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">0"
	    "</text>\n", l - 6, h - b + 4);
	/* six dates along the axis */
	for (k = 0; k <= 5; k++) {
		double d = d0 + span * (double)k / 5;

		day(lab, sizeof lab, (int64_t)(d + 0.5) * 86400);
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">"
		    "%s</text>\n", l + (w - l - r) * (double)k / 5, h - b + 18,
		    lab);
	}
	for (k = 0; k < 3; k++) {
		fprintf(fp, "<polyline class=\"s%zu\" data-series=\"%s\""
		    " stroke-width=\"2\" points=\"", k, series[k].name);
		for (i = 0; i < t->n; i++)
			fprintf(fp, "%s%.1f,%.1f", i ? " " : "", x[i], (h - b) -
			    (h - b - top) * t->rows[i].v[series[k].f] / max);
		fputs("\" style=\"fill:none\"/>\n", fp);
		for (i = 0; i < t->n; i++)
			fprintf(fp, "<circle class=\"point s%zu\""
			    " data-series=\"%s\" data-day=\"%s\" data-value=\"%.0f\""
			    " cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>\n", k,
			    series[k].name, t->rows[i].key[0],
			    t->rows[i].v[series[k].f], x[i], (h - b) - (h - b -
			    top) * t->rows[i].v[series[k].f] / max);
	}
	fputs("</svg>\n", fp);
	free(x);
}

static void
day(char *b, size_t n, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(b, n, "%Y-%m-%d", &tm);
}

/* Text that a function of abtest.c writes to a stream, into a <pre>
 * (escaped) under a heading, when there is any beyond a table's header:
 * A/B tests and holdouts, in the words the text report uses. */
static int
pre_of(FILE *fp, const char *id, const char *title, const char *text,
    size_t len, size_t header)
{
	if (len <= header)
		return 0;
	fprintf(fp, "<section id=\"%s\"><h2>%s</h2><pre dir=\"auto\">", id,
	    title);
	esc(fp, text);
	fputs("</pre></section>\n", fp);
	return 1;
}

/* A/B tests (the figures and decision per variant) and each campaign's
 * holdout uplift with its interval and what it means in words. */
static int
experiments(nudge_store *st, const nudge_report_opts *o,
    const struct table *camp, FILE *fp, nudge_err *err)
{
	char *text = NULL;
	size_t len = 0, i, head;
	FILE *m;
	int rc;

	if ((m = open_memstream(&text, &len)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	rc = nudge_ab_report(st, o->campaign, o->conversion, NUDGE_FMT_TABLE,
	    m, err);
	fclose(m);
	if (rc == 0) {
		/* a table's header is two lines: nothing more, no test */
		head = 0;
		for (i = 0; i < len && head < 2; i++)
			if (text[i] == '\n')
				head++;
		pre_of(fp, "variants", "A/B tests", text, len, i);
	}
	free(text);
	text = NULL;
	len = 0;
	if (rc != 0)
		return rc;
	if ((m = open_memstream(&text, &len)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	for (i = 0; i < camp->n && rc == 0; i++)
		rc = nudge_ab_uplift(st, camp->rows[i].key[0], o->conversion,
		    o->window, m, err);
	fclose(m);
	if (rc == 0)
		pre_of(fp, "holdouts", "Holdouts: what the campaigns changed",
		    text, len, 0);
	free(text);
	return rc;
}

int
nudge_report_html(nudge_store *st, const nudge_report_opts *o,
    const char *title, FILE *fp, nudge_err *err)
{
	nudge_report_opts p = *o;
	struct table camp = { 0 }, chan = { 0 }, days = { 0 }, steps = { 0 };
	double cur[NHEAD], prev[NHEAD];
	int64_t until = o->has_until ? o->until : (int64_t)time(NULL);
	int64_t since = o->has_since ? o->since : until - 30 * 86400;
	char d0[16], d1[16], p0[16];
	int rc, i;

	p.has_since = p.has_until = 1;
	p.since = since;
	p.until = until;
	if ((rc = headline(st, o, since, until, cur, err)) != 0 ||
	    (rc = headline(st, o, since - (until - since), since, prev,
	    err)) != 0 ||
	    (rc = load(st, &p, NUDGE_REPORT_CAMPAIGN, &camp, err)) != 0 ||
	    (rc = load(st, &p, NUDGE_REPORT_CHANNEL, &chan, err)) != 0 ||
	    (rc = load(st, &p, NUDGE_REPORT_DAY, &days, err)) != 0 ||
	    (rc = load(st, &p, NUDGE_REPORT_STEP, &steps, err)) != 0)
		goto out;
	day(d0, sizeof d0, since);
	day(d1, sizeof d1, until - 1);
	day(p0, sizeof p0, since - (until - since));
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,"
	    "initial-scale=1\"><title>", fp);
	if (title != NULL) {
		esc(fp, title);
		fputs(": ", fp);
	}
	fprintf(fp, "campaign report %s to %s</title><style>%s</style></head>\n"
	    "<body>\n<h1 dir=\"auto\">", d0, d1, style);
	if (title != NULL) {
		esc(fp, title);
		fputs(": ", fp);
	}
	fputs("Campaign report", fp);
	if (o->campaign != NULL) {
		fputs(" \xe2\x80\x94 <bdi>", fp);
		esc(fp, o->campaign);
		fputs("</bdi>", fp);
	}
	fprintf(fp, "</h1>\n<p class=\"period\">From %s to %s (days in %s),"
	    " compared with the %lld days before (from %s).  Messages count"
	    " every message sent; the other figures count contacts, once per"
	    " figure, and rates are shares of the contacts sent to.  A"
	    " conversion is a %s within %lld days after a message, credited"
	    " %s; revenue is its %s", d0, d1, o->local_days ? "local time" :
	    "UTC", (long long)((until - since + 86399) / 86400), p0,
	    o->conversion != NULL ? o->conversion : "purchase",
	    (long long)((o->window > 0 ? o->window : 7 * 86400) / 86400),
	    o->attribution == NUDGE_ATTR_ANY ? "to every campaign that sent"
	    " its contact a message (so it may count for several)" :
	    o->attribution == NUDGE_ATTR_FIRST ? "to the first message that"
	    " reached its contact" : "to the last message that reached its"
	    " contact", o->value != NULL ? o->value : "total");
	if (o->currency != NULL)
		fprintf(fp, " in %s", o->currency);
	fputs(".</p>\n", fp);
	fputs("<section id=\"headline\"><h2>Headline</h2><dl class=\"tiles\">\n",
	    fp);
	for (i = 0; i < NHEAD; i++) {
		fprintf(fp, "<div class=\"tile\" data-figure=\"%s\""
		    " data-value=\"%.2f\" data-previous=\"%.2f\"><dt>%s</dt>"
		    "<dd class=\"v\">", heads[i].id, cur[i], prev[i],
		    heads[i].label);
		if (i == H_SMS_COST && sms_price(o) < 0) {
			fputs("\u2014</dd><dd class=\"d\">no price: report: "
			    "price: sms: in the configuration</dd></div>\n", fp);
			continue;
		}
		if (i == H_SMS_COST)
			fprintf(fp, "%.2f", cur[i]);
		else
			num(fp, cur[i]);
		fputs("</dd><dd class=\"d", fp);
		if (prev[i] > 0) {
			double pct = 100 * (cur[i] - prev[i]) / prev[i];

			fprintf(fp, " %s\">%+.0f%% against ", pct > 0.5 ? "up" :
			    pct < -0.5 ? "down" : "same", pct);
			num(fp, prev[i]);
		} else if (cur[i] > 0)
			fputs("\">none the period before", fp);
		else
			fputs("\">none either period", fp);
		fputs("</dd></div>\n", fp);
	}
	fputs("</dl></section>\n<section id=\"days\"><h2>Per day</h2>\n", fp);
	if (days.n == 0)
		fputs("<p>No messages in this period.</p>\n", fp);
	else {
		lines(fp, &days, since, until);
		figures_table(fp, &days, "table-day", "Per day");
	}
	fputs("</section>\n<section id=\"campaigns\"><h2>Funnel per campaign"
	    "</h2>\n", fp);
	if (camp.n == 0)
		fputs("<p>No campaign sent anything in this period.</p>\n", fp);
	else {
		funnels(fp, &camp);
		bars(fp, &camp, F_REVENUE, "chart-revenue", "Revenue credited, "
		    "per campaign");
		figures_table(fp, &camp, "table-campaign", "Per campaign: the "
		    "figures of nudge report --format csv for this period");
	}
	fputs("</section>\n<section id=\"channels\"><h2>Per channel</h2>\n", fp);
	if (chan.n > 0) {
		bars(fp, &chan, F_SENT, "chart-channel", "Contacts sent to, per "
		    "channel");
		figures_table(fp, &chan, "table-channel", "Per channel");
	}
	fputs("</section>\n<section id=\"steps\"><h2>Per step</h2>\n", fp);
	if (steps.n > 0) {
		bars(fp, &steps, F_SENT, "chart-step", "Contacts sent to, per "
		    "campaign and step");
		figures_table(fp, &steps, "table-step", "Per campaign and step");
	}
	fputs("</section>\n", fp);
	if ((rc = experiments(st, o, &camp, fp, err)) != 0)
		goto out;
	fputs("<p class=\"period\">Made by nudge report.</p>\n"
	    "</body></html>\n", fp);
	if (fflush(fp) == EOF || ferror(fp))
		rc = nudge_errf(err, EX_IOERR, "writing the report: %s",
		    strerror(errno));
out:
	table_free(&camp);
	table_free(&chan);
	table_free(&days);
	table_free(&steps);
	return rc;
}
