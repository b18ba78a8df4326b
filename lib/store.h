/* store: the one SQLite file — opening it, pragmas, schema migrations by
 * PRAGMA user_version, transactions, and SQLite errors as sysexits codes. */
#ifndef NUDGE_STORE_H
#define NUDGE_STORE_H

#include <sqlite3.h>

#include "util.h"

/* "nudg": PRAGMA application_id of every nudge store, so that a stranger's
 * SQLite file is refused instead of being rewritten. */
#define NUDGE_APPLICATION_ID 0x6e756467
/* The newest schema this build knows; see migrations[] in store.c. */
#define NUDGE_SCHEMA_VERSION 13
/* The contacts' unique keys: an email, and a phone, belongs to one contact
 * at most (the first migration; the first import into an empty store
 * builds them again at its end, listimport.c).  Not partial (WHERE email
 * IS NOT NULL), though their builds would then sort only text, 0.2 s less
 * at 1M contacts: a scan of every contact's id (`not ...` audiences) reads
 * the smaller of them, where it would read the table, twice as slow. */
#define NUDGE_CONTACTS_KEYS \
	"CREATE UNIQUE INDEX contacts_email ON contacts (email);" \
	"CREATE UNIQUE INDEX contacts_phone ON contacts (phone);"
/* WAL pages between the checkpoints of a one-request connection
 * (nudge_store_per_request). */
#define NUDGE_STORE_REQUEST_CKPT 64

#define NUDGE_STORE_CACHE 8

typedef struct nudge_store {
	sqlite3 *db;
	char *path;
	/* statements kept prepared for nudge_store_cached(), keyed by the
	 * address of their SQL text */
	const char *cache_sql[NUDGE_STORE_CACHE];
	sqlite3_stmt *cache[NUDGE_STORE_CACHE];
	int reading;              /* nudge_store_read's transaction is open */
	unsigned long rollbacks;  /* transactions rolled back so far: what
				     a writer knows of the store since is
				     void */
	int busy_ms;              /* nudge_store_per_request's */
	int64_t busy_since;       /* its busy handler's first try (us) */
	int own_counts;           /* nudge_store_own_counts: triggers off,
				     the event writers count */
} nudge_store;

enum {
	NUDGE_STORE_CREATE = 1,   /* create the file (and the default
				     directory) when missing */
	NUDGE_STORE_READONLY = 2, /* no writes, no migration */
	NUDGE_STORE_MKDIR = 4,    /* create missing parent directories */
	NUDGE_STORE_NOWAIT = 8,   /* no waiting for the write lock to
				     migrate (another process may be
				     migrating): EX_TEMPFAIL at once */
};

/* Opens the store at path, applies pending migrations, and sets WAL,
 * busy_timeout (5 s), foreign_keys and synchronous=NORMAL.
 * Errors: EX_NOINPUT (missing and not NUDGE_STORE_CREATE), EX_DATAERR (not
 * a nudge store, or a schema newer than this build), EX_CANTCREAT (cannot
 * create or write), EX_TEMPFAIL (locked past the busy timeout),
 * EX_IOERR, EX_SOFTWARE. */
int nudge_store_open(nudge_store **out, const char *path, int flags,
    nudge_err *err);
void nudge_store_close(nudge_store *st);

/* Opens a read transaction (BEGIN, deferred) unless a transaction is
 * open: the reads that follow share one snapshot of the WAL and one
 * lock, not one each (in WAL mode every read outside a transaction takes
 * and drops locks: several fcntl(2) calls a statement).  Writers of other
 * connections are not held up; nudge_store_begin ends it first, and so
 * does nudge_store_read_end.  A failure only leaves the reads as they
 * were, each its own transaction. */
void nudge_store_read(nudge_store *st);
void nudge_store_read_end(nudge_store *st);
/* Whether a write transaction (nudge_store_begin's) is open. */
int nudge_store_writing(const nudge_store *st);

/* BEGIN IMMEDIATE (takes the write lock now, so a busy store fails here
 * and not halfway through), COMMIT, ROLLBACK. */
int nudge_store_begin(nudge_store *st, nudge_err *err);
int nudge_store_commit(nudge_store *st, nudge_err *err);
void nudge_store_rollback(nudge_store *st);

