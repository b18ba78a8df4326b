/* trigger: due steps of campaigns, one query per step (two for the
 * first). */
#include "trigger.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "segment.h"

void
nudge_trigger_round(const nudge_campaign *c, int64_t now, char *buf,
    unsigned long len)
{
	char t[40];
	int64_t start;

	if (c->every <= 0) {
		if (len > 0)
			*buf = '\0';
		return;
	}
	/* rounds are counted from 1970-01-01T00:00Z: every 1d starts at
	 * midnight UTC, every 1w on a Thursday */
	start = now - ((now % c->every) + c->every) % c->every;
	snprintf(buf, len, "@%s", nudge_time_format(start, t, sizeof t));
}

/* Compiles expr (with the campaign's context) and appends its condition
 * to sql and its parameters to q. */
static int
add_cond(nudge_store *st, const nudge_campaign *c, const char *sfx,
    const char *expr, const char *since, int64_t now, nudge_seg *q,
    nudge_buf *sql, nudge_err *err)
{
	nudge_seg_ctx ctx = { .campaign = c->name, .step_suffix = *sfx !=
	    '\0' ? sfx : NULL, .event_since = since };
	nudge_seg seg;
	nudge_err e;
	int rc;

	if ((rc = nudge_seg_compile_ctx(st, NULL, expr, now, &ctx, &seg,
	    &e)) != 0) {
		nudge_seg_free(&seg);
		return nudge_errf(err, rc, "%s: %s", c->path, e.msg);
	}
	rc = nudge_buf_puts(sql, " AND (") == -1 ? nudge_errf(err, EX_OSERR,
	    "out of memory") : nudge_seg_append(q, &seg, sql, NULL, err);
	if (rc == 0 && nudge_buf_putc(sql, ')') == -1)
		rc = nudge_errf(err, EX_OSERR, "out of memory");
	nudge_seg_free(&seg);
	return rc;
}

/* The query for step k into q (its parameters) and sql; for the first
 * step also the query of candidates, entry, whose ids sql reads as a JSON
 * array from parameter *json_param. */
