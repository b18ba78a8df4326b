/* abtest: A/B variants with a winner, holdouts with their uplift. */
#include "abtest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "segment.h"

/* z of a two-sided 95% interval, and of a power of 80% */
#define Z95 1.959963984540054
#define Z80 0.8416212335729143

double
nudge_ab_unit(const char *a, const char *b, int64_t contact, char salt)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char num[24];
	const char *p;

	/* FNV-1a over "a\0b\0contact salt", then a splitmix64 finaliser:
	 * FNV alone leaves its high bits poorly mixed for short keys that
	 * differ only in their last digits */
	snprintf(num, sizeof num, "%lld", (long long)contact);
	for (p = a; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ 0) * 0x100000001b3ULL;
	for (p = b; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ 0) * 0x100000001b3ULL;
	for (p = num; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ (unsigned char)salt) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (double)(h >> 11) / 9007199254740992.0;
}

int
nudge_ab_in_test(const nudge_campaign *c, const nudge_step *s,
    int64_t contact)
{
	return s->test_share > 0 && nudge_ab_unit(c->name, s->id, contact,
	    't') < s->test_share;
}

const nudge_variant *
nudge_ab_assign(const nudge_campaign *c, const nudge_step *s,
    int64_t contact)
{
	double total = 0, x;
	size_t i;

	if (s->nvariants == 0)
		return NULL;
	for (i = 0; i < s->nvariants; i++)
		total += s->variants[i].weight;
	x = nudge_ab_unit(c->name, s->id, contact, 'v') * total;
	for (i = 0; i + 1 < s->nvariants; i++) {
		if (x < s->variants[i].weight)
			break;
		x -= s->variants[i].weight;
	}
	return &s->variants[i];
}

const nudge_variant *
nudge_ab_variant(const nudge_step *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->nvariants; i++)
		if (strcmp(s->variants[i].id, id) == 0)
			return &s->variants[i];
	return NULL;
}

int
nudge_ab_held_out(const nudge_campaign *c, double global, int64_t contact)
{
	/* the global share hashes the contact alone: the same contacts
	 * are kept from every campaign */
	if (global > 0 && nudge_ab_unit("", "", contact, 'g') < global)
		return 1;
	return c->holdout > 0 && nudge_ab_unit(c->name, "", contact, 'h') <
	    c->holdout;
}

const char *
nudge_ab_metric_name(enum nudge_ab_metric m)
{
	static const char *const names[] = { "clicked", "opened",
	    "converted", "revenue" };

	return names[m];
}

double
nudge_ab_base_rate(enum nudge_ab_metric m)
{
	return m == NUDGE_AB_CLICKED ? 0.03 : m == NUDGE_AB_OPENED ? 0.20 :
	    0.02;
}

long
nudge_ab_needed(double p0)
{
	double p1 = p0, p2 = p0 * 1.2, pm = (p1 + p2) / 2, n;

	/* the usual sample size of a two-proportion test (Fleiss) */
	n = Z95 * sqrt(2 * pm * (1 - pm)) + Z80 * sqrt(p1 * (1 - p1) +
	    p2 * (1 - p2));
	n = n * n / ((p2 - p1) * (p2 - p1));
	return (long)ceil(n);
}

int
nudge_ab_phase(nudge_store *st, const nudge_campaign *c,
    const nudge_step *s, int64_t now, enum nudge_ab_phase *phase,
    char *winner, size_t len, nudge_err *err)
{
	sqlite3_stmt *q = NULL;
	int rc, r;

	*phase = NUDGE_AB_TESTING;
	if (len > 0)
		*winner = '\0';
	if ((rc = nudge_store_prepare(st, &q, "SELECT winner FROM ab_results "
	    "WHERE campaign = ?1 AND step = ?2", err)) != 0)
		return rc;
	sqlite3_bind_text(q, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, s->id, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(q)) == SQLITE_ROW) {
		snprintf(winner, len, "%s", sqlite3_column_text(q, 0));
		*phase = NUDGE_AB_DECIDED;
	}
	sqlite3_finalize(q);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return nudge_store_error(st, err, "ab_results");
	if (*phase == NUDGE_AB_DECIDED)
		return 0;
	if ((rc = nudge_store_prepare(st, &q, "SELECT min(m.claimed_at) FROM "
	    "messages m WHERE m.campaign_id = (SELECT k.id FROM campaigns k "
	    "WHERE k.name = ?1) AND m.step = ?2 AND m.variant IS NOT NULL",
	    err)) != 0)
		return rc;
	sqlite3_bind_text(q, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, s->id, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(q)) == SQLITE_ROW &&
	    sqlite3_column_type(q, 0) != SQLITE_NULL &&
	    sqlite3_column_int64(q, 0) + s->test_wait <= now)
		*phase = NUDGE_AB_DUE;
	sqlite3_finalize(q);
	if (r != SQLITE_ROW)
		return nudge_store_error(st, err, "messages");
	return 0;
}

