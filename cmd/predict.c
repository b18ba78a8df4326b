/* nudge-predict: fit the customer-base models on the store's purchases
 * and print their figures, or each contact's predictions; with hours,
 * each contact's best hour to send. */
#include <err.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "besthour.h"
#include "cli.h"
#include "clock.h"
#include "event.h"
#include "fmt.h"
#include "predict.h"

static const char usage_text[] =
    "usage: nudge predict [-c] [-f table|tsv|csv|json] [-t type] "
    "[--discount rate]\n"
    "                     [--holdout duration] [--horizon duration] "
    "[--now time]\n"
    "                     [--create] [--db file] [--config file]\n"
    "       nudge predict hours [-c] [-f table|tsv|csv|json] "
    "[--prior weight]\n"
    "                     [--timezone zone] [--now time] [--create] "
    "[--db file]\n"
    "                     [--config file]\n";

enum { OPT_DISCOUNT = 256, OPT_HOLDOUT, OPT_HORIZON, OPT_PRIOR,
	OPT_TIMEZONE };

static const struct option longopts[] = {
	NUDGE_CLI_OPT_CONFIG,
	{ "contacts", no_argument, NULL, 'c' },
	NUDGE_CLI_OPT_CREATE,
	NUDGE_CLI_OPT_DB,
	{ "discount", required_argument, NULL, OPT_DISCOUNT },
	{ "format", required_argument, NULL, 'f' },
	NUDGE_CLI_OPT_HELP,
	{ "holdout", required_argument, NULL, OPT_HOLDOUT },
	{ "horizon", required_argument, NULL, OPT_HORIZON },
	NUDGE_CLI_OPT_NOW,
	{ "prior", required_argument, NULL, OPT_PRIOR },
	{ "timezone", required_argument, NULL, OPT_TIMEZONE },
	{ "type", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

/* Fewer customers who bought twice than this, and the estimates swing
 * with every new order: the papers fit thousands; 50 keeps a small shop
 * in and a handful of test orders out. */
#define MIN_REPEAT 50

static nudge_cli cli = { .usage = usage_text };
static nudge_fmt *out;

static void
row(const char *figure, const char *fmt, double v)
{
	char buf[64];
	nudge_fmt_val vals[2];
	nudge_err ne;
	int n = snprintf(buf, sizeof buf, fmt, v);

	vals[0] = (nudge_fmt_val){ NUDGE_FMT_TEXT, figure, strlen(figure) };
	vals[1] = (nudge_fmt_val){ NUDGE_FMT_NUM, buf, (size_t)n };
	if (nudge_fmt_row(out, vals, &ne) != 0)
		errx(EX_IOERR, "%s", ne.msg);
}

static void
summary(const nudge_predict_fit *f, enum nudge_fmt_kind kind)
{
	static const char *const cols[] = { "figure", "value" };
	char when[32];
	nudge_fmt_val vals[2];
	nudge_err ne;

	if (nudge_fmt_open(&out, stdout, kind, cols, 2, &ne) != 0)
		errx(EX_OSERR, "%s", ne.msg);
	nudge_time_format(f->cal_end, when, sizeof when);
	vals[0] = (nudge_fmt_val){ NUDGE_FMT_TEXT, "calibration_end", 15 };
	vals[1] = (nudge_fmt_val){ NUDGE_FMT_TEXT, when, strlen(when) };
	if (nudge_fmt_row(out, vals, &ne) != 0)
		errx(EX_IOERR, "%s", ne.msg);
	row("customers", "%.0f", (double)f->customers);
	row("repeat_buyers", "%.0f", (double)f->repeat_buyers);
	row("purchases", "%.0f", f->purchases);
	row("r", "%.4g", f->m.r);
	row("alpha", "%.4g", f->m.alpha);
	row("a", "%.4g", f->m.a);
	row("b", "%.4g", f->m.b);
	row("log_likelihood", "%.1f", f->m.ll);
	if (f->have_gg) {
		row("p", "%.4g", f->g.p);
		row("q", "%.4g", f->g.q);
		row("gamma", "%.4g", f->g.gamma);
		row("order_value_log_likelihood", "%.1f", f->g.ll);
		row("mean_order_value", "%.2f",
		    nudge_predict_order_value(&f->g, 0, 0));
	}
	if (f->holdout_weeks > 0) {
		row("holdout_weeks", "%.4g", f->holdout_weeks);
		row("holdout_predicted", "%.1f", f->holdout_predicted);
		row("holdout_actual", "%.0f", f->holdout_actual);
	}
	if (nudge_fmt_close(out, &ne) != 0)
		errx(EX_IOERR, "%s", ne.msg);
}

static void
contacts(const nudge_predict_fit *f, const nudge_predict_opts *o,
    const nudge_rfm *d, size_t n, enum nudge_fmt_kind kind,
    int64_t horizon)
{
	char col[64], buf[7][32];
	const char *cols[] = { "contact", "purchases", "p_alive", "churn_risk",
	    col, "expected_order_value", "clv_365d" };
	nudge_fmt_val vals[7];
	nudge_prediction p;
	nudge_err ne;
	size_t i;
	int k;

	snprintf(col, sizeof col, "expected_purchases_%lldd",
	    (long long)(horizon / 86400));
	if (nudge_fmt_open(&out, stdout, kind, cols, 7, &ne) != 0)
		errx(EX_OSERR, "%s", ne.msg);
	for (i = 0; i < n; i++) {
		nudge_predict_contact(f, o, &d[i], &p);
		snprintf(buf[0], sizeof buf[0], "%lld",
		    (long long)d[i].contact);
		snprintf(buf[1], sizeof buf[1], "%.0f", d[i].x + 1);
		snprintf(buf[2], sizeof buf[2], "%.4f", p.p_alive);
		snprintf(buf[3], sizeof buf[3], "%.4f", p.churn_risk);
		snprintf(buf[4], sizeof buf[4], "%.3f", p.expected);
		snprintf(buf[5], sizeof buf[5], "%.2f", p.order_value);
		snprintf(buf[6], sizeof buf[6], "%.2f", p.clv_365d);
		for (k = 0; k < 7; k++) {
			vals[k] = (nudge_fmt_val){ NUDGE_FMT_NUM, buf[k],
			    strlen(buf[k]) };
			if (k >= 5 && !f->have_gg)
				vals[k] = (nudge_fmt_val){ NUDGE_FMT_NULL,
				    NULL, 0 };
		}
		if (nudge_fmt_row(out, vals, &ne) != 0)
			errx(EX_IOERR, "%s", ne.msg);
	}
	if (nudge_fmt_close(out, &ne) != 0)
		errx(EX_IOERR, "%s", ne.msg);
}

static const char *const wdays[] = { "Sunday", "Monday", "Tuesday",
	"Wednesday", "Thursday", "Friday", "Saturday" };

static void
text_row(const char *figure, const char *v)
{
	nudge_fmt_val vals[2];
	nudge_err ne;

	vals[0] = (nudge_fmt_val){ NUDGE_FMT_TEXT, figure, strlen(figure) };
	vals[1] = (nudge_fmt_val){ NUDGE_FMT_TEXT, v, strlen(v) };
	if (nudge_fmt_row(out, vals, &ne) != 0)
		errx(EX_IOERR, "%s", ne.msg);
}

/* The hours as "09:00, 10:00, 13:00": the first n of a ranking. */
static void
hour_list(const char *rank, int n, char *buf, size_t len)
{
	size_t k = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n && k + 8 < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%02d:00", i > 0 ?
		    ", " : "", rank[i] - 'a');
}

static void
hours_summary(const nudge_besthour_fit *f, enum nudge_fmt_kind kind)
{
	static const char *const cols[] = { "figure", "value" };
	char buf[128];
	nudge_err ne;

	if (nudge_fmt_open(&out, stdout, kind, cols, 2, &ne) != 0)
		errx(EX_OSERR, "%s", ne.msg);
	text_row("timezone", f->tz);
	row("contacts", "%.0f", (double)f->contacts);
	row("events", "%.0f", (double)f->events);
	row("prior", "%.4g", f->prior);
	snprintf(buf, sizeof buf, "%02d:00", f->hour);
	text_row("best_hour", buf);
	text_row("best_weekday", wdays[f->wday]);
	hour_list(f->rank, 3, buf, sizeof buf);
	text_row("best_hours", buf);
	if (nudge_fmt_close(out, &ne) != 0)
		errx(EX_IOERR, "%s", ne.msg);
}

static void
hours_contacts(const nudge_besthour *d, size_t n, enum nudge_fmt_kind kind)
{
	static const char *const cols[] = { "contact", "events", "best_hour",
	    "best_weekday", "own_weight" };
	char buf[5][32];
	nudge_fmt_val vals[5];
	nudge_err ne;
	size_t i;
	int k;

	if (nudge_fmt_open(&out, stdout, kind, cols, 5, &ne) != 0)
		errx(EX_OSERR, "%s", ne.msg);
	for (i = 0; i < n; i++) {
		snprintf(buf[0], sizeof buf[0], "%lld",
		    (long long)d[i].contact);
		snprintf(buf[1], sizeof buf[1], "%ld", d[i].events);
		snprintf(buf[2], sizeof buf[2], "%02d:00", d[i].hour);
		snprintf(buf[3], sizeof buf[3], "%s", wdays[d[i].wday]);
		snprintf(buf[4], sizeof buf[4], "%.3f", d[i].weight);
		for (k = 0; k < 5; k++)
			vals[k] = (nudge_fmt_val){ k == 0 || k == 1 ||
			    k == 4 ? NUDGE_FMT_NUM : NUDGE_FMT_TEXT, buf[k],
			    strlen(buf[k]) };
		if (nudge_fmt_row(out, vals, &ne) != 0)
			errx(EX_IOERR, "%s", ne.msg);
	}
	if (nudge_fmt_close(out, &ne) != 0)
		errx(EX_IOERR, "%s", ne.msg);
}

/* nudge predict hours: the best hour per contact, recorded. */
static int
hours(enum nudge_fmt_kind kind, int per_contact, const char *tz,
    double prior)
{
	nudge_besthour_fit f;
	nudge_besthour *d = NULL;
	nudge_store *st;
	nudge_err ne;
	size_t n = 0;
	int rc;

	st = nudge_cli_store(&cli, 0);
	if (tz == NULL)
		tz = cli.cfg.report.timezone != NULL ? cli.cfg.report.timezone :
		    cli.cfg.policy.quiet_tz;
	rc = nudge_besthour_run(st, cli.now, tz, prior, &f, &d, &n, &ne);
	if (rc == 0)
		rc = nudge_besthour_save(st, &f, d, n, cli.now, &ne);
	if (rc != 0) {
		warnx("%s", ne.msg);
		free(d);
		nudge_cli_close(&cli);
		return rc;
	}
	/* 100: about four events an hour of the day for the list */
	if (f.events < 100)
		warnx("only %ld human opens and clicks: the best hours are a "
		    "rough guess for now, and firm up as contacts read", f.events);
	if (per_contact) {
		hours_contacts(d, n, kind);
		warnx("%zu contacts, %ld human opens and clicks; the list's "
		    "best hour %02d:00 %s", f.contacts, f.events, f.hour, f.tz);
	} else {
		hours_summary(&f, kind);
	}
	free(d);
	nudge_cli_close(&cli);
	return 0;
}

static double
parse_rate(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end != s && strcmp(end, "%") == 0)
		v /= 100;
	else if (end == s || *end != '\0')
		v = -1;
	if (!(v >= 0 && v < 10))
		nudge_cli_usage(&cli, "--discount: expected an annual rate "
		    "such as 0.1 or 10%%");
	return v;
}

