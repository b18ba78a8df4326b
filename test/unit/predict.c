/* Unit tests for predict: the optimiser, 2F1, the BG/NBD and Gamma-Gamma
 * formulas against the papers' worked examples and against their
 * unsimplified forms, recovery of known parameters from data simulated
 * from the models themselves, and reading purchases from a real store. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "predict.h"
#include "tap.h"

static int
near(double got, double want, double rel, const char *what)
{
	int cond = fabs(got - want) <= rel * fabs(want);

	ok(cond, what);
	if (!cond)
		printf("#   got:  %.9g\n#   want: %.9g (within %g)\n", got,
		    want, rel);
	return cond;
}

static double
rosenbrock(const double *x, void *ctx)
{
	(void)ctx;
	return 100 * pow(x[1] - x[0] * x[0], 2) + pow(1 - x[0], 2);
}

static void
test_minimize(void)
{
	double x[2] = { -1.2, 1 };
	int evals;

	is_int(nudge_predict_minimize(rosenbrock, NULL, x, 2, 1e-9, 1e-15,
	    20000, &evals), 0, "Nelder-Mead converges on Rosenbrock's valley");
	ok(fabs(x[0] - 1) < 1e-6 && fabs(x[1] - 1) < 1e-6,
	    "to its minimum (1, 1)");
	x[0] = -1.2;
	x[1] = 1;
	is_int(nudge_predict_minimize(rosenbrock, NULL, x, 2, 1e-9, 1e-15,
	    20, &evals), -1, "too few evaluations: says it did not converge");
}

static void
test_hyp2f1(void)
{
	/* 2F1(1, 1; 2; z) = -ln(1 - z) / z; 2F1(a, b; b; z) = (1 - z)^-a */
	near(nudge_predict_hyp2f1(1, 1, 2, 0.5), 2 * log(2), 1e-13,
	    "2F1(1,1;2;1/2) = 2 ln 2");
	near(nudge_predict_hyp2f1(1, 1, 2, 0.99), -log(0.01) / 0.99, 1e-12,
	    "2F1(1,1;2;0.99) near the edge");
	near(nudge_predict_hyp2f1(0.3, 2.5, 2.5, 0.7), pow(0.3, -0.3), 1e-13,
	    "2F1(a,b;b;z) = (1-z)^-a");
	ok(isnan(nudge_predict_hyp2f1(1, 1, 2, 1)),
	    "z = 1 does not converge: NaN, not a number made up");
}

/* The paper's equation 10 as printed, with its own 2F1. */
static double
expected_as_printed(const nudge_bgnbd *m, double t, double x, double tx,
    double T)
{
	double r = m->r, al = m->alpha, a = m->a, b = m->b;
	double z = t / (al + T + t);
	double f = nudge_predict_hyp2f1(r + x, b + x, a + b + x - 1, z);
	double num = (a + b + x - 1) / (a - 1) *
	    (1 - pow((al + T) / (al + T + t), r + x) * f);
	double den = 1 + (x > 0) * a / (b + x - 1) *
	    pow((al + T) / (al + tx), r + x);

	return num / den;
}

static void
test_bgnbd_formulas(void)
{
	/* the paper's estimates for CDNOW */
	nudge_bgnbd m = { 0.243, 4.414, 0.793, 2.426, 0, 0 };
	nudge_rfm one = { 0, 2, 30.43, 38.86, 0, 0 };
	double x, e;

	/* Fader, Hardie and Lee 2005, section 5: a customer with x = 2,
	 * tx = 30.43, T = 38.86 is expected to make 1.226 purchases in the
	 * next 39 weeks. */
	e = nudge_predict_expected(&m, 39, 2, 30.43, 38.86);
	ok(fabs(e - 1.226) < 0.0005, "the paper's worked example: 1.226");
	printf("# E[Y(39) | 2, 30.43, 38.86] = %.4f (paper 1.226)\n", e);
	for (x = 0; x <= 40; x += 8) {
		char what[80];

		snprintf(what, sizeof what, "Euler's form of 2F1 equals the "
		    "printed one, x = %g", x);
		near(nudge_predict_expected(&m, 52, x, x > 0 ? 20 : 0, 38),
		    expected_as_printed(&m, 52, x, x > 0 ? 20 : 0, 38), 1e-9,
		    what);
	}
	e = nudge_predict_expected(&m, 52, 400, 38, 38.5);
	ok(isfinite(e) && e > 100, "a very frequent buyer: finite, large");
	is_int(nudge_predict_p_alive(&m, 0, 0, 30) == 1, 1,
	    "no repeat purchase: alive for sure (the model's assumption)");
	near(nudge_predict_p_alive(&m, 2, 30.43, 38.86),
	    1 / (1 + 0.793 / 3.426 * pow((4.414 + 38.86) / (4.414 + 30.43),
	    2.243)), 1e-12, "P(alive), equation 11");
	ok(nudge_predict_p_alive(&m, 5, 2, 38) < 0.05,
	    "five purchases early, silence since: almost surely gone");
	ok(nudge_predict_expected(&m, 0, 2, 30, 38) == 0,
	    "no purchases in no time");
	/* the log-likelihood of one customer against its definition */
	{
		double r = m.r, al = m.alpha, a = m.a, b = m.b, lik;

		lik = tgamma(r + 2) * pow(al, r) / tgamma(r) *
		    (tgamma(a + b) * tgamma(b + 2) / (tgamma(b) *
		    tgamma(a + b + 2))) * (pow(al + 38.86, -(r + 2)) +
		    a / (b + 1) * pow(al + 30.43, -(r + 2)));
		near(nudge_predict_bgnbd_ll(&m, &one, 1), log(lik), 1e-12,
		    "log-likelihood equals equation 6 computed directly");
	}
}

