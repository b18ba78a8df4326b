/* Unit tests for ledger: claims, outcomes, concurrent claims over two
 * connections and two processes, crash recovery, --resend-unknown, and
 * the migration that adds the table. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal.h"
#include "ledger.h"
#include "tap.h"

static char dir[] = "/tmp/nudge-ledger-unit.XXXXXX";
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

static nudge_store *
open_store(void)
{
	nudge_store *st = NULL;
	nudge_err err;

	if (nudge_store_open(&st, dbpath, NUDGE_STORE_CREATE, &err) != 0)
		printf("# open: %s\n", err.msg);
	return st;
}

static void
test_migration(void)
{
	nudge_store *st;
	nudge_err err;

	st = open_store();
	is_int(q1(st, "PRAGMA user_version"), NUDGE_SCHEMA_VERSION,
	    "a new store has the newest version");
	/* a version 1 store has no contacts.sources (version 6's) */
	nudge_store_exec(st, "DROP TABLE messages; ALTER TABLE contacts DROP"
	    " COLUMN sources; PRAGMA user_version = 1", &err);
	nudge_store_close(st);
	st = open_store();
	is_int(q1(st, "PRAGMA user_version"), NUDGE_SCHEMA_VERSION,
	    "a version 1 store migrates");
	is_int(q1(st, "SELECT count(*) FROM sqlite_schema WHERE name IN "
	    "('messages', 'messages_status')"), 2, "to the messages table");
	ok(sqlite3_exec(st->db, "INSERT INTO messages (campaign_id, "
	    "contact_id, channel, status, claimed_at, updated_at) VALUES "
	    "(1, 1, 'email', 'queued', 0, 0)", NULL, NULL, NULL) != SQLITE_OK,
	    "status is checked");
	nudge_store_exec(st, "INSERT INTO campaigns (id, name, created_at) "
	    "VALUES (1, 'promo', 0);"
	    "INSERT INTO contacts (id, email, created_at, updated_at) VALUES "
	    "(1, 'a@example.com', 0, 0), (2, 'b@example.com', 0, 0),"
	    "(3, 'c@example.com', 0, 0)", &err);
	nudge_store_close(st);
}

/* 2 -> 3: messages and consent are copied into tables with cheaper
 * CHECKs; their rows, ids and checks stay, the view still reads. */
static void
test_migration_3(void)
{
	static const char v2[] =
	    "DROP VIEW consent_now; DROP TABLE consent; DROP TABLE messages;"
	    "CREATE TABLE consent (id INTEGER PRIMARY KEY, contact_id INTEGER"
	    " NOT NULL REFERENCES contacts (id) ON DELETE CASCADE, channel TEXT"
	    " NOT NULL, status TEXT NOT NULL CHECK (status IN ('subscribed',"
	    " 'unsubscribed', 'bounced', 'complained')), at INTEGER NOT NULL,"
	    " source TEXT NOT NULL, event_id INTEGER);"
	    "CREATE INDEX consent_contact ON consent (contact_id, channel, at,"
	    " id);"
	    "CREATE VIEW consent_now AS SELECT c.* FROM consent c WHERE NOT"
	    " EXISTS (SELECT 1 FROM consent d WHERE d.contact_id ="
	    " c.contact_id AND d.channel = c.channel AND (d.at > c.at OR"
	    " (d.at = c.at AND d.id > c.id)));"
	    "CREATE TABLE messages (id INTEGER PRIMARY KEY, campaign_id INTEGER"
	    " NOT NULL REFERENCES campaigns (id), step TEXT NOT NULL DEFAULT"
	    " '', contact_id INTEGER NOT NULL REFERENCES contacts (id), channel"
	    " TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('claimed',"
	    " 'sent', 'failed', 'bounced', 'unknown')), attempts INTEGER NOT"
	    " NULL DEFAULT 0, provider_id TEXT, error TEXT, claimed_at INTEGER"
	    " NOT NULL, updated_at INTEGER NOT NULL, claimed_by TEXT, UNIQUE"
	    " (campaign_id, step, contact_id));"
	    "CREATE INDEX messages_status ON messages (status, updated_at);"
	    "CREATE INDEX messages_contact ON messages (contact_id);"
	    "INSERT INTO messages VALUES (7, 1, 's1', 1, 'sms', 'sent', 2,"
	    " 'SM1', NULL, 10, 11, 'x'), (9, 1, '', 2, 'email', 'claimed', 1,"
	    " NULL, NULL, 12, 12, 'y');"
	    "INSERT INTO consent VALUES (4, 1, 'sms', 'subscribed', 5, 'import',"
	    " NULL), (6, 1, 'sms', 'unsubscribed', 8, 'event', 3);"
	    "CREATE TRIGGER IF NOT EXISTS events_first_sent AFTER INSERT ON"
	    " events WHEN NEW.type = 'sent' AND NEW.campaign_id IS NOT NULL"
	    " BEGIN UPDATE campaigns SET first_sent_at = NEW.at WHERE id ="
	    " NEW.campaign_id AND (first_sent_at IS NULL OR first_sent_at >"
	    " NEW.at); END;"
	    "ALTER TABLE contacts DROP COLUMN sources;"
	    "PRAGMA user_version = 2";
	nudge_store *st;
	nudge_err err;

	st = open_store();
	is_int(nudge_store_exec(st, v2, &err), 0, "a version 2 store");
	nudge_store_close(st);
	st = open_store();
	is_int(q1(st, "PRAGMA user_version"), NUDGE_SCHEMA_VERSION,
	    "migrates to the newest version");
	is_str(qs(st, "SELECT group_concat(id || ':' || campaign_id || ':' ||"
	    " step || ':' || contact_id || ':' || channel || ':' || status ||"
	    " ':' || attempts || ':' || coalesce(provider_id, '-') || ':' ||"
	    " claimed_at || ':' || updated_at || ':' || claimed_by, ' ') FROM"
	    " (SELECT * FROM messages ORDER BY id)"),
	    "7:1:s1:1:sms:sent:2:SM1:10:11:x 9:1::2:email:claimed:1:-:12:12:y",
	    "messages rows and ids kept");
	is_str(qs(st, "SELECT group_concat(id || ':' || status, ' ') FROM"
	    " consent_now"), "6:unsubscribed", "consent kept, its view reads");
	ok(sqlite3_exec(st->db, "UPDATE messages SET status = 'queued'",
	    NULL, NULL, NULL) != SQLITE_OK, "messages status still checked");
	ok(sqlite3_exec(st->db, "INSERT INTO consent (contact_id, channel,"
	    " status, at, source) VALUES (1, 'sms', 'maybe', 9, 't')", NULL,
	    NULL, NULL) != SQLITE_OK, "consent status still checked");
	is_str(qs(st, "SELECT sql FROM sqlite_schema WHERE name ="
	    " 'messages_status'"), "CREATE INDEX messages_status ON messages"
	    " (status, updated_at)  WHERE status = 'claimed' OR status ="
	    " 'unknown'", "the status index holds claimed and unknown rows");
	is_str(qs(st, "SELECT group_concat(id) FROM messages WHERE status ="
	    " 'claimed'"), "9", "which recovery finds");
	is_int(q1(st, "SELECT count(*) FROM pragma_foreign_key_check"), 0,
	    "no foreign key broken");
	is_int(q1(st, "SELECT count(*) FROM sqlite_schema WHERE type ="
	    " 'trigger' AND name = 'events_first_sent'"), 0,
	    "the event writer keeps first_sent_at, not a trigger");
	nudge_store_exec(st, "DELETE FROM messages; DELETE FROM consent",
	    &err);
	nudge_store_close(st);
}

