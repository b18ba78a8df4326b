/* nudge-lists: the lists, their members and the members' email consent. */
#include "cli.h"
#include "contactview.h"

static const char usage_text[] =
    "usage: nudge lists [-f table|tsv|csv|json] [--db file] "
    "[--config file]\n";

static nudge_cli cli = { .usage = usage_text };

int
main(int argc, char **argv)
{
	return nudge_cli_table(&cli, argc, argv, nudge_cview_lists);
}
