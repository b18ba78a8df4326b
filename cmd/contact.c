/* nudge-contact: a contact's whole story, and finding a contact. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "contact.h"
#include "contactview.h"

static const char usage_text[] =
    "usage: nudge contact show [-f table|json] [--db file] [--config file] "
    "id|email|phone\n"
    "       nudge contact find [-f ids|tsv|csv|json|table] [--db file] "
    "[--config file] text\n";

static const char *const subs[] = { "show", "find", NULL };

static nudge_cli cli = { .usage = usage_text };

int
main(int argc, char **argv)
{
	enum nudge_fmt_kind kind = NUDGE_FMT_TABLE;
	const char *country;
	nudge_store *st;
	nudge_err ne;
	int64_t id;
	long found;
	int rc, show;

	show = nudge_cli_sub(&cli, &argc, &argv, subs) == 0;
	st = nudge_cli_view(&cli, argc, argv, show ? "table or json" :
	    "ids, tsv, csv, json or table", &kind, 1, show ?
	    "expected one contact: an id, email or phone" :
	    "expected one text to find");
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
		if (rc == 0 && found == 0) {
			nudge_cli_close(&cli);
			return 1;
		}
	}
	return nudge_cli_end(&cli, rc, &ne);
}
