/* config: nudge-config(5). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounce.h"
#include "clock.h"
#include "contact.h"
#include "segment.h"
#include "yaml.h"

/* $VAR/suffix, else $HOME/fallback/suffix; NULL when neither is set. */
static char *
xdg_path(const char *var, const char *fallback, const char *suffix)
{
	const char *base = getenv(var), *home = getenv("HOME");
	char *p;

	if (base != NULL && *base == '/') {
		if (asprintf(&p, "%s/%s", base, suffix) == -1)
			return NULL;
	} else if (home != NULL && *home != '\0') {
		if (asprintf(&p, "%s/%s/%s", home, fallback, suffix) == -1)
			return NULL;
	} else {
		return NULL;
	}
	return p;
}

/* Resolves a path written in the config file: ~/ is $HOME, and a
 * relative path is relative to the config file's directory. */
static char *
resolve(const char *cfgpath, const char *p)
{
	const char *home = getenv("HOME"), *slash;
	char *out;
	int n;

	if (p[0] == '~' && p[1] == '/' && home != NULL)
		n = asprintf(&out, "%s%s", home, p + 1);
	else if (p[0] == '/' || (slash = strrchr(cfgpath, '/')) == NULL)
		n = asprintf(&out, "%s", p);
	else
		n = asprintf(&out, "%.*s/%s", (int)(slash - cfgpath), cfgpath,
		    p);
	return n == -1 ? NULL : out;
}

static int
bad(const char *path, const nudge_ynode *n, nudge_err *err, const char *fmt,
    const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof msg, fmt, arg);
	return nudge_errf(err, EX_DATAERR, "%s:%ld:%ld: %s", path, n->line,
	    n->col, msg);
}

static int
scalar(const char *path, const nudge_ynode *n, nudge_err *err)
{
	if (n->kind != NUDGE_Y_SCALAR)
		return bad(path, n, err, "%s: expected a single value", n->key);
	return 0;
}

/* The reader's state: the file's name for messages, and where an inline
 * secret was seen (checked against the file's mode at the end). */
struct rd {
	const char *path;
	nudge_config *cfg;
	const nudge_ynode *secret_at;
	const char *secret_what;
};

/* "file:line:col: PREFIX: KEY: why" where fmt says why.  Never pass a
 * secret's value as an argument. */
static int
badf(struct rd *r, const nudge_ynode *n, const char *prefix, nudge_err *err,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
badf(struct rd *r, const nudge_ynode *n, const char *prefix, nudge_err *err,
    const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return nudge_errf(err, EX_DATAERR, "%s:%ld:%ld: %s%s: %s", r->path,
	    n->line, n->col, prefix, n->key != NULL ? n->key : "", msg);
}

static int
oom(nudge_err *err)
{
	return nudge_errf(err, EX_OSERR, "out of memory");
}

/* The value quoted for a message (not for secrets). */
static const char *
q(char *buf, size_t len, const nudge_ynode *n)
{
	size_t k;

	buf[0] = '"';
	nudge_quote(buf + 1, len - 2, n->value, strlen(n->value));
	k = strlen(buf);
	buf[k] = '"';
	buf[k + 1] = '\0';
	return buf;
}

static int
want_map(struct rd *r, const nudge_ynode *n, const char *prefix,
    nudge_err *err)
{
	if (n->kind != NUDGE_Y_MAP)
		return badf(r, n, prefix, err, "expected a map of settings");
	return 0;
}

/* A non-empty single value without control characters. */
static int
want_text(struct rd *r, const nudge_ynode *n, const char *prefix,
    nudge_err *err)
{
	const unsigned char *p;

	if (n->kind != NUDGE_Y_SCALAR)
		return badf(r, n, prefix, err, "expected a single value");
	if (*n->value == '\0')
		return badf(r, n, prefix, err, "expected a value, got nothing");
	for (p = (const unsigned char *)n->value; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return badf(r, n, prefix, err,
			    "control characters are not allowed");
	return 0;
}

static int
set_text(struct rd *r, const nudge_ynode *n, const char *prefix,
    char **dst, nudge_err *err)
{
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	return nudge_strset(dst, n->value) == -1 ? oom(err) : 0;
}

static int
set_path(struct rd *r, const nudge_ynode *n, const char *prefix,
    char **dst, nudge_err *err)
{
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	free(*dst);
	if ((*dst = resolve(r->path, n->value)) == NULL)
		return oom(err);
	return 0;
}

static int
set_bool(struct rd *r, const nudge_ynode *n, const char *prefix, int *dst,
    nudge_err *err)
{
	char b[64];
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	if (strcmp(n->value, "true") == 0 || strcmp(n->value, "yes") == 0)
		*dst = 1;
	else if (strcmp(n->value, "false") == 0 || strcmp(n->value, "no") == 0)
		*dst = 0;
	else
		return badf(r, n, prefix, err, "expected true or false, not %s",
		    q(b, sizeof b, n));
	return 0;
}

static int
set_duration(struct rd *r, const nudge_ynode *n, const char *prefix,
    int64_t *dst, nudge_err *err)
{
	char b[64];
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	if (nudge_duration_parse(n->value, dst) != 0)
		return badf(r, n, prefix, err, "expected a duration such as "
		    "12h, 7d or 4w, not %s", q(b, sizeof b, n));
	return 0;
}

/* An environment variable's name: [A-Za-z_][A-Za-z0-9_]*. */
static int
set_envname(struct rd *r, const nudge_ynode *n, const char *prefix,
    char **dst, nudge_err *err)
{
	const char *p;
	char b[64];
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	for (p = n->value; *p != '\0'; p++)
		if (!(isalpha((unsigned char)*p) || *p == '_' ||
		    (p > n->value && isdigit((unsigned char)*p))))
			return badf(r, n, prefix, err, "expected the name of "
			    "an environment variable, not %s",
			    q(b, sizeof b, n));
	return set_text(r, n, prefix, dst, err);
}

/* An address as a From: or Reply-To: header gives it: addr or
 * "Display Name <addr>". */
static int
set_address(struct rd *r, const nudge_ynode *n, const char *prefix,
    char **dst, nudge_err *err)
{
	char b[128], norm[NUDGE_EMAIL_MAX + 1];
	const char *v, *lt, *why;
	size_t len;
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	v = n->value;
	len = strlen(v);
	if ((lt = strrchr(v, '<')) != NULL) {
		if (len < 2 || v[len - 1] != '>')
			return badf(r, n, prefix, err, "expected \"Name "
			    "<address>\" or an address, not %s",
			    q(b, sizeof b, n));
		v = lt + 1;
		len = strlen(v) - 1;
	}
	if (nudge_email_norm(v, len, norm, &why) != 0)
		return badf(r, n, prefix, err, "%s: %s", why,
		    q(b, sizeof b, n));
	return set_text(r, n, prefix, dst, err);
}

/* smtp://host[:port][/...], smtps://..., file:///dir. */
static int
set_url(struct rd *r, const nudge_ynode *n, const char *prefix, char **dst,
    nudge_err *err)
{
	const char *v, *h, *e, *colon;
	char b[128];
	long port;
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	v = n->value;
	if (strncmp(v, "file://", 7) == 0) {
		if (v[7] != '/')
			return badf(r, n, prefix, err, "a file URL needs an "
			    "absolute path (file:///dir), not %s",
			    q(b, sizeof b, n));
		return set_text(r, n, prefix, dst, err);
	}
	if (strncmp(v, "smtp://", 7) == 0)
		h = v + 7;
	else if (strncmp(v, "smtps://", 8) == 0)
		h = v + 8;
	else
		return badf(r, n, prefix, err, "expected smtp://host:port, "
		    "smtps://host:port or file:///dir, not %s",
		    q(b, sizeof b, n));
	e = h + strcspn(h, "/?#");
	colon = NULL;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));

		if (rb != NULL && rb + 1 < e && rb[1] == ':')
			colon = rb + 1;
		else if (rb == NULL)
			h = e;  /* an unclosed bracket: no host */
	} else if ((colon = memchr(h, ':', (size_t)(e - h))) == NULL) {
		colon = NULL;
	}
	if (h == e || colon == h || strchr(v, ' ') != NULL)
		return badf(r, n, prefix, err, "no host in %s",
		    q(b, sizeof b, n));
	if (colon != NULL) {
		char *end;

		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (end != e || colon + 1 == e || port < 1 || port > 65535 ||
		    !isdigit((unsigned char)colon[1]))
			return badf(r, n, prefix, err, "bad port in %s",
			    q(b, sizeof b, n));
	}
	return set_text(r, n, prefix, dst, err);
}