/* Versions 5 and 6 give consent a proof column and contacts their sources: a version 3 store (this one with
 * the column dropped) keeps its rows, and the view shows the column. */
static void
test_migration_4(void)
{
	nudge_store *st;
	nudge_err err;

	st = open_store();
	is_int(nudge_store_exec(st, "ALTER TABLE consent DROP COLUMN proof;"
	    "ALTER TABLE contacts DROP COLUMN sources;"
	    "INSERT INTO consent (id, contact_id, channel, status, at, source)"
	    " VALUES (4, 1, 'sms', 'subscribed', 5, 'import'), (6, 1, 'sms',"
	    " 'unsubscribed', 8, 'event');"
	    "PRAGMA user_version = 3", &err), 0, "a version 3 store");
	nudge_store_close(st);
	st = open_store();
	is_int(q1(st, "PRAGMA user_version"), NUDGE_SCHEMA_VERSION,
	    "migrates to versions 4, 5 and 6");
	is_int(q1(st, "SELECT count(*) FROM pragma_table_info('contacts')"
	    " WHERE name = 'sources'"), 1, "contacts gain sources (6)");
	is_str(qs(st, "SELECT group_concat(id || ':' || status || ':' ||"
	    " coalesce(proof, '-'), ' ') FROM (SELECT * FROM consent ORDER BY"
	    " id)"), "4:subscribed:- 6:unsubscribed:-", "consent rows kept, "
	    "without proof");
	is_int(nudge_store_exec(st, "INSERT INTO consent (contact_id, channel,"
	    " status, at, source, proof) VALUES (1, 'email', 'subscribed', 9,"
	    " 'mailchimp', 'ip 192.0.2.1')", &err), 0, "a row with its proof");
	is_str(qs(st, "SELECT proof FROM consent_now WHERE channel ="
	    " 'email'"), "ip 192.0.2.1", "consent_now shows the proof");
	nudge_store_exec(st, "DELETE FROM consent", &err);
	nudge_store_close(st);
}

/* 6 -> 7: messages gains variant and the held-out status; its rows,
 * ids and index stay; ab_results is new.  The version 6 table is the
 * one migration 3 wrote. */
