/* ledger: claims, outcomes and crash recovery over the messages table. */
#include "ledger.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "journal.h"

struct nudge_ledger {
	nudge_store *st;
	sqlite3_stmt *ins, *find, *take, *out, *retry, *status;
	long given_back;	/* by the last recover */
	long journalled;	/* outcomes it read from journals */
	char me[320];
};

/* The start time of process pid, in clock ticks after boot (field 22 of
 * /proc/PID/stat), and whether it is a zombie.  -1 when there is no such
 * process. */
static int
proc_start(long pid, unsigned long long *start, int *zombie)
{
	char path[64], buf[1024], *p, state;
	FILE *fp;
	size_t n;
	int i;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses: the
	 * fields after it start after its last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %c", &state) !=
	    1)
		return -1;
	p += 2;
	for (i = 3; i < 22; i++) {
		if ((p = strchr(p, ' ')) == NULL)
			return -1;
		p++;
	}
	if (sscanf(p, "%llu", start) != 1)
		return -1;
	*zombie = state == 'Z' || state == 'X';
	return 0;
}

static void
hostname(char *buf, size_t len)
{
	if (gethostname(buf, len) == -1 || *buf == '\0')
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
}

int
nudge_ledger_claimer_alive(const char *s)
{
	char host[256], *end;
	const char *at, *colon;
	unsigned long long start, now_start;
	long pid;
	int zombie;

	if (s == NULL || (at = strchr(s, '@')) == NULL ||
	    (colon = strrchr(at, ':')) == NULL)
		return -1;
	errno = 0;
	pid = strtol(s, &end, 10);
	if (end != at || pid <= 0 || errno != 0)
		return -1;
	start = strtoull(colon + 1, &end, 10);
	if (*end != '\0' || colon[1] == '\0')
		return -1;
	hostname(host, sizeof host);
	if (strlen(host) != (size_t)(colon - at - 1) ||
	    strncmp(host, at + 1, (size_t)(colon - at - 1)) != 0)
		return -1;
	/* /proc may hide other users' processes (hidepid): then only
	 * kill(2) can say that the pid is gone, and a pid that exists
	 * cannot be told from a reused one. */
	if (proc_start(pid, &now_start, &zombie) == -1)
		return kill((pid_t)pid, 0) == -1 && errno == ESRCH ? 0 : -1;
	return now_start == start && !zombie;
}

int64_t
nudge_ledger_instance(const char *step)
{
	const char *h = step != NULL ? strchr(step, '#') : NULL;
	char *end;
	long long v;

	if (h == NULL)
		return 0;
	errno = 0;
	v = strtoll(h + 1, &end, 10);
	return errno != 0 || end == h + 1 || v < 0 ? 0 : (int64_t)v;
}

char *
nudge_ledger_key(char *buf, size_t len, int64_t campaign_id,
    const char *step, int64_t contact_id)
{
	int n = snprintf(buf, len, "nudge-%" PRId64 "-%s-%" PRId64,
	    campaign_id, step != NULL ? step : "", contact_id);

	return n < 0 || (size_t)n >= len ? NULL : buf;
}