int
main(int argc, char **argv)
{
	enum nudge_fmt_kind kind = NUDGE_FMT_TABLE;
	nudge_predict_opts o = { "purchase", 0, 0, 90.0 / 7, 0.1,
		MIN_REPEAT };
	nudge_predict_fit f;
	nudge_rfm *d = NULL;
	nudge_store *st;
	nudge_err ne;
	size_t n = 0;
	int64_t horizon = 90 * 86400;
	int ch, rc, per_contact = 0, models = 0;
	const char *tz = NULL;
	double prior = NUDGE_BESTHOUR_PRIOR;
	char *end;

	while ((ch = nudge_cli_getopt(&cli, argc, argv, "cf:ht:",
	    longopts)) != -1) {
		switch (ch) {
		case 'c':
			per_contact = 1;
			break;
		case 'f':
			kind = nudge_cli_format(&cli, optarg,
			    "table, tsv, csv or json");
			break;
		case OPT_PRIOR:
			prior = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(prior > 0 &&
			    prior <= 1e6))
				nudge_cli_usage(&cli, "--prior: expected a "
				    "weight above 0, such as 5");
			break;
		case OPT_TIMEZONE:
			if (!nudge_tz_known(optarg))
				nudge_cli_usage(&cli, "--timezone: expected a "
				    "time zone such as Europe/Paris");
			tz = optarg;
			break;
		case 't':
			models = 1;
			if (!nudge_event_type_ok(optarg))
				nudge_cli_usage(&cli, "--type: %s",
				    NUDGE_EVENT_TYPE_WANTED);
			o.type = optarg;
			break;
		case OPT_DISCOUNT:
			models = 1;
			o.rate = parse_rate(optarg);
			break;
		case OPT_HOLDOUT:
			models = 1;
			if (nudge_duration_parse(optarg, &o.holdout) == -1 ||
			    o.holdout < 86400)
				nudge_cli_usage(&cli, "--holdout: expected a "
				    "duration of a day or more, such as 26w");
			break;
		case OPT_HORIZON:
			models = 1;
			if (nudge_duration_parse(optarg, &horizon) == -1 ||
			    horizon < 86400)
				nudge_cli_usage(&cli, "--horizon: expected a "
				    "duration of a day or more, such as 90d");
			o.horizon = (double)(horizon / 86400) / 7;
			break;
		default:
			nudge_cli_usage(&cli, NULL);
		}
	}
	nudge_cli_operands(&cli, &argc, &argv, 0, 1,
	    "expected no operand, or hours");
	if (argc == 1) {
		if (strcmp(argv[0], "hours") != 0)
			nudge_cli_usage(&cli, "expected no operand, or hours");
		if (models)
			nudge_cli_usage(&cli, "hours: --type, --discount, "
			    "--holdout and --horizon are the purchase models'");
		return hours(kind, per_contact, tz, prior);
	}
	if (tz != NULL || prior != NUDGE_BESTHOUR_PRIOR)
		nudge_cli_usage(&cli, "--prior and --timezone go with hours");
	if (per_contact && o.holdout > 0)
		nudge_cli_usage(&cli, "--contacts does not go with --holdout: "
		    "predictions are made from all the purchases");
	o.end = cli.now;
	st = nudge_cli_store(&cli, 0);
	rc = nudge_predict_run(st, &o, &f, &d, &n, &ne);
	if (rc == 0)
		rc = nudge_predict_save(st, &o, &f, d, n, cli.now, &ne);
	if (rc != 0) {
		free(d);
		return nudge_cli_end(&cli, rc, &ne);
	}
	if (!f.have_gg)
		warnx("no order values or CLV: %s", f.gg_why);
	if (per_contact) {
		contacts(&f, &o, d, n, kind, horizon);
		warnx("%zu customers, %zu bought twice; log-likelihood %.1f",
		    f.customers, f.repeat_buyers, f.m.ll);
	} else
		summary(&f, kind);
	free(d);
	nudge_cli_close(&cli);
	return 0;
}
