/* nudge-import-list: import contacts from CSV into the store and lists. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cli.h"
#include "config.h"
#include "contact.h"
#include "listimport.h"

static const char usage_text[] =
    "usage: nudge import-list [-n] [-d ,|;|tab] [-f format] "
    "[-k email|phone] [-l name]...\n"
    "                         [-m column=field]... [-r rejects.csv] "
    "[--replace-lists]\n"
    "                         [-u all|blanks|none] [--create] "
    "[--db file] [--config file]\n"
    "                         [file | -]\n"
    "       nudge import-list --formats\n";

enum { OPT_REPLACE_LISTS = 256, OPT_FORMATS };

static const struct option longopts[] = {
	NUDGE_CLI_OPT_CONFIG,
	NUDGE_CLI_OPT_CREATE,
	NUDGE_CLI_OPT_DB,
	{ "delimiter", required_argument, NULL, 'd' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "format", required_argument, NULL, 'f' },
	{ "formats", no_argument, NULL, OPT_FORMATS },
	NUDGE_CLI_OPT_HELP,
	{ "key", required_argument, NULL, 'k' },
	{ "list", required_argument, NULL, 'l' },
	{ "map", required_argument, NULL, 'm' },
	{ "rejects", required_argument, NULL, 'r' },
	{ "replace-lists", no_argument, NULL, OPT_REPLACE_LISTS },
	{ "update", required_argument, NULL, 'u' },
	{ NULL, 0, NULL, 0 },
};

static const char *const update_words[] = { "all", "blanks", "none",
	NULL };
static const enum nudge_update updates[] = { NUDGE_UPDATE_ALL,
	NUDGE_UPDATE_BLANKS, NUDGE_UPDATE_NONE };
/* the index is o.key_phone */
static const char *const key_words[] = { "email", "phone", NULL };

struct rejects {
	FILE *fp;          /* --rejects file, or NULL */
	const char *path;
	const char *name;  /* the input's name */
	long shown;
	long dropped_shown;
};

static nudge_cli cli = { .usage = usage_text };

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

/* A row's reason on stderr, while fewer than NUDGE_CLI_SHOWN of its kind
 * (counted in *n) have been shown. */
static void
show(const struct rejects *rj, long *n, const nudge_csv_rec *rec,
    const char *reason, const char *note)
{
	if ((*n)++ < NUDGE_CLI_SHOWN)
		warnx("%s:%ld: %s%s", rj->name, rec->line, reason, note);
}

static int
on_reject(void *ctx, const nudge_csv_rec *rec, const char *reason,
    nudge_err *err)
{
	struct rejects *rj = ctx;
	char line[24];

	if (rj->fp == NULL) {
		show(rj, &rj->shown, rec, reason, "");
		return 0;
	}
	snprintf(line, sizeof line, "%ld", rec->line);
	if (nudge_csv_write_rejected(rj->fp, line, reason, rec) == -1)
		return write_fail(rj, err);
	return 0;
}

/* A row kept without a field: the first few are shown, all are counted. */
static int
on_drop(void *ctx, const nudge_csv_rec *rec, const char *reason,
    nudge_err *err)
{
	struct rejects *rj = ctx;

	(void)err;
	show(rj, &rj->dropped_shown, rec, reason,
	    " (kept the contact without it)");
	return 0;
}

static int
delimiter(const char *s)
{
	if (strcmp(s, ",") == 0 || strcmp(s, "comma") == 0)
		return ',';
	if (strcmp(s, ";") == 0 || strcmp(s, "semicolon") == 0)
		return ';';
	if (strcmp(s, "\t") == 0 || strcmp(s, "tab") == 0 ||
	    strcmp(s, "\\t") == 0)
		return '\t';
	nudge_cli_usage(&cli, "--delimiter: expected , ; or tab");
}

/* What the summary adds: fields left out, phones without a country code,
 * consent written and refused, the country guessed. */
