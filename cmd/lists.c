/* nudge-lists: the lists, their members and the members' email consent. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "contactview.h"
#include "fmt.h"

static const char usage_text[] =
    "usage: nudge lists [-f table|tsv|csv|json] [--db file] "
    "[--config file]\n";

static const struct option longopts[] = {
	NUDGE_CLI_OPT_CONFIG,
	NUDGE_CLI_OPT_DB,
	{ "format", required_argument, NULL, 'f' },
	NUDGE_CLI_OPT_HELP,
	{ NULL, 0, NULL, 0 },
};

static nudge_cli cli;

int
main(int argc, char **argv)
{
	enum nudge_fmt_kind kind = NUDGE_FMT_TABLE;
	nudge_store *st;
	nudge_err ne;
	int ch, rc;

	nudge_cli_init(&cli, usage_text);
	while ((ch = nudge_cli_getopt(&cli, argc, argv, "f:h",
	    longopts)) != -1) {
		if (nudge_cli_option(&cli, ch, optarg))
			continue;
		switch (ch) {
		case 'f':
			if (nudge_fmt_kind_parse(optarg, &kind) == -1 ||
			    kind == NUDGE_FMT_IDS)
				nudge_cli_usage(&cli, "--format: expected table, "
				    "tsv, csv or json");
			break;
		default:
			nudge_cli_usage(&cli, NULL);
		}
	}
	if (optind != argc)
		nudge_cli_usage(&cli, "no operands expected");
	st = nudge_cli_store(&cli, NUDGE_STORE_READONLY);
	if ((rc = nudge_cview_lists(st, kind, stdout, &ne)) != 0)
		warnx("%s", ne.msg);
	nudge_cli_close(&cli);
	return rc;
}