static void
test_gg_formulas(void)
{
	nudge_gg g = { 6.25, 3.74, 15.44, 0, 0 };
	nudge_rfm one = { 0, 3, 10, 20, 40.0, 0 };
	double px = 6.25 * 3, lik;

	near(nudge_predict_order_value(&g, 0, 0), 6.25 * 15.44 / 2.74, 1e-12,
	    "no repeat order: the population's mean");
	near(nudge_predict_order_value(&g, 3, 40),
	    2.74 / (px + 2.74) * (6.25 * 15.44 / 2.74) + px / (px + 2.74) * 40,
	    1e-12, "else a weighted mean of it and the customer's own");
	lik = tgamma(px + 3.74) / (tgamma(px) * tgamma(3.74)) *
	    pow(15.44, 3.74) * pow(3, px) * pow(40, px - 1) /
	    pow(15.44 + 3 * 40, px + 3.74);
	near(nudge_predict_gg_ll(&g, &one, 1), log(lik), 1e-11,
	    "Gamma-Gamma log-likelihood equals its density");
}

static void
test_clv(void)
{
	nudge_bgnbd m = { 0.243, 4.414, 0.793, 2.426, 0, 0 };
	nudge_gg g = { 6.25, 3.74, 15.44, 0, 0 };
	double v = nudge_predict_order_value(&g, 2, 30);
	double e = nudge_predict_expected(&m, 52, 2, 30.43, 38.86);

	near(nudge_predict_clv(&m, &g, 52, 0, 2, 30.43, 38.86, 30), v * e,
	    1e-12, "undiscounted CLV = order value x expected purchases");
	ok(nudge_predict_clv(&m, &g, 52, 0.1, 2, 30.43, 38.86, 30) < v * e &&
	    nudge_predict_clv(&m, &g, 52, 0.1, 2, 30.43, 38.86, 30) >
	    v * e / 1.1, "discounted at 10% a year: between 1/1.1 and 1 of it");
}

