/* cli: what every command does the same way; see cli.h. */
#include "cli.h"

#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "util.h"

void
nudge_cli_usage(const nudge_cli *c, const char *why, ...)
{
	va_list ap;

	if (why != NULL) {
		va_start(ap, why);
		vwarnx(why, ap);
		va_end(ap);
	}
	fputs(c->usage, stderr);
	exit(EX_USAGE);
}

int64_t
nudge_cli_time(const nudge_cli *c, const char *opt, const char *arg)
{
	int64_t t;
	char q[80];

	if (nudge_time_parse(arg, &t) == -1)
		nudge_cli_usage(c, "%s: not a time: \"%s\" (ISO 8601, such "
		    "as 2026-11-01 or 2026-11-01T09:00:00Z)", opt,
		    nudge_quote(q, sizeof q, arg, strlen(arg)));
	return t;
}

/* The known long option closest to the unknown --word[=value] */
static const char *
closest_long(const char *word, const struct option *longopts)
{
	const char *cands[128];
	char w[65];
	size_t n = 0, len = strcspn(word, "=");

	if (len >= sizeof w)
		return NULL;
	memcpy(w, word, len);
	w[len] = '\0';
	for (; longopts != NULL && longopts->name != NULL && n < 128;
	    longopts++)
		cands[n++] = longopts->name;
	cands[n < 128 ? n++ : 127] = "version";
	return nudge_closest(w, cands, n);
}

void
nudge_cli_version(void)
{
	printf("%s %s\n", program_invocation_short_name, NUDGE_VERSION);
	exit(fflush(stdout) == EOF ? EX_IOERR : 0);
}

/* getopt_long with our words for its errors; see nudge_cli_getopt */
static int
next_option(nudge_cli *c, int argc, char *const *argv,
    const char *shortopts, const struct option *longopts)
{
	char sub[80] = "", opts[128];
	const char *arg, *best, *prefix[2] = { NULL, NULL };
	const struct option *lo;
	int ch, i, prev, len, nmatch;

	if (!c->scanned) {
		c->scanned = 1;
		c->now = (int64_t)time(NULL);
		/* for shell completion (completion/): the long options */
		if (argc == 2 && strcmp(argv[1], "--list-options") == 0) {
			for (lo = longopts; lo != NULL && lo->name != NULL; lo++)
				printf("--%s\n", lo->name);
			printf("--version\n");
			exit(fflush(stdout) == EOF ? EX_IOERR : 0);
		}
		for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
			if (strcmp(argv[i], "--version") == 0)
				nudge_cli_version();
	}
	/* ':' first: a missing value is told apart from an unknown
	 * option; opterr off: the words are ours */
	snprintf(opts, sizeof opts, ":%s", shortopts);
	opterr = 0;
	prev = optind;
	ch = getopt_long(argc, argv, opts, longopts, NULL);
	if (ch != '?' && ch != ':')
		return ch;
	/* a subcommand's argv[0] is its word ("add"), not the program */
	if (argv[0] != NULL && strchr(argv[0], '/') == NULL &&
	    strncmp(argv[0], "nudge", 5) != 0)
		snprintf(sub, sizeof sub, "%.60s: ", argv[0]);
	/* the element getopt stopped at: the one before optind, unless a
	 * cluster of short options (-nx) is still being read */
	arg = optind > prev && optind - 1 < argc ? argv[optind - 1] :
	    prev < argc ? argv[prev] : "";
	if (ch == ':') {
		if (optopt != 0 && strncmp(arg, "--", 2) != 0)
			nudge_cli_usage(c, "%soption -%c needs a value", sub,
			    optopt);
		nudge_cli_usage(c, "%soption %.*s needs a value", sub,
		    (int)strcspn(arg, "="), arg);
	}
	if (strncmp(arg, "--", 2) != 0)
		nudge_cli_usage(c, "%sunknown option -%c", sub, optopt);
	if (optopt != 0)
		nudge_cli_usage(c, "%soption %.*s takes no value", sub,
		    (int)strcspn(arg, "="), arg);
	len = (int)strcspn(arg, "=");
	for (lo = longopts, nmatch = 0; lo != NULL && lo->name != NULL; lo++)
		if (strncmp(lo->name, arg + 2, (size_t)len - 2) == 0 &&
		    nmatch++ < 2)
			prefix[nmatch - 1] = lo->name;
	if (nmatch > 1)
		nudge_cli_usage(c, "%soption %.*s is ambiguous: --%s, --%s%s",
		    sub, len, arg, prefix[0], prefix[1], nmatch > 2 ?
		    ", ..." : "");
	if ((best = closest_long(arg + 2, longopts)) != NULL)
		nudge_cli_usage(c, "%sunknown option %.*s; did you mean --%s?",
		    sub, (int)strcspn(arg, "="), arg, best);
	nudge_cli_usage(c, "%sunknown option %.*s", sub,
	    (int)strcspn(arg, "="), arg);
}

