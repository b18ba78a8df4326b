/* nudge-report: what campaigns did: messages, contacts, rates, revenue
 * and cost. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "abtest.h"
#include "cli.h"
#include "clock.h"
#include "config.h"
#include "event.h"
#include "fmt.h"
#include "report.h"
#include "segment.h"

static const char usage_text[] =
    "usage: nudge report [-b campaign|step|channel|day|bounce|link|churn|variant|field]\n"
    "                    [-c name] [-f table|tsv|csv|json|html] [-s time]\n"
    "                    [--until time] [--attribution last-touch|first-touch|any]\n"
    "                    [--conversion type] [--tz zone] [--window duration]\n"
    "                    [--create] [--db file] [--config file]\n";

enum { OPT_CONVERSION = 256, OPT_WINDOW, OPT_UNTIL, OPT_ATTRIBUTION, OPT_TZ };

static const struct option longopts[] = {
	{ "attribution", required_argument, NULL, OPT_ATTRIBUTION },
	{ "by", required_argument, NULL, 'b' },
	{ "campaign", required_argument, NULL, 'c' },
	NUDGE_CLI_OPT_CONFIG,
	{ "conversion", required_argument, NULL, OPT_CONVERSION },
	NUDGE_CLI_OPT_CREATE,
	NUDGE_CLI_OPT_DB,
	{ "format", required_argument, NULL, 'f' },
	NUDGE_CLI_OPT_HELP,
	{ "since", required_argument, NULL, 's' },
	{ "tz", required_argument, NULL, OPT_TZ },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ NULL, 0, NULL, 0 },
};

static nudge_cli cli = { .usage = usage_text };

/* --by NAME that is neither a grouping nor a computed field: the usage
 * error, with the closest of both. */
static void
by_usage(const char *name)
{
	static const char *const fixed[] = { "campaign", "step", "channel",
		"day", "bounce", "link", "churn", "variant" };
	const char *c[64], *best;
	size_t n, i;

	for (n = 0; n < sizeof fixed / sizeof fixed[0]; n++)
		c[n] = fixed[n];
	for (i = 0; n < sizeof c / sizeof c[0] &&
	    (c[n] = nudge_seg_computed_name(i)) != NULL; i++)
		n++;
	best = nudge_closest(name, c, n);
	nudge_cli_usage(&cli, "--by: \"%.60s\": expected campaign, step, "
	    "channel, day, bounce, link, churn, variant or a computed field "
	    "of the config%s%s%s", name, best != NULL ? "; did you mean \"" : "",
	    best != NULL ? best : "", best != NULL ? "\"?" : "");
}

int
main(int argc, char **argv)
{
	enum nudge_fmt_kind kind = NUDGE_FMT_TABLE;
	nudge_report_opts o = { 0 };
	nudge_store *st;
	nudge_err ne;
	const char *tz = NULL;
	int ch, rc, html = 0, attr = 0, by_variant = 0;

	while ((ch = nudge_cli_getopt(&cli, argc, argv, "b:c:f:hs:",
	    longopts)) != -1) {
		switch (ch) {
		case 'b':
			if ((by_variant = strcmp(optarg, "variant") == 0))
				break;
			/* else a computed field, known once the config
			 * is read */
			if (nudge_report_by_parse(optarg, &o.by) == -1) {
				o.by = NUDGE_REPORT_FIELD;
				o.field = optarg;
			}
			break;
		case 'c':
			o.campaign = optarg;
			break;
		case 'f':
			html = strcmp(optarg, "html") == 0;
			if (!html)
				kind = nudge_cli_format(&cli, optarg,
				    "table, tsv, csv, json or html");
			break;
		case 's':
			o.since = nudge_cli_time(&cli, "--since", optarg);
			o.has_since = 1;
			break;
		case OPT_UNTIL:
			o.until = nudge_cli_time(&cli, "--until", optarg);
			o.has_until = 1;
			break;
		case OPT_ATTRIBUTION:
			if (nudge_report_attribution_parse(optarg,
			    &o.attribution) == -1)
				nudge_cli_usage(&cli, "--attribution: expected "
				    "last-touch, first-touch or any");
			attr = 1;
			break;
		case OPT_TZ:
			if (!nudge_tz_known(optarg))
				nudge_cli_usage(&cli, "--tz: unknown time zone "
				    "\"%.60s\"; expected a name such as "
				    "Europe/Paris or UTC", optarg);
			tz = optarg;
			break;
		case OPT_CONVERSION:
			if (!nudge_event_type_ok(optarg))
				nudge_cli_usage(&cli, "--conversion: %s",
				    NUDGE_EVENT_TYPE_WANTED);
			o.conversion = optarg;
			break;
		case OPT_WINDOW:
			if (nudge_duration_parse(optarg, &o.window) == -1)
				nudge_cli_usage(&cli,
				    "--window: expected a duration such as 7d");
			break;
		default:
			nudge_cli_usage(&cli, NULL);
		}
	}
	nudge_cli_operands(&cli, &argc, &argv, 0, 0, "no operands expected");
	if (html && (o.by != NUDGE_REPORT_CAMPAIGN || by_variant))
		nudge_cli_usage(&cli, "--by does not go with --format html: the "
		    "page shows every grouping");
	st = nudge_cli_store(&cli, 0);
	if (o.by == NUDGE_REPORT_FIELD && nudge_seg_computed(o.field) == NULL)
		by_usage(o.field);
	o.now = cli.now;
	/* the config's report: settings, where no option says otherwise */
	if (o.conversion == NULL)
		o.conversion = cli.cfg.report.conversion;
	o.value = cli.cfg.report.value;
	o.currency = cli.cfg.report.currency;
	o.nprices = cli.cfg.report.nprices;
	o.price_channel = cli.cfg.report.price_channel;
	o.price = cli.cfg.report.price;
	if (tz == NULL)
		tz = cli.cfg.report.timezone != NULL ?
		    cli.cfg.report.timezone : cli.cfg.policy.quiet_tz;
	/* SQLite's 'localtime' reads TZ: days are this zone's */
	if (tz != NULL && strcmp(tz, "UTC") != 0) {
		if (setenv("TZ", tz, 1) == -1)
			err(EX_OSERR, "setenv");
		tzset();
		o.local_days = 1;
	}
	if (attr && o.attribution == NUDGE_ATTR_ANY && !html)
		warnx("attribution any: a conversion counts for every group "
		    "that sent its contact a message within the window before "
		    "it, so totals across groups may count it more than once");
	if (html)
		rc = nudge_report_html(st, &o, NULL, stdout, &ne);
	else if (by_variant)
		rc = nudge_ab_report(st, o.campaign, o.conversion, (int)kind,
		    stdout, &ne);
	else
		rc = nudge_report_write(st, &o, kind, stdout, &ne);
	/* a campaign's A/B winners, its holdout's uplift and its best hour:
	 * in words after the table, or on stderr when stdout is data (csv,
	 * tsv, json) */
	if (rc == 0 && !html && !by_variant && o.campaign != NULL) {
		FILE *words = kind == NUDGE_FMT_TABLE ? stdout : stderr;

		if ((rc = nudge_ab_decisions(st, o.campaign, words, &ne)) ==
		    0 && (rc = nudge_ab_uplift(st, o.campaign, o.conversion,
		    o.window, words, &ne)) == 0)
			rc = nudge_ab_best_hour(st, o.campaign, o.conversion,
			    o.window, words, &ne);
	}
	return nudge_cli_end(&cli, rc, &ne);
}
