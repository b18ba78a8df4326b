/* nudge-events: what the store holds of events: the types seen. */
#include "cli.h"
#include "contactview.h"

static const char usage_text[] =
    "usage: nudge events types [-f table|tsv|csv|json] [--db file] "
    "[--config file]\n";

static const char *const subs[] = { "types", NULL };

static nudge_cli cli = { .usage = usage_text };

int
main(int argc, char **argv)
{
	nudge_cli_sub(&cli, &argc, &argv, subs);
	return nudge_cli_table(&cli, argc, argv, nudge_cview_types);
}
