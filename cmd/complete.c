/* nudge-complete: the names shell completion offers (completion/), read
 * from the store in one index walk each; quiet and empty when there is
 * no store, so a shell never shows an error while completing. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign.h"
#include "cli.h"
#include "contactview.h"

static const char usage_text[] =
    "usage: nudge complete [--db file] [--config file] "
    "lists | types | campaigns | steps campaign | file.yaml\n";

static const struct option longopts[] = {
	NUDGE_CLI_OPT_CONFIG,
	NUDGE_CLI_OPT_DB,
	NUDGE_CLI_OPT_HELP,
	{ NULL, 0, NULL, 0 },
};

static nudge_cli cli = { .usage = usage_text };

int
main(int argc, char **argv)
{
	const char *what, *arg = NULL, *dot;
	nudge_campaign *c;
	nudge_store *st;
	nudge_config cfg;
	nudge_err ne;
	size_t i;
	int rc;

	while (nudge_cli_getopt(&cli, argc, argv, "h", longopts) != -1)
		nudge_cli_usage(&cli, NULL);
	nudge_cli_operands(&cli, &argc, &argv, 1, 2,
	    "expected lists, types, campaigns or steps campaign");
	what = argv[0];
	if (argc == 2)
		arg = argv[1];
	/* the steps of a campaign file: its ids, no store needed */
	if (strcmp(what, "steps") == 0 && arg != NULL &&
	    (dot = strrchr(arg, '.')) != NULL && (strcmp(dot, ".yaml") == 0 ||
	    strcmp(dot, ".yml") == 0)) {
		if (nudge_campaign_load(arg, &c, &ne) != 0)
			return EX_DATAERR;
		for (i = 0; i < c->nsteps; i++)
			printf("%s\n", c->steps[i].id);
		nudge_campaign_free(c);
		return fflush(stdout) == EOF ? EX_IOERR : 0;
	}
	/* no store, no config: nothing to offer, and nothing said */
	if (nudge_config_load(&cfg, cli.config, &ne) != 0)
		return EX_NOINPUT;
	rc = nudge_config_open_store(&cfg, cli.db, NUDGE_STORE_READONLY, &st,
	    &ne);
	if (rc == 0) {
		rc = nudge_cview_names(st, what, arg, stdout, &ne);
		nudge_store_close(st);
	}
	nudge_config_free(&cfg);
	if (rc == EX_USAGE)
		nudge_cli_usage(&cli, "%s", ne.msg);
	return rc;
}
