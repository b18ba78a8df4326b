/* nudge-contact: a contact's whole story, and finding a contact. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "contact.h"
#include "contactview.h"
#include "fmt.h"

static const char usage_text[] =
    "usage: nudge contact show [-f table|json] [--db file] [--config file] "
    "id|email|phone\n"
    "       nudge contact find [-f ids|tsv|csv|json|table] [--db file] "
    "[--config file] text\n";

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
	const char *sub, *country;
	nudge_store *st;
	nudge_err ne;
	int64_t id;
	long found;
	int ch, rc, show;

	nudge_cli_init(&cli, usage_text);
	if (argc < 2)
		nudge_cli_usage(&cli, "expected show or find");
	sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0)
		nudge_cli_option(&cli, 'h', NULL);
	if (strcmp(sub, "--version") == 0)
		nudge_cli_version();
	if (strcmp(sub, "show") == 0)
		show = 1;
	else if (strcmp(sub, "find") == 0)
		show = 0;
	else
		nudge_cli_usage(&cli, "expected show or find");
	argc--;
	argv++;
	while ((ch = nudge_cli_getopt(&cli, argc, argv, "f:h",
	    longopts)) != -1) {
		if (nudge_cli_option(&cli, ch, optarg))
			continue;
		switch (ch) {
		case 'f':
			if (nudge_fmt_kind_parse(optarg, &kind) == -1 ||
			    (show && kind != NUDGE_FMT_TABLE &&
			    kind != NUDGE_FMT_JSON))
				nudge_cli_usage(&cli, "--format: expected %s",
				    show ? "table or json" :
				    "ids, tsv, csv, json or table");
			break;
		default:
			nudge_cli_usage(&cli, NULL);
		}
	}
	if (argc - optind != 1)
		nudge_cli_usage(&cli, "expected one %s",
		    show ? "contact: an id, email or phone" : "text to find");
	st = nudge_cli_store(&cli, NUDGE_STORE_READONLY);
	country = cli.cfg.default_country[0] != '\0' ?
	    cli.cfg.default_country : NULL;
	if (show) {
		rc = nudge_contact_find(st, argv[optind], country, &id, &ne);
		if (rc == 0 && id == 0)
			rc = nudge_errf(&ne, EX_DATAERR, "no such contact: %s",
			    argv[optind]);
		if (rc == 0)
			rc = nudge_cview_show(st, id, kind, &cli.cfg.policy,
			    cli.now, stdout, &ne);
	} else {
		rc = nudge_cview_find(st, argv[optind], country, kind, stdout,
		    &found, &ne);
		/* like grep: nothing found is 1, for scripts */
		if (rc == 0 && found == 0)
			rc = 1;
	}
	if (rc > 1)
		warnx("%s", ne.msg);
	nudge_cli_close(&cli);
	return rc;
}
