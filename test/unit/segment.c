/* Unit tests for the segment compiler (expression -> SQL condition and
 * parameters, or error column and message) and the fmt writer. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "computed.h"
#include "fmt.h"
#include "segment.h"
#include "tap.h"

#define NOW 1793491200 /* 2026-11-01T00:00:00Z */

#define EV(t) "c.id IN (SELECT e.contact_id FROM events e WHERE e.type = " t
#define NEV(t) "c.id NOT IN (SELECT e.contact_id FROM events e WHERE " \
	"e.type = " t
#define LIST(n) "c.id IN (SELECT m.contact_id FROM list_members m WHERE " \
	"m.list_id = (SELECT l.id FROM lists l WHERE l.name = " n "))"

/* expression, the condition it compiles to, its parameters as explain
 * shows them (one per line, without "-- "), or for an error: NULL, the
 * column and the message. */
static const struct {
	const char *expr, *cond, *params;
	size_t col;
} cases[] = {
	{ "opened", EV("?1)"), "?1 = 'opened'", 0 },
	{ "OPENED", NULL, "expected a predicate (list \"NAME\", subscribed "
	  "CHANNEL, @NAME, an event type such as opened, or FIELD OP VALUE), "
	  "got \"OPENED\"", 1 },
	{ "NOT opened", NEV("?1)"), "?1 = 'opened'", 0 },
	{ "received", EV("?1)"), "?1 = 'sent'", 0 },
	{ "opened within 30m", EV("?1 AND e.at >= ?2)"),
	  "?1 = 'opened'\n?2 = 1793489400 (2026-10-31T23:30:00Z)", 0 },
	{ "opened since \"2026-10-01 12:00\"", EV("?1 AND e.at >= ?2)"),
	  "?1 = 'opened'\n?2 = 1790856000 (2026-10-01T12:00:00Z)", 0 },
	{ "opened since 2026-10-01T12:00:00+02:00", EV("?1 AND e.at >= ?2)"),
	  "?1 = 'opened'\n?2 = 1790848800 (2026-10-01T10:00:00Z)", 0 },
	{ "opened channel sms at least 3 times",
	  EV("?1 AND e.channel = ?2 GROUP BY e.contact_id HAVING "
	  "count(*) >= ?3)"), "?1 = 'opened'\n?2 = 'sms'\n?3 = 3", 0 },
	{ "opened at least 1 time", EV("?1)"), "?1 = 'opened'", 0 },
	{ "purchase amount >= 99.5", EV("?1 AND (json_extract(e.props, ?2) "
	  "IS NOT NULL AND json_extract(e.props, ?2) GLOB '*[0-9]*' AND "
	  "CAST(json_extract(e.props, ?2) AS NUMERIC) >= ?3))"),
	  "?1 = 'purchase'\n?2 = '$.\"amount\"'\n?3 = 99.5", 0 },
	{ "purchase sku is set", EV("?1 AND coalesce(json_extract(e.props, "
	  "?2), '') != '')"), "?1 = 'purchase'\n?2 = '$.\"sku\"'", 0 },
	{ "clicked in last 2 campaigns", EV("?1 AND e.campaign_id IN (SELECT "
	  "k.id FROM campaigns k WHERE k.first_sent_at IS NOT NULL ORDER BY "
	  "k.first_sent_at DESC, k.id DESC LIMIT ?2))"),
	  "?1 = 'clicked'\n?2 = 2", 0 },
	{ "list \"a\\\"b\\\\\"", LIST("?1"), "?1 = 'a\"b\\'", 0 },
	{ "list \"it's\"", LIST("?1"), "?1 = 'it''s'", 0 },
	{ "email = \"Dana@Example.COM\"", "c.email IS NOT NULL AND c.email = "
	  "?1", "?1 = 'dana@example.com'", 0 },
	{ "id <= 10", "c.id <= ?1", "?1 = 10", 0 },
	{ "created_at >= \"2026-10-01\"", "c.created_at >= ?1",
	  "?1 = 1790812800 (2026-10-01T00:00:00Z)", 0 },
	{ "first_name contains \"an\"", "c.first_name IS NOT NULL AND "
	  "instr(lower(c.first_name), lower(?1)) > 0", "?1 = 'an'", 0 },
	{ "city != \"Haifa\"", "json_extract(c.attrs, ?1) IS NOT NULL AND "
	  "CAST(json_extract(c.attrs, ?1) AS TEXT) != ?2",
	  "?1 = '$.\"city\"'\n?2 = 'Haifa'", 0 },
	{ "phone is not set", "NOT (coalesce(c.phone, '') != '')", "", 0 },
	{ "not phone is set", "NOT (coalesce(c.phone, '') != '')", "", 0 },
	{ "subscribed sms", "coalesce(c.phone, '') != '' AND c.id NOT IN "
	  "(SELECT n.contact_id FROM consent_now n WHERE n.channel = ?1 AND "
	  "n.status != 'subscribed')", "?1 = 'sms'", 0 },
	{ "opened or clicked and sold", EV("?1)") " OR (" EV("?2)") " AND "
	  EV("?3)") ")", "?1 = 'opened'\n?2 = 'clicked'\n?3 = 'sold'", 0 },
	{ "not (opened or clicked)", NEV("?1)") " AND " NEV("?2)"),
	  "?1 = 'opened'\n?2 = 'clicked'", 0 },
	{ "not (opened and list \"x\")", NEV("?1)") " OR c.id NOT IN (SELECT "
	  "m.contact_id FROM list_members m WHERE m.list_id = (SELECT l.id "
	  "FROM lists l WHERE l.name = ?2))", "?1 = 'opened'\n?2 = 'x'", 0 },
	{ "((opened))", EV("?1)"), "?1 = 'opened'", 0 },
	/* errors: column and message (the top's outer parentheses are
	 * dropped above) */
	{ "", NULL, "expected a predicate (list \"NAME\", subscribed CHANNEL, "
	  "@NAME, an event type such as opened, or FIELD OP VALUE), got the "
	  "end of the expression", 1 },
	{ "opened within 7", NULL, "expected a duration such as 7d after "
	  "\"within\", got \"7\"", 15 },
	{ "opened since yesterday", NULL, "expected a date such as "
	  "2026-10-01 after \"since\", got \"yesterday\"", 14 },
	{ "opened within 1d within 2d", NULL, "a second window: give one "
	  "\"within\" or \"since\"", 18 },
	{ "opened in last three campaigns", NULL, "expected a whole number "
	  "after \"last\", got \"three\"", 16 },
	{ "opened at least 2", NULL, "expected \"times\", got the end of the "
	  "expression", 18 },
	{ "opened campaign promo", NULL, "expected a campaign name in double "
	  "quotes after \"campaign\", got \"promo\"", 17 },
	{ "age > ", NULL, "expected a value after \">\" (a \"quoted string\" "
	  "or a number), got the end of the expression", 7 },
	{ "age is", NULL, "expected \"set\" after \"is\", got the end of the "
	  "expression", 7 },
	{ "id = \"x\"", NULL, "expected a number to compare id with, got "
	  "\"\\\"x\\\"\"", 6 },
	{ "created_at > \"soon\"", NULL, "expected a time such as "
	  "\"2026-10-01\" to compare created_at with, got \"\\\"soon\\\"\"",
	  14 },
	{ "opened )", NULL, "expected \"and\", \"or\" or the end, got \")\"",
	  8 },
	{ "list \"a\\n\"", NULL, "a string may only escape \" and \\ with a "
	  "backslash", 8 },
	{ "age ! 3", NULL, "expected != ", 5 },
	{ "opened; drop", NULL, "unexpected character", 7 },
	{ "נועה opened", NULL, "expected a predicate (list \"NAME\", "
	  "subscribed CHANNEL, @NAME, an event type such as opened, or FIELD "
	  "OP VALUE), got \"נועה\"", 1 },
	{ "opened and @x", NULL, "no store to look @x up in", 12 },
	{ "opened and @", NULL, "expected a saved segment's name after @",
	  12 },
};

