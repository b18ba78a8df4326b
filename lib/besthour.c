/* besthour: the best hour to send, per contact, from its human opens and
 * clicks blended with the list's pattern; its tables; trigger's check. */
#include "besthour.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign.h"
#include "clock.h"

/* The local hour and weekday of t in the zone TZ is set to.  Events come
 * in contact order, their times scattered: the last hour seen is kept,
 * since a contact's opens of one message often share it. */
static void
local_hw(int64_t t, int *hour, int *wday)
{
	static int64_t last = -1;
	static int lh, lw;
	int64_t base = t - ((t % 3600) + 3600) % 3600;
	time_t tt = (time_t)base;
	struct tm tm;

	if (base != last) {
		if (localtime_r(&tt, &tm) == NULL) {
			tm.tm_hour = 0;
			tm.tm_wday = 0;
		}
		lh = tm.tm_hour;
		lw = tm.tm_wday;
		last = base;
	}
	*hour = lh;
	*wday = lw;
}

/* The ranking of the shares s[0..24) best first, ties to the larger
 * tie[h], then to the earlier hour; best gets the first. */
static void
rank_hours(const double *s, const double *tie, char *rank, int *best)
{
	int used[24] = { 0 }, i, h, b;

	for (i = 0; i < 24; i++) {
		b = -1;
		for (h = 0; h < 24; h++) {
			if (used[h])
				continue;
			/* 1e-12: shares that differ only by rounding tie */
			if (b < 0 || s[h] > s[b] + 1e-12 || (s[h] > s[b] - 1e-12 &&
			    tie[h] > tie[b] + 1e-12))
				b = h;
		}
		used[b] = 1;
		rank[i] = (char)('a' + b);
	}
	rank[24] = '\0';
	*best = rank[0] - 'a';
}

static int
best_day(const double *s, const double *tie)
{
	int d, b = 0;

	for (d = 1; d < 7; d++)
		if (s[d] > s[b] + 1e-12 || (s[d] > s[b] - 1e-12 &&
		    tie[d] > tie[b] + 1e-12))
			b = d;
	return b;
}

/* One contact's counts, blended with the list's shares into c. */
static void
blend(const long *ch, const long *cw, long n, double k,
    const nudge_besthour_fit *f, nudge_besthour *c)
{
	double s[24], w[7];
	int h;

	for (h = 0; h < 24; h++)
		s[h] = ((double)ch[h] + k * f->hours[h]) / ((double)n + k);
	for (h = 0; h < 7; h++)
		w[h] = ((double)cw[h] + k * f->wdays[h]) / ((double)n + k);
	c->events = n;
	c->weight = (double)n / ((double)n + k);
	rank_hours(s, f->hours, c->rank, &c->hour);
	c->wday = best_day(w, f->wdays);
}

struct ev {
	int64_t contact;
	signed char hour, wday;
};

static int
cmp_ev(const void *a, const void *b)
{
	int64_t x = ((const struct ev *)a)->contact;
	int64_t y = ((const struct ev *)b)->contact;

	return x < y ? -1 : x > y;
}

