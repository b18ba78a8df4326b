/* report: campaign figures from the events table, in one query. */
#include "report.h"

#include <stdio.h>
#include <string.h>

static const char *const figures[] = { "sent", "failed", "bounced",
	"opened", "open_pct", "clicked", "click_pct", "unsubscribed",
	"complained", "conversions", "conversion_pct", "sms_segments" };

static const struct grouping {
	const char *name;
	const char *keys;      /* select list of the key columns, over the
				  events e and campaigns c */
	const char *names[2];  /* their column names */
	size_t nkeys;
} groupings[] = {
	[NUDGE_REPORT_CAMPAIGN] = { "campaign", "c.name AS k1",
	    { "campaign" }, 1 },
	[NUDGE_REPORT_STEP] = { "step",
	    "c.name AS k1, coalesce(e.step, '') AS k2",
	    { "campaign", "step" }, 2 },
	[NUDGE_REPORT_CHANNEL] = { "channel",
	    "coalesce(e.channel, '') AS k1", { "channel" }, 1 },
	[NUDGE_REPORT_DAY] = { "day", "date(e.at, 'unixepoch') AS k1",
	    { "day" }, 1 },
	[NUDGE_REPORT_BOUNCE] = { "bounce", NULL, { "campaign", "domain" },
	    2 },
};

/* --by bounce: email bounces by class (and complaints) per campaign and
 * receiving domain, so that "Gmail blocks us" shows at a glance.  A
 * bounce recorded before bounces had classes counts as hard, as it was
 * treated then. */
static int
bounces(nudge_store *st, const nudge_report_opts *o, sqlite3_stmt **stmt,
    const char *const **cols, size_t *ncols, nudge_err *err)
{
	static const char *const names[] = { "campaign", "domain", "hard",
		"soft", "sender_side", "complained", "top_reasons" };
	char sql[1600];
	int rc;

	snprintf(sql, sizeof sql, "WITH b AS (SELECT coalesce(c.name, '') AS"
	    " campaign, lower(substr(k.email, instr(k.email, '@') + 1)) AS"
	    " domain, e.contact_id, e.type, CASE WHEN e.type = 'bounced' THEN"
	    " coalesce(e.props ->> 'class', 'hard') END AS cls,"
	    " e.props ->> 'reason' AS reason"
	    " FROM events e JOIN contacts k ON k.id = e.contact_id"
	    " LEFT JOIN campaigns c ON c.id = e.campaign_id"
	    " WHERE e.type IN ('bounced', 'complained') AND"
	    " coalesce(e.channel, 'email') = 'email'%s%s)"
	    " SELECT campaign, domain,"
	    " count(DISTINCT CASE WHEN cls = 'hard' THEN contact_id END) AS h,"
	    " count(DISTINCT CASE WHEN cls = 'soft' THEN contact_id END) AS s,"
	    " count(DISTINCT CASE WHEN cls = 'sender' THEN contact_id END) AS o,"
	    " count(DISTINCT CASE WHEN type = 'complained' THEN contact_id END)"
	    " AS x, coalesce((SELECT group_concat(reason || ' ' || n, ', ')"
	    "  FROM (SELECT reason, count(*) AS n FROM b r"
	    "  WHERE r.campaign = b.campaign AND r.domain IS b.domain"
	    "  AND reason IS NOT NULL GROUP BY reason ORDER BY n DESC, reason"
	    "  LIMIT 3)), '')"
	    " FROM b GROUP BY campaign, domain"
	    " ORDER BY h + s + o + x DESC, campaign, domain",
	    o->campaign != NULL ? " AND e.campaign_id = (SELECT id FROM"
	    " campaigns WHERE name = :campaign)" : "",
	    o->has_since ? " AND e.at >= :since" : "");
	if ((rc = nudge_store_prepare(st, stmt, sql, err)) != 0)
		return rc;
	if (o->campaign != NULL)
		sqlite3_bind_text(*stmt, sqlite3_bind_parameter_index(*stmt,
		    ":campaign"), o->campaign, -1, SQLITE_TRANSIENT);
	if (o->has_since)
		sqlite3_bind_int64(*stmt, sqlite3_bind_parameter_index(*stmt,
		    ":since"), o->since);
	*cols = names;
	*ncols = sizeof names / sizeof names[0];
	return 0;
}

int
nudge_report_by_parse(const char *name, enum nudge_report_by *by)
{
	size_t i;

	for (i = 0; i < sizeof groupings / sizeof groupings[0]; i++) {
		if (strcmp(groupings[i].name, name) == 0) {
			*by = (enum nudge_report_by)i;
			return 0;
		}
	}
	return -1;
}