static void
test_migration_7(void)
{
	static const char v6[] =
	    "DROP TABLE messages; DROP TABLE ab_results;"
	    "CREATE TABLE messages (id INTEGER PRIMARY KEY, campaign_id INTEGER"
	    " NOT NULL REFERENCES campaigns (id), step TEXT NOT NULL DEFAULT"
	    " '', contact_id INTEGER NOT NULL REFERENCES contacts (id), channel"
	    " TEXT NOT NULL, status TEXT NOT NULL CHECK (status = 'claimed' OR"
	    " status = 'sent' OR status = 'failed' OR status = 'bounced' OR"
	    " status = 'unknown'), attempts INTEGER NOT NULL DEFAULT 0,"
	    " provider_id TEXT, error TEXT, claimed_at INTEGER NOT NULL,"
	    " updated_at INTEGER NOT NULL, claimed_by TEXT, UNIQUE"
	    " (campaign_id, step, contact_id));"
	    "CREATE INDEX messages_status ON messages (status, updated_at)"
	    " WHERE status = 'claimed' OR status = 'unknown';"
	    "CREATE INDEX messages_contact ON messages (contact_id);"
	    "INSERT INTO messages VALUES (7, 1, 's1', 1, 'sms', 'sent', 2,"
	    " 'SM1', NULL, 10, 11, 'x'), (9, 1, '', 2, 'email', 'claimed', 1,"
	    " NULL, NULL, 12, 12, 'y');"
	    "PRAGMA user_version = 6";
	nudge_store *st;
	nudge_ledger *l;
	enum nudge_claim res;
	int64_t id;
	nudge_err err;

	st = open_store();
	is_int(nudge_store_exec(st, v6, &err), 0, "a version 6 store");
	nudge_store_close(st);
	st = open_store();
	is_int(q1(st, "PRAGMA user_version"), NUDGE_SCHEMA_VERSION,
	    "migrates to version 7");
	is_str(qs(st, "SELECT group_concat(id || ':' || step || ':' || status"
	    " || ':' || attempts || ':' || coalesce(provider_id, '-') || ':' ||"
	    " claimed_by || ':' || coalesce(variant, '-'), ' ') FROM (SELECT *"
	    " FROM messages ORDER BY id)"),
	    "7:s1:sent:2:SM1:x:- 9::claimed:1:-:y:-",
	    "rows and ids kept, no variant");
	is_int(nudge_ledger_open(&l, st, &err), 0, "the ledger opens on it");
	is_int(nudge_ledger_claim_as(l, 1, "ab", 1, "email", "b", 0, 0, 20,
	    &res, &id, &err), 0, "a claim with a variant");
	is_str(qs(st, "SELECT status || ':' || variant FROM messages WHERE"
	    " step = 'ab'"), "claimed:b", "the variant is in the row");
	is_int(nudge_ledger_claim_as(l, 1, "ab", 2, "email", NULL, 1, 0, 20,
	    &res, &id, &err), 0, "a held-out row");
	ok(res == NUDGE_CLAIM_WON, "is the key's row");
	is_str(qs(st, "SELECT status || ':' || attempts FROM messages WHERE"
	    " step = 'ab' AND contact_id = 2"), "held-out:0",
	    "held-out, no attempt");
	is_int(q1(st, "SELECT count(*) FROM ab_results"), 0,
	    "ab_results exists, empty");
	ok(sqlite3_exec(st->db, "UPDATE messages SET status = 'queued'",
	    NULL, NULL, NULL) != SQLITE_OK, "status still checked");
	nudge_ledger_close(l);
	nudge_store_exec(st, "DELETE FROM messages", &err);
	nudge_store_close(st);
}

/* 7 -> 8: the ledger key gains the journey instance (entry_event, 0 for
 * none): a claim of "STEP#EVENT" is its own row beside STEP's (its step
 * "STEP#EVENT", as a round's is "STEP@ROUND"), and a
 * second event's instance beside the first's.  The version 7 table is
 * the one migration 7 wrote, with a row of each kind. */
static void
test_migration_8(void)
{
	static const char v7[] =
	    "DROP TABLE messages;"
	    "CREATE TABLE messages (id INTEGER PRIMARY KEY, campaign_id INTEGER"
	    " NOT NULL REFERENCES campaigns (id), step TEXT NOT NULL DEFAULT"
	    " '', contact_id INTEGER NOT NULL REFERENCES contacts (id), channel"
	    " TEXT NOT NULL, status TEXT NOT NULL CHECK (status = 'claimed' OR"
	    " status = 'sent' OR status = 'failed' OR status = 'bounced' OR"
	    " status = 'unknown' OR status = 'held-out'), attempts INTEGER NOT"
	    " NULL DEFAULT 0, provider_id TEXT, error TEXT, claimed_at INTEGER"
	    " NOT NULL, updated_at INTEGER NOT NULL, claimed_by TEXT, variant"
	    " TEXT, UNIQUE (campaign_id, step, contact_id));"
	    "CREATE INDEX messages_status ON messages (status, updated_at)"
	    " WHERE status = 'claimed' OR status = 'unknown';"
	    "CREATE INDEX messages_contact ON messages (contact_id);"
	    "INSERT INTO messages VALUES (7, 1, 's1', 1, 'sms', 'sent', 2,"
	    " 'SM1', NULL, 10, 11, 'x', 'b'), (9, 1, 'h', 2, 'email',"
	    " 'held-out', 0, NULL, NULL, 12, 12, 'y', NULL);"
	    "PRAGMA user_version = 7";
	nudge_store *st;
	nudge_ledger *l;
	enum nudge_claim res;
	int64_t id, id2;
	nudge_err err;

	st = open_store();
	is_int(nudge_store_exec(st, v7, &err), 0, "a version 7 store");
	nudge_store_close(st);
	st = open_store();
	is_int(q1(st, "PRAGMA user_version"), NUDGE_SCHEMA_VERSION,
	    "migrates to version 8");
	is_str(qs(st, "SELECT group_concat(id || ':' || step || ':' || status"
	    " || ':' || attempts || ':' || coalesce(variant, '-') || ':' ||"
	    " entry_event, ' ') FROM (SELECT * FROM messages ORDER BY id)"),
	    "7:s1:sent:2:b:0 9:h:held-out:0:-:0",
	    "rows, ids and variants kept, no instance");
	is_int(nudge_ledger_open(&l, st, &err), 0, "the ledger opens on it");
	is_int(nudge_ledger_claim(l, 1, "s1", 1, "sms", 0, 20, &res, &id,
	    &err), 0, "the old key claimed again");
	ok(res == NUDGE_CLAIM_DONE && id == 7, "finds the old row");
	is_int(nudge_ledger_claim(l, 1, "s1#41", 1, "sms", 0, 20, &res, &id,
	    &err), 0, "a claim of an instance");
	ok(res == NUDGE_CLAIM_WON && id != 7, "is a new row beside it");
	is_int(nudge_ledger_claim(l, 1, "s1#42", 1, "sms", 0, 20, &res, &id2,
	    &err), 0, "a second instance");
	ok(res == NUDGE_CLAIM_WON && id2 != id, "is its own row");
	is_int(nudge_ledger_claim(l, 1, "s1#41", 1, "sms", 0, 21, &res, &id2,
	    &err), 0, "the first instance claimed again");
	ok(res == NUDGE_CLAIM_DONE && id2 == id, "finds its row");
	is_str(qs(st, "SELECT group_concat(step || ':' || entry_event, ' ')"
	    " FROM (SELECT * FROM messages WHERE contact_id = 1 ORDER BY"
	    " id)"), "s1:0 s1#41:41 s1#42:42",
	    "the instance is a column of the key");
	is_int((int)nudge_ledger_instance("s1#41"), 41, "instance of s1#41");
	is_int((int)nudge_ledger_instance("s1@2026-11-09T00:00:00Z"), 0,
	    "a round is no instance");
	ok(sqlite3_exec(st->db, "INSERT INTO messages (campaign_id, step,"
	    " contact_id, channel, status, claimed_at, updated_at,"
	    " entry_event) VALUES (1, 's1#41', 1, 'sms', 'sent', 1, 1, 41)",
	    NULL, NULL, NULL) != SQLITE_OK, "the key is unique with it");
	nudge_ledger_close(l);
	nudge_store_exec(st, "DELETE FROM messages", &err);
	nudge_store_close(st);
}