int
nudge_besthour_run(nudge_store *st, int64_t end, const char *tz,
    double prior, nudge_besthour_fit *f, nudge_besthour **out, size_t *n,
    nudge_err *err)
{
	/* one scan of the table, sorted here: an index gives the events
	 * in contact order but costs a random page read each for the
	 * props of opens and SQLite's sorter for the rest: 1.56 s of CPU
	 * against 0.48 s, the whole run, for 100,000 contacts and 630,000
	 * opens among 1M events */
	static const char sql[] =
	    "SELECT contact_id, at FROM events NOT INDEXED WHERE type IN"
	    " ('opened', 'clicked') AND at < ?1 AND (type = 'clicked' OR"
	    " coalesce(json_extract(props, '$.proxy'), 'none') NOT IN"
	    " ('apple', 'google', 'yahoo'))";
	sqlite3_stmt *s = NULL;
	struct ev *v = NULL, *nv;
	nudge_besthour *d = NULL;
	size_t nev = 0, cap = 0, i, j, nd = 0;
	long ch[24], cw[7], lh[24] = { 0 }, lw[7] = { 0 };
	char *old;
	int rc, r, h, w;

	*out = NULL;
	*n = 0;
	memset(f, 0, sizeof *f);
	if (tz != NULL && !nudge_tz_known(tz))
		return nudge_errf(err, EX_USAGE, "unknown time zone \"%.64s\"",
		    tz);
	nudge_strcpy(f->tz, sizeof f->tz, tz != NULL ? tz : "UTC");
	f->prior = prior;
	if ((rc = nudge_store_prepare(st, &s, sql, err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, end);
	old = nudge_tz_enter(tz);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (nev == cap) {
			cap = cap > 0 ? 2 * cap : 4096;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL)
				break;
			v = nv;
		}
		v[nev].contact = sqlite3_column_int64(s, 0);
		local_hw(sqlite3_column_int64(s, 1), &h, &w);
		v[nev].hour = (signed char)h;
		v[nev].wday = (signed char)w;
		lh[h]++;
		lw[w]++;
		nev++;
	}
	nudge_tz_leave(old);
	if (nev > 0)
		qsort(v, nev, sizeof *v, cmp_ev);
	if (r == SQLITE_ROW)
		rc = nudge_errf(err, EX_OSERR, "out of memory");
	else if (r != SQLITE_DONE)
		rc = nudge_store_error(st, err, "reading opens and clicks");
	sqlite3_finalize(s);
	if (rc == 0 && nev == 0)
		rc = nudge_errf(err, EX_DATAERR, "no human opens or clicks "
		    "(image proxies' opens left out): nothing to learn the "
		    "best hours from");
	if (rc != 0) {
		free(v);
		return rc;
	}
	f->events = (long)nev;
	for (h = 0; h < 24; h++)
		f->hours[h] = ((double)lh[h] + 1) / ((double)nev + 24);
	for (h = 0; h < 7; h++)
		f->wdays[h] = ((double)lw[h] + 1) / ((double)nev + 7);
	rank_hours(f->hours, f->hours, f->rank, &f->hour);
	f->wday = best_day(f->wdays, f->wdays);
	for (i = 0; i < nev; i = j) {
		for (j = i; j < nev && v[j].contact == v[i].contact; j++)
			;
		nd++;
	}
	if ((d = calloc(nd, sizeof *d)) == NULL) {
		free(v);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	for (i = 0, nd = 0; i < nev; i = j) {
		memset(ch, 0, sizeof ch);
		memset(cw, 0, sizeof cw);
		for (j = i; j < nev && v[j].contact == v[i].contact; j++) {
			ch[(int)v[j].hour]++;
			cw[(int)v[j].wday]++;
		}
		d[nd].contact = v[i].contact;
		blend(ch, cw, (long)(j - i), prior, f, &d[nd]);
		nd++;
	}
	free(v);
	f->contacts = nd;
	*out = d;
	*n = nd;
	return 0;
}

int
nudge_besthour_save(nudge_store *st, nudge_besthour_fit *f,
    const nudge_besthour *d, size_t n, int64_t now, nudge_err *err)
{
	static const char fit_sql[] =
	    "INSERT INTO send_hour_fits (fitted_at, timezone, prior, contacts,"
	    " events, best_hour, best_wday, hours) VALUES (?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7, ?8)";
	static const char row_sql[] =
	    "INSERT INTO send_hours (contact_id, fit_id, events, best_hour,"
	    " best_wday, hours) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *s = NULL;
	size_t i;
	int rc;

	if ((rc = nudge_store_begin(st, err)) != 0)
		return rc;
	if ((rc = nudge_store_prepare(st, &s, fit_sql, err)) != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, f->tz, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 3, f->prior);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)f->contacts);
	sqlite3_bind_int64(s, 5, f->events);
	sqlite3_bind_int(s, 6, f->hour);
	sqlite3_bind_int(s, 7, f->wday);
	sqlite3_bind_text(s, 8, f->rank, 24, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = nudge_store_error(st, err, "recording the hours");
		goto fail;
	}
	f->id = sqlite3_last_insert_rowid(st->db);
	sqlite3_finalize(s);
	s = NULL;
	if ((rc = nudge_store_exec(st, "DELETE FROM send_hours", err)) != 0 ||
	    (rc = nudge_store_prepare(st, &s, row_sql, err)) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(s, 1, d[i].contact);
		sqlite3_bind_int64(s, 2, f->id);
		sqlite3_bind_int64(s, 3, d[i].events);
		sqlite3_bind_int(s, 4, d[i].hour);
		sqlite3_bind_int(s, 5, d[i].wday);
		sqlite3_bind_text(s, 6, d[i].rank, 24, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			rc = nudge_store_error(st, err, "recording the hours");
			goto fail;
		}
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return nudge_store_commit(st, err);
fail:
	sqlite3_finalize(s);
	nudge_store_rollback(st);
	return rc;
}

