/* nudge-trigger: print every due (contact, campaign, step) of campaign
 * files, for nudge send. */
#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "campaign.h"
#include "clock.h"
#include "config.h"
#include "template.h"
#include "track.h"
#include "trigger.h"

static const char usage_text[] =
    "usage: nudge trigger [-n] [-j jobs] [--check] [--explain] "
    "[--now time]\n"
    "                     [--db file] [--config file] campaign.yaml ...\n";

enum { OPT_CHECK = 256, OPT_CONFIG, OPT_DB, OPT_EXPLAIN, OPT_NOW };

static const struct option longopts[] = {
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "db", required_argument, NULL, OPT_DB },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "help", no_argument, NULL, 'h' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "now", required_argument, NULL, OPT_NOW },
	{ NULL, 0, NULL, 0 },
};

#define JOBS_MAX 16

struct out {
	int dry_run;
	long n;
};

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		warnx("%s", why);
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

static void
on_due(void *arg, const nudge_due *d)
{
	struct out *o = arg;

	o->n++;
	if (!o->dry_run)
		printf("%lld\t%s\t%s\t%s\n", (long long)d->contact_id,
		    d->c->name, d->step, d->c->path);
}

/* Loads every file, and with check its templates too; the first error
 * of each file is printed.  Returns 0 or the first error's code. */
static int
load_all(char **paths, int n, nudge_campaign **cs, int check)
{
	nudge_err e = { "" };
	nudge_tpl *t;
	size_t k;
	int i, rc, first = 0;

	for (i = 0; i < n; i++) {
		int j;

		if ((rc = nudge_campaign_load(paths[i], &cs[i], &e)) != 0) {
			warnx("%s", e.msg);
			first = first != 0 ? first : rc;
			continue;
		}
		/* one name, one ledger: two files may not share it */
		for (j = 0; j < i; j++)
			if (cs[j] != NULL && strcmp(cs[j]->name, cs[i]->name) ==
			    0) {
				warnx("%s: campaign \"%s\" is also %s", paths[i],
				    cs[i]->name, paths[j]);
				first = first != 0 ? first : EX_DATAERR;
			}
		for (k = 0; check && k < cs[i]->nsteps; k++) {
			if ((rc = nudge_tpl_load(cs[i]->steps[k].tpl, &t,
			    &e)) != 0) {
				warnx("%s:%ld:%ld: steps[%zu]: template: %s",
				    paths[i], cs[i]->steps[k].line,
				    cs[i]->steps[k].col, k + 1, e.msg);
				first = first != 0 ? first : rc;
			}
			nudge_tpl_free(t);
		}
	}
	return first;
}

int
main(int argc, char **argv)
{
	const char *cfgpath = NULL, *dbpath = NULL;
	nudge_campaign **cs;
	nudge_config cfg;
	nudge_store *st = NULL;
	nudge_trigger_pool *pool = NULL;
	nudge_buf ex = { 0 };
	nudge_err ne;
	struct out out = { 0 };
	int64_t now = 0;
	char *end;
	long jobs = 0;
	int ch, i, n, rc, check = 0, explain = 0, have_now = 0;

	while ((ch = getopt_long(argc, argv, "hj:n", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'j':
			jobs = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || jobs < 1 ||
			    jobs > 64)
				usage("--jobs: expected a number from 1 to 64");
			break;
		case 'n':
			out.dry_run = 1;
			break;
		case OPT_CHECK:
			check = 1;
			break;
		case OPT_CONFIG:
			cfgpath = optarg;
			break;
		case OPT_DB:
			dbpath = optarg;
			break;
		case OPT_EXPLAIN:
			explain = 1;
			break;
		case OPT_NOW:
			if (nudge_time_parse(optarg, &now) == -1)
				usage("--now: expected an ISO 8601 time");
			have_now = 1;
			break;
		default:
			usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage("no campaign files");
	if (!have_now)
		now = (int64_t)time(NULL);
	n = argc;
	if ((cs = calloc((size_t)n, sizeof *cs)) == NULL)
		err(EX_OSERR, NULL);
	rc = load_all(argv, n, cs, check);
	if (check || rc != 0)
		goto done;
	if ((rc = nudge_config_load(&cfg, cfgpath, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	if ((rc = nudge_config_open_store(&cfg, dbpath, NUDGE_STORE_READONLY,
	    &st, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	/* what nudge track spooled (an unsubscribe) before consent is read */
	if ((rc = nudge_track_drain(st, 0, 0, NULL, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	/* campaigns side by side, each thread on its own connection: by
	 * default one per campaign up to JOBS_MAX, so that the system
	 * shares the processors among them and a slow campaign never waits
	 * for others queued before it */
	if (jobs == 0)
		jobs = n < JOBS_MAX ? n : JOBS_MAX;
	if (!explain && (rc = nudge_trigger_start(st->path, cs, (size_t)n,
	    now, (int)jobs, &pool, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	for (i = 0; i < n && rc == 0; i++) {
		long before = out.n;

		rc = explain ? nudge_trigger_run(st, cs[i], now, on_due, &out,
		    &ex, &ne) : nudge_trigger_next(pool, (size_t)i, on_due,
		    &out, &ne);
		if (rc == 0 && out.dry_run)
			fprintf(stderr, "nudge-trigger: %s: %ld due\n",
			    cs[i]->name, out.n - before);
	}
	nudge_trigger_end(pool);
	if (explain)
		fputs(nudge_buf_str(&ex), stdout);
	if (rc != 0)
		warnx("%s", ne.msg);
	nudge_store_close(st);
	nudge_config_free(&cfg);
done:
	if (fflush(stdout) == EOF && rc == 0) {
		warn("stdout");
		rc = EX_IOERR;
	}
	for (i = 0; i < n; i++)
		nudge_campaign_free(cs[i]);
	free(cs);
	nudge_buf_free(&ex);
	return rc;
}
