/* nudge-event: record one event, or import many from CSV or JSON lines. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "dsn.h"
#include "event.h"

static const char usage_text[] =
    "usage: nudge event add --contact ref --type type [--channel channel]\n"
    "           [--campaign name] [--step step] [--at time] "
    "[--prop key=value ...]\n"
    "           [--source text] [--create] [--db file] [--config file]\n"
    "       nudge event import [-n] [-r rejects] [--batch rows]\n"
    "           [--format csv | json | dsn | sisimai] [--parser auto | sisimai | builtin]\n"
    "           [--type type] [--map column=field ...] "
    "[--date-order dmy | mdy]\n"
    "           [--create] [--source text] [--db file] [--config file] "
    "[file | -]\n";

enum {
	OPT_AT = 256, OPT_CAMPAIGN, OPT_CHANNEL, OPT_CONTACT, OPT_FORMAT,
	OPT_PROP, OPT_SOURCE, OPT_STEP, OPT_TYPE, OPT_PARSER, OPT_MAP,
	OPT_DATE_ORDER, OPT_BATCH
};

/* Each subcommand has its own table: an option of the other one is
 * unknown to getopt, and said so in its words. */
static const struct option add_opts[] = {
	{ "at", required_argument, NULL, OPT_AT },
	{ "campaign", required_argument, NULL, OPT_CAMPAIGN },
	{ "channel", required_argument, NULL, OPT_CHANNEL },
	NUDGE_CLI_OPT_CONFIG,
	{ "contact", required_argument, NULL, OPT_CONTACT },
	NUDGE_CLI_OPT_CREATE,
	NUDGE_CLI_OPT_DB,
	NUDGE_CLI_OPT_HELP,
	{ "prop", required_argument, NULL, OPT_PROP },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "step", required_argument, NULL, OPT_STEP },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ NULL, 0, NULL, 0 },
};
static const char add_short[] = "h";

static const struct option import_opts[] = {
	{ "batch", required_argument, NULL, OPT_BATCH },
	NUDGE_CLI_OPT_CONFIG,
	NUDGE_CLI_OPT_CREATE,
	{ "date-order", required_argument, NULL, OPT_DATE_ORDER },
	NUDGE_CLI_OPT_DB,
	{ "dry-run", no_argument, NULL, 'n' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	NUDGE_CLI_OPT_HELP,
	{ "map", required_argument, NULL, OPT_MAP },
	{ "parser", required_argument, NULL, OPT_PARSER },
	{ "rejects", required_argument, NULL, 'r' },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ NULL, 0, NULL, 0 },
};
static const char import_short[] = "hnr:";

static const char *const subs[] = { "add", "import", NULL };

static const char *const parser_words[] = { "auto", "sisimai", "builtin",
	NULL };
static const enum nudge_dsn_parser parsers[] = { NUDGE_DSN_AUTO,
	NUDGE_DSN_SISIMAI, NUDGE_DSN_BUILTIN };
/* 'd' and 'm' of nudge_event_import_opts.date_order */
static const char *const date_orders[] = { "dmy", "mdy", NULL };

static nudge_cli cli = { .usage = usage_text };

struct shown {
	const char *name;
	long n;
};

/* Without --rejects: the first NUDGE_CLI_SHOWN reasons on stderr. */
static void
show_reject(void *arg, long line, const char *field, const char *why,
    const char *value, size_t vlen)
{
	struct shown *sh = arg;
	char q[256];

	if (sh->n++ >= NUDGE_CLI_SHOWN)
		return;
	if (value == NULL)
		warnx("%s:%ld: %s%s%s", sh->name, line, field,
		    *field ? ": " : "", why);
	else
		warnx("%s:%ld: %s: %s: \"%s\"", sh->name, line, field, why,
		    nudge_quote(q, sizeof q, value, vlen));
}

/* The input's format from --format, else from its name. */
static enum nudge_event_format
format_of(const char *opt, const char *path)
{
	const char *dot = strrchr(path, '.');

	if (opt != NULL) {
		if (strcmp(opt, "json") == 0)
			return NUDGE_EVENT_JSON;
		if (strcmp(opt, "csv") != 0)
			nudge_cli_usage(&cli,
			    "--format: expected csv, json, dsn or sisimai");
		return NUDGE_EVENT_CSV;
	}
	if (dot != NULL && (strcmp(dot, ".json") == 0 ||
	    strcmp(dot, ".jsonl") == 0 || strcmp(dot, ".ndjson") == 0))
		return NUDGE_EVENT_JSON;
	return NUDGE_EVENT_CSV;
}