/* With on, turns this connection's triggers off
 * (SQLITE_DBCONFIG_ENABLE_TRIGGER) and has every event writer on it do
 * the counting trigger's work itself (event.c count_own), with the same
 * result: the trigger's WHEN builds a table for its IN list at every row
 * (SQLite does for more than two constants), most of an insert's cost.
 * Other connections and processes keep the trigger.  Only for a
 * connection that writes events through event writers alone, inserting
 * and never updating or deleting them (send): the other triggers on
 * events are off too.  Expires the connection's prepared statements
 * (SQLite prepares them again at their next step).  Errors: EX_SOFTWARE
 * (the SQLite library refused). */
int nudge_store_own_counts(nudge_store *st, int on, nudge_err *err);

int nudge_store_exec(nudge_store *st, const char *sql, nudge_err *err);
int nudge_store_prepare(nudge_store *st, sqlite3_stmt **stmt,
    const char *sql, nudge_err *err);

/* Runs sql once, its parameters bound in order by kinds, one letter
 * each: 'i' an int64_t, 't' a const char * (NULL binds NULL).  For a
 * rare write or lookup, not worth a kept statement.  With out, a query
 * of one number: *out the first column of its first row, 0 when it has
 * none.  0, or the store's code with err "what: ...". */
int nudge_store_run(nudge_store *st, const char *what, nudge_err *err,
    int64_t *out, const char *sql, const char *kinds, ...);

/* A module's fixed set of statements, kept for its life: prepares sql[i]
 * into stmt[i] for each i < n, stopping at the first error (as
 * nudge_store_prepare); nudge_store_finalize_n then finalizes them all,
 * the NULL ones (not prepared) too. */
int nudge_store_prepare_n(nudge_store *st, sqlite3_stmt **stmt,
    const char *const *sql, size_t n, nudge_err *err);
void nudge_store_finalize_n(sqlite3_stmt **stmt, size_t n);

/* Sets *stmt to sql prepared once for the life of the store and reset
 * for a new run: for a statement run once per message or line, where
 * preparing it again would cost more than running it (a primary key
 * lookup).  sql must have static storage: the cache is keyed by its
 * address.  The caller binds, steps and resets; it never finalizes.
 * Errors: as nudge_store_prepare; EX_SOFTWARE when the cache is full. */
int nudge_store_cached(nudge_store *st, const char *sql, sqlite3_stmt **stmt,
    nudge_err *err);

/* Fills err with "what: <sqlite's message>" and returns the sysexits code
 * for the store's last error: EX_TEMPFAIL for busy/locked, EX_IOERR for
 * I/O errors and a full disk, EX_CANTCREAT for read-only or unopenable
 * files, EX_DATAERR for corruption and constraint failures, else
 * EX_SOFTWARE. */
int nudge_store_error(nudge_store *st, nudge_err *err, const char *what);
int nudge_sqlite_code(int rc);

/* The id of the list called name, created when create is set and missing;
 * 0 when missing and not created.  Returns 0 or a sysexits code. */
int nudge_store_list_id(nudge_store *st, const char *name, int create,
    int64_t now, int64_t *id, nudge_err *err);

/* The id of the campaign called name, 0 when the store has none.
 * Returns 0 or a sysexits code. */
int nudge_store_campaign_id(nudge_store *st, const char *name, int64_t *id,
    nudge_err *err);

/* Tunes a connection that answers requests (nudge track): waits at most
 * busy_ms for the write lock, trying it again every 50 us to 1 ms (not
 * SQLite's sleeps of 1 to 100 ms: a click holds the lock for less than
 * one).  With one_shot, for a process that answers
 * one request and exits (a CGI program), where it is most often the
 * store's only connection: leaves the WAL file in place at close instead
 * of checkpointing and deleting it for the next request to create again,
 * and once the WAL holds NUDGE_STORE_REQUEST_CKPT pages checkpoints it
 * and truncates it, because such a connection's open reads every frame
 * of the WAL to rebuild its index. */
void nudge_store_per_request(nudge_store *st, int busy_ms, int one_shot);

#endif