static void
test_claim_outcome(void)
{
	nudge_store *st = open_store(), *st2 = open_store();
	nudge_ledger *l, *l2;
	enum nudge_claim res;
	sqlite3_stmt *s;
	int64_t id, id2;
	nudge_err err;
	char key[64];

	ok(nudge_ledger_open(&l, st, &err) == 0 &&
	    nudge_ledger_open(&l2, st2, &err) == 0, "two ledgers open");
	is_int(q1(st, "PRAGMA synchronous"), 2, "synchronous is FULL");
	is_str(nudge_ledger_key(key, sizeof key, 1, "welcome", 42),
	    "nudge-1-welcome-42", "the idempotency key");
	is_str(nudge_ledger_key(key, sizeof key, 7, NULL, 3), "nudge-7--3",
	    "the key of a blast (no step)");
	ok(nudge_ledger_key(key, 8, 1, "welcome", 42) == NULL,
	    "a key that does not fit is NULL");
	is_str(nudge_ledger_key(key, 19, 1, "welcome", 42),
	    "nudge-1-welcome-42", "one that just fits is whole");
	ok(nudge_ledger_key(key, 18, 1, "welcome", 42) == NULL,
	    "one byte less (no room for the NUL) is NULL");
	is_str(nudge_ledger_key(key, sizeof key, -5, "s", INT64_MAX),
	    "nudge--5-s-9223372036854775807", "any int64");

	ok(nudge_ledger_claim(l, 1, NULL, 1, "email", 0, 100, &res, &id,
	    &err) == 0 && res == NUDGE_CLAIM_WON && id > 0, "first claim wins");
	is_str(qs(st, "SELECT status || ' ' || attempts || ' ' || step || '|' "
	    "|| claimed_at FROM messages"), "claimed 1 |100",
	    "the row is claimed, attempt 1");
	is_str(qs(st, "SELECT claimed_by FROM messages"), nudge_ledger_me(l),
	    "claimed_by names this process");
	is_int(nudge_ledger_claimer_alive(nudge_ledger_me(l)), 1,
	    "which is alive");
	ok(nudge_ledger_claim(l, 1, "", 1, "email", 0, 101, &res, &id2,
	    &err) == 0 && res == NUDGE_CLAIM_DONE && id2 == id,
	    "the same key again: done, same row");
	ok(nudge_ledger_claim(l2, 1, "", 1, "email", 1, 101, &res, &id2,
	    &err) == 0 && res == NUDGE_CLAIM_DONE && id2 == id,
	    "from another connection, even with resend_unknown: done");
	ok(nudge_ledger_claim(l2, 1, "", 2, "email", 0, 102, &res, &id2,
	    &err) == 0 && res == NUDGE_CLAIM_WON && id2 != id,
	    "another contact is another key");

	/* claimed_by names a process: both ledgers here are this one. */
	nudge_store_exec(st, "UPDATE messages SET claimed_by = "
	    "'1@other.example:5' WHERE id = 1", &err);
	is_int(nudge_ledger_outcome(l2, id, NUDGE_OUT_SENT, "x", 103, &err),
	    EX_DATAERR, "only the claiming process records the outcome");
	is_str(err.msg, "message 1: claimed by 1@other.example:5, not by this "
	    "process: cannot mark it sent", "the refusal names the claimer");
	is_int(nudge_ledger_retry(l, id, "x", 103, &err), EX_DATAERR,
	    "nor retries it");
	sqlite3_prepare_v2(st->db, "UPDATE messages SET claimed_by = ?1 WHERE "
	    "id = 1", -1, &s, NULL);
	sqlite3_bind_text(s, 1, nudge_ledger_me(l), -1, SQLITE_STATIC);
	sqlite3_step(s);
	sqlite3_finalize(s);
	ok(nudge_ledger_retry(l, id, "451 try later", 103, &err) == 0,
	    "a retry");
	is_str(qs(st, "SELECT attempts || ' ' || error FROM messages WHERE "
	    "id = 1"), "2 451 try later", "counts an attempt, keeps the error");
	ok(nudge_ledger_outcome(l, id, NUDGE_OUT_SENT, "<abc@mx>", 104,
	    &err) == 0, "claimed -> sent");
	is_str(qs(st, "SELECT status || ' ' || provider_id || ' ' || "
	    "coalesce(error, '-') || ' ' || updated_at FROM messages WHERE "
	    "id = 1"), "sent <abc@mx> - 104", "with the provider id");
	is_int(nudge_ledger_outcome(l, id, NUDGE_OUT_FAILED, "oops", 105,
	    &err), EX_DATAERR, "sent -> failed is refused");
	is_str(err.msg, "message 1: cannot go from sent to failed",
	    "naming both states");
	ok(nudge_ledger_outcome(l, id, NUDGE_OUT_BOUNCED, "550 no such user",
	    106, &err) == 0, "sent -> bounced (a late bounce)");
	is_str(qs(st, "SELECT status || ' ' || provider_id || ' ' || error "
	    "FROM messages WHERE id = 1"), "bounced <abc@mx> 550 no such user",
	    "keeps the provider id, records the error");
	ok(nudge_ledger_outcome(l2, id2, NUDGE_OUT_FAILED, "554 rejected", 107,
	    &err) == 0, "claimed -> failed");
	is_int(nudge_ledger_retry(l2, id2, "x", 108, &err), EX_DATAERR,
	    "no retry of a failed row");
	is_int(nudge_ledger_outcome(l, 999, NUDGE_OUT_SENT, NULL, 108, &err),
	    EX_DATAERR, "an unknown row");
	is_str(err.msg, "message 999: no such message", "is named");

	/* A batch: claims inside the caller's transaction. */
	ok(nudge_store_begin(st, &err) == 0 &&
	    nudge_ledger_claim(l, 1, "batch", 1, "email", 0, 110, &res, &id,
	    &err) == 0 && res == NUDGE_CLAIM_WON &&
	    nudge_ledger_claim(l, 1, "batch", 2, "email", 0, 110, &res, &id,
	    &err) == 0 && res == NUDGE_CLAIM_WON &&
	    !sqlite3_get_autocommit(st->db) && nudge_store_commit(st, &err) == 0,
	    "claims batched in the caller's transaction");
	is_int(q1(st2, "SELECT count(*) FROM messages WHERE step = 'batch'"),
	    2, "committed together");

	/* Two connections at once: while one holds a claim uncommitted,
	 * the other cannot decide on that key (it waits, then gives up
	 * with EX_TEMPFAIL); after the commit it sees the claim taken. */
	sqlite3_busy_timeout(st2->db, 100);
	ok(nudge_store_begin(st, &err) == 0 &&
	    nudge_ledger_claim(l, 1, "both", 3, "email", 0, 120, &res, &id,
	    &err) == 0 && res == NUDGE_CLAIM_WON, "one connection claims, "
	    "uncommitted");
	is_int(nudge_ledger_claim(l2, 1, "both", 3, "email", 0, 120, &res,
	    &id2, &err), EX_TEMPFAIL, "the other waits and gives up");
	ok(res == NUDGE_CLAIM_DONE, "without winning");
	ok(nudge_store_commit(st, &err) == 0, "the first commits");
	ok(nudge_ledger_claim(l2, 1, "both", 3, "email", 0, 121, &res, &id2,
	    &err) == 0 && res == NUDGE_CLAIM_DONE && id2 == id,
	    "then the other finds the key taken");
	is_int(q1(st, "SELECT count(*) FROM messages WHERE step = 'both'"), 1,
	    "one row");
	nudge_ledger_close(l);
	nudge_ledger_close(l2);
	nudge_store_close(st);
	nudge_store_close(st2);
}