/* "N/s", "N/m", "N/h" or a bare N (per second); N written with a digit
 * first. */
static int
set_rate(struct rd *r, const nudge_ynode *n, const char *prefix,
    double *dst, nudge_err *err)
{
	char b[64];
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	if (!isdigit((unsigned char)n->value[0]) ||
	    nudge_parse_rate(n->value, dst) == -1)
		return badf(r, n, prefix, err, "expected a rate such as 20/s, "
		    "600/m or 1000/h, not %s", q(b, sizeof b, n));
	return 0;
}

static int
set_int(struct rd *r, const nudge_ynode *n, const char *prefix,
    int64_t lo, int64_t hi, int64_t *dst, nudge_err *err)
{
	char b[64];
	int64_t v;
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	if (nudge_parse_i64(n->value, &v) != 0 || v < lo || v > hi)
		return badf(r, n, prefix, err, "expected a whole number from "
		    "%lld to %lld, not %s", (long long)lo, (long long)hi,
		    q(b, sizeof b, n));
	*dst = v;
	return 0;
}

/* HH:MM, 00:00 to 23:59, as minutes after midnight. */
static int
set_clock(struct rd *r, const nudge_ynode *n, const char *prefix, int *dst,
    nudge_err *err)
{
	const char *v = n->value;
	char b[64];
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	if (strlen(v) != 5 || !isdigit((unsigned char)v[0]) ||
	    !isdigit((unsigned char)v[1]) || v[2] != ':' ||
	    !isdigit((unsigned char)v[3]) || !isdigit((unsigned char)v[4]) ||
	    (v[0] - '0') * 10 + (v[1] - '0') > 23 || v[3] > '5')
		return badf(r, n, prefix, err, "expected a time of day such as "
		    "08:00 or 21:30, not %s", q(b, sizeof b, n));
	*dst = ((v[0] - '0') * 10 + (v[1] - '0')) * 60 +
	    (v[3] - '0') * 10 + (v[4] - '0');
	return 0;
}

/* An Olson time zone that this system has ($TZDIR or
 * /usr/share/zoneinfo), or UTC. */
