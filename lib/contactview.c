/* contactview: the support desk's views; see contactview.h. */
#include "contactview.h"
#include "channel.h"
#include "computed.h"
#include "policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "contact.h"
#include "names.h"

#define ISO(x) "strftime('%Y-%m-%dT%H:%M:%SZ', " x ", 'unixepoch')"

/* A section of a contact's story: its title, its columns, and the query
 * (?1 the contact id) that gives them, newest first. */
struct section {
	const char *title;
	const char *cols[9];
	size_t ncols;
	const char *sql;
};

/* The contact's fields then its attrs, a row each; NULL fields left out;
 * an attrs key imported from a column of another name shows it, as
 * "default_address_city (Default Address City)" (attr_names, contact.h).
 * (Kept apart: in JSON they are one object, not an array.) */
static const char sql_fields[] =
    "SELECT field, value FROM ("
    " SELECT 1 o, 'id' field, id value FROM contacts WHERE id = ?1"
    " UNION ALL SELECT 2, 'email', email FROM contacts WHERE id = ?1"
    " UNION ALL SELECT 3, 'phone', phone FROM contacts WHERE id = ?1"
    " UNION ALL SELECT 4, 'push_id', push_id FROM contacts WHERE id = ?1"
    " UNION ALL SELECT 5, 'first_name', first_name FROM contacts"
    "  WHERE id = ?1"
    " UNION ALL SELECT 6, 'last_name', last_name FROM contacts WHERE id = ?1"
    " UNION ALL SELECT 7, 'created_at', " ISO("created_at")
    "  FROM contacts WHERE id = ?1"
    " UNION ALL SELECT 8, 'updated_at', " ISO("updated_at")
    "  FROM contacts WHERE id = ?1"
    " UNION ALL SELECT 9, j.key || coalesce((SELECT ' (' || n.name || ')'"
    "  FROM attr_names n WHERE n.key = j.key AND n.name <> j.key), ''),"
    "  j.value FROM json_each((SELECT attrs FROM contacts WHERE id = ?1)) j)"
    " WHERE value IS NOT NULL ORDER BY o, field";

static const char sql_json_fields[] =
    "SELECT json_object('id', id, 'email', email, 'phone', phone,"
    " 'push_id', push_id, 'first_name', first_name, 'last_name', last_name,"
    " 'created_at', " ISO("created_at") ", 'updated_at', "
    ISO("updated_at") ", 'attrs', json(attrs))"
    " FROM contacts WHERE id = ?1";