static void
summary_notes(const char *input, const nudge_import_stats *s,
    const char *guessed, const char *tz)
{
	if (s->dropped > 0)
		warnx("%s: %ld row%s kept without a field that could not be "
		    "read%s", input, s->dropped, s->dropped == 1 ? "" : "s",
		    s->dropped > NUDGE_CLI_SHOWN ? " (the first 10 are shown)" :
		    " (shown above)");
	if (s->no_cc > 0) {
		char hint[128] = "";

		if (s->no_cc_il * 100 / s->no_cc >= 90)
			snprintf(hint, sizeof hint, " (the file looks Israeli: "
			    "%ld%% start with 05)", s->no_cc_il * 100 / s->no_cc);
		else if (s->no_cc_us * 100 / s->no_cc >= 90)
			snprintf(hint, sizeof hint, " (the file looks North "
			    "American: %ld%% have 10 digits)",
			    s->no_cc_us * 100 / s->no_cc);
		warnx("%s: %ld phone%s without a country code kept out: set "
		    "default_country in the config%s", input, s->no_cc,
		    s->no_cc == 1 ? "" : "s", hint);
	}
	if (s->consents > 0)
		warnx("%s: %ld consent record%s written", input, s->consents,
		    s->consents == 1 ? "" : "s");
	if (s->stale > 0) {
		char t[32];

		nudge_time_format(s->stale_at, t, sizeof t);
		t[10] = '\0';
		warnx("%s: %ld subscribe%s not applied: unsubscribed later "
		    "(%s, %s)", input, s->stale, s->stale == 1 ? "" : "s",
		    s->stale_source, t);
	}
	if (guessed != NULL)
		warnx("%s: default_country not set: took %s from the time "
		    "zone %s", input, guessed, tz);
}

int
main(int argc, char **argv)
{
	const char *input, *guessed = NULL, *fname = NULL, *fwhat;
	char how[64] = "";
	size_t i;
	const char **lists, **maps;
	struct rejects rj = { 0 };
	nudge_import_opts o = { 0 };
	nudge_import_stats stats;
	nudge_store *st;
	nudge_err ne;
	FILE *fp;
	int ch, rc;

	/* -l and -m may be repeated: never more often than argc */
	if ((lists = calloc((size_t)argc, sizeof *lists)) == NULL ||
	    (maps = calloc((size_t)argc, sizeof *maps)) == NULL)
		err(EX_OSERR, NULL);
	while ((ch = nudge_cli_getopt(&cli, argc, argv, "d:f:hk:l:m:nr:u:",
	    longopts)) != -1) {
		switch (ch) {
		case 'd':
			o.delimiter = delimiter(optarg);
			break;
		case 'f':
			for (i = 0; nudge_import_format(i, &fname, &fwhat); i++)
				if (strcmp(fname, optarg) == 0)
					break;
			if (fname == NULL || strcmp(fname, optarg) != 0)
				nudge_cli_usage(&cli, "--format: see nudge "
				    "import-list --formats");
			o.format = optarg;
			break;
		case 'u':
			o.update = updates[nudge_cli_choice(&cli, "--update",
			    optarg, update_words)];
			break;
		case OPT_FORMATS:
			for (i = 0; nudge_import_format(i, &fname, &fwhat); i++)
				printf("%-18s %s\n", fname, fwhat);
			free(lists);
			free(maps);
			return 0;
		case 'k':
			o.key_phone = nudge_cli_choice(&cli, "--key", optarg,
			    key_words);
			break;
		case 'l':
			if (*optarg == '\0')
				nudge_cli_usage(&cli,
				    "--list: empty list name");
			lists[o.nlists++] = optarg;
			break;
		case 'm':
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
	input = nudge_cli_input(&cli, argc, argv);
	if (strcmp(input, "-") == 0) {
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
	if (cli.cfg.default_country[0] == '\0' && (guessed =
	    nudge_phone_country_of_tz(cli.cfg.policy.quiet_tz)) != NULL)
		o.country = guessed;
	o.now = (int64_t)time(NULL);
	o.on_header = on_header;
	o.on_reject = on_reject;
	o.on_drop = on_drop;
	o.ctx = &rj;
	rc = nudge_import_contacts(st, fp, &o, &stats, &ne);
	if (rc == 0 && rj.fp != NULL && fflush(rj.fp) == EOF)
		rc = write_fail(&rj, &ne);
	if (rc != 0) {
		warnx("%s", ne.msg);
		warnx("%s: nothing imported", input);
	} else {
		if (rj.fp == NULL)
			nudge_cli_not_shown(input, rj.shown);
		if (strcmp(stats.encoding, "UTF-8") != 0 ||
		    stats.delimiter != ',')
			snprintf(how, sizeof how, "; read as %s, %s-separated",
			    stats.encoding, stats.delimiter == '\t' ? "tab" :
			    stats.delimiter == ';' ? "semicolon" : "comma");
		if (strcmp(stats.format, "csv") != 0)
			warnx("%s: recognised as a %s export", input,
			    stats.format);
		warnx("%s: read %ld, inserted %ld, updated %ld, unchanged %ld, "
		    "rejected %ld; %ld list memberships added%s%s", input,
		    stats.read, stats.inserted, stats.updated, stats.unchanged,
		    stats.rejected, stats.memberships, how,
		    o.dry_run ? " (dry run: nothing written)" : "");
		summary_notes(input, &stats, guessed, cli.cfg.policy.quiet_tz);
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