/* Handles ch when it is a common option and returns 1; returns 0 for
 * any other ch, which is the command's. */
static int
common_option(nudge_cli *c, int ch, const char *arg)
{
	switch (ch) {
	case 'h':
		fputs(c->usage, stdout);
		exit(fflush(stdout) == EOF ? EX_IOERR : 0);
	case NUDGE_CLI_CONFIG:
		c->config = arg;
		return 1;
	case NUDGE_CLI_CREATE:
		c->create = 1;
		return 1;
	case NUDGE_CLI_DB:
		c->db = arg;
		return 1;
	case NUDGE_CLI_NOW:
		c->now = nudge_cli_time(c, "--now", arg);
		c->have_now = 1;
		return 1;
	default:
		return 0;
	}
}

int
nudge_cli_getopt(nudge_cli *c, int argc, char *const *argv,
    const char *shortopts, const struct option *longopts)
{
	int ch;

	while ((ch = next_option(c, argc, argv, shortopts, longopts)) != -1 &&
	    common_option(c, ch, optarg))
		;
	return ch;
}

/* Exits 64 saying "PREFIXexpected a, b or c", the words of words. */
static void __attribute__((noreturn))
expected(const nudge_cli *c, const char *prefix, const char *const *words)
{
	char why[160];
	size_t len;
	int i;

	snprintf(why, sizeof why, "%sexpected ", prefix);
	for (i = 0; words[i] != NULL; i++) {
		len = strlen(why);
		snprintf(why + len, sizeof why - len, "%s%s", i == 0 ? "" :
		    words[i + 1] == NULL ? " or " : ", ", words[i]);
	}
	nudge_cli_usage(c, "%s", why);
}

int
nudge_cli_choice(const nudge_cli *c, const char *opt, const char *arg,
    const char *const *words)
{
	char prefix[64];
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(arg, words[i]) == 0)
			return i;
	snprintf(prefix, sizeof prefix, "%s: ", opt);
	expected(c, prefix, words);
}

int
nudge_cli_sub(nudge_cli *c, int *argc, char ***argv,
    const char *const *names)
{
	const char *sub = *argc > 1 ? (*argv)[1] : "";
	int i;

	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0)
		common_option(c, 'h', NULL);
	if (strcmp(sub, "--version") == 0)
		nudge_cli_version();
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(sub, names[i]) == 0) {
			(*argc)--;
			(*argv)++;
			return i;
		}
	expected(c, "", names);
}

void
nudge_cli_operands(const nudge_cli *c, int *argc, char ***argv, int min,
    int max, const char *why)
{
	*argc -= optind;
	*argv += optind;
	if (*argc < min || *argc > max)
		nudge_cli_usage(c, "%s", why);
}

const char *
nudge_cli_input(const nudge_cli *c, int argc, char **argv)
{
	nudge_cli_operands(c, &argc, &argv, 0, 1, "one input file at most");
	if (argc == 1)
		return argv[0];
	if (isatty(STDIN_FILENO))
		nudge_cli_usage(c, "no input: give a file, or pipe one in");
	return "-";
}