static const struct section sections[] = {
	/* lists first, then list_members by its key (list_id, contact_id):
	 * a seek per list, where contact_id alone would scan the table */
	{ "lists", { "list", "added_at" }, 2,
	    "SELECT l.name AS list, " ISO("m.added_at") " AS added_at"
	    " FROM lists l CROSS JOIN list_members m"
	    " WHERE m.list_id = l.id AND m.contact_id = ?1"
	    " ORDER BY m.added_at DESC, l.name" },
	/* the audit trail; per channel the first row is the state */
	{ "consent", { "channel", "status", "at", "source", "event",
	    "proof" }, 6,
	    "SELECT c.channel, c.status, " ISO("c.at") " AS at, c.source,"
	    " e.type AS event, e.props AS proof"
	    " FROM consent c LEFT JOIN events e ON e.id = c.event_id"
	    " WHERE c.contact_id = ?1"
	    " ORDER BY c.channel, c.at DESC, c.id DESC" },
	{ "events", { "at", "type", "channel", "campaign", "step", "props" }, 6,
	    "SELECT " ISO("e.at") " AS at, e.type, e.channel,"
	    " cp.name AS campaign, e.step, e.props"
	    " FROM events e LEFT JOIN campaigns cp ON cp.id = e.campaign_id"
	    " WHERE e.contact_id = ?1 ORDER BY e.at DESC, e.id DESC" },
	/* the ledger: every message claimed for the contact and what
	 * became of it; error says why one failed or bounced */
	{ "messages", { "at", "campaign", "step", "channel", "status",
	    "attempts", "error", "provider_id" }, 8,
	    "SELECT " ISO("m.updated_at") " AS at, cp.name AS campaign,"
	    " m.step, m.channel, m.status, m.attempts, m.error, m.provider_id"
	    " FROM messages m JOIN campaigns cp ON cp.id = m.campaign_id"
	    " WHERE m.contact_id = ?1 ORDER BY m.updated_at DESC, m.id DESC" },
	/* what nudge predict made of her purchases (predict.h), when it ran */
	{ "predictions", { "p_alive", "churn_risk", "expected_purchases_90d",
	    "expected_order_value", "clv_365d", "fitted_at" }, 6,
	    "SELECT round(p.p_alive, 3) AS p_alive, round(p.churn_risk, 3)"
	    " AS churn_risk, round(p.expected_purchases_90d, 2) AS"
	    " expected_purchases_90d, round(p.expected_order_value, 2) AS"
	    " expected_order_value, round(p.clv_365d, 2) AS clv_365d, "
	    ISO("f.fitted_at") " AS fitted_at"
	    " FROM predictions p JOIN predict_fits f ON f.id = p.fit_id"
	    " WHERE p.contact_id = ?1" },
	/* her best hour to send (besthour.h), from her opens and clicks */
	{ "best_hour", { "best_hour", "best_weekday", "events", "timezone",
	    "fitted_at" }, 5,
	    "SELECT printf('%02d:00', h.best_hour) AS best_hour,"
	    " CASE h.best_wday WHEN 0 THEN 'Sunday' WHEN 1 THEN 'Monday'"
	    " WHEN 2 THEN 'Tuesday' WHEN 3 THEN 'Wednesday' WHEN 4 THEN"
	    " 'Thursday' WHEN 5 THEN 'Friday' ELSE 'Saturday' END AS"
	    " best_weekday, h.events, f.timezone, " ISO("f.fitted_at")
	    " AS fitted_at FROM send_hours h JOIN send_hour_fits f ON"
	    " f.id = h.fit_id WHERE h.contact_id = ?1" },
};

#define NSECTIONS (sizeof sections / sizeof sections[0])

static int
prep(nudge_store *st, sqlite3_stmt **s, const char *sql, int64_t id,
    nudge_err *err)
{
	int rc;

	if ((rc = nudge_store_prepare(st, s, sql, err)) != 0)
		return rc;
	sqlite3_bind_int64(*s, 1, id);
	return 0;
}

