/* nudge-segment: print the contacts a segment expression selects. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "contact.h"
#include "fmt.h"
#include "names.h"
#include "segment.h"

static const char usage_text[] =
    "usage: nudge segment [-c] [-f ids|tsv|csv|json|table] [--explain]\n"
    "                     [--fields field,...] [--now time] [--original-names]\n"
    "                     [--save name] [--create] [--db file] [--config file]\n"
    "                     expr ...\n";

enum { OPT_EXPLAIN = 256, OPT_FIELDS, OPT_ORIGINAL, OPT_SAVE };

static const struct option longopts[] = {
	NUDGE_CLI_OPT_CONFIG,
	{ "count", no_argument, NULL, 'c' },
	NUDGE_CLI_OPT_CREATE,
	NUDGE_CLI_OPT_DB,
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "fields", required_argument, NULL, OPT_FIELDS },
	{ "format", required_argument, NULL, 'f' },
	NUDGE_CLI_OPT_HELP,
	NUDGE_CLI_OPT_NOW,
	{ "original-names", no_argument, NULL, OPT_ORIGINAL },
	{ "save", required_argument, NULL, OPT_SAVE },
	{ NULL, 0, NULL, 0 },
};

static const char *const default_fields[] = { "id", "email", "phone",
    "first_name", "last_name" };

static nudge_cli cli = { .usage = usage_text };

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
			nudge_cli_usage(&cli, "--fields: an empty field name");
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
print_count(nudge_store *st, const nudge_seg *q, nudge_err *ne)
{
	int64_t n;
	int rc;

	if ((rc = nudge_seg_count(st, q, &n, ne)) != 0)
		return rc;
	printf("%lld\n", (long long)n);
	if (fflush(stdout) == EOF)
		return nudge_errf(ne, EX_IOERR, "write error");
	return 0;
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

/* The headers of --original-names: each field, an attrs key by the
 * column name it was last imported from (contact.h); in one allocation. */
static int
original_names(nudge_store *st, const char *const *fields, size_t n,
    const char ***out, nudge_err *e)
{
	const size_t w = 256;
	const char **h;
	char *names;
	size_t i;
	int rc = 0;

	if ((h = calloc(n, sizeof *h + w)) == NULL)
		err(EX_OSERR, NULL);
	names = (char *)(h + n);
	for (i = 0; i < n && rc == 0; i++) {
		rc = nudge_contact_attr_name(st, fields[i], names + i * w, w, e);
		h[i] = names + i * w;
	}
	*out = h;
	return rc;
}

int
main(int argc, char **argv)
{
	const char *save = NULL;
	const char *const *fields = default_fields;
	const char **userfields = NULL;
	size_t nfields = sizeof default_fields / sizeof default_fields[0];
	enum nudge_fmt_kind kind = NUDGE_FMT_IDS;
	int ch, rc, count = 0, explain = 0, have_kind = 0, original = 0;
	const char **heads = NULL;
	nudge_store *st;
	nudge_seg seg, q = { 0 };
	nudge_buf out = { 0 };
	nudge_err ne;
	char *expr;

	while ((ch = nudge_cli_getopt(&cli, argc, argv, "cf:h",
	    longopts)) != -1) {
		switch (ch) {
		case 'c':
			count = 1;
			break;
		case 'f':
			kind = nudge_cli_format(&cli, optarg,
			    "ids, tsv, csv, json or table");
			have_kind = 1;
			break;
		case OPT_EXPLAIN:
			explain = 1;
			break;
		case OPT_FIELDS:
			free(userfields);
			nfields = split_fields(optarg, &userfields);
			fields = userfields;
			break;
		case OPT_ORIGINAL:
			original = 1;
			break;
		case OPT_SAVE:
			if (!nudge_is_name(optarg))
				nudge_cli_usage(&cli,
				    "--save: a name is lower-case letters, "
				    "digits, _ and -, starting with a letter");
			save = optarg;
			break;
		default:
			nudge_cli_usage(&cli, NULL);
		}
	}
	nudge_cli_operands(&cli, &argc, &argv, 1, INT_MAX, "no expression");
	expr = join(argc, argv);
	if (!have_kind)
		kind = isatty(STDOUT_FILENO) ? NUDGE_FMT_TABLE :
		    userfields != NULL ? NUDGE_FMT_TSV : NUDGE_FMT_IDS;

	/* an empty store selects nobody, which would hide a wrong path:
	 * only --create makes one, even to save into */
	st = nudge_cli_store(&cli, save != NULL ? 0 : NUDGE_STORE_READONLY);
	if ((rc = nudge_seg_compile(st, save, expr, cli.now, &seg, &ne)) !=
	    0) {
		warnx("%s", ne.msg);
		if (rc == EX_USAGE && nudge_seg_caret(&out, expr,
		    seg.err_off) == 0)
			fputs(out.s, stderr);
		goto done;
	}
	warn_names(st, &cli.cfg, &seg);
	if (kind == NUDGE_FMT_IDS)
		nfields = 1; /* the id, which fields[0] need not be */
	if ((rc = nudge_seg_select(&seg, kind == NUDGE_FMT_IDS ? NULL : fields,
	    kind == NUDGE_FMT_IDS ? 0 : nfields, count, &q, &ne)) != 0) {
		if (rc == EX_USAGE)
			nudge_cli_usage(&cli, "%s", ne.msg);
		goto fail;
	}
	if (save != NULL &&
	    (rc = nudge_seg_save(st, save, expr, cli.now, &ne)) != 0)
		goto fail;
	if (explain)
		rc = print_explain(&q, &ne);
	else if (count)
		rc = print_count(st, &q, &ne);
	else if ((save == NULL || have_kind) && original &&
	    kind != NUDGE_FMT_IDS && (rc = original_names(st, fields, nfields,
	    &heads, &ne)) != 0)
		;
	else if (save == NULL || have_kind)
		rc = nudge_seg_write(st, &q, kind, kind == NUDGE_FMT_IDS ?
		    default_fields : heads != NULL ? heads : fields, nfields,
		    stdout, &ne);
fail:
	if (rc != 0)
		warnx("%s", ne.msg);
done:
	nudge_seg_free(&q);
	nudge_seg_free(&seg);
	nudge_buf_free(&out);
	nudge_cli_close(&cli);
	free(userfields);
	free(heads);
	free(expr);
	return rc;
}
