/* predict: the customer-base models fitted on the store's purchases —
 * BG/NBD for repeat purchasing and dropout (Fader, Hardie and Lee,
 * "Counting Your Customers the Easy Way", Marketing Science 24(2), 2005)
 * and Gamma-Gamma for order value (Fader, Hardie and Lee, "RFM and CLV:
 * Using Iso-Value Curves for Customer Base Analysis", JMR 42(4), 2005;
 * Fader and Hardie, "The Gamma-Gamma Model of Monetary Value", 2013) —
 * their maximum likelihood fits, the per-contact predictions, and
 * reading a contact's purchase history from the store.
 *
 * Time is in weeks throughout, as in the papers: the scale parameters
 * (alpha) are per week. */
#ifndef NUDGE_PREDICT_H
#define NUDGE_PREDICT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

/* One customer's summary over the calibration period: x repeat
 * purchases (purchase days after the first), the last one tx weeks after
 * the first, T weeks from the first to the period's end, mx the mean
 * value of the repeat purchases (0 when x is 0). */
typedef struct nudge_rfm {
	int64_t contact;
	double x, tx, T;
	double mx;
	double holdout;  /* purchase days in the hold-out period */
} nudge_rfm;

typedef struct nudge_bgnbd {
	double r, alpha, a, b;
	double ll;       /* the log-likelihood at (r, alpha, a, b) */
	int evals;       /* likelihood evaluations the fit took */
} nudge_bgnbd;

typedef struct nudge_gg {
	double p, q, gamma;
	double ll;
	int evals;
} nudge_gg;

/* Minimises f over n <= 8 free variables from x (replaced by the
 * minimum) by Nelder-Mead (Nelder and Mead 1965, with the usual
 * coefficients 1, 2, 1/2, 1/2), restarted from its best point until a
 * restart no longer improves f by more than ftol.  Returns 0 when the
 * simplex shrank below xtol and its values agree within ftol (relative),
 * -1 when maxeval evaluations did not get there or f was not finite at
 * the start.  *evals counts the evaluations. */
int nudge_predict_minimize(double (*f)(const double *, void *), void *ctx,
    double *x, int n, double xtol, double ftol, int maxeval, int *evals);

/* The Gaussian hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1 by
 * its series, summed until a term is below 1e-15 of the sum; NaN when
 * 200000 terms do not get there. */
double nudge_predict_hyp2f1(double a, double b, double c, double z);

/* The BG/NBD log-likelihood of n customers (the paper's equation 6,
 * summed in logs: lgamma for the Gamma and Beta functions and
 * log-sum-exp for the dropout term). */
double nudge_predict_bgnbd_ll(const nudge_bgnbd *m, const nudge_rfm *d,
    size_t n);

/* Fits BG/NBD by maximum likelihood (Nelder-Mead on the logs of the four
 * parameters).  Errors: EX_DATAERR when no customer has a repeat
 * purchase or the optimiser does not converge. */
int nudge_predict_bgnbd_fit(const nudge_rfm *d, size_t n, nudge_bgnbd *m,
    nudge_err *err);

/* P(alive | x, tx, T): the chance that the customer has not dropped out
 * (Fader, Hardie and Lee 2005, equation 11; Fader, Hardie and Lee,
 * "Computing P(alive) Using the BG/NBD Model", 2008). */
double nudge_predict_p_alive(const nudge_bgnbd *m, double x, double tx,
    double T);

/* E[Y(t) | x, tx, T]: the expected number of purchases in the next t
 * weeks (the paper's equation 10), with its 2F1 turned by Euler's
 * transformation into 2F1(a+b-1-r, a-1; a+b+x-1; z), whose terms shrink
 * from the first for any x (the paper's form has r+x and b+x on top and
 * overflows for frequent buyers).  NaN when the series does not
 * converge. */
double nudge_predict_expected(const nudge_bgnbd *m, double t, double x,
    double tx, double T);

/* The Gamma-Gamma log-likelihood of the customers with x > 0 (Fader and
 * Hardie 2013, equation 4, in logs). */
double nudge_predict_gg_ll(const nudge_gg *m, const nudge_rfm *d, size_t n);