static int
set_tz(struct rd *r, const nudge_ynode *n, const char *prefix, char **dst,
    nudge_err *err)
{
	const char *v = n->value, *dir = getenv("TZDIR"), *p;
	char b[96], file[512];
	struct stat sb;
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	for (p = v; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			break;
	if (strcmp(v, "UTC") != 0 && (*p != '\0' || *v == '/' ||
	    strstr(v, "..") != NULL ||
	    (size_t)snprintf(file, sizeof file, "%s/%s", dir, v) >=
	    sizeof file || stat(file, &sb) == -1 || !S_ISREG(sb.st_mode)))
		return badf(r, n, prefix, err, "unknown time zone %s; expected "
		    "a name such as Europe/Paris or Asia/Jerusalem",
		    q(b, sizeof b, n));
	return set_text(r, n, prefix, dst, err);
}

/* An inline secret: taken, and remembered so that the file's mode is
 * checked once the whole file is read.  Its value is never quoted. */
static int
set_secret(struct rd *r, const nudge_ynode *n, const char *prefix,
    const char *what, char **dst, nudge_err *err)
{
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	if (*dst != NULL) {
		explicit_bzero(*dst, strlen(*dst));
		free(*dst);
	}
	if ((*dst = strdup(n->value)) == NULL)
		return oom(err);
	if (r->secret_at == NULL) {
		r->secret_at = n;
		r->secret_what = what;
	}
	return 0;
}

static int
unknown(struct rd *r, const nudge_ynode *n, const char *prefix,
    nudge_err *err)
{
	char b[128];

	return nudge_errf(err, EX_DATAERR, "%s:%ld:%ld: %sunknown setting "
	    "\"%s\"", r->path, n->line, n->col, prefix,
	    nudge_quote(b, sizeof b, n->key, strlen(n->key)));
}

/* At most one source for a secret. */
static int
one_source(struct rd *r, const nudge_ynode *n, const char *prefix,
    const char *names, int count, nudge_err *err)
{
	if (count > 1)
		return badf(r, n, prefix, err, "give only one of %s", names);
	return 0;
}

static int
read_email(struct rd *r, const nudge_ynode *m, nudge_err *err)
{
	static const char P[] = "channels: email: ";
	nudge_email_cfg *e = &r->cfg->email;
	size_t i;
	int rc;

	if ((rc = want_map(r, m, "channels: ", err)) != 0)
		return rc;
	for (i = 0; i < m->n; i++) {
		const nudge_ynode *n = m->kids[i];
		const char *k = n->key;
		int64_t v;

		if (strcmp(k, "url") == 0)
			rc = set_url(r, n, P, &e->url, err);
		else if (strcmp(k, "from") == 0)
			rc = set_address(r, n, P, &e->from, err);
		else if (strcmp(k, "reply_to") == 0)
			rc = set_address(r, n, P, &e->reply_to, err);
		else if (strcmp(k, "username") == 0)
			rc = set_text(r, n, P, &e->username, err);
		else if (strcmp(k, "password_env") == 0)
			rc = set_envname(r, n, P, &e->password_env, err);
		else if (strcmp(k, "password_file") == 0)
			rc = set_path(r, n, P, &e->password_file, err);
		else if (strcmp(k, "password") == 0)
			rc = set_secret(r, n, P, "channels: email: password",
			    &e->password, err);
		else if (strcmp(k, "parallel") == 0) {
			if ((rc = set_int(r, n, P, 1, 64, &v, err)) == 0)
				e->parallel = (int)v;
		} else if (strcmp(k, "rate") == 0)
			rc = set_rate(r, n, P, &e->rate, err);
		else if (strcmp(k, "max_retries") == 0) {
			if ((rc = set_int(r, n, P, 0, 20, &v, err)) == 0)
				e->max_retries = (int)v;
		} else if (strcmp(k, "backoff_ms") == 0) {
			if ((rc = set_int(r, n, P, 1, 3600000, &v, err)) == 0)
				e->backoff_ms = (int)v;
		} else if (strcmp(k, "allow_plaintext") == 0)
			rc = set_bool(r, n, P, &e->allow_plaintext, err);
		else if (strcmp(k, "require_tls") == 0)
			rc = set_bool(r, n, P, &e->require_tls, err);
		else if (strcmp(k, "tls_ca_file") == 0)
			rc = set_path(r, n, P, &e->tls_ca_file, err);
		else if (strcmp(k, "timeout_ms") == 0) {
			if ((rc = set_int(r, n, P, 100, 3600000, &v, err)) == 0)
				e->timeout_ms = (int)v;
		} else
			rc = unknown(r, n, P, err);
		if (rc == 0 && e->require_tls && e->allow_plaintext)
			rc = badf(r, n, P, err, "require_tls and "
			    "allow_plaintext contradict each other");
		if (rc == 0 && strncmp(k, "password", 8) == 0)
			rc = one_source(r, n, P, "password, password_env and "
			    "password_file", (e->password != NULL) +
			    (e->password_env != NULL) +
			    (e->password_file != NULL), err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* channels: sms: or channels: push: (nudge-config(5)). */
static int
read_http(struct rd *r, const nudge_ynode *m, const char *P,
    const char *what, nudge_http_cfg *h, nudge_err *err)
{
	int sms = strstr(P, "sms") != NULL;
	char b[128];
	size_t i, j;
	int rc;

	if ((rc = want_map(r, m, "channels: ", err)) != 0)
		return rc;
	for (i = 0; i < m->n; i++) {
		const nudge_ynode *n = m->kids[i];
		const char *k = n->key;
		int64_t v;

		if (strcmp(k, "provider") == 0) {
			if ((rc = want_text(r, n, P, err)) == 0) {
				free(h->provider);
				if ((h->provider = strchr(n->value, '/') != NULL ?
				    resolve(r->path, n->value) :
				    strdup(n->value)) == NULL)
					rc = oom(err);
			}
		} else if (strcmp(k, "url") == 0) {
			if ((rc = want_text(r, n, P, err)) == 0 &&
			    strncmp(n->value, "http://", 7) != 0 &&
			    strncmp(n->value, "https://", 8) != 0 &&
			    strncmp(n->value, "exec:", 5) != 0 &&
			    strncmp(n->value, "file:///", 8) != 0)
				rc = badf(r, n, P, err, "expected http://, "
				    "https://, exec: or file:///, not %s",
				    q(b, sizeof b, n));
			if (rc == 0)
				rc = set_text(r, n, P, &h->url, err);
		} else if (strcmp(k, "user") == 0)
			rc = set_text(r, n, P, &h->user, err);
		else if (strcmp(k, "secret_env") == 0)
			rc = set_envname(r, n, P, &h->secret_env, err);
		else if (strcmp(k, "secret_file") == 0)
			rc = set_path(r, n, P, &h->secret_file, err);
		else if (strcmp(k, "secret") == 0)
			rc = set_secret(r, n, P, what, &h->secret, err);
		else if (strcmp(k, "parallel") == 0) {
			if ((rc = set_int(r, n, P, 1, 64, &v, err)) == 0)
				h->parallel = (int)v;
		} else if (strcmp(k, "rate") == 0)
			rc = set_rate(r, n, P, &h->rate, err);
		else if (strcmp(k, "burst") == 0) {
			if ((rc = set_int(r, n, P, 1, 10000, &v, err)) == 0)
				h->burst = (int)v;
		} else if (strcmp(k, "max_retries") == 0) {
			if ((rc = set_int(r, n, P, 0, 20, &v, err)) == 0)
				h->max_retries = (int)v;
		} else if (strcmp(k, "backoff_ms") == 0) {
			if ((rc = set_int(r, n, P, 1, 3600000, &v, err)) == 0)
				h->backoff_ms = (int)v;
		} else if (strcmp(k, "retry_budget") == 0) {
			if ((rc = set_int(r, n, P, 1, 1000000, &v, err)) == 0)
				h->retry_budget = (int)v;
		} else if (strcmp(k, "timeout_ms") == 0) {
			if ((rc = set_int(r, n, P, 1, 3600000, &v, err)) == 0)
				h->timeout_ms = (int)v;
		} else if (strcmp(k, "breaker") == 0) {
			if ((rc = set_int(r, n, P, 1, 100000, &v, err)) == 0)
				h->breaker = (int)v;
		} else if (strcmp(k, "allow_plaintext") == 0)
			rc = set_bool(r, n, P, &h->allow_plaintext, err);
		else if (sms && strcmp(k, "stop_text") == 0)
			rc = set_text(r, n, P, &h->stop_text, err);
		else if (sms && strcmp(k, "sender") == 0) {
			if ((rc = want_map(r, n, P, err)) != 0)
				return rc;
			h->sender_cc = calloc(n->n + 1, sizeof *h->sender_cc);
			h->sender_id = calloc(n->n + 1, sizeof *h->sender_id);
			if (h->sender_cc == NULL || h->sender_id == NULL)
				return oom(err);
			for (j = 0; j < n->n; j++) {
				const nudge_ynode *c = n->kids[j];

				if (strcmp(c->key, "default") != 0 &&
				    !nudge_phone_country_known(c->key))
					return badf(r, c, "channels: sms: sender: ",
					    err, "not \"default\" or a country "
					    "nudge knows (IL, US, ...)");
				if ((rc = want_text(r, c, "channels: sms: "
				    "sender: ", err)) != 0)
					return rc;
				snprintf(h->sender_cc[j], sizeof h->sender_cc[j],
				    "%s", c->key);
				if ((h->sender_id[j] = strdup(c->value)) == NULL)
					return oom(err);
				h->nsenders++;
			}
		} else
			rc = unknown(r, n, P, err);
		if (rc == 0 && strncmp(k, "secret", 6) == 0)
			rc = one_source(r, n, P, "secret, secret_env and "
			    "secret_file", (h->secret != NULL) +
			    (h->secret_env != NULL) + (h->secret_file != NULL),
			    err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
read_channels(struct rd *r, const nudge_ynode *m, nudge_err *err)
{
	size_t i;
	int rc;

	if ((rc = want_map(r, m, "", err)) != 0)
		return rc;
	for (i = 0; i < m->n; i++) {
		if (strcmp(m->kids[i]->key, "email") == 0)
			rc = read_email(r, m->kids[i], err);
		else if (strcmp(m->kids[i]->key, "sms") == 0)
			rc = read_http(r, m->kids[i], "channels: sms: ",
			    "channels: sms: secret", &r->cfg->sms, err);
		else if (strcmp(m->kids[i]->key, "push") == 0)
			rc = read_http(r, m->kids[i], "channels: push: ",
			    "channels: push: secret", &r->cfg->push, err);
		else
			rc = unknown(r, m->kids[i], "channels: ", err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
read_tracking(struct rd *r, const nudge_ynode *m, nudge_err *err)
{
	static const char P[] = "tracking: ";
	nudge_tracking_cfg *t = &r->cfg->tracking;
	char b[128];
	size_t i;
	int rc;

	if ((rc = want_map(r, m, "", err)) != 0)
		return rc;
	for (i = 0; i < m->n; i++) {
		const nudge_ynode *n = m->kids[i];
		const char *k = n->key;

		if (strcmp(k, "base_url") == 0) {
			if ((rc = want_text(r, n, P, err)) == 0 &&
			    strncmp(n->value, "https://", 8) != 0 &&
			    strncmp(n->value, "http://", 7) != 0)
				rc = badf(r, n, P, err, "expected an http:// or "
				    "https:// URL, not %s", q(b, sizeof b, n));
			if (rc == 0)
				rc = set_text(r, n, P, &t->base_url, err);
		} else if (strcmp(k, "secret_env") == 0)
			rc = set_envname(r, n, P, &t->secret_env, err);
		else if (strcmp(k, "secret_file") == 0)
			rc = set_path(r, n, P, &t->secret_file, err);
		else if (strcmp(k, "secret") == 0)
			rc = set_secret(r, n, P, "tracking: secret", &t->secret,
			    err);
		else if (strcmp(k, "sms_links") == 0) {
			int on = 1;

			rc = set_bool(r, n, P, &on, err);
			t->sms_untracked = !on;
		} else
			rc = unknown(r, n, P, err);
		if (rc == 0 && strncmp(k, "secret", 6) == 0)
			rc = one_source(r, n, P, "secret, secret_env and "
			    "secret_file", (t->secret != NULL) +
			    (t->secret_env != NULL) + (t->secret_file != NULL),
			    err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* A share such as 2% or 0.3%, as a fraction in [0, 1]. */
static int
set_share(struct rd *r, const nudge_ynode *n, const char *prefix,
    double *dst, nudge_err *err)
{
	char b[64], *e;
	double v;
	int rc;

	if ((rc = want_text(r, n, prefix, err)) != 0)
		return rc;
	v = strtod(n->value, &e);
	if (e == n->value || strcmp(e, "%") != 0 || !(v >= 0 && v <= 100))
		return badf(r, n, prefix, err, "expected a share such as 2%% "
		    "or 0.3%%, not %s", q(b, sizeof b, n));
	*dst = v / 100;
	return 0;
}

static int
read_bounces(struct rd *r, const nudge_ynode *m, nudge_err *err)
{
	static const char P[] = "bounces: ";
	nudge_bounce_cfg *c = &r->cfg->bounces;
	size_t i;
	int rc;

	if ((rc = want_map(r, m, "", err)) != 0)
		return rc;
	for (i = 0; i < m->n; i++) {
		const nudge_ynode *n = m->kids[i];

		if (strcmp(n->key, "soft_limit") == 0)
			rc = set_int(r, n, P, 1, 1000, &c->soft_limit, err);
		else if (strcmp(n->key, "soft_within") == 0)
			rc = set_duration(r, n, P, &c->soft_within, err);
		else if (strcmp(n->key, "max_sender_side") == 0)
			rc = set_share(r, n, P, &c->max_sender, err);
		else
			rc = unknown(r, n, P, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* report: the zone of --by day, the conversion, its value and currency,
 * and the price of a message per channel. */
static int
read_report(struct rd *r, const nudge_ynode *m, nudge_err *err)
{
	static const char P[] = "report: ";
	nudge_report_cfg *c = &r->cfg->report;
	char b[64], *e;
	size_t i, j;
	int rc;

	if ((rc = want_map(r, m, "", err)) != 0)
		return rc;
	for (i = 0; i < m->n; i++) {
		const nudge_ynode *n = m->kids[i];

		if (strcmp(n->key, "timezone") == 0)
			rc = set_tz(r, n, P, &c->timezone, err);
		else if (strcmp(n->key, "conversion") == 0) {
			if ((rc = want_text(r, n, P, err)) == 0 &&
			    (!nudge_is_name(n->value) ||
			    strchr(n->value, '-') != NULL))
				rc = badf(r, n, P, err, "expected an event type "
				    "such as purchase, not %s", q(b, sizeof b, n));
			if (rc == 0)
				rc = set_text(r, n, P, &c->conversion, err);
		} else if (strcmp(n->key, "value") == 0) {
			if ((rc = want_text(r, n, P, err)) == 0 &&
			    !nudge_is_name(n->value))
				rc = badf(r, n, P, err, "expected a prop name such "
				    "as total, not %s", q(b, sizeof b, n));
			if (rc == 0)
				rc = set_text(r, n, P, &c->value, err);
		} else if (strcmp(n->key, "currency") == 0) {
			if ((rc = want_text(r, n, P, err)) == 0 &&
			    (strlen(n->value) != 3 ||
			    !isalpha((unsigned char)n->value[0]) ||
			    !isalpha((unsigned char)n->value[1]) ||
			    !isalpha((unsigned char)n->value[2])))
				rc = badf(r, n, P, err, "expected a three-letter "
				    "currency code such as EUR or ILS, not %s",
				    q(b, sizeof b, n));
			if (rc == 0 && (rc = set_text(r, n, P, &c->currency,
			    err)) == 0)
				for (j = 0; j < 3; j++)
					c->currency[j] = (char)toupper(
					    (unsigned char)c->currency[j]);
		} else if (strcmp(n->key, "price") == 0) {
			static const char PP[] = "report: price: ";

			if ((rc = want_map(r, n, P, err)) != 0)
				return rc;
			for (j = 0; j < c->nprices; j++)
				free(c->price_channel[j]);
			free(c->price_channel);
			free(c->price);
			c->nprices = 0;
			if ((c->price_channel = calloc(n->n + 1,
			    sizeof *c->price_channel)) == NULL ||
			    (c->price = calloc(n->n + 1, sizeof *c->price)) ==
			    NULL)
				return oom(err);
			for (j = 0; j < n->n; j++) {
				const nudge_ynode *k = n->kids[j];
				double v;

				if ((rc = want_text(r, k, PP, err)) != 0)
					return rc;
				v = strtod(k->value, &e);
				if (e == k->value || *e != '\0' || !(v >= 0 &&
				    v < 1e9))
					return badf(r, k, PP, err, "expected a "
					    "price such as 0.0075, not %s",
					    q(b, sizeof b, k));
				if ((c->price_channel[j] = strdup(k->key)) ==
				    NULL)
					return oom(err);
				c->price[j] = v;
				c->nprices++;
			}
		} else
			rc = unknown(r, n, P, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* computed: {total_spent: "sum of total over purchase", ...}, or the
 * name of a YAML file of that mapping (relative to the config's
 * directory): each aggregate checked here, so that its error names the
 * file and line it is on. */
static int
read_computed(struct rd *r, const nudge_ynode *m, nudge_err *err)
{
	nudge_config *c = r->cfg;
	nudge_ynode *root = NULL;
	nudge_err e;
	struct rd sub;
	char *path;
	size_t i;
	int rc;

	if (m->kind == NUDGE_Y_SCALAR && c->computed_names == NULL) {
		if ((path = resolve(r->path, m->value)) == NULL)
			return nudge_errf(err, EX_OSERR, "out of memory");
		if ((rc = nudge_yaml_load(path, &root, &e)) != 0) {
			rc = badf(r, m, "computed: ", err, "%s", e.msg);
		} else {
			sub = *r;
			sub.path = path;
			rc = root->kind == NUDGE_Y_MAP ?
			    read_computed(&sub, root, err) :
			    badf(&sub, root, "", err, "expected a mapping of "
			    "field names to aggregates");
		}
		nudge_yaml_free(root);
		free(path);
		return rc;
	}
	if ((rc = want_map(r, m, "", err)) != 0)
		return rc;
	if ((c->computed_names = calloc(m->n + 1, sizeof *c->computed_names))
	    == NULL || (c->computed_defs = calloc(m->n + 1,
	    sizeof *c->computed_defs)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	for (i = 0; i < m->n; i++) {
		const nudge_ynode *n = m->kids[i];
		const char *name = n->key;

		if (!nudge_is_name(name) || strchr(name, '-') != NULL)
			return badf(r, n, "computed: ", err, "a field name is "
			    "letters, digits and _");
		if (n->kind != NUDGE_Y_SCALAR)
			return badf(r, n, "computed: ", err, "expected an "
			    "aggregate such as \"sum of total over purchase\"");
		if (nudge_seg_set_computed(&name, (const char *const *)
		    &n->value, 1, &e) != 0) {
			const char *why = e.msg;

			/* the field is named once, by badf */
			if (strncmp(why, "in computed field ", 18) == 0 &&
			    (why = strstr(why, ": ")) != NULL)
				why += 2;
			else
				why = e.msg;
			return badf(r, n, "computed: ", err, "%s", why);
		}
		if ((c->computed_names[i] = strdup(name)) == NULL ||
		    (c->computed_defs[i] = strdup(n->value)) == NULL)
			return nudge_errf(err, EX_OSERR, "out of memory");
		c->ncomputed++;
	}
	return 0;
}

/* consent: {email: opt-out, sms: opt-in, push: opt-in} */
static int
read_consent(struct rd *r, const nudge_ynode *m, nudge_err *err)
{
	static const char *const chans[] = { "email", "sms", "push" };
	size_t i, k;
	int rc;

	if ((rc = want_map(r, m, "", err)) != 0)
		return rc;
	for (i = 0; i < m->n; i++) {
		const nudge_ynode *n = m->kids[i];

		for (k = 0; k < 3; k++)
			if (strcmp(n->key, chans[k]) == 0)
				break;
		if (k == 3)
			return badf(r, n, "consent: ", err, "not a channel "
			    "(email, sms or push)");
		if (n->kind != NUDGE_Y_SCALAR || (strcmp(n->value, "opt-in") !=
		    0 && strcmp(n->value, "opt-out") != 0))
			return badf(r, n, "consent: ", err, "expected opt-in "
			    "(no consent record means no) or opt-out (it "
			    "means yes)");
		r->cfg->consent_optin[k] = strcmp(n->value, "opt-in") == 0;
	}
	return 0;
}

static int
read_policy(struct rd *r, const nudge_ynode *m, nudge_err *err)
{
	nudge_policy_cfg *p = &r->cfg->policy;
	size_t i, j;
	int rc;

	if ((rc = want_map(r, m, "", err)) != 0)
		return rc;
	for (i = 0; i < m->n; i++) {
		const nudge_ynode *n = m->kids[i];
		const char *k = n->key;

		if (strcmp(k, "frequency_cap") == 0) {
			static const char P[] = "policy: frequency_cap: ";
			int have_max = 0, have_per = 0;

			if ((rc = want_map(r, n, "policy: ", err)) != 0)
				return rc;
			for (j = 0; j < n->n && rc == 0; j++) {
				const nudge_ynode *c = n->kids[j];

				if (strcmp(c->key, "max") == 0) {
					rc = set_int(r, c, P, 1, 1000000,
					    &p->cap_max, err);
					have_max = 1;
				} else if (strcmp(c->key, "per") == 0) {
					rc = set_duration(r, c, P, &p->cap_per,
					    err);
					have_per = 1;
				} else
					rc = unknown(r, c, P, err);
			}
			if (rc == 0 && (!have_max || !have_per))
				rc = badf(r, n, "policy: ", err, "needs both "
				    "max and per, as in {max: 3, per: 7d}");
		} else if (strcmp(k, "quiet_hours") == 0) {
			static const char P[] = "policy: quiet_hours: ";
			int have_from = 0, have_to = 0;

			if ((rc = want_map(r, n, "policy: ", err)) != 0)
				return rc;
			for (j = 0; j < n->n && rc == 0; j++) {
				const nudge_ynode *c = n->kids[j];

				if (strcmp(c->key, "from") == 0) {
					rc = set_clock(r, c, P, &p->quiet_from,
					    err);
					have_from = 1;
				} else if (strcmp(c->key, "to") == 0) {
					rc = set_clock(r, c, P, &p->quiet_to,
					    err);
					have_to = 1;
				} else if (strcmp(c->key, "timezone") == 0)
					rc = set_tz(r, c, P, &p->quiet_tz, err);
				else
					rc = unknown(r, c, P, err);
			}
			if (rc == 0 && (!have_from || !have_to))
				rc = badf(r, n, "policy: ", err, "needs both "
				    "from and to, as in {from: \"21:00\", "
				    "to: \"08:00\"}");
			if (rc == 0 && p->quiet_from == p->quiet_to)
				rc = badf(r, n, "policy: ", err, "from and to "
				    "are the same time");
		} else if (strcmp(k, "exclude") == 0) {
			rc = set_text(r, n, "policy: ", &p->exclude, err);
			p->exclude_line = n->line;
			p->exclude_col = n->col + (n->plain ? 0 : 1);
			/* Checked now unless it names saved segments, which
			 * live in the store: those are checked when used. */
			if (rc == 0 && strchr(n->value, '@') == NULL) {
				nudge_seg seg;
				nudge_err e;

				if (nudge_seg_compile(NULL, NULL, n->value, 0,
				    &seg, &e) != 0)
					rc = badf(r, n, "policy: ", err, "%s",
					    e.msg);
				nudge_seg_free(&seg);
			}
		} else if (strcmp(k, "sunset") == 0)
			rc = set_duration(r, n, "policy: ", &p->sunset, err);
		else
			rc = unknown(r, n, "policy: ", err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* A secret in the file itself is only accepted when nobody else can read
 * the file. */
/* event_types: [ad_view, purchase] (type 1), event_channels: [web,
 * facebook] (0) or lists such as topics: [news, offers] (2): a sequence
 * of names (event types without '-') into *v, *nv of them. */
static int
read_names(struct rd *r, const nudge_ynode *m, int type, char ***v,
    size_t *nv, nudge_err *err)
{
	char b[100];
	size_t i;

	if (m->kind != NUDGE_Y_SEQ)
		return badf(r, m, "", err, "expected a list of names such as "
		    "%s", type == 1 ? "[ad_view, purchase]" : type == 2 ?
		    "[news, offers]" : "[web, facebook]");
	for (i = 0; i < *nv; i++)
		free((*v)[i]);
	free(*v);
	*nv = 0;
	if ((*v = calloc(m->n + 1, sizeof **v)) == NULL)
		return oom(err);
	for (i = 0; i < m->n; i++) {
		const nudge_ynode *n = m->kids[i];

		if (n->kind != NUDGE_Y_SCALAR || !nudge_is_name(n->value) ||
		    (type == 1 && strchr(n->value, '-') != NULL))
			return nudge_errf(err, EX_DATAERR, "%s:%ld:%ld: %s: "
			    "expected %s (lower-case letters, digits%s, "
			    "starting with a letter), got %s", r->path, n->line,
			    n->col, m->key, type == 1 ? "an event type" :
			    type == 2 ? "a list" : "a channel", type == 1 ?
			    " and _" : ", _ and -",
			    n->kind == NUDGE_Y_SCALAR ? q(b, sizeof b, n) :
			    "a list or map");
		if (((*v)[i] = strdup(n->value)) == NULL)
			return oom(err);
		(*nv)++;
	}
	return 0;
}

static void
form_free(nudge_form_cfg *f)
{
	for (size_t i = 0; i < f->nlists; i++)
		free(f->lists[i]);
	free(f->lists);
	free(f->name);
	free(f->agree_text);
	free(f->title);
	free(f->color);
	free(f->lang);
	free(f->pages);
}

const nudge_form_cfg *
nudge_config_form(const nudge_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nforms; i++)
		if (strcmp(cfg->forms[i].name, name) == 0)
			return &cfg->forms[i];
	return NULL;
}

/* forms: NAME: {lists, fields, agree_text, title, color, lang, pages,
 * rate_ip, rate_email, max_pending, expire} */
static int
read_form(struct rd *r, const nudge_ynode *m, nudge_form_cfg *f,
    nudge_err *err)
{
	char P[160], b[100];
	size_t i, j;
	int rc, ask_email = 0, confirm = 0;

	snprintf(P, sizeof P, "forms: %.100s: ", m->key);
	if (!nudge_is_name(m->key))
		return badf(r, m, "forms: ", err, "expected a form name "
		    "(lower-case letters, digits, _ and -, starting with a "
		    "letter)");
	if ((rc = want_map(r, m, "forms: ", err)) != 0)
		return rc;
	if ((f->name = strdup(m->key)) == NULL)
		return oom(err);
	for (i = 0; i < m->n; i++) {
		const nudge_ynode *n = m->kids[i];
		const char *k = n->key;

		if (strcmp(k, "lists") == 0)
			rc = read_names(r, n, 2, &f->lists, &f->nlists, err);
		else if (strcmp(k, "fields") == 0) {
			if (n->kind != NUDGE_Y_SEQ)
				return badf(r, n, P, err, "expected a list such "
				    "as [email, phone, name]");
			for (j = 0; j < n->n; j++) {
				const nudge_ynode *v = n->kids[j];

				if (v->kind == NUDGE_Y_SCALAR &&
				    strcmp(v->value, "phone") == 0)
					f->ask_phone = 1;
				else if (v->kind == NUDGE_Y_SCALAR &&
				    strcmp(v->value, "name") == 0)
					f->ask_name = 1;
				else if (v->kind == NUDGE_Y_SCALAR &&
				    strcmp(v->value, "email") == 0)
					ask_email = 1;
				else
					return nudge_errf(err, EX_DATAERR,
					    "%s:%ld:%ld: %sfields: expected "
					    "email, phone or name, got %s",
					    r->path, v->line, v->col, P,
					    v->kind == NUDGE_Y_SCALAR ? q(b,
					    sizeof b, v) : "a list or map");
			}
		} else if (strcmp(k, "agree_text") == 0)
			rc = set_text(r, n, P, &f->agree_text, err);
		else if (strcmp(k, "title") == 0)
			rc = set_text(r, n, P, &f->title, err);
		else if (strcmp(k, "color") == 0) {
			size_t len = n->kind == NUDGE_Y_SCALAR ?
			    strlen(n->value) : 0;

			if ((rc = set_text(r, n, P, &f->color, err)) == 0 &&
			    (f->color[0] != '#' || (len != 4 && len != 7) ||
			    strspn(f->color + 1, "0123456789abcdefABCDEF") !=
			    len - 1))
				rc = badf(r, n, P, err, "expected a colour such "
				    "as \"#1a73e8\", not %s", q(b, sizeof b, n));
		} else if (strcmp(k, "lang") == 0) {
			if ((rc = set_text(r, n, P, &f->lang, err)) == 0 &&
			    strcmp(f->lang, "en") != 0 &&
			    strcmp(f->lang, "he") != 0)
				rc = badf(r, n, P, err, "expected en or he, not "
				    "%s", q(b, sizeof b, n));
		} else if (strcmp(k, "pages") == 0)
			rc = set_path(r, n, P, &f->pages, err);
		else if (strcmp(k, "rate_ip") == 0)
			rc = set_int(r, n, P, 1, 1000000, &f->rate_ip, err);
		else if (strcmp(k, "rate_email") == 0)
			rc = set_int(r, n, P, 1, 1000, &f->rate_email, err);
		else if (strcmp(k, "max_pending") == 0)
			rc = set_int(r, n, P, 1, 100000000, &f->max_pending,
			    err);
		else if (strcmp(k, "expire") == 0)
			rc = set_duration(r, n, P, &f->expire, err);
		else if (strcmp(k, "confirm") == 0) {
			if (n->kind != NUDGE_Y_SCALAR ||
			    (strcmp(n->value, "email") != 0 &&
			    strcmp(n->value, "sms") != 0))
				return badf(r, n, P, err, "confirm: expected "
				    "email or sms");
			confirm = n->value[0] == 's' ? 2 : 1;
		} else
			rc = unknown(r, n, P, err);
		if (rc != 0)
			return rc;
	}
	/* a form that asks for a phone and no email confirms by SMS */
	f->confirm_sms = confirm == 2 || (confirm == 0 && f->ask_phone &&
	    !ask_email);
	if (f->confirm_sms)
		f->ask_phone = 1;
	if (f->agree_text == NULL)
		return badf(r, m, "forms: ", err, "agree_text: missing: the "
		    "text a person agrees to is the proof of consent");
	return 0;
}

static int
read_forms(struct rd *r, const nudge_ynode *m, nudge_err *err)
{
	nudge_config *cfg = r->cfg;
	size_t i;
	int rc;

	if ((rc = want_map(r, m, "", err)) != 0)
		return rc;
	if ((cfg->forms = calloc(m->n + 1, sizeof *cfg->forms)) == NULL)
		return oom(err);
	for (i = 0; i < m->n; i++) {
		nudge_form_cfg *f = &cfg->forms[i];

		f->rate_ip = 5;
		f->rate_email = 3;
		f->max_pending = 1000;
		f->expire = 2 * 86400;
		cfg->nforms++;
		if ((rc = read_form(r, m->kids[i], f, err)) != 0)
			return rc;
	}
	return 0;
}

static int
check_secret_mode(struct rd *r, nudge_err *err)
{
	struct stat sb;

	if (r->secret_at == NULL)
		return 0;
	if (stat(r->path, &sb) == -1)
		return nudge_errf(err, EX_IOERR, "%s: %s", r->path,
		    strerror(errno));
	if ((sb.st_mode & 077) != 0)
		return nudge_errf(err, EX_DATAERR, "%s:%ld:%ld: %s: refused: "
		    "the file holds a secret but is readable or writable by "
		    "group or others (mode %04o); chmod 600 it, or use %s_env "
		    "or %s_file", r->path, r->secret_at->line,
		    r->secret_at->col, r->secret_what,
		    (unsigned)(sb.st_mode & 07777), r->secret_at->key,
		    r->secret_at->key);
	if (sb.st_uid != geteuid())
		return nudge_errf(err, EX_DATAERR, "%s:%ld:%ld: %s: refused: "
		    "the file holds a secret but belongs to another user "
		    "(uid %u)", r->path, r->secret_at->line, r->secret_at->col,
		    r->secret_what, (unsigned)sb.st_uid);
	return 0;
}

int
nudge_config_load(nudge_config *cfg, const char *path, nudge_err *err)
{
	nudge_ynode *root = NULL;
	char *found = NULL;
	struct rd r;
	size_t i, j;
	int rc;

	memset(cfg, 0, sizeof *cfg);
	cfg->policy.quiet_from = cfg->policy.quiet_to = -1;
	cfg->sms.max_retries = cfg->push.max_retries = -1;
	cfg->email.max_retries = -1;
	cfg->bounces.soft_limit = NUDGE_BOUNCE_SOFT_LIMIT;
	cfg->bounces.soft_within = NUDGE_BOUNCE_SOFT_WITHIN;
	cfg->bounces.max_sender = NUDGE_BOUNCE_MAX_SENDER;
	if (path == NULL && (path = getenv("NUDGE_CONFIG")) != NULL &&
	    *path == '\0')
		path = NULL;
	if (path == NULL) {
		if ((found = xdg_path("XDG_CONFIG_HOME", ".config",
		    "nudge/config.yaml")) == NULL || access(found, F_OK) != 0) {
			free(found);
			return 0;
		}
		path = found;
	}
	if ((cfg->path = strdup(path)) == NULL) {
		free(found);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	free(found);
	memset(&r, 0, sizeof r);
	r.path = cfg->path;
	r.cfg = cfg;
	if ((rc = nudge_yaml_load(cfg->path, &root, err)) != 0) {
		/* "config file /x/y.yaml: No such file or directory": a
		 * bare path would not say which file was looked for */
		if (rc == EX_NOINPUT && err != NULL) {
			nudge_err e = *err;

			nudge_errf(err, rc, "config file %s", e.msg);
		}
		goto fail;
	}
	if (root->kind != NUDGE_Y_MAP) {
		rc = nudge_errf(err, EX_DATAERR, "%s:%ld:%ld: expected a map of "
		    "settings", cfg->path, root->line, root->col);
		goto fail;
	}
	for (i = 0; i < root->n; i++) {
		const nudge_ynode *n = root->kids[i];

		if (strcmp(n->key, "db") == 0) {
			if ((rc = scalar(cfg->path, n, err)) != 0)
				goto fail;
			free(cfg->db);
			if ((cfg->db = resolve(cfg->path, n->value)) == NULL) {
				rc = nudge_errf(err, EX_OSERR, "out of memory");
				goto fail;
			}
		} else if (strcmp(n->key, "default_country") == 0) {
			const char *v = n->value;

			if ((rc = scalar(cfg->path, n, err)) != 0)
				goto fail;
			if (strlen(v) != 2 || !isalpha((unsigned char)v[0]) ||
			    !isalpha((unsigned char)v[1])) {
				rc = bad(cfg->path, n, err, "default_country: "
				    "expected a two-letter country code such as "
				    "IL or US, not \"%.40s\"", v);
				goto fail;
			}
			cfg->default_country[0] = (char)toupper((unsigned char)v[0]);
			cfg->default_country[1] = (char)toupper((unsigned char)v[1]);
			cfg->default_country[2] = '\0';
			if (!nudge_phone_country_known(cfg->default_country)) {
				rc = bad(cfg->path, n, err, "default_country: "
				    "nudge does not know the phone numbering of "
				    "\"%.40s\"", v);
				goto fail;
			}
		} else if (strcmp(n->key, "currency") == 0) {
			const char *v = n->value;

			if ((rc = scalar(cfg->path, n, err)) != 0)
				goto fail;
			if (strlen(v) != 3 || !isalpha((unsigned char)v[0]) ||
			    !isalpha((unsigned char)v[1]) ||
			    !isalpha((unsigned char)v[2])) {
				rc = bad(cfg->path, n, err, "currency: expected "
				    "a three-letter ISO 4217 code such as USD "
				    "or ILS, not \"%.40s\"", v);
				goto fail;
			}
			for (j = 0; j < 3; j++)
				cfg->currency[j] = (char)toupper(
				    (unsigned char)v[j]);
			cfg->currency[3] = '\0';
		} else if (strcmp(n->key, "channels") == 0) {
			if ((rc = read_channels(&r, n, err)) != 0)
				goto fail;
		} else if (strcmp(n->key, "tracking") == 0) {
			if ((rc = read_tracking(&r, n, err)) != 0)
				goto fail;
		} else if (strcmp(n->key, "policy") == 0) {
			if ((rc = read_policy(&r, n, err)) != 0)
				goto fail;
		} else if (strcmp(n->key, "consent") == 0) {
			if ((rc = read_consent(&r, n, err)) != 0)
				goto fail;
		} else if (strcmp(n->key, "computed") == 0) {
			if ((rc = read_computed(&r, n, err)) != 0)
				goto fail;
		} else if (strcmp(n->key, "bounces") == 0) {
			if ((rc = read_bounces(&r, n, err)) != 0)
				goto fail;
		} else if (strcmp(n->key, "report") == 0) {
			if ((rc = read_report(&r, n, err)) != 0)
				goto fail;
		} else if (strcmp(n->key, "event_types") == 0) {
			if ((rc = read_names(&r, n, 1, &cfg->event_types,
			    &cfg->nevent_types, err)) != 0)
				goto fail;
		} else if (strcmp(n->key, "holdout") == 0) {
			/* a global holdout: N% of all contacts */
			if (n->kind != NUDGE_Y_SCALAR ||
			    nudge_parse_share(n->value, &cfg->holdout) != 0) {
				rc = bad(cfg->path, n, err, "holdout: expected a "
				    "share between 0%% and 100%% such as 5%%, got "
				    "\"%.40s\"", n->kind == NUDGE_Y_SCALAR ?
				    n->value : "a list");
				goto fail;
			}
		} else if (strcmp(n->key, "event_channels") == 0) {
			if ((rc = read_names(&r, n, 0, &cfg->event_channels,
			    &cfg->nevent_channels, err)) != 0)
				goto fail;
		} else if (strcmp(n->key, "forms") == 0) {
			if ((rc = read_forms(&r, n, err)) != 0)
				goto fail;
		} else if (strcmp(n->key, "topics") == 0) {
			if ((rc = read_names(&r, n, 2, &cfg->topics,
			    &cfg->ntopics, err)) != 0)
				goto fail;
		} else {
			rc = bad(cfg->path, n, err, "unknown setting \"%.100s\"",
			    n->key);
			goto fail;
		}
	}
	if ((rc = check_secret_mode(&r, err)) != 0)
		goto fail;
	/* the same for expressions, --fields and templates */
	if ((rc = nudge_seg_set_computed((const char *const *)
	    cfg->computed_names, (const char *const *)cfg->computed_defs,
	    cfg->ncomputed, err)) != 0)
		goto fail;
	nudge_yaml_free(root);
	/* segments of this process compile `subscribed CH` by it */
	nudge_seg_set_consent(cfg->consent_optin);
	return 0;
fail:
	nudge_yaml_free(root);
	nudge_config_free(cfg);
	return rc;
}

static void
wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void
http_free(nudge_http_cfg *h)
{
	size_t i;

	free(h->provider);
	free(h->url);
	free(h->user);
	free(h->secret_env);
	free(h->secret_file);
	wipe(h->secret);
	free(h->stop_text);
	for (i = 0; i < h->nsenders; i++)
		free(h->sender_id[i]);
	free(h->sender_id);
	free(h->sender_cc);
}

const char *
nudge_config_sms_sender(const nudge_config *cfg, const char *phone)
{
	const nudge_http_cfg *h = &cfg->sms;
	const char *dflt = NULL;
	size_t i;

	for (i = 0; i < h->nsenders; i++) {
		if (strcmp(h->sender_cc[i], "default") == 0)
			dflt = h->sender_id[i];
		else if (phone != NULL &&
		    nudge_phone_in_country(phone, h->sender_cc[i]))
			return h->sender_id[i];
	}
	return dflt;
}

void
nudge_config_free(nudge_config *cfg)
{
	free(cfg->path);
	free(cfg->db);
	free(cfg->email.url);
	free(cfg->email.from);
	free(cfg->email.reply_to);
	free(cfg->email.username);
	free(cfg->email.password_env);
	free(cfg->email.password_file);
	free(cfg->email.tls_ca_file);
	wipe(cfg->email.password);
	free(cfg->tracking.base_url);
	free(cfg->tracking.secret_env);
	free(cfg->tracking.secret_file);
	wipe(cfg->tracking.secret);
	free(cfg->policy.quiet_tz);
	free(cfg->policy.exclude);
	free(cfg->report.timezone);
	free(cfg->report.conversion);
	free(cfg->report.value);
	free(cfg->report.currency);
	for (size_t i = 0; i < cfg->report.nprices; i++)
		free(cfg->report.price_channel[i]);
	free(cfg->report.price_channel);
	free(cfg->report.price);
	http_free(&cfg->sms);
	http_free(&cfg->push);
	for (size_t i = 0; i < cfg->ncomputed; i++) {
		free(cfg->computed_names[i]);
		free(cfg->computed_defs[i]);
	}
	free(cfg->computed_names);
	free(cfg->computed_defs);
	for (size_t i = 0; i < cfg->nevent_types; i++)
		free(cfg->event_types[i]);
	free(cfg->event_types);
	for (size_t i = 0; i < cfg->nevent_channels; i++)
		free(cfg->event_channels[i]);
	free(cfg->event_channels);
	for (size_t i = 0; i < cfg->nforms; i++)
		form_free(&cfg->forms[i]);
	free(cfg->forms);
	for (size_t i = 0; i < cfg->ntopics; i++)
		free(cfg->topics[i]);
	free(cfg->topics);
	memset(cfg, 0, sizeof *cfg);
	cfg->policy.quiet_from = cfg->policy.quiet_to = -1;
	cfg->sms.max_retries = cfg->push.max_retries = -1;
	cfg->email.max_retries = -1;
}

void
nudge_config_secret_free(char *secret)
{
	wipe(secret);
}

/* Reads a secret file: a regular file of ours that nobody else may read
 * or write, at most 4 KiB, one trailing newline dropped. */
static int
read_secret_file(const char *path, const char *what, char **out,
    nudge_err *err)
{
	char buf[4097];
	struct stat sb;
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return nudge_errf(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR,
		    "%s_file %s: %s", what, path, strerror(errno));
	if (fstat(fd, &sb) == -1) {
		close(fd);
		return nudge_errf(err, EX_IOERR, "%s_file %s: %s", what, path,
		    strerror(errno));
	}
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0 ||
	    sb.st_uid != geteuid()) {
		close(fd);
		if (!S_ISREG(sb.st_mode))
			return nudge_errf(err, EX_DATAERR, "%s_file %s: refused: "
			    "not a regular file", what, path);
		if (sb.st_uid != geteuid())
			return nudge_errf(err, EX_DATAERR, "%s_file %s: refused: "
			    "it belongs to another user (uid %u)", what, path,
			    (unsigned)sb.st_uid);
		return nudge_errf(err, EX_DATAERR, "%s_file %s: refused: "
		    "readable or writable by group or others (mode %04o); "
		    "chmod 600 it", what, path,
		    (unsigned)(sb.st_mode & 07777));
	}
	while (len < sizeof buf - 1 &&
	    (n = read(fd, buf + len, sizeof buf - 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			explicit_bzero(buf, sizeof buf);
			return nudge_errf(err, EX_IOERR, "%s_file %s: %s", what,
			    path, strerror(errno));
		}
		len += (size_t)n;
	}
	close(fd);
	if (len == sizeof buf - 1) {
		explicit_bzero(buf, sizeof buf);
		return nudge_errf(err, EX_DATAERR, "%s_file %s: longer than "
		    "4096 bytes", what, path);
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (len == 0 || memchr(buf, '\0', len) != NULL ||
	    strchr(buf, '\n') != NULL) {
		explicit_bzero(buf, sizeof buf);
		return nudge_errf(err, EX_DATAERR, "%s_file %s: expected one "
		    "line holding the %s", what, path, what);
	}
	*out = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return *out == NULL ? oom(err) : 0;
}

int
nudge_config_secret(const nudge_config *cfg, enum nudge_secret which,
    char **out, nudge_err *err)
{
	const char *env, *file, *inl, *what, *v;

	*out = NULL;
	if (which == NUDGE_SECRET_EMAIL_PASSWORD) {
		env = cfg->email.password_env;
		file = cfg->email.password_file;
		inl = cfg->email.password;
		what = "password";
	} else if (which == NUDGE_SECRET_SMS || which == NUDGE_SECRET_PUSH) {
		const nudge_http_cfg *h = which == NUDGE_SECRET_SMS ?
		    &cfg->sms : &cfg->push;

		env = h->secret_env;
		file = h->secret_file;
		inl = h->secret;
		what = "secret";
	} else {
		env = cfg->tracking.secret_env;
		file = cfg->tracking.secret_file;
		inl = cfg->tracking.secret;
		what = "secret";
	}
	if (env != NULL) {
		if ((v = getenv(env)) == NULL || *v == '\0')
			return nudge_errf(err, EX_DATAERR, "%s_env: the "
			    "environment variable %s is %s", what, env,
			    v == NULL ? "not set" : "empty");
		if ((*out = strdup(v)) == NULL)
			return oom(err);
		return 0;
	}
	if (file != NULL)
		return read_secret_file(file, what, out, err);
	if (inl != NULL && (*out = strdup(inl)) == NULL)
		return oom(err);
	return 0;
}

int
nudge_config_open_store(const nudge_config *cfg, const char *db_opt,
    int flags, nudge_store **st, nudge_err *err)
{
	const char *path = db_opt;
	char *dflt = NULL;
	int rc;

	if (path == NULL || *path == '\0')
		path = getenv("NUDGE_DB");
	if (path == NULL || *path == '\0')
		path = cfg != NULL ? cfg->db : NULL;
	if (path == NULL) {
		if ((dflt = xdg_path("XDG_DATA_HOME", ".local/share",
		    "nudge/nudge.db")) == NULL)
			return nudge_errf(err, EX_USAGE, "no store: give --db "
			    "FILE or set NUDGE_DB (HOME is not set)");
		path = dflt;
		if (flags & NUDGE_STORE_CREATE)
			flags |= NUDGE_STORE_MKDIR;
	}
	rc = nudge_store_open(st, path, flags, err);
	free(dflt);
	return rc;
}

/* For campaign files (campaign.c): the same `policy:` map, read into p,
 * which the caller initialised (quiet_from = quiet_to = -1). */
int
nudge_config_read_policy(const char *path, const nudge_ynode *m,
    nudge_policy_cfg *p, nudge_err *err)
{
	nudge_config tmp;
	struct rd r;
	int rc;

	memset(&tmp, 0, sizeof tmp);
	memset(&r, 0, sizeof r);
	tmp.policy = *p;
	r.path = path;
	r.cfg = &tmp;
	rc = read_policy(&r, m, err);
	*p = tmp.policy;
	return rc;
}
