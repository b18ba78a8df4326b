/* report: campaign figures from the events table, in one query. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segment.h"
#include "event.h"

/* The figure columns of every grouping but bounce and link, in order
 * (reporthtml.c's F_ enum follows it). */
static const char *const figures[] = { "messages", "contacts", "failed",
	"bounced", "opened", "open_pct_contacts", "clicked",
	"click_pct_contacts", "unsubscribed", "complained", "converted",
	"conversion_pct_contacts", "conversions", "revenue",
	"revenue_per_message", "sms_segments", "cost", "revenue_per_cost" };

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
	[NUDGE_REPORT_LINK] = { "link", NULL, { "campaign", "url" }, 2 },
	/* the band of the contact's latest prediction, not of the day of
	 * the message: who the campaigns reach among those slipping away */
	[NUDGE_REPORT_CHURN] = { "churn", "coalesce((SELECT CASE WHEN"
	    " p.churn_risk >= 0.7 THEN 'gone (70% and more)' WHEN p.churn_risk"
	    " >= 0.3 THEN 'at risk (30% to 70%)' ELSE 'active (under 30%)' END"
	    " FROM predictions p WHERE p.contact_id = e.contact_id),"
	    " 'no prediction') AS k1", { "churn_risk" }, 1 },
	/* its name and keys are the field's: nudge_report_prepare */
	[NUDGE_REPORT_FIELD] = { "", "(SELECT v FROM fv WHERE fv.cid ="
	    " e.contact_id) AS k1", { "" }, 1 },
};

static const char *const attributions[] = {
	[NUDGE_ATTR_LAST] = "last-touch",
	[NUDGE_ATTR_FIRST] = "first-touch",
	[NUDGE_ATTR_ANY] = "any",
};

int
nudge_report_attribution_parse(const char *name,
    enum nudge_report_attribution *a)
{
	size_t i;

	for (i = 0; i < sizeof attributions / sizeof attributions[0]; i++) {
		if (strcmp(attributions[i], name) == 0) {
			*a = (enum nudge_report_attribution)i;
			return 0;
		}
	}
	return -1;
}

static void
bind_text(sqlite3_stmt *s, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(s, name);

	if (i > 0)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static void
bind_int(sqlite3_stmt *s, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(s, name);

	if (i > 0)
		sqlite3_bind_int64(s, i, v);
}

/* The filters of o over the events aliased a, written only when given,
 * so that a campaign is found by name and its events through
 * events_campaign: a "x IS NULL OR" would make every report scan the
 * whole events table. */
static void
filters(char *f, size_t n, const nudge_report_opts *o, const char *a)
{
	snprintf(f, n, "%s%s%s%s%s%s%s%s%s",
	    o->campaign != NULL ? " AND " : "",
	    o->campaign != NULL ? a : "",
	    o->campaign != NULL ? ".campaign_id = (SELECT id FROM campaigns"
	    " WHERE name = :campaign)" : "",
	    o->has_since ? " AND " : "", o->has_since ? a : "",
	    o->has_since ? ".at >= :since" : "",
	    o->has_until ? " AND " : "", o->has_until ? a : "",
	    o->has_until ? ".at < :until" : "");
}

static void
bind_common(sqlite3_stmt *s, const nudge_report_opts *o)
{
	if (o->campaign != NULL)
		bind_text(s, ":campaign", o->campaign);
	if (o->has_since)
		bind_int(s, ":since", o->since);
	if (o->has_until)
		bind_int(s, ":until", o->until);
}

/* --by link: clicks per URL (the clicked event's url prop, see track.c)
 * per campaign. */
static int
links(nudge_store *st, const nudge_report_opts *o, sqlite3_stmt **stmt,
    const char *const **cols, size_t *ncols, nudge_err *err)
{
	static const char *const names[] = { "campaign", "url", "clicks",
		"contacts", "click_pct_contacts" };
	char sql[1400], fe[200], fs[200];
	int rc;

	filters(fe, sizeof fe, o, "e");
	filters(fs, sizeof fs, o, "s");
	snprintf(sql, sizeof sql, "SELECT c.name, coalesce(e.props ->> 'url',"
	    " '') AS url, count(*) AS n, count(DISTINCT e.contact_id),"
	    " round(100.0 * count(DISTINCT e.contact_id) / nullif((SELECT"
	    " count(DISTINCT s.contact_id) FROM events s WHERE s.campaign_id ="
	    " e.campaign_id AND s.type = 'sent'%s), 0), 1)"
	    " FROM events e JOIN campaigns c ON c.id = e.campaign_id"
	    " WHERE e.type = 'clicked'%s GROUP BY e.campaign_id, url"
	    " ORDER BY c.first_sent_at, c.name, n DESC, url", fs, fe);
	if ((rc = nudge_store_prepare(st, stmt, sql, err)) != 0)
		return rc;
	bind_common(*stmt, o);
	*cols = names;
	*ncols = sizeof names / sizeof names[0];
	return 0;
}

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
		if (i != NUDGE_REPORT_FIELD &&
		    strcmp(groupings[i].name, name) == 0) {
			*by = (enum nudge_report_by)i;
			return 0;
		}
	}
	return -1;
}

