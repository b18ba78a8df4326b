/* nudge-segment: print the contacts a segment expression selects. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "fmt.h"
#include "names.h"
#include "segment.h"

static const char usage_text[] =
    "usage: nudge segment [-c] [-f ids|tsv|csv|json|table] [--explain]\n"
    "                     [--fields field,...] [--now time] [--save name]\n"
    "                     [--db file] [--config file] expr ...\n";

enum { OPT_CONFIG = 256, OPT_DB, OPT_EXPLAIN, OPT_FIELDS, OPT_NOW,
    OPT_SAVE };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "count", no_argument, NULL, 'c' },
	{ "db", required_argument, NULL, OPT_DB },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "fields", required_argument, NULL, OPT_FIELDS },
	{ "format", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ "now", required_argument, NULL, OPT_NOW },
	{ "save", required_argument, NULL, OPT_SAVE },
	{ NULL, 0, NULL, 0 },
};

static const char *const default_fields[] = { "id", "email", "phone",
    "first_name", "last_name" };

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		warnx("%s", why);
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

/* Splits --fields a,b,c in place. */
static size_t
split_fields(char *s, const char ***out)
{
	const char **f = NULL, **nf;
	size_t n = 0;
	char *p;

	for (;;) {
		if ((nf = reallocarray(f, n + 1, sizeof *f)) == NULL)
			err(EX_OSERR, NULL);
		f = nf;
		if ((p = strchr(s, ',')) != NULL)
			*p = '\0';
		if (*s == '\0')
			usage("--fields: an empty field name");
		f[n++] = s;
		if (p == NULL)
			break;
		s = p + 1;
	}
	*out = f;
	return n;
}

/* The operands joined by spaces, so that the shell's quoting of the whole
 * expression is optional. */
static char *
join(int argc, char **argv)
{
	nudge_buf b = { 0 };
	int i;

	for (i = 0; i < argc; i++)
		if ((i > 0 && nudge_buf_putc(&b, ' ') == -1) ||
		    nudge_buf_puts(&b, argv[i]) == -1)
			err(EX_OSERR, NULL);
	return b.s;
}

static int
print_rows(nudge_store *st, const nudge_seg *seg, enum nudge_fmt_kind kind,
    const char *const *fields, size_t nfields, nudge_err *ne)
{
	sqlite3_stmt *s;
	nudge_fmt *f;
	int rc, step;

	if ((rc = nudge_seg_prepare(st, seg, &s, ne)) != 0)
		return rc;
	if ((rc = nudge_fmt_open(&f, stdout, kind, fields, nfields, ne)) != 0) {
		sqlite3_finalize(s);
		return rc;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		if ((rc = nudge_fmt_stmt_row(f, s, ne)) != 0)
			break;
	if (rc == 0 && step != SQLITE_DONE)
		rc = nudge_store_error(st, ne, "segment");
	sqlite3_finalize(s);
	if (nudge_fmt_close(f, rc == 0 ? ne : NULL) != 0 && rc == 0)
		rc = EX_IOERR;
	return rc;
}

static int
print_count(nudge_store *st, const nudge_seg *seg, nudge_err *ne)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = nudge_seg_prepare(st, seg, &s, ne)) != 0)
		return rc;
	if (sqlite3_step(s) == SQLITE_ROW)
		printf("%lld\n", (long long)sqlite3_column_int64(s, 0));
	else
		rc = nudge_store_error(st, ne, "segment");
	sqlite3_finalize(s);
	if (rc == 0 && fflush(stdout) == EOF)
		rc = nudge_errf(ne, EX_IOERR, "write error");
	return rc;
}

static int
print_explain(const nudge_seg *q, nudge_err *ne)
{
	nudge_buf out = { 0 };
	int rc = 0;

	if (nudge_seg_explain(q, &out) == -1)
		rc = nudge_errf(ne, EX_OSERR, "out of memory");
	else if (fputs(out.s, stdout) == EOF || fflush(stdout) == EOF)
		rc = nudge_errf(ne, EX_IOERR, "write error");
	nudge_buf_free(&out);
	return rc;
}

static void
on_unknown(void *arg, const nudge_seg_name *u, int rc, const char *why)
{
	(void)arg;
	(void)rc;
	warnx("warning: column %zu: %s", u->col, why);
}

/* A name the store does not hold (a typo: opend, "Newsletter") selects
 * nobody, or everybody after `not`: say so, and go on as asked. */
