/* cli: the plumbing every command shares: its usage text, the common
 * options (--config, --create, --db, --help, --now) with one wording for
 * their errors, and loading the configuration then opening the store.
 *
 * The one lib/ module that prints and exits: it is cmd/'s, kept in the
 * library only so that every nudge-NAME links it like the rest (git's
 * parse-options and usage.c).  Nothing else in lib/ may call it. */
#ifndef NUDGE_CLI_H
#define NUDGE_CLI_H

#include <getopt.h>
#include <limits.h>
#include <stdint.h>

#include "config.h"
#include "fmt.h"
#include "store.h"

/* getopt_long values of the common long options, above any command's
 * own (which start at 256). */
enum {
	NUDGE_CLI_CONFIG = 1000,
	NUDGE_CLI_CREATE,
	NUDGE_CLI_DB,
	NUDGE_CLI_NOW,
};

/* Entries for a command's struct option table (kept in name order). */
#define NUDGE_CLI_OPT_CONFIG { "config", required_argument, NULL, \
	NUDGE_CLI_CONFIG }
#define NUDGE_CLI_OPT_CREATE { "create", no_argument, NULL, NUDGE_CLI_CREATE }
#define NUDGE_CLI_OPT_DB { "db", required_argument, NULL, NUDGE_CLI_DB }
#define NUDGE_CLI_OPT_HELP { "help", no_argument, NULL, 'h' }
#define NUDGE_CLI_OPT_NOW { "now", required_argument, NULL, NUDGE_CLI_NOW }

typedef struct nudge_cli {
	const char *usage;      /* the usage text, as the man page's SYNOPSIS */
	const char *config;     /* --config, or NULL */
	const char *db;         /* --db, or NULL */
	int create;             /* --create: a missing store is made */
	int have_now;           /* --now was given ... */
	int64_t now;            /* ... and is this; else the wall clock */
	nudge_config cfg;       /* after nudge_cli_config */
	int loaded;
	nudge_store *st;        /* after nudge_cli_store */
	int scanned;            /* argv was looked at for --version */
} nudge_cli;

/* A command's state: `static nudge_cli cli = { .usage = usage_text };`;
 * the first nudge_cli_getopt starts the rest (now is the wall clock
 * until --now says otherwise). */

/* Prints why (if not NULL, printf-style) and the usage text on stderr,
 * and exits 64. */
void nudge_cli_usage(const nudge_cli *c, const char *why, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

/* Prints "nudge-NAME VERSION" on stdout and exits 0. */
void nudge_cli_version(void) __attribute__((noreturn));

/*
 * getopt_long for a command: returns the next of the command's own
 * options as getopt_long does, with the command's messages instead of
 * getopt's.  The common options are handled here and never returned:
 * --config, --create, --db, --now (a bad time is a usage error in the
 * one wording of nudge_cli_time), and -h/--help, which prints the usage
 * on stdout and exits 0.  --version, anywhere before "--", prints
 * "nudge-NAME VERSION" and exits 0 (no command's table needs an entry
 * for it); --list-options alone prints the long options, one a line,
 * for shell completion, and exits 0.  An unknown option or a missing
 * value is said in one line naming the option (and, when the command's
 * argv[0] is a subcommand such as "add", that word), an unknown long
 * option followed by the closest known one ("did you mean --format?"),
 * then the usage; exits 64.  So a command's `default:` is reached only
 * for an option in its tables that it does not handle.
 */
int nudge_cli_getopt(nudge_cli *c, int argc, char *const *argv,
    const char *shortopts, const struct option *longopts);

/* The subcommand in (*argv)[1], one of names (NULL-terminated): returns
 * its index and moves *argc and *argv past the command, so that argv[0]
 * is the subcommand's word (which getopt's errors name).  -h, --help and
 * --version there are the command's; anything else, or nothing, is a
 * usage error: "expected add or import". */
int nudge_cli_sub(nudge_cli *c, int *argc, char ***argv,
    const char *const *names);

/* The index of arg, the value of option opt ("--key"), among words
 * (NULL-terminated), or exits 64 saying "--key: expected email or
 * phone". */
int nudge_cli_choice(const nudge_cli *c, const char *opt, const char *arg,
    const char *const *words);

/* After the options: moves *argc and *argv to the operands, and exits
 * 64 saying why when there are fewer than min or more than max. */
void nudge_cli_operands(const nudge_cli *c, int *argc, char ***argv,
    int min, int max, const char *why);

/* The input of a command that reads one file or standard input
 * (import-list, event import), from its operands after the options: the
 * one given ("-" is standard input), else "-" unless standard input is
 * a terminal.  More than one, or none and a terminal, exits 64 saying
 * so. */
const char *nudge_cli_input(const nudge_cli *c, int argc, char **argv);

/* How many rejected rows an import shows on stderr without --rejects. */
#define NUDGE_CLI_SHOWN 10

/* After an import that counted shown rejected rows (past
 * NUDGE_CLI_SHOWN), says on stderr how many of them name's summary did
 * not show. */
void nudge_cli_not_shown(const char *name, long shown);

/* The output format arg of --format, one of kinds ("table, tsv, csv or
 * json": the formats of fmt.h the command writes, as its usage says
 * them), or exits 64 with "--format: expected " and kinds. */
enum nudge_fmt_kind nudge_cli_format(const nudge_cli *c, const char *arg,
    const char *kinds);

/* A read-only view (nudge contact, events, lists): the common options
 * --config, --db and --help, and -f/--format among kinds
 * (nudge_cli_format) into *kind; then exactly nargs operands, else a
 * usage error saying why.  Opens the store read-only and returns it;
 * the operands are argv[optind] on. */
nudge_store *nudge_cli_view(nudge_cli *c, int argc, char **argv,
    const char *kinds, enum nudge_fmt_kind *kind, int nargs,
    const char *why);

/* A view that is one table of the store (nudge events types, nudge
 * lists): nudge_cli_view's options with no operands, then write (a
 * contactview.h writer) in the format asked (table, tsv, csv or json)
 * on stdout.  Returns the exit code. */
int nudge_cli_table(nudge_cli *c, int argc, char **argv,
    int (*write)(nudge_store *, enum nudge_fmt_kind, FILE *, nudge_err *));

/* Parses arg, the value of option opt ("--since"), as a time (ISO 8601,
 * nudge_time_parse), or exits 64 saying so in the one wording. */
int64_t nudge_cli_time(const nudge_cli *c, const char *opt, const char *arg);

/* Loads the configuration (--config, else $NUDGE_CONFIG, else the
 * default file) into c->cfg, or prints why and exits with its code. */
void nudge_cli_config(nudge_cli *c);

/* Opens the store (--db, else $NUDGE_DB, else the config's, else the
 * default), loading the configuration first if not yet loaded; flags as
 * nudge_store_open.  A missing store is made only with --create or when
 * flags has NUDGE_STORE_CREATE (import-list); else the command exits 66
 * naming the path.  Any failure is printed and exits with its code. */
nudge_store *nudge_cli_store(nudge_cli *c, int flags);

/* Closes the store and frees the configuration. */
void nudge_cli_close(nudge_cli *c);

/* A command's end: prints ne's message when rc is not 0, closes as
 * nudge_cli_close, and returns rc (main's exit code). */
int nudge_cli_end(nudge_cli *c, int rc, const nudge_err *ne);

#endif