static void
test_cases(void)
{
	char desc[256];
	size_t i, j;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		nudge_seg seg;
		nudge_err err = { "" };
		nudge_buf ex = { 0 };
		const char *params;
		int rc;

		rc = nudge_seg_compile(NULL, NULL, cases[i].expr, NOW, &seg,
		    &err);
		snprintf(desc, sizeof desc, "'%s'", cases[i].expr);
		if (cases[i].cond == NULL) {
			char want[1100];

			snprintf(want, sizeof want, "column %zu: %s",
			    cases[i].col, cases[i].params);
			if (is_int(rc, EX_USAGE, desc))
				is_str(err.msg, want, desc);
			is_int(seg.err_col, cases[i].col, desc);
			nudge_seg_free(&seg);
			continue;
		}
		if (!is_int(rc, 0, desc)) {
			printf("#   %s\n", err.msg);
			continue;
		}
		is_str(seg.cond, cases[i].cond, desc);
		/* the parameter lines of explain, "-- " dropped */
		nudge_seg_explain(&seg, &ex);
		params = strchr(ex.s, '\n') + 1;
		{
			nudge_buf got = { 0 };

			for (j = 0; params[j] != '\0'; j++) {
				if (strncmp(params + j, "-- ", 3) == 0 &&
				    (j == 0 || params[j - 1] == '\n'))
					j += 3;
				nudge_buf_putc(&got, params[j]);
			}
			if (got.len > 0 && got.s[got.len - 1] == '\n')
				got.s[--got.len] = '\0';
			is_str(nudge_buf_str(&got), cases[i].params, desc);
			nudge_buf_free(&got);
		}
		nudge_buf_free(&ex);
		nudge_seg_free(&seg);
	}
}

