/* store: the one SQLite file; owns the schema and its migrations. */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "event.h"

/*
 * Each entry moves the schema from version i to i + 1 and runs inside the
 * migration's transaction.  Never edit a released entry: add one.
 *
 * Times are Unix seconds, UTC.  Emails are stored lower-cased, phones in
 * E.164, so plain unique indexes make them case- and format-insensitive.
 * Those are named indexes, not column constraints, so that a first import
 * can drop them and build them by sorting (listimport.c).
 * consent is an append-only audit trail: the current state of a contact
 * on a channel is its latest row (consent_now).  campaigns.first_sent_at
 * is kept by the event writer (event.c) so
 * that "in last N campaigns" is an index lookup.
 */
/*
 * Pieces the migrations repeat, named once: the text they make is the
 * same as written out.  The ledger's columns from 2 -> 3 on, up to
 * claimed_by, its status CHECK widened by more: the migrations that copy
 * messages into a new table (SQLite cannot alter a CHECK or a UNIQUE)
 * create it with them, copy them, and swap it in with its indexes.
 */
#define MESSAGES_COLUMNS(more) \
	"  id INTEGER PRIMARY KEY," \
	"  campaign_id INTEGER NOT NULL REFERENCES campaigns (id)," \
	"  step TEXT NOT NULL DEFAULT ''," \
	"  contact_id INTEGER NOT NULL REFERENCES contacts (id)," \
	"  channel TEXT NOT NULL," \
	"  status TEXT NOT NULL CHECK (status = 'claimed' OR status = 'sent'" \
	"    OR status = 'failed' OR status = 'bounced' OR status = 'unknown'" \
	more ")," \
	"  attempts INTEGER NOT NULL DEFAULT 0," \
	"  provider_id TEXT," \
	"  error TEXT," \
	"  claimed_at INTEGER NOT NULL," \
	"  updated_at INTEGER NOT NULL," \
	"  claimed_by TEXT,"
#define MESSAGES_COPY(v) \
	"INSERT INTO messages_v" #v \
	" SELECT id, campaign_id, step, contact_id," \
	"  channel, status, attempts, provider_id, error, claimed_at," \
	"  updated_at, claimed_by"
#define MESSAGES_SWAP(v) \
	"DROP TABLE messages;" \
	"ALTER TABLE messages_v" #v " RENAME TO messages;" \
	"CREATE INDEX messages_status ON messages (status, updated_at)" \
	"  WHERE status = 'claimed' OR status = 'unknown';" \
	"CREATE INDEX messages_contact ON messages (contact_id);"
/* The consent table's first columns, up to its status CHECK left open
 * (10 -> 11 adds pending). */
#define CONSENT_HEAD \
	"  id INTEGER PRIMARY KEY," \
	"  contact_id INTEGER NOT NULL REFERENCES contacts (id)" \
	"    ON DELETE CASCADE," \
	"  channel TEXT NOT NULL," \
	"  status TEXT NOT NULL CHECK (status = 'subscribed'" \
	"    OR status = 'unsubscribed' OR status = 'bounced'" \
	"    OR status = 'complained'"
/* consent's current state: a contact's latest row on a channel */
#define CONSENT_NOW \
	"CREATE VIEW consent_now AS" \
	"  SELECT c.* FROM consent c WHERE NOT EXISTS (" \
	"    SELECT 1 FROM consent d WHERE d.contact_id = c.contact_id" \
	"      AND d.channel = c.channel" \
	"      AND (d.at > c.at OR (d.at = c.at AND d.id > c.id)));"
/* Of the migration that makes event.h's counts and their triggers:
 * COUNTED(R), row R (NEW or OLD) is counted. */