/* Writes one titled table; "TITLE: none" when it has no rows. */
static int
table(nudge_store *st, FILE *fp, const char *title, const char *const *cols,
    size_t ncols, const char *sql, int64_t id, nudge_err *err)
{
	sqlite3_stmt *s;
	int rc, step;

	if ((rc = prep(st, &s, sql, id, err)) != 0)
		return rc;
	if ((step = sqlite3_step(s)) == SQLITE_DONE) {
		sqlite3_finalize(s);
		fprintf(fp, "\n%s: none\n", title);
		return 0;
	}
	if (step != SQLITE_ROW) {
		rc = nudge_store_error(st, err, title);
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_reset(s);
	fprintf(fp, "\n%s:\n", title);
	return nudge_fmt_query(fp, NUDGE_FMT_TABLE, cols, ncols, st, s,
	    title, err);
}

/* The one text value of sql (bound to id) into b, or "null" for none. */
static int
one_text(nudge_store *st, const char *sql, int64_t id, nudge_buf *b,
    const char *what, nudge_err *err)
{
	sqlite3_stmt *s;
	int rc = 0, step;

	if ((rc = prep(st, &s, sql, id, err)) != 0)
		return rc;
	step = sqlite3_step(s);
	if (step == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		if (nudge_buf_add(b, sqlite3_column_text(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0)) == -1)
			rc = nudge_errf(err, EX_OSERR, "out of memory");
	} else if (step == SQLITE_ROW || step == SQLITE_DONE) {
		if (nudge_buf_add(b, "null", 4) == -1)
			rc = nudge_errf(err, EX_OSERR, "out of memory");
	} else {
		rc = nudge_store_error(st, err, what);
	}
	sqlite3_finalize(s);
	return rc;
}

/* A section as a JSON array of objects, keys its columns, newest first:
 * SQLite's json_group_array over the section's own query. */
static int
json_section(nudge_store *st, const struct section *sec, int64_t id,
    nudge_buf *b, nudge_err *err)
{
	nudge_buf q = { 0 };
	size_t i;
	int rc, json;

	nudge_buf_printf(&q, "SELECT coalesce(json_group_array(json_object(");
	for (i = 0; i < sec->ncols; i++) {
		json = strcmp(sec->cols[i], "props") == 0 ||
		    strcmp(sec->cols[i], "proof") == 0;
		nudge_buf_printf(&q, "%s'%s', %s\"%s\"%s", i > 0 ? ", " : "",
		    sec->cols[i], json ? "json(" : "", sec->cols[i],
		    json ? ")" : "");
	}
	nudge_buf_printf(&q, ")), '[]') FROM (%s)", sec->sql);
	if (q.failed) {
		nudge_buf_free(&q);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	rc = one_text(st, nudge_buf_str(&q), id, b, sec->title, err);
	nudge_buf_free(&q);
	return rc;
}

static int
exists(nudge_store *st, int64_t id, int *yes, nudge_err *err)
{
	sqlite3_stmt *s;
	int rc, step;

	if ((rc = prep(st, &s, "SELECT 1 FROM contacts WHERE id = ?1", id,
	    err)) != 0)
		return rc;
	step = sqlite3_step(s);
	*yes = step == SQLITE_ROW;
	rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 :
	    nudge_store_error(st, err, "contact");
	sqlite3_finalize(s);
	return rc;
}

/* The configuration's computed fields (computed.h) of contact id at now:
 * one query, as send loads a contact.  Into b as a JSON object when
 * json, else as lines on fp.  Nothing when the config defines none. */
static int
computed_now(nudge_store *st, int64_t id, int64_t now, int json,
    nudge_buf *b, FILE *fp, nudge_err *err)
{
	size_t i, n = nudge_computed_count();
	sqlite3_stmt *s = NULL;
	nudge_seg q;
	int idp = 0, rc, step;

	if (n == 0)
		return 0;
	memset(&q, 0, sizeof q);
	if ((rc = nudge_computed_contact_sql(now, NULL, &q, &idp, err)) != 0 ||
	    (rc = nudge_seg_prepare(st, &q, &s, err)) != 0)
		goto out;
	sqlite3_bind_int64(s, idp, id);
	if ((step = sqlite3_step(s)) != SQLITE_ROW) {
		rc = step == SQLITE_DONE ? 0 : nudge_store_error(st, err,
		    "computed fields");
		goto out;
	}
	if (json)
		nudge_buf_puts(b, ",\"computed\":{");
	else
		fprintf(fp, "\ncomputed fields:\n");
	for (i = 0; i < n; i++) {
		const char *name = nudge_seg_computed_name(i);
		const char *v = (const char *)sqlite3_column_text(s, (int)i + 6);
		int t = sqlite3_column_type(s, (int)i + 6);

		if (!json) {
			fprintf(fp, "  %-24s %s\n", name, v != NULL ? v :
			    "(none)");
			continue;
		}
		if ((i > 0 && nudge_buf_putc(b, ',') == -1) ||
		    nudge_buf_json_str(b, name, strlen(name)) == -1 ||
		    nudge_buf_putc(b, ':') == -1 || (v == NULL ?
		    nudge_buf_puts(b, "null") : t == SQLITE_INTEGER ||
		    t == SQLITE_FLOAT ? nudge_buf_puts(b, v) :
		    nudge_buf_json_str(b, v, strlen(v))) == -1) {
			rc = nudge_errf(err, EX_OSERR, "out of memory");
			goto out;
		}
	}
	if (json && nudge_buf_putc(b, '}') == -1)
		rc = nudge_errf(err, EX_OSERR, "out of memory");
out:
	sqlite3_finalize(s);
	nudge_seg_free(&q);
	return rc;
}

/* What the send policy says of contact id on each channel now: the
 * answer to "why didn't she get it" that no ledger row holds, since a
 * skipped contact is never claimed.  Into b as a JSON array when json,
 * else as a table on fp. */
static int
policy_now(nudge_store *st, int64_t id, const nudge_policy_cfg *pc,
    int64_t now, int json, nudge_buf *b, FILE *fp, nudge_err *err)
{
	nudge_policy *p = NULL;
	char reason[512], quiet[160];
	enum nudge_skip why;
	size_t i;
	int rc;

	if ((rc = nudge_policy_open(&p, st, pc, now, err)) != 0)
		return rc;
	if ((rc = nudge_policy_quiet(pc, now, quiet, sizeof quiet, err)) != 0)
		goto out;
	if (json)
		nudge_buf_puts(b, ",\"policy_now\":[");
	else
		fprintf(fp, "\nmarketing now (the send policy%s%s):\n",
		    quiet[0] != '\0' ? "; " : "", quiet);
	for (i = 0; i < NUDGE_NCHANNELS; i++) {
		const char *ch = nudge_channels[i].name;

		if ((rc = nudge_policy_check(p, id, ch, 0, &why, reason,
		    sizeof reason, err)) != 0)
			goto out;
		if (json) {
			nudge_buf_printf(b, "%s{\"channel\":\"%s\",\"may_send\":"
			    "%s,\"why_not\":", i > 0 ? "," : "", ch, why ==
			    NUDGE_SKIP_NONE ? "true" : "false");
			if (why == NUDGE_SKIP_NONE)
				nudge_buf_puts(b, "null}");
			else if (nudge_buf_json_str(b, reason,
			    strlen(reason)) == -1 || nudge_buf_putc(b, '}') == -1)
				break;
		} else
			fprintf(fp, "  %-6s %s\n", ch, why == NUDGE_SKIP_NONE ?
			    "may be sent" : reason);
	}
	if (json && nudge_buf_putc(b, ']') == -1)
		rc = nudge_errf(err, EX_OSERR, "out of memory");
out:
	nudge_policy_close(p);
	return rc;
}

int
nudge_cview_show(nudge_store *st, int64_t id, enum nudge_fmt_kind kind,
    const nudge_policy_cfg *pc, int64_t now, FILE *fp, nudge_err *err)
{
	static const char *const fcols[] = { "field", "value" };
	nudge_buf b = { 0 };
	size_t i;
	int rc, yes;

	nudge_store_read(st);
	if ((rc = exists(st, id, &yes, err)) != 0)
		goto out;
	if (!yes) {
		rc = nudge_errf(err, EX_DATAERR, "no such contact: %lld",
		    (long long)id);
		goto out;
	}
	if (kind == NUDGE_FMT_JSON) {
		/* the fields' object, then its closing brace replaced by
		 * the sections */
		if ((rc = one_text(st, sql_json_fields, id, &b, "contact",
		    err)) != 0)
			goto out;
		if (b.len > 0 && b.s[b.len - 1] == '}')
			b.len--;
		for (i = 0; i < NSECTIONS && rc == 0; i++) {
			nudge_buf_printf(&b, ",\"%s\":", sections[i].title);
			rc = json_section(st, &sections[i], id, &b, err);
		}
		if (rc == 0)
			rc = computed_now(st, id, now, 1, &b, fp, err);
		if (rc == 0 && pc != NULL)
			rc = policy_now(st, id, pc, now, 1, &b, fp, err);
		if (rc != 0)
			goto out;
		if (nudge_buf_printf(&b, "}\n") == -1) {
			rc = nudge_errf(err, EX_OSERR, "out of memory");
			goto out;
		}
		fputs(nudge_buf_str(&b), fp);
	} else {
		sqlite3_stmt *s;

		fprintf(fp, "contact %lld:\n", (long long)id);
		if ((rc = prep(st, &s, sql_fields, id, err)) != 0 ||
		    (rc = nudge_fmt_query(fp, NUDGE_FMT_TABLE, fcols, 2, st,
		    s, "contact", err)) != 0)
			goto out;
		for (i = 0; i < NSECTIONS && rc == 0; i++)
			rc = table(st, fp, sections[i].title, sections[i].cols,
			    sections[i].ncols, sections[i].sql, id, err);
		if (rc == 0)
			rc = computed_now(st, id, now, 0, NULL, fp, err);
		if (rc == 0 && pc != NULL)
			rc = policy_now(st, id, pc, now, 0, NULL, fp, err);
	}
	if (rc == 0 && fflush(fp) == EOF)
		rc = nudge_errf(err, EX_IOERR, "write: %s", strerror(errno));
out:
	nudge_buf_free(&b);
	nudge_store_read_end(st);
	return rc;
}

int
nudge_cview_find(nudge_store *st, const char *text, const char *country,
    enum nudge_fmt_kind kind, FILE *fp, long *found, nudge_err *err)
{
	char e164[NUDGE_PHONE_MAX];
	const char *why;
	static const char *const cols[] = { "id", "email", "phone", "name" };
	static const char sql[] =
	    "SELECT id, email, phone,"
	    " trim(coalesce(first_name, '') || ' ' || coalesce(last_name, ''))"
	    " AS name FROM contacts"
	    " WHERE email LIKE ?1 ESCAPE '\\' OR phone LIKE ?1 ESCAPE '\\'"
	    "  OR first_name LIKE ?1 ESCAPE '\\' OR last_name LIKE ?1 ESCAPE '\\'"
	    "  OR (first_name || ' ' || last_name) LIKE ?1 ESCAPE '\\'"
	    "  OR phone = ?2"
	    " ORDER BY id";
	nudge_buf pat = { 0 };
	sqlite3_stmt *s;
	nudge_fmt *f;
	const char *p;
	int rc, step;

	*found = 0;
	/* the text is matched as itself: % _ and \ lose their LIKE meaning */
	nudge_buf_putc(&pat, '%');
	for (p = text; *p != '\0'; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			nudge_buf_putc(&pat, '\\');
		nudge_buf_putc(&pat, *p);
	}
	if (nudge_buf_putc(&pat, '%') == -1) {
		nudge_buf_free(&pat);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if ((rc = nudge_store_prepare(st, &s, sql, err)) != 0) {
		nudge_buf_free(&pat);
		return rc;
	}
	sqlite3_bind_text(s, 1, nudge_buf_str(&pat), (int)pat.len,
	    SQLITE_TRANSIENT);
	/* a phone as people type it ("052-123 4567"): its E.164 form */
	if (nudge_phone_norm(text, strlen(text), country, e164, &why) == 0)
		sqlite3_bind_text(s, 2, e164, -1, SQLITE_TRANSIENT);
	nudge_buf_free(&pat);
	if ((rc = nudge_fmt_open(&f, fp, kind, cols, 4, err)) != 0) {
		sqlite3_finalize(s);
		return rc;
	}
	/* names are typed by whoever signed up: the CSV writer
	 * neutralises formulas (nudge_fmt_csv_field) */
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = nudge_fmt_stmt_row(f, s, err)) != 0)
			break;
		(*found)++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = nudge_store_error(st, err, "contacts");
	sqlite3_finalize(s);
	if (nudge_fmt_close(f, rc == 0 ? err : NULL) != 0 && rc == 0)
		rc = EX_IOERR;
	return rc;
}

/* Writes the rows of sql, its ?1 bound to p1 when not NULL, to fp as
 * nudge_fmt_query does. */
static int
rows(nudge_store *st, const char *sql, const char *p1, FILE *fp,
    enum nudge_fmt_kind kind, const char *const *cols, size_t ncols,
    const char *what, nudge_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = nudge_store_prepare(st, &s, sql, err)) != 0)
		return rc;
	if (p1 != NULL)
		sqlite3_bind_text(s, 1, p1, -1, SQLITE_TRANSIENT);
	return nudge_fmt_query(fp, kind, cols, ncols, st, s, what, err);
}

