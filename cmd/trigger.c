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

#include "abtest.h"
#include "besthour.h"
#include "campaign.h"
#include "cli.h"
#include "contact.h"
#include "clock.h"
#include "config.h"
#include "names.h"
#include "signup.h"
#include "template.h"
#include "track.h"
#include "tplctx.h"
#include "trigger.h"
#include "trigline.h"

static const char usage_text[] =
    "usage: nudge trigger [-n] [-j jobs] [--check] [--explain] "
    "[--now time]\n"
    "                     [--create] [--db file] [--config file] "
    "[campaign.yaml ...]\n";

enum { OPT_CHECK = 256, OPT_EXPLAIN };

static const struct option longopts[] = {
	{ "check", no_argument, NULL, OPT_CHECK },
	NUDGE_CLI_OPT_CONFIG,
	NUDGE_CLI_OPT_CREATE,
	NUDGE_CLI_OPT_DB,
	{ "dry-run", no_argument, NULL, 'n' },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	NUDGE_CLI_OPT_HELP,
	{ "jobs", required_argument, NULL, 'j' },
	NUDGE_CLI_OPT_NOW,
	{ NULL, 0, NULL, 0 },
};

#define JOBS_MAX 16

struct out {
	int dry_run;
	long n;
};

static nudge_cli cli = { .usage = usage_text };

static void
on_due(void *arg, const nudge_due *d)
{
	struct out *o = arg;

	o->n++;
	if (!o->dry_run)
		(void)nudge_trigline_write(stdout, d->contact_id, d->c->name,
		    d->step, d->c->path);  /* checked at the final fflush */
}

/* Loads every file, and with check its templates too; the first error
 * of each file is printed.  Returns 0 or the first error's code. */
static int
load_all(char **paths, int n, nudge_campaign **cs, int check)
{
	nudge_err e = { "" };
	nudge_tpl *t;
	size_t k, v;
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
			for (v = 0; v < cs[i]->steps[k].nvariants; v++) {
				const nudge_variant *x =
				    &cs[i]->steps[k].variants[v];

				if (x->tpl == NULL)
					continue;
				if ((rc = nudge_tpl_load(x->tpl, &t, &e)) != 0) {
					warnx("%s:%ld:%ld: steps[%zu]: variants[%zu]: "
					    "template: %s", paths[i],
					    cs[i]->steps[k].line,
					    cs[i]->steps[k].col, k + 1, v + 1,
					    e.msg);
					first = first != 0 ? first : rc;
				}
				nudge_tpl_free(t);
			}
		}
	}
	return first;
}

/* Every field the steps' templates name must be one a contact can have
 * (contact.h, as send refuses them), and every {{#if}} condition must
 * compile with known names (tplctx.h): the first error of each template
 * is printed.  Returns 0 or the first error's code. */
static int
check_fields(nudge_campaign **cs, int n, nudge_store *st)
{
	nudge_tplcond *c = NULL;
	nudge_err e;
	nudge_tpl *t;
	size_t k, v;
	int i, rc, first = 0;

	for (i = 0; i < n; i++)
		for (k = 0; k < cs[i]->nsteps; k++) {
			const nudge_step *s = &cs[i]->steps[k];

			/* the step's template, then its variants' own */
			for (v = 0; v <= s->nvariants; v++) {
				const char *path = v == 0 ? s->tpl :
				    s->variants[v - 1].tpl;

				if (path == NULL || nudge_tpl_load(path, &t,
				    &e) != 0)
					continue;  /* load_all said why */
				if ((rc = nudge_contact_tpl_check(st, t,
				    cs[i]->entry_on, &e)) != 0 || (rc = nudge_tplcond_open(&c,
				    st, t, time(NULL), &e)) != 0) {
					warnx("%s", e.msg);
					first = first != 0 ? first : rc;
				}
				nudge_tplcond_free(c);
				c = NULL;
				nudge_tpl_free(t);
			}
		}
	return first;
}

/* Every name the campaigns' expressions use must be known (names.h):
 * the first unknown one of each file is printed.  nostore, when not
 * NULL, says why there is no store (--check without one).  Returns 0 or
 * the first error's code. */
static int
check_names(nudge_campaign **cs, int n, nudge_store *st,
    const nudge_config *cfg, const char *nostore)
{
	nudge_names *k;
	nudge_err e;
	int i, rc, first = 0, unchecked, nunchecked = 0;

	if ((rc = nudge_names_open(&k, st, cfg, &e)) != 0)
		errx(rc, "%s", e.msg);
	for (i = 0; i < n; i++)
		if ((rc = nudge_names_add_campaign(k, cs[i], &e)) != 0)
			errx(rc, "%s", e.msg);
	for (i = 0; i < n; i++) {
		if ((rc = nudge_campaign_check_names(cs[i], k, &unchecked,
		    &e)) != 0) {
			warnx("%s", e.msg);
			first = first != 0 ? first : rc;
		}
		nunchecked += unchecked;
	}
	/* the config's exclusion segment, which every campaign applies */
	if (cfg->policy.exclude != NULL && (rc = nudge_names_check_expr(k,
	    cfg->policy.exclude, NULL, cfg->path, cfg->policy.exclude_line,
	    cfg->policy.exclude_col, "policy: exclude", &nunchecked,
	    &e)) != 0) {
		warnx("%s", e.msg);
		first = first != 0 ? first : rc;
	}
	nudge_names_free(k);
	if (nunchecked > 0 && nostore != NULL)
		warnx("note: no store (%s): %d name%s only a store could "
		    "know (lists, campaigns, event types) not checked",
		    nostore, nunchecked, nunchecked == 1 ? "" : "s");
	return first;
}

