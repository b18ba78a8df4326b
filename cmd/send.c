/* nudge-send: send a template to the contacts read from standard input. */
#include <sys/stat.h>

#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "send.h"
#include "sendtrig.h"
#include "track.h"
#include "transport.h"

static const char usage_text[] =
    "usage: nudge send [-n] [-c name] [-t file] [--channel email | sms | "
    "push]\n"
    "                  [--transport url] [--campaigns dir] [--from address]\n"
    "                  [--parallel n] [--rate n] [--resend-unknown] "
    "[--transactional]\n"
    "                  [--format tsv|json] [--now time] [--db file] "
    "[--config file]\n"
    "                  < contacts\n";

enum { OPT_CHANNEL = 256, OPT_CONFIG, OPT_DB, OPT_FORMAT, OPT_FROM,
	OPT_NOW, OPT_PARALLEL, OPT_RATE, OPT_RESEND, OPT_TRANSACTIONAL,
	OPT_TRANSPORT };
enum { OPT_CAMPAIGNS = 300 };  /* trigger lines: where campaign files are */

static const struct option longopts[] = {
	{ "campaign", required_argument, NULL, 'c' },
	{ "campaigns", required_argument, NULL, OPT_CAMPAIGNS },
	{ "channel", required_argument, NULL, OPT_CHANNEL },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "db", required_argument, NULL, OPT_DB },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "help", no_argument, NULL, 'h' },
	{ "now", required_argument, NULL, OPT_NOW },
	{ "parallel", required_argument, NULL, OPT_PARALLEL },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "resend-unknown", no_argument, NULL, OPT_RESEND },
	{ "template", required_argument, NULL, 't' },
	{ "transactional", no_argument, NULL, OPT_TRANSACTIONAL },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ NULL, 0, NULL, 0 },
};

struct out {
	int json;
	int progress;       /* stderr is a terminal */
	int dry_run;
	nudge_send_stats *stats;
	long done;
	off_t total;        /* stdin's size when it is a file, else 0 */
	struct timespec t0, last;
	struct {            /* skips counted by the reason's first words */
		char what[48];
		long n;
	} why[16];
	size_t nwhy;
};

/* Counts a skip under its reason's class: the text before " (" or ":"
 * ("unsubscribed", "frequency cap", "no email address"). */
static void
count_skip(struct out *o, const char *detail)
{
	size_t i, n = strcspn(detail, "(:");

	while (n > 0 && detail[n - 1] == ' ')
		n--;
	if (n >= sizeof o->why[0].what)
		n = sizeof o->why[0].what - 1;
	for (i = 0; i < o->nwhy; i++)
		if (strlen(o->why[i].what) == n &&
		    strncmp(o->why[i].what, detail, n) == 0)
			break;
	if (i == o->nwhy) {
		if (o->nwhy == sizeof o->why / sizeof o->why[0]) {
			detail = "other";
			n = 5;
			i = o->nwhy - 1;
		} else {
			o->nwhy++;
		}
		memcpy(o->why[i].what, detail, n);
		o->why[i].what[n] = '\0';
	}
	o->why[i].n++;
}

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		warnx("%s", why);
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

/* TSV: tabs and newlines in a detail would break the stream's lines. */
static void
put_field(const char *s)
{
	size_t n;

	for (;;) {
		n = strcspn(s, "\t\n\r");
		fwrite(s, 1, n, stdout);
		if (s[n] == '\0')
			return;
		putchar(' ');
		s += n + 1;
	}
}