/*
 * agg, the figures of each group but conversions: from ev, or per
 * campaign over all time (counted) from the counts the writers keep
 * (event.h), where a type's contacts are its row's, messages the sent
 * row's events, and filter (over e) may name one campaign.  Parts (and
 * so SMS segments and cost) are ev's or campaign_channels'.
 */
static void
agg(nudge_buf *sql, const nudge_report_opts *o, int counted,
    const char *keys, const char *filter)
{
	/* a sum of parts times something, over ev or campaign_channels */
	const char *sum = counted ? " (SELECT coalesce(sum(parts * " :
	    " coalesce(sum(parts * ";
	const char *end = counted ? "), 0) FROM campaign_channels h"
	    " WHERE h.campaign_id = c.id)" : "), 0)";
	size_t i;

	if (counted)
		nudge_buf_printf(sql, " agg AS (SELECT c.name AS k1,"
		    " min(e.first_at) AS first_at, coalesce(sum(e.events)"
		    " FILTER (WHERE e.type = 'sent'), 0) AS messages");
	else
		nudge_buf_printf(sql, " agg AS (SELECT %s, min(at) AS first_at,"
		    " count(*) FILTER (WHERE type = 'sent') AS messages", keys);
	for (i = 1; i < sizeof figures / sizeof figures[0]; i++) {
		/* the other figures are named after their event type */
		const char *f = figures[i], *t = i == 1 ? "sent" : f;

		if (strcmp(f, "converted") == 0)
			break;
		if (strstr(f, "_pct") != NULL)
			continue;
		nudge_buf_printf(sql, counted ? ", coalesce(sum(e.contacts)"
		    " FILTER (WHERE e.type = '%s'), 0) AS %s" :
		    ", count(DISTINCT CASE WHEN type = '%s' THEN contact_id"
		    " END) AS %s", t, f);
	}
	nudge_buf_printf(sql, ",%s(channel = 'sms')%s AS sms_segments,", sum,
	    end);
	if (o->nprices == 0)
		nudge_buf_printf(sql, " NULL");
	else {
		/* each channel's price of a part */
		nudge_buf_printf(sql, "%sCASE channel", sum);
		for (i = 0; i < o->nprices; i++)
			nudge_buf_printf(sql, " WHEN :pc%zu THEN :pp%zu", i, i);
		nudge_buf_printf(sql, " ELSE 0 END%s", end);
	}
	if (counted)
		nudge_buf_printf(sql, " AS cost FROM campaign_counts e"
		    " JOIN campaigns c ON c.id = e.campaign_id"
		    " WHERE e.events > 0%s GROUP BY c.id", filter);
	else
		nudge_buf_printf(sql, " AS cost FROM ev GROUP BY %s", keys);
}

