/* Unit tests for event: names, props, the writer, consent, the import. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "tap.h"

static char dir[] = "/tmp/nudge-event-unit.XXXXXX";
static char dbpath[256];

static long long
q1(nudge_store *st, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The first column of the first row as text, in a static buffer. */
static const char *
qs(nudge_store *st, const char *sql)
{
	static char buf[1024];
	sqlite3_stmt *s;

	strcpy(buf, "(none)");
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return "(error)";
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, sizeof buf, "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

static void
test_names(void)
{
	ok(nudge_event_type_ok("purchase"), "purchase is a type");
	ok(nudge_event_type_ok("ad_view2"), "ad_view2 is a type");
	ok(!nudge_event_type_ok("Sent"), "upper case is not a type");
	ok(!nudge_event_type_ok("ad-view"), "a hyphen is not in a type");
	ok(!nudge_event_type_ok("2x"), "a digit first is not a type");
	ok(!nudge_event_type_ok(""), "empty is not a type");
	ok(!nudge_event_type_ok(NULL), "NULL is not a type");
}

static void
prop(nudge_buf *b, const char *k, const char *v)
{
	nudge_event_prop(b, k, strlen(k), v, strlen(v));
}

static void
test_props(void)
{
	nudge_buf b = { 0 };

	ok(nudge_event_props_end(&b) == NULL, "no props is NULL");
	prop(&b, "amount", "12.50");
	prop(&b, "n", "-3");
	prop(&b, "e", "1e5");
	prop(&b, "zip", "02134");
	prop(&b, "card", "1234567890123456");
	prop(&b, "dot", "1.");
	prop(&b, "q", "say \"hi\"\n");
	prop(&b, "he", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d");
	prop(&b, "t", "true");
	is_str(nudge_event_props_end(&b), "{\"amount\":12.50,\"n\":-3,"
	    "\"e\":1e5,\"zip\":\"02134\",\"card\":\"1234567890123456\","
	    "\"dot\":\"1.\",\"q\":\"say \\\"hi\\\"\\n\","
	    "\"he\":\"\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d\",\"t\":\"true\"}",
	    "numbers stay numbers, the rest are strings");
	nudge_buf_free(&b);
}

static void
test_writer(nudge_store *st)
{
	nudge_event_writer *w;
	nudge_event ev;
	nudge_err err;
	int64_t id, id2, cid, c1, c2;
	int created;

	ok(nudge_event_writer_open(&w, st, 1000, &err) == 0, "writer opens");
	ok(nudge_event_contact(w, "A@Example.com", NULL, 0, &id, &created,
	    &err) == 0 && id == 0, "unknown contact is 0");
	ok(nudge_event_contact(w, "A@Example.com", NULL, 1, &id, &created,
	    &err) == 0 && id > 0 && created, "create by email");
	ok(nudge_event_contact(w, "a@example.com", NULL, 1, &id2, &created,
	    &err) == 0 && id2 == id && !created, "found again, not created");
	is_str(qs(st, "SELECT email FROM contacts"), "a@example.com",
	    "email stored lower-cased");
	ok(nudge_event_contact(w, "052-123 4567", "IL", 1, &cid, &created,
	    &err) == 0 && cid > 0 && created, "create by phone");
	is_str(qs(st, "SELECT phone FROM contacts WHERE email IS NULL"),
	    "+972521234567", "phone stored in E.164");
	ok(nudge_event_contact(w, "999", NULL, 0, &id2, &created, &err) == 0 &&
	    id2 == 0, "unknown id is 0");
	is_int(nudge_event_contact(w, "999", NULL, 1, &id2, &created, &err),
	    EX_DATAERR, "an id cannot create a contact");
	is_int(nudge_event_contact(w, "foo@", NULL, 0, &id2, &created, &err),
	    EX_DATAERR, "bad email is a data error");
	ok(strncmp(err.msg, "not an email address", 20) == 0,
	    "reason names the email");

	ok(nudge_event_campaign_id(w, "promo", &c1, &err) == 0 && c1 > 0,
	    "campaign created");
	ok(nudge_event_campaign_id(w, "other", &c2, &err) == 0 && c2 != c1,
	    "second campaign");
	ok(nudge_event_campaign_id(w, "promo", &id2, &err) == 0 && id2 == c1,
	    "campaign from the cache");
	is_int(q1(st, "SELECT count(*) FROM campaigns"), 2,
	    "each campaign inserted once");
	is_int(q1(st, "SELECT created_at FROM campaigns WHERE name = 'promo'"),
	    1000, "campaign created_at is the writer's now");

	memset(&ev, 0, sizeof ev);
	ev.contact_id = id;
	ev.type = "sent";
	ev.channel = "email";
	ev.campaign = "promo";
	ev.step = "1";
	ev.message_id = 7;
	ev.at = 5000;
	ev.props_json = "{\"a\":1}";
	ok(nudge_event_record(w, &ev, &id2, &err) == 0 && id2 > 0,
	    "sent recorded");
	is_str(qs(st, "SELECT contact_id || '|' || type || '|' || channel ||"
	    " '|' || campaign_id || '|' || step || '|' || message_id || '|' ||"
	    " at || '|' || props FROM events"), "1|sent|email|1|1|7|5000|"
	    "{\"a\":1}", "every column stored");
	is_int(q1(st, "SELECT first_sent_at FROM campaigns WHERE id = 1"),
	    5000, "first_sent_at set by the writer");
	is_str(qs(st, "SELECT channel FROM campaigns WHERE id = 1"), "email",
	    "and the campaign's channel");
	ev.at = 4000;
	nudge_event_record(w, &ev, NULL, &err);
	ev.at = 6000;
	nudge_event_record(w, &ev, NULL, &err);
	is_int(q1(st, "SELECT first_sent_at FROM campaigns WHERE id = 1"),
	    4000, "first_sent_at is the earliest");
	/* a rolled back transaction takes its update along: the writer
	 * must not go on believing it */
	ev.campaign = "other";
	ev.channel = "sms";
	ev.at = 3000;
	nudge_store_begin(st, &err);
	nudge_event_record(w, &ev, NULL, &err);
	is_int(q1(st, "SELECT first_sent_at FROM campaigns WHERE name ="
	    " 'other'"), 3000, "set in a transaction");
	nudge_store_rollback(st);
	is_int(q1(st, "SELECT count(first_sent_at) FROM campaigns WHERE name ="
	    " 'other'"), 0, "gone with its rollback");
	ev.at = 3500;
	nudge_event_record(w, &ev, NULL, &err);
	is_str(qs(st, "SELECT first_sent_at || ' ' || channel FROM campaigns"
	    " WHERE name = 'other'"), "3500 sms",
	    "set again by the next sent event after a rollback");
	ev.campaign = "promo";
	ev.channel = "email";

	memset(&ev, 0, sizeof ev);
	ev.contact_id = id;
	ev.type = "unsubscribed";
	ev.at = 7000;
	ev.source = "test";
	ok(nudge_event_record(w, &ev, &id2, &err) == 0, "unsubscribed");
	is_str(qs(st, "SELECT group_concat(channel || ':' || status || ':' ||"
	    " at || ':' || source || ':' || (event_id = (SELECT max(id) FROM"
	    " events)), ' ') FROM consent"), "email:unsubscribed:7000:test:1 "
	    "sms:unsubscribed:7000:test:1 push:unsubscribed:7000:test:1",
	    "unsubscribed without a channel: every channel");
	ev.type = "bounced";
	ev.source = NULL;
	nudge_event_record(w, &ev, NULL, &err);
	ev.type = "complained";
	ev.channel = "sms";
	nudge_event_record(w, &ev, NULL, &err);
	ev.type = "subscribed";
	ev.channel = "push";
	nudge_event_record(w, &ev, NULL, &err);
	ev.channel = NULL;
	nudge_event_record(w, &ev, NULL, &err);
	is_str(qs(st, "SELECT group_concat(channel || ':' || status || ':' ||"
	    " source, ' ') FROM consent WHERE id > 3"), "email:bounced:event "
	    "sms:complained:event push:subscribed:event",
	    "bounced means email; complained and subscribed use the channel");

	ev.type = "Bad";
	is_int(nudge_event_record(w, &ev, NULL, &err), EX_DATAERR,
	    "bad type refused");
	ev.type = "x";
	ev.channel = "E mail";
	is_int(nudge_event_record(w, &ev, NULL, &err), EX_DATAERR,
	    "bad channel refused");
	nudge_event_writer_close(w);

	/* a writer told a campaign's id (nudge-track: from the token) uses
	 * it without a query: a name the store does not hold is neither
	 * looked up nor created */
	ok(nudge_event_writer_open(&w, st, 1000, &err) == 0 &&
	    nudge_event_writer_prepare(w, "opened", &err) == 0,
	    "a writer with its insert prepared ahead");
	ok(nudge_event_campaign_known(w, "told", c2, &err) == 0,
	    "told a campaign's id");
	memset(&ev, 0, sizeof ev);
	ev.contact_id = id;
	ev.type = "opened";
	ev.campaign = "told";
	ev.at = 8000;
	ok(nudge_event_record(w, &ev, NULL, &err) == 0, "opened recorded");
	is_int(q1(st, "SELECT campaign_id FROM events WHERE type = 'opened'"),
	    c2, "with the id it was told");
	is_int(q1(st, "SELECT count(*) FROM campaigns WHERE name = 'told'"),
	    0, "and no campaign made by that name");
	nudge_event_writer_close(w);
}

struct seen {
	char buf[1024];
};

static void
on_reject(void *arg, long line, const char *field, const char *why,
    const char *value, size_t vlen)
{
	struct seen *s = arg;
	size_t n = strlen(s->buf);

	snprintf(s->buf + n, sizeof s->buf - n, "%ld %s %s %.*s;", line, field,
	    why, (int)vlen, value ? value : "");
}

static void
test_import(nudge_store *st)
{
	static char csv[] = "email,type,at,amount\n"
	    "a@example.com,purchase,2026-01-01,9.5\n"
	    "a@example.com,purchase,yesterday,1\n"
	    "\"b@example.com\",opened,,\n"
	    "nobody@example.com,opened,,\n";
	static char json[] = "{\"contact\":\"a@example.com\","
	    "\"type\":\"ad_view\","
	    "\"at\":1700000000,\"src\":\"fb\",\"n\":[1]}\n"
	    "{\"contact\":\"a@example.com\"\n";
	nudge_event_import_opts o;
	nudge_event_counts n;
	struct seen seen = { "" };
	nudge_err err;
	long long before;
	FILE *fp;

	memset(&o, 0, sizeof o);
	o.name = "t.csv";
	o.now = 42;
	o.on_reject = on_reject;
	o.arg = &seen;
	before = q1(st, "SELECT count(*) FROM events");
	fp = fmemopen(csv, strlen(csv), "r");
	ok(nudge_event_import(st, fp, &o, &n, &err) == 0, "csv import runs");
	fclose(fp);
	ok(n.read == 4 && n.recorded == 1 && n.rejected == 3 && n.created == 0,
	    "csv counts");
	is_str(seen.buf, "3 at not a time yesterday;4 email no such contact "
	    "b@example.com;5 email no such contact nobody@example.com;",
	    "csv rejects with lines, fields and values");
	is_str(qs(st, "SELECT type || '|' || at || '|' || props FROM events "
	    "ORDER BY id DESC"), "purchase|1767225600|{\"amount\":9.5}",
	    "csv row stored");

	o.create = 1;
	o.dry_run = 1;
	seen.buf[0] = '\0';
	fp = fmemopen(csv, strlen(csv), "r");
	ok(nudge_event_import(st, fp, &o, &n, &err) == 0, "dry run runs");
	fclose(fp);
	ok(n.recorded == 3 && n.created == 2 && n.rejected == 1,
	    "dry run counts what it would do");
	is_int(q1(st, "SELECT count(*) FROM events"), before + 1,
	    "dry run stores nothing");
	is_int(q1(st, "SELECT count(*) FROM contacts WHERE email = "
	    "'b@example.com'"), 0, "dry run creates no contact");

	memset(&o, 0, sizeof o);
	o.format = NUDGE_EVENT_JSON;
	o.name = "t.jsonl";
	o.on_reject = on_reject;
	o.arg = &seen;
	seen.buf[0] = '\0';
	fp = fmemopen(json, strlen(json), "r");
	ok(nudge_event_import(st, fp, &o, &n, &err) == 0, "json import runs");
	fclose(fp);
	ok(n.read == 2 && n.recorded == 1 && n.rejected == 1, "json counts");
	is_str(seen.buf, "2  not valid JSON ;", "bad JSON rejected");
	is_str(qs(st, "SELECT type || '|' || at || '|' || props FROM events "
	    "ORDER BY id DESC"),
	    "ad_view|1700000000|{\"src\":\"fb\",\"n\":[1]}",
	    "json row stored with typed props");
}

/* A large import drops the events indexes and builds them again. */
static void
test_rebuild(void)
{
	nudge_event_import_opts o;
	nudge_event_counts n;
	nudge_store *st;
	nudge_err err;
	char path[300], csv[300];
	const char *schema = "SELECT group_concat(sql, ';') FROM (SELECT sql "
	    "FROM sqlite_schema WHERE tbl_name = 'events' AND "
	    "type IN ('index', 'trigger') ORDER BY name)";
	char want[1024];
	FILE *fp;
	int i;

	snprintf(path, sizeof path, "%s/r.db", dir);
	snprintf(csv, sizeof csv, "%s/r.csv", dir);
	if (nudge_store_open(&st, path, NUDGE_STORE_CREATE, &err) != 0)
		return;
	snprintf(want, sizeof want, "%s", qs(st, schema));
	ok(strstr(want, "events_contact") != NULL &&
	    strstr(want, "events_count_insert") != NULL,
	    "the schema has indexes and triggers");
	nudge_store_exec(st, "INSERT INTO contacts (email, created_at, "
	    "updated_at) VALUES ('a@example.com', 0, 0)", &err);
	fp = fopen(csv, "w");
	/* every third an SMS in two parts: campaign_channels' recount */
	fprintf(fp, "contact,type,campaign,at,channel,segments\n");
	for (i = 0; i < 3000; i++)
		fprintf(fp, "1,sent,c%d,@%d,%s\n", i % 5, 1000000 + i,
		    i % 3 == 0 ? "sms,2" : "email,");
	fclose(fp);
	memset(&o, 0, sizeof o);
	o.name = "r.csv";
	o.rebuild_bytes = 1;
	o.dry_run = 1;
	fp = fopen(csv, "r");
	ok(nudge_event_import(st, fp, &o, &n, &err) == 0 && n.recorded == 3000,
	    "dry run with a rebuild");
	fclose(fp);
	is_str(qs(st, schema), want, "a dry run keeps the indexes");
	o.dry_run = 0;
	fp = fopen(csv, "r");
	ok(nudge_event_import(st, fp, &o, &n, &err) == 0 && n.recorded == 3000,
	    "import with a rebuild");
	fclose(fp);
	is_str(qs(st, schema), want, "the same indexes and triggers afterwards");
	is_str(qs(st, "SELECT events || ' ' || contacts || ' ' || first_at "
	    "FROM campaign_counts WHERE campaign_id = 1 AND type = 'sent'"),
	    "600 1 1000000", "the counts the triggers did not keep, recomputed");
	is_str(qs(st, "SELECT group_concat(channel || ' ' || parts, ',') "
	    "FROM (SELECT * FROM campaign_channels WHERE campaign_id = 1 "
	    "ORDER BY channel)"), "email 400,sms 400",
	    "the channels' parts recomputed (SMS segments)");
	is_str(qs(st, "PRAGMA integrity_check"), "ok",
	    "indexes agree with the table");
	is_int(q1(st, "SELECT count(*) FROM events INDEXED BY events_campaign "
	    "WHERE campaign_id = 1 AND type = 'sent'"), 600,
	    "the rebuilt index answers");
	is_int(q1(st, "SELECT min(first_sent_at) FROM campaigns"), 1000000,
	    "the trigger ran while the indexes were away");
	nudge_store_close(st);
}

/* The counts as text: campaign_counts, then campaign_channels. */
static const char *
counts(nudge_store *st)
{
	static char buf[1024];

	snprintf(buf, sizeof buf, "%s / ", qs(st, "SELECT group_concat(r, ' ')"
	    " FROM (SELECT campaign_id || ':' || type || ':' || events || ':'"
	    " || contacts || ':' || first_at AS r FROM campaign_counts"
	    " ORDER BY campaign_id, type)"));
	snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s",
	    qs(st, "SELECT group_concat(r, ' ') FROM (SELECT campaign_id"
	    " || ':' || channel || ':' || parts AS r FROM campaign_channels"
	    " ORDER BY campaign_id, channel)"));
	return buf;
}

/* With the store's triggers off (nudge_store_own_counts), the writer
 * counts; another connection's trigger counts its own; on again, the
 * trigger counts: the counts are those recomputed from the events. */
static void
test_own_counts(void)
{
	static const struct {
		int own;	/* 1 on, 0 off, 2 another connection */
		const char *contact, *type, *channel, *campaign, *props;
		int64_t at;
	} evs[] = {
		{ 0, "a@example.com", "sent", "email", "x", NULL, 500 },
		{ 1, "a@example.com", "sent", "email", "x", NULL, 400 },
		{ 1, "b@example.com", "sent", "sms", "x",
		    "{\"segments\":3}", 600 },
		{ 2, "b@example.com", "sent", "sms", "x", NULL, 300 },
		{ 1, "c@example.com", "sent", "sms", "y", NULL, 700 },
		{ 1, "b@example.com", "failed", "email", "x", NULL, 800 },
		{ 1, "b@example.com", "opened", "email", "x", NULL, 900 },
		{ 1, "b@example.com", "opened", "email", "x", NULL, 950 },
		{ 1, "a@example.com", "purchase", NULL, "x", NULL, 990 },
		{ 1, "a@example.com", "clicked", "email", NULL, NULL, 991 },
		{ 0, "c@example.com", "sent", "email", "y", NULL, 100 },
	};
	nudge_event_writer *w, *w2;
	nudge_store *st, *st2;
	nudge_event ev;
	nudge_err err;
	char path[300], got[1024];
	size_t i;
	int bad = 0, on = 0;

	snprintf(path, sizeof path, "%s/o.db", dir);
	if (!ok(nudge_store_open(&st, path, NUDGE_STORE_CREATE, &err) == 0 &&
	    nudge_store_open(&st2, path, 0, &err) == 0 &&
	    nudge_event_writer_open(&w, st, 1000, &err) == 0 &&
	    nudge_event_writer_open(&w2, st2, 1000, &err) == 0,
	    "two connections, a writer each"))
		return;
	nudge_store_exec(st, "INSERT INTO contacts (email, created_at,"
	    " updated_at) VALUES ('a@example.com', 0, 0),"
	    " ('b@example.com', 0, 0), ('c@example.com', 0, 0)", &err);
	for (i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		if (evs[i].own != 2 && evs[i].own != on) {
			if (nudge_store_own_counts(st, evs[i].own, &err) != 0)
				bad++;
			on = evs[i].own;
		}
		memset(&ev, 0, sizeof ev);
		ev.contact_id = 1 + (evs[i].contact[0] - 'a');
		ev.type = evs[i].type;
		ev.channel = evs[i].channel;
		ev.campaign = evs[i].campaign;
		ev.props_json = evs[i].props;
		ev.at = evs[i].at;
		if (nudge_event_record(evs[i].own == 2 ? w2 : w, &ev, NULL,
		    &err) != 0)
			bad++;
		if (i == 2)
			is_int(st->own_counts, 1, "the store counts by hand");
	}
	ok(bad == 0, "the events are recorded");
	is_int(st->own_counts, 0, "and by the trigger again");
	snprintf(got, sizeof got, "%s", counts(st));
	is_str(got, "1:failed:1:1:800 1:opened:2:1:900 1:sent:4:2:300 "
	    "2:sent:2:1:100 / 1:email:2 1:sms:4 2:email:1 2:sms:1",
	    "the counts, each event once");
	nudge_store_exec(st, NUDGE_EVENT_COUNTS_SQL, &err);
	is_str(counts(st), got, "the same as recomputed from the events");
	nudge_event_writer_close(w2);
	nudge_event_writer_close(w);
	nudge_store_close(st2);
	nudge_store_close(st);
}

int
main(void)
{
	nudge_store *st;
	nudge_err err;

	test_names();
	test_props();
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(dbpath, sizeof dbpath, "%s/n.db", dir);
	if (!ok(nudge_store_open(&st, dbpath, NUDGE_STORE_CREATE, &err) == 0,
	    "store opens"))
		return done_testing();
	test_writer(st);
	test_import(st);
	nudge_store_close(st);
	test_rebuild();
	test_own_counts();
	{
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return done_testing();
}
