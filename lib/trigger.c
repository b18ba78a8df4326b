/* trigger: due steps of campaigns — a few queries per step, steps a
 * contact cannot get passed over — and a pool of threads that runs
 * campaigns side by side. */
#include "trigger.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abtest.h"
#include "besthour.h"
#include "channel.h"
#include "clock.h"
#include "policy.h"
#include "segment.h"

/* The start of the calendar round of c at now: the latest time at or
 * before now that is c's minute of the day on c's day (every day, the
 * weekday, the day of the month) in c's time zone. */
static int64_t
cal_start(const nudge_campaign *c, int64_t now)
{
	const char *tz = c->tz != NULL ? c->tz : c->policy.quiet_tz;
	char *old;
	time_t tt = (time_t)now, st;
	struct tm tm;
	int back;

	old = nudge_tz_enter(tz);
	localtime_r(&tt, &tm);
	for (back = 0;; back++) {
		struct tm x = tm;

		if (c->cal == 'd') {
			x.tm_mday -= back;
		} else if (c->cal == 'w') {
			x.tm_mday -= (tm.tm_wday - c->cal_wday + 7) % 7 +
			    7 * back;
		} else {
			x.tm_mon -= back;
			x.tm_mday = c->cal_mday;
		}
		x.tm_hour = c->cal_minute / 60;
		x.tm_min = c->cal_minute % 60;
		x.tm_sec = 0;
		x.tm_isdst = -1;
		if ((st = mktime(&x)) <= tt || back > 2)
			break;
	}
	nudge_tz_leave(old);
	return (int64_t)st;
}

/* The start of the round of c at now. */
static int64_t
round_start(const nudge_campaign *c, int64_t now)
{
	if (c->cal != 0)
		return cal_start(c, now);
	/* rounds are counted from 1970-01-01T00:00Z: every 1d starts at
	 * midnight UTC, every 1w on a Thursday */
	return now - ((now % c->every) + c->every) % c->every;
}

void
nudge_trigger_round(const nudge_campaign *c, int64_t now, char *buf,
    unsigned long len)
{
	char t[40];

	if (c->every <= 0) {
		if (len > 0)
			*buf = '\0';
		return;
	}
	snprintf(buf, len, "@%s", nudge_time_format(round_start(c, now), t,
	    sizeof t));
}

/* Compiles expr (with the campaign's context: sfx and inst as
 * nudge_seg_ctx's step_suffix and step_instance, since its event_since)
 * and appends its condition to sql and its parameters to q. */