#define COUNTED(r) "(" r ".campaign_id IS NOT NULL AND " r ".type IN " \
	NUDGE_EVENT_COUNTED ")"

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE contacts ("
	"  id INTEGER PRIMARY KEY,"
	"  email TEXT,"
	"  phone TEXT,"
	"  push_id TEXT,"
	"  first_name TEXT,"
	"  last_name TEXT,"
	"  attrs TEXT NOT NULL DEFAULT '{}',"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	NUDGE_CONTACTS_KEYS
	"CREATE INDEX contacts_push ON contacts (push_id)"
	"  WHERE push_id IS NOT NULL;"
	"CREATE TABLE lists ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE list_members ("
	"  list_id INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,"
	"  contact_id INTEGER NOT NULL REFERENCES contacts (id)"
	"    ON DELETE CASCADE,"
	"  added_at INTEGER NOT NULL,"
	"  PRIMARY KEY (list_id, contact_id)) WITHOUT ROWID;"
	"CREATE TABLE consent ("
	"  id INTEGER PRIMARY KEY,"
	"  contact_id INTEGER NOT NULL REFERENCES contacts (id)"
	"    ON DELETE CASCADE,"
	"  channel TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('subscribed',"
	"    'unsubscribed', 'bounced', 'complained')),"
	"  at INTEGER NOT NULL,"
	"  source TEXT NOT NULL,"
	"  event_id INTEGER);"
	"CREATE INDEX consent_contact ON consent (contact_id, channel, at, id);"
	CONSENT_NOW
	"CREATE TABLE campaigns ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  channel TEXT,"
	"  first_sent_at INTEGER,"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX campaigns_sent ON campaigns (first_sent_at)"
	"  WHERE first_sent_at IS NOT NULL;"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  contact_id INTEGER NOT NULL REFERENCES contacts (id)"
	"    ON DELETE CASCADE,"
	"  type TEXT NOT NULL,"
	"  channel TEXT,"
	"  campaign_id INTEGER REFERENCES campaigns (id),"
	"  step TEXT,"
	"  message_id INTEGER,"
	"  at INTEGER NOT NULL,"
	"  props TEXT);"
	"CREATE INDEX events_contact ON events (contact_id, type, at);"
	"CREATE INDEX events_type_at ON events (type, at, contact_id);"
	"CREATE INDEX events_campaign ON events (campaign_id, type, contact_id);"
	"CREATE TRIGGER events_first_sent AFTER INSERT ON events"
	"  WHEN NEW.type = 'sent' AND NEW.campaign_id IS NOT NULL BEGIN"
	"  UPDATE campaigns SET first_sent_at = NEW.at,"
	"    channel = coalesce(channel, NEW.channel)"
	"  WHERE id = NEW.campaign_id"
	"    AND (first_sent_at IS NULL OR first_sent_at > NEW.at);"
	"END;"
	"CREATE TABLE segments ("
	"  name TEXT PRIMARY KEY,"
	"  expr TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);",
	/* 1 -> 2: the message ledger (ledger.c).  One row per idempotency
	 * key (campaign, step, contact), inserted as `claimed` before the
	 * message leaves; claimed_by names the process ("pid@host:start")
	 * so that a later run can tell a crashed claim from a live one.
	 * The status index serves recovery (status = 'claimed') and
	 * reports. */
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  campaign_id INTEGER NOT NULL REFERENCES campaigns (id),"
	"  step TEXT NOT NULL DEFAULT '',"
	"  contact_id INTEGER NOT NULL REFERENCES contacts (id),"
	"  channel TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('claimed', 'sent',"
	"    'failed', 'bounced', 'unknown')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  provider_id TEXT,"
	"  error TEXT,"
	"  claimed_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  claimed_by TEXT,"
	"  UNIQUE (campaign_id, step, contact_id));"
	"CREATE INDEX messages_status ON messages (status, updated_at);"
	"CREATE INDEX messages_contact ON messages (contact_id);",
	/* 2 -> 3: the same tables, cheaper to write.  A CHECK of
	 * `status IN (list)` built a temporary b-tree at every insert and
	 * update of a row (a fifth of send's time for a claim, its outcome
	 * and its event); equalities joined by OR do not.  SQLite cannot
	 * alter a CHECK, so messages and consent are copied into new tables
	 * (ids kept).  The status index keeps only the rows that recovery
	 * and --resend-unknown look for: a message's outcome takes it out,
	 * and a sent or failed row no longer moves in it.  The trigger that
	 * kept campaigns.first_sent_at ran a program at every event insert
	 * (a tenth of an event's cost); the event writer keeps it now, with
	 * one update a campaign and transaction. */
	"DROP TRIGGER IF EXISTS events_first_sent;"
	"CREATE TABLE messages_v3 ("
	MESSAGES_COLUMNS("")
	"  UNIQUE (campaign_id, step, contact_id));"
	MESSAGES_COPY(3) " FROM messages;"
	MESSAGES_SWAP(3)
	/* the view names consent: a rename checks every view */
	"DROP VIEW consent_now;"
	"CREATE TABLE consent_v3 ("
	"  id INTEGER PRIMARY KEY,"
	"  contact_id INTEGER NOT NULL REFERENCES contacts (id)"
	"    ON DELETE CASCADE,"
	"  channel TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status = 'subscribed'"
	"    OR status = 'unsubscribed' OR status = 'bounced'"
	"    OR status = 'complained'),"
	"  at INTEGER NOT NULL,"
	"  source TEXT NOT NULL,"
	"  event_id INTEGER);"
	"INSERT INTO consent_v3 SELECT id, contact_id, channel, status, at,"
	"  source, event_id FROM consent;"
	"DROP TABLE consent;"
	"ALTER TABLE consent_v3 RENAME TO consent;"
	"CREATE INDEX consent_contact ON consent (contact_id, channel, at, id);"
	CONSENT_NOW,
	/* 3 -> 4: the attrs keys any contact has had (contact.c), so that
	 * send can refuse a template field no contact has without a scan
	 * of every contact's attrs (0.8 s a million) at each run.  Kept by
	 * the writers of attrs (import-list); never shrinks. */
	"CREATE TABLE IF NOT EXISTS attr_keys (key TEXT PRIMARY KEY)"
	"  WITHOUT ROWID;"
	"INSERT OR IGNORE INTO attr_keys SELECT DISTINCT j.key"
	"  FROM contacts c, json_each(c.attrs) j WHERE c.attrs <> '{}';",
	/* 4 -> 5: consent keeps its proof (the IP a double opt-in was
	 * confirmed from, the form); consent_now's c.* takes it in */
	"ALTER TABLE consent ADD COLUMN proof TEXT;",
	/* 5 -> 6: where each of a contact's fields came from, as JSON
	 * {"first_name": ["shopify", 1796...], ...} (listimport.c) */
	"ALTER TABLE contacts ADD COLUMN sources TEXT;",
	/* 6 -> 7: A/B variants and holdouts (abtest.c).  A row's variant
	 * is a column, not part of its key: a contact gets one variant of
	 * a step, once.  A held-out contact has a row of status `held-out`
	 * and no message, so that timing and goals run as for the others;
	 * the status CHECK cannot be altered, so messages is copied (ids
	 * kept) as in 2 -> 3.  ab_results holds each test's decision: one
	 * row a (campaign, step), written once. */
	"CREATE TABLE messages_v7 ("
	MESSAGES_COLUMNS("    OR status = 'held-out'")
	"  variant TEXT,"
	"  UNIQUE (campaign_id, step, contact_id));"
	MESSAGES_COPY(7) ", NULL FROM messages;"
	MESSAGES_SWAP(7)
	"CREATE TABLE IF NOT EXISTS ab_results ("
	"  campaign TEXT NOT NULL,"
	"  step TEXT NOT NULL,"
	"  winner TEXT NOT NULL,"
	"  metric TEXT NOT NULL,"
	"  significant INTEGER NOT NULL,"
	"  why TEXT NOT NULL,"
	"  decided_at INTEGER NOT NULL,"
	"  PRIMARY KEY (campaign, step)) WITHOUT ROWID;",
	/* 7 -> 8: the customer-base models (predict.c).  predict_fits keeps
	 * every fit with its date, the data it came from and its quality,
	 * so that a later fit can be compared with an earlier one;
	 * predictions holds each contact's figures from the latest fit
	 * without a hold-out, replaced as a whole by the next, for segments
	 * to read.  IF NOT EXISTS: the tests make an older store by dropping
	 * an older table from a new one. */
	"CREATE TABLE IF NOT EXISTS predict_fits ("
	"  id INTEGER PRIMARY KEY,"
	"  fitted_at INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  calibration_end INTEGER NOT NULL,"
	"  holdout_end INTEGER,"
	"  customers INTEGER NOT NULL,"
	"  repeat_buyers INTEGER NOT NULL,"
	"  purchases INTEGER NOT NULL,"
	"  r REAL NOT NULL, alpha REAL NOT NULL, a REAL NOT NULL,"
	"  b REAL NOT NULL, ll REAL NOT NULL,"
	"  p REAL, q REAL, gamma REAL, gg_ll REAL,"
	"  holdout_predicted REAL, holdout_actual REAL);"
	"CREATE TABLE IF NOT EXISTS predictions ("
	"  contact_id INTEGER PRIMARY KEY REFERENCES contacts (id)"
	"    ON DELETE CASCADE,"
	"  fit_id INTEGER NOT NULL REFERENCES predict_fits (id),"
	"  p_alive REAL NOT NULL,"
	"  churn_risk REAL NOT NULL,"
	"  expected_purchases_90d REAL NOT NULL,"
	"  expected_order_value REAL,"
	"  clv_365d REAL);",
	/* 8 -> 9: journeys started by events (entry: on EVENT).  The
	 * ledger key grows by the journey's instance, the id of the event
	 * that started it (0: none, every row of a campaign entered by
	 * the audience), so that a second purchase starts the journey
	 * again.  A UNIQUE constraint cannot be altered: messages is
	 * copied, ids kept, as in 6 -> 7. */
	"CREATE TABLE messages_v9 ("
	MESSAGES_COLUMNS("    OR status = 'held-out'")
	"  variant TEXT,"
	"  entry_event INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (campaign_id, step, contact_id, entry_event));"
	MESSAGES_COPY(9) ", variant, 0 FROM messages;"
	MESSAGES_SWAP(9),
	/* 9 -> 10: the best hour to send (besthour.c).  send_hour_fits keeps
	 * every fit with its zone, its prior weight and the list's own
	 * ranking of the hours; send_hours each contact's ranking from the
	 * latest fit, replaced as a whole by the next.  A ranking is 24
	 * letters, best hour first, 'a' for 00:00 to 'x' for 23:00.  IF
	 * NOT EXISTS: safe to run again on a store that has them. */
	"CREATE TABLE IF NOT EXISTS send_hour_fits ("
	"  id INTEGER PRIMARY KEY,"
	"  fitted_at INTEGER NOT NULL,"
	"  timezone TEXT NOT NULL,"
	"  prior REAL NOT NULL,"
	"  contacts INTEGER NOT NULL,"
	"  events INTEGER NOT NULL,"
	"  best_hour INTEGER NOT NULL,"
	"  best_wday INTEGER NOT NULL,"
	"  hours TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS send_hours ("
	"  contact_id INTEGER PRIMARY KEY REFERENCES contacts (id)"
	"    ON DELETE CASCADE,"
	"  fit_id INTEGER NOT NULL REFERENCES send_hour_fits (id),"
	"  events INTEGER NOT NULL,"
	"  best_hour INTEGER NOT NULL,"
	"  best_wday INTEGER NOT NULL,"
	"  hours TEXT NOT NULL);",
	/* 10 -> 11: a consent status `pending`: an address a sign-up form
	 * created and nobody has confirmed yet (signup.c) is not
	 * consented on email whatever the config's default, until its
	 * confirmation's `subscribed` row follows.  A CHECK cannot be
	 * altered: consent is copied, ids kept, as in 2 -> 3; each
	 * statement may run again on its own result.
	 * And the name an attrs key was imported from ("Default Address
	 * City" for default_address_city), kept beside attr_keys by its
	 * writer (contact.c) for headers that show it. */
	"CREATE TABLE IF NOT EXISTS attr_names (key TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL) WITHOUT ROWID;"
	"DROP VIEW IF EXISTS consent_now;"
	"DROP TABLE IF EXISTS consent_v11;"
	"CREATE TABLE consent_v11 ("
	CONSENT_HEAD
	" OR status = 'pending'),"
	"  at INTEGER NOT NULL,"
	"  source TEXT NOT NULL,"
	"  event_id INTEGER,"
	"  proof TEXT);"
	"INSERT INTO consent_v11 SELECT id, contact_id, channel, status, at,"
	"  source, event_id, proof FROM consent;"
	"DROP TABLE consent;"
	"ALTER TABLE consent_v11 RENAME TO consent;"
	"CREATE INDEX IF NOT EXISTS consent_contact"
	"  ON consent (contact_id, channel, at, id);"
	CONSENT_NOW,
	/* 11 -> 12: event imports that commit in batches (eventimport.c).
	 * event_imports: one row per input file (its fingerprint: size,
	 * first and last MiB, the options that change what a row records),
	 * the last line whose batch committed, and whether it ran to the
	 * end: a rerun of the same file skips what is recorded.
	 * dropped_indexes: the CREATE statements of the indexes a bulk
	 * import dropped, committed with the drop, so that a killed import's
	 * rerun (or the next import) builds them again.  IF NOT EXISTS: safe
	 * to run again. */
	"CREATE TABLE IF NOT EXISTS event_imports ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  fingerprint TEXT NOT NULL,"
	"  line INTEGER NOT NULL DEFAULT 0,"
	"  done INTEGER NOT NULL DEFAULT 0,"
	"  started_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS event_imports_fp"
	"  ON event_imports (fingerprint);"
	"CREATE TABLE IF NOT EXISTS dropped_indexes ("
	"  name TEXT PRIMARY KEY,"
	"  tbl TEXT NOT NULL,"
	"  sql TEXT NOT NULL);",
	/* 12 -> 13: the per-campaign counts of nudge report's default view
	 * (event.h), kept by triggers for every writer: an insert adds its
	 * event, a delete (a contact's, by cascade) takes it away.  A
	 * contact counts once a campaign and type, while an event of that
	 * key is left (a probe of events_campaign).  Nothing updates a
	 * counted event's key or parts: such an update is refused rather
	 * than let the counts drift.  events_type_contact: a type's
	 * events in contact order, and a contact's sends in the order of
	 * (at, id) with their campaign, so that last- and first-touch find
	 * a purchase's message without a sort or a read of its row
	 * (report.c). */
	"CREATE INDEX IF NOT EXISTS events_type_contact"
	" ON events (type, contact_id, at, id, campaign_id);"
	"CREATE TABLE IF NOT EXISTS campaign_counts ("
	" campaign_id INTEGER NOT NULL,"
	" type TEXT NOT NULL,"
	" events INTEGER NOT NULL,"
	" contacts INTEGER NOT NULL,"
	" first_at INTEGER NOT NULL,"
	" PRIMARY KEY (campaign_id, type)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS campaign_channels ("
	" campaign_id INTEGER NOT NULL,"
	" channel TEXT NOT NULL,"
	" parts INTEGER NOT NULL,"
	" PRIMARY KEY (campaign_id, channel)) WITHOUT ROWID;"
	"DROP TRIGGER IF EXISTS events_count_insert;"
	"CREATE TRIGGER events_count_insert AFTER INSERT ON events"
	" WHEN " COUNTED("NEW") " BEGIN"
	" " NUDGE_EVENT_COUNT_ONE("NEW.campaign_id", "NEW.type",
	    "NEW.contact_id", "NEW.id", "NEW.at") ";"
	" " NUDGE_EVENT_PARTS_OF("NEW") " WHERE NEW.type = 'sent'"
	" ON CONFLICT DO UPDATE SET parts = parts + excluded.parts;"
	" END;"
	"DROP TRIGGER IF EXISTS events_count_delete;"
	"CREATE TRIGGER events_count_delete AFTER DELETE ON events"
	" WHEN " COUNTED("OLD") " BEGIN"
	" UPDATE campaign_counts SET events = events - 1,"
	" contacts = contacts - (NOT EXISTS (SELECT 1 FROM events e"
	" WHERE e.campaign_id = OLD.campaign_id AND e.type = OLD.type"
	" AND e.contact_id = OLD.contact_id))"
	" WHERE campaign_id = OLD.campaign_id AND type = OLD.type;"
	" UPDATE campaign_channels SET parts = parts - "
	NUDGE_EVENT_PARTS("OLD")
	" WHERE OLD.type = 'sent' AND campaign_id = OLD.campaign_id"
	" AND channel = coalesce(OLD.channel, '');"
	" END;"
	"DROP TRIGGER IF EXISTS events_count_update;"
	"CREATE TRIGGER events_count_update BEFORE UPDATE OF contact_id, type,"
	" channel, campaign_id, props ON events"
	" WHEN (" COUNTED("OLD") " OR " COUNTED("NEW") ") AND"
	" (OLD.campaign_id IS NOT NEW.campaign_id OR OLD.type IS NOT NEW.type"
	" OR OLD.contact_id IS NOT NEW.contact_id"
	" OR (OLD.type = 'sent' AND (OLD.channel IS NOT NEW.channel"
	" OR OLD.props IS NOT NEW.props))) BEGIN"
	" SELECT RAISE(ABORT, 'a counted event''s campaign, type, contact,"
	" channel or props cannot change: delete it and insert it again');"
	" END;"
	NUDGE_EVENT_COUNTS_SQL,
};

