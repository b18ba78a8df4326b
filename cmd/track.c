/* nudge-track: the tracking endpoints as a CGI program (RFC 3875), and
 * tracking URLs minted by hand. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "fcgi.h"
#include "signup.h"
#include "token.h"
#include "track.h"

static const char usage_text[] =
    "usage: nudge track [--config file] [--create] [--db file]\n"
    "       nudge track url [--config file] [--create] [--db file] "
    "[--now time]\n"
    "                   [--step name] open|click|unsub campaign contact "
    "[link]\n"
    "       nudge track form [--config file] [--lang en|he] form\n";

enum { OPT_STEP = 256, OPT_LANG };

static const struct option longopts[] = {
	NUDGE_CLI_OPT_CONFIG,
	NUDGE_CLI_OPT_CREATE,
	NUDGE_CLI_OPT_DB,
	NUDGE_CLI_OPT_HELP,
	NUDGE_CLI_OPT_NOW,
	{ "lang", required_argument, NULL, OPT_LANG },
	{ "step", required_argument, NULL, OPT_STEP },
	{ NULL, 0, NULL, 0 },
};

/* the languages of a form's snippet (signup.h) */
static const char *const langs[] = { "en", "he", NULL };

/* The largest request body read: webhooks are a few KiB. */
#define MAXBODY (1 << 20)
/* How long a request waits for the store's write lock (ms) before it
 * spools its event (a webhook answers 503): long enough to ride out a
 * send's commit, short enough that the person who clicked does not
 * notice.  NUDGE_TRACK_BUSY_MS overrides it. */
#define BUSY_MS 250

static nudge_cli cli = { .usage = usage_text };

/* What every request needs, loaded once per process: per request for a
 * CGI program, once for the FastCGI server. */
struct app {
	nudge_config cfg;
	const char *db;
	const char *path;       /* the store, when known before it is open:
				   where the spool is when it cannot be */
	char *secret;
	const char *twilio, *mailgun;
	nudge_store *st;        /* FastCGI: the connection kept open */
	int persistent;
};

