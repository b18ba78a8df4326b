/* predict: BG/NBD and Gamma-Gamma, fitted and applied (predict.h). */
#include "predict.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#define MAXN 8

/* ---- the optimiser ---- */

static int
nm_run(double (*f)(const double *, void *), void *ctx, double *x, int n,
    double step, double xtol, double ftol, int maxeval, int *evals)
{
	double s[MAXN + 1][MAXN], fv[MAXN + 1], c[MAXN], xr[MAXN], xe[MAXN];
	double fr, fe, diam;
	int i, j, lo, hi, nh;

	if (n < 1 || n > MAXN)
		return -1;
	for (i = 0; i <= n; i++) {
		memcpy(s[i], x, sizeof(double) * (size_t)n);
		if (i > 0)
			s[i][i - 1] += step;
		fv[i] = f(s[i], ctx);
		(*evals)++;
		if (!isfinite(fv[i]))
			fv[i] = HUGE_VAL;
	}
	if (fv[0] == HUGE_VAL)
		return -1;
	for (;;) {
		lo = hi = 0;
		for (i = 1; i <= n; i++) {
			if (fv[i] < fv[lo])
				lo = i;
			if (fv[i] > fv[hi])
				hi = i;
		}
		nh = lo == 0 ? 1 : 0;
		for (i = 0; i <= n; i++)
			if (i != hi && fv[i] > fv[nh])
				nh = i;
		diam = 0;
		for (i = 0; i <= n; i++)
			for (j = 0; j < n; j++)
				diam = fmax(diam, fabs(s[i][j] - s[lo][j]));
		if (diam < xtol &&
		    fv[hi] - fv[lo] <= ftol * (1 + fabs(fv[lo]))) {
			memcpy(x, s[lo], sizeof(double) * (size_t)n);
			return 0;
		}
		if (*evals >= maxeval) {
			memcpy(x, s[lo], sizeof(double) * (size_t)n);
			return -1;
		}
		for (j = 0; j < n; j++) {
			c[j] = 0;
			for (i = 0; i <= n; i++)
				if (i != hi)
					c[j] += s[i][j];
			c[j] /= n;
		}
		for (j = 0; j < n; j++)
			xr[j] = c[j] + (c[j] - s[hi][j]);
		fr = f(xr, ctx);
		(*evals)++;
		if (!isfinite(fr))
			fr = HUGE_VAL;
		if (fr < fv[lo]) {
			for (j = 0; j < n; j++)
				xe[j] = c[j] + 2 * (c[j] - s[hi][j]);
			fe = f(xe, ctx);
			(*evals)++;
			if (isfinite(fe) && fe < fr) {
				memcpy(s[hi], xe, sizeof(double) * (size_t)n);
				fv[hi] = fe;
			} else {
				memcpy(s[hi], xr, sizeof(double) * (size_t)n);
				fv[hi] = fr;
			}
			continue;
		}
		if (fr < fv[nh]) {
			memcpy(s[hi], xr, sizeof(double) * (size_t)n);
			fv[hi] = fr;
			continue;
		}
		/* contract: outside when the reflection beat the worst */
		for (j = 0; j < n; j++)
			xe[j] = fr < fv[hi] ? c[j] + 0.5 * (xr[j] - c[j]) :
			    c[j] + 0.5 * (s[hi][j] - c[j]);
		fe = f(xe, ctx);
		(*evals)++;
		if (isfinite(fe) && fe < fmin(fr, fv[hi])) {
			memcpy(s[hi], xe, sizeof(double) * (size_t)n);
			fv[hi] = fe;
			continue;
		}
		/* shrink toward the best */
		for (i = 0; i <= n; i++) {
			if (i == lo)
				continue;
			for (j = 0; j < n; j++)
				s[i][j] = s[lo][j] + 0.5 * (s[i][j] - s[lo][j]);
			fv[i] = f(s[i], ctx);
			(*evals)++;
			if (!isfinite(fv[i]))
				fv[i] = HUGE_VAL;
		}
	}
}