int
nudge_report_prepare(nudge_store *st, const nudge_report_opts *o,
    sqlite3_stmt **stmt, const char *const **cols, size_t *ncols,
    nudge_err *err)
{
	static const char *names[2 + sizeof figures / sizeof figures[0]];
	const struct grouping *g = &groupings[o->by];
	const char *keys = g->nkeys == 2 ? "k1, k2" : "k1";
	const char *gkeys = g->keys;
	int counted;
	/* a conversion's value, in the configured currency only */
	static const char val[] = "CASE WHEN :currency IS NULL OR"
	    " q.props ->> 'currency' IS NULL OR"
	    " upper(q.props ->> 'currency') = :currency"
	    " THEN CAST(q.props ->> :value AS REAL) END";
	char filter[200], qfilter[300], probe[300], pname[32];
	nudge_buf sql = { 0 };
	nudge_seg fseg;
	char *fsql = NULL;
	size_t i;
	int rc;

	if (o->by == NUDGE_REPORT_BOUNCE)
		return bounces(st, o, stmt, cols, ncols, err);
	if (o->by == NUDGE_REPORT_LINK)
		return links(st, o, stmt, cols, ncols, err);
	if (o->by == NUDGE_REPORT_DAY && o->local_days)
		gkeys = "date(e.at, 'unixepoch', 'localtime') AS k1";
	filters(filter, sizeof filter, o, "e");
	memset(&fseg, 0, sizeof fseg);
	fseg.now = o->now;
	nudge_buf_puts(&sql, "WITH ");
	if (o->by == NUDGE_REPORT_FIELD) {
		/*
		 * fv: the field's value for each contact a campaign sent to,
		 * computed once a contact (the segment compiler's aggregate,
		 * c the contact) and looked up by the events' keys.  First in
		 * the text, so that its ?N parameters keep their numbers and
		 * the :named ones come after them.
		 */
		if ((rc = nudge_seg_computed_sql(&fseg, o->field, &fsql,
		    err)) != 0) {
			nudge_seg_free(&fseg);
			return rc;
		}
		nudge_buf_printf(&sql, "fv AS MATERIALIZED (SELECT c.id AS cid,"
		    " %s AS v FROM contacts c WHERE c.id IN (SELECT e.contact_id"
		    " FROM events e WHERE e.type = 'sent'"
		    " AND e.campaign_id IS NOT NULL%s)), ", fsql, filter);
		free(fsql);
	}
	/*
	 * ev: the campaign events in scope with their group.  Figures other
	 * than messages, conversions and money count distinct contacts, so a
	 * contact who opened twice is one open.  Per campaign over all time
	 * the counts kept by the writers (event.h) give the same figures
	 * from a few rows a campaign: ev is not needed.
	 */
	counted = o->by == NUDGE_REPORT_CAMPAIGN && !o->has_since &&
	    !o->has_until;
	if (!counted)
		nudge_buf_printf(&sql,
		    "ev AS (SELECT %s, e.type, e.contact_id, e.at, e.channel,"
		    /* the parts an sms went out in (send's props) */
		    " CASE WHEN e.type = 'sent' THEN %s END AS parts"
		    " FROM events e JOIN campaigns c ON c.id = e.campaign_id"
		    " WHERE e.type IN %s%s),", gkeys, NUDGE_EVENT_PARTS("e"),
		    NUDGE_EVENT_COUNTED, filter);
	/*
	 * cr: one row per (group, conversion) credited.  Last- and
	 * first-touch find, for each conversion, its one message among all
	 * of the contact's (any campaign, any channel, whatever the
	 * filters): a probe of events_type_contact per conversion,
	 * O(conversions log events), the conversions taken in contact
	 * order from the same index so that each probe lands next to the
	 * one before; the filters then keep the conversions whose message
	 * they select, so no conversion is credited twice.  With a campaign
	 * only the conversions of its contacts are probed.  Per campaign
	 * over all time the probe's campaign is the group: a credited
	 * conversion's row is read (for its value) in id order, an
	 * uncredited one's not at all.  Any credits a conversion to every
	 * group with a message in the window before it (O(sent) probes),
	 * once per group.
	 */
	if (o->attribution == NUDGE_ATTR_ANY)
		nudge_buf_printf(&sql,
		    " cr AS (SELECT DISTINCT %s, q.id AS pid, q.contact_id,"
		    " %s AS val FROM events e JOIN campaigns c"
		    " ON c.id = e.campaign_id JOIN events q"
		    " ON q.contact_id = e.contact_id AND q.type = :conversion"
		    " AND q.at >= e.at AND q.at <= e.at + :window"
		    " WHERE e.type = 'sent'%s),", gkeys, val, filter);
	else {
		const char *dir = o->attribution == NUDGE_ATTR_FIRST ? "ASC" :
		    "DESC";

		snprintf(qfilter, sizeof qfilter, "%s%s%s",
		    o->has_since ? " AND q.at >= :since" : "",
		    o->has_until ? " AND q.at < :until + :window" : "",
		    o->campaign != NULL ? " AND q.contact_id IN (SELECT"
		    " contact_id FROM events WHERE campaign_id = (SELECT id FROM"
		    " campaigns WHERE name = :campaign) AND type = 'sent')" : "");
		snprintf(probe, sizeof probe, "FROM events s"
		    " WHERE s.type = 'sent' AND s.contact_id = q.contact_id"
		    " AND s.at <= q.at AND s.at >= q.at - :window"
		    " AND s.campaign_id IS NOT NULL ORDER BY s.at %s, s.id %s"
		    " LIMIT 1", dir, dir);
		if (counted)
			nudge_buf_printf(&sql,
			    /* LIMIT -1: the probes stream, each once, not
			     * flattened into a WHERE that would run them
			     * again */
			    " cp AS MATERIALIZED (SELECT * FROM (SELECT q.id AS"
			    " pid, q.contact_id, (SELECT s.campaign_id %s) AS cid"
			    " FROM events q INDEXED BY events_type_contact"
			    " WHERE q.type = :conversion%s LIMIT -1)"
			    " WHERE cid IS NOT NULL%s ORDER BY pid),"
			    " cr AS (SELECT c.name AS k1, p.contact_id, %s AS val"
			    " FROM cp p JOIN events q ON q.id = p.pid"
			    " JOIN campaigns c ON c.id = p.cid),", probe, qfilter,
			    o->campaign != NULL ? " AND cid = (SELECT id FROM"
			    " campaigns WHERE name = :campaign)" : "", val);
		else
			nudge_buf_printf(&sql,
			    " cr AS (SELECT %s, p.contact_id, p.val FROM"
			    " (SELECT q.contact_id, %s AS val, (SELECT s.id %s)"
			    " AS sid FROM events q INDEXED BY events_type_contact"
			    " WHERE q.type = :conversion%s) p JOIN events e"
			    " ON e.id = p.sid JOIN campaigns c"
			    " ON c.id = e.campaign_id WHERE 1%s),",
			    gkeys, val, probe, qfilter, filter);
	}
	nudge_buf_printf(&sql,
	    " conv AS (SELECT %s, count(*) AS n, count(DISTINCT contact_id)"
	    " AS k, sum(val) AS rev FROM cr GROUP BY %s),", keys, keys);
	agg(&sql, o, counted, keys, filter);
	nudge_buf_printf(&sql, ")"
	    " SELECT agg.k1%s, messages, contacts, failed, bounced,"
	    " opened, round(100.0 * opened / nullif(contacts, 0), 1),"
	    " clicked, round(100.0 * clicked / nullif(contacts, 0), 1),"
	    " unsubscribed, complained, coalesce(conv.k, 0),"
	    " round(100.0 * coalesce(conv.k, 0) / nullif(contacts, 0), 1),"
	    " coalesce(conv.n, 0), round(coalesce(conv.rev, 0), 2),"
	    " round(coalesce(conv.rev, 0) / nullif(messages, 0), 2),"
	    " sms_segments, round(cost, 4),"
	    " round(coalesce(conv.rev, 0) / nullif(cost, 0), 2)"
	    " FROM agg LEFT JOIN conv ON conv.k1 IS agg.k1%s"
	    " ORDER BY first_at, agg.k1%s",
	    g->nkeys == 2 ? ", agg.k2" : "",
	    g->nkeys == 2 ? " AND conv.k2 IS agg.k2" : "",
	    g->nkeys == 2 ? ", agg.k2" : "");
	if (sql.s == NULL) {
		nudge_buf_free(&sql);
		nudge_seg_free(&fseg);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	rc = nudge_store_prepare(st, stmt, sql.s, err);
	nudge_buf_free(&sql);
	if (rc == 0 && o->by == NUDGE_REPORT_FIELD &&
	    (rc = nudge_seg_bind_copy(&fseg, *stmt, err)) != 0) {
		sqlite3_finalize(*stmt);
		*stmt = NULL;
	}
	nudge_seg_free(&fseg);
	if (rc != 0)
		return rc;
	bind_common(*stmt, o);
	bind_text(*stmt, ":conversion", o->conversion != NULL ?
	    o->conversion : "purchase");
	bind_text(*stmt, ":value", o->value != NULL ? o->value : "total");
	if (o->currency != NULL)
		bind_text(*stmt, ":currency", o->currency);
	bind_int(*stmt, ":window", o->window > 0 ? o->window : 7 * 86400);
	for (i = 0; i < o->nprices; i++) {
		snprintf(pname, sizeof pname, ":pc%zu", i);
		bind_text(*stmt, pname, o->price_channel[i]);
		snprintf(pname, sizeof pname, ":pp%zu", i);
		sqlite3_bind_double(*stmt, sqlite3_bind_parameter_index(*stmt,
		    pname), o->price[i]);
	}
	for (i = 0; i < g->nkeys; i++)
		names[i] = o->by == NUDGE_REPORT_FIELD ? o->field : g->names[i];
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
	/* campaign and step names are the user's: in CSV, a formula cell
	 * is marked as in every CSV nudge writes (nudge_fmt_csv_field) */
	return nudge_fmt_query(fp, kind, cols, ncols, st, s, "report", err);
}