int
nudge_report_prepare(nudge_store *st, const nudge_report_opts *o,
    sqlite3_stmt **stmt, const char *const **cols, size_t *ncols,
    nudge_err *err)
{
	static const char *names[2 + sizeof figures / sizeof figures[0]];
	const struct grouping *g = &groupings[o->by];
	const char *keys = g->nkeys == 2 ? "k1, k2" : "k1";
	char filter[160];
	nudge_buf sql = { 0 };
	size_t i;
	int rc;

	if (o->by == NUDGE_REPORT_BOUNCE)
		return bounces(st, o, stmt, cols, ncols, err);
	/*
	 * ev: the campaign events in scope with their group; conv: per
	 * group, the contacts who converted within the window after a sent
	 * message (a probe of events_contact per message: O(sent)).  Figures
	 * count distinct contacts, so a contact who opened twice is one open.
	 * The filters are written only when given, so that a campaign is
	 * found by name and its events through events_campaign: a "x IS
	 * NULL OR" would make every report scan the whole events table.
	 */
	filter[0] = '\0';
	if (o->campaign != NULL)
		strcat(filter, " AND e.campaign_id = (SELECT id FROM campaigns"
		    " WHERE name = :campaign)");
	if (o->has_since)
		strcat(filter, " AND e.at >= :since");
	if (o->has_until)
		strcat(filter, " AND e.at < :until");
	nudge_buf_printf(&sql,
	    "WITH ev AS (SELECT %s, e.type, e.contact_id, e.at,"
	    /* what an sms cost: the parts it went out in (send's props) */
	    " CASE WHEN e.type = 'sent' AND e.channel = 'sms' THEN"
	    " coalesce(e.props ->> 'segments', 1) END AS seg"
	    " FROM events e JOIN campaigns c ON c.id = e.campaign_id"
	    " WHERE e.type IN ('sent', 'failed', 'bounced', 'opened', 'clicked',"
	    " 'unsubscribed', 'complained')%s),"
	    " conv AS (SELECT %s, count(DISTINCT e.contact_id) AS n"
	    " FROM events e JOIN campaigns c ON c.id = e.campaign_id"
	    " WHERE e.type = 'sent'%s AND EXISTS (SELECT 1 FROM events p"
	    " WHERE p.contact_id = e.contact_id AND p.type = :conversion"
	    " AND p.at >= e.at AND p.at <= e.at + :window) GROUP BY %s),"
	    " agg AS (SELECT %s, min(at) AS first_at",
	    g->keys, filter, g->keys, filter, keys, keys);
	for (i = 0; i < sizeof figures / sizeof figures[0]; i++) {
		const char *f = figures[i];

		/* rates and conversions come after; the other figures are
		 * named after their event type */
		if (strstr(f, "_pct") != NULL || strcmp(f, "conversions") == 0 ||
		    strcmp(f, "sms_segments") == 0)
			continue;
		nudge_buf_printf(&sql, ", count(DISTINCT CASE WHEN type = '%s'"
		    " THEN contact_id END) AS %s", f, f);
	}
	nudge_buf_printf(&sql, ", coalesce(sum(seg), 0) AS sms_segments"
	    " FROM ev GROUP BY %s)"
	    " SELECT agg.k1%s, sent, failed, bounced,"
	    " opened, round(100.0 * opened / nullif(sent, 0), 1),"
	    " clicked, round(100.0 * clicked / nullif(sent, 0), 1),"
	    " unsubscribed, complained, coalesce(conv.n, 0),"
	    " round(100.0 * coalesce(conv.n, 0) / nullif(sent, 0), 1),"
	    " sms_segments FROM agg LEFT JOIN conv ON conv.k1 IS agg.k1%s"
	    " ORDER BY first_at, agg.k1%s",
	    keys, g->nkeys == 2 ? ", agg.k2" : "",
	    g->nkeys == 2 ? " AND conv.k2 IS agg.k2" : "",
	    g->nkeys == 2 ? ", agg.k2" : "");
	if (sql.s == NULL) {
		nudge_buf_free(&sql);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	rc = nudge_store_prepare(st, stmt, sql.s, err);
	nudge_buf_free(&sql);
	if (rc != 0)
		return rc;
	if (o->campaign != NULL)
		sqlite3_bind_text(*stmt, sqlite3_bind_parameter_index(*stmt,
		    ":campaign"), o->campaign, -1, SQLITE_TRANSIENT);
	if (o->has_since)
		sqlite3_bind_int64(*stmt, sqlite3_bind_parameter_index(*stmt,
		    ":since"), o->since);
	if (o->has_until)
		sqlite3_bind_int64(*stmt, sqlite3_bind_parameter_index(*stmt,
		    ":until"), o->until);
	sqlite3_bind_text(*stmt, sqlite3_bind_parameter_index(*stmt,
	    ":conversion"), o->conversion != NULL ? o->conversion : "purchase",
	    -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(*stmt, sqlite3_bind_parameter_index(*stmt,
	    ":window"), o->window > 0 ? o->window : 7 * 86400);
	for (i = 0; i < g->nkeys; i++)
		names[i] = g->names[i];
	for (i = 0; i < sizeof figures / sizeof figures[0]; i++)
		names[g->nkeys + i] = figures[i];
	*cols = names;
	*ncols = g->nkeys + sizeof figures / sizeof figures[0];
	return 0;
}

int
nudge_report_write(nudge_store *st, const nudge_report_opts *o,
    enum nudge_fmt_kind kind, FILE *fp, nudge_err *err)
{
	const char *const *cols;
	sqlite3_stmt *s;
	size_t ncols;
	int rc;

	if ((rc = nudge_report_prepare(st, o, &s, &cols, &ncols, err)) != 0)
		return rc;
	/* campaign and step names are the user's: a report opened in a
	 * spreadsheet must not run one as a formula */
	return nudge_fmt_query(fp, kind, cols, ncols, 1, st, s, "report", err);
}