static void
check_utf8(const char *opt, const char *s)
{
	if (!nudge_utf8_valid(s, strlen(s)))
		nudge_cli_usage(&cli, "--%s: not valid UTF-8", opt);
}

static void
show_dsn(void *arg, const nudge_dsn_result *r)
{
	(void)arg;
	printf("%s\t%s\t%s\t%s\n", r->where, r->status, r->recipient,
	    r->detail != NULL ? r->detail : "");
}

/* --format dsn: one line per report on stdout, a summary on stderr. */
static int
import_dsn(nudge_store *st, const char *input,
    const nudge_event_import_opts *io, const nudge_config *cfg,
    enum nudge_dsn_parser parser, int sisimai_json)
{
	nudge_dsn_opts o = { 0 };
	nudge_dsn_counts n = { 0 };
	nudge_err ne = { .msg = "" };
	int rc;

	o.parser = parser;
	o.sisimai_json = sisimai_json;
	o.soft_limit = cfg->bounces.soft_limit;
	o.soft_within = cfg->bounces.soft_within;
	o.source = io->source;
	o.country = cfg->default_country;
	o.dry_run = io->dry_run;
	o.now = (int64_t)time(NULL);
	o.on_result = show_dsn;
	if ((rc = nudge_dsn_import(st, input, &o, &n, &ne)) != 0) {
		warnx("%s", ne.msg);
		warnx("%s: nothing recorded", input);
		return rc;
	}
	warnx("%s: read %ld, bounced %ld (hard %ld, soft %ld, sender-side "
	    "%ld), complained %ld, duplicate %ld, unmatched %ld, ignored %ld; "
	    "suppressed after soft bounces %ld, re-classified %ld, restored "
	    "%ld; read by %s%s", strcmp(input, "-") == 0 ? "(stdin)" : input,
	    n.messages, n.bounced, n.hard, n.soft, n.sender, n.complained,
	    n.duplicate, n.unmatched, n.ignored, n.soft_suppressed,
	    n.reclassified, n.restored, n.parser, o.dry_run ?
	    " (dry run: nothing stored)" : "");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *format = NULL, *rejpath = NULL, *input = "-";
	const struct option *longopts;
	const char *shortopts;
	enum nudge_dsn_parser parser = NUDGE_DSN_AUTO;
	int mail = 0;
	const char **props = NULL;
	nudge_event_add_opts ao = { 0 };
	nudge_event_import_opts io = { 0 };
	nudge_event_counts cnt;
	struct shown sh = { 0 };
	nudge_store *st;
	nudge_err ne;
	FILE *in = stdin, *rej = NULL;
	int ch, rc, importing, created = 0;
	int64_t batch;
	size_t nmaps = 0;
	int64_t id;