void
nudge_cli_not_shown(const char *name, long shown)
{
	if (shown > NUDGE_CLI_SHOWN)
		warnx("%s: %ld more rejected rows not shown (--rejects FILE "
		    "keeps them all)", name, shown - NUDGE_CLI_SHOWN);
}

enum nudge_fmt_kind
nudge_cli_format(const nudge_cli *c, const char *arg, const char *kinds)
{
	enum nudge_fmt_kind kind;
	const char *p;
	size_t len = strlen(arg);

	/* arg must be one of the words of kinds, not just any format */
	for (p = kinds; len > 0 && (p = strstr(p, arg)) != NULL; p++)
		if ((p == kinds || p[-1] == ' ') && (p[len] == '\0' ||
		    p[len] == ',' || p[len] == ' ') &&
		    nudge_fmt_kind_parse(arg, &kind) == 0)
			return kind;
	nudge_cli_usage(c, "--format: expected %s", kinds);
}

nudge_store *
nudge_cli_view(nudge_cli *c, int argc, char **argv, const char *kinds,
    enum nudge_fmt_kind *kind, int nargs, const char *why)
{
	static const struct option longopts[] = {
		NUDGE_CLI_OPT_CONFIG,
		NUDGE_CLI_OPT_DB,
		{ "format", required_argument, NULL, 'f' },
		NUDGE_CLI_OPT_HELP,
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = nudge_cli_getopt(c, argc, argv, "f:h", longopts)) != -1)
		*kind = nudge_cli_format(c, optarg, kinds);
	nudge_cli_operands(c, &argc, &argv, nargs, nargs, why);
	return nudge_cli_store(c, NUDGE_STORE_READONLY);
}

int
nudge_cli_table(nudge_cli *c, int argc, char **argv,
    int (*write)(nudge_store *, enum nudge_fmt_kind, FILE *, nudge_err *))
{
	enum nudge_fmt_kind kind = NUDGE_FMT_TABLE;
	nudge_store *st;
	nudge_err ne;

	st = nudge_cli_view(c, argc, argv, "table, tsv, csv or json", &kind,
	    0, "no operands expected");
	return nudge_cli_end(c, write(st, kind, stdout, &ne), &ne);
}

void
nudge_cli_config(nudge_cli *c)
{
	nudge_err ne;
	int rc;

	if (c->loaded)
		return;
	if ((rc = nudge_config_load(&c->cfg, c->config, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	c->loaded = 1;
}

nudge_store *
nudge_cli_store(nudge_cli *c, int flags)
{
	nudge_err ne;
	int rc;

	nudge_cli_config(c);
	/* --create makes the store, then it is opened as the command
	 * asked (a reader's read-only connection cannot create it) */
	if (c->create && (flags & NUDGE_STORE_READONLY)) {
		if ((rc = nudge_config_open_store(&c->cfg, c->db,
		    NUDGE_STORE_CREATE, &c->st, &ne)) != 0)
			errx(rc, "%s", ne.msg);
		nudge_store_close(c->st);
		c->st = NULL;
	} else if (c->create) {
		flags |= NUDGE_STORE_CREATE;
	}
	rc = nudge_config_open_store(&c->cfg, c->db, flags, &c->st, &ne);
	/* a typo in --db must not make an empty store that answers
	 * "no such contact" or selects nobody */
	if (rc == EX_NOINPUT)
		errx(rc, "%s (nudge import-list or --create makes a store)",
		    ne.msg);
	if (rc != 0)
		errx(rc, "%s", ne.msg);
	return c->st;
}

void
nudge_cli_close(nudge_cli *c)
{
	nudge_store_close(c->st);
	c->st = NULL;
	if (c->loaded)
		nudge_config_free(&c->cfg);
	c->loaded = 0;
}

int
nudge_cli_end(nudge_cli *c, int rc, const nudge_err *ne)
{
	if (rc != 0)
		warnx("%s", ne->msg);
	nudge_cli_close(c);
	return rc;
}