static int
open_store(void *arg, nudge_store **st, nudge_err *err)
{
	struct app *a = arg;
	const char *env = getenv("NUDGE_TRACK_BUSY_MS");
	int64_t ms = BUSY_MS;
	int rc;

	if (a->st != NULL) {
		*st = a->st;
		return 0;
	}
	/* a migration run by another process: spool at once, not in 5 s */
	if ((rc = nudge_config_open_store(&a->cfg, a->db, (cli.create ?
	    NUDGE_STORE_CREATE : 0) | NUDGE_STORE_NOWAIT, st, err)) != 0)
		return rc;
	if (env != NULL && (nudge_parse_i64(env, &ms) == -1 || ms < 0 ||
	    ms > 60000))
		ms = BUSY_MS;
	nudge_store_per_request(*st, (int)ms, !a->persistent);
	if (a->persistent)
		a->st = *st;
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
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

/* Appends a CGI response to out; a HEAD request gets no body. */
static void
reply(nudge_buf *out, int status, const char *headers, const char *body,
    size_t n, int head)
{
	nudge_buf_printf(out, "Status: %d %s\r\n%s\r\n", status, reason(status),
	    headers != NULL ? headers : "");
	if (!head && n > 0)
		nudge_buf_add(out, body, n);
}

static void
reply_text(nudge_buf *out, int status, const char *msg)
{
	char h[96];

	snprintf(h, sizeof h, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n", strlen(msg));
	reply(out, status, h, msg, strlen(msg), 0);
}

/* Loads the configuration and the secrets.  On failure says why on the
 * standard error and returns non-zero. */
static int
app_load(struct app *a, const char *cfgpath, const char *db)
{
	nudge_err ne;
	int rc;

	memset(a, 0, sizeof *a);
	a->db = db;
	if ((rc = nudge_config_load(&a->cfg, cfgpath, &ne)) != 0) {
		warnx("%s", ne.msg);
		return rc;
	}
	/* nudge_config_open_store's choice, but for the default store */
	if ((a->path = db) == NULL || *a->path == '\0')
		a->path = getenv("NUDGE_DB");
	if (a->path == NULL || *a->path == '\0')
		a->path = a->cfg.db;
	if ((rc = nudge_config_secret(&a->cfg, NUDGE_SECRET_TRACKING,
	    &a->secret, &ne)) != 0 || a->secret == NULL ||
	    a->cfg.tracking.base_url == NULL) {
		warnx("%s", rc != 0 ? ne.msg : "the config has no tracking: "
		    "base_url and secret");
		return rc != 0 ? rc : EX_CONFIG;
	}
	a->twilio = getenv("NUDGE_TWILIO_AUTH_TOKEN");
	a->mailgun = getenv("NUDGE_MAILGUN_SIGNING_KEY");
	if (a->twilio != NULL && *a->twilio == '\0')
		a->twilio = NULL;
	if (a->mailgun != NULL && *a->mailgun == '\0')
		a->mailgun = NULL;
	return 0;
}

static void
app_free(struct app *a)
{
	nudge_store_close(a->st);
	nudge_config_secret_free(a->secret);
	nudge_config_free(&a->cfg);
}

typedef const char *getter(const void *arg, const char *name);

/* One request: the meta-variables from get, the body, the response
 * appended to out. */
static void
answer(struct app *a, getter *get, const void *garg, const char *body,
    size_t len, nudge_buf *out)
{
	nudge_track_req r = { 0 };
	nudge_track_resp resp = { 0 };
	nudge_track_opts o = { 0 };
	nudge_err ne = { .msg = "" };

	r.method = get(garg, "REQUEST_METHOD");
	r.path = get(garg, "PATH_INFO");
	r.query = get(garg, "QUERY_STRING");
	r.content_type = get(garg, "CONTENT_TYPE");
	r.body = body;
	r.body_len = len;
	r.user_agent = get(garg, "HTTP_USER_AGENT");
	r.remote_addr = get(garg, "REMOTE_ADDR");
	r.twilio_sig = get(garg, "HTTP_X_TWILIO_SIGNATURE");
	r.accept_language = get(garg, "HTTP_ACCEPT_LANGUAGE");
	o.key = a->secret;
	o.keylen = strlen(a->secret);
	o.base_url = a->cfg.tracking.base_url;
	o.twilio_token = a->twilio;
	o.mailgun_key = a->mailgun;
	o.now = (int64_t)time(NULL);
	o.open = open_store;
	o.arg = a;
	o.keep_store = a->persistent;
	o.cfg = &a->cfg;
	o.store_path = a->path;
	if (nudge_track_handle(&o, &r, &resp, &ne) != 0) {
		warnx("%s", ne.msg);
		reply_text(out, 500, "internal error\n");
	} else {
		if (ne.msg[0] != '\0')
			warnx("%s %s: %d: %s", r.method ? r.method : "-",
			    r.path != NULL ? r.path : "-", resp.status, ne.msg);
		reply(out, resp.status, nudge_buf_str(&resp.headers),
		    nudge_buf_str(&resp.body), resp.body.len,
		    r.method != NULL && strcmp(r.method, "HEAD") == 0);
	}
	nudge_track_resp_free(&resp);
}

static const char *
env_get(const void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

/* One CGI request (RFC 3875). */
static int
cgi(const char *cfgpath, const char *dbpath)
{
	const char *cl = getenv("CONTENT_LENGTH");
	struct app a;
	nudge_buf out = { 0 };
	char *body = NULL;
	int64_t len = 0;
	size_t got = 0;

	if (app_load(&a, cfgpath, dbpath) != 0)
		reply_text(&out, 500, "not configured\n");
	else if (cl != NULL && *cl != '\0' && (nudge_parse_i64(cl, &len) ==
	    -1 || len < 0 || len > MAXBODY))
		reply_text(&out, 413, "too large\n");
	else if (len > 0 && (body = malloc((size_t)len + 1)) == NULL)
		reply_text(&out, 500, "internal error\n");
	else {
		while (got < (size_t)len) {
			size_t n = fread(body + got, 1, (size_t)len - got,
			    stdin);

			if (n == 0)
				break;
			got += n;
		}
		if (body != NULL)
			body[got] = '\0';
		answer(&a, env_get, NULL, body, got, &out);
	}
	/* one write(2), not stdio: the response is whole in out, and
	 * stdout's first use costs a buffer's allocation (2% of a click) */
	if (nudge_write_all(STDOUT_FILENO, out.s, out.len) == -1)
		warn("stdout");
	free(body);
	nudge_buf_free(&out);
	app_free(&a);
	return 0;
}

static const char *
fcgi_get(const void *arg, const char *name)
{
	return nudge_fcgi_param(arg, name);
}

/* The FastCGI server's state: the configuration is read at the first
 * request (and again after a failure), so that a server started before
 * its configuration was complete comes right without a restart. */
struct fcgi_app {
	struct app a;
	const char *cfgpath, *dbpath;
	int loaded;
};

static int
fcgi_handle(void *arg, const nudge_fcgi_req *r, nudge_buf *out)
{
	struct fcgi_app *f = arg;

	if (!f->loaded) {
		if (app_load(&f->a, f->cfgpath, f->dbpath) != 0) {
			app_free(&f->a);
			reply_text(out, 500, "not configured\n");
			return 0;
		}
		f->a.persistent = 1;
		f->loaded = 1;
	}
	answer(&f->a, fcgi_get, r, r->body.s, r->body.len, out);
	return 0;
}

/* The FastCGI server: descriptor 0 is the listening socket the web
 * server made; the configuration, secrets and store are opened once. */
static int
fastcgi(const char *cfgpath, const char *dbpath)
{
	struct fcgi_app f;
	nudge_err ne;
	int rc;

	memset(&f, 0, sizeof f);
	f.cfgpath = cfgpath;
	f.dbpath = dbpath;
	signal(SIGPIPE, SIG_IGN);
#ifdef __linux__
	/* end with the web server that started us, whatever it does */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() == 1)
		return EX_OSERR;
#endif
	rc = nudge_fcgi_serve(STDIN_FILENO, MAXBODY, fcgi_handle, &f, &ne);
	if (rc != 0)
		warnx("%s", ne.msg);
	if (f.loaded)
		app_free(&f.a);
	return rc;
}

/* `nudge track url`: prints a tracking URL. */
static int
url(int argc, char **argv, const char *step)
{
	nudge_store *st;
	nudge_buf out = { 0 };
	nudge_err ne;
	char *secret = NULL;
	int64_t camp = 0, contact;
	char kind;
	int rc;

	if (argc < 3 || argc > 4)
		nudge_cli_usage(&cli,
		    "url: expected open, click or unsub, a campaign, a "
		    "contact id and, for click, a link");
	if (strcmp(argv[0], "open") == 0)
		kind = 'o';
	else if (strcmp(argv[0], "click") == 0)
		kind = 'c';
	else if (strcmp(argv[0], "unsub") == 0)
		kind = 'u';
	else
		nudge_cli_usage(&cli, "url: expected open, click or unsub");
	if ((kind == 'c') != (argc == 4))
		nudge_cli_usage(&cli,
		    "url: a link goes with click, and only with click");
	if (nudge_parse_i64(argv[2], &contact) == -1 || contact <= 0)
		nudge_cli_usage(&cli, "url: the contact is an id");
	nudge_cli_config(&cli);
	if ((rc = nudge_config_secret(&cli.cfg, NUDGE_SECRET_TRACKING,
	    &secret, &ne)) != 0)
		goto done;
	if (secret == NULL || cli.cfg.tracking.base_url == NULL) {
		rc = nudge_errf(&ne, EX_USAGE, "the config has no tracking: "
		    "base_url and secret");
		goto done;
	}
	st = nudge_cli_store(&cli, 0);
	if ((rc = nudge_store_campaign_id(st, argv[1], &camp, &ne)) != 0)
		goto done;
	if (camp == 0) {
		rc = nudge_errf(&ne, EX_DATAERR, "campaign: no such campaign: "
		    "\"%s\"", argv[1]);
		goto done;
	}
	if ((rc = nudge_track_url(&out, cli.cfg.tracking.base_url, secret,
	    strlen(secret), kind, camp, step, contact, argc == 4 ? argv[3] :
	    NULL, argc == 4 ? strlen(argv[3]) : 0, cli.now, &ne)) != 0)
		goto done;
	printf("%s\n", out.s);
	if (fflush(stdout) == EOF)
		rc = nudge_errf(&ne, EX_IOERR, "stdout: %s", strerror(errno));
done:
	if (rc != 0)
		warnx("%s", ne.msg);
	nudge_buf_free(&out);
	nudge_config_secret_free(secret);
	nudge_cli_close(&cli);
	return rc;
}

/* `nudge track form`: prints a form's HTML snippet. */
static int
form(int argc, char **argv, const char *lang)
{
	const nudge_form_cfg *f;
	nudge_buf out = { 0 };
	int rc = 0;

	if (argc != 1)
		nudge_cli_usage(&cli, "form: expected the name of a form");
	if (lang != NULL)
		(void)nudge_cli_choice(&cli, "--lang", lang, langs);
	nudge_cli_config(&cli);
	if (cli.cfg.tracking.base_url == NULL) {
		warnx("the config has no tracking: base_url");
		rc = EX_CONFIG;
	} else if ((f = nudge_config_form(&cli.cfg, argv[0])) == NULL) {
		warnx("form: no such form in %s: \"%.100s\"",
		    cli.cfg.path != NULL ? cli.cfg.path : "the config",
		    argv[0]);
		rc = EX_DATAERR;
	} else if (nudge_signup_snippet(&out, f, cli.cfg.tracking.base_url,
	    lang) == -1) {
		warnx("out of memory");
		rc = EX_OSERR;
	} else if (fwrite(out.s, 1, out.len, stdout) != out.len ||
	    fflush(stdout) == EOF) {
		warnx("stdout: %s", strerror(errno));
		rc = EX_IOERR;
	}
	nudge_buf_free(&out);
	nudge_cli_close(&cli);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *step = "", *lang = NULL;
	int ch;

	while ((ch = nudge_cli_getopt(&cli, argc, argv, "h",
	    longopts)) != -1) {
		switch (ch) {
		case OPT_LANG:
			lang = optarg;
			break;
		case OPT_STEP:
			step = optarg;
			break;
		default:
			nudge_cli_usage(&cli, NULL);
		}
	}
	nudge_cli_operands(&cli, &argc, &argv, 0, INT_MAX, NULL);
	if (argc > 0 && strcmp(argv[0], "url") == 0)
		return url(argc - 1, argv + 1, step);
	if (argc > 0 && strcmp(argv[0], "form") == 0)
		return form(argc - 1, argv + 1, lang);
	if (argc > 0)
		nudge_cli_usage(&cli, "unknown operand");
	if (getenv("GATEWAY_INTERFACE") != NULL)
		return cgi(cli.config, cli.db);
	if (nudge_fcgi_is_listener(STDIN_FILENO))
		return fastcgi(cli.config, cli.db);
	nudge_cli_usage(&cli,
	    "not run as a CGI program (no GATEWAY_INTERFACE) nor as a "
	    "FastCGI server (standard input is no listening socket)");
}