int
nudge_cview_lists(nudge_store *st, enum nudge_fmt_kind kind, FILE *fp,
    nudge_err *err)
{
	static const char *const cols[] = { "list", "members", "subscribed",
	    "unsubscribed", "bounced", "complained", "no_record" };
	/*
	 * From the contacts with an email consent row (few) to the lists,
	 * not from every member (1.4M on the bench store) to its consent:
	 * each one's latest row, then a seek of list_members' key (list_id,
	 * contact_id) per list; a list's members are a count of its key
	 * range, and those with no row the rest.  1.2 s against 6 s for a
	 * consent lookup per member (bench store, 1M contacts, 8 lists).
	 */
	static const char sql[] =
	    "WITH s AS (SELECT c.contact_id, c.status FROM consent c"
	    "  WHERE c.channel = 'email' AND NOT EXISTS (SELECT 1 FROM consent d"
	    "  WHERE d.contact_id = c.contact_id AND d.channel = 'email'"
	    "  AND (d.at > c.at OR (d.at = c.at AND d.id > c.id)))),"
	    " k AS (SELECT l.id AS list_id,"
	    "  sum(s.status = 'subscribed') AS sub,"
	    "  sum(s.status = 'unsubscribed') AS uns,"
	    "  sum(s.status = 'bounced') AS bou,"
	    "  sum(s.status = 'complained') AS com, count(*) AS n"
	    "  FROM s CROSS JOIN lists l CROSS JOIN list_members m"
	    "  WHERE m.list_id = l.id AND m.contact_id = s.contact_id"
	    "  GROUP BY l.id),"
	    " n AS (SELECT l.id, l.name, (SELECT count(*) FROM list_members m"
	    "  WHERE m.list_id = l.id) AS members FROM lists l)"
	    " SELECT n.name, n.members, coalesce(k.sub, 0), coalesce(k.uns, 0),"
	    " coalesce(k.bou, 0), coalesce(k.com, 0), n.members - coalesce(k.n, 0)"
	    " FROM n LEFT JOIN k ON k.list_id = n.id ORDER BY n.name";

	return rows(st, sql, NULL, fp, kind, cols, 7, "lists", err);
}