static int
minimize(double (*f)(const double *, void *), void *ctx, double *x, int n,
    double step, double xtol, double ftol, int maxeval, int *evals)
{
	double prev;
	int k;

	if (n < 1 || n > MAXN)
		return -1;
	prev = f(x, ctx);
	(*evals)++;
	if (!isfinite(prev))
		return -1;
	/* A simplex can collapse onto a false floor of a curved valley;
	 * starting again from its best point until that point stays is the
	 * usual cure (Numerical Recipes, 10.4). */
	for (k = 0; k < 20; k++) {
		double now;

		if (nm_run(f, ctx, x, n, step, xtol, ftol, maxeval, evals) != 0)
			return -1;
		now = f(x, ctx);
		(*evals)++;
		if (prev - now <= ftol * (1 + fabs(now)))
			return 0;
		prev = now;
	}
	return -1;
}

int
nudge_predict_minimize(double (*f)(const double *, void *), void *ctx,
    double *x, int n, double xtol, double ftol, int maxeval, int *evals)
{
	*evals = 0;
	/* a first step of 0.5 in log space: a factor 1.65 */
	return minimize(f, ctx, x, n, 0.5, xtol, ftol, maxeval, evals);
}

/* More customers than this, and a fit first runs on an evenly spaced
 * sample of about this many, then from there on all of them with a
 * small first simplex: the sample's estimates are within a few per cent
 * of the full data's, so the full fit takes a third of the
 * evaluations. */
#define SAMPLE 50000

/* ---- special functions ---- */

double
nudge_predict_hyp2f1(double a, double b, double c, double z)
{
	double term = 1, sum = 1;
	int k;

	for (k = 0; k < 200000; k++) {
		term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z;
		sum += term;
		if (fabs(term) <= 1e-15 * fabs(sum))
			return sum;
	}
	return NAN;
}

static double
logsumexp(double u, double v)
{
	double m = fmax(u, v);

	if (m == -HUGE_VAL)
		return m;
	return m + log(exp(u - m) + exp(v - m));
}

/* ---- BG/NBD ---- */

double
nudge_predict_bgnbd_ll(const nudge_bgnbd *m, const nudge_rfm *d, size_t n)
{
	double r = m->r, al = m->alpha, a = m->a, b = m->b, ll = 0;
	double c1 = -lgamma(r) + r * log(al) + lgamma(a + b) - lgamma(b);
	size_t i;

	for (i = 0; i < n; i++) {
		double x = d[i].x, t1, t2, t3;

		/* ln[Γ(r+x) α^r / Γ(r)] + ln[B(a, b+x) / B(a, b)] */
		t1 = lgamma(r + x) + lgamma(b + x) - lgamma(a + b + x) + c1;
		t2 = -(r + x) * log(al + d[i].T);
		t3 = x > 0 ? log(a) - log(b + x - 1) -
		    (r + x) * log(al + d[i].tx) : -HUGE_VAL;
		ll += t1 + logsumexp(t2, t3);
	}
	return ll;
}

/*
 * The likelihood as the optimiser sees it, on data packed for speed: a
 * fit takes some 500 evaluations, and on a million customers the
 * straightforward sum (three lgamma and three logs a customer) takes
 * minutes.  Customers with the same (x, tx, T) are one row with a
 * weight; the lgamma terms depend on x alone and are computed once per
 * distinct x and evaluation; when tx and T are whole days (as
 * nudge_predict_load makes them), log(alpha + t) is a table by day.
 * What is left a customer is one exp and one log1p.
 */
struct packed {
	double x, tx, T, w;
	uint32_t xi, txd, Td;   /* index of x in xs; days, when days */
};

struct pctx {
	struct packed *v;
	size_t n;
	double *xs;             /* the distinct x, ascending */
	size_t nx;
	double *ax, *bx;        /* per x, per evaluation */
	uint32_t ndays;         /* 0: tx and T are not whole days */
	double *lt;             /* log(alpha + d / 7), per evaluation */
};

static int
cmp_packed(const void *u, const void *v)
{
	const struct packed *a = u, *b = v;

	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	if (a->T != b->T)
		return a->T < b->T ? -1 : 1;
	if (a->tx != b->tx)
		return a->tx < b->tx ? -1 : 1;
	return 0;
}