int
nudge_sqlite_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EX_TEMPFAIL;
	case SQLITE_IOERR:
	case SQLITE_FULL:
		return EX_IOERR;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		return EX_CANTCREAT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
		return EX_DATAERR;
	default:
		return EX_SOFTWARE;
	}
}

int
nudge_store_error(nudge_store *st, nudge_err *err, const char *what)
{
	int rc = sqlite3_extended_errcode(st->db);

	return nudge_errf(err, nudge_sqlite_code(rc), "%s: %s: %s", st->path,
	    what, sqlite3_errmsg(st->db));
}

int
nudge_store_exec(nudge_store *st, const char *sql, nudge_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return nudge_store_error(st, err, "exec");
	return 0;
}

int
nudge_store_prepare(nudge_store *st, sqlite3_stmt **stmt, const char *sql,
    nudge_err *err)
{
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
	    NULL) != SQLITE_OK)
		return nudge_store_error(st, err, "prepare");
	return 0;
}

int
nudge_store_run(nudge_store *st, const char *what, nudge_err *err,
    int64_t *out, const char *sql, const char *kinds, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int i, rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(st, err, what);
	va_start(ap, kinds);
	for (i = 0; kinds[i] != '\0'; i++)
		if (kinds[i] == 'i')
			sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
		else
			sqlite3_bind_text(s, i + 1, va_arg(ap, const char *), -1,
			    SQLITE_STATIC);
	va_end(ap);
	rc = sqlite3_step(s);
	if (out != NULL)
		*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && (out == NULL || rc != SQLITE_ROW))
		return nudge_store_error(st, err, what);
	return 0;
}