int
nudge_ledger_open(nudge_ledger **out, nudge_store *st, nudge_err *err)
{
	nudge_ledger *l;
	unsigned long long start = 0;
	char host[256];
	int zombie, rc;

	*out = NULL;
	if ((l = calloc(1, sizeof *l)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	l->st = st;
	hostname(host, sizeof host);
	if (proc_start((long)getpid(), &start, &zombie) == -1)
		start = 0;
	snprintf(l->me, sizeof l->me, "%ld@%s:%llu", (long)getpid(), host,
	    start);
	if ((rc = nudge_store_exec(st, "PRAGMA synchronous = FULL", err)) ||
	    (rc = nudge_store_prepare(st, &l->ins,
	    "INSERT INTO messages (campaign_id, step, contact_id, channel,"
	    " status, attempts, claimed_at, updated_at, claimed_by, variant,"
	    " entry_event)"
	    " VALUES (?1, ?2, ?3, ?4, ?7, ?8, ?5, ?5, ?6, ?9, ?10)"
	    " ON CONFLICT (campaign_id, step, contact_id, entry_event)"
	    " DO NOTHING", err)) ||
	    (rc = nudge_store_prepare(st, &l->find,
	    "SELECT id, status FROM messages"
	    " WHERE campaign_id = ?1 AND step = ?2 AND contact_id = ?3"
	    " AND entry_event = ?4", err)) ||
	    (rc = nudge_store_prepare(st, &l->take,
	    "UPDATE messages SET status = 'claimed', attempts = attempts + 1,"
	    " channel = ?2, claimed_at = ?3, updated_at = ?3, claimed_by = ?4,"
	    " error = NULL WHERE id = ?1 AND status = 'unknown'", err)) ||
	    /* From claimed only by its claimer; from unknown by anyone,
	     * since a late outcome is the truth a recovery could not know;
	     * sent -> bounced for a bounce that comes back later. */
	    (rc = nudge_store_prepare(st, &l->out,
	    "UPDATE messages SET status = ?2,"
	    " provider_id = CASE WHEN ?2 = 'sent' THEN ?3 ELSE provider_id END,"
	    " error = CASE WHEN ?2 = 'sent' THEN NULL ELSE ?3 END,"
	    " updated_at = ?4 WHERE id = ?1 AND ("
	    " (status = 'claimed' AND claimed_by = ?5) OR status = 'unknown'"
	    " OR (status = 'sent' AND ?2 = 'bounced'))", err)) ||
	    (rc = nudge_store_prepare(st, &l->retry,
	    "UPDATE messages SET attempts = attempts + 1, error = ?2,"
	    " updated_at = ?3 WHERE id = ?1 AND status = 'claimed'"
	    " AND claimed_by = ?4", err)) ||
	    (rc = nudge_store_prepare(st, &l->status,
	    "SELECT status, claimed_by FROM messages WHERE id = ?1", err))) {
		nudge_ledger_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

void
nudge_ledger_close(nudge_ledger *l)
{
	if (l == NULL)
		return;
	sqlite3_finalize(l->ins);
	sqlite3_finalize(l->find);
	sqlite3_finalize(l->take);
	sqlite3_finalize(l->out);
	sqlite3_finalize(l->retry);
	sqlite3_finalize(l->status);
	free(l);
}

const char *
nudge_ledger_me(const nudge_ledger *l)
{
	return l->me;
}

/* Steps a write statement to its end; returns the changes it made, or -1
 * with err filled. */
static int
step_write(nudge_ledger *l, sqlite3_stmt *s, const char *what, int *code,
    nudge_err *err)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE)
		*code = nudge_store_error(l->st, err, what);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc != SQLITE_DONE ? -1 : sqlite3_changes(l->st->db);
}

int
nudge_ledger_claim(nudge_ledger *l, int64_t campaign_id, const char *step,
    int64_t contact_id, const char *channel, int resend_unknown,
    int64_t now, enum nudge_claim *result, int64_t *id, nudge_err *err)
{
	return nudge_ledger_claim_as(l, campaign_id, step, contact_id, channel,
	    NULL, 0, resend_unknown, now, result, id, err);
}

int
nudge_ledger_claim_as(nudge_ledger *l, int64_t campaign_id,
    const char *step, int64_t contact_id, const char *channel,
    const char *variant, int held_out, int resend_unknown, int64_t now,
    enum nudge_claim *result, int64_t *id, nudge_err *err)
{
	int own = !nudge_store_writing(l->st), rc = 0, n;
	const char *status;
	int64_t entry;

	*id = 0;
	*result = NUDGE_CLAIM_DONE;
	if (step == NULL)
		step = "";
	/* "STEP#EVENT": the instance of a journey started by an event,
	 * kept in the step (as a round is) and as a column of the key that
	 * joins the entry event */
	entry = nudge_ledger_instance(step);
	/* BEGIN IMMEDIATE: the write lock is taken before we look, so
	 * that the insert-or-take below is one atomic decision. */
	if (own && (rc = nudge_store_begin(l->st, err)) != 0)
		return rc;
	sqlite3_bind_int64(l->ins, 1, campaign_id);
	sqlite3_bind_text(l->ins, 2, step, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->ins, 3, contact_id);
	sqlite3_bind_text(l->ins, 4, channel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->ins, 5, now);
	sqlite3_bind_text(l->ins, 6, l->me, -1, SQLITE_STATIC);
	sqlite3_bind_text(l->ins, 7, held_out ? "held-out" : "claimed", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(l->ins, 8, held_out ? 0 : 1);
	if (variant != NULL)
		sqlite3_bind_text(l->ins, 9, variant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->ins, 10, entry);
	if ((n = step_write(l, l->ins, "claim", &rc, err)) < 0)
		goto fail;
	if (n == 1) {
		*id = sqlite3_last_insert_rowid(l->st->db);
		*result = NUDGE_CLAIM_WON;
	} else {
		sqlite3_bind_int64(l->find, 1, campaign_id);
		sqlite3_bind_text(l->find, 2, step, -1, SQLITE_STATIC);
		sqlite3_bind_int64(l->find, 3, contact_id);
		sqlite3_bind_int64(l->find, 4, entry);
		if (sqlite3_step(l->find) != SQLITE_ROW) {
			rc = nudge_store_error(l->st, err, "claim");
			sqlite3_reset(l->find);
			goto fail;
		}
		*id = sqlite3_column_int64(l->find, 0);
		status = (const char *)sqlite3_column_text(l->find, 1);
		if (status != NULL && strcmp(status, "unknown") == 0)
			*result = NUDGE_CLAIM_UNKNOWN;
		sqlite3_reset(l->find);
		sqlite3_clear_bindings(l->find);
		if (*result == NUDGE_CLAIM_UNKNOWN && resend_unknown) {
			sqlite3_bind_int64(l->take, 1, *id);
			sqlite3_bind_text(l->take, 2, channel, -1,
			    SQLITE_STATIC);
			sqlite3_bind_int64(l->take, 3, now);
			sqlite3_bind_text(l->take, 4, l->me, -1,
			    SQLITE_STATIC);
			if ((n = step_write(l, l->take, "claim", &rc, err)) < 0)
				goto fail;
			if (n == 1)
				*result = NUDGE_CLAIM_WON;
		}
	}
	if (own && (rc = nudge_store_commit(l->st, err)) != 0) {
		*result = NUDGE_CLAIM_DONE;
		return rc;
	}
	return 0;
fail:
	*result = NUDGE_CLAIM_DONE;
	if (own)
		nudge_store_rollback(l->st);
	return rc;
}

/* Why row id refused a transition: it is missing or in another state. */
static int
refused(nudge_ledger *l, int64_t id, const char *to, nudge_err *err)
{
	const char *status, *by;
	int rc;

	sqlite3_bind_int64(l->status, 1, id);
	if ((rc = sqlite3_step(l->status)) == SQLITE_ROW) {
		status = (const char *)sqlite3_column_text(l->status, 0);
		by = (const char *)sqlite3_column_text(l->status, 1);
		if (strcmp(status, "claimed") == 0)
			rc = nudge_errf(err, EX_DATAERR, "message %" PRId64
			    ": claimed by %s, not by this process: cannot "
			    "mark it %s", id, by != NULL ? by : "nobody", to);
		else
			rc = nudge_errf(err, EX_DATAERR, "message %" PRId64
			    ": cannot go from %s to %s", id, status, to);
	} else if (rc == SQLITE_DONE) {
		rc = nudge_errf(err, EX_DATAERR, "message %" PRId64
		    ": no such message", id);
	} else {
		rc = nudge_store_error(l->st, err, "ledger");
	}
	sqlite3_reset(l->status);
	return rc;
}

/* Runs s (bound) as its own transaction unless one is open; 0 changes is
 * a refused transition. */
static int
transition(nudge_ledger *l, sqlite3_stmt *s, int64_t id, const char *to,
    nudge_err *err)
{
	int own = !nudge_store_writing(l->st), rc = 0, n;

	if (own && (rc = nudge_store_begin(l->st, err)) != 0) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return rc;
	}
	if ((n = step_write(l, s, "ledger", &rc, err)) == 0)
		rc = refused(l, id, to, err);
	if (rc != 0) {
		if (own)
			nudge_store_rollback(l->st);
		return rc;
	}
	return own ? nudge_store_commit(l->st, err) : 0;
}

int
nudge_ledger_outcome(nudge_ledger *l, int64_t id, enum nudge_outcome out,
    const char *detail, int64_t now, nudge_err *err)
{
	static const char *const names[] = { "sent", "failed", "bounced",
	    "unknown" };
	const char *to = names[out];

	sqlite3_bind_int64(l->out, 1, id);
	sqlite3_bind_text(l->out, 2, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(l->out, 3, detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->out, 4, now);
	sqlite3_bind_text(l->out, 5, l->me, -1, SQLITE_STATIC);
	return transition(l, l->out, id, to, err);
}

int
nudge_ledger_retry(nudge_ledger *l, int64_t id, const char *error,
    int64_t now, nudge_err *err)
{
	sqlite3_bind_int64(l->retry, 1, id);
	sqlite3_bind_text(l->retry, 2, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->retry, 3, now);
	sqlite3_bind_text(l->retry, 4, l->me, -1, SQLITE_STATIC);
	return transition(l, l->retry, id, "retried", err);
}

int
nudge_ledger_release(nudge_ledger *l, int64_t id, nudge_err *err)
{
	sqlite3_stmt *s;
	int rc;

	/* rare (a run the breaker stopped): not worth a kept statement */
	if ((rc = nudge_store_prepare(l->st, &s, "DELETE FROM messages"
	    " WHERE id = ?1 AND status = 'claimed' AND claimed_by = ?2",
	    err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, l->me, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return nudge_store_error(l->st, err, "ledger release");
	return 0;
}

struct lost {
	nudge_ledger_lost m;
	char *step, *channel, *by;
};

/* The in-flight journal of one dead claimer, as read by recover. */
struct jrnl {
	char *by;
	int trusted;
	nudge_journal_data d;
};

/* The journal of claimer by among the nj read so far, read now if it is
 * not; NULL when out of memory. */
static struct jrnl *
journal_of(nudge_ledger *l, struct jrnl **js, size_t *nj, const char *by)
{
	struct jrnl *v, *j;
	size_t i;

	for (i = 0; i < *nj; i++)
		if (strcmp((*js)[i].by, by) == 0)
			return &(*js)[i];
	if ((v = realloc(*js, (*nj + 1) * sizeof *v)) == NULL)
		return NULL;
	*js = v;
	j = &v[*nj];
	memset(j, 0, sizeof *j);
	if ((j->by = nudge_strdup(by)) == NULL)
		return NULL;
	(*nj)++;
	if ((j->trusted = nudge_journal_load(l->st->path, by, &j->d)) == -1)
		return NULL;
	return j;
}

long
nudge_ledger_given_back(const nudge_ledger *l)
{
	return l->given_back;
}

long
nudge_ledger_journalled(const nudge_ledger *l)
{
	return l->journalled;
}

/* Records the outcome o that a dead claimer journalled for its claimed
 * row id, as its sender would have: the row's status, provider id or
 * error and attempts (upd), and the sent, failed or bounced event (w,
 * opened at the first; the row's campaign named by camp). */
static int
apply_outcome(nudge_ledger *l, sqlite3_stmt *upd, sqlite3_stmt *camp,
    nudge_event_writer **w, sqlite3_stmt *row, const nudge_journal_outcome *o,
    int64_t now, nudge_err *err)
{
	static const char *const names[] = { "sent", "failed", "bounced",
	    "unknown" };
	const char *step = (const char *)sqlite3_column_text(row, 2);
	nudge_event ev = { 0 };
	int rc;

	sqlite3_bind_int64(upd, 1, o->id);
	sqlite3_bind_text(upd, 2, names[o->out], -1, SQLITE_STATIC);
	sqlite3_bind_text(upd, 3, o->detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(upd, 4, o->attempts);
	sqlite3_bind_int64(upd, 5, sqlite3_column_int64(row, 5));
	rc = sqlite3_step(upd);
	sqlite3_reset(upd);
	sqlite3_clear_bindings(upd);
	if (rc != SQLITE_DONE)
		return nudge_store_error(l->st, err, "recover");
	if (o->out == NUDGE_OUT_UNKNOWN)
		return 0;	/* no event, as the sender */
	if (*w == NULL && (rc = nudge_event_writer_open(w, l->st, now,
	    err)) != 0)
		return rc;
	sqlite3_bind_int64(camp, 1, sqlite3_column_int64(row, 1));
	if (sqlite3_step(camp) != SQLITE_ROW) {
		sqlite3_reset(camp);
		return nudge_store_error(l->st, err, "recover");
	}
	ev.contact_id = sqlite3_column_int64(row, 3);
	ev.type = names[o->out];
	ev.channel = (const char *)sqlite3_column_text(row, 4);
	ev.campaign = (const char *)sqlite3_column_text(camp, 0);
	ev.step = step != NULL && *step != '\0' ? step : NULL;
	ev.message_id = o->id;
	ev.at = sqlite3_column_int64(row, 5);
	ev.props_json = o->props;
	ev.source = "send";
	rc = nudge_event_record(*w, &ev, NULL, err);
	sqlite3_reset(camp);
	return rc;
}

static void
free_lost(struct lost *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].step);
		free(v[i].channel);
		free(v[i].by);
	}
	free(v);
}

int
nudge_ledger_recover(nudge_ledger *l, int64_t now, int64_t timeout,
    nudge_ledger_lost_fn *fn, void *arg, long *np, nudge_err *err)
{
	sqlite3_stmt *sel = NULL, *upd = NULL, *del = NULL, *rec = NULL,
	    *camp = NULL;
	nudge_event_writer *w = NULL;
	const nudge_journal_outcome *o;
	struct lost *v = NULL, *nv;
	struct jrnl *js = NULL, *j;
	size_t n = 0, cap = 0, i, nj = 0;
	long back = 0, journalled = 0;
	char why[512];
	int rc, src;

	if (np != NULL)
		*np = 0;
	l->given_back = 0;
	l->journalled = 0;
	if ((rc = nudge_store_begin(l->st, err)) != 0)
		return rc;
	if ((rc = nudge_store_prepare(l->st, &sel,
	    "SELECT id, campaign_id, step, contact_id, channel, claimed_at,"
	    " claimed_by, attempts FROM messages WHERE status = 'claimed'"
	    " ORDER BY id", err)) != 0 ||
	    (rc = nudge_store_prepare(l->st, &del, "DELETE FROM messages"
	    " WHERE id = ?1 AND status = 'claimed'", err)) != 0 ||
	    (rc = nudge_store_prepare(l->st, &upd,
	    "UPDATE messages SET status = 'unknown', error = ?2,"
	    " updated_at = ?3 WHERE id = ?1 AND status = 'claimed'", err)) != 0 ||
	    /* as nudge_ledger_outcome, the retries counted as
	     * nudge_ledger_retry does */
	    (rc = nudge_store_prepare(l->st, &rec,
	    "UPDATE messages SET status = ?2,"
	    " provider_id = CASE WHEN ?2 = 'sent' THEN ?3 ELSE provider_id END,"
	    " error = CASE WHEN ?2 = 'sent' THEN NULL ELSE ?3 END,"
	    " attempts = attempts + ?4 - 1, updated_at = ?5"
	    " WHERE id = ?1 AND status = 'claimed'", err)) != 0 ||
	    (rc = nudge_store_prepare(l->st, &camp,
	    "SELECT name FROM campaigns WHERE id = ?1", err)) != 0)
		goto fail;
	/* Rows are given back or marked as the SELECT steps.  That is safe
	 * only because ORDER BY id is not the order of messages_status
	 * (status, updated_at): SQLite sorts every claimed row into a
	 * temporary b-tree at the first step, so the loop never walks the
	 * index its updates change.  An index that yields id order would
	 * break this: collect the ids first then. */
	while ((src = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *by = (const char *)sqlite3_column_text(sel, 6);
		int64_t at = sqlite3_column_int64(sel, 5);
		int alive;

		if (by != NULL && strcmp(by, l->me) == 0)
			continue;
		alive = nudge_ledger_claimer_alive(by);
		if (alive != 0 && !(timeout > 0 && at < now - timeout))
			continue;
		/* A surely dead claimer's journal lists every message whose
		 * first attempt it started, written before the first byte
		 * could leave, and the outcome of each as soon as it came.
		 * A journalled outcome is recorded as the sender would have;
		 * a row not in a journal of this boot never left, and its
		 * claim is given back (deleted, as nudge_ledger_release
		 * does) for the next run to send, as is one whose outcome
		 * says it surely did not leave.  Not one that was `unknown`
		 * before (attempts > 1: taken over by --resend-unknown): an
		 * earlier run may have sent it. */
		if (alive == 0 && by != NULL) {
			int64_t id = sqlite3_column_int64(sel, 0);
			int first = sqlite3_column_int64(sel, 7) == 1;

			if ((j = journal_of(l, &js, &nj, by)) == NULL) {
				rc = nudge_errf(err, EX_OSERR, "out of memory");
				goto fail;
			}
			o = j->trusted ? nudge_journal_outcome_of(&j->d, id) :
			    NULL;
			if (o != NULL && !o->back) {
				if ((rc = apply_outcome(l, rec, camp, &w, sel,
				    o, now, err)) != 0)
					goto fail;
				journalled++;
				continue;
			}
			if (j->trusted && first && (o != NULL ||
			    !nudge_journal_has(&j->d, id))) {
				sqlite3_bind_int64(del, 1, id);
				if (sqlite3_step(del) != SQLITE_DONE) {
					rc = nudge_store_error(l->st, err,
					    "recover");
					goto fail;
				}
				sqlite3_reset(del);
				back++;
				continue;
			}
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
				rc = nudge_errf(err, EX_OSERR, "out of memory");
				goto fail;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof v[n]);
		v[n].m.id = sqlite3_column_int64(sel, 0);
		v[n].m.campaign_id = sqlite3_column_int64(sel, 1);
		v[n].m.contact_id = sqlite3_column_int64(sel, 3);
		v[n].m.claimed_at = at;
		v[n].step = nudge_strdup(
		    (const char *)sqlite3_column_text(sel, 2));
		v[n].channel = nudge_strdup(
		    (const char *)sqlite3_column_text(sel, 4));
		v[n].by = nudge_strdup(by);
		n++;
		if (v[n - 1].step == NULL || v[n - 1].channel == NULL ||
		    (by != NULL && v[n - 1].by == NULL)) {
			rc = nudge_errf(err, EX_OSERR, "out of memory");
			goto fail;
		}
		if (alive != 0)
			snprintf(why, sizeof why, "claimed by %s more than "
			    "%" PRId64 " s before recovery; sent or not is "
			    "unknown", by != NULL ? by : "?", timeout);
		else
			snprintf(why, sizeof why, "claimed by %s, which ended "
			    "before recording the outcome; sent or not is "
			    "unknown", by);
		sqlite3_bind_int64(upd, 1, v[n - 1].m.id);
		sqlite3_bind_text(upd, 2, why, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(upd, 3, now);
		if (sqlite3_step(upd) != SQLITE_DONE) {
			rc = nudge_store_error(l->st, err, "recover");
			goto fail;
		}
		sqlite3_reset(upd);
	}
	if (src != SQLITE_DONE) {
		rc = nudge_store_error(l->st, err, "recover");
		goto fail;
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_finalize(del);
	sqlite3_finalize(rec);
	sqlite3_finalize(camp);
	nudge_event_writer_close(w);
	sel = upd = del = rec = camp = NULL;
	w = NULL;
	if ((rc = nudge_store_commit(l->st, err)) != 0)
		goto out;
	/* their rows dealt with, the dead claimers' journals go */
	for (i = 0; i < nj; i++)
		nudge_journal_remove(l->st->path, js[i].by);
	nudge_journal_sweep(l->st->path);
	l->given_back = back;
	l->journalled = journalled;
	for (i = 0; i < n; i++) {
		v[i].m.step = v[i].step;
		v[i].m.channel = v[i].channel;
		v[i].m.claimed_by = v[i].by;
		if (fn != NULL)
			fn(arg, &v[i].m);
	}
	if (np != NULL)
		*np = (long)n;
	goto out;
fail:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_finalize(del);
	sqlite3_finalize(rec);
	sqlite3_finalize(camp);
	nudge_event_writer_close(w);
	nudge_store_rollback(l->st);
out:
	free_lost(v, n);
	for (i = 0; i < nj; i++) {
		free(js[i].by);
		nudge_journal_data_free(&js[i].d);
	}
	free(js);
	return rc;
}
