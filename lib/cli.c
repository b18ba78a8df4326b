/* cli: what every command does the same way; see cli.h. */
#include "cli.h"

#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

void
nudge_cli_init(nudge_cli *c, const char *usage)
{
	memset(c, 0, sizeof *c);
	c->usage = usage;
	c->now = (int64_t)time(NULL);
}

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

int
nudge_cli_option(nudge_cli *c, int ch, const char *arg)
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