/* One variant's figures: n contacts, sum and sum of squares of x (0 or 1
 * a contact, or its revenue). */
struct fig {
	const char *id;
	double n, sum, sq;
};

/* The metric's value of one message row m, as SQL. */
static const char *
metric_sql(enum nudge_ab_metric m)
{
	switch (m) {
	case NUDGE_AB_CLICKED:
		return "EXISTS (SELECT 1 FROM events e WHERE e.contact_id = "
		    "m.contact_id AND e.type = 'clicked' AND e.campaign_id = "
		    "m.campaign_id AND e.step = m.step)";
	case NUDGE_AB_OPENED:
		return "EXISTS (SELECT 1 FROM events e WHERE e.contact_id = "
		    "m.contact_id AND e.type = 'opened' AND e.campaign_id = "
		    "m.campaign_id AND e.step = m.step)";
	case NUDGE_AB_CONVERTED:
		return "EXISTS (SELECT 1 FROM events e WHERE e.contact_id = "
		    "m.contact_id AND e.type = ?3 AND e.at >= m.claimed_at)";
	default:
		return "coalesce((SELECT sum(coalesce(json_extract(e.props, "
		    "'$.total'), 0)) FROM events e WHERE e.contact_id = "
		    "m.contact_id AND e.type = ?3 AND e.at >= m.claimed_at), 0)";
	}
}

/* z of the difference between a and b: pooled for proportions, else of
 * two means; 0 when it cannot be told (a group empty, no variance). */
static double
zscore(const struct fig *a, const struct fig *b, int means)
{
	double pa, pb, p, se, va, vb;

	if (a->n < 1 || b->n < 1)
		return 0;
	pa = a->sum / a->n;
	pb = b->sum / b->n;
	if (!means) {
		p = (a->sum + b->sum) / (a->n + b->n);
		se = sqrt(p * (1 - p) * (1 / a->n + 1 / b->n));
	} else {
		if (a->n < 2 || b->n < 2)
			return 0;
		va = (a->sq - a->n * pa * pa) / (a->n - 1);
		vb = (b->sq - b->n * pb * pb) / (b->n - 1);
		se = sqrt(va / a->n + vb / b->n);
	}
	return se > 0 ? (pa - pb) / se : 0;
}