int
nudge_store_prepare_n(nudge_store *st, sqlite3_stmt **stmt,
    const char *const *sql, size_t n, nudge_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = nudge_store_prepare(st, &stmt[i], sql[i], err)) != 0)
			return rc;
	return 0;
}

void
nudge_store_finalize_n(sqlite3_stmt **stmt, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sqlite3_finalize(stmt[i]);
}

int
nudge_store_cached(nudge_store *st, const char *sql, sqlite3_stmt **stmt,
    nudge_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < NUDGE_STORE_CACHE && st->cache_sql[i] != NULL; i++)
		if (st->cache_sql[i] == sql) {
			*stmt = st->cache[i];
			sqlite3_reset(*stmt);
			sqlite3_clear_bindings(*stmt);
			return 0;
		}
	if (i == NUDGE_STORE_CACHE)
		return nudge_errf(err, EX_SOFTWARE, "statement cache full");
	if ((rc = nudge_store_prepare(st, &st->cache[i], sql, err)) != 0)
		return rc;
	st->cache_sql[i] = sql;
	*stmt = st->cache[i];
	return 0;
}

void
nudge_store_read(nudge_store *st)
{
	if (!st->reading && sqlite3_get_autocommit(st->db) &&
	    sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK)
		st->reading = 1;
}

