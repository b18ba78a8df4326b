/* nudge-events: what the store holds of events: the types seen. */
#include <stdio.h>

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
	enum nudge_fmt_kind kind = NUDGE_FMT_TABLE;
	nudge_store *st;
	nudge_err ne;

	nudge_cli_sub(&cli, &argc, &argv, subs);
	st = nudge_cli_view(&cli, argc, argv, "table, tsv, csv or json", &kind,
	    0, "no operands expected");
	return nudge_cli_end(&cli, nudge_cview_types(st, kind, stdout, &ne),
	    &ne);
}
