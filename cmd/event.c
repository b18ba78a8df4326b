/* nudge-event: record one event, or import many from CSV or JSON lines. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dsn.h"
#include "event.h"

#define SHOWN_REJECTS 10

static const char usage_text[] =
    "usage: nudge event add --contact ref --type type [--channel channel]\n"
    "           [--campaign name] [--step step] [--at time] "
    "[--prop key=value ...]\n"
    "           [--source text] [--create] [--db file] [--config file]\n"
    "       nudge event import [-n] [-r rejects] [--format csv | json | dsn]\n"
    "           [--type type] [--map column=field ...] "
    "[--date-order dmy | mdy]\n"
    "           [--create] [--source text] [--db file] [--config file] "
    "[file | -]\n";

enum {
	OPT_AT = 256, OPT_CAMPAIGN, OPT_CHANNEL, OPT_CONFIG, OPT_CONTACT,
	OPT_CREATE, OPT_DB, OPT_FORMAT, OPT_PROP, OPT_SOURCE, OPT_STEP,
	OPT_TYPE, OPT_MAP, OPT_DATE_ORDER
};

static const struct option longopts[] = {
	{ "at", required_argument, NULL, OPT_AT },
	{ "campaign", required_argument, NULL, OPT_CAMPAIGN },
	{ "channel", required_argument, NULL, OPT_CHANNEL },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "contact", required_argument, NULL, OPT_CONTACT },
	{ "create", no_argument, NULL, OPT_CREATE },
	{ "date-order", required_argument, NULL, OPT_DATE_ORDER },
	{ "db", required_argument, NULL, OPT_DB },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ "map", required_argument, NULL, OPT_MAP },
	{ "prop", required_argument, NULL, OPT_PROP },
	{ "rejects", required_argument, NULL, 'r' },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "step", required_argument, NULL, OPT_STEP },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ NULL, 0, NULL, 0 },
};

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		warnx("%s", why);
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

struct shown {
	const char *name;
	long n;
};

/* Without --rejects: the first SHOWN_REJECTS reasons on stderr. */
static void
show_reject(void *arg, long line, const char *field, const char *why,
    const char *value, size_t vlen)
{
	struct shown *sh = arg;
	char q[256];

	if (sh->n++ >= SHOWN_REJECTS)
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
			usage("--format: expected csv, json or dsn");
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
	char buf[80];

	if (!nudge_utf8_valid(s, strlen(s))) {
		snprintf(buf, sizeof buf, "--%s: not valid UTF-8", opt);
		usage(buf);
	}
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
    const nudge_event_import_opts *io, const nudge_config *cfg)
{
	nudge_dsn_opts o = { 0 };
	nudge_dsn_counts n = { 0 };
	nudge_err ne = { .msg = "" };
	int rc;

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
	warnx("%s: read %ld, bounced %ld, complained %ld, duplicate %ld, "
	    "unmatched %ld, ignored %ld%s", strcmp(input, "-") == 0 ?
	    "(stdin)" : input, n.messages, n.bounced, n.complained,
	    n.duplicate, n.unmatched, n.ignored, o.dry_run ?
	    " (dry run: nothing stored)" : "");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cfgpath = NULL, *dbpath = NULL, *format = NULL;
	const char *rejpath = NULL, *input = "-", *sub;
	const char **props = NULL;
	nudge_event_add_opts ao = { 0 };
	nudge_event_import_opts io = { 0 };
	nudge_event_counts cnt;
	struct shown sh = { 0 };
	nudge_config cfg;
	nudge_store *st;
	nudge_err ne;
	FILE *in = stdin, *rej = NULL;
	int ch, rc, importing, created = 0;
	size_t nmaps = 0;
	int64_t id;

	if (argc < 2)
		usage("expected add or import");
	sub = argv[1];
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(sub, "add") == 0)
		importing = 0;
	else if (strcmp(sub, "import") == 0)
		importing = 1;
	else
		usage("expected add or import");
	argc--;
	argv++;
	if ((props = calloc((size_t)argc, sizeof *props)) == NULL)
		err(EX_OSERR, NULL);
	while ((ch = getopt_long(argc, argv, "hnr:", longopts, NULL)) != -1) {
		/* each subcommand takes its own options only */
		if (importing ? (ch >= OPT_AT && ch != OPT_CONFIG &&
		    ch != OPT_CREATE && ch != OPT_DB && ch != OPT_FORMAT &&
		    ch != OPT_SOURCE && ch != OPT_TYPE && ch != OPT_MAP &&
		    ch != OPT_DATE_ORDER) : (ch == 'n' || ch == 'r' ||
		    ch == OPT_FORMAT || ch == OPT_MAP || ch == OPT_DATE_ORDER))
			usage("option not known to this subcommand");
		switch (ch) {
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'n':
			io.dry_run = 1;
			break;
		case 'r':
			rejpath = optarg;
			break;
		case OPT_AT:
			ao.at = optarg;
			break;
		case OPT_CAMPAIGN:
			ao.campaign = optarg;
			break;
		case OPT_CHANNEL:
			ao.channel = optarg;
			break;
		case OPT_CONFIG:
			cfgpath = optarg;
			break;
		case OPT_CONTACT:
			ao.contact = optarg;
			break;
		case OPT_CREATE:
			ao.create = io.create = 1;
			break;
		case OPT_DB:
			dbpath = optarg;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_PROP:
			props[ao.nprops++] = optarg;
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
			if (strcmp(optarg, "dmy") == 0)
				io.date_order = 'd';
			else if (strcmp(optarg, "mdy") == 0)
				io.date_order = 'm';
			else
				usage("--date-order: expected dmy or mdy");
			break;
		default:
			usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (!importing) {
		if (argc > 0)
			usage("add takes no operands");
		if (ao.contact == NULL || ao.type == NULL)
			usage("add needs --contact and --type");
	} else {
		if (argc > 1)
			usage("import takes one file");
		if (argc == 1)
			input = argv[0];
		else if (isatty(STDIN_FILENO))
			usage("no file given and stdin is a terminal");
		if (format != NULL && strcmp(format, "dsn") == 0) {
			if (io.create || rejpath != NULL)
				usage("--format dsn takes no --create or "
				    "--rejects");
		} else
			io.format = format_of(format, input);
		if ((format == NULL || strcmp(format, "dsn") != 0) &&
		    strcmp(input, "-") != 0 && (in = fopen(input, "r")) == NULL)
			err(EX_NOINPUT, "%s", input);
	}
	if ((rc = nudge_config_load(&cfg, cfgpath, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	if ((rc = nudge_config_open_store(&cfg, dbpath, NUDGE_STORE_CREATE,
	    &st, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	if (!importing) {
		ao.props = props;
		ao.country = cfg.default_country;
		ao.now = (int64_t)time(NULL);
		if ((rc = nudge_event_add(st, &ao, &id, &created, &ne)) != 0) {
			if (rc == EX_USAGE)
				usage(ne.msg);
			warnx("%s", ne.msg);
		} else {
			printf("%lld\n", (long long)id);
		}
		goto done;
	}
	if (format != NULL && strcmp(format, "dsn") == 0) {
		rc = import_dsn(st, input, &io, &cfg);
		goto done;
	}
	if (rejpath != NULL && (rej = fopen(rejpath, "w")) == NULL) {
		warn("%s", rejpath);
		rc = EX_CANTCREAT;
		goto done;
	}
	sh.name = io.name = strcmp(input, "-") == 0 ? "(stdin)" : input;
	io.country = cfg.default_country;
	io.now = (int64_t)time(NULL);
	io.rejects = rej;
	io.maps = props;
	io.nmaps = nmaps;
	if (io.type != NULL && !nudge_event_type_ok(io.type))
		usage("--type: not an event type ([a-z][a-z0-9_]*)");
	io.on_reject = rej == NULL ? show_reject : NULL;
	io.arg = &sh;
	if ((rc = nudge_event_import(st, in, &io, &cnt, &ne)) != 0) {
		warnx("%s", ne.msg);
		warnx("%s: nothing recorded", io.name);
		goto done;
	}
	if (sh.n > SHOWN_REJECTS)
		warnx("%s: %ld more rejected rows not shown (--rejects FILE "
		    "keeps them all)",
		    io.name, sh.n - SHOWN_REJECTS);
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
	rc = cnt.rejected > 0 ? EX_DATAERR : 0;
done:
	if (rej != NULL && fclose(rej) == EOF && rc == 0) {
		warn("%s", rejpath);
		rc = EX_IOERR;
	}
	if (in != stdin)
		fclose(in);
	nudge_store_close(st);
	nudge_config_free(&cfg);
	free(props);
	if (fflush(stdout) == EOF && rc == 0)
		rc = EX_IOERR;
	return rc;
}