/* ---- simulation from the models ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static double
unif(void)
{
	/* splitmix64 */
	uint64_t z = (rng += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double
normal(void)
{
	return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
}

/* Gamma(shape k, scale 1): Marsaglia and Tsang 2000, boosted below 1. */
static double
gamma_draw(double k)
{
	double d, c, x, v, u;

	if (k < 1)
		return gamma_draw(k + 1) * pow(unif(), 1 / k);
	d = k - 1.0 / 3;
	c = 1 / sqrt(9 * d);
	for (;;) {
		do {
			x = normal();
			v = 1 + c * x;
		} while (v <= 0);
		v = v * v * v;
		u = unif();
		if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
			return d * v;
	}
}

static void
test_simulated(size_t n)
{
	const nudge_bgnbd truth = { 0.8, 6.0, 0.6, 3.0, 0, 0 };
	const nudge_gg gtruth = { 5.0, 4.0, 20.0, 0, 0 };
	size_t i;
	nudge_rfm *d = calloc(n, sizeof(*d));
	nudge_bgnbd m;
	nudge_gg g;
	nudge_err err;

	for (i = 0; i < n; i++) {
		double lam = gamma_draw(truth.r) / truth.alpha;
		double g1 = gamma_draw(truth.a), g2 = gamma_draw(truth.b);
		double p = g1 / (g1 + g2), t = 0, T = 10 + 42 * unif();
		double nu = gamma_draw(gtruth.q) / gtruth.gamma, sum = 0;

		d[i].T = T;
		for (;;) {
			t += -log(unif()) / lam;
			if (t > T)
				break;
			d[i].x += 1;
			d[i].tx = t;
			sum += gamma_draw(gtruth.p) / nu;
			if (unif() < p)
				break;  /* drops out after this purchase */
		}
		d[i].mx = d[i].x > 0 ? sum / d[i].x : 0;
	}
	is_int(nudge_predict_bgnbd_fit(d, n, &m, &err), 0,
	    n > 100000 ? "BG/NBD fits 120,000 simulated customers, from a "
	    "sample's estimates" : "BG/NBD fits 20,000 simulated customers");
	printf("# simulated BG/NBD: r %.3f (%.3g) alpha %.3f (%.3g) "
	    "a %.3f (%.3g) b %.3f (%.3g)\n", m.r, truth.r, m.alpha,
	    truth.alpha, m.a, truth.a, m.b, truth.b);
	near(m.r, truth.r, 0.1, "r recovered within 10%");
	near(m.alpha, truth.alpha, 0.1, "alpha recovered within 10%");
	near(m.a, truth.a, 0.1, "a recovered within 10%");
	near(m.b, truth.b, 0.1, "b recovered within 10%");
	ok(m.ll >= nudge_predict_bgnbd_ll(&truth, d, n),
	    "the fit is at least as likely as the truth");
	is_int(nudge_predict_gg_fit(d, n, &g, &err), 0,
	    "Gamma-Gamma fits the simulated repeat buyers");
	printf("# simulated Gamma-Gamma: p %.3f (%.3g) q %.3f (%.3g) "
	    "gamma %.3f (%.3g)\n", g.p, gtruth.p, g.q, gtruth.q, g.gamma,
	    gtruth.gamma);
	near(g.p, gtruth.p, 0.1, "p recovered within 10%");
	near(g.q, gtruth.q, 0.1, "q recovered within 10%");
	near(g.gamma, gtruth.gamma, 0.1, "gamma recovered within 10%");
	near(g.p * g.gamma / (g.q - 1), gtruth.p * gtruth.gamma /
	    (gtruth.q - 1), 0.03, "the mean order value within 3%");
	for (i = 0; i < n; i++)
		d[i].x = 0;
	is_int(nudge_predict_bgnbd_fit(d, n, &m, &err), EX_DATAERR,
	    "nobody bought twice: no fit");
	is_int(nudge_predict_gg_fit(d, n, &g, &err), EX_DATAERR,
	    "and no order values");
	free(d);
}

/* ---- the store ---- */

static void
test_load(void)
{
	char dir[] = "/tmp/nudge-predict-unit.XXXXXX", path[300];
	nudge_store *st;
	nudge_rfm *d;
	size_t n;
	nudge_err err;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof path, "%s/p.db", dir);
	if (nudge_store_open(&st, path, NUDGE_STORE_CREATE, &err) != 0) {
		ok(0, err.msg);
		return;
	}
	/* day 0 = 1970-01-01; calibration ends with day 20 (cal_end is
	 * the start of day 21), the hold-out with day 34 */
	nudge_store_exec(st,
	    "INSERT INTO contacts (id, email, created_at, updated_at) VALUES"
	    " (1, 'a@x.example', 0, 0), (2, 'b@x.example', 0, 0),"
	    " (3, 'c@x.example', 0, 0), (4, 'd@x.example', 0, 0);"
	    "INSERT INTO events (contact_id, type, at, props) VALUES"
	    " (1, 'purchase', 0 * 86400 + 10, '{\"total\":5}'),"
	    " (1, 'purchase', 7 * 86400 + 10, '{\"total\":10}'),"
	    " (1, 'purchase', 7 * 86400 + 900, '{\"total\":2.5}'),"
	    " (1, 'opened', 9 * 86400, NULL),"
	    " (1, 'purchase', 14 * 86400 + 3600, '{\"total\":20}'),"
	    " (1, 'purchase', 21 * 86400, '{\"total\":99}'),"
	    " (1, 'purchase', 22 * 86400, NULL),"
	    " (1, 'purchase', 40 * 86400, NULL),"
	    " (2, 'purchase', 6 * 86400, NULL),"
	    " (3, 'purchase', 25 * 86400, NULL),"
	    " (4, 'purchase', 20 * 86400 + 86399, NULL)", &err);
	is_int(nudge_predict_load(st, "purchase", 21 * 86400, 35 * 86400, &d,
	    &n, &err), 0, "purchases load");
	is_int(n, 3, "three customers: one is new in the hold-out period");
	if (n == 3) {
		ok(d[0].contact == 1 && d[0].x == 2 && d[0].tx == 2 &&
		    d[0].T == 20.0 / 7, "same-day purchases count once, in "
		    "weeks from the first");
		near(d[0].mx, (12.5 + 20) / 2, 1e-12,
		    "mx: the mean of the repeat days' summed totals");
		is_int(d[0].holdout, 2, "two purchase days in the hold-out, "
		    "none after it");
		ok(d[1].contact == 2 && d[1].x == 0 && d[1].T == 2 &&
		    d[1].mx == 0, "a one-time buyer");
		ok(d[2].contact == 4 && d[2].x == 0 && d[2].T == 0,
		    "a first purchase on the last day: T = 0");
	}
	free(d);
	nudge_store_close(st);
	unlink(path);
	snprintf(path, sizeof path, "%s/p.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/p.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

/* 7 -> 8: a real version 7 store (this build's schema less the
 * predict tables) gains predict_fits and predictions and keeps its rows;
 * a fit is then recorded and the predictions replaced as a whole. */
static void
test_migration(void)
{
	char dir[] = "/tmp/nudge-predict-mig.XXXXXX", path[300], cmd[400];
	nudge_store *st;
	nudge_predict_opts o = { "purchase", 30 * 86400, 0, 90.0 / 7, 0.1, 1 };
	nudge_predict_fit f;
	nudge_rfm d[2] = { { 1, 2, 3, 4, 10, 0 }, { 2, 0, 0, 4, 0, 0 } };
	nudge_err err;
	sqlite3_stmt *s;
	int v = -1, rows = -1;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof path, "%s/m.db", dir);
	if (nudge_store_open(&st, path, NUDGE_STORE_CREATE, &err) != 0) {
		ok(0, err.msg);
		return;
	}
	is_int(nudge_store_exec(st, "DROP TABLE predictions;"
	    "DROP TABLE predict_fits;"
	    "INSERT INTO contacts (id, email, created_at, updated_at) VALUES"
	    " (1, 'a@x.example', 0, 0), (2, 'b@x.example', 0, 0);"
	    "INSERT INTO events (contact_id, type, at) VALUES"
	    " (1, 'purchase', 86400);"
	    "PRAGMA user_version = 7", &err), 0, "a version 7 store");
	nudge_store_close(st);
	if (nudge_store_open(&st, path, 0, &err) != 0) {
		ok(0, err.msg);
		return;
	}
	if (sqlite3_prepare_v2(st->db, "SELECT (SELECT user_version FROM"
	    " pragma_user_version), (SELECT count(*) FROM events) +"
	    " (SELECT count(*) FROM predictions) + (SELECT count(*) FROM"
	    " predict_fits)", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		v = sqlite3_column_int(s, 0);
		rows = sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	is_int(v, NUDGE_SCHEMA_VERSION, "migrates to the newest version");
	is_int(rows, 1, "its event kept, the new tables empty");
	memset(&f, 0, sizeof f);
	f.m = (nudge_bgnbd){ 0.243, 4.414, 0.793, 2.426, -1, 0 };
	f.cal_end = o.end;
	f.customers = 2;
	f.repeat_buyers = 1;
	f.purchases = 4;
	is_int(nudge_predict_save(st, &o, &f, d, 2, 99, &err), 0,
	    "a fit is recorded");
	is_int(nudge_predict_save(st, &o, &f, d, 1, 100, &err), 0,
	    "and another");
	rows = -1;
	if (sqlite3_prepare_v2(st->db, "SELECT (SELECT count(*) FROM"
	    " predict_fits) * 100 + (SELECT count(*) FROM predictions WHERE"
	    " fit_id = 2 AND expected_order_value IS NULL)", -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		rows = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	is_int(rows, 201, "two fits kept; the predictions are the last's, "
	    "no order value without its model");
	nudge_store_close(st);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
}

int
main(void)
{
	test_minimize();
	test_hyp2f1();
	test_bgnbd_formulas();
	test_gg_formulas();
	test_clv();
	test_simulated(20000);
	test_simulated(120000);
	test_load();
	test_migration();
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