static void
test_store(void)
{
	char path[] = "/tmp/nudge-seg-unit.XXXXXX";
	char db[64];
	nudge_store *st;
	nudge_seg seg, q;
	nudge_err err;
	sqlite3_stmt *s;
	const char *fields[] = { "email", "city" };

	if (mkdtemp(path) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(db, sizeof db, "%s/nudge.db", path);
	ok(nudge_store_open(&st, db, NUDGE_STORE_CREATE, &err) == 0,
	    "store created");
	ok(nudge_store_exec(st, "INSERT INTO contacts (id, email, attrs, "
	    "created_at, updated_at) VALUES (1, 'a@b.c', '{\"city\":\"Haifa\"}',"
	    " 0, 0), (2, NULL, '{}', 0, 0);"
	    "INSERT INTO events (contact_id, type, at) VALUES (1, 'opened', 5),"
	    " (1, 'opened', 6), (2, 'opened', 7)", &err) == 0, "rows in");
	is_int(nudge_seg_save(st, "Bad", "opened", 1, &err), EX_USAGE,
	    "a bad name is refused");
	is_int(nudge_seg_save(st, "o", "opened", 1, &err), 0, "saved");
	is_int(nudge_seg_compile(st, NULL, "@o and email is set", NOW, &seg,
	    &err), 0, "@o compiles");
	is_int(nudge_seg_select(&seg, fields, 2, 0, &q, &err), 0, "select");
	is_int(nudge_seg_prepare(st, &q, &s, &err), 0, "prepare");
	ok(sqlite3_step(s) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(s, 0), "a@b.c") == 0 &&
	    strcmp((const char *)sqlite3_column_text(s, 1), "Haifa") == 0,
	    "row: email and city");
	ok(sqlite3_step(s) == SQLITE_DONE, "one row");
	sqlite3_finalize(s);
	nudge_seg_free(&q);
	nudge_seg_free(&seg);
	is_int(nudge_seg_compile(st, "o", "@o", NOW, &seg, &err), EX_USAGE,
	    "a segment defined as itself is a cycle");
	is_str(err.msg, "column 1: saved segments refer to each other in a "
	    "cycle: @o -> @o", "cycle message");
	nudge_seg_free(&seg);
	is_int(nudge_seg_compile(st, NULL, "opened at least 2 times", NOW,
	    &seg, &err), 0, "at least compiles");
	is_int(nudge_seg_select(&seg, NULL, 0, 1, &q, &err), 0, "count");
	nudge_seg_prepare(st, &q, &s, &err);
	ok(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 1,
	    "count of at least 2");
	sqlite3_finalize(s);
	nudge_seg_free(&q);
	is_int(nudge_seg_select(&seg, (const char *[]){ "a\"b" }, 1, 0, &q,
	    &err), EX_USAGE, "a field with a quote is refused");
	nudge_seg_free(&seg);
	nudge_store_close(st);
	unlink(db);
	rmdir(path);
}