static int
step_query(nudge_store *st, const nudge_campaign *c, size_t k, int64_t now,
    const char *sfx, nudge_seg *q, nudge_buf *sql, nudge_buf *entry,
    int *json_param, nudge_err *err)
{
	static const char *const addr[][2] = { { "email", "email" },
	    { "sms", "phone" }, { "push", "push_id" } };
	const nudge_step *s = &c->steps[k];
	nudge_buf rest = { 0 }, key = { 0 }, prev = { 0 };
	nudge_seg_ctx ctx = { .campaign = c->name, .step_suffix = *sfx != '\0' ?
	    sfx : NULL };
	nudge_seg aud;
	nudge_err e;
	const char *col = "email";
	size_t i;
	int cn, sn, pn, tn, chn, en, jn, rc = 0;

	memset(q, 0, sizeof *q);
	memset(&aud, 0, sizeof aud);
	for (i = 0; i < 3; i++)
		if (strcmp(s->channel, addr[i][0]) == 0)
			col = addr[i][1];
	if (nudge_buf_printf(&key, "%s%s", s->id, sfx) == -1 ||
	    (k > 0 && nudge_buf_printf(&prev, "%s%s", c->steps[k - 1].id,
	    sfx) == -1))
		goto nomem;
	if ((cn = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, c->name, err)) ==
	    -1 || (sn = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, key.s,
	    err)) == -1 || (chn = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0,
	    s->channel, err)) == -1) {
		rc = EX_OSERR;
		goto out;
	}
	if (k == 0) {
		/*
		 * Two queries.  The first: the audience less the step's
		 * ledger rows, as a top-level EXCEPT, which SQLite runs as
		 * a merge of two id-ordered streams (the audience's own
		 * query and the ledger's unique index) without building a
		 * temporary index of either: when nothing is due it costs
		 * the audience's query and one pass over the ledger range
		 * (a big audience: 0.24 s against 0.78 s for NOT IN).  The
		 * second checks only those ids, passed as a JSON array.
		 */
		if ((rc = nudge_seg_compile_ctx(st, NULL, c->audience, now,
		    &ctx, &aud, &e)) != 0) {
			rc = nudge_errf(err, rc, "%s: audience: %s", c->path,
			    e.msg);
			goto out;
		}
		if (nudge_buf_puts(entry, "WITH t(id) AS (") == -1)
			goto nomem;
		if ((rc = nudge_seg_append_unordered(q, &aud, entry, err)) != 0)
			goto out;
		/*
		 * Then, on the merge's output (a co-routine, so in id order
		 * and never sorted again), the consent and the address: a
		 * probe each, and so contacts that stay in the audience but
		 * cannot be reached on the channel (opted out, or without
		 * an address) are passed over here at a probe's cost each
		 * run, not carried to the second query as JSON.  An ORDER
		 * BY here would make SQLite run the EXCEPT with a temporary
		 * B-tree of the whole audience instead of the merge.
		 */
		if (nudge_buf_printf(entry, " EXCEPT SELECT x.contact_id "
		    "FROM messages x WHERE x.campaign_id = (SELECT k.id FROM "
		    "campaigns k WHERE k.name = ?%d) AND x.step = ?%d "
		    "ORDER BY 1) SELECT t.id FROM t WHERE coalesce((SELECT "
		    "n.status FROM "
		    "consent n WHERE n.contact_id = t.id AND n.channel = ?%d "
		    "ORDER BY n.at DESC, n.id DESC LIMIT 1), 'subscribed') = "
		    "'subscribed' AND EXISTS (SELECT 1 FROM contacts a WHERE "
		    "a.id = t.id AND coalesce(a.%s, '') != '')", cn, sn, chn,
		    col) == -1)
			goto nomem;
		/* with no if: or unless:, the candidates are the due */
		*json_param = 0;
		if (s->cond == NULL && s->unless == NULL)
			goto out;
		if ((jn = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, "[]",
		    err)) == -1) {
			rc = EX_OSERR;
			goto out;
		}
		*json_param = jn;
		if (nudge_buf_printf(sql, "SELECT c.id FROM contacts c WHERE "
		    "c.id IN (SELECT j.value FROM json_each(?%d) j)", jn) == -1)
			goto nomem;
	} else {
		/* the previous step's sent rows drive, from the ledger's
		 * unique (campaign_id, step, contact_id) index */
		nudge_buf_reset(&rest);
		if (nudge_buf_printf(&rest, "%s%s", c->steps[0].id, sfx) == -1)
			goto nomem;
		if ((pn = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, prev.s,
		    err)) == -1 || (tn = nudge_seg_param_add(q, NUDGE_SEG_TIME,
		    now - s->after, NULL, err)) == -1 ||
		    (en = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, rest.s,
		    err)) == -1) {
			rc = EX_OSERR;
			goto out;
		}
		nudge_buf_reset(&rest);
		/* j0, the entry step's row, dates the journey for the goal */
		if (nudge_buf_printf(sql, "SELECT c.id FROM messages m "
		    "JOIN contacts c ON c.id = m.contact_id "
		    "JOIN messages j0 ON j0.campaign_id = m.campaign_id "
		    "AND j0.step = ?%d AND j0.contact_id = m.contact_id "
		    "WHERE m.campaign_id = (SELECT k.id FROM campaigns k "
		    "WHERE k.name = ?%d) AND m.step = ?%d "
		    "AND m.status = 'sent' AND m.updated_at <= ?%d",
		    en, cn, pn, tn) == -1)
			goto nomem;
	}
	/* not yet in the ledger (the first step: done by the EXCEPT) */
	if (k > 0 && nudge_buf_printf(sql, " AND c.id NOT IN (SELECT "
	    "x.contact_id FROM messages x WHERE x.campaign_id = (SELECT k.id "
	    "FROM campaigns k WHERE k.name = ?%d) AND x.step = ?%d)", cn,
	    sn) == -1)
		goto nomem;
	/* an address and no opt-out on the channel, the latest consent row
	 * read per contact from its index */
	if (nudge_buf_printf(sql, " AND coalesce(c.%s, '') != ''"
	    " AND coalesce((SELECT n.status FROM consent n"
	    " WHERE n.contact_id = c.id AND n.channel = ?%d"
	    " ORDER BY n.at DESC, n.id DESC LIMIT 1), 'subscribed')"
	    " = 'subscribed'", col, chn) == -1)
		goto nomem;
	/* the goal, once reached since the contact entered, ends the
	 * journey: its events count from the entry step's claim on */
	if (k > 0 && c->goal != NULL) {
		if (nudge_buf_printf(&rest, "not (%s)", c->goal) == -1)
			goto nomem;
		if ((rc = add_cond(st, c, sfx, rest.s, "j0.claimed_at", now, q,
		    sql, err)) != 0)
			goto out;
		nudge_buf_reset(&rest);
	}
	if (s->cond != NULL && nudge_buf_printf(&rest, "%s(%s)",
	    rest.len > 0 ? " and " : "", s->cond) == -1)
		goto nomem;
	if (s->unless != NULL && nudge_buf_printf(&rest, "%snot (%s)",
	    rest.len > 0 ? " and " : "", s->unless) == -1)
		goto nomem;
	if (s->fallback && nudge_buf_printf(&rest, "%snot opened step "
	    "\"%s\" and not clicked step \"%s\"", rest.len > 0 ? " and " : "",
	    c->steps[k - 1].id, c->steps[k - 1].id) == -1)
		goto nomem;
	if (rest.len > 0 && (rc = add_cond(st, c, sfx, rest.s, NULL, now, q,
	    sql, err)) != 0)
		goto out;
	if (nudge_buf_puts(sql, " ORDER BY c.id") == -1)
		goto nomem;
	goto out;