void
nudge_store_read_end(nudge_store *st)
{
	if (!st->reading)
		return;
	st->reading = 0;
	if (!sqlite3_get_autocommit(st->db) &&
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int
nudge_store_writing(const nudge_store *st)
{
	return !st->reading && !sqlite3_get_autocommit(st->db);
}

int
nudge_store_own_counts(nudge_store *st, int on, nudge_err *err)
{
	int now = -1;

	if (sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_TRIGGER,
	    on ? 0 : 1, &now) != SQLITE_OK || now != (on ? 0 : 1))
		return nudge_errf(err, EX_SOFTWARE,
		    "%s: SQLite would not turn triggers %s", st->path,
		    on ? "off" : "on");
	st->own_counts = on;
	return 0;
}

int
nudge_store_begin(nudge_store *st, nudge_err *err)
{
	nudge_store_read_end(st);
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return nudge_store_error(st, err, "begin");
	return 0;
}

int
nudge_store_commit(nudge_store *st, nudge_err *err)
{
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int code = nudge_store_error(st, err, "commit");
		nudge_store_rollback(st);
		return code;
	}
	return 0;
}

void
nudge_store_rollback(nudge_store *st)
{
	st->rollbacks++;
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
pragma_int(nudge_store *st, const char *sql, int *out, nudge_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(st, err, "read header");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return nudge_store_error(st, err, "read header");
	return 0;
}

/* Refuses files that are not nudge stores; says whether it is a new one. */
static int
check_identity(nudge_store *st, int *version, nudge_err *err)
{
	int app, tables = 0, rc;

	if ((rc = pragma_int(st, "PRAGMA application_id", &app, err)) != 0) {
		if ((sqlite3_errcode(st->db) & 0xff) == SQLITE_NOTADB)
			return nudge_errf(err, EX_DATAERR,
			    "%s: not a nudge store (not an SQLite database)",
			    st->path);
		return rc;
	}
	if ((rc = pragma_int(st, "PRAGMA user_version", version, err)) != 0)
		return rc;
	/* a file without nudge's id is nudge's only while it is empty */
	if (app != NUDGE_APPLICATION_ID && (rc = pragma_int(st,
	    "SELECT count(*) FROM sqlite_schema", &tables, err)) != 0)
		return rc;
	if (app != NUDGE_APPLICATION_ID && (app != 0 || tables != 0))
		return nudge_errf(err, EX_DATAERR,
		    "%s: not a nudge store (an SQLite database of another "
		    "program)", st->path);
	if (*version > NUDGE_SCHEMA_VERSION)
		return nudge_errf(err, EX_DATAERR,
		    "%s: schema version %d is newer than this nudge knows (%d); "
		    "upgrade nudge", st->path, *version, NUDGE_SCHEMA_VERSION);
	return 0;
}

static int
migrate(nudge_store *st, nudge_err *err)
{
	char sql[96];
	int v, rc;

	if ((rc = nudge_store_begin(st, err)) != 0)
		return rc;
	/* Read again under the write lock: another process may have
	 * migrated since we looked. */
	if ((rc = check_identity(st, &v, err)) != 0)
		goto fail;
	for (; v < NUDGE_SCHEMA_VERSION; v++) {
		if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) !=
		    SQLITE_OK) {
			rc = nudge_store_error(st, err, "migrate");
			goto fail;
		}
	}
	snprintf(sql, sizeof sql,
	    "PRAGMA application_id = %d; PRAGMA user_version = %d",
	    NUDGE_APPLICATION_ID, NUDGE_SCHEMA_VERSION);
	if ((rc = nudge_store_exec(st, sql, err)) != 0)
		goto fail;
	return nudge_store_commit(st, err);
