/* nudge-send: send a template to the contacts read from standard input. */
#include <sys/stat.h>

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
    "                  [--topic name]\n"
    "                  [--format tsv|json] [--now time] [--create] "
    "[--db file]\n"
    "                  [--config file] < contacts\n";

enum { OPT_CHANNEL = 256, OPT_FORMAT, OPT_FROM, OPT_PARALLEL, OPT_RATE,
	OPT_RESEND, OPT_TOPIC, OPT_TRANSACTIONAL, OPT_TRANSPORT };
enum { OPT_CAMPAIGNS = 300 };  /* trigger lines: where campaign files are */

static const struct option longopts[] = {
	{ "campaign", required_argument, NULL, 'c' },
	{ "campaigns", required_argument, NULL, OPT_CAMPAIGNS },
	{ "channel", required_argument, NULL, OPT_CHANNEL },
	NUDGE_CLI_OPT_CONFIG,
	NUDGE_CLI_OPT_CREATE,
	NUDGE_CLI_OPT_DB,
	{ "dry-run", no_argument, NULL, 'n' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "from", required_argument, NULL, OPT_FROM },
	NUDGE_CLI_OPT_HELP,
	NUDGE_CLI_OPT_NOW,
	{ "parallel", required_argument, NULL, OPT_PARALLEL },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "resend-unknown", no_argument, NULL, OPT_RESEND },
	{ "template", required_argument, NULL, 't' },
	{ "topic", required_argument, NULL, OPT_TOPIC },
	{ "transactional", no_argument, NULL, OPT_TRANSACTIONAL },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ NULL, 0, NULL, 0 },
};

/* the index is struct out's json */
static const char *const formats[] = { "tsv", "json", NULL };

struct out {
	int json;
	int progress;       /* stderr is a terminal */
	int dry_run;
	nudge_send_stats *stats;
	long done;
	off_t total;        /* stdin's size when it is a file, else 0 */
	struct timespec t0, last;
	char why[160];      /* the detail of the first skip */
};

/* The class of the run's skips when every line read was skipped, all
 * of one class, and not one the policy or the configuration chose
 * (consent, a cap, the exclusion, sunset, a step with no transport: a
 * run's business, not bad data); else NUDGE_SKIP_NONE. */
static enum nudge_skip
one_skip(const nudge_send_stats *s)
{
	enum nudge_skip c = NUDGE_SKIP_NONE;
	int i;

	if (s->read == 0 || s->skipped != s->read)
		return NUDGE_SKIP_NONE;
	for (i = 1; i < NUDGE_SKIP__N; i++)
		if (s->skips[i] > 0) {
			if (c != NUDGE_SKIP_NONE)
				return NUDGE_SKIP_NONE;
			c = (enum nudge_skip)i;
		}
	switch (c) {
	case NUDGE_SKIP_UNSUBSCRIBED:
	case NUDGE_SKIP_BOUNCED:
	case NUDGE_SKIP_COMPLAINED:
	case NUDGE_SKIP_NO_CONSENT:
	case NUDGE_SKIP_EXCLUDED:
	case NUDGE_SKIP_CAP:
	case NUDGE_SKIP_SUNSET:
	case NUDGE_SKIP_NO_TRANSPORT:
		return NUDGE_SKIP_NONE;
	default:
		return c;
	}
}

