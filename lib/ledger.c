/* ledger: claims, outcomes and crash recovery over the messages table. */
#include "ledger.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>


#include "event.h"
#include "journal.h"
#include "sha.h"

/* The ledger's statements, sqls[] below. */
enum { INS, FIND, TAKE, OUT, RETRY, STATUS, NSQL };

struct nudge_ledger {
	nudge_store *st;
	sqlite3_stmt *s[NSQL];	/* sqls[] */
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

static const char *const sqls[NSQL] = {
	[INS] = "INSERT INTO messages (campaign_id, step, contact_id, channel,"
	" status, attempts, claimed_at, updated_at, claimed_by, variant,"
	" entry_event)"
	" VALUES (?1, ?2, ?3, ?4, ?7, ?8, ?5, ?5, ?6, ?9, ?10)"
	" ON CONFLICT (campaign_id, step, contact_id, entry_event)"
	" DO NOTHING",
	[FIND] = "SELECT id, status FROM messages"
	" WHERE campaign_id = ?1 AND step = ?2 AND contact_id = ?3"
	" AND entry_event = ?4",
	[TAKE] = "UPDATE messages SET status = 'claimed',"
	" attempts = attempts + 1, channel = ?2, claimed_at = ?3,"
	" updated_at = ?3, claimed_by = ?4, error = NULL"
	" WHERE id = ?1 AND status = 'unknown'",
	/* From claimed only by its claimer; from unknown by anyone, since a
	 * late outcome is the truth a recovery could not know; sent ->
	 * bounced for a bounce that comes back later. */
	[OUT] = "UPDATE messages SET status = ?2,"
	" provider_id = CASE WHEN ?2 = 'sent' THEN ?3 ELSE provider_id END,"
	" error = CASE WHEN ?2 = 'sent' THEN NULL ELSE ?3 END,"
	" updated_at = ?4 WHERE id = ?1 AND ("
	" (status = 'claimed' AND claimed_by = ?5) OR status = 'unknown'"
	" OR (status = 'sent' AND ?2 = 'bounced'))",
	[RETRY] = "UPDATE messages SET attempts = attempts + 1, error = ?2,"
	" updated_at = ?3 WHERE id = ?1 AND status = 'claimed'"
	" AND claimed_by = ?4",
	[STATUS] = "SELECT status, claimed_by FROM messages WHERE id = ?1",
};

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
	    (rc = nudge_store_prepare_n(st, l->s, sqls, NSQL, err))) {
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
	nudge_store_finalize_n(l->s, NSQL);
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
	sqlite3_bind_int64(l->s[INS], 1, campaign_id);
	sqlite3_bind_text(l->s[INS], 2, step, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->s[INS], 3, contact_id);
	sqlite3_bind_text(l->s[INS], 4, channel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->s[INS], 5, now);
	sqlite3_bind_text(l->s[INS], 6, l->me, -1, SQLITE_STATIC);
	sqlite3_bind_text(l->s[INS], 7, held_out ? "held-out" : "claimed", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(l->s[INS], 8, held_out ? 0 : 1);
	if (variant != NULL)
		sqlite3_bind_text(l->s[INS], 9, variant, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->s[INS], 10, entry);
	if ((n = step_write(l, l->s[INS], "claim", &rc, err)) < 0)
		goto fail;
	if (n == 1) {
		*id = sqlite3_last_insert_rowid(l->st->db);
		*result = NUDGE_CLAIM_WON;
	} else {
		sqlite3_bind_int64(l->s[FIND], 1, campaign_id);
		sqlite3_bind_text(l->s[FIND], 2, step, -1, SQLITE_STATIC);
		sqlite3_bind_int64(l->s[FIND], 3, contact_id);
		sqlite3_bind_int64(l->s[FIND], 4, entry);
		if (sqlite3_step(l->s[FIND]) != SQLITE_ROW) {
			rc = nudge_store_error(l->st, err, "claim");
			sqlite3_reset(l->s[FIND]);
			goto fail;
		}
		*id = sqlite3_column_int64(l->s[FIND], 0);
		status = (const char *)sqlite3_column_text(l->s[FIND], 1);
		if (status != NULL && strcmp(status, "unknown") == 0)
			*result = NUDGE_CLAIM_UNKNOWN;
		sqlite3_reset(l->s[FIND]);
		sqlite3_clear_bindings(l->s[FIND]);
		if (*result == NUDGE_CLAIM_UNKNOWN && resend_unknown) {
			sqlite3_bind_int64(l->s[TAKE], 1, *id);
			sqlite3_bind_text(l->s[TAKE], 2, channel, -1,
			    SQLITE_STATIC);
			sqlite3_bind_int64(l->s[TAKE], 3, now);
			sqlite3_bind_text(l->s[TAKE], 4, l->me, -1,
			    SQLITE_STATIC);
			if ((n = step_write(l, l->s[TAKE], "claim", &rc,
			    err)) < 0)
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

	sqlite3_bind_int64(l->s[STATUS], 1, id);
	if ((rc = sqlite3_step(l->s[STATUS])) == SQLITE_ROW) {
		status = (const char *)sqlite3_column_text(l->s[STATUS], 0);
		by = (const char *)sqlite3_column_text(l->s[STATUS], 1);
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
	sqlite3_reset(l->s[STATUS]);
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

	sqlite3_bind_int64(l->s[OUT], 1, id);
	sqlite3_bind_text(l->s[OUT], 2, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(l->s[OUT], 3, detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->s[OUT], 4, now);
	sqlite3_bind_text(l->s[OUT], 5, l->me, -1, SQLITE_STATIC);
	return transition(l, l->s[OUT], id, to, err);
}

int
nudge_ledger_retry(nudge_ledger *l, int64_t id, const char *error,
    int64_t now, nudge_err *err)
{
	sqlite3_bind_int64(l->s[RETRY], 1, id);
	sqlite3_bind_text(l->s[RETRY], 2, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->s[RETRY], 3, now);
	sqlite3_bind_text(l->s[RETRY], 4, l->me, -1, SQLITE_STATIC);
	return transition(l, l->s[RETRY], id, "retried", err);
}

int
nudge_ledger_release(nudge_ledger *l, int64_t id, nudge_err *err)
{
	/* rare (a run the breaker stopped): not worth a kept statement */
	return nudge_store_run(l->st, "ledger release", err, NULL, "DELETE"
	    " FROM messages WHERE id = ?1 AND status = 'claimed'"
	    " AND claimed_by = ?2",
	    "it", id, l->me);
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

/* One recovery under way: its statements (sel: the claimed rows; del:
 * a claim given back; upd: a row marked unknown; rec: a journalled
 * outcome recorded; camp: a campaign's name), the event writer that
 * apply_outcome opens, the rows marked unknown (v, for the caller), and
 * the dead claimers' journals read (js). */
struct recovery {
	nudge_ledger *l;
	int64_t now, timeout;
	sqlite3_stmt *sel, *upd, *del, *rec, *camp;
	nudge_event_writer *w;
	struct lost *v;
	size_t n, cap;
	struct jrnl *js;
	size_t nj;
	long back, journalled;
};

static int
recover_prepare(struct recovery *r, nudge_err *err)
{
	nudge_store *st = r->l->st;
	int rc;

	if ((rc = nudge_store_prepare(st, &r->sel,
	    "SELECT id, campaign_id, step, contact_id, channel, claimed_at,"
	    " claimed_by, attempts FROM messages WHERE status = 'claimed'"
	    " ORDER BY id", err)) != 0 ||
	    (rc = nudge_store_prepare(st, &r->del, "DELETE FROM messages"
	    " WHERE id = ?1 AND status = 'claimed'", err)) != 0 ||
	    (rc = nudge_store_prepare(st, &r->upd,
	    "UPDATE messages SET status = 'unknown', error = ?2,"
	    " updated_at = ?3 WHERE id = ?1 AND status = 'claimed'", err)) != 0 ||
	    /* as nudge_ledger_outcome, the retries counted as
	     * nudge_ledger_retry does */
	    (rc = nudge_store_prepare(st, &r->rec,
	    "UPDATE messages SET status = ?2,"
	    " provider_id = CASE WHEN ?2 = 'sent' THEN ?3 ELSE provider_id END,"
	    " error = CASE WHEN ?2 = 'sent' THEN NULL ELSE ?3 END,"
	    " attempts = attempts + ?4 - 1, updated_at = ?5"
	    " WHERE id = ?1 AND status = 'claimed'", err)) != 0 ||
	    (rc = nudge_store_prepare(st, &r->camp,
	    "SELECT name FROM campaigns WHERE id = ?1", err)) != 0)
		return rc;
	return 0;
}

/* Finalizes r's statements and closes its event writer. */
static void
recover_close(struct recovery *r)
{
	sqlite3_stmt **st[] = { &r->sel, &r->upd, &r->del, &r->rec,
	    &r->camp };
	size_t i;

	for (i = 0; i < sizeof st / sizeof st[0]; i++) {
		sqlite3_finalize(*st[i]);
		*st[i] = NULL;
	}
	nudge_event_writer_close(r->w);
	r->w = NULL;
}

static void
recover_free(struct recovery *r)
{
	size_t i;

	free_lost(r->v, r->n);
	for (i = 0; i < r->nj; i++) {
		free(r->js[i].by);
		nudge_journal_data_free(&r->js[i].d);
	}
	free(r->js);
}

/*
 * The current row of sel, claimed by by, a surely dead claimer.  Its
 * journal lists every message whose first attempt it started, written
 * before the first byte could leave, and the outcome of each as soon as
 * it came.  A journalled outcome is recorded as the sender would have;
 * a row not in a journal of this boot never left, and its claim is
 * given back (deleted, as nudge_ledger_release does) for the next run to
 * send, as is one whose outcome says it surely did not leave.  Not one
 * that was `unknown` before (attempts > 1: taken over by
 * --resend-unknown): an earlier run may have sent it.  Sets *done when
 * the row was dealt with so.  0, or an error.
 */
static int
recover_journalled(struct recovery *r, const char *by, int *done,
    nudge_err *err)
{
	int64_t id = sqlite3_column_int64(r->sel, 0);
	int first = sqlite3_column_int64(r->sel, 7) == 1;
	const nudge_journal_outcome *o;
	struct jrnl *j;
	int rc;

	*done = 0;
	if ((j = journal_of(r->l, &r->js, &r->nj, by)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	o = j->trusted ? nudge_journal_outcome_of(&j->d, id) : NULL;
	if (o != NULL && !o->back) {
		if ((rc = apply_outcome(r->l, r->rec, r->camp, &r->w, r->sel,
		    o, r->now, err)) != 0)
			return rc;
		r->journalled++;
		*done = 1;
		return 0;
	}
	if (j->trusted && first && (o != NULL ||
	    !nudge_journal_has(&j->d, id))) {
		sqlite3_bind_int64(r->del, 1, id);
		if (sqlite3_step(r->del) != SQLITE_DONE)
			return nudge_store_error(r->l->st, err, "recover");
		sqlite3_reset(r->del);
		r->back++;
		*done = 1;
	}
	return 0;
}

/* The current row of sel, claimed by by at `at` (alive: what
 * nudge_ledger_claimer_alive said of by), marked unknown with why, and
 * kept in r->v for the caller.  0, or an error. */
static int
recover_unknown(struct recovery *r, const char *by, int64_t at, int alive,
    nudge_err *err)
{
	struct lost *nv, *x;
	char why[512];

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		if ((nv = realloc(r->v, r->cap * sizeof *r->v)) == NULL)
			return nudge_errf(err, EX_OSERR, "out of memory");
		r->v = nv;
	}
	x = &r->v[r->n++];
	memset(x, 0, sizeof *x);
	x->m.id = sqlite3_column_int64(r->sel, 0);
	x->m.campaign_id = sqlite3_column_int64(r->sel, 1);
	x->m.contact_id = sqlite3_column_int64(r->sel, 3);
	x->m.claimed_at = at;
	x->step = nudge_strdup((const char *)sqlite3_column_text(r->sel, 2));
	x->channel = nudge_strdup(
	    (const char *)sqlite3_column_text(r->sel, 4));
	x->by = nudge_strdup(by);
	if (x->step == NULL || x->channel == NULL ||
	    (by != NULL && x->by == NULL))
		return nudge_errf(err, EX_OSERR, "out of memory");
	if (alive != 0)
		snprintf(why, sizeof why, "claimed by %s more than "
		    "%" PRId64 " s before recovery; sent or not is "
		    "unknown", by != NULL ? by : "?", r->timeout);
	else
		snprintf(why, sizeof why, "claimed by %s, which ended "
		    "before recording the outcome; sent or not is "
		    "unknown", by);
	sqlite3_bind_int64(r->upd, 1, x->m.id);
	sqlite3_bind_text(r->upd, 2, why, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(r->upd, 3, r->now);
	if (sqlite3_step(r->upd) != SQLITE_DONE)
		return nudge_store_error(r->l->st, err, "recover");
	sqlite3_reset(r->upd);
	return 0;
}

/* Every claimed row of another claimer, dead (its journal read:
 * recover_journalled) or silent for longer than timeout (marked unknown:
 * recover_unknown), in one transaction; then the dead claimers'
 * journals removed and the rows marked unknown handed to fn. */
int
nudge_ledger_recover(nudge_ledger *l, int64_t now, int64_t timeout,
    nudge_ledger_lost_fn *fn, void *arg, long *np, nudge_err *err)
{
	struct recovery r;
	size_t i;
	int rc, src, done;

	memset(&r, 0, sizeof r);
	r.l = l;
	r.now = now;
	r.timeout = timeout;
	if (np != NULL)
		*np = 0;
	l->given_back = 0;
	l->journalled = 0;
	if ((rc = nudge_store_begin(l->st, err)) != 0)
		return rc;
	if ((rc = recover_prepare(&r, err)) != 0)
		goto fail;
	/* Rows are given back or marked as the SELECT steps.  That is safe
	 * only because ORDER BY id is not the order of messages_status
	 * (status, updated_at): SQLite sorts every claimed row into a
	 * temporary b-tree at the first step, so the loop never walks the
	 * index its updates change.  An index that yields id order would
	 * break this: collect the ids first then. */
	while ((src = sqlite3_step(r.sel)) == SQLITE_ROW) {
		const char *by = (const char *)sqlite3_column_text(r.sel, 6);
		int64_t at = sqlite3_column_int64(r.sel, 5);
		int alive;

		if (by != NULL && strcmp(by, l->me) == 0)
			continue;
		alive = nudge_ledger_claimer_alive(by);
		if (alive != 0 && !(timeout > 0 && at < now - timeout))
			continue;
		if (alive == 0 && by != NULL) {
			if ((rc = recover_journalled(&r, by, &done, err)) != 0)
				goto fail;
			if (done)
				continue;
		}
		if ((rc = recover_unknown(&r, by, at, alive, err)) != 0)
			goto fail;
	}
	if (src != SQLITE_DONE) {
		rc = nudge_store_error(l->st, err, "recover");
		goto fail;
	}
	recover_close(&r);
	if ((rc = nudge_store_commit(l->st, err)) != 0)
		goto out;
	/* their rows dealt with, the dead claimers' journals go */
	for (i = 0; i < r.nj; i++)
		nudge_journal_remove(l->st->path, r.js[i].by);
	nudge_journal_sweep(l->st->path, nudge_ledger_claimer_alive);
	l->given_back = r.back;
	l->journalled = r.journalled;
	for (i = 0; i < r.n; i++) {
		r.v[i].m.step = r.v[i].step;
		r.v[i].m.channel = r.v[i].channel;
		r.v[i].m.claimed_by = r.v[i].by;
		if (fn != NULL)
			fn(arg, &r.v[i].m);
	}
	if (np != NULL)
		*np = (long)r.n;
	goto out;
fail:
	recover_close(&r);
	nudge_store_rollback(l->st);
out:
	recover_free(&r);
	return rc;
}

void
nudge_track_msgid_local(const char *key, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[NUDGE_SHA256_LEN];
	int i;

	nudge_sha256(key, strlen(key), md);
	for (i = 0; i < 16; i++) {
		buf[2 * i] = hex[md[i] >> 4];
		buf[2 * i + 1] = hex[md[i] & 15];
	}
	memcpy(buf + 32, ".nudge", 7);
}

int
nudge_track_find_message(nudge_store *st, int64_t contact_id,
    const char *msgid, int64_t *id, char *campaign, size_t camplen,
    char *step, size_t steplen, char *channel, size_t chanlen,
    nudge_err *err)
{
	sqlite3_stmt *s;
	const char *p = msgid, *at;
	char key[96], local[40];
	size_t n;
	int rc;

	*id = 0;
	while (*p == ' ' || *p == '<')
		p++;
	if ((at = strchr(p, '@')) == NULL || (n = (size_t)(at - p)) != 38)
		return 0;
	if (sqlite3_prepare_v2(st->db, "SELECT m.id, m.campaign_id, m.step,"
	    " m.channel, c.name FROM messages m"
	    " JOIN campaigns c ON c.id = m.campaign_id"
	    " WHERE m.contact_id = ?", -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(st, err, "messages");
	sqlite3_bind_int64(s, 1, contact_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *stp = (const char *)sqlite3_column_text(s, 2);

		if (nudge_ledger_key(key, sizeof key,
		    sqlite3_column_int64(s, 1), stp, contact_id) == NULL)
			continue;
		nudge_track_msgid_local(key, local);
		if (strncasecmp(local, p, 38) != 0)
			continue;
		*id = sqlite3_column_int64(s, 0);
		snprintf(campaign, camplen, "%s", sqlite3_column_text(s, 4));
		snprintf(step, steplen, "%s", stp != NULL ? stp : "");
		snprintf(channel, chanlen, "%s", sqlite3_column_text(s, 3));
		break;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(st, err, "messages");
	return 0;
}