nomem:
	rc = nudge_errf(err, EX_OSERR, "out of memory");
out:
	nudge_seg_free(&aud);
	nudge_buf_free(&rest);
	nudge_buf_free(&key);
	nudge_buf_free(&prev);
	return rc;
}

/* Binds q's parameters that s has (s may use only some of them). */
static int
bind_some(const nudge_seg *q, sqlite3_stmt *s, nudge_err *err)
{
	nudge_seg part = *q;
	size_t n = (size_t)sqlite3_bind_parameter_count(s);

	if (part.nparams > n)
		part.nparams = n;
	return nudge_seg_bind(&part, s, err);
}

/* Runs the first step's candidate query; *ids gets them as a JSON array
 * and *n their count. */
static int
candidates(nudge_store *st, const nudge_campaign *c, const nudge_seg *q,
    const char *sql, nudge_buf *ids, long *n, nudge_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	*n = 0;
	nudge_buf_reset(ids);
	if (nudge_buf_putc(ids, '[') == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	if ((rc = nudge_store_prepare(st, &s, sql, err)) != 0 ||
	    (rc = bind_some(q, s, err)) != 0) {
		sqlite3_finalize(s);
		return rc;
	}
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (nudge_buf_printf(ids, "%s%lld", (*n)++ > 0 ? "," : "",
		    (long long)sqlite3_column_int64(s, 0)) == -1) {
			sqlite3_finalize(s);
			return nudge_errf(err, EX_OSERR, "out of memory");
		}
	if (r != SQLITE_DONE)
		rc = nudge_store_error(st, err, c->path);
	sqlite3_finalize(s);
	if (rc == 0 && nudge_buf_putc(ids, ']') == -1)
		rc = nudge_errf(err, EX_OSERR, "out of memory");
	return rc;
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Runs the first step's candidate query when its rows are the due ones,
 * and calls fn for each in id order. */
static int
entry_due(nudge_store *st, const nudge_campaign *c, const nudge_seg *q,
    const char *sql, nudge_due *d, nudge_due_fn *fn, void *arg,
    nudge_err *err)
{
	sqlite3_stmt *s = NULL;
	int64_t *v = NULL, *nv;
	size_t n = 0, cap = 0, i;
	int rc, r, sorted = 1;

	if ((rc = nudge_store_prepare(st, &s, sql, err)) != 0 ||
	    (rc = bind_some(q, s, err)) != 0) {
		sqlite3_finalize(s);
		return rc;
	}
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap > 0 ? 2 * cap : 1024;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
				rc = nudge_errf(err, EX_OSERR, "out of memory");
				goto out;
			}
			v = nv;
		}
		v[n] = sqlite3_column_int64(s, 0);
		if (n > 0 && v[n] < v[n - 1])
			sorted = 0;
		n++;
	}
	if (r != SQLITE_DONE) {
		rc = nudge_store_error(st, err, c->path);
		goto out;
	}
	/* the merge gives them in id order; SQL does not promise it */
	if (!sorted)
		qsort(v, n, sizeof *v, cmp_id);
	for (i = 0; i < n; i++) {
		d->contact_id = v[i];
		fn(arg, d);
	}
out:
	sqlite3_finalize(s);
	free(v);
	return rc;
}