int
nudge_ab_decide(nudge_store *st, const nudge_campaign *c,
    const nudge_step *s, const char *conversion, int64_t now, int record,
    int *recorded, nudge_buf *why, nudge_err *err)
{
	struct fig *f;
	sqlite3_stmt *q = NULL;
	nudge_buf sql = { 0 };
	const nudge_variant *v;
	size_t i, best = 0, next = (size_t)-1;
	int rc, r, means = s->test_metric == NUDGE_AB_REVENUE, sig;
	double z = 0;

	*recorded = 0;
	nudge_buf_reset(why);
	if ((f = calloc(s->nvariants, sizeof *f)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	for (i = 0; i < s->nvariants; i++)
		f[i].id = s->variants[i].id;
	if (nudge_buf_printf(&sql, "SELECT m.variant, count(*), sum(x), "
	    "sum(x * x) FROM (SELECT m.variant, %s AS x FROM messages m WHERE "
	    "m.campaign_id = (SELECT k.id FROM campaigns k WHERE k.name = ?1) "
	    "AND m.step = ?2 AND m.status = 'sent' AND m.variant IS NOT NULL) "
	    "m GROUP BY m.variant", metric_sql(s->test_metric)) == -1) {
		free(f);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if ((rc = nudge_store_prepare(st, &q, sql.s, err)) != 0)
		goto out;
	sqlite3_bind_text(q, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, s->id, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(q) >= 3)
		sqlite3_bind_text(q, 3, conversion != NULL ? conversion :
		    "purchase", -1, SQLITE_STATIC);
	while ((r = sqlite3_step(q)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(q, 0);

		for (i = 0; i < s->nvariants; i++)
			if (id != NULL && strcmp(f[i].id, id) == 0) {
				f[i].n = sqlite3_column_double(q, 1);
				f[i].sum = sqlite3_column_double(q, 2);
				f[i].sq = sqlite3_column_double(q, 3);
			}
	}
	sqlite3_finalize(q);
	q = NULL;
	if (r != SQLITE_DONE) {
		rc = nudge_store_error(st, err, "messages");
		goto out;
	}
	/* the best by its mean; ties go to the earlier variant */
	for (i = 1; i < s->nvariants; i++)
		if (f[i].n > 0 && (f[best].n == 0 || f[i].sum / f[i].n >
		    f[best].sum / f[best].n))
			best = i;
	for (i = 0; i < s->nvariants; i++)
		if (i != best && (next == (size_t)-1 || (f[i].n > 0 &&
		    (f[next].n == 0 || f[i].sum / f[i].n > f[next].sum /
		    f[next].n))))
			next = i;
	z = zscore(&f[best], &f[next], means);
	sig = fabs(z) >= Z95 && best != next;
	v = &s->variants[sig ? best : 0];
	rc = 0;
	if (nudge_buf_printf(why, "%s: step %s: %s per variant:", c->name,
	    s->id, nudge_ab_metric_name(s->test_metric)) == -1)
		rc = EX_OSERR;
	for (i = 0; i < s->nvariants && rc == 0; i++) {
		double m = f[i].n > 0 ? f[i].sum / f[i].n : 0;

		if ((means ? nudge_buf_printf(why, "%s %s %.2f a contact "
		    "(%.0f contacts)", i > 0 ? "," : "", f[i].id, m, f[i].n) :
		    nudge_buf_printf(why, "%s %s %.0f/%.0f (%.1f%%)", i > 0 ?
		    "," : "", f[i].id, f[i].sum, f[i].n, 100 * m)) == -1)
			rc = EX_OSERR;
	}
	if (rc == 0 && (sig ? nudge_buf_printf(why, "; %s against %s: z = "
	    "%.2f, significant at 95%%: sending %s to the rest", f[best].id,
	    f[next].id, z, v->id) : nudge_buf_printf(why, "; %s against %s: "
	    "z = %.2f: no significant difference: sending the first variant "
	    "(%s) to the rest", f[best].id, f[next].id, z, v->id)) == -1)
		rc = EX_OSERR;
	if (rc != 0) {
		rc = nudge_errf(err, EX_OSERR, "out of memory");
		goto out;
	}
	if (!record)
		goto out;
	if ((rc = nudge_store_run(st, "ab_results", err, NULL, "INSERT"
	    " INTO ab_results (campaign, step, winner, metric, significant, why,"
	    " decided_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
	    " ON CONFLICT DO NOTHING", "ttttiti", c->name, s->id, v->id,
	    nudge_ab_metric_name(s->test_metric), (int64_t)sig, why->s,
	    now)) == 0)
		*recorded = sqlite3_changes(st->db) == 1;
out:
	sqlite3_finalize(q);
	nudge_buf_free(&sql);
	free(f);
	return rc;
}

/* Writes "+1.23" or "-1.23" with d decimals. */
static const char *
sgn(char *b, size_t len, double x, int d)
{
	snprintf(b, len, "%+.*f", d, x == 0 ? 0.0 : x);
	return b;
}

/* Prepares sql into *q with ?1 the campaign, ?2 the conversion event
 * type (purchase by default) and ?3 the window in seconds (7 days by
 * default). */
static int
campaign_query(nudge_store *st, const char *sql, const char *campaign,
    const char *conversion, int64_t window, sqlite3_stmt **q, nudge_err *err)
{
	int rc;

	if ((rc = nudge_store_prepare(st, q, sql, err)) != 0)
		return rc;
	sqlite3_bind_text(*q, 1, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(*q, 2, conversion != NULL ? conversion : "purchase",
	    -1, SQLITE_STATIC);
	sqlite3_bind_int64(*q, 3, window > 0 ? window : 7 * 86400);
	return 0;
}

int
nudge_ab_uplift(nudge_store *st, const char *campaign,
    const char *conversion, int64_t window, FILE *fp, nudge_err *err)
{
	/* per contact of the campaign: held out or treated, whether it
	 * converted within the window after its first row, its revenue */
	static const char sql[] =
	    "WITH p AS (SELECT m.contact_id, min(m.claimed_at) AS t0,"
	    " max(m.status = 'held-out') AS held, max(m.status = 'sent') AS"
	    " sent FROM messages m WHERE m.campaign_id = (SELECT k.id FROM"
	    " campaigns k WHERE k.name = ?1) GROUP BY m.contact_id),"
	    " x AS (SELECT p.held, EXISTS (SELECT 1 FROM events e WHERE"
	    " e.contact_id = p.contact_id AND e.type = ?2 AND e.at >= p.t0"
	    " AND e.at <= p.t0 + ?3) AS conv, coalesce((SELECT"
	    " sum(coalesce(json_extract(e.props, '$.total'), 0)) FROM events e"
	    " WHERE e.contact_id = p.contact_id AND e.type = ?2 AND e.at >="
	    " p.t0 AND e.at <= p.t0 + ?3), 0) AS rev FROM p WHERE p.held OR"
	    " p.sent)"
	    " SELECT held, count(*), sum(conv), sum(rev), sum(rev * rev)"
	    " FROM x GROUP BY held ORDER BY held";
	sqlite3_stmt *q = NULL;
	double n[2] = { 0 }, k[2] = { 0 }, r[2] = { 0 }, rr[2] = { 0 };
	double p[2], m[2], v[2], d, se, lo, hi, dm, sem;
	char b1[32], b2[32], b3[32];
	int rc, s, g;

	if ((rc = campaign_query(st, sql, campaign, conversion, window, &q,
	    err)) != 0)
		return rc;
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		g = sqlite3_column_int(q, 0) != 0;
		n[g] = sqlite3_column_double(q, 1);
		k[g] = sqlite3_column_double(q, 2);
		r[g] = sqlite3_column_double(q, 3);
		rr[g] = sqlite3_column_double(q, 4);
	}
	sqlite3_finalize(q);
	if (s != SQLITE_DONE)
		return nudge_store_error(st, err, "messages");
	if (n[1] == 0)
		return 0;
	for (g = 0; g < 2; g++) {
		p[g] = n[g] > 0 ? k[g] / n[g] : 0;
		m[g] = n[g] > 0 ? r[g] / n[g] : 0;
		v[g] = n[g] > 1 ? (rr[g] - n[g] * m[g] * m[g]) / (n[g] - 1) : 0;
	}
	d = p[0] - p[1];
	se = n[0] > 0 ? sqrt(p[0] * (1 - p[0]) / n[0] + p[1] * (1 - p[1]) /
	    n[1]) : 0;
	lo = d - Z95 * se;
	hi = d + Z95 * se;
	dm = m[0] - m[1];
	sem = n[0] > 0 ? sqrt(v[0] / n[0] + v[1] / n[1]) : 0;
	fprintf(fp, "holdout of %s: %.0f contacts treated, %.0f held out\n",
	    campaign, n[0], n[1]);
	fprintf(fp, "conversion rate: treated %.2f%% (%.0f/%.0f), held out "
	    "%.2f%% (%.0f/%.0f)\n", 100 * p[0], k[0], n[0], 100 * p[1], k[1],
	    n[1]);
	fprintf(fp, "uplift: %s points (95%% interval %s to %s)", sgn(b1,
	    sizeof b1, 100 * d, 2), sgn(b2, sizeof b2, 100 * lo, 2), sgn(b3,
	    sizeof b3, 100 * hi, 2));
	if (p[1] > 0)
		fprintf(fp, ", relative %s%% (95%% interval %s%% to %s%%)\n",
		    sgn(b1, sizeof b1, 100 * d / p[1], 1), sgn(b2, sizeof b2,
		    100 * lo / p[1], 1), sgn(b3, sizeof b3, 100 * hi / p[1],
		    1));
	else
		fputs(", relative: none (no held-out contact converted)\n", fp);
	fprintf(fp, "revenue per contact: treated %.2f, held out %.2f, uplift "
	    "%s (95%% interval %s to %s)\n", m[0], m[1], sgn(b1, sizeof b1,
	    dm, 2), sgn(b2, sizeof b2, dm - Z95 * sem, 2), sgn(b3, sizeof b3,
	    dm + Z95 * sem, 2));
	if (lo <= 0 && hi >= 0)
		fputs("the conversion interval includes zero: these groups are "
		    "too small to tell whether the campaign made a difference\n",
		    fp);
	else
		fprintf(fp, "the campaign %s conversion: 95 times in 100, an "
		    "interval drawn this way holds the true uplift\n", d > 0 ?
		    "raised" : "lowered");
	if (fflush(fp) == EOF || ferror(fp))
		return nudge_errf(err, EX_IOERR, "stdout: write error");
	return 0;
}

/* Writes "name: best hour P% (k/n), fixed time P% (k/n), difference
 * D points (95% interval L to H)" for k[0]/n[0] (best hour) against
 * k[1]/n[1]; returns whether the interval excludes zero. */
static int
rate_line(FILE *fp, const char *name, const double *k, const double *n)
{
	double p0 = n[0] > 0 ? k[0] / n[0] : 0, p1 = n[1] > 0 ? k[1] / n[1] : 0;
	double d = p0 - p1, se = n[0] > 0 && n[1] > 0 ? sqrt(p0 * (1 - p0) /
	    n[0] + p1 * (1 - p1) / n[1]) : 0;
	char b1[32], b2[32], b3[32];

	fprintf(fp, "%s: best hour %.2f%% (%.0f/%.0f), fixed time %.2f%% "
	    "(%.0f/%.0f), difference %s points (95%% interval %s to %s)\n",
	    name, 100 * p0, k[0], n[0], 100 * p1, k[1], n[1], sgn(b1,
	    sizeof b1, 100 * d, 2), sgn(b2, sizeof b2, 100 * (d - Z95 * se),
	    2), sgn(b3, sizeof b3, 100 * (d + Z95 * se), 2));
	return se > 0 && (d - Z95 * se > 0 || d + Z95 * se < 0);
}

/* per message of a best-hour step: its group, and whether the
 * contact opened it (not an image proxy's fetch), clicked it, or
 * converted within the window after it */
static const char best_hour_sql[] =
    "SELECT m.variant = 'fixed-time', count(*),"
    " sum(EXISTS (SELECT 1 FROM events e WHERE e.contact_id ="
    " m.contact_id AND e.type = 'opened' AND e.campaign_id ="
    " m.campaign_id AND e.step = m.step AND coalesce(json_extract("
    " e.props, '$.proxy'), 'none') NOT IN ('apple', 'google',"
    " 'yahoo'))),"
    " sum(EXISTS (SELECT 1 FROM events e WHERE e.contact_id ="
    " m.contact_id AND e.type = 'clicked' AND e.campaign_id ="
    " m.campaign_id AND e.step = m.step)),"
    " sum(EXISTS (SELECT 1 FROM events e WHERE e.contact_id ="
    " m.contact_id AND e.type = ?2 AND e.at >= m.claimed_at AND"
    " e.at <= m.claimed_at + ?3))"
    " FROM messages m WHERE m.campaign_id = (SELECT k.id FROM"
    " campaigns k WHERE k.name = ?1) AND m.status = 'sent' AND"
    " m.variant IN ('best-hour', 'fixed-time') GROUP BY 1 ORDER BY 1";

int
nudge_ab_best_hour(nudge_store *st, const char *campaign,
    const char *conversion, int64_t window, FILE *fp, nudge_err *err)
{
	static const char *const names[] = { "opened", "clicked",
	    "converted" };
	sqlite3_stmt *q = NULL;
	double n[2] = { 0 }, k[3][2] = { { 0 } };
	int rc, s, g, j, sig = 0;

	if ((rc = campaign_query(st, best_hour_sql, campaign, conversion,
	    window, &q, err)) != 0)
		return rc;
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		g = sqlite3_column_int(q, 0) != 0;
		n[g] = sqlite3_column_double(q, 1);
		for (j = 0; j < 3; j++)
			k[j][g] = sqlite3_column_double(q, 2 + j);
	}
	sqlite3_finalize(q);
	if (s != SQLITE_DONE)
		return nudge_store_error(st, err, "messages");
	if (n[0] + n[1] == 0)
		return 0;
	fprintf(fp, "best hour of %s: %.0f messages sent at the contact's "
	    "best hour, %.0f at the fixed time\n", campaign, n[0], n[1]);
	for (j = 0; j < 3; j++)
		sig |= rate_line(fp, names[j], k[j], n) << j;
	if (sig == 0)
		fputs("every interval includes zero: these groups are too small "
		    "to tell whether the best hour made a difference\n", fp);
	for (j = 0; j < 3; j++)
		if (sig & (1 << j))
			fprintf(fp, "the best hour %s the %s rate: 95 times in "
			    "100, an interval drawn this way holds the true "
			    "difference\n", k[j][0] / n[0] > k[j][1] / n[1] ?
			    "raised" : "lowered", names[j]);
	if (fflush(fp) == EOF || ferror(fp))
		return nudge_errf(err, EX_IOERR, "stdout: write error");
	return 0;
}

int
nudge_ab_decisions(nudge_store *st, const char *campaign, FILE *fp,
    nudge_err *err)
{
	sqlite3_stmt *q = NULL;
	int rc, s;

	if ((rc = nudge_store_prepare(st, &q, "SELECT why FROM ab_results"
	    " WHERE campaign = ?1 ORDER BY decided_at, step", err)) != 0)
		return rc;
	sqlite3_bind_text(q, 1, campaign, -1, SQLITE_STATIC);
	while ((s = sqlite3_step(q)) == SQLITE_ROW)
		fprintf(fp, "winner: %s\n", (const char *)
		    sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	if (s != SQLITE_DONE)
		return nudge_store_error(st, err, "ab_results");
	if (fflush(fp) == EOF || ferror(fp))
		return nudge_errf(err, EX_IOERR, "stdout: write error");
	return 0;
}

int
nudge_ab_report(nudge_store *st, const char *campaign,
    const char *conversion, int kind, FILE *fp, nudge_err *err)
{
	static const char *const cols[] = { "campaign", "step", "variant",
	    "contacts", "opened", "clicked", "converted", "revenue",
	    "decision" };
	static const char sql[] =
	    "SELECT k.name, m.step, m.variant, count(*),"
	    " sum(EXISTS (SELECT 1 FROM events e WHERE e.contact_id ="
	    " m.contact_id AND e.type = 'opened' AND e.campaign_id ="
	    " m.campaign_id AND e.step = m.step)),"
	    " sum(EXISTS (SELECT 1 FROM events e WHERE e.contact_id ="
	    " m.contact_id AND e.type = 'clicked' AND e.campaign_id ="
	    " m.campaign_id AND e.step = m.step)),"
	    " sum(EXISTS (SELECT 1 FROM events e WHERE e.contact_id ="
	    " m.contact_id AND e.type = ?2 AND e.at >= m.claimed_at)),"
	    " round(sum(coalesce((SELECT sum(coalesce(json_extract(e.props,"
	    " '$.total'), 0)) FROM events e WHERE e.contact_id = m.contact_id"
	    " AND e.type = ?2 AND e.at >= m.claimed_at), 0)), 2),"
	    " coalesce((SELECT CASE WHEN r.winner = m.variant THEN 'winner: '"
	    " || r.why ELSE '' END FROM ab_results r WHERE r.campaign = k.name"
	    " AND r.step = m.step), '')"
	    " FROM messages m JOIN campaigns k ON k.id = m.campaign_id"
	    " WHERE m.status = 'sent' AND m.variant IS NOT NULL"
	    " AND (?1 IS NULL OR k.name = ?1)"
	    " GROUP BY k.name, m.step, m.variant ORDER BY k.name, m.step,"
	    " m.variant";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = nudge_store_prepare(st, &q, sql, err)) != 0)
		return rc;
	if (campaign != NULL)
		sqlite3_bind_text(q, 1, campaign, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, conversion != NULL ? conversion : "purchase",
	    -1, SQLITE_STATIC);
	return nudge_fmt_query(fp, (enum nudge_fmt_kind)kind, cols, 9, st, q,
	    "messages", err);
}

int
nudge_ab_has_test(const nudge_campaign *c)
{
	size_t i;

	for (i = 0; i < c->nsteps; i++)
		if (c->steps[i].test_share > 0)
			return 1;
	return 0;
}

int
nudge_ab_check(nudge_store *st, const nudge_campaign *c, int64_t now,
    nudge_buf *notes, nudge_err *err)
{
	nudge_seg_ctx ctx = { .campaign = c->name };
	nudge_seg seg;
	nudge_err e;
	int64_t aud = -1;
	double p0, share, w, total;
	long need;
	size_t i, j;
	int rc;

	for (i = 0; i < c->nsteps; i++) {
		const nudge_step *s = &c->steps[i];

		if (s->test_share == 0)
			continue;
		if (st != NULL && aud < 0) {
			nudge_seg q;

			memset(&q, 0, sizeof q);
			if ((rc = nudge_seg_compile_ctx(st, NULL, c->audience,
			    now, &ctx, &seg, &e)) == 0 && (rc =
			    nudge_seg_select(&seg, NULL, 0, 1, &q, &e)) == 0)
				rc = nudge_seg_count(st, &q, &aud, &e);
			nudge_seg_free(&seg);
			nudge_seg_free(&q);
			if (rc != 0)
				return nudge_errf(err, rc, "%s: audience: %s",
				    c->path, e.msg);
		}
		p0 = nudge_ab_base_rate(s->test_metric);
		need = nudge_ab_needed(p0);
		total = 0;
		w = s->variants[0].weight;
		for (j = 0; j < s->nvariants; j++) {
			total += s->variants[j].weight;
			if (s->variants[j].weight < w)
				w = s->variants[j].weight;
		}
		/* the smallest variant's contacts in the test share */
		share = s->test_share * w / total;
		if (aud >= 0 && (double)aud * share >= (double)need)
			continue;
		if (aud >= 0 ? nudge_buf_printf(notes, "%s:%ld:%ld: steps[%zu]: "
		    "test: too small: its smallest variant gets about %.0f of "
		    "the %lld contacts in the audience now, and telling a 20%% "
		    "relative difference in %s from a base rate of %.0f%% "
		    "(95%%, power 80%%) needs %ld a variant\n", c->path,
		    s->line, s->col, i + 1, (double)aud * share,
		    (long long)aud, nudge_ab_metric_name(s->test_metric),
		    100 * p0, need) : nudge_buf_printf(notes, "%s:%ld:%ld: "
		    "steps[%zu]: test: telling a 20%% relative difference in %s "
		    "from a base rate of %.0f%% (95%%, power 80%%) needs %ld "
		    "contacts a variant: an audience of %.0f or more (no store "
		    "to count it)\n", c->path, s->line, s->col, i + 1,
		    nudge_ab_metric_name(s->test_metric), 100 * p0, need,
		    ceil((double)need / share)) == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
	}
	return 0;
}

int
nudge_ab_settle(nudge_store *st, const nudge_campaign *c, int64_t now,
    int record, nudge_buf *notes, nudge_err *err)
{
	enum nudge_ab_phase ph;
	nudge_buf why = { 0 };
	char w[72];
	size_t i;
	int rc = 0, done;

	for (i = 0; i < c->nsteps && rc == 0; i++) {
		const nudge_step *s = &c->steps[i];

		if (s->test_share == 0)
			continue;
		if ((rc = nudge_ab_phase(st, c, s, now, &ph, w, sizeof w,
		    err)) != 0 || ph != NUDGE_AB_DUE)
			continue;
		if ((rc = nudge_ab_decide(st, c, s, NULL, now, record, &done,
		    &why, err)) != 0)
			break;
		if ((done || !record) && nudge_buf_printf(notes, "%s%s\n",
		    why.s, record ? "" : " (dry run: not recorded)") == -1)
			rc = nudge_errf(err, EX_OSERR, "out of memory");
	}
	nudge_buf_free(&why);
	return rc;
}