/* Fits Gamma-Gamma on the customers with x > 0 and mx > 0.  Errors:
 * EX_DATAERR when none has, the optimiser does not converge, or q <= 1
 * (the mean order value is then infinite). */
int nudge_predict_gg_fit(const nudge_rfm *d, size_t n, nudge_gg *m,
    nudge_err *err);

/* E[M | x, mx]: the expected value of the customer's next orders (Fader,
 * Hardie and Lee 2005 JMR, equation 5): a weighted mean of the
 * population's mean p gamma / (q - 1) and the customer's own mx. */
double nudge_predict_order_value(const nudge_gg *m, double x, double mx);

/* The value of the customer's purchases in the next t weeks, each at
 * nudge_predict_order_value, discounted continuously at the annual rate
 * rate (0.1 is 10% a year): summed month by month over the increments
 * of nudge_predict_expected. */
double nudge_predict_clv(const nudge_bgnbd *m, const nudge_gg *g, double t,
    double rate, double x, double tx, double T, double mx);

/* Reads the purchase history of every contact with an event of type
 * type before end: same-day events (UTC days) count as one purchase
 * whose value is the sum of their prop `total` (0 when absent).  The
 * calibration period ends on the UTC day before cal_end (cal_end <= end)
 * and the hold-out period runs from there to the day before end; a
 * contact whose first purchase is after the calibration period is left
 * out.  *out is malloc'ed (free it); *n its length.  Errors: store
 * errors, EX_OSERR. */
int nudge_predict_load(nudge_store *st, const char *type, int64_t cal_end,
    int64_t end, nudge_rfm **out, size_t *n, nudge_err *err);

/* What nudge_predict_run fits on and predicts. */
typedef struct nudge_predict_opts {
	const char *type;       /* the purchase event type */
	int64_t end;            /* purchases before this count (--now) */
	int64_t holdout;        /* seconds held out before end, or 0 */
	double horizon;         /* weeks ahead for expected purchases */
	double rate;            /* annual discount rate of the CLV */
	size_t min_repeat;      /* fewer repeat buyers: no fit */
} nudge_predict_opts;

/* A fit and its data summary. */
typedef struct nudge_predict_fit {
	nudge_bgnbd m;
	nudge_gg g;
	int have_gg;            /* else gg_why says why not */
	char gg_why[1024];
	int64_t cal_end;        /* end - holdout */
	size_t customers, repeat_buyers;
	double purchases;       /* purchase days in the calibration period */
	double holdout_weeks, holdout_predicted, holdout_actual;
	int64_t id;             /* its predict_fits row, once saved */
} nudge_predict_fit;

/* One contact's predictions. */
typedef struct nudge_prediction {
	double p_alive, churn_risk;
	double expected;        /* purchases in the next o->horizon weeks */
	double expected_90d;
	double order_value, clv_365d;   /* NaN without an order-value fit */
} nudge_prediction;

/* Loads the purchases (nudge_predict_load), fits BG/NBD and, where the
 * repeat purchases have totals, Gamma-Gamma; with a hold-out, adds up
 * the predicted and actual repeat purchases in it.  *d (malloc'ed) and
 * *n are the customers.  Errors: EX_DATAERR when fewer than
 * o->min_repeat customers bought twice or BG/NBD does not converge
 * (err says which, in words); store errors. */
int nudge_predict_run(nudge_store *st, const nudge_predict_opts *o,
    nudge_predict_fit *f, nudge_rfm **d, size_t *n, nudge_err *err);

/* The predictions for one customer of the fit. */
void nudge_predict_contact(const nudge_predict_fit *f,
    const nudge_predict_opts *o, const nudge_rfm *c, nudge_prediction *p);

/* Records the fit in predict_fits (sets f->id) and, without a hold-out,
 * replaces the predictions table with the customers' predictions, all
 * in one transaction.  Errors: store errors. */
int nudge_predict_save(nudge_store *st, const nudge_predict_opts *o,
    nudge_predict_fit *f, const nudge_rfm *d, size_t n, int64_t now,
    nudge_err *err);

#endif