static int
add_cond(nudge_store *st, const nudge_campaign *c, const char *sfx,
    const char *inst, const char *expr, const char *since, int64_t now,
    nudge_seg *q, nudge_buf *sql, nudge_err *err)
{
	nudge_seg_ctx ctx = { .campaign = c->name, .step_suffix = *sfx !=
	    '\0' ? sfx : NULL, .event_since = since, .step_instance = inst };
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

/* The contacts column that holds the address of channel ch. */
static const char *
addr_col(const char *ch)
{
	const nudge_channel *c = nudge_channel_find(ch);

	return (c != NULL ? c : &nudge_channels[NUDGE_CH_EMAIL])->column;
}

/*
 * Appends "(A AND B)": contact id can get channel ch — its latest consent
 * row on ch (read from its index) is subscribed, or there is none and ch
 * is not opt-in in the config or the campaign is transactional (A); for
 * a requested message (kind, config.h), not bounced or complained; and
 * it has an address for ch (B), read from row, the contacts alias in
 * scope, or with row NULL looked up by id.
 */
static int
reach(nudge_seg *q, nudge_buf *sql, const char *id, const char *row,
    const char *ch, int kind, nudge_err *err)
{
	int n;

	if ((n = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, ch, err)) == -1)
		return EX_OSERR;
	if (nudge_buf_printf(sql, "(coalesce((SELECT n.status FROM consent n "
	    "WHERE n.contact_id = %s AND n.channel = ?%d ORDER BY n.at DESC, "
	    "n.id DESC LIMIT 1), '%s') %s AND ", id, n,
	    kind == NUDGE_MSG_MARKETING && nudge_seg_consent_optin(ch) ?
	    "none" : "subscribed", kind == NUDGE_MSG_REQUESTED ?
	    "NOT IN ('bounced', 'complained')" : "= 'subscribed'") == -1 ||
	    (row != NULL ? nudge_buf_printf(sql, "coalesce(%s.%s, "
	    "'') != '')", row, addr_col(ch)) : nudge_buf_printf(sql,
	    "EXISTS (SELECT 1 FROM contacts a WHERE a.id = %s AND "
	    "coalesce(a.%s, '') != ''))", id, addr_col(ch))) == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	return 0;
}

/* Whether step i's channel is also that of a step in [lo, i).  When it
 * is not, step i can be due with steps [lo, i) passed over (a contact
 * who cannot get one of them cannot get i). */
static int
seen_channel(const nudge_campaign *c, size_t lo, size_t i)
{
	size_t j;

	for (j = lo; j < i; j++)
		if (strcmp(c->steps[j].channel, c->steps[i].channel) == 0)
			return 1;
	return 0;
}

/* Appends " AND NOT (reach)" for each channel of steps [lo, k), once. */
static int
not_reach(nudge_seg *q, nudge_buf *sql, const nudge_campaign *c, size_t lo,
    size_t k, const char *id, const char *row, nudge_err *err)
{
	size_t i;
	int rc;

	for (i = lo; i < k; i++) {
		if (seen_channel(c, lo, i))
			continue;
		if (nudge_buf_puts(sql, " AND NOT ") == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
		if ((rc = reach(q, sql, id, row, c->steps[i].channel,
		    c->transactional, err)) != 0)
			return rc;
	}
	return 0;
}

/* Adds the ledger step of step i in the round sfx as a parameter; its
 * number, or -1 (err set). */
static int
key_param(nudge_seg *q, const nudge_campaign *c, size_t i, const char *sfx,
    nudge_err *err)
{
	nudge_buf key = { 0 };
	int n;

	if (nudge_buf_printf(&key, "%s%s", c->steps[i].id, sfx) == -1) {
		nudge_errf(err, EX_OSERR, "out of memory");
		return -1;
	}
	n = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, key.s, err);
	nudge_buf_free(&key);
	return n;
}

/* Appends " IN (?a, ?b, ...)": the ledger steps of steps [lo, n) in the
 * round sfx. */
static int
keys_in(nudge_seg *q, nudge_buf *sql, const nudge_campaign *c, size_t lo,
    const char *sfx, nudge_err *err)
{
	size_t i;
	int n;

	if (nudge_buf_puts(sql, " IN (") == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	for (i = lo; i < c->nsteps; i++) {
		if ((n = key_param(q, c, i, sfx, err)) == -1)
			return EX_OSERR;
		if (nudge_buf_printf(sql, "%s?%d", i > lo ? ", " : "", n) == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if (nudge_buf_putc(sql, ')') == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	return 0;
}

/* Appends to b (" and " after what it holds) step k's if:, unless: and
 * fallback as one segment expression.  Returns 0 or -1 (no memory). */
static int
step_expr(const nudge_campaign *c, size_t k, nudge_buf *b)
{
	const nudge_step *s = &c->steps[k];

	if ((s->cond != NULL && nudge_buf_printf(b, "%s(%s)", b->len > 0 ?
	    " and " : "", s->cond) == -1) || (s->unless != NULL &&
	    nudge_buf_printf(b, "%snot (%s)", b->len > 0 ? " and " : "",
	    s->unless) == -1) || (s->fallback && k > 0 &&
	    nudge_buf_printf(b, "%snot opened step \"%s\" and not clicked "
	    "step \"%s\"", b->len > 0 ? " and " : "", c->steps[k - 1].id,
	    c->steps[k - 1].id) == -1))
		return -1;
	return 0;
}

/* Appends step k's if:, unless: and fallback conditions, if any. */
static int
step_conds(nudge_store *st, const nudge_campaign *c, size_t k,
    const char *sfx, int64_t now, nudge_seg *q, nudge_buf *sql,
    nudge_err *err)
{
	nudge_buf rest = { 0 };
	int rc = 0;

	if (step_expr(c, k, &rest) == -1)
		rc = nudge_errf(err, EX_OSERR, "out of memory");
	else if (rest.len > 0)
		rc = add_cond(st, c, sfx, NULL, rest.s, NULL, now, q, sql, err);
	nudge_buf_free(&rest);
	return rc;
}

/* Appends the conditions of steps [lo, k): a step is passed over only
 * when it would have been due but for its channel. */
static int
over_conds(nudge_store *st, const nudge_campaign *c, size_t lo, size_t k,
    const char *sfx, int64_t now, nudge_seg *q, nudge_buf *sql,
    nudge_err *err)
{
	size_t i;
	int rc = 0;

	for (i = lo; i < k && rc == 0; i++)
		rc = step_conds(st, c, i, sfx, now, q, sql, err);
	return rc;
}

/*
 * The entry query of round sfx into q and sql: the audience less every
 * step's ledger rows of the round, each a top-level EXCEPT, which SQLite
 * runs as a merge of id-ordered streams (the audience's own query and the
 * ledger's unique index) without a temporary index of either: when
 * nothing is due it costs the audience's query and one pass over the
 * ledger ranges.  Then, on the merge's output (a co-routine, in id order
 * and never sorted again), whether the contact can get the channel of
 * some step (the first's, or one that would follow the first's passed
 * over), a probe or two each: so that contacts who stay in the audience
 * but can get none of its channels cost a probe each run, not a second
 * query.  An ORDER BY on the outer query would make SQLite run the
 * EXCEPT with a temporary B-tree of the whole audience instead.  With
 * prefilter, nudge_blocked() (a pool's, see below) passes over first,
 * for the price of a binary search, the contacts whose latest consent on
 * the channel was not subscribed when the run started: those in a big
 * audience cost 0.15 s a campaign in probes on 1M contacts otherwise.
 * A transactional campaign reaches some of those: no prefilter.
 */
static int
entry_query(nudge_store *st, const nudge_campaign *c, int64_t now,
    const char *sfx, int prefilter, nudge_seg *q, nudge_buf *sql,
    nudge_err *err)
{
	nudge_seg_ctx ctx = { .campaign = c->name, .step_suffix = *sfx != '\0' ?
	    sfx : NULL };
	nudge_seg aud;
	nudge_err e;
	size_t i;
	int cn, sn, rc;

	if (c->transactional != NUDGE_MSG_MARKETING)
		prefilter = 0;
	memset(q, 0, sizeof *q);
	if ((rc = nudge_seg_compile_ctx(st, NULL, c->audience, now, &ctx, &aud,
	    &e)) != 0) {
		nudge_seg_free(&aud);
		return nudge_errf(err, rc, "%s: audience: %s", c->path, e.msg);
	}
	if ((cn = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, c->name, err)) ==
	    -1) {
		nudge_seg_free(&aud);
		return EX_OSERR;
	}
	rc = nudge_buf_puts(sql, "WITH t(id) AS (") == -1 ? nudge_errf(err,
	    EX_OSERR, "out of memory") : nudge_seg_append_unordered(q, &aud,
	    sql, err);
	nudge_seg_free(&aud);
	for (i = 0; i < c->nsteps && rc == 0; i++) {
		if ((sn = key_param(q, c, i, sfx, err)) == -1)
			return EX_OSERR;
		if (nudge_buf_printf(sql, " EXCEPT SELECT x.contact_id FROM "
		    "messages x WHERE x.campaign_id = (SELECT k.id FROM "
		    "campaigns k WHERE k.name = ?%d) AND x.step = ?%d", cn,
		    sn) == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if (rc == 0 && nudge_buf_puts(sql, " ORDER BY 1) SELECT t.id FROM t "
	    "WHERE ") == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	for (i = 0; i < c->nsteps && rc == 0; i++) {
		if (seen_channel(c, 0, i))
			continue;
		if ((i > 0 && nudge_buf_puts(sql, " OR ") == -1))
			return nudge_errf(err, EX_OSERR, "out of memory");
		if (prefilter) {
			int n = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0,
			    c->steps[i].channel, err);

			if (n == -1)
				return EX_OSERR;
			if (nudge_buf_printf(sql, "(NOT nudge_blocked(?%d, t.id) "
			    "AND ", n) == -1)
				return nudge_errf(err, EX_OSERR, "out of memory");
		}
		rc = reach(q, sql, "t.id", NULL, c->steps[i].channel,
		    c->transactional, err);
		if (rc == 0 && prefilter && nudge_buf_putc(sql, ')') == -1)
			rc = nudge_errf(err, EX_OSERR, "out of memory");
	}
	return rc;
}

/*
 * The query of step k entered with steps [0, k) passed over, into q and
 * sql: of the entry query's ids (a JSON array in parameter *json), those
 * who can get k's channel and none of those of the steps before, and for
 * whom the conditions of those steps and of k hold.
 */
static int
enter_query(nudge_store *st, const nudge_campaign *c, size_t k, int64_t now,
    const char *sfx, nudge_seg *q, nudge_buf *sql, int *json,
    nudge_err *err)
{
	int rc;

	memset(q, 0, sizeof *q);
	if ((*json = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, "[]", err)) ==
	    -1)
		return EX_OSERR;
	if (nudge_buf_printf(sql, "SELECT c.id FROM contacts c WHERE c.id IN "
	    "(SELECT j.value FROM json_each(?%d) j) AND ", *json) == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	if ((rc = reach(q, sql, "c.id", "c", c->steps[k].channel,
	    c->transactional, err)) != 0 ||
	    (rc = not_reach(q, sql, c, 0, k, "c.id", "c", err)) != 0 ||
	    (rc = over_conds(st, c, 0, k, sfx, now, q, sql, err)) != 0 ||
	    (rc = step_conds(st, c, k, sfx, now, q, sql, err)) != 0)
		return rc;
	if (nudge_buf_puts(sql, " ORDER BY c.id") == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	return 0;
}

/*
 * The query of step k > 0 after step j < k was sent, steps (j, k) passed
 * over, in round sfx, into q and sql: the contacts whose step j was sent
 * at least the wait of step j + 1 ago (the previous step's sent rows
 * drive, from the ledger's unique (campaign_id, step, contact_id) index),
 * with no ledger row for a step after j, who can get k's channel and none
 * of those of the steps passed over, the goal not reached since the
 * journey's first row (j0), and the conditions of the steps passed over
 * and of k holding.
 */
static int
next_query(nudge_store *st, const nudge_campaign *c, size_t k, size_t j,
    int64_t now, const char *sfx, nudge_seg *q, nudge_buf *sql,
    nudge_err *err)
{
	nudge_buf goal = { 0 };
	int cn, pn, tn, rc;

	memset(q, 0, sizeof *q);
	if ((cn = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, c->name, err)) ==
	    -1 || (pn = key_param(q, c, j, sfx, err)) == -1 ||
	    (tn = nudge_seg_param_add(q, NUDGE_SEG_TIME, now -
	    c->steps[j + 1].after, NULL, err)) == -1)
		return EX_OSERR;
	if (nudge_buf_puts(sql, "SELECT c.id FROM messages m JOIN contacts c "
	    "ON c.id = m.contact_id") == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	/* j0, the journey's first row, dates its start for the goal */
	if (c->goal != NULL && (nudge_buf_puts(sql, " JOIN messages j0 ON "
	    "j0.id = (SELECT j.id FROM messages j WHERE j.campaign_id = "
	    "m.campaign_id AND j.contact_id = m.contact_id AND j.step") ==
	    -1 || (rc = keys_in(q, sql, c, 0, sfx, err)) != 0 ||
	    nudge_buf_puts(sql, " ORDER BY j.claimed_at, j.id LIMIT 1)") == -1))
		return nudge_errf(err, EX_OSERR, "out of memory");
	if (nudge_buf_printf(sql, " WHERE m.campaign_id = (SELECT k.id FROM "
	    "campaigns k WHERE k.name = ?%d) AND m.step = ?%d AND m.status "
	    "IN ('sent', 'held-out') AND m.updated_at <= ?%d AND c.id NOT IN (SELECT "
	    "x.contact_id FROM messages x WHERE x.campaign_id = (SELECT k.id "
	    "FROM campaigns k WHERE k.name = ?%d) AND x.step", cn, pn, tn,
	    cn) == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	if ((rc = keys_in(q, sql, c, j + 1, sfx, err)) != 0)
		return rc;
	if (nudge_buf_puts(sql, ") AND ") == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	if ((rc = reach(q, sql, "c.id", "c", c->steps[k].channel,
	    c->transactional, err)) != 0 ||
	    (rc = not_reach(q, sql, c, j + 1, k, "c.id", "c", err)) != 0 ||
	    (rc = over_conds(st, c, j + 1, k, sfx, now, q, sql, err)) != 0)
		return rc;
	/* the goal, once reached since the contact entered, ends the
	 * journey: its events count from the journey's first claim on */
	if (c->goal != NULL) {
		if (nudge_buf_printf(&goal, "not (%s)", c->goal) == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
		rc = add_cond(st, c, sfx, NULL, goal.s, "j0.claimed_at", now, q, sql,
		    err);
		nudge_buf_free(&goal);
		if (rc != 0)
			return rc;
	}
	if ((rc = step_conds(st, c, k, sfx, now, q, sql, err)) != 0)
		return rc;
	if (nudge_buf_puts(sql, " ORDER BY c.id") == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	return 0;
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

/* Runs the entry query; *ids gets its ids as a JSON array and *n their
 * count. */
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

/* Runs a query of due contacts and calls fn for each, in id order (the
 * entry query's rows come in id order from its merge, which SQL does not
 * promise: they are sorted if not). */
static int
run_due(nudge_store *st, const nudge_campaign *c, const nudge_seg *q,
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

/* Writes "steps a, b passed over" for steps [lo, k) into explain. */
static int
explain_over(nudge_buf *explain, const nudge_campaign *c, size_t lo,
    size_t k)
{
	size_t i;
	int rc = 0;

	for (i = lo; i < k && rc == 0; i++)
		rc = nudge_buf_printf(explain, "%s%s", i > lo ? ", " : "",
		    c->steps[i].id);
	return rc == 0 ? nudge_buf_printf(explain, " passed over") : -1;
}

/* Writes the entry query (q's parameters, sql) into explain. */
static int
explain_entry(const nudge_seg *q, const char *sql, nudge_buf *explain)
{
	nudge_seg e = *q;

	e.sql = (char *)sql;
	return nudge_seg_explain(&e, explain);
}

/* One run's state: what the queries of a campaign share. */
struct run {
	nudge_store *st;
	const nudge_campaign *c;
	int64_t now;
	nudge_due_fn *fn;
	void *arg;
	nudge_buf *explain;
	nudge_buf ids;     /* the entry query's ids, a JSON array */
	long nids;
};

/* While an A/B test runs, only its test share is due: the rest wait
 * for the winner (abtest.h), which a run after the wait records. */
struct ab_filter {
	nudge_due_fn *fn;
	void *arg;
};

static void
ab_only_test(void *arg, const nudge_due *d)
{
	struct ab_filter *f = arg;

	if (nudge_ab_in_test(d->c, d->s, d->contact_id))
		f->fn(f->arg, d);
}

/* A step with `send_at: best_hour`: its best-hour variant waits for the
 * contact's best hour (besthour.h); the fixed-time control share goes
 * when due.  The hours allowed are those that start inside the step's
 * within: window (in the campaign's zone) and outside quiet hours (the
 * campaign's, else the config's), so that send does not hold a message
 * past its hour. */
struct hour_filter {
	nudge_due_fn *fn;
	void *arg;
	nudge_besthour_now b;
	nudge_policy_cfg pol;
	int rc;
	nudge_err err;
};

static int
quiet_at(int64_t t, void *arg)
{
	const nudge_policy_cfg *p = arg;
	char why[160];
	nudge_err e;

	return nudge_policy_quiet(p, t, why, sizeof why, &e) == 0 &&
	    why[0] != '\0';
}

static void
best_hour_only(void *arg, const nudge_due *d)
{
	struct hour_filter *f = arg;
	const nudge_variant *v = nudge_ab_assign(d->c, d->s, d->contact_id);
	int due = 1;

	if (f->rc != 0)
		return;
	if (v != NULL && strcmp(v->id, "best-hour") == 0)
		f->rc = nudge_besthour_due(&f->b, d->contact_id, &due, &f->err);
	if (f->rc == 0 && due)
		f->fn(f->arg, d);
}

/* Puts f (sending on to fn, arg) in front of the due of step s of c. */
static int
hour_filter_start(nudge_store *st, const nudge_campaign *c,
    const nudge_step *s, int64_t now, nudge_due_fn *fn, void *arg,
    struct hour_filter *f, nudge_err *err)
{
	int rc;

	memset(f, 0, sizeof *f);
	f->fn = fn;
	f->arg = arg;
	nudge_campaign_policy(c, c->global_policy, &f->pol);
	if ((rc = nudge_besthour_start(st, now, &f->b, err)) == 0)
		nudge_besthour_allow(&f->b, now, c->tz != NULL ? c->tz :
		    f->pol.quiet_tz, s->within_from, s->within_to, quiet_at,
		    &f->pol);
	return rc;
}

/* Runs (or explains) the queries of step k in round sfx: without entry,
 * after each earlier step sent (with the steps between passed over);
 * with entry, on entry with the steps before passed over (direct: the
 * entry query's rows are the first step's due). */
static int
run_step(struct run *r, size_t k, const char *sfx, int entry, int direct,
    const nudge_seg *eq, const char *esql, nudge_err *err)
{
	const nudge_campaign *c = r->c;
	nudge_buf sql = { 0 }, key = { 0 };
	struct ab_filter abf;
	struct hour_filter hf;
	nudge_due_fn *fn = r->fn;
	void *arg = r->arg;
	nudge_seg q;
	nudge_due d;
	size_t j;
	int rc = 0, json = 0;

	memset(&q, 0, sizeof q);
	if (entry ? seen_channel(c, 0, k) || (direct && k > 0) : k == 0)
		return 0;
	if (c->steps[k].test_share > 0 && r->explain == NULL) {
		enum nudge_ab_phase ph;
		char w[72];

		if ((rc = nudge_ab_phase(r->st, c, &c->steps[k], r->now, &ph, w,
		    sizeof w, err)) != 0)
			return rc;
		if (ph != NUDGE_AB_DECIDED) {
			abf.fn = r->fn;
			abf.arg = r->arg;
			fn = ab_only_test;
			arg = &abf;
		}
	}
	if (c->steps[k].best_hour && r->explain == NULL) {
		if ((rc = hour_filter_start(r->st, c, &c->steps[k], r->now, fn,
		    arg, &hf, err)) != 0)
			return rc;
		fn = best_hour_only;
		arg = &hf;
	}
	if (nudge_buf_printf(&key, "%s%s", c->steps[k].id, sfx) == -1 ||
	    (r->explain != NULL && nudge_buf_printf(r->explain, "-- %s: "
	    "campaign %s, step %s\n", c->path, c->name, key.s) == -1)) {
		rc = nudge_errf(err, EX_OSERR, "out of memory");
		goto out;
	}
	d.c = c;
	d.s = &c->steps[k];
	d.step = key.s;
	for (j = entry ? 0 : k; j-- > 0 && rc == 0;) {
		if (seen_channel(c, j + 1, k))
			continue;
		nudge_seg_free(&q);
		nudge_buf_reset(&sql);
		if ((rc = next_query(r->st, c, k, j, r->now, sfx, &q, &sql,
		    err)) != 0)
			break;
		if (r->explain != NULL) {
			q.sql = sql.s;
			if ((j + 1 < k && (nudge_buf_puts(r->explain, "-- or, ") ==
			    -1 || explain_over(r->explain, c, j + 1, k) == -1 ||
			    nudge_buf_printf(r->explain, ", after %s\n",
			    c->steps[j].id) == -1)) ||
			    nudge_seg_explain(&q, r->explain) == -1)
				rc = nudge_errf(err, EX_OSERR, "out of memory");
			q.sql = NULL;
		} else {
			rc = run_due(r->st, c, &q, sql.s, &d, fn, arg,
			    err);
		}
	}
	if (rc != 0 || !entry)
		goto out;
	if (direct) {
		/* k is 0: the entry query's rows are the due */
		if (r->explain == NULL)
			rc = run_due(r->st, c, eq, esql, &d, fn, arg, err);
		else if (nudge_buf_puts(r->explain, "-- the due: the audience "
		    "less the ledger, reachable on the channel\n") == -1 ||
		    explain_entry(eq, esql, r->explain) == -1)
			rc = nudge_errf(err, EX_OSERR, "out of memory");
		goto out;
	}
	nudge_seg_free(&q);
	nudge_buf_reset(&sql);
	if ((rc = enter_query(r->st, c, k, r->now, sfx, &q, &sql, &json,
	    err)) != 0)
		goto out;
	if (r->explain != NULL) {
		if (k == 0)
			rc = nudge_buf_puts(r->explain, "-- the candidates: the "
			    "audience less the ledger, reachable on a channel "
			    "of the campaign\n") | explain_entry(eq, esql,
			    r->explain) | nudge_buf_printf(r->explain, "-- then "
			    "those of them due (?%d: the candidates as a JSON "
			    "array)\n", json);
		else
			rc = nudge_buf_puts(r->explain, "-- or, on entry, ") |
			    explain_over(r->explain, c, 0, k) |
			    nudge_buf_printf(r->explain, " (?%d: the "
			    "candidates of step %s, a JSON array)\n", json,
			    c->steps[0].id);
		q.sql = sql.s;
		if (rc != 0 || nudge_seg_explain(&q, r->explain) == -1)
			rc = nudge_errf(err, EX_OSERR, "out of memory");
		q.sql = NULL;
		goto out;
	}
	if (r->nids == 0)
		goto out;
	free(q.params[json - 1].s);
	if ((q.params[json - 1].s = strdup(r->ids.s)) == NULL) {
		rc = nudge_errf(err, EX_OSERR, "out of memory");
		goto out;
	}
	rc = run_due(r->st, c, &q, sql.s, &d, fn, arg, err);
out:
	if (rc == 0 && fn == best_hour_only && hf.rc != 0) {
		*err = hf.err;
		rc = hf.rc;
	}
	nudge_seg_free(&q);
	nudge_buf_free(&sql);
	nudge_buf_free(&key);
	return rc;
}

/*
 * Journeys started by events (entry: on EVENT): an instance per entry
 * event, its ledger rows keyed by the event's id (entry_event).  The
 * query of step k into q and sql, rows (contact, entry event, its time):
 * for k = 0 the events of the entry type between the window and the
 * first step's wait ago that started no instance, not within the limit
 * of another instance's entry event, the contact in the audience (if
 * any); for k > 0 the instances whose step k - 1 was sent at least the
 * wait of step k ago and that have no row for k or a later step.  Both:
 * no exit event since the entry event (with the same prop, if named),
 * the goal not reached since it, the contact can get k's channel, and
 * k's if:/unless: hold, their events counted since the entry event.
 */
static int
event_query(nudge_store *st, const nudge_campaign *c, size_t k, int64_t now,
    nudge_seg *q, nudge_buf *sql, nudge_err *err)
{
	const nudge_step *s = &c->steps[k];
	nudge_buf x = { 0 };
	int cn, tn, en, pn, rc = 0;

	memset(q, 0, sizeof *q);
	if ((cn = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, c->name, err)) ==
	    -1 || (tn = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, c->entry_on,
	    err)) == -1)
		return EX_OSERR;
	if (k == 0) {
		/* an instance starts at the first step: its row is one
		 * probe of the ledger's unique key; the limit's look at the
		 * contact's rows goes by messages_contact (the unary + keeps
		 * SQLite from scanning the campaign's part of the key) */
		if ((pn = key_param(q, c, 0, "", err)) == -1)
			return EX_OSERR;
		if (nudge_buf_printf(sql, "SELECT c.id, ev0.id, ev0.at FROM "
		    "events ev0 JOIN contacts c ON c.id = ev0.contact_id WHERE "
		    "ev0.type = ?%d AND ev0.at <= %lld AND ev0.at >= %lld AND "
		    "NOT EXISTS (SELECT 1 FROM messages jx WHERE jx.campaign_id "
		    "= (SELECT k.id FROM campaigns k WHERE k.name = ?%d) AND "
		    "jx.step = ?%d || '#' || ev0.id AND jx.contact_id = "
		    "ev0.contact_id AND jx.entry_event = ev0.id)",
		    tn, (long long)(now - s->after), (long long)(now - s->after -
		    c->window), cn, pn) == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
		if (c->entry_channel != NULL) {
			int chn = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0,
			    c->entry_channel, err);

			if (chn == -1)
				return EX_OSERR;
			if (nudge_buf_printf(sql, " AND ev0.channel = ?%d",
			    chn) == -1)
				return nudge_errf(err, EX_OSERR,
				    "out of memory");
		}
		if (c->limit > 0 && nudge_buf_printf(sql, " AND NOT EXISTS "
		    "(SELECT 1 FROM messages jx JOIN events jy ON jy.id = "
		    "jx.entry_event WHERE jx.contact_id = ev0.contact_id AND "
		    "+jx.campaign_id = (SELECT k.id FROM campaigns k WHERE "
		    "k.name = ?%d) AND jx.entry_event <> 0 AND jy.at > ev0.at - "
		    "%lld AND jy.at < ev0.at + %lld)", cn, (long long)c->limit,
		    (long long)c->limit) == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
		if (c->audience != NULL && (rc = add_cond(st, c, "", NULL,
		    c->audience, NULL, now, q, sql, err)) != 0)
			return rc;
	} else {
		if ((pn = key_param(q, c, k - 1, "", err)) == -1)
			return EX_OSERR;
		size_t i;

		if (nudge_buf_printf(sql, "SELECT c.id, ev0.id, ev0.at FROM "
		    "messages jm JOIN contacts c ON c.id = jm.contact_id JOIN "
		    "events ev0 ON ev0.id = jm.entry_event WHERE jm.campaign_id "
		    "= (SELECT k.id FROM campaigns k WHERE k.name = ?%d) AND "
		    "jm.step > ?%d || '#' AND jm.step < ?%d || '$' AND "
		    "jm.step = ?%d || '#' || jm.entry_event AND jm.entry_event "
		    "<> 0 AND jm.status IN ('sent', 'held-out') AND "
		    "jm.updated_at <= %lld AND NOT EXISTS (SELECT 1 FROM "
		    "messages jx WHERE jx.campaign_id = jm.campaign_id AND "
		    "jx.contact_id = jm.contact_id AND jx.entry_event = "
		    "jm.entry_event AND jx.step IN (", cn, pn, pn, pn,
		    (long long)(now - s->after)) == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
		for (i = k; i < c->nsteps; i++) {
			if ((pn = key_param(q, c, i, "", err)) == -1)
				return EX_OSERR;
			if (nudge_buf_printf(sql, "%s?%d || '#' || "
			    "jm.entry_event", i > k ? ", " : "", pn) == -1)
				return nudge_errf(err, EX_OSERR, "out of memory");
		}
		if (nudge_buf_puts(sql, "))") == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if (c->exit_on != NULL) {
		if ((en = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, c->exit_on,
		    err)) == -1)
			return EX_OSERR;
		if (nudge_buf_printf(sql, " AND NOT EXISTS (SELECT 1 FROM events "
		    "jz WHERE jz.contact_id = ev0.contact_id AND jz.type = ?%d "
		    "AND (jz.at > ev0.at OR (jz.at = ev0.at AND jz.id > ev0.id)) "
		    "AND jz.at <= %lld", en, (long long)now) == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
		if (c->exit_prop != NULL) {
			if (nudge_buf_printf(&x, "$.\"%s\"", c->exit_prop) == -1 ||
			    (pn = nudge_seg_param_add(q, NUDGE_SEG_TEXT, 0, x.s,
			    err)) == -1) {
				nudge_buf_free(&x);
				return nudge_errf(err, EX_OSERR, "out of memory");
			}
			nudge_buf_free(&x);
			if (nudge_buf_printf(sql, " AND json_extract(jz.props, "
			    "?%d) IS json_extract(ev0.props, ?%d)", pn, pn) == -1)
				return nudge_errf(err, EX_OSERR, "out of memory");
		}
		if (nudge_buf_putc(sql, ')') == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if (nudge_buf_puts(sql, " AND ") == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	if ((rc = reach(q, sql, "c.id", "c", s->channel, c->transactional,
	    err)) != 0)
		return rc;
	if ((c->goal != NULL && nudge_buf_printf(&x, "not (%s)", c->goal) ==
	    -1) || step_expr(c, k, &x) == -1) {
		nudge_buf_free(&x);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if (x.len > 0)
		/* step "x" of this campaign: of this instance */
		rc = add_cond(st, c, "", "ev0.id", x.s, "ev0.at", now, q, sql,
		    err);
	nudge_buf_free(&x);
	if (rc == 0 && nudge_buf_puts(sql, " ORDER BY c.id, ev0.at, ev0.id") ==
	    -1)
		rc = nudge_errf(err, EX_OSERR, "out of memory");
	return rc;
}

/* Runs (or explains) the steps of a journey started by events, last to
 * first, as run_campaign does.  A later step's query reads the range of
 * "STEP#..." of the ledger's unique index, the entry's the events'
 * (type, at) index from the window on. */
static int
run_events(nudge_store *st, const nudge_campaign *c, int64_t now,
    nudge_due_fn *fn, void *arg, nudge_buf *explain, nudge_err *err)
{
	nudge_buf sql = { 0 }, key = { 0 };
	struct hour_filter hf;
	nudge_due_fn *sfn;
	sqlite3_stmt *s = NULL;
	void *sarg;
	nudge_seg q;
	nudge_due d;
	size_t k;
	int rc = 0, r;

	memset(&q, 0, sizeof q);
	for (k = c->nsteps; k-- > 0 && rc == 0;) {
		int64_t last_contact = 0, last_at = 0;

		nudge_seg_free(&q);
		nudge_buf_reset(&sql);
		if ((rc = event_query(st, c, k, now, &q, &sql, err)) != 0)
			break;
		if (explain != NULL) {
			q.sql = sql.s;
			if (nudge_buf_printf(explain, "-- %s: campaign %s, step "
			    "%s, an instance per %s event%s\n", c->path, c->name,
			    c->steps[k].id, c->entry_on, k == 0 ? " (the entry)" :
			    "") == -1 || nudge_seg_explain(&q, explain) == -1)
				rc = nudge_errf(err, EX_OSERR, "out of memory");
			q.sql = NULL;
			continue;
		}
		if ((rc = nudge_store_prepare(st, &s, sql.s, err)) != 0 ||
		    (rc = bind_some(&q, s, err)) != 0) {
			sqlite3_finalize(s);
			s = NULL;
			break;
		}
		d.c = c;
		d.s = &c->steps[k];
		sfn = fn;
		sarg = arg;
		if (d.s->best_hour) {
			if ((rc = hour_filter_start(st, c, d.s, now, fn, arg,
			    &hf, err)) != 0) {
				sqlite3_finalize(s);
				s = NULL;
				break;
			}
			sfn = best_hour_only;
			sarg = &hf;
		}
		while ((r = sqlite3_step(s)) == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(s, 0);
			int64_t at = sqlite3_column_int64(s, 2);

			/* the limit among the entry events of this run */
			if (k == 0 && c->limit > 0 && id == last_contact &&
			    at - last_at < c->limit)
				continue;
			last_contact = id;
			last_at = at;
			nudge_buf_reset(&key);
			if (nudge_buf_printf(&key, "%s#%lld", c->steps[k].id,
			    (long long)sqlite3_column_int64(s, 1)) == -1) {
				rc = nudge_errf(err, EX_OSERR, "out of memory");
				break;
			}
			d.contact_id = id;
			d.step = key.s;
			sfn(sarg, &d);
		}
		if (rc == 0 && r != SQLITE_DONE)
			rc = nudge_store_error(st, err, c->path);
		if (rc == 0 && sfn == best_hour_only && hf.rc != 0) {
			*err = hf.err;
			rc = hf.rc;
		}
		sqlite3_finalize(s);
		s = NULL;
	}
	nudge_seg_free(&q);
	nudge_buf_free(&sql);
	nudge_buf_free(&key);
	return rc;
}

/* nudge_trigger_run, with prefilter as entry_query's. */
static int
run_campaign(nudge_store *st, const nudge_campaign *c, int64_t now,
    nudge_due_fn *fn, void *arg, nudge_buf *explain, int prefilter,
    nudge_err *err)
{
	struct run r = { st, c, now, fn, arg, explain, { 0 }, 0 };
	char sfx[48], prev[48];
	nudge_seg eq;
	nudge_buf esql = { 0 };
	size_t k;
	int rc, direct = 1;

	if (c->entry_on != NULL)
		return run_events(st, c, now, fn, arg, explain, err);
	nudge_trigger_round(c, now, sfx, sizeof sfx);
	/* a journey that entered late in the last round goes on in this
	 * one: later steps look at both (the steps of a round fit in its
	 * length, nudge_campaign_load checks) */
	nudge_trigger_round(c, c->every > 0 ? round_start(c, now) - 1 : now,
	    prev, sizeof prev);
	/* the entry query's rows are the first step's due unless a step
	 * has another channel (they may pass the first over) or the first
	 * step has conditions: then they are candidates, read first */
	for (k = 1; k < c->nsteps; k++)
		if (!seen_channel(c, 0, k))
			direct = 0;
	if (c->steps[0].cond != NULL || c->steps[0].unless != NULL)
		direct = 0;
	if ((rc = entry_query(st, c, now, sfx, prefilter, &eq, &esql,
	    err)) == 0 &&
	    !direct && explain == NULL)
		rc = candidates(st, c, &eq, esql.s, &r.ids, &r.nids, err);
	/* last step first: a contact made due for step k by this run's
	 * sends is found by the next run, never twice in one */
	for (k = c->nsteps; k-- > 0 && rc == 0;) {
		if (c->every > 0 && (rc = run_step(&r, k, prev, 0, 0, &eq,
		    esql.s, err)) != 0)
			break;
		rc = run_step(&r, k, sfx, 0, 0, &eq, esql.s, err);
	}
	/* then those entering, each at the first step it can get: they have
	 * no ledger row, so none of the queries above found them.  A
	 * calendar round of a week or a month enters only on its day (the
	 * day after its time): a Monday campaign sends on Mondays */
	if (c->cal != 0 && c->cal != 'd' && now - round_start(c, now) >=
	    86400 && explain == NULL)
		k = c->nsteps;
	else
		k = 0;
	for (; k < c->nsteps && rc == 0; k++)
		rc = run_step(&r, k, sfx, 1, direct, &eq, esql.s, err);
	nudge_seg_free(&eq);
	nudge_buf_free(&esql);
	nudge_buf_free(&r.ids);
	return rc;
}

int
nudge_trigger_run(nudge_store *st, const nudge_campaign *c, int64_t now,
    nudge_due_fn *fn, void *arg, nudge_buf *explain, nudge_err *err)
{
	return run_campaign(st, c, now, fn, arg, explain, 0, err);
}

/* One campaign of a pool: its due steps as (contact, index into keys). */
struct rec {
	int64_t id;
	size_t key;
};

/* A job keeps at most SPILL_AT due steps in memory; past that they go to
 * a temporary file (spill), so that the campaigns done before their turn
 * to print hold 2 MiB each, not 16 bytes a due step: a first run at 10M
 * contacts finds 32M due steps. */
#define SPILL_AT ((size_t)1 << 17)

/* SPILL_AT, or the test knob NUDGE_TRIGGER_SPILL_AT (smaller only). */
static size_t
spill_at(void)
{
	const char *e = getenv("NUDGE_TRIGGER_SPILL_AT");
	long v = e != NULL ? atol(e) : 0;

	return v > 0 && (size_t)v < SPILL_AT ? (size_t)v : SPILL_AT;
}

struct job {
	const nudge_campaign *c;
	struct rec *v;
	size_t n, cap;
	FILE *spill;
	size_t spill_at;	/* due steps kept in memory at most */
	int spillrc;	/* writing spill failed: the code, err says why */
	char **keys; /* the ledger steps seen, e.g. "push1" */
	size_t nkeys;
	int done, oom, rc;
	nudge_err err;
};

/* The contacts whose latest consent on a channel is not subscribed, in
 * id order, read once for all the pool's campaigns, and only once their
 * audiences have probed BLOCKED_AFTER contacts on the channel: reading it
 * scans the consent table (0.3 s at 1M contacts, over 1 s at 10M), which
 * a small audience would pay for nothing, while BLOCKED_AFTER exact
 * probes cost a few ms.  done is set (release) after v and n are, so a
 * probe that sees it reads the list without the lock. */
#define BLOCKED_AFTER 50000
struct blocked {
	atomic_int done;
	int failed;          /* the read failed: exact probes only */
	unsigned long probes;
	int64_t *v;
	size_t n;
};

struct nudge_trigger_pool {
	pthread_mutex_t bmu; /* guards blk */
	struct blocked blk[NUDGE_NCHANNELS];
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
	 * last one matches nearly always; a journey instance's key
	 * (STEP#EVENT) is due once, for the event's one contact: never
	 * seen before, so not looked for (a flood of events would make
	 * the search quadratic) */
	k = (size_t)-1;
	if (strchr(d->step, '#') == NULL)
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
	if (j->n == j->spill_at) {
		if (j->spill == NULL && (j->spillrc = nudge_tmpfile("trigger",
		    &j->spill, &j->err)) != 0) {
			j->oom = 1;
			return;
		}
		if (fwrite(j->v, sizeof *j->v, j->n, j->spill) != j->n) {
			j->spillrc = nudge_errf(&j->err, EX_IOERR, "write a "
			    "temporary file of due steps: %s", strerror(errno));
			j->oom = 1;
			return;
		}
		j->n = 0;
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

static size_t
channel_index(const char *ch)
{
	const nudge_channel *c = nudge_channel_find(ch);

	return c != NULL ? c->id : NUDGE_CH_EMAIL;
}

/* Reads the blocked list b of channel ch on db (the probing thread's
 * connection, inside its query: the same snapshot).  Under the pool's
 * bmu.  0, or -1 (the list is left unread). */
static int
read_blocked(struct blocked *b, sqlite3 *db, const char *ch)
{
	static const char sql[] = "SELECT n.contact_id FROM consent n WHERE "
	    "n.channel = ?1 AND n.status != 'subscribed' AND NOT EXISTS "
	    "(SELECT 1 FROM consent d WHERE d.contact_id = n.contact_id AND "
	    "d.channel = n.channel AND (d.at > n.at OR (d.at = n.at AND "
	    "d.id > n.id))) ORDER BY 1";
	sqlite3_stmt *s = NULL;
	size_t cap = 0;
	int64_t *v;
	int r;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, ch, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (b->n == cap) {
			cap = cap > 0 ? 2 * cap : 1024;
			if ((v = realloc(b->v, cap * sizeof *v)) == NULL)
				goto fail;
			b->v = v;
		}
		b->v[b->n++] = sqlite3_column_int64(s, 0);
	}
	if (r != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	atomic_store_explicit(&b->done, 1, memory_order_release);
	return 0;
fail:
	sqlite3_finalize(s);
	b->n = 0;
	b->failed = 1;
	return -1;
}

/* SQL nudge_blocked(channel, id): whether id is on the pool's blocked
 * list of channel (0 while the list is not read: the exact test
 * follows).  The BLOCKED_AFTER-th probe of a channel reads its list. */
static void
blocked_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	nudge_trigger_pool *p = sqlite3_user_data(ctx);
	const unsigned char *ch = sqlite3_value_text(argv[0]);
	const char *chs = ch != NULL ? (const char *)ch : "";
	struct blocked *b;
	int64_t id = sqlite3_value_int64(argv[1]);
	size_t lo = 0, hi, mid;

	(void)argc;
	b = &p->blk[channel_index(chs)];
	if (!atomic_load_explicit(&b->done, memory_order_acquire)) {
		int done;

		pthread_mutex_lock(&p->bmu);
		if (!b->done && !b->failed && ++b->probes >= BLOCKED_AFTER)
			(void)read_blocked(b, sqlite3_context_db_handle(ctx),
			    chs);
		done = b->done;
		pthread_mutex_unlock(&p->bmu);
		if (!done) {
			sqlite3_result_int(ctx, 0);
			return;
		}
	}
	hi = b->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (b->v[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	sqlite3_result_int(ctx, lo < b->n && b->v[lo] == id);
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
		rc = 0;
		if (st == NULL && (rc = nudge_store_open(&st, p->path,
		    NUDGE_STORE_READONLY, &j->err)) == 0 &&
		    sqlite3_create_function(st->db, "nudge_blocked", 2,
		    SQLITE_UTF8, p, blocked_fn, NULL, NULL) != SQLITE_OK)
			rc = nudge_store_error(st, &j->err, "nudge_blocked");
		if (rc != 0) {
			nudge_store_close(st);
			st = NULL;
		}
		if (rc == 0)
			rc = run_campaign(st, j->c, p->now, collect, j, NULL, 1,
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
	pthread_mutex_init(&p->bmu, NULL);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->path = path;
	p->now = now;
	p->n = n;
	for (i = 0; i < n; i++) {
		p->jobs[i].c = cs[i];
		p->jobs[i].spill_at = spill_at();
	}
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
	if (j->spillrc != 0) {
		*err = j->err;
		return j->spillrc;
	}
	if (j->oom)
		return nudge_errf(err, EX_OSERR, "out of memory");
	d.c = j->c;
	/* the spilled steps first, read back through v, then the rest */
	if (j->spill != NULL && j->n > 0 &&
	    fwrite(j->v, sizeof *j->v, j->n, j->spill) != j->n)
		return nudge_errf(err, EX_IOERR, "write a temporary file of "
		    "due steps: %s", strerror(errno));
	if (j->spill != NULL) {
		if (fflush(j->spill) != 0 || fseek(j->spill, 0, SEEK_SET) != 0)
			return nudge_errf(err, EX_IOERR, "read a temporary "
			    "file of due steps: %s", strerror(errno));
		j->n = 0;
	}
	for (;;) {
		if (j->spill != NULL) {
			j->n = fread(j->v, sizeof *j->v, j->cap, j->spill);
			if (j->n == 0 && ferror(j->spill))
				return nudge_errf(err, EX_IOERR, "read a "
				    "temporary file of due steps: %s",
				    strerror(errno));
		}
		for (k = 0; k < j->n; k++) {
			if (j->v[k].key != key) {
				key = j->v[k].key;
				last = nudge_campaign_step(j->c, j->keys[key],
				    NULL);
			}
			d.contact_id = j->v[k].id;
			d.s = last;
			d.step = j->keys[key];
			fn(arg, &d);
		}
		if (j->spill == NULL || j->n == 0)
			break;
	}
	if (j->spill != NULL)
		fclose(j->spill);
	j->spill = NULL;
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
		if (p->jobs[i].spill != NULL)
			fclose(p->jobs[i].spill);
		free(p->jobs[i].v);
		for (k = 0; k < p->jobs[i].nkeys; k++)
			free(p->jobs[i].keys[k]);
		free(p->jobs[i].keys);
	}
	for (i = 0; i < NUDGE_NCHANNELS; i++)
		free(p->blk[i].v);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->bmu);
	free(p->jobs);
	free(p->th);
	free(p);
}