fail:
	nudge_store_rollback(st);
	return rc;
}

static int
mkdirs(const char *path)
{
	char *p = strdup(path), *s;
	int rc = 0;

	if (p == NULL)
		return -1;
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	free(p);
	return rc;
}

/* SQLite counts every allocation it makes for sqlite3_memory_used(),
 * under a global mutex, unless told not to: a tenth of a send's SQLite
 * work.  nudge never asks for the count.  Before SQLite's first use. */
static void
config_once(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Whether a rollback journal is there beside the store at path. */
static int
hot_journal(const char *path)
{
	char j[4096];

	if ((size_t)snprintf(j, sizeof j, "%s-journal", path) >= sizeof j)
		return 0;
	return access(j, F_OK) == 0;
}

int
nudge_store_open(nudge_store **out, const char *path, int flags,
    nudge_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	nudge_store *st;
	struct stat sb;
	int oflags, rc, version;

	*out = NULL;
	if (stat(path, &sb) == -1) {
		if (errno != ENOENT || !(flags & NUDGE_STORE_CREATE))
			return nudge_errf(err,
			    errno == ENOENT ? EX_NOINPUT : EX_CANTCREAT,
			    "%s: %s", path, strerror(errno));
		if ((flags & NUDGE_STORE_MKDIR) && mkdirs(path) == -1)
			return nudge_errf(err, EX_CANTCREAT,
			    "%s: cannot create its directory: %s", path,
			    strerror(errno));
	} else if (S_ISDIR(sb.st_mode)) {
		return nudge_errf(err, EX_DATAERR,
		    "%s: not a nudge store (a directory)", path);
	}
	(void)pthread_once(&once, config_once);
	if ((flags & NUDGE_STORE_READONLY) && hot_journal(path)) {
		/* A rollback journal beside the store: a first import into
		 * an empty store (listimport.c, hold_store) was killed.  A
		 * reader cannot roll it back; a writer's open does, and puts
		 * the store back in WAL mode.  If it cannot, the reader's
		 * open says why. */
		if (nudge_store_open(&st, path, flags &
		    ~NUDGE_STORE_READONLY, err) == 0)
			nudge_store_close(st);
	}
	if ((st = calloc(1, sizeof *st)) == NULL ||
	    (st->path = strdup(path)) == NULL) {
		free(st);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	/* a connection is only ever used by one thread at a time: no
	 * mutex around every call */
	oflags = SQLITE_OPEN_NOMUTEX | ((flags & NUDGE_STORE_READONLY) ?
	    SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE |
	    ((flags & NUDGE_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0));
	if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
		rc = nudge_store_error(st, err, "open");
		nudge_store_close(st);
		return rc;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 5000);
	if ((rc = check_identity(st, &version, err)) != 0)
		goto fail;
	if (!(flags & NUDGE_STORE_READONLY)) {
		/* WAL lets readers (segment, report) run beside a writer
		 * (send, track); NORMAL syncs at checkpoints, which in WAL
		 * mode cannot corrupt the file. */
		if ((rc = nudge_store_exec(st, "PRAGMA journal_mode = WAL;"
		    "PRAGMA synchronous = NORMAL", err)) != 0)
			goto fail;
		if (version < NUDGE_SCHEMA_VERSION) {
			if (flags & NUDGE_STORE_NOWAIT)
				sqlite3_busy_timeout(st->db, 0);
			if ((rc = migrate(st, err)) != 0)
				goto fail;
			sqlite3_busy_timeout(st->db, 5000);
		}
	} else if (version < NUDGE_SCHEMA_VERSION) {
		/* An older store is upgraded by whoever opens it first, a
		 * reader too: open it for writing once, then as asked. */
		nudge_store_close(st);
		if ((rc = nudge_store_open(&st, path, flags &
		    ~NUDGE_STORE_READONLY, err)) != 0)
			return rc;
		nudge_store_close(st);
		return nudge_store_open(out, path, flags, err);
	}
	/* A reader (segment, trigger, report) sorts in temporary files:
	 * SQLite's sorter then sorts cache-sized runs and merges them, where
	 * with temp_store = MEMORY it sorts the whole set as one list: the
	 * win-back audience's GROUP BY of 3.7M purchases (1M contacts, 10M
	 * events) 0.73 s of CPU against 1.87 s.  Small sorts never reach the
	 * file. */
	if ((rc = nudge_store_exec(st, (flags & NUDGE_STORE_READONLY) ?
	    "PRAGMA foreign_keys = ON; PRAGMA temp_store = FILE" :
	    "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY", err)) != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	nudge_store_close(st);
	return rc;
}

void
nudge_store_close(nudge_store *st)
{
	size_t i;

	if (st == NULL)
		return;
	nudge_store_read_end(st);
	for (i = 0; i < NUDGE_STORE_CACHE; i++)
		sqlite3_finalize(st->cache[i]);
	sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
}

/* The id of the row of table whose name is name, or 0. */
static int
id_by_name(nudge_store *st, const char *table, const char *name,
    int64_t *id, nudge_err *err)
{
	sqlite3_stmt *s = NULL;
	char sql[64];
	int rc;

	*id = 0;
	snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE name = ?", table);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(st, err, table);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(st, err, table);
	return 0;
}

int
nudge_store_list_id(nudge_store *st, const char *name, int create,
    int64_t now, int64_t *id, nudge_err *err)
{
	int rc;

	if ((rc = id_by_name(st, "lists", name, id, err)) != 0)
		return rc;
	if (*id != 0 || !create)
		return 0;
	if ((rc = nudge_store_run(st, "lists", err, NULL, "INSERT INTO lists"
	    " (name, created_at) VALUES (?, ?)", "ti", name, now)) != 0)
		return rc;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
nudge_store_campaign_id(nudge_store *st, const char *name, int64_t *id,
    nudge_err *err)
{
	return id_by_name(st, "campaigns", name, id, err);
}

/* The busy handler of a connection that answers requests
 * (nudge_store_per_request): tries the lock again after 50 us, then
 * after twice as long each time up to 1 ms, until busy_ms have passed
 * since the first try.  SQLite's own (sqlite3_busy_timeout) sleeps 1, 2,
 * 5, 10, 15 ms and so on, made for locks held long: a click waits for
 * another's insert and commit, a lock held for some 100 us, and slept
 * on for milliseconds after it was free, so that a burst of clicks spent
 * most of its time asleep (and the unlucky ones their whole 250 ms, to
 * be spooled). */
static int
busy_poll(void *arg, int n)
{
	nudge_store *st = arg;
	struct timespec ts;
	int64_t now = nudge_mono_us(), us;

	if (n == 0)
		st->busy_since = now;
	if (now - st->busy_since >= (int64_t)st->busy_ms * 1000)
		return 0;
	us = n < 5 ? 50 << n : 1000;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)us * 1000;
	nanosleep(&ts, NULL);
	return 1;
}

static void
set_busy(nudge_store *st)
{
	if (st->busy_ms > 0)
		sqlite3_busy_handler(st->db, busy_poll, st);
	else
		sqlite3_busy_timeout(st->db, 0);
}

/* The WAL hook of a one-request connection (nudge_store_per_request),
 * in place of the automatic checkpoint: each time the log grows past a
 * multiple of NUDGE_STORE_REQUEST_CKPT pages, checkpoints it and
 * truncates it to nothing.
 * Such a connection, when it is the store's only one, rebuilds the WAL
 * index at open from every frame the log holds since its last restart,
 * and an automatic (passive) checkpoint never restarts it when each
 * writer is a new process: the log only grew, and a click read all of it
 * (1,341 reads after 1,000 clicks; a 108 MB log in one bench run).
 * Only at a crossing, not at every commit once the log is that long: a
 * checkpoint of new pages syncs the log and the database (two fsyncs,
 * some 5 ms here), and under a burst of clicks the log cannot be
 * truncated (each click reads from it) and stays long; checkpointing at
 * every commit then cost 0.7 fsyncs a click.
 * The pages are copied by a passive checkpoint, which lets other
 * connections write meanwhile, and only then truncated, which keeps
 * writers out: a truncating checkpoint alone keeps them out while it
 * copies and syncs.  Neither waits for readers (a send's snapshot) or
 * writers: the checkpoint then does what it can and the next crossing
 * tries again. */
static int
truncate_log(void *arg, sqlite3 *db, const char *name, int frames)
{
	nudge_store *st = arg;
	int wrote = 0, hi;

	/* the pages this connection wrote since the last call: those of
	 * this commit */
	(void)sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_WRITE, &wrote, &hi,
	    1);
	if (frames / NUDGE_STORE_REQUEST_CKPT == (frames - wrote) /
	    NUDGE_STORE_REQUEST_CKPT)
		return SQLITE_OK;
	sqlite3_busy_timeout(db, 0);
	sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL,
	    NULL);
	sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, NULL,
	    NULL);
	set_busy(st);
	return SQLITE_OK;
}

void
nudge_store_per_request(nudge_store *st, int busy_ms, int one_shot)
{
	int persist = 1;

	st->busy_ms = busy_ms;
	set_busy(st);
	if (!one_shot)
		return;
	sqlite3_wal_hook(st->db, truncate_log, st);
	/* By default the close of a store's last connection checkpoints
	 * the WAL, fsyncs and deletes it, for the next request to create
	 * it again: truncate_log does it once in a while instead. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL,
	    &persist);
}