	importing = nudge_cli_sub(&cli, &argc, &argv, subs);
	longopts = importing ? import_opts : add_opts;
	shortopts = importing ? import_short : add_short;
	if ((props = calloc((size_t)argc, sizeof *props)) == NULL)
		err(EX_OSERR, NULL);
	while ((ch = nudge_cli_getopt(&cli, argc, argv, shortopts,
	    longopts)) != -1) {
		switch (ch) {
		case 'n':
			io.dry_run = 1;
			break;
		case 'r':
			rejpath = optarg;
			break;
		case OPT_AT:
			ao.at = optarg;
			break;
		case OPT_BATCH:
			if (nudge_parse_i64(optarg, &batch) == -1 || batch < 1 ||
			    batch > LONG_MAX)
				nudge_cli_usage(&cli, "--batch: expected a number "
				    "of rows above 0");
			io.batch = (long)batch;
			break;
		case OPT_CAMPAIGN:
			ao.campaign = optarg;
			break;
		case OPT_CHANNEL:
			ao.channel = optarg;
			break;
		case OPT_CONTACT:
			ao.contact = optarg;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_PROP:
			props[ao.nprops++] = optarg;
			break;
		case OPT_PARSER:
			parser = parsers[nudge_cli_choice(&cli, "--parser",
			    optarg, parser_words)];
			break;
		case OPT_SOURCE:
			check_utf8("source", optarg);
			ao.source = io.source = optarg;
			break;
		case OPT_STEP:
			ao.step = optarg;
			break;
		case OPT_TYPE:
			ao.type = io.type = optarg;
			break;
		case OPT_MAP:
			props[nmaps++] = optarg;
			break;
		case OPT_DATE_ORDER:
			io.date_order = "dm"[nudge_cli_choice(&cli,
			    "--date-order", optarg, date_orders)];
			break;
		default:
			nudge_cli_usage(&cli, NULL);
		}
	}
	/* --create makes what is missing: the store, and contacts */
	ao.create = io.create = cli.create;
	if (!importing) {
		nudge_cli_operands(&cli, &argc, &argv, 0, 0,
		    "add takes no operands");
		if (ao.contact == NULL || ao.type == NULL)
			nudge_cli_usage(&cli, "add needs --contact and --type");
	} else {
		input = nudge_cli_input(&cli, argc, argv);
		mail = format != NULL && (strcmp(format, "dsn") == 0 ||
		    strcmp(format, "sisimai") == 0);
		if (mail) {
			if (io.create || rejpath != NULL)
				nudge_cli_usage(&cli, "--format dsn and sisimai "
				    "take no --create or --rejects");
		} else
			io.format = format_of(format, input);
		if (parser != NUDGE_DSN_AUTO && (format == NULL ||
		    strcmp(format, "dsn") != 0))
			nudge_cli_usage(&cli, "--parser goes with --format "
			    "dsn");
		if (!mail && strcmp(input, "-") != 0 &&
		    (in = fopen(input, "r")) == NULL)
			err(EX_NOINPUT, "%s", input);
	}
	st = nudge_cli_store(&cli, 0);
	if (!importing) {
		ao.props = props;
		ao.country = cli.cfg.default_country;
		ao.now = (int64_t)time(NULL);
		if ((rc = nudge_event_add(st, &ao, &id, &created, &ne)) != 0) {
			if (rc == EX_USAGE)
				nudge_cli_usage(&cli, "%s", ne.msg);
			warnx("%s", ne.msg);
		} else {
			printf("%lld\n", (long long)id);
		}
		goto done;
	}
	if (mail) {
		rc = import_dsn(st, input, &io, &cli.cfg, parser,
		    strcmp(format, "sisimai") == 0);
		goto done;
	}
	if (rejpath != NULL && (rej = fopen(rejpath, "w")) == NULL) {
		warn("%s", rejpath);
		rc = EX_CANTCREAT;
		goto done;
	}
	sh.name = io.name = strcmp(input, "-") == 0 ? "(stdin)" : input;
	io.country = cli.cfg.default_country;
	io.now = (int64_t)time(NULL);
	io.rejects = rej;
	io.maps = props;
	io.nmaps = nmaps;
	if (io.type != NULL && !nudge_event_type_ok(io.type))
		nudge_cli_usage(&cli, "--type: %s", NUDGE_EVENT_TYPE_WANTED);
	io.on_reject = rej == NULL ? show_reject : NULL;
	io.arg = &sh;
	if ((rc = nudge_event_import(st, in, &io, &cnt, &ne)) != 0) {
		warnx("%s", ne.msg);
		if (cnt.committed == 0)
			warnx("%s: nothing recorded", io.name);
		else
			warnx("%s: %ld rows recorded in the batches committed "
			    "before; the same import again records the rest",
			    io.name, cnt.committed);
		goto done;
	}
	nudge_cli_not_shown(io.name, sh.n);
	if (cnt.orders != NULL)
		warnx("%s: recognised as a %s export: one %s event per order",
		    io.name, cnt.orders, io.type != NULL ? io.type :
		    "purchase");
	if (io.create)
		warnx("%s: read %ld, recorded %ld, rejected %ld, created %ld%s",
		    io.name, cnt.read, cnt.recorded, cnt.rejected, cnt.created,
		    io.dry_run ? " (dry run: nothing stored)" : "");
	else
		warnx("%s: read %ld, recorded %ld, rejected %ld%s", io.name,
		    cnt.read,
		    cnt.recorded, cnt.rejected,
		    io.dry_run ? " (dry run: nothing stored)" : "");
	if (cnt.skipped > 0)
		warnx("%s: skipped %ld %s the store holds already", io.name,
		    cnt.skipped, cnt.orders != NULL ? "orders" : "rows");
	rc = cnt.rejected > 0 ? EX_DATAERR : 0;
done:
	if (rej != NULL && fclose(rej) == EOF && rc == 0) {
		warn("%s", rejpath);
		rc = EX_IOERR;
	}
	if (in != stdin)
		fclose(in);
	nudge_cli_close(&cli);
	free(props);
	if (fflush(stdout) == EOF && rc == 0)
		rc = EX_IOERR;
	return rc;
}