int
nudge_cview_types(nudge_store *st, enum nudge_fmt_kind kind, FILE *fp,
    nudge_err *err)
{
	static const char *const cols[] = { "type", "events", "last_seen" };
	static const char sql[] = NUDGE_NAMES_SQL_TYPES
	    " SELECT x, (SELECT count(*) FROM events WHERE type = x),"
	    " " ISO("(SELECT max(at) FROM events WHERE type = x)")
	    " FROM t WHERE x IS NOT NULL";

	return rows(st, sql, NULL, fp, kind, cols, 3, "events", err);
}

int
nudge_cview_names(nudge_store *st, const char *what, const char *campaign,
    FILE *fp, nudge_err *err)
{
	static const char *const cols[] = { "name" };
	const char *sql;

	if (strcmp(what, "lists") == 0)
		sql = "SELECT name FROM lists ORDER BY name";
	else if (strcmp(what, "campaigns") == 0)
		sql = "SELECT name FROM campaigns ORDER BY name";
	else if (strcmp(what, "types") == 0)
		sql = NUDGE_NAMES_SQL_TYPES " SELECT x FROM t WHERE x IS NOT NULL";
	else if (strcmp(what, "steps") == 0 && campaign != NULL)
		sql = NUDGE_NAMES_SQL_STEPS;
	else
		return nudge_errf(err, EX_USAGE, "expected lists, types, "
		    "campaigns or steps CAMPAIGN");
	return rows(st, sql, strcmp(what, "steps") == 0 ? campaign : NULL, fp,
	    NUDGE_FMT_IDS, cols, 1, what, err);
}