int
main(int argc, char **argv)
{
	nudge_campaign **cs;
	nudge_store *st = NULL;
	nudge_trigger_pool *pool = NULL;
	nudge_buf ex = { 0 };
	nudge_err ne;
	struct out out = { 0 };
	int64_t now;
	char *end;
	long jobs = 0;
	int ch, i, j, n, rc, check = 0, explain = 0;

	while ((ch = nudge_cli_getopt(&cli, argc, argv, "hj:n",
	    longopts)) != -1) {
		switch (ch) {
		case 'j':
			jobs = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || jobs < 1 ||
			    jobs > 64)
				nudge_cli_usage(&cli,
				    "--jobs: expected a number from 1 to 64");
			break;
		case 'n':
			out.dry_run = 1;
			break;
		case OPT_CHECK:
			check = 1;
			break;
		case OPT_EXPLAIN:
			explain = 1;
			break;
		default:
			nudge_cli_usage(&cli, NULL);
		}
	}
	/* with forms, the confirmation journey runs too, unless a
	 * campaign of its name is given in its place */
	nudge_cli_config(&cli);
	nudge_cli_operands(&cli, &argc, &argv, cli.cfg.nforms > 0 ? 0 : 1,
	    INT_MAX, "no campaign files");
	now = cli.now;
	n = argc;
	if ((cs = calloc((size_t)n + 2, sizeof *cs)) == NULL)
		err(EX_OSERR, NULL);
	rc = load_all(argv, n, cs, check);
	for (j = 0; rc == 0 && cli.cfg.nforms > 0 &&
	    nudge_signup_journeys[j] != NULL; j++) {
		char journey[4400], *jp = journey;

		for (i = 0; i < n && strcmp(cs[i]->name,
		    nudge_signup_journeys[j]) != 0; i++)
			;
		if (i < n)
			continue;
		if ((rc = nudge_signup_journey(nudge_signup_journeys[j],
		    journey, sizeof journey, &ne)) != 0)
			errx(rc, "%s", ne.msg);
		if ((rc = load_all(&jp, 1, cs + n, check)) == 0)
			n++;
	}
	if (rc != 0)
		goto done;
	if (check) {
		/* --check reads the store when there is one, and never
		 * makes one */
		nudge_cli_config(&cli);
		if ((rc = nudge_config_open_store(&cli.cfg, cli.db,
		    NUDGE_STORE_READONLY, &cli.st, &ne)) != 0 &&
		    rc != EX_NOINPUT)
			errx(rc, "%s", ne.msg);
		st = cli.st;
	} else {
		st = nudge_cli_store(&cli, NUDGE_STORE_READONLY);
		/* what nudge track spooled (an unsubscribe) before consent
		 * is read */
		if ((rc = nudge_track_drain(st, 0, 0, NULL, &ne)) != 0) {
			warnx("%s", ne.msg);
			nudge_cli_close(&cli);
			goto done;
		}
	}
	rc = check_names(cs, n, st, &cli.cfg, st == NULL ? ne.msg : NULL);
	for (i = 0; i < n; i++)
		cs[i]->global_policy = &cli.cfg.policy;
	if (check && st != NULL && (i = check_fields(cs, n, st)) != 0 &&
	    rc == 0)
		rc = i;
	/* an A/B test too small to tell its variants apart: said up front,
	 * not an error (a small shop may still want its first guess) */
	for (i = 0; check && rc == 0 && i < n; i++) {
		nudge_buf notes = { 0 };

		if ((rc = nudge_ab_check(st, cs[i], now, &notes, &ne)) != 0 ||
		    (st != NULL && (rc = nudge_besthour_check(st, cs[i], &notes,
		    &ne)) != 0))
			warnx("%s", ne.msg);
		else if (notes.len > 0)
			fprintf(stderr, "nudge-trigger: %s", notes.s);
		nudge_buf_free(&notes);
	}
	/* a test whose wait is over gets its winner now, before the pool
	 * reads which contacts are due: recorded on a writable connection */
	for (i = 0; !check && !explain && rc == 0 && i < n; i++) {
		nudge_store *w = NULL;
		nudge_buf notes = { 0 };

		if (!nudge_ab_has_test(cs[i]))
			continue;
		if (!out.dry_run && (rc = nudge_config_open_store(&cli.cfg,
		    cli.db, 0, &w, &ne)) != 0) {
			warnx("%s", ne.msg);
			break;
		}
		if ((rc = nudge_ab_settle(w != NULL ? w : st, cs[i], now,
		    !out.dry_run, &notes, &ne)) != 0)
			warnx("%s", ne.msg);
		else if (notes.len > 0)
			fprintf(stderr, "nudge-trigger: %s", notes.s);
		nudge_buf_free(&notes);
		nudge_store_close(w);
	}
	if (rc != 0 || check) {
		nudge_cli_close(&cli);
		goto done;
	}
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
	nudge_cli_close(&cli);
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