static void
put_json(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static double
since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* The progress line on a terminal's stderr, redrawn at most ten times a
 * second (and once more at the end): a bar when stdin is a file whose size
 * is known, the counts, and the rate. */
static void
progress(struct out *o, int last)
{
	struct timespec now;
	char bar[24];
	double el;
	off_t at;
	int i, fill;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!last && since(&o->last, &now) < 0.1)
		return;
	o->last = now;
	el = since(&o->t0, &now);
	fputc('\r', stderr);
	if (o->total > 0 && (at = ftello(stdin)) >= 0) {
		fill = last ? 20 : (int)(20 * (double)at / (double)o->total);
		for (i = 0; i < 20; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[20] = '\0';
		fprintf(stderr, "[%s] %3d%% ", bar, fill * 5);
	}
	fprintf(stderr, "%ld done: %ld %s, %ld skipped, %ld failed, %ld "
	    "bounced  %.0f/s \033[K", o->done, o->stats->sent +
	    o->stats->rendered, o->dry_run ? "rendered" : "sent",
	    o->stats->skipped, o->stats->failed + o->stats->tempfail,
	    o->stats->bounced, el > 0 ? (double)o->done / el : 0.0);
}

static void
on_result(void *arg, const nudge_send_result *r)
{
	struct out *o = arg;

	if (strcmp(r->status, "skipped") == 0)
		count_skip(o, r->detail != NULL ? r->detail : "");
	if (o->json) {
		printf("{\"line\":%ld,\"input\":", r->line);
		put_json(r->input);
		printf(",\"contact\":%lld,\"status\":\"%s\",\"detail\":",
		    (long long)r->contact_id, r->status);
		put_json(r->detail != NULL ? r->detail : "");
		if (r->step != NULL) {
			fputs(",\"campaign\":", stdout);
			put_json(r->campaign);
			fputs(",\"step\":", stdout);
			put_json(r->step);
		}
		fputs("}\n", stdout);
	} else {
		if (r->contact_id != 0)
			printf("%lld", (long long)r->contact_id);
		else
			put_field(r->input);
		printf("\t%s\t", r->status);
		put_field(r->detail != NULL ? r->detail : "");
		if (r->step != NULL)  /* a trigger line's campaign and step */
			printf("\t%s\t%s", r->campaign, r->step);
		putchar('\n');
	}
	o->done++;
	if (o->progress)
		progress(o, 0);
}

int
main(int argc, char **argv)
{
	const char *cfgpath = NULL, *dbpath = NULL, *dir = NULL;
	nudge_send_opts so = { .channel = "email" };
	nudge_send_stats stats;
	struct out out = { .stats = &stats };
	nudge_config cfg;
	nudge_store *st;
	nudge_err ne;
	char *end;
	int ch, rc, have_now = 0;

	while ((ch = getopt_long(argc, argv, "c:hnt:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			so.campaign = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'n':
			so.dry_run = 1;
			break;
		case 't':
			so.template_path = optarg;
			break;
		case OPT_CAMPAIGNS:
			dir = optarg;
			break;
		case OPT_CHANNEL:
			so.channel = optarg;
			break;
		case OPT_CONFIG:
			cfgpath = optarg;
			break;
		case OPT_DB:
			dbpath = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") == 0)
				out.json = 1;
			else if (strcmp(optarg, "tsv") != 0)
				usage("--format: expected tsv or json");
			break;
		case OPT_FROM:
			so.from = optarg;
			break;
		case OPT_NOW:
			if (nudge_time_parse(optarg, &so.now) == -1)
				usage("--now: expected an ISO 8601 time");
			have_now = 1;
			break;
		case OPT_PARALLEL:
			so.parallel = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || so.parallel < 1 || so.parallel > 64)
				usage("--parallel: expected 1 to 64 connections");
			break;
		case OPT_RATE:
			so.rate = strtod(optarg, &end);
			if ((*end != '\0' && strcmp(end, "/s") != 0) ||
			    !(so.rate > 0))
				usage("--rate: expected messages per second, "
				    "such as 50 or 50/s");
			break;
		case OPT_RESEND:
			so.resend_unknown = 1;
			break;
		case OPT_TRANSACTIONAL:
			so.transactional = 1;
			break;
		case OPT_TRANSPORT:
			so.transport = optarg;
			break;
		default:
			usage(NULL);
		}
	}
	/* at once, before any input: the password is in our argv now */
	if (so.transport != NULL && nudge_transport_userinfo(so.transport))
		errx(EX_USAGE, "--transport: no user name or password in the "
		    "URL, where ps(1) shows it: give username and "
		    "password_env (or password_file) under channels: email: "
		    "in the configuration, nudge-config(5)");
	if (optind != argc)
		usage("contacts come on standard input, not as operands");
	if (isatty(STDIN_FILENO))
		usage("no contacts: pipe them in, e.g. nudge segment ... | "
		    "nudge send ...");
	/* without --campaign the lines are nudge trigger's, each naming
	 * its campaign and step */
	if (so.campaign != NULL && so.template_path == NULL)
		usage("--template: which message to send");
	if (so.campaign == NULL && so.template_path != NULL)
		usage("--campaign: every message belongs to a campaign");
	if (!have_now)
		so.now = (int64_t)time(NULL);
	out.progress = isatty(STDERR_FILENO);
	out.dry_run = so.dry_run;
	if (out.progress) {
		struct stat sb;

		if (fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode))
			out.total = sb.st_size;
		clock_gettime(CLOCK_MONOTONIC, &out.t0);
	}
	if ((rc = nudge_config_load(&cfg, cfgpath, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	if ((rc = nudge_config_open_store(&cfg, dbpath, 0, &st, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	/* what nudge track spooled (an unsubscribe) before consent is read */
	if ((rc = nudge_track_drain(st, 0, 0, NULL, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	so.cfg = &cfg;
	so.on_result = on_result;
	so.arg = &out;
	so.file_nosync = getenv("NUDGE_FILE_NOSYNC") != NULL;
	rc = nudge_send_stream(st, stdin, &so, dir, &stats, &ne);
	if (fflush(stdout) == EOF && rc == 0) {
		warn("stdout");
		rc = EX_IOERR;
	}
	if (out.progress && out.done > 0) {
		progress(&out, 1);
		fputc('\n', stderr);
	}
	if (stats.given_back > 0)
		warnx("%ld messages of an earlier send that died had not left: "
		    "given back, sent when their lines come", stats.given_back);
	if (stats.recovered > 0)
		warnx("%ld messages of an earlier send that died are now "
		    "unknown (not resent; --resend-unknown sends them)",
		    stats.recovered);
	if (so.dry_run)
		warnx("%s: read %ld, rendered %ld, skipped %ld (dry run: nothing "
		    "sent or stored)", so.campaign != NULL ? so.campaign :
		    "campaigns", stats.read, stats.rendered, stats.skipped);
	else
		warnx("%s: read %ld, sent %ld, skipped %ld, duplicate %ld, "
		    "bounced %ld, failed %ld, tempfail %ld, unknown %ld%s%.0ld",
		    so.campaign != NULL ? so.campaign : "campaigns", stats.read,
		    stats.sent, stats.skipped, stats.duplicate, stats.bounced,
		    stats.failed, stats.tempfail, stats.unknown,
		    stats.held > 0 ? ", held " : "", stats.held);
	if (out.nwhy > 0 && so.campaign == NULL) {
		/* trigger lines: many campaigns, so the reasons in sum */
		char line[1024];
		size_t i, len = 0;

		for (i = 0; i < out.nwhy && len < sizeof line; i++)
			len += (size_t)snprintf(line + len, sizeof line - len,
			    "%s%ld %s", i > 0 ? ", " : "", out.why[i].n,
			    out.why[i].what);
		warnx("skipped: %s", line);
	}
	if (stats.held > 0 && rc != 0)
		warnx("%ld held: not sent, not claimed; a rerun sends them",
		    stats.held);
	else if (stats.held > 0)
		warnx("%ld held for quiet hours: not sent, offered again by "
		    "the next nudge trigger", stats.held);
	if (rc != 0)
		warnx("%s", ne.msg);
	else if (stats.tempfail > 0)
		rc = EX_TEMPFAIL;
	nudge_store_close(st);
	nudge_config_free(&cfg);
	return rc;
}
