/* nudge-report: what campaigns did, as unique contacts and rates. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abtest.h"
#include "cli.h"
#include "clock.h"
#include "config.h"
#include "fmt.h"
#include "report.h"

static const char usage_text[] =
    "usage: nudge report [-b campaign|step|channel|day|bounce|variant] [-c name] "
    "[-f table|tsv|csv|json|html]\n"
    "                    [-s time] [--until time] [--conversion type] [--window duration]\n"
    "                    [--create] [--db file] [--config file]\n";

enum { OPT_CONVERSION = 256, OPT_WINDOW, OPT_UNTIL };

static const struct option longopts[] = {
	{ "by", required_argument, NULL, 'b' },
	{ "campaign", required_argument, NULL, 'c' },
	NUDGE_CLI_OPT_CONFIG,
	{ "conversion", required_argument, NULL, OPT_CONVERSION },
	NUDGE_CLI_OPT_CREATE,
	NUDGE_CLI_OPT_DB,
	{ "format", required_argument, NULL, 'f' },
	NUDGE_CLI_OPT_HELP,
	{ "since", required_argument, NULL, 's' },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ NULL, 0, NULL, 0 },
};

static nudge_cli cli;

int
main(int argc, char **argv)
{
	enum nudge_fmt_kind kind = NUDGE_FMT_TABLE;
	nudge_report_opts o = { 0 };
	nudge_store *st;
	nudge_err ne;
	int ch, rc, html = 0, by_variant = 0;

	nudge_cli_init(&cli, usage_text);
	while ((ch = getopt_long(argc, argv, "b:c:f:hs:", longopts, NULL)) !=
	    -1) {
		if (nudge_cli_option(&cli, ch, optarg))
			continue;
		switch (ch) {
		case 'b':
			if ((by_variant = strcmp(optarg, "variant") == 0))
				break;
			if (nudge_report_by_parse(optarg, &o.by) == -1)
				nudge_cli_usage(&cli,
				    "--by: expected campaign, step, channel, "
				    "day, bounce or variant");
			break;
		case 'c':
			o.campaign = optarg;
			break;
		case 'f':
			html = strcmp(optarg, "html") == 0;
			if (!html && (nudge_fmt_kind_parse(optarg, &kind) == -1 ||
			    kind == NUDGE_FMT_IDS))
				nudge_cli_usage(&cli,
				    "--format: expected table, tsv, csv, json or "
				    "html");
			break;
		case 's':
			o.since = nudge_cli_time(&cli, "--since", optarg);
			o.has_since = 1;
			break;
		case OPT_UNTIL:
			o.until = nudge_cli_time(&cli, "--until", optarg);
			o.has_until = 1;
			break;
		case OPT_CONVERSION:
			if (!nudge_is_name(optarg))
				nudge_cli_usage(&cli,
				    "--conversion: expected an event type such "
				    "as purchase");
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
	if (optind != argc)
		nudge_cli_usage(&cli, "no operands expected");
	if (html && (o.by != NUDGE_REPORT_CAMPAIGN || by_variant))
		nudge_cli_usage(&cli, "--by does not go with --format html: the "
		    "page shows every grouping");
	st = nudge_cli_store(&cli, 0);
	if (html)
		rc = nudge_report_html(st, &o, NULL, stdout, &ne);
	else if (by_variant)
		rc = nudge_ab_report(st, o.campaign, o.conversion, (int)kind,
		    stdout, &ne);
	else
		rc = nudge_report_write(st, &o, kind, stdout, &ne);
	/* a campaign's holdout: its uplift in words after the table, or on
	 * stderr when stdout is data (csv, tsv, json) */
	if (rc == 0 && !html && !by_variant && o.campaign != NULL)
		rc = nudge_ab_uplift(st, o.campaign, o.conversion, o.window,
		    kind == NUDGE_FMT_TABLE ? stdout : stderr, &ne);
	if (rc != 0)
		warnx("%s", ne.msg);
	nudge_cli_close(&cli);
	return rc;
}
