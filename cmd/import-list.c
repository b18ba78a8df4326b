/* nudge-import-list: import contacts from CSV into the store and lists. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "listimport.h"

#define SHOWN_REJECTS 10

static const char usage_text[] =
    "usage: nudge import-list [-n] [-k email|phone] [-l name]... "
    "[-m column=field]...\n"
    "                         [-r rejects.csv] [--replace-lists] "
    "[--create] [--db file]\n"
    "                         [--config file] [file | -]\n";

enum { OPT_REPLACE_LISTS = 256 };

static const struct option longopts[] = {
	NUDGE_CLI_OPT_CONFIG,
	NUDGE_CLI_OPT_CREATE,
	NUDGE_CLI_OPT_DB,
	{ "dry-run", no_argument, NULL, 'n' },
	NUDGE_CLI_OPT_HELP,
	{ "key", required_argument, NULL, 'k' },
	{ "list", required_argument, NULL, 'l' },
	{ "map", required_argument, NULL, 'm' },
	{ "rejects", required_argument, NULL, 'r' },
	{ "replace-lists", no_argument, NULL, OPT_REPLACE_LISTS },
	{ NULL, 0, NULL, 0 },
};

struct rejects {
	FILE *fp;          /* --rejects file, or NULL */
	const char *path;
	const char *name;  /* the input's name */
	long shown;
};

static nudge_cli cli;

static int
write_fail(struct rejects *rj, nudge_err *err)
{
	return nudge_errf(err, EX_IOERR, "%s: %s", rj->path, strerror(errno));
}

static int
on_header(void *ctx, const nudge_csv_rec *hdr, nudge_err *err)
{
	struct rejects *rj = ctx;

	if (rj->fp != NULL && nudge_csv_write_rejected(rj->fp, "line",
	    "reason", hdr) == -1)
		return write_fail(rj, err);
	return 0;
}

static int
on_reject(void *ctx, const nudge_csv_rec *rec, const char *reason,
    nudge_err *err)
{
	struct rejects *rj = ctx;
	char line[24];

	if (rj->fp == NULL) {
		if (rj->shown++ < SHOWN_REJECTS)
			warnx("%s:%ld: %s", rj->name, rec->line, reason);
		return 0;
	}
	snprintf(line, sizeof line, "%ld", rec->line);
	if (nudge_csv_write_rejected(rj->fp, line, reason, rec) == -1)
		return write_fail(rj, err);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *input;
	const char **lists = NULL, **maps = NULL, **tmp;
	struct rejects rj = { 0 };
	nudge_import_opts o = { 0 };
	nudge_import_stats stats;
	nudge_store *st;
	nudge_err ne;
	FILE *fp;
	int ch, rc;

	nudge_cli_init(&cli, usage_text);
	while ((ch = nudge_cli_getopt(&cli, argc, argv, "hk:l:m:nr:",
	    longopts)) != -1) {
		if (nudge_cli_option(&cli, ch, optarg))
			continue;
		switch (ch) {
		case 'k':
			if (strcmp(optarg, "phone") == 0)
				o.key_phone = 1;
			else if (strcmp(optarg, "email") != 0)
				nudge_cli_usage(&cli,
				    "--key: expected email or phone");
			break;
		case 'l':
			if (*optarg == '\0')
				nudge_cli_usage(&cli,
				    "--list: empty list name");
			if ((tmp = reallocarray(lists, o.nlists + 1,
			    sizeof *lists)) == NULL)
				err(EX_OSERR, NULL);
			lists = tmp;
			lists[o.nlists++] = optarg;
			break;
		case 'm':
			if ((tmp = reallocarray(maps, o.nmaps + 1,
			    sizeof *maps)) == NULL)
				err(EX_OSERR, NULL);
			maps = tmp;
			maps[o.nmaps++] = optarg;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'r':
			rj.path = optarg;
			break;
		case OPT_REPLACE_LISTS:
			o.replace_lists = 1;
			break;
		default:
			nudge_cli_usage(&cli, NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		nudge_cli_usage(&cli, "one input file at most");
	input = argc == 1 ? argv[0] : "-";
	if (strcmp(input, "-") == 0) {
		if (argc == 0 && isatty(STDIN_FILENO))
			nudge_cli_usage(&cli,
			    "no input: give a CSV file, or pipe one in");
		fp = stdin;
		input = "(stdin)";
	} else if ((fp = fopen(input, "r")) == NULL) {
		err(EX_NOINPUT, "%s", input);
	}
	/* importing contacts is how a store begins: no --create needed */
	st = nudge_cli_store(&cli, NUDGE_STORE_CREATE);
	if (rj.path != NULL && (rj.fp = fopen(rj.path, "w")) == NULL)
		err(EX_CANTCREAT, "%s", rj.path);
	rj.name = input;
	o.name = input;
	o.lists = lists;
	o.maps = maps;
	o.country = cli.cfg.default_country;
	o.now = (int64_t)time(NULL);
	o.on_header = on_header;
	o.on_reject = on_reject;
	o.ctx = &rj;
	rc = nudge_import_contacts(st, fp, &o, &stats, &ne);
	if (rc == 0 && rj.fp != NULL && fflush(rj.fp) == EOF)
		rc = write_fail(&rj, &ne);
	if (rc != 0) {
		warnx("%s", ne.msg);
		warnx("%s: nothing imported", input);
	} else {
		if (rj.fp == NULL && rj.shown > SHOWN_REJECTS)
			warnx("%s: %ld more rejected rows not shown (--rejects "
			    "FILE keeps them all)", input,
			    rj.shown - SHOWN_REJECTS);
		warnx("%s: read %ld, inserted %ld, updated %ld, unchanged %ld, "
		    "rejected %ld; %ld list memberships added%s", input,
		    stats.read, stats.inserted, stats.updated, stats.unchanged,
		    stats.rejected, stats.memberships,
		    o.dry_run ? " (dry run: nothing written)" : "");
		if (stats.rejected > 0)
			rc = EX_DATAERR;
	}
	if (rj.fp != NULL && fclose(rj.fp) == EOF && rc == 0)
		rc = EX_IOERR;
	if (fp != stdin)
		fclose(fp);
	nudge_cli_close(&cli);
	free(lists);
	free(maps);
	return rc;
}