/* Each of NPROC processes claims the same NKEY keys on its own
 * connection, and writes how many it won to the pipe. */
#define NPROC 4
#define NKEY 60

static void
test_concurrent(void)
{
	nudge_store *st;
	int fds[2], i, k, status, total = 0, allok = 1;
	pid_t pids[NPROC];

	if (pipe(fds) == -1)
		return;
	for (i = 0; i < NPROC; i++) {
		fflush(stdout); /* a child under valgrind flushes its copy at exit */
		if ((pids[i] = fork()) == 0) {
			nudge_store *cst;
			nudge_ledger *l;
			enum nudge_claim res;
			nudge_err err;
			int64_t id;
			int won = 0, bad = 0;

			close(fds[0]);
			if (nudge_store_open(&cst, dbpath, 0, &err) != 0 ||
			    nudge_ledger_open(&l, cst, &err) != 0)
				_exit(1);
			for (k = 0; k < NKEY; k++) {
				if (nudge_ledger_claim(l, 1, "race",
				    (k % 3) + 1, "email", 0, 200, &res,
				    &id, &err) != 0 && (bad = 1))
					break;
				if (res == NUDGE_CLAIM_WON) {
					won++;
					if (nudge_ledger_outcome(l, id,
					    NUDGE_OUT_SENT, NULL, 201, &err))
						bad = 1;
				}
			}
			nudge_ledger_close(l);
			nudge_store_close(cst);
			if (write(fds[1], &won, sizeof won) != sizeof won)
				_exit(1);
			_exit(bad);
		}
	}
	close(fds[1]);
	for (i = 0; i < NPROC; i++) {
		int won;

		if (read(fds[0], &won, sizeof won) == sizeof won)
			total += won;
		if (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			allok = 0;
	}
	close(fds[0]);
	ok(allok, "four processes claimed without an error");
	is_int(total, 3, "each of the 3 keys was won exactly once");
	st = open_store();
	is_int(q1(st, "SELECT count(*) FROM messages WHERE step = 'race'"), 3,
	    "one row per key");
	nudge_store_close(st);
}

static int nlost;
static char lost_by[320];

static void
on_lost(void *arg, const nudge_ledger_lost *m)
{
	(void)arg;
	nlost++;
	if (m->contact_id == 3)
		snprintf(lost_by, sizeof lost_by, "%s %s %lld", m->step,
		    m->channel, (long long)m->claimed_at);
}

static void
test_recovery(void)
{
	nudge_store *st = open_store();
	nudge_ledger *l;
	enum nudge_claim res;
	int64_t id;
	nudge_err err;
	int fds[2], status;
	pid_t dead, live;
	long n;
	char c, by[320];

	nudge_ledger_open(&l, st, &err);
	/* A process that claims and is killed before the outcome. */
	fflush(stdout); /* a child under valgrind flushes its copy at exit */
	if ((dead = fork()) == 0) {
		nudge_store *cst;
		nudge_ledger *cl;

		if (nudge_store_open(&cst, dbpath, 0, &err) != 0 ||
		    nudge_ledger_open(&cl, cst, &err) != 0 ||
		    nudge_ledger_claim(cl, 1, "crash", 3, "email", 0, 300, &res,
		    &id, &err) != 0)
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	waitpid(dead, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "a claimer killed with SIGKILL");
	/* A live one, blocked on a pipe until we close it. */
	if (pipe(fds) == -1)
		return;
	fflush(stdout);
	if ((live = fork()) == 0) {
		nudge_store *cst;
		nudge_ledger *cl;

		close(fds[1]);
		if (nudge_store_open(&cst, dbpath, 0, &err) != 0 ||
		    nudge_ledger_open(&cl, cst, &err) != 0 ||
		    nudge_ledger_claim(cl, 1, "crash", 2, "email", 0, 300, &res,
		    &id, &err) != 0)
			_exit(1);
		c = 'x';
		if (write(STDOUT_FILENO, "", 0) != 0 ||
		    read(fds[0], &c, 1) == -1)
			_exit(1);
		_exit(0);
	}
	close(fds[0]);
	/* Wait for the live claim to land. */
	while (q1(st, "SELECT count(*) FROM messages WHERE step = 'crash' "
	    "AND contact_id = 2") != 1)
		usleep(10000);
	nudge_store_exec(st, "INSERT INTO messages (campaign_id, step, "
	    "contact_id, channel, status, attempts, claimed_at, updated_at, "
	    "claimed_by) VALUES (1, 'crash', 1, 'email', 'claimed', 1, 300, "
	    "300, '123@elsewhere.example:99')", &err);
	snprintf(by, sizeof by, "%s", qs(st, "SELECT claimed_by FROM messages "
	    "WHERE step = 'crash' AND contact_id = 3"));
	is_int(nudge_ledger_claimer_alive(by), 0, "the killed one is gone");
	is_int(nudge_ledger_claimer_alive("123@elsewhere.example:99"), -1,
	    "another host cannot be told");
	is_int(nudge_ledger_claimer_alive("junk"), -1, "nor can junk");

	nlost = 0;
	ok(nudge_ledger_recover(l, 400, 0, on_lost, NULL, &n, &err) == 0 &&
	    n == 1 && nlost == 1, "recovery without a timeout marks one row");
	is_str(lost_by, "crash email 300", "the killed process's claim");
	is_str(qs(st, "SELECT status FROM messages WHERE step = 'crash' AND "
	    "contact_id = 3"), "unknown", "which is now unknown");
	{
		char want[512];

		snprintf(want, sizeof want, "claimed by %s, which ended before "
		    "recording the outcome; sent or not is unknown", by);
		is_str(qs(st, "SELECT error FROM messages WHERE step = 'crash' "
		    "AND contact_id = 3"), want, "with the reason");
	}
	is_str(qs(st, "SELECT group_concat(contact_id || status) FROM "
	    "(SELECT * FROM messages WHERE step = 'crash' AND contact_id != 3 "
	    "ORDER BY contact_id)"), "1claimed,2claimed",
	    "a live claim and another host's are left alone");
	ok(nudge_ledger_recover(l, 400, 0, NULL, NULL, &n, &err) == 0 &&
	    n == 0, "recovering again finds nothing");
	ok(nudge_ledger_recover(l, 400, 50, NULL, NULL, &n, &err) == 0 &&
	    n == 2, "with a timeout, old claims of others are marked too");
	is_str(qs(st, "SELECT error FROM messages WHERE step = 'crash' AND "
	    "contact_id = 1"), "claimed by 123@elsewhere.example:99 more "
	    "than 50 s before recovery; sent or not is unknown",
	    "the timeout is the reason");
	close(fds[1]);
	waitpid(live, &status, 0);

	ok(nudge_ledger_claim(l, 1, "crash", 3, "email", 0, 500, &res, &id,
	    &err) == 0 && res == NUDGE_CLAIM_UNKNOWN,
	    "an unknown row is not claimed by default");
	ok(nudge_ledger_claim(l, 1, "crash", 3, "email", 1, 500, &res, &id,
	    &err) == 0 && res == NUDGE_CLAIM_WON,
	    "with resend_unknown it is");
	is_str(qs(st, "SELECT status || ' ' || attempts || ' ' || "
	    "coalesce(error, '-') || ' ' || claimed_at FROM messages WHERE "
	    "step = 'crash' AND contact_id = 3"), "claimed 2 - 500",
	    "claimed again: second attempt, error cleared");
	ok(nudge_ledger_claim(l, 1, "crash", 3, "email", 1, 501, &res, &id,
	    &err) == 0 && res == NUDGE_CLAIM_DONE,
	    "and not twice");
	{
		int64_t uid = q1(st, "SELECT id FROM messages WHERE step = "
		    "'crash' AND contact_id = 1");

		ok(nudge_ledger_outcome(l, uid, NUDGE_OUT_SENT, "late", 503,
		    &err) == 0, "unknown -> sent when the truth comes late");
	}
	nudge_ledger_close(l);
	nudge_store_close(st);
}

/* A claimer killed with an in-flight journal: its claims not in the
 * journal are given back (deleted), those in it become unknown, and one
 * taken over from unknown (attempts 2) stays unknown; the journal goes. */
static void
test_journal(void)
{
	nudge_store *st;
	nudge_ledger *l;
	nudge_err err;
	char jdir[300];
	int status;
	long n = -1;
	pid_t dead;

	if (nudge_store_open(&st, dbpath, 0, &err) != 0)
		return;
	nudge_ledger_open(&l, st, &err);
	nudge_store_exec(st, "INSERT INTO contacts (id, email, created_at, "
	    "updated_at) VALUES (10, 'j10@example.com', 0, 0), (11, "
	    "'j11@example.com', 0, 0), (12, 'j12@example.com', 0, 0), (13, "
	    "'j13@example.com', 0, 0);"
	    "INSERT INTO messages (campaign_id, step, "
	    "contact_id, channel, status, attempts, claimed_at, updated_at) "
	    "VALUES (1, 'jrn', 13, 'email', 'unknown', 1, 300, 300)", &err);
	if ((dead = fork()) == 0) {
		nudge_store *cst;
		nudge_ledger *cl;
		nudge_journal *j;
		enum nudge_claim res;
		int64_t id, c;

		if (nudge_store_open(&cst, dbpath, 0, &err) != 0 ||
		    nudge_ledger_open(&cl, cst, &err) != 0 ||
		    nudge_journal_open(&j, dbpath, nudge_ledger_me(cl),
		    &err) != 0) {
			printf("# %s\n", err.msg);
			fflush(stdout);
			_exit(1);
		}
		for (c = 10; c <= 13; c++) {
			if (nudge_ledger_claim(cl, 1, "jrn", c, "email", 1, 300,
			    &res, &id, &err) != 0 || res != NUDGE_CLAIM_WON) {
				printf("# %lld: %d %s\n", (long long)c, (int)res, err.msg);
				fflush(stdout);
				_exit(1);
			}
			if (c == 11)
				nudge_journal_add(j, &id, 1);
		}
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	waitpid(dead, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "a claimer with a journal killed with SIGKILL");
	is_int(q1(st, "SELECT count(*) FROM messages WHERE step = 'jrn' AND "
	    "status = 'claimed'"), 4, "it left four claims");
	snprintf(jdir, sizeof jdir, "%s.inflight", dbpath);
	ok(access(jdir, F_OK) == 0, "and its journal");
	ok(nudge_ledger_recover(l, 400, 0, NULL, NULL, &n, &err) == 0 &&
	    n == 2 && nudge_ledger_given_back(l) == 2,
	    "recovery: two unknown, two given back");
	is_str(qs(st, "SELECT group_concat(contact_id || status || attempts) "
	    "FROM (SELECT * FROM messages WHERE step = 'jrn' ORDER BY "
	    "contact_id)"), "11unknown1,13unknown2",
	    "the journalled one and the one taken over from unknown stay");
	ok(access(jdir, F_OK) == -1, "the journal is gone");
	nudge_ledger_close(l);
	nudge_store_close(st);
}

/* A claimer killed with outcomes in its journal: each journalled outcome
 * is recorded as the sender would have (status, provider id or error,
 * attempts, and the event with its props), one that says the message
 * surely did not leave is given back, a start with no outcome is
 * unknown, and a last outcome line cut by the kill counts for nothing. */
static void
test_journal_outcomes(void)
{
	nudge_store *st;
	nudge_ledger *l;
	nudge_err err;
	int status;
	long n = -1;
	pid_t dead;

	if (nudge_store_open(&st, dbpath, 0, &err) != 0)
		return;
	nudge_ledger_open(&l, st, &err);
	nudge_store_exec(st, "INSERT INTO contacts (id, email, created_at, "
	    "updated_at) VALUES (20, 'o20@example.com', 0, 0), (21, "
	    "'o21@example.com', 0, 0), (22, 'o22@example.com', 0, 0), (23, "
	    "'o23@example.com', 0, 0), (24, 'o24@example.com', 0, 0), (25, "
	    "'o25@example.com', 0, 0);"
	    "INSERT INTO campaigns (id, name, created_at) VALUES (7, 'jo', 0)",
	    &err);
	if ((dead = fork()) == 0) {
		nudge_store *cst;
		nudge_ledger *cl;
		nudge_journal *j;
		nudge_journal_outcome o = { 0 };
		enum nudge_claim res;
		int64_t id[6], c;
		char path[600];
		FILE *fp;

		if (nudge_store_open(&cst, dbpath, 0, &err) != 0 ||
		    nudge_ledger_open(&cl, cst, &err) != 0 ||
		    nudge_journal_open(&j, dbpath, nudge_ledger_me(cl),
		    &err) != 0) {
			printf("# %s\n", err.msg);
			fflush(stdout);
			_exit(1);
		}
		for (c = 20; c <= 25; c++)
			if (nudge_ledger_claim(cl, 7, "s1", c, "sms", 0, 500,
			    &res, &id[c - 20], &err) != 0 ||
			    res != NUDGE_CLAIM_WON)
				_exit(1);
		/* 20 sent after a retry, 21 bounced, 22 given back (4xx to
		 * the end), 23 started with no outcome, 24 never started,
		 * 25 sent but its line cut by the kill */
		nudge_journal_add(j, id, 4);
		o.id = id[0];
		o.out = NUDGE_OUT_SENT;
		o.attempts = 2;
		o.props = "{\"segments\":2,\"encoding\":\"GSM-7\"}";
		o.detail = "SM123\nx";
		nudge_journal_done(j, &o);
		o.id = id[1];
		o.out = NUDGE_OUT_BOUNCED;
		o.attempts = 1;
		o.props = NULL;
		o.detail = "550 no such user";
		nudge_journal_done(j, &o);
		o.id = id[2];
		o.back = 1;
		o.detail = "refused 4 times";
		nudge_journal_done(j, &o);
		nudge_journal_add(j, &id[5], 1);
		snprintf(path, sizeof path, "%s.inflight/%s", dbpath,
		    nudge_ledger_me(cl));
		if ((fp = fopen(path, "a")) == NULL)
			_exit(1);
		fprintf(fp, "%lld sent 1 - SM999", (long long)id[5]);
		fclose(fp);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	waitpid(dead, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "a claimer with outcomes in its journal killed with SIGKILL");
	ok(nudge_ledger_recover(l, 900, 0, NULL, NULL, &n, &err) == 0 &&
	    n == 2 && nudge_ledger_given_back(l) == 2 &&
	    nudge_ledger_journalled(l) == 2,
	    "recovery: two outcomes recorded, two given back, two unknown");
	is_str(qs(st, "SELECT group_concat(contact_id || ' ' || status || ' ' "
	    "|| attempts || ' ' || coalesce(provider_id, '-') || ' ' || "
	    "coalesce(error, '-') || ' ' || updated_at, ', ') FROM (SELECT * "
	    "FROM messages WHERE campaign_id = 7 AND status != 'unknown' "
	    "ORDER BY contact_id)"),
	    "20 sent 2 SM123 x - 500, 21 bounced 1 - 550 no such user 500",
	    "the recorded rows: status, attempts, provider id or error");
	is_str(qs(st, "SELECT group_concat(contact_id, ' ') FROM (SELECT * "
	    "FROM messages WHERE campaign_id = 7 AND status = 'unknown' "
	    "ORDER BY contact_id)"), "23 25",
	    "unknown: the one started with no outcome, the one whose line "
	    "was cut");
	is_str(qs(st, "SELECT group_concat(contact_id || ' ' || type || ' ' || "
	    "channel || ' ' || step || ' ' || at || ' ' || coalesce(props, "
	    "'-'), ', ') FROM (SELECT e.* FROM events e JOIN messages m ON "
	    "m.id = e.message_id WHERE m.campaign_id = 7 ORDER BY "
	    "e.contact_id)"),
	    "20 sent sms s1 500 {\"segments\":2,\"encoding\":\"GSM-7\"}, "
	    "21 bounced sms s1 500 -",
	    "their events, as the sender writes them");
	is_int(q1(st, "SELECT count(*) FROM consent WHERE contact_id = 21 AND "
	    "status = 'bounced' AND channel = 'sms'"), 1,
	    "the bounce marks the channel bounced");
	nudge_ledger_close(l);
	nudge_store_close(st);
}

int
main(void)
{
	char cmd[300];

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(dbpath, sizeof dbpath, "%s/l.db", dir);
	test_migration();
	test_migration_3();
	test_migration_4();
	test_migration_7();
	test_migration_8();
	test_claim_outcome();
	test_concurrent();
	test_recovery();
	test_journal();
	test_journal_outcomes();
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	return done_testing();
}