static void
warn_names(nudge_store *st, const nudge_config *cfg, const nudge_seg *seg)
{
	nudge_names *k;
	nudge_err ne;

	if (nudge_names_open(&k, st, cfg, &ne) != 0 ||
	    nudge_names_check_seg(k, seg, on_unknown, NULL, &ne) != 0)
		warnx("warning: names not checked: %s", ne.msg);
	nudge_names_free(k);
}

int
main(int argc, char **argv)
{
	const char *cfgpath = NULL, *dbpath = NULL, *save = NULL;
	const char *const *fields = default_fields;
	const char **userfields = NULL;
	size_t nfields = sizeof default_fields / sizeof default_fields[0];
	enum nudge_fmt_kind kind = NUDGE_FMT_IDS;
	int ch, rc, count = 0, explain = 0, have_kind = 0, have_now = 0;
	nudge_config cfg;
	nudge_store *st;
	nudge_seg seg, q = { 0 };
	nudge_buf out = { 0 };
	nudge_err ne;
	int64_t now = 0;
	char *expr;

	while ((ch = getopt_long(argc, argv, "cf:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			count = 1;
			break;
		case 'f':
			if (nudge_fmt_kind_parse(optarg, &kind) == -1)
				usage("--format: expected ids, tsv, csv, json "
				    "or table");
			have_kind = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case OPT_CONFIG:
			cfgpath = optarg;
			break;
		case OPT_DB:
			dbpath = optarg;
			break;
		case OPT_EXPLAIN:
			explain = 1;
			break;
		case OPT_FIELDS:
			free(userfields);
			nfields = split_fields(optarg, &userfields);
			fields = userfields;
			break;
		case OPT_NOW:
			if (nudge_time_parse(optarg, &now) == -1) {
				char qt[80];
				nudge_quote(qt, sizeof qt, optarg,
				    strlen(optarg));
				warnx("--now: not a time: \"%s\"", qt);
				usage(NULL);
			}
			have_now = 1;
			break;
		case OPT_SAVE:
			if (!nudge_is_name(optarg))
				usage("--save: a name is lower-case letters, "
				    "digits, _ and -, starting with a letter");
			save = optarg;
			break;
		default:
			usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage("no expression");
	expr = join(argc, argv);
	if (!have_now)
		now = (int64_t)time(NULL);
	if (!have_kind)
		kind = isatty(STDOUT_FILENO) ? NUDGE_FMT_TABLE :
		    userfields != NULL ? NUDGE_FMT_TSV : NUDGE_FMT_IDS;

	if ((rc = nudge_config_load(&cfg, cfgpath, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	/* Reading never creates a store (an empty one selects nobody, which
	 * would hide a wrong path); saving is a write and does. */
	if ((rc = nudge_config_open_store(&cfg, dbpath, save != NULL ?
	    NUDGE_STORE_CREATE : NUDGE_STORE_READONLY, &st, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	if ((rc = nudge_seg_compile(st, save, expr, now, &seg, &ne)) != 0) {
		warnx("%s", ne.msg);
		if (rc == EX_USAGE && nudge_seg_caret(&out, expr,
		    seg.err_off) == 0)
			fputs(out.s, stderr);
		goto done;
	}
	warn_names(st, &cfg, &seg);
	if (kind == NUDGE_FMT_IDS)
		nfields = 1; /* the id, which fields[0] need not be */
	if ((rc = nudge_seg_select(&seg, kind == NUDGE_FMT_IDS ? NULL : fields,
	    kind == NUDGE_FMT_IDS ? 0 : nfields, count, &q, &ne)) != 0) {
		if (rc == EX_USAGE)
			usage(ne.msg);
		goto fail;
	}
	if (save != NULL &&
	    (rc = nudge_seg_save(st, save, expr, now, &ne)) != 0)
		goto fail;
	if (explain)
		rc = print_explain(&q, &ne);
	else if (count)
		rc = print_count(st, &q, &ne);
	else if (save == NULL || have_kind)
		rc = print_rows(st, &q, kind, kind == NUDGE_FMT_IDS ?
		    default_fields : fields, nfields, &ne);
fail:
	if (rc != 0)
		warnx("%s", ne.msg);
done:
	nudge_seg_free(&q);
	nudge_seg_free(&seg);
	nudge_buf_free(&out);
	nudge_store_close(st);
	nudge_config_free(&cfg);
	free(userfields);
	free(expr);
	return rc;
}