int
nudge_besthour_start(nudge_store *st, int64_t now, nudge_besthour_now *b,
    nudge_err *err)
{
	static const char sql[] = "SELECT timezone, hours FROM send_hour_fits"
	    " ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *s = NULL;
	time_t tt = (time_t)now;
	struct tm tm;
	char *old;
	int rc, r, h;

	memset(b, 0, sizeof *b);
	b->st = st;
	for (h = 0; h < 24; h++) {
		b->allowed[h] = 1;
		b->rank[h] = (char)('a' + h);
	}
	if ((rc = nudge_store_prepare(st, &s, sql, err)) != 0)
		return rc;
	if ((r = sqlite3_step(s)) == SQLITE_ROW) {
		nudge_strcpy(b->tz, sizeof b->tz,
		    (const char *)sqlite3_column_text(s, 0));
		if (sqlite3_column_bytes(s, 1) == 24)
			memcpy(b->rank, sqlite3_column_text(s, 1), 24);
	} else if (r != SQLITE_DONE) {
		rc = nudge_store_error(st, err, "send_hour_fits");
	}
	sqlite3_finalize(s);
	old = nudge_tz_enter(b->tz[0] != '\0' ? b->tz : NULL);
	b->hour = localtime_r(&tt, &tm) != NULL ? tm.tm_hour : 0;
	nudge_tz_leave(old);
	return rc;
}

void
nudge_besthour_allow(nudge_besthour_now *b, int64_t now, const char *tz,
    int from, int to, int (*quiet)(int64_t, void *), void *arg)
{
	time_t tt = (time_t)now, at;
	struct tm tm;
	int64_t start;
	char *old;
	int j, m, in;

	/* the start of the hour now in the fit's zone (a zone half an hour
	 * off UTC starts its hours at :30 UTC) */
	old = nudge_tz_enter(b->tz[0] != '\0' ? b->tz : NULL);
	if (localtime_r(&tt, &tm) == NULL)
		tm.tm_min = tm.tm_sec = 0;
	nudge_tz_leave(old);
	start = now - tm.tm_min * 60 - tm.tm_sec;
	for (j = 0; j < 24; j++) {
		at = (time_t)(start + 3600 * j);
		in = 1;
		if (from >= 0) {
			old = nudge_tz_enter(tz);
			m = localtime_r(&at, &tm) != NULL ? tm.tm_hour * 60 +
			    tm.tm_min : 0;
			nudge_tz_leave(old);
			in = from < to ? m >= from && m < to : m >= from ||
			    m < to;
		}
		if (in && quiet != NULL && quiet((int64_t)at, arg))
			in = 0;
		if (!in)
			b->allowed[(b->hour + j) % 24] = 0;
	}
}

int
nudge_besthour_check(nudge_store *st, const nudge_campaign *c,
    nudge_buf *notes, nudge_err *err)
{
	sqlite3_stmt *s = NULL;
	size_t i;
	int rc, r, fits = -1;

	for (i = 0; i < c->nsteps; i++) {
		if (!c->steps[i].best_hour)
			continue;
		if (fits < 0) {
			if ((rc = nudge_store_prepare(st, &s, "SELECT EXISTS"
			    " (SELECT 1 FROM send_hour_fits)", err)) != 0)
				return rc;
			r = sqlite3_step(s);
			fits = r == SQLITE_ROW && sqlite3_column_int(s, 0);
			sqlite3_finalize(s);
			if (r != SQLITE_ROW)
				return nudge_store_error(st, err,
				    "send_hour_fits");
		}
		if (!fits && nudge_buf_printf(notes, "%s: step %s sends at each "
		    "contact's best hour, but nudge predict hours has not run: "
		    "every contact would get the window's first hour\n",
		    c->path, c->steps[i].id) == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
	}
	return 0;
}

int
nudge_besthour_due(nudge_besthour_now *b, int64_t contact, int *due,
    nudge_err *err)
{
	static const char sql[] = "SELECT hours FROM send_hours WHERE"
	    " contact_id = ?1";
	const char *rank = b->rank;
	sqlite3_stmt *s;
	int rc, r, i, h;

	*due = 1;
	if ((rc = nudge_store_cached(b->st, sql, &s, err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, contact);
	if ((r = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_bytes(s, 0) == 24)
		rank = (const char *)sqlite3_column_text(s, 0);
	else if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = nudge_store_error(b->st, err, "send_hours");
	for (i = 0; rc == 0 && i < 24; i++) {
		h = rank[i] - 'a';
		if (h >= 0 && h < 24 && b->allowed[h]) {
			*due = h == b->hour;
			break;
		}
	}
	sqlite3_reset(s);
	return rc;
}
