/* nudge-report: what campaigns did, as unique contacts and rates. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "fmt.h"
#include "report.h"

static const char usage_text[] =
    "usage: nudge report [-b campaign|step|channel|day] [-c name] "
    "[-f table|tsv|csv|json]\n"
    "                    [-s time] [--conversion type] [--window duration]\n"
    "                    [--db file] [--config file]\n";

enum { OPT_CONFIG = 256, OPT_CONVERSION, OPT_DB, OPT_WINDOW };

static const struct option longopts[] = {
	{ "by", required_argument, NULL, 'b' },
	{ "campaign", required_argument, NULL, 'c' },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "conversion", required_argument, NULL, OPT_CONVERSION },
	{ "db", required_argument, NULL, OPT_DB },
	{ "format", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ "since", required_argument, NULL, 's' },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ NULL, 0, NULL, 0 },
};

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		warnx("%s", why);
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

int
main(int argc, char **argv)
{
	const char *cfgpath = NULL, *dbpath = NULL;
	enum nudge_fmt_kind kind = NUDGE_FMT_TABLE;
	nudge_report_opts o = { 0 };
	const char *const *cols;
	sqlite3_stmt *s = NULL;
	nudge_fmt *f = NULL;
	nudge_config cfg;
	nudge_store *st;
	nudge_err ne;
	size_t ncols;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "b:c:f:hs:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'b':
			if (nudge_report_by_parse(optarg, &o.by) == -1)
				usage("--by: expected campaign, step, channel or "
				    "day");
			break;
		case 'c':
			o.campaign = optarg;
			break;
		case 'f':
			if (nudge_fmt_kind_parse(optarg, &kind) == -1 ||
			    kind == NUDGE_FMT_IDS)
				usage("--format: expected table, tsv, csv or json");
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 's':
			if (nudge_time_parse(optarg, &o.since) == -1)
				usage("--since: expected a time such as 2026-11-01 "
				    "or 2026-11-01T09:00:00Z");
			o.has_since = 1;
			break;
		case OPT_CONFIG:
			cfgpath = optarg;
			break;
		case OPT_CONVERSION:
			if (!nudge_is_name(optarg))
				usage("--conversion: expected an event type such "
				    "as purchase");
			o.conversion = optarg;
			break;
		case OPT_DB:
			dbpath = optarg;
			break;
		case OPT_WINDOW:
			if (nudge_duration_parse(optarg, &o.window) == -1)
				usage("--window: expected a duration such as 7d");
			break;
		default:
			usage(NULL);
		}
	}
	if (optind != argc)
		usage("no operands expected");
	if ((rc = nudge_config_load(&cfg, cfgpath, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	if ((rc = nudge_config_open_store(&cfg, dbpath, 0, &st, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	if ((rc = nudge_report_prepare(st, &o, &s, &cols, &ncols, &ne)) != 0 ||
	    (rc = nudge_fmt_open(&f, stdout, kind, cols, ncols, &ne)) != 0)
		goto done;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((rc = nudge_fmt_stmt_row(f, s, &ne)) != 0)
			goto done;
	if (rc != SQLITE_DONE) {
		rc = nudge_store_error(st, &ne, "report");
		goto done;
	}
	rc = nudge_fmt_close(f, &ne);
	f = NULL;
done:
	if (rc != 0)
		warnx("%s", ne.msg);
	nudge_fmt_close(f, NULL);
	sqlite3_finalize(s);
	nudge_store_close(st);
	nudge_config_free(&cfg);
	return rc;
}
