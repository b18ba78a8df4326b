/* nudge-track: the tracking endpoints as a CGI program (RFC 3875), and
 * tracking URLs minted by hand. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "config.h"
#include "track.h"

static const char usage_text[] =
    "usage: nudge track [--config file] [--db file]\n"
    "       nudge track url [--config file] [--db file] [--now time] "
    "[--step name]\n"
    "                   open|click|unsub campaign contact [link]\n";

enum { OPT_CONFIG = 256, OPT_DB, OPT_NOW, OPT_STEP };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "db", required_argument, NULL, OPT_DB },
	{ "help", no_argument, NULL, 'h' },
	{ "now", required_argument, NULL, OPT_NOW },
	{ "step", required_argument, NULL, OPT_STEP },
	{ NULL, 0, NULL, 0 },
};

/* The largest request body read: webhooks are a few KiB. */
#define MAXBODY (1 << 20)
/* How long a request waits for the store's write lock (ms) before it
 * answers 503: long enough to ride out a send's commit, short enough
 * not to tie up the web server.  NUDGE_TRACK_BUSY_MS overrides it. */
#define BUSY_MS 2000

static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		warnx("%s", why);
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

struct opener {
	const nudge_config *cfg;
	const char *db;
};

static int
open_store(void *arg, nudge_store **st, nudge_err *err)
{
	struct opener *op = arg;
	const char *env = getenv("NUDGE_TRACK_BUSY_MS");
	int64_t ms = BUSY_MS;
	int rc;

	if ((rc = nudge_config_open_store(op->cfg, op->db, 0, st, err)) != 0)
		return rc;
	if (env != NULL && (nudge_parse_i64(env, &ms) == -1 || ms < 0 ||
	    ms > 60000))
		ms = BUSY_MS;
	sqlite3_busy_timeout((*st)->db, (int)ms);
	/* Each request is a process, most often the store's only
	 * connection: by default its close would checkpoint the WAL,
	 * fsync and delete it, for the next request to create it again.
	 * Leave that to the automatic checkpoints of later writers. */
	sqlite3_db_config((*st)->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
	    NULL);
	{
		int persist = 1;

		sqlite3_file_control((*st)->db, "main",
		    SQLITE_FCNTL_PERSIST_WAL, &persist);
	}
	return 0;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 302: return "Found";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void
reply(int status, const char *headers, const char *body, size_t n,
    int head)
{
	printf("Status: %d %s\r\n%s\r\n", status, reason(status),
	    headers != NULL ? headers : "");
	if (!head && n > 0)
		fwrite(body, 1, n, stdout);
	fflush(stdout);
}

static void
reply_text(int status, const char *msg)
{
	char h[96];

	snprintf(h, sizeof h, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n", strlen(msg));
	reply(status, h, msg, strlen(msg), 0);
}

/* One CGI request: the meta-variables and body in, the response out. */
static int
cgi(const char *cfgpath, const char *dbpath)
{
	const char *cl = getenv("CONTENT_LENGTH"), *path = getenv("PATH_INFO");
	nudge_track_req r = { 0 };
	nudge_track_resp resp = { 0 };
	nudge_track_opts o = { 0 };
	struct opener op;
	nudge_config cfg;
	nudge_err ne;
	char *secret = NULL, *body = NULL;
	int64_t len = 0;
	size_t got = 0;
	int rc;

	if ((rc = nudge_config_load(&cfg, cfgpath, &ne)) != 0) {
		warnx("%s", ne.msg);
		reply_text(500, "not configured\n");
		return 0;
	}
	if ((rc = nudge_config_secret(&cfg, NUDGE_SECRET_TRACKING, &secret,
	    &ne)) != 0 || secret == NULL || cfg.tracking.base_url == NULL) {
		warnx("%s", rc != 0 ? ne.msg : "the config has no tracking: "
		    "base_url and secret");
		reply_text(500, "not configured\n");
		goto out;
	}
	if (cl != NULL && *cl != '\0' && (nudge_parse_i64(cl, &len) == -1 ||
	    len < 0 || len > MAXBODY)) {
		reply_text(413, "too large\n");
		goto out;
	}
	if (len > 0) {
		if ((body = malloc((size_t)len + 1)) == NULL) {
			reply_text(500, "internal error\n");
			goto out;
		}
		while (got < (size_t)len) {
			size_t n = fread(body + got, 1, (size_t)len - got,
			    stdin);

			if (n == 0)
				break;
			got += n;
		}
		body[got] = '\0';
	}
	r.method = getenv("REQUEST_METHOD");
	r.path = path;
	r.query = getenv("QUERY_STRING");
	r.content_type = getenv("CONTENT_TYPE");
	r.body = body;
	r.body_len = got;
	r.user_agent = getenv("HTTP_USER_AGENT");
	r.remote_addr = getenv("REMOTE_ADDR");
	r.twilio_sig = getenv("HTTP_X_TWILIO_SIGNATURE");
	op.cfg = &cfg;
	op.db = dbpath;
	o.key = secret;
	o.keylen = strlen(secret);
	o.base_url = cfg.tracking.base_url;
	o.twilio_token = getenv("NUDGE_TWILIO_AUTH_TOKEN");
	o.mailgun_key = getenv("NUDGE_MAILGUN_SIGNING_KEY");
	if (o.twilio_token != NULL && *o.twilio_token == '\0')
		o.twilio_token = NULL;
	if (o.mailgun_key != NULL && *o.mailgun_key == '\0')
		o.mailgun_key = NULL;
	o.now = (int64_t)time(NULL);
	o.open = open_store;
	o.arg = &op;
	if (nudge_track_handle(&o, &r, &resp, &ne) != 0) {
		warnx("%s", ne.msg);
		reply_text(500, "internal error\n");
	} else {
		if (ne.msg[0] != '\0')
			warnx("%s %s: %d: %s", r.method ? r.method : "-",
			    path != NULL ? path : "-", resp.status, ne.msg);
		reply(resp.status, nudge_buf_str(&resp.headers),
		    nudge_buf_str(&resp.body), resp.body.len,
		    r.method != NULL && strcmp(r.method, "HEAD") == 0);
	}
	nudge_track_resp_free(&resp);
out:
	free(body);
	nudge_config_secret_free(secret);
	nudge_config_free(&cfg);
	return 0;
}

/* `nudge track url`: prints a tracking URL. */
static int
url(int argc, char **argv, const char *cfgpath, const char *dbpath,
    const char *step, int64_t now)
{
	nudge_config cfg;
	nudge_store *st = NULL;
	nudge_buf out = { 0 };
	sqlite3_stmt *s;
	nudge_err ne;
	char *secret = NULL;
	int64_t camp = 0, contact;
	char kind;
	int rc;

	if (argc < 3 || argc > 4)
		usage("url: expected open, click or unsub, a campaign, a "
		    "contact id and, for click, a link");
	if (strcmp(argv[0], "open") == 0)
		kind = 'o';
	else if (strcmp(argv[0], "click") == 0)
		kind = 'c';
	else if (strcmp(argv[0], "unsub") == 0)
		kind = 'u';
	else
		usage("url: expected open, click or unsub");
	if ((kind == 'c') != (argc == 4))
		usage("url: a link goes with click, and only with click");
	if (nudge_parse_i64(argv[2], &contact) == -1 || contact <= 0)
		usage("url: the contact is an id");
	if ((rc = nudge_config_load(&cfg, cfgpath, &ne)) != 0)
		errx(rc, "%s", ne.msg);
	if ((rc = nudge_config_secret(&cfg, NUDGE_SECRET_TRACKING, &secret,
	    &ne)) != 0)
		goto done;
	if (secret == NULL || cfg.tracking.base_url == NULL) {
		rc = nudge_errf(&ne, EX_USAGE, "the config has no tracking: "
		    "base_url and secret");
		goto done;
	}
	if ((rc = nudge_config_open_store(&cfg, dbpath, 0, &st, &ne)) != 0)
		goto done;
	if (sqlite3_prepare_v2(st->db, "SELECT id FROM campaigns WHERE name = ?",
	    -1, &s, NULL) != SQLITE_OK) {
		rc = nudge_store_error(st, &ne, "campaigns");
		goto done;
	}
	sqlite3_bind_text(s, 1, argv[1], -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		camp = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (camp == 0) {
		rc = nudge_errf(&ne, EX_DATAERR, "campaign: no such campaign: "
		    "\"%s\"", argv[1]);
		goto done;
	}
	if ((rc = nudge_track_url(&out, cfg.tracking.base_url, secret,
	    strlen(secret), kind, camp, step, contact, argc == 4 ? argv[3] :
	    NULL, argc == 4 ? strlen(argv[3]) : 0, now, &ne)) != 0)
		goto done;
	printf("%s\n", out.s);
	if (fflush(stdout) == EOF)
		rc = nudge_errf(&ne, EX_IOERR, "stdout: %s", strerror(errno));
done:
	if (rc != 0)
		warnx("%s", ne.msg);
	nudge_buf_free(&out);
	nudge_store_close(st);
	nudge_config_secret_free(secret);
	nudge_config_free(&cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *cfgpath = NULL, *dbpath = NULL, *step = "";
	int64_t now = (int64_t)time(NULL);
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case OPT_CONFIG:
			cfgpath = optarg;
			break;
		case OPT_DB:
			dbpath = optarg;
			break;
		case OPT_NOW:
			if (nudge_time_parse(optarg, &now) == -1)
				usage("--now: expected a time such as "
				    "2026-11-01T09:00:00Z");
			break;
		case OPT_STEP:
			step = optarg;
			break;
		default:
			usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0 && strcmp(argv[0], "url") == 0)
		return url(argc - 1, argv + 1, cfgpath, dbpath, step, now);
	if (argc > 0)
		usage("unknown operand");
	if (getenv("GATEWAY_INTERFACE") == NULL)
		usage("not run as a CGI program (no GATEWAY_INTERFACE)");
	/* Only HMAC and SHA-256 from the default provider: reading the
	 * system's openssl.cnf costs a fair part of a request. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	return cgi(cfgpath, dbpath);
}