static void
test_fmt(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	nudge_fmt *f;
	nudge_err err;
	const char *cols[] = { "id", "name" };
	nudge_fmt_val row[] = { { NUDGE_FMT_NUM, "7", 1 },
	    { NUDGE_FMT_TEXT, "a,\"b\"\n", 6 } };
	enum nudge_fmt_kind k;

	is_int(nudge_fmt_width("abc", 3), 3, "width ascii");
	is_int(nudge_fmt_width("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", 8), 4,
	    "width hebrew: one column a letter");
	is_int(nudge_fmt_width("\xd7\xa9\xd6\xb8", 4), 1,
	    "width: a Hebrew point takes none");
	is_int(nudge_fmt_width("\xe6\x97\xa5", 3), 2, "width: CJK is wide");
	is_int(nudge_fmt_width("e\xcc\x81", 3), 1, "width: combining accent");
	ok(nudge_fmt_kind_parse("json", &k) == 0 && k == NUDGE_FMT_JSON,
	    "kind json");
	ok(nudge_fmt_kind_parse("xml", &k) == -1, "kind xml refused");

	fp = open_memstream(&buf, &len);
	nudge_fmt_open(&f, fp, NUDGE_FMT_CSV, cols, 2, &err);
	nudge_fmt_row(f, row, &err);
	is_int(nudge_fmt_close(f, &err), 0, "csv closes");
	fclose(fp);
	is_str(buf, "id,name\r\n7,\"a,\"\"b\"\"\n\"\r\n", "csv quoting");
	free(buf);

	fp = open_memstream(&buf, &len);
	nudge_fmt_open(&f, fp, NUDGE_FMT_TSV, cols, 2, &err);
	nudge_fmt_row(f, row, &err);
	nudge_fmt_close(f, &err);
	fclose(fp);
	is_str(buf, "7\ta,\"b\"\\n\n", "tsv escapes the newline");
	free(buf);

	fp = open_memstream(&buf, &len);
	nudge_fmt_open(&f, fp, NUDGE_FMT_JSON, cols, 2, &err);
	nudge_fmt_row(f, row, &err);
	nudge_fmt_close(f, &err);
	fclose(fp);
	is_str(buf, "{\"id\":7,\"name\":\"a,\\\"b\\\"\\n\"}\n", "json");
	free(buf);
}

/* Computed fields: the SQL each aggregate compiles to, a comparison over
 * one, sums in an event predicate, and the errors of a definition. */
static void
test_computed(void)
{
	static const char *const names[] = { "spent", "n90", "last_at",
		"last_item", "fav" };
	static const char *const defs[] = { "sum of total over purchase",
		"count of purchase within 90d", "latest at of purchase",
		"latest items[0].name of purchase",
		"most common category over view within 30d" };
	static const struct {
		const char *expr, *cond;
	} ok_cases[] = {
		{ "spent > 5", "coalesce((SELECT coalesce(sum("
		  "json_extract(e.props, ?1)), 0) FROM events e WHERE e.type = "
		  "?2 AND e.contact_id = c.id) > ?3, 0)" },
		{ "not n90 = 0", "NOT coalesce((SELECT count(*) FROM events e "
		  "WHERE e.type = ?1 AND e.at >= ?2 AND e.contact_id = c.id) = "
		  "?3, 0)" },
		{ "last_at < \"2026-10-01\"", "coalesce((SELECT e.at FROM "
		  "events e WHERE e.type = ?1 AND e.contact_id = c.id ORDER BY "
		  "e.at DESC, e.id DESC LIMIT 1) < ?2, 0)" },
		{ "last_item is set", "coalesce((SELECT json_extract(e.props, "
		  "?1) FROM events e WHERE e.type = ?2 AND e.contact_id = c.id "
		  "ORDER BY e.at DESC, e.id DESC LIMIT 1), '') != ''" },
		{ "fav = \"books\"", "coalesce(CAST((SELECT "
		  "json_extract(e.props, ?1) FROM events e WHERE e.type = ?2 "
		  "AND e.at >= ?3 AND e.contact_id = c.id AND "
		  "json_extract(e.props, ?1) IS NOT NULL GROUP BY 1 ORDER BY "
		  "count(*) DESC, max(e.at) DESC LIMIT 1) AS TEXT) = ?4, 0)" },
		{ "purchase total sum > 500 within 90d", EV("?1 AND e.at >= ?2 "
		  "GROUP BY e.contact_id HAVING total(CAST(json_extract("
		  "e.props, ?3) AS REAL)) > ?4)") },
		{ "purchase at least 2 times total avg >= 10", EV("?1 GROUP BY "
		  "e.contact_id HAVING count(*) >= ?2 AND avg(CAST(json_extract("
		  "e.props, ?3) AS REAL)) >= ?4)") },
	};
	static const struct {
		const char *def, *msg;
	} bad[] = {
		{ "sum of total purchase", "in computed field x: column 14: "
		  "expected \"over\" and an event type, got \"purchase\"" },
		{ "sum of at over purchase", "in computed field x: column 8: "
		  "\"at\" is a time: use latest at of TYPE" },
		{ "latest items[x].name of purchase", "in computed field x: "
		  "column 8: expected a property such as total or "
		  "items[0].name, got \"items\"" },
		{ "count of purchase at least 2 times", "in computed field x: "
		  "column 10: a computed field takes no \"at least\", sum or "
		  "step" },
		{ "total", "in computed field x: column 1: expected sum of, "
		  "average of, count of, latest or most common, got \"total\"" },
	};
	nudge_err err = { "" };
	nudge_seg seg;
	char desc[128];
	size_t i;
	const char *one = "x", *email = "email";

	is_int(nudge_seg_set_computed(names, defs, 5, &err), 0,
	    "computed fields set");
	is_str(nudge_seg_computed("n90"), defs[1], "looked up by name");
	for (i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
		snprintf(desc, sizeof desc, "computed: '%s'", ok_cases[i].expr);
		if (is_int(nudge_seg_compile(NULL, NULL, ok_cases[i].expr, NOW,
		    &seg, &err), 0, desc))
			is_str(seg.cond, ok_cases[i].cond, desc);
		else
			printf("#   %s\n", err.msg);
		nudge_seg_free(&seg);
	}
	is_int(nudge_seg_compile(NULL, NULL, "purchase total sum contains "
	    "\"x\"", NOW, &seg, &err), EX_USAGE, "a sum compares with a "
	    "number only");
	nudge_seg_free(&seg);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(desc, sizeof desc, "bad aggregate '%s'", bad[i].def);
		if (is_int(nudge_seg_set_computed(&one, &bad[i].def, 1, &err),
		    EX_USAGE, desc))
			is_str(err.msg, bad[i].msg, desc);
	}
	is_int(nudge_seg_set_computed(&email, defs, 1, &err), EX_USAGE,
	    "a contact column cannot be one");
	is_int(nudge_seg_set_computed(NULL, NULL, 0, &err), 0, "unset");
	is_int(nudge_seg_computed("spent") == NULL, 1, "none left");
}