static void
pack_free(struct pctx *pc)
{
	free(pc->v);
	free(pc->xs);
	free(pc->ax);
	free(pc->bx);
	free(pc->lt);
}

static int
pack(struct pctx *pc, const nudge_rfm *d, size_t n)
{
	size_t i, k;
	double maxday = 0;
	int days = 1;

	memset(pc, 0, sizeof(*pc));
	if ((pc->v = calloc(n ? n : 1, sizeof(*pc->v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		pc->v[i] = (struct packed){ d[i].x, d[i].tx, d[i].T, 1, 0, 0,
			0 };
		if (fabs(d[i].tx * 7 - round(d[i].tx * 7)) > 1e-6 ||
		    fabs(d[i].T * 7 - round(d[i].T * 7)) > 1e-6 ||
		    d[i].tx < 0 || d[i].T < 0)
			days = 0;
		maxday = fmax(maxday, round(d[i].T * 7));
	}
	qsort(pc->v, n, sizeof(*pc->v), cmp_packed);
	for (i = 0, k = 0; i < n; i++) {
		if (k > 0 && cmp_packed(&pc->v[k - 1], &pc->v[i]) == 0)
			pc->v[k - 1].w += 1;
		else
			pc->v[k++] = pc->v[i];
	}
	pc->n = k;
	pc->xs = malloc((k ? k : 1) * sizeof(double));
	if (pc->xs == NULL)
		return -1;
	for (i = 0; i < k; i++) {
		if (pc->nx == 0 || pc->xs[pc->nx - 1] != pc->v[i].x)
			pc->xs[pc->nx++] = pc->v[i].x;
		pc->v[i].xi = (uint32_t)(pc->nx - 1);
	}
	pc->ax = malloc((pc->nx ? pc->nx : 1) * sizeof(double));
	pc->bx = malloc((pc->nx ? pc->nx : 1) * sizeof(double));
	if (pc->ax == NULL || pc->bx == NULL)
		return -1;
	if (days && maxday < 1e6) {
		pc->ndays = (uint32_t)maxday + 1;
		if ((pc->lt = malloc(pc->ndays * sizeof(double))) == NULL)
			return -1;
		for (i = 0; i < k; i++) {
			pc->v[i].txd = (uint32_t)round(pc->v[i].tx * 7);
			pc->v[i].Td = (uint32_t)round(pc->v[i].T * 7);
		}
	}
	return 0;
}

static double
bgnbd_neg(const double *lx, void *ctx)
{
	struct pctx *pc = ctx;
	double r = exp(lx[0]), al = exp(lx[1]), a = exp(lx[2]), b = exp(lx[3]);
	double c1 = -lgamma(r) + r * log(al) + lgamma(a + b) - lgamma(b);
	double la = log(a), ll = 0, t2, t3, m;
	size_t i;

	for (i = 0; i < pc->nx; i++) {
		double x = pc->xs[i];

		pc->ax[i] = lgamma(r + x) + lgamma(b + x) - lgamma(a + b + x) +
		    c1;
		pc->bx[i] = x > 0 ? la - log(b + x - 1) : 0;
	}
	for (i = 0; i < pc->ndays; i++)
		pc->lt[i] = log(al + (double)i / 7);
	for (i = 0; i < pc->n; i++) {
		const struct packed *c = &pc->v[i];
		double rx = r + c->x;

		t2 = -rx * (pc->ndays ? pc->lt[c->Td] : log(al + c->T));
		if (c->x > 0) {
			t3 = pc->bx[c->xi] - rx * (pc->ndays ?
			    pc->lt[c->txd] : log(al + c->tx));
			m = fmax(t2, t3);
			t2 = m + log1p(exp(-fabs(t2 - t3)));
		}
		ll += c->w * (pc->ax[c->xi] + t2);
	}
	return isfinite(ll) ? -ll : HUGE_VAL;
}

static int
bgnbd_min(const nudge_rfm *d, size_t n, double *lx, double step, int *evals)
{
	struct pctx pc;
	int rc;

	if (pack(&pc, d, n) != 0) {
		pack_free(&pc);
		return -2;
	}
	rc = minimize(bgnbd_neg, &pc, lx, 4, step, 1e-5, 1e-12, 5000, evals);
	pack_free(&pc);
	return rc;
}

int
nudge_predict_bgnbd_fit(const nudge_rfm *d, size_t n, nudge_bgnbd *m,
    nudge_err *err)
{
	double lx[4] = { 0, 0, 0, 0 }, step = 0.5;
	size_t i, rep = 0;
	int rc;

	for (i = 0; i < n; i++)
		rep += d[i].x > 0;
	if (rep == 0)
		return nudge_errf(err, EX_DATAERR,
		    "no customer bought twice: nothing to fit");
	m->evals = 0;
	if (n > 2 * SAMPLE) {
		size_t every = n / SAMPLE, k = 0;
		nudge_rfm *sub = malloc((n / every + 1) * sizeof(*sub));

		if (sub == NULL)
			return nudge_errf(err, EX_OSERR, "out of memory");
		for (i = 0; i < n; i += every)
			sub[k++] = d[i];
		rc = bgnbd_min(sub, k, lx, 0.5, &m->evals);
		free(sub);
		if (rc == -2)
			return nudge_errf(err, EX_OSERR, "out of memory");
		if (rc == 0)
			step = 0.1;
		else
			memset(lx, 0, sizeof(lx));
	}
	rc = bgnbd_min(d, n, lx, step, &m->evals);
	if (rc == -2)
		return nudge_errf(err, EX_OSERR, "out of memory");
	if (rc != 0)
		return nudge_errf(err, EX_DATAERR, "the repeat-purchase model "
		    "does not converge on these data (%d evaluations)",
		    m->evals);
	m->r = exp(lx[0]);
	m->alpha = exp(lx[1]);
	m->a = exp(lx[2]);
	m->b = exp(lx[3]);
	m->ll = nudge_predict_bgnbd_ll(m, d, n);
	return 0;
}

double
nudge_predict_p_alive(const nudge_bgnbd *m, double x, double tx, double T)
{
	double l;

	if (x <= 0)
		return 1;
	l = log(m->a) - log(m->b + x - 1) +
	    (m->r + x) * (log(m->alpha + T) - log(m->alpha + tx));
	return 1 / (1 + exp(l));
}

double
nudge_predict_expected(const nudge_bgnbd *m, double t, double x,
    double tx, double T)
{
	double r = m->r, al = m->alpha, a = m->a, b = m->b, z, h, num;

	if (t <= 0)
		return 0;
	z = t / (al + T + t);
	/* ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)
	 *   = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)  (Euler) */
	h = nudge_predict_hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z);
	num = (a + b + x - 1) / (a - 1) * (1 - pow(1 - z, a - 1) * h);
	return num * nudge_predict_p_alive(m, x, tx, T);
}

/* ---- Gamma-Gamma ---- */

double
nudge_predict_gg_ll(const nudge_gg *m, const nudge_rfm *d, size_t n)
{
	double p = m->p, q = m->q, g = m->gamma, ll = 0;
	double c = -lgamma(q) + q * log(g);
	size_t i;

	for (i = 0; i < n; i++) {
		double x = d[i].x, mx = d[i].mx, px = p * x;

		if (x <= 0 || mx <= 0)
			continue;
		ll += lgamma(px + q) - lgamma(px) + c + (px - 1) * log(mx) +
		    px * log(x) - (px + q) * log(g + x * mx);
	}
	return ll;
}

/* The repeat buyers packed as for BG/NBD: sorted by x, so that the
 * lgamma terms are computed once per distinct x and evaluation, and
 * with log(mx) computed once. */
struct ggrow {
	double x, mx, lmx;
	uint32_t xi;
};

struct ggctx {
	struct ggrow *v;
	size_t n;
	double *xs, *cx;
	size_t nx;
};

static int
cmp_ggrow(const void *u, const void *v)
{
	const struct ggrow *a = u, *b = v;

	return a->x < b->x ? -1 : a->x > b->x;
}

static double
gg_neg(const double *lx, void *ctx)
{
	struct ggctx *gc = ctx;
	double p = exp(lx[0]), q = exp(lx[1]), g = exp(lx[2]), ll = 0;
	double c = -lgamma(q) + q * log(g);
	size_t i;

	for (i = 0; i < gc->nx; i++) {
		double px = p * gc->xs[i];

		gc->cx[i] = lgamma(px + q) - lgamma(px) + c +
		    px * log(gc->xs[i]);
	}
	for (i = 0; i < gc->n; i++) {
		const struct ggrow *r = &gc->v[i];
		double px = p * r->x;

		ll += gc->cx[r->xi] + (px - 1) * r->lmx -
		    (px + q) * log(g + r->x * r->mx);
	}
	return isfinite(ll) ? -ll : HUGE_VAL;
}

int
nudge_predict_gg_fit(const nudge_rfm *d, size_t n, nudge_gg *m,
    nudge_err *err)
{
	struct ggctx gc = { 0 };
	double lx[3] = { 0, 0, 0 };
	size_t i, k = 0;
	int rc;

	for (i = 0; i < n; i++)
		k += d[i].x > 0 && d[i].mx > 0;
	if (k == 0)
		return nudge_errf(err, EX_DATAERR,
		    "no repeat purchase has a total: no order value to fit");
	gc.v = malloc(k * sizeof(*gc.v));
	gc.xs = malloc(k * sizeof(double));
	gc.cx = malloc(k * sizeof(double));
	if (gc.v == NULL || gc.xs == NULL || gc.cx == NULL) {
		free(gc.v);
		free(gc.xs);
		free(gc.cx);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	for (i = 0; i < n; i++)
		if (d[i].x > 0 && d[i].mx > 0)
			gc.v[gc.n++] = (struct ggrow){ d[i].x, d[i].mx,
				log(d[i].mx), 0 };
	qsort(gc.v, gc.n, sizeof(*gc.v), cmp_ggrow);
	for (i = 0; i < gc.n; i++) {
		if (gc.nx == 0 || gc.xs[gc.nx - 1] != gc.v[i].x)
			gc.xs[gc.nx++] = gc.v[i].x;
		gc.v[i].xi = (uint32_t)(gc.nx - 1);
	}
	rc = nudge_predict_minimize(gg_neg, &gc, lx, 3, 1e-5, 1e-12, 5000,
	    &m->evals);
	free(gc.v);
	free(gc.xs);
	free(gc.cx);
	if (rc != 0)
		return nudge_errf(err, EX_DATAERR, "the order-value model does "
		    "not converge on these data (%d evaluations)", m->evals);
	m->p = exp(lx[0]);
	m->q = exp(lx[1]);
	m->gamma = exp(lx[2]);
	m->ll = nudge_predict_gg_ll(m, d, n);
	if (m->q <= 1)
		return nudge_errf(err, EX_DATAERR, "the order values vary too "
		    "much to average (q = %.3g <= 1)", m->q);
	return 0;
}

double
nudge_predict_order_value(const nudge_gg *m, double x, double mx)
{
	double p = m->p, q = m->q;

	if (x <= 0 || mx <= 0)
		return p * m->gamma / (q - 1);
	return p * (m->gamma + x * mx) / (p * x + q - 1);
}

double
nudge_predict_clv(const nudge_bgnbd *m, const nudge_gg *g, double t,
    double rate, double x, double tx, double T, double mx)
{
	/* month by month: each step is a 2F1 series, and a week's steps
	 * would make the predictions of a million customers take seconds
	 * more for a change in the third digit */
	const double month = 365.25 / 12 / 7;
	double v = nudge_predict_order_value(g, x, mx), sum = 0, prev = 0;
	double k, step, e, delta = log(1 + rate) / 52.1775;

	for (k = 0; k < t; k += month) {
		step = fmin(k + month, t);
		e = nudge_predict_expected(m, step, x, tx, T);
		/* the month's purchases, discounted from its middle */
		sum += (e - prev) * exp(-delta * (k + step) / 2);
		prev = e;
	}
	return sum * v;
}

/* ---- the store's purchases ---- */

static int64_t
day_of(int64_t t)
{
	return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

/* contact id -> index in the customers, open addressing */
struct idmap {
	int64_t *key;
	uint32_t *val;          /* index + 1; 0 is empty */
	size_t cap, len;
};

static size_t
idhash(int64_t k, size_t cap)
{
	uint64_t h = (uint64_t)k * 0x9e3779b97f4a7c15u;

	return (size_t)(h >> 20) & (cap - 1);
}

static uint32_t
idmap_get(const struct idmap *m, int64_t k)
{
	size_t i;

	if (m->cap == 0)
		return 0;
	for (i = idhash(k, m->cap); m->val[i] != 0; i = (i + 1) & (m->cap - 1))
		if (m->key[i] == k)
			return m->val[i];
	return 0;
}

static int
idmap_put(struct idmap *m, int64_t k, uint32_t v)
{
	size_t i;

	if ((m->len + 1) * 2 > m->cap) {
		struct idmap g = { 0 };

		g.cap = m->cap ? m->cap * 2 : 4096;
		g.key = malloc(g.cap * sizeof(*g.key));
		g.val = calloc(g.cap, sizeof(*g.val));
		if (g.key == NULL || g.val == NULL) {
			free(g.key);
			free(g.val);
			return -1;
		}
		for (i = 0; i < m->cap; i++)
			if (m->val[i] != 0)
				idmap_put(&g, m->key[i], m->val[i]);
		free(m->key);
		free(m->val);
		*m = g;
	}
	for (i = idhash(k, m->cap); m->val[i] != 0; i = (i + 1) & (m->cap - 1))
		;
	m->key[i] = k;
	m->val[i] = v;
	m->len++;
	return 0;
}

static int
cmp_contact(const void *u, const void *v)
{
	const nudge_rfm *a = u, *b = v;

	return a->contact < b->contact ? -1 : a->contact > b->contact;
}

/*
 * Two passes, because that is what is cheap to read: the purchase days
 * come from the (type, at, contact_id) index in time order, without
 * touching the table (each contact's days arrive ascending, so a day
 * is new when it differs from the contact's last); the totals, which
 * only the table has, come from one scan of it in rowid order, summed
 * per contact where they fall on a repeat day.  Looking the totals up
 * through the index instead costs a random page read a purchase: five
 * times the scan at 1M contacts and 10M events (test/bench).
 */
int
nudge_predict_load(nudge_store *st, const char *type, int64_t cal_end,
    int64_t end, nudge_rfm **out, size_t *n, nudge_err *err)
{
	static const char days_sql[] =
	    "SELECT contact_id, at FROM events INDEXED BY events_type_at"
	    " WHERE type = ?1 AND at < ?2 ORDER BY at";
	static const char totals_sql[] =
	    "SELECT contact_id, at, json_extract(props, '$.total')"
	    " FROM events NOT INDEXED"
	    " WHERE type = ?1 AND at < ?2 AND props IS NOT NULL";
	sqlite3_stmt *s = NULL;
	struct idmap map = { 0 };
	nudge_rfm *v = NULL, *c;
	int64_t *first = NULL, *last = NULL;
	size_t len = 0, cap = 0, i;
	int64_t cal_day = day_of(cal_end - 1), day, id;
	uint32_t k;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = nudge_store_prepare(st, &s, days_sql, err)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, end);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		day = day_of(sqlite3_column_int64(s, 1));
		if ((k = idmap_get(&map, id)) == 0) {
			if (day > cal_day)
				continue;  /* a customer new since */
			if (len == cap) {
				size_t nc = cap ? cap * 2 : 1024;
				nudge_rfm *nv = realloc(v, nc * sizeof(*v));
				int64_t *nf, *nl;

				if (nv != NULL)
					v = nv;
				nf = realloc(first, nc * sizeof(*first));
				if (nf != NULL)
					first = nf;
				nl = realloc(last, nc * sizeof(*last));
				if (nl != NULL)
					last = nl;
				if (nv == NULL || nf == NULL || nl == NULL)
					goto oom;
				cap = nc;
			}
			if (idmap_put(&map, id, (uint32_t)(len + 1)) != 0)
				goto oom;
			memset(&v[len], 0, sizeof(v[len]));
			v[len].contact = id;
			first[len] = last[len] = day;
			len++;
			continue;
		}
		k--;
		if (day == last[k])
			continue;
		last[k] = day;
		if (day <= cal_day) {
			v[k].x += 1;
			v[k].tx = (double)(day - first[k]) / 7;
		} else
			v[k].holdout += 1;
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(s);
	s = NULL;
	if ((rc = nudge_store_prepare(st, &s, totals_sql, err)) != 0)
		goto fail;
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, cal_end);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((k = idmap_get(&map, sqlite3_column_int64(s, 0))) == 0)
			continue;
		day = day_of(sqlite3_column_int64(s, 1));
		/* mx, for now the sum of the repeat days' totals */
		if (day > first[k - 1] && day <= cal_day)
			v[k - 1].mx += sqlite3_column_double(s, 2);
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(s);
	for (i = 0; i < len; i++) {
		c = &v[i];
		c->mx = c->x > 0 ? c->mx / c->x : 0;
		c->T = (double)(cal_day - first[i]) / 7;
	}
	free(first);
	free(last);
	free(map.key);
	free(map.val);
	if (len > 0)
		qsort(v, len, sizeof(*v), cmp_contact);
	*out = v;
	*n = len;
	return 0;
oom:
	rc = nudge_errf(err, EX_OSERR, "out of memory");
	goto fail;
dberr:
	rc = nudge_store_error(st, err, "reading purchases");
fail:
	sqlite3_finalize(s);
	free(v);
	free(first);
	free(last);
	free(map.key);
	free(map.val);
	return rc;
}

/* ---- a run ---- */

int
nudge_predict_run(nudge_store *st, const nudge_predict_opts *o,
    nudge_predict_fit *f, nudge_rfm **d, size_t *n, nudge_err *err)
{
	size_t i;
	int rc;

	memset(f, 0, sizeof(*f));
	f->cal_end = o->end - o->holdout;
	if ((rc = nudge_predict_load(st, o->type, f->cal_end, o->end, d, n,
	    err)) != 0)
		return rc;
	f->customers = *n;
	for (i = 0; i < *n; i++) {
		f->repeat_buyers += (*d)[i].x > 0;
		f->purchases += (*d)[i].x + 1;
	}
	if (f->repeat_buyers < o->min_repeat)
		return nudge_errf(err, EX_DATAERR, "too few customers to "
		    "predict from: %zu of %zu bought twice (\"%s\" events), at "
		    "least %zu needed", f->repeat_buyers, f->customers,
		    o->type, o->min_repeat);
	if ((rc = nudge_predict_bgnbd_fit(*d, *n, &f->m, err)) != 0)
		return rc;
	if (nudge_predict_gg_fit(*d, *n, &f->g, err) == 0)
		f->have_gg = 1;
	else
		snprintf(f->gg_why, sizeof f->gg_why, "%s", err->msg);
	if (o->holdout > 0) {
		/* whole days, as the calibration period counts them */
		f->holdout_weeks = (double)((o->end - 1) / 86400 -
		    (f->cal_end - 1) / 86400) / 7;
		for (i = 0; i < *n; i++) {
			f->holdout_predicted += nudge_predict_expected(&f->m,
			    f->holdout_weeks, (*d)[i].x, (*d)[i].tx, (*d)[i].T);
			f->holdout_actual += (*d)[i].holdout;
		}
	}
	return 0;
}

void
nudge_predict_contact(const nudge_predict_fit *f,
    const nudge_predict_opts *o, const nudge_rfm *c, nudge_prediction *p)
{
	p->p_alive = nudge_predict_p_alive(&f->m, c->x, c->tx, c->T);
	p->churn_risk = 1 - p->p_alive;
	p->expected_90d = nudge_predict_expected(&f->m, 90.0 / 7, c->x,
	    c->tx, c->T);
	p->expected = o->horizon == 90.0 / 7 ? p->expected_90d :
	    nudge_predict_expected(&f->m, o->horizon, c->x, c->tx, c->T);
	if (f->have_gg) {
		p->order_value = nudge_predict_order_value(&f->g, c->x, c->mx);
		p->clv_365d = nudge_predict_clv(&f->m, &f->g, 365.0 / 7,
		    o->rate, c->x, c->tx, c->T, c->mx);
	} else
		p->order_value = p->clv_365d = NAN;
}

static void
bind_real(sqlite3_stmt *s, int i, double v, int have)
{
	if (have && isfinite(v))
		sqlite3_bind_double(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

int
nudge_predict_save(nudge_store *st, const nudge_predict_opts *o,
    nudge_predict_fit *f, const nudge_rfm *d, size_t n, int64_t now,
    nudge_err *err)
{
	static const char fit_sql[] =
	    "INSERT INTO predict_fits (fitted_at, type, calibration_end,"
	    " holdout_end, customers, repeat_buyers, purchases, r, alpha, a,"
	    " b, ll, p, q, gamma, gg_ll, holdout_predicted, holdout_actual)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?15, ?16, ?17, ?18)";
	static const char pred_sql[] =
	    "INSERT INTO predictions (contact_id, fit_id, p_alive, churn_risk,"
	    " expected_purchases_90d, expected_order_value, clv_365d)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *s = NULL;
	nudge_prediction p;
	size_t i;
	int rc, h = o->holdout > 0;

	if ((rc = nudge_store_begin(st, err)) != 0)
		return rc;
	if ((rc = nudge_store_prepare(st, &s, fit_sql, err)) != 0)
		goto fail;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_text(s, 2, o->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, f->cal_end);
	if (h)
		sqlite3_bind_int64(s, 4, o->end);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)f->customers);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)f->repeat_buyers);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)f->purchases);
	sqlite3_bind_double(s, 8, f->m.r);
	sqlite3_bind_double(s, 9, f->m.alpha);
	sqlite3_bind_double(s, 10, f->m.a);
	sqlite3_bind_double(s, 11, f->m.b);
	sqlite3_bind_double(s, 12, f->m.ll);
	bind_real(s, 13, f->g.p, f->have_gg);
	bind_real(s, 14, f->g.q, f->have_gg);
	bind_real(s, 15, f->g.gamma, f->have_gg);
	bind_real(s, 16, f->g.ll, f->have_gg);
	bind_real(s, 17, f->holdout_predicted, h);
	bind_real(s, 18, f->holdout_actual, h);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = nudge_store_error(st, err, "recording the fit");
		goto fail;
	}
	f->id = sqlite3_last_insert_rowid(st->db);
	sqlite3_finalize(s);
	s = NULL;
	if (!h) {
		if ((rc = nudge_store_exec(st, "DELETE FROM predictions",
		    err)) != 0)
			goto fail;
		if ((rc = nudge_store_prepare(st, &s, pred_sql, err)) != 0)
			goto fail;
		for (i = 0; i < n; i++) {
			nudge_predict_contact(f, o, &d[i], &p);
			sqlite3_bind_int64(s, 1, d[i].contact);
			sqlite3_bind_int64(s, 2, f->id);
			sqlite3_bind_double(s, 3, p.p_alive);
			sqlite3_bind_double(s, 4, p.churn_risk);
			bind_real(s, 5, p.expected_90d, 1);
			bind_real(s, 6, p.order_value, f->have_gg);
			bind_real(s, 7, p.clv_365d, f->have_gg);
			if (sqlite3_step(s) != SQLITE_DONE) {
				rc = nudge_store_error(st, err,
				    "recording predictions");
				goto fail;
			}
			sqlite3_reset(s);
		}
		sqlite3_finalize(s);
		s = NULL;
	}
	return nudge_store_commit(st, err);
fail:
	sqlite3_finalize(s);
	nudge_store_rollback(st);
	return rc;
}
