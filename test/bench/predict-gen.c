/* predict-gen: a store for the predict benchmark, written straight with
 * SQLite: NC contacts who buy as BG/NBD says (r 0.5, alpha 8 a week,
 * a 0.7, b 3; order values Gamma-Gamma p 5, q 4, gamma 20) over the two
 * years from 2025-01-01, their first purchase in the first year, and
 * `opened` events filling up to NE events in all.
 *
 *   predict-gen STORE NC NE    (STORE made by nudge first: the schema) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

static uint64_t rng = 42;

static double
unif(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

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
			x = sqrt(-2 * log(unif())) * cos(6.283185307179586 *
			    unif());
			v = 1 + c * x;
		} while (v <= 0);
		v = v * v * v;
		u = unif();
		if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
			return d * v;
	}
}

int
main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *c, *e;
	long nc, ne, i, n = 0;
	const double t0 = 1735689600, span = 2 * 365 * 86400.0;
	char props[64];

	if (argc != 4 || sqlite3_open(argv[1], &db) != SQLITE_OK)
		return 2;
	nc = atol(argv[2]);
	ne = atol(argv[3]);
	sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO contacts (id, email, created_at,"
	    " updated_at) VALUES (?1, 'c' || ?1 || '@x.example', 0, 0)", -1,
	    &c, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO events (contact_id, type, at,"
	    " props) VALUES (?1, ?2, ?3, ?4)", -1, &e, NULL);
	for (i = 1; i <= nc; i++) {
		double lam = gamma_draw(0.5) / 8 / (7 * 86400.0);
		double g1 = gamma_draw(0.7), g2 = gamma_draw(3);
		double p = g1 / (g1 + g2), nu = gamma_draw(4) / 20;
		double t = t0 + unif() * span / 2;

		sqlite3_bind_int64(c, 1, i);
		sqlite3_step(c);
		sqlite3_reset(c);
		for (int k = 0;; k++) {
			/* the first purchase, then repeats until the period
			 * ends or the customer drops out after one */
			if (k > 0) {
				t += -log(unif()) / lam;
				if (t >= t0 + span)
					break;
			}
			snprintf(props, sizeof props, "{\"total\":%.2f}",
			    gamma_draw(5) / nu);
			sqlite3_bind_int64(e, 1, i);
			sqlite3_bind_text(e, 2, "purchase", -1, SQLITE_STATIC);
			sqlite3_bind_int64(e, 3, (sqlite3_int64)t);
			sqlite3_bind_text(e, 4, props, -1, SQLITE_STATIC);
			sqlite3_step(e);
			sqlite3_reset(e);
			n++;
			if (k > 0 && unif() < p)
				break;
		}
	}
	for (; n < ne; n++) {
		sqlite3_bind_int64(e, 1, 1 + (sqlite3_int64)(unif() * (double)nc));
		sqlite3_bind_text(e, 2, "opened", -1, SQLITE_STATIC);
		sqlite3_bind_int64(e, 3, (sqlite3_int64)(t0 + unif() * span));
		sqlite3_bind_null(e, 4);
		sqlite3_step(e);
		sqlite3_reset(e);
	}
	sqlite3_finalize(c);
	sqlite3_finalize(e);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "predict-gen: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	sqlite3_close(db);
	return 0;
}