/* Runs (or explains) step k of the round with suffix sfx. */
static int
run_step(nudge_store *st, const nudge_campaign *c, size_t k, int64_t now,
    const char *sfx, nudge_due_fn *fn, void *arg, nudge_buf *explain,
    nudge_err *err)
{
	char key[128];
	nudge_seg q;
	nudge_buf sql = { 0 }, entry = { 0 }, ids = { 0 };
	sqlite3_stmt *s = NULL;
	nudge_due d;
	long n;
	int rc, r, jn = 0;

	if ((rc = step_query(st, c, k, now, sfx, &q, &sql, &entry, &jn,
	    err)) != 0)
		goto out;
	if (explain != NULL) {
		if (nudge_buf_printf(explain, "-- %s: campaign %s, step %s%s\n",
		    c->path, c->name, c->steps[k].id, sfx) == -1 ||
		    (entry.len > 0 && jn == 0 && nudge_buf_printf(explain,
		    "-- the due: the audience less the ledger, reachable "
		    "on the channel\n") == -1) ||
		    (entry.len > 0 && jn > 0 && nudge_buf_printf(explain, "-- the "
		    "candidates, then those of them due (?%d: the candidates "
		    "as a JSON array)\n%s;\n", jn, entry.s) == -1))
			rc = nudge_errf(err, EX_OSERR, "out of memory");
		q.sql = entry.len > 0 && jn == 0 ? entry.s : sql.s;
		if (rc == 0 && nudge_seg_explain(&q, explain) == -1)
			rc = nudge_errf(err, EX_OSERR, "out of memory");
		q.sql = NULL;
		goto out;
	}
	snprintf(key, sizeof key, "%s%s", c->steps[k].id, sfx);
	d.c = c;
	d.s = &c->steps[k];
	d.step = key;
	if (entry.len > 0 && jn == 0) {
		rc = entry_due(st, c, &q, entry.s, &d, fn, arg, err);
		goto out;
	}
	if (entry.len > 0) {
		if ((rc = candidates(st, c, &q, entry.s, &ids, &n, err)) != 0 ||
		    n == 0)
			goto out;
		/* the JSON array replaces the "[]" placeholder */
		free(q.params[jn - 1].s);
		q.params[jn - 1].s = ids.s;
		ids.s = NULL;
		ids.len = ids.cap = 0;
	}
	if ((rc = nudge_store_prepare(st, &s, sql.s, err)) == 0 &&
	    (rc = bind_some(&q, s, err)) == 0) {
		while ((r = sqlite3_step(s)) == SQLITE_ROW) {
			d.contact_id = sqlite3_column_int64(s, 0);
			fn(arg, &d);
		}
		if (r != SQLITE_DONE)
			rc = nudge_store_error(st, err, c->path);
	}
	sqlite3_finalize(s);
out:
	nudge_seg_free(&q);
	nudge_buf_free(&sql);
	nudge_buf_free(&entry);
	nudge_buf_free(&ids);
	return rc;
}

int
nudge_trigger_run(nudge_store *st, const nudge_campaign *c, int64_t now,
    nudge_due_fn *fn, void *arg, nudge_buf *explain, nudge_err *err)
{
	char sfx[48], prev[48];
	size_t k;
	int rc = 0;

	nudge_trigger_round(c, now, sfx, sizeof sfx);
	/* a journey that entered late in the last round goes on in this
	 * one: later steps look at both (the steps of a round fit in its
	 * length, nudge_campaign_load checks) */
	nudge_trigger_round(c, now - c->every, prev, sizeof prev);
	/* last step first: a contact made due for step k by this run's
	 * sends is found by the next run, never twice in one */
	for (k = c->nsteps; k-- > 0 && rc == 0;) {
		if (k > 0 && c->every > 0 && (rc = run_step(st, c, k, now, prev,
		    fn, arg, explain, err)) != 0)
			break;
		rc = run_step(st, c, k, now, sfx, fn, arg, explain, err);
	}
	return rc;
}

/* One campaign of a pool: its due steps as (contact, index into keys). */
struct rec {
	int64_t id;
	size_t key;
};

struct job {
	const nudge_campaign *c;
	struct rec *v;
	size_t n, cap;
	char **keys; /* the ledger steps seen, e.g. "push1" */
	size_t nkeys;
	int done, oom, rc;
	nudge_err err;
};

struct nudge_trigger_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *path;
	int64_t now;
	struct job *jobs;
	size_t n, next; /* next: the first campaign no thread took */
	int stop;
	pthread_t *th;
	int nth;
};