/* The predictions a template names: their names after the config's
 * computed fields, their decimals, and the fixed-point writer that
 * stands in for printf's %.*f. */
static void
test_predicted_fields(void)
{
	static const struct {
		double v;
		int d;
		const char *want;
	} fx[] = {
		{ 0.08204, 4, "0.0820" }, { 1, 4, "1.0000" }, { 0, 4, "0.0000" },
		{ 0.99995, 4, "1.0000" }, { 20.6, 2, "20.60" },
		{ 1234567.891, 2, "1234567.89" }, { -0.5, 2, "-0.50" },
		{ 7.125, 0, "7" }, { 1e15, 2, "1000000000000000.00" },
	};
	const char *names[] = { "spent" }, *defs[] = {
	    "sum of total over purchase" };
	char buf[32];
	nudge_err err;
	size_t i, n;

	for (i = 0; i < sizeof fx / sizeof fx[0]; i++) {
		n = nudge_computed_fixed(fx[i].v, fx[i].d, buf);
		is_str(buf, fx[i].want, "as %.*f would");
		is_int((int)n, (int)strlen(fx[i].want), "its length");
	}
	is_int(nudge_seg_set_computed(names, defs, 1, &err), 0, "one field");
	is_int((int)nudge_computed_fields(), 6, "and the five predictions");
	is_str(nudge_computed_field(0), "spent", "the config's first");
	is_str(nudge_computed_field(1), "p_alive", "then the predictions");
	is_int(nudge_computed_decimals(0), -1, "a computed field as is");
	is_int(nudge_computed_decimals(1), 4, "p_alive with 4 decimals");
	is_str(nudge_computed_field(5), "clv_365d", "clv_365d last");
	is_int(nudge_computed_decimals(5), 2, "money with 2");
	ok(nudge_computed_field(6) == NULL, "then none");
	is_int(nudge_seg_set_computed(NULL, NULL, 0, &err), 0, "unset");
}

int
main(void)
{
	test_cases();
	test_computed();
	test_predicted_fields();
	test_store();
	test_fmt();
	return done_testing();
}