static nudge_cli cli = { .usage = usage_text };

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

	if (r->skip != NUDGE_SKIP_NONE && o->why[0] == '\0')
		snprintf(o->why, sizeof o->why, "%s", r->detail != NULL ?
		    r->detail : "");
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
	const char *dir = NULL;
	nudge_send_opts so = { .channel = "email" };
	nudge_send_stats stats;
	struct out out = { .stats = &stats };
	nudge_store *st;
	nudge_err ne;
	char *end;
	enum nudge_skip one;
	int ch, rc, again = 0;

	while ((ch = nudge_cli_getopt(&cli, argc, argv, "c:hnt:",
	    longopts)) != -1) {
		switch (ch) {
		case 'c':
			so.campaign = optarg;
			break;
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
		case OPT_FORMAT:
			out.json = nudge_cli_choice(&cli, "--format", optarg,
			    formats);
			break;
		case OPT_FROM:
			so.from = optarg;
			break;
		case OPT_PARALLEL:
			so.parallel = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || so.parallel < 1 || so.parallel > 64)
				nudge_cli_usage(&cli,
				    "--parallel: expected 1 to 64 connections");
			break;
		case OPT_RATE:
			so.rate = strtod(optarg, &end);
			if ((*end != '\0' && strcmp(end, "/s") != 0) ||
			    !(so.rate > 0))
				nudge_cli_usage(&cli,
				    "--rate: expected messages per second, "
				    "such as 50 or 50/s");
			break;
		case OPT_RESEND:
			so.resend_unknown = 1;
			break;
		case OPT_TOPIC:
			if (!nudge_is_name(optarg))
				nudge_cli_usage(&cli, "--topic: expected a "
				    "topic's list name, such as offers");
			so.topic = optarg;
			break;
		case OPT_TRANSACTIONAL:
			so.transactional = 1;
			break;
		case OPT_TRANSPORT:
			so.transport = optarg;
			break;
		default:
			nudge_cli_usage(&cli, NULL);
		}
	}
	/* at once, before any input: the password is in our argv now */
	if (so.transport != NULL && nudge_transport_userinfo(so.transport))
		errx(EX_USAGE, "--transport: no user name or password in the "
		    "URL, where ps(1) shows it: give username and "
		    "password_env (or password_file) under channels: email: "
		    "in the configuration, nudge-config(5)");
	nudge_cli_operands(&cli, &argc, &argv, 0, 0,
	    "contacts come on standard input, not as operands");
	if (isatty(STDIN_FILENO))
		nudge_cli_usage(&cli,
		    "no contacts: pipe them in, e.g. nudge segment ... | "
		    "nudge send ...");
	/* without --campaign the lines are nudge trigger's, each naming
	 * its campaign and step */
	if (so.campaign != NULL && so.template_path == NULL)
		nudge_cli_usage(&cli, "--template: which message to send");
	if (so.campaign == NULL && so.template_path != NULL)
		nudge_cli_usage(&cli,
		    "--campaign: every message belongs to a campaign");
	so.now = cli.now;
	out.progress = isatty(STDERR_FILENO);
	out.dry_run = so.dry_run;
	if (out.progress) {
		struct stat sb;

		if (fstat(STDIN_FILENO, &sb) == 0 && S_ISREG(sb.st_mode))
			out.total = sb.st_size;
		clock_gettime(CLOCK_MONOTONIC, &out.t0);
	}
	st = nudge_cli_store(&cli, 0);
	/* what nudge track spooled (an unsubscribe) before consent is read */
	if ((rc = nudge_track_drain(st, 0, 0, NULL, &ne)) != 0) {
		warnx("%s", ne.msg);
		nudge_cli_close(&cli);
		return rc;
	}
	so.cfg = &cli.cfg;
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
	if (stats.journalled > 0)
		warnx("%ld outcomes of an earlier send that died were in its "
		    "journal: recorded", stats.journalled);
	if (stats.recovered > 0)
		warnx("%ld messages of an earlier send that died are now "
		    "unknown (not resent; --resend-unknown sends them)",
		    stats.recovered);
	if (so.dry_run && stats.held > 0)
		warnx("%s: read %ld, rendered %ld, skipped %ld; %ld of them "
		    "would be held now (%s; dry run: nothing sent or stored)",
		    so.campaign != NULL ? so.campaign : "campaigns", stats.read,
		    stats.rendered, stats.skipped, stats.held, stats.quiet);
	else if (so.dry_run)
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
	if (stats.held_out > 0)
		warnx("%ld held out by a holdout: a ledger row, no message",
		    stats.held_out);
	if (stats.skipped > 0 && so.campaign == NULL) {
		/* trigger lines: many campaigns, so the reasons in sum */
		char line[1024];
		size_t len = 0;
		int i;

		for (i = 0; i < NUDGE_SKIP__N && len < sizeof line; i++)
			if (stats.skips[i] > 0)
				len += (size_t)snprintf(line + len, sizeof line -
				    len, "%s%ld %s", len > 0 ? ", " : "",
				    stats.skips[i], nudge_skip_name(i));
		warnx("skipped: %s", line);
	}
	if (stats.segments > 0 && stats.tracked_segments > 0)
		warnx("sms: %ld segments %s; link tracking added %ld of them "
		    "(tracking: sms_links: no in the configuration keeps the "
		    "links as written)", stats.segments, so.dry_run ?
		    "rendered" : "sent", stats.tracked_segments);
	else if (stats.segments > 0)
		warnx("sms: %ld segment%s %s", stats.segments,
		    stats.segments > 1 ? "s" : "", so.dry_run ? "rendered" :
		    "sent");
	if (!so.dry_run && stats.held > 0) {
		if (rc != 0 || stats.quiet[0] == '\0')
			warnx("%ld held: not sent, not claimed; a rerun sends "
			    "them", stats.held);
		else if (so.campaign != NULL) {
			/* no trigger line names a one-off blast: nothing
			 * sends these unless this command runs again, which
			 * exit 75 asks of cron */
			warnx("%ld held, not sent and not claimed: %s; they "
			    "may be sent from then on, and nothing sends "
			    "them but this command run again then",
			    stats.held, stats.quiet);
			again = 1;
		} else
			warnx("%ld held for quiet hours: not sent, offered "
			    "again by the next nudge trigger", stats.held);
	}
	if (rc != 0)
		warnx("%s", ne.msg);
	else if (stats.tempfail > 0 || again)
		rc = EX_TEMPFAIL;
	else if ((one = one_skip(&stats)) != NUDGE_SKIP_NONE) {
		/* a template, a segment or a channel that fits no one:
		 * cron must hear of it (the policy's skips are its job) */
		const char *name = nudge_skip_name(one);

		if (strncmp(out.why, name, strlen(name)) == 0)
			warnx("every contact skipped (%ld), all for one "
			    "reason: %s", stats.skipped, out.why);
		else
			warnx("every contact skipped (%ld), all for one "
			    "reason: %s: %s", stats.skipped, name, out.why);
		rc = EX_DATAERR;
	}
	nudge_cli_close(&cli);
	return rc;
}