/* nudge_due_fn of a pool's thread: keeps d in its job. */
static void
collect(void *arg, const nudge_due *d)
{
	struct job *j = arg;
	size_t k;

	if (j->oom)
		return;
	/* a campaign has a few keys (its steps, two rounds of each): the
	 * last one matches nearly always */
	for (k = j->nkeys; k-- > 0;)
		if (strcmp(j->keys[k], d->step) == 0)
			break;
	if (k == (size_t)-1) {
		char **nk = realloc(j->keys, (j->nkeys + 1) * sizeof *nk);

		if (nk == NULL) {
			j->oom = 1;
			return;
		}
		j->keys = nk;
		if ((nk[j->nkeys] = strdup(d->step)) == NULL) {
			j->oom = 1;
			return;
		}
		k = j->nkeys++;
	}
	if (j->n == j->cap) {
		size_t cap = j->cap > 0 ? 2 * j->cap : 1024;
		struct rec *v = realloc(j->v, cap * sizeof *v);

		if (v == NULL) {
			j->oom = 1;
			return;
		}
		j->v = v;
		j->cap = cap;
	}
	j->v[j->n].id = d->contact_id;
	j->v[j->n++].key = k;
}

/* A pool's thread: takes the next campaign until none is left, on its own
 * connection (SQLite connections are not shared between threads here). */
static void *
worker(void *arg)
{
	nudge_trigger_pool *p = arg;
	nudge_store *st = NULL;
	struct job *j;
	int rc;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		if (p->stop || p->next == p->n) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		j = &p->jobs[p->next++];
		pthread_mutex_unlock(&p->mu);
		rc = st != NULL ? 0 : nudge_store_open(&st, p->path,
		    NUDGE_STORE_READONLY, &j->err);
		if (rc == 0)
			rc = nudge_trigger_run(st, j->c, p->now, collect, j, NULL,
			    &j->err);
		pthread_mutex_lock(&p->mu);
		j->rc = rc;
		j->done = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	nudge_store_close(st);
	return NULL;
}

int
nudge_trigger_start(const char *path, nudge_campaign *const *cs, size_t n,
    int64_t now, int nthreads, nudge_trigger_pool **out, nudge_err *err)
{
	nudge_trigger_pool *p;
	size_t i;

	*out = NULL;
	if ((p = calloc(1, sizeof *p)) == NULL ||
	    (p->jobs = calloc(n > 0 ? n : 1, sizeof *p->jobs)) == NULL ||
	    (p->th = calloc(nthreads > 0 ? (size_t)nthreads : 1,
	    sizeof *p->th)) == NULL) {
		if (p != NULL)
			free(p->jobs);
		free(p);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->path = path;
	p->now = now;
	p->n = n;
	for (i = 0; i < n; i++)
		p->jobs[i].c = cs[i];
	if (nthreads < 1)
		nthreads = 1;
	if ((size_t)nthreads > n)
		nthreads = n > 0 ? (int)n : 1;
	/* fewer threads than asked, if some cannot start, still do it all */
	while (p->nth < nthreads && pthread_create(&p->th[p->nth], NULL,
	    worker, p) == 0)
		p->nth++;
	if (p->nth == 0) {
		nudge_trigger_end(p);
		return nudge_errf(err, EX_OSERR, "cannot start a thread");
	}
	*out = p;
	return 0;
}

int
nudge_trigger_next(nudge_trigger_pool *p, size_t i, nudge_due_fn *fn,
    void *arg, nudge_err *err)
{
	struct job *j = &p->jobs[i];
	const nudge_step *last = NULL;
	nudge_due d;
	size_t k, key = (size_t)-1;

	pthread_mutex_lock(&p->mu);
	while (!j->done)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	if (j->rc != 0) {
		*err = j->err;
		return j->rc;
	}
	if (j->oom)
		return nudge_errf(err, EX_OSERR, "out of memory");
	d.c = j->c;
	for (k = 0; k < j->n; k++) {
		if (j->v[k].key != key) {
			key = j->v[k].key;
			last = nudge_campaign_step(j->c, j->keys[key], NULL);
		}
		d.contact_id = j->v[k].id;
		d.s = last;
		d.step = j->keys[key];
		fn(arg, &d);
	}
	free(j->v);
	j->v = NULL;
	j->n = j->cap = 0;
	return 0;
}

void
nudge_trigger_end(nudge_trigger_pool *p)
{
	size_t i, k;
	int t;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_mutex_unlock(&p->mu);
	for (t = 0; t < p->nth; t++)
		pthread_join(p->th[t], NULL);
	for (i = 0; i < p->n; i++) {
		free(p->jobs[i].v);
		for (k = 0; k < p->jobs[i].nkeys; k++)
			free(p->jobs[i].keys[k]);
		free(p->jobs[i].keys);
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->jobs);
	free(p->th);
	free(p);
}
