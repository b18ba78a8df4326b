/* nudge-lists: the lists, their members and the members' email consent. */
#include <stdio.h>

#include "cli.h"
#include "contactview.h"

static const char usage_text[] =
    "usage: nudge lists [-f table|tsv|csv|json] [--db file] "
    "[--config file]\n";

static nudge_cli cli = { .usage = usage_text };

int
main(int argc, char **argv)
{
	enum nudge_fmt_kind kind = NUDGE_FMT_TABLE;
	nudge_store *st;
	nudge_err ne;

	st = nudge_cli_view(&cli, argc, argv, "table, tsv, csv or json", &kind,
	    0, "no operands expected");
	return nudge_cli_end(&cli, nudge_cview_lists(st, kind, stdout, &ne),
	    &ne);
}
