/* provider: reading HTTP provider profiles, rendering requests from them
 * and reading the provider's answers. */
#include "provider.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>


#include "yaml.h"
#include "sha.h"

#ifndef PROVIDERDIR
#define PROVIDERDIR "/usr/local/share/nudge/providers"
#endif

/* Where a placeholder's value goes decides its escaping. */
enum esc { E_URL, E_FORM, E_JSON, E_HEADER };

static const char *const varnames[] = { "to", "from", "text", "title",
	"key", "key_uuid", "user", "secret" };
#define NVARS (sizeof varnames / sizeof varnames[0])

static int
oom(nudge_err *err)
{
	return nudge_errf(err, EX_OSERR, "out of memory");
}

static int
bad(const char *path, const nudge_ynode *n, nudge_err *err, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static int
bad(const char *path, const nudge_ynode *n, nudge_err *err, const char *fmt,
    ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return nudge_errf(err, EX_DATAERR, "%s:%ld:%ld: %s%s%s", path, n->line,
	    n->col, n->key != NULL ? n->key : "", n->key != NULL ? ": " : "",
	    msg);
}

/* Checks the placeholders of a template: every {{ closed, every name
 * known. */
static int
check_tpl(const char *path, const nudge_ynode *n, nudge_err *err)
{
	const char *p = n->value, *e;
	size_t i, len;

	while ((p = strstr(p, "{{")) != NULL) {
		if ((e = strstr(p + 2, "}}")) == NULL)
			return bad(path, n, err, "unclosed \"{{\"");
		len = (size_t)(e - p - 2);
		for (i = 0; i < NVARS; i++)
			if (strlen(varnames[i]) == len &&
			    memcmp(varnames[i], p + 2, len) == 0)
				break;
		if (i == NVARS)
			return bad(path, n, err, "unknown placeholder "
			    "\"{{%.*s}}\"; expected to, from, text, title, key, "
			    "key_uuid, user or secret", (int)(len > 40 ? 40 : len), p + 2);
		p = e + 2;
	}
	return 0;
}

static int
text(const char *path, const nudge_ynode *n, char **dst, nudge_err *err)
{
	if (n->kind != NUDGE_Y_SCALAR)
		return bad(path, n, err, "expected a value, not a %s",
		    n->kind == NUDGE_Y_MAP ? "map" : "list");
	return nudge_strset(dst, n->value) == -1 ? oom(err) : 0;
}

static int
tpl(const char *path, const nudge_ynode *n, char **dst, nudge_err *err)
{
	int rc;

	if ((rc = text(path, n, dst, err)) != 0)
		return rc;
	return check_tpl(path, n, err);
}

/* A map of name: template (headers:, form:). */
static int
pairs(const char *path, const nudge_ynode *n, size_t *np, char ***names,
    char ***vals, int header, nudge_err *err)
{
	size_t i;
	int rc;

	if (n->kind != NUDGE_Y_MAP)
		return bad(path, n, err, "expected a map of name: value");
	if ((*names = calloc(n->n + 1, sizeof **names)) == NULL ||
	    (*vals = calloc(n->n + 1, sizeof **vals)) == NULL)
		return oom(err);
	for (i = 0; i < n->n; i++) {
		const nudge_ynode *k = n->kids[i];

		if (header && (k->key[0] == '\0' ||
		    k->key[strcspn(k->key, " \t\r\n:")] != '\0'))
			return bad(path, k, err, "not a header name");
		if (((*names)[i] = strdup(k->key)) == NULL)
			return oom(err);
		*np = i + 1;
		if ((rc = tpl(path, k, &(*vals)[i], err)) != 0)
			return rc;
	}
	return 0;
}

static int
rate_of(const char *path, const nudge_ynode *n, double *dst, nudge_err *err)
{
	if (n->kind != NUDGE_Y_SCALAR)
		return bad(path, n, err, "expected a rate such as 100/s");
	if (nudge_parse_rate(n->value, dst) == -1)
		return bad(path, n, err, "expected a rate such as 100/s, 600/m "
		    "or 1000/h, not \"%.40s\"", n->value);
	return 0;
}

static int
int_of(const char *path, const nudge_ynode *n, int lo, int hi, int *dst,
    nudge_err *err)
{
	int64_t v;

	if (n->kind != NUDGE_Y_SCALAR || nudge_parse_i64(n->value, &v) != 0 ||
	    v < lo || v > hi)
		return bad(path, n, err, "expected a whole number from %d to %d",
		    lo, hi);
	*dst = (int)v;
	return 0;
}


static int
set_auth(const char *path, const nudge_ynode *n, nudge_provider *p,
    nudge_err *err)
{
	const nudge_ynode *k;
	size_t i;
	int rc;

	if (n->kind == NUDGE_Y_SCALAR) {
		if (strcmp(n->value, "none") == 0)
			p->auth = NUDGE_AUTH_NONE;
		else if (strcmp(n->value, "basic") == 0)
			p->auth = NUDGE_AUTH_BASIC;
		else if (strcmp(n->value, "bearer") == 0)
			p->auth = NUDGE_AUTH_BEARER;
		else
			return bad(path, n, err, "expected none, basic, bearer "
			    "or {header: NAME, value: TEMPLATE}, not \"%.40s\"",
			    n->value);
		return 0;
	}
	if (n->kind != NUDGE_Y_MAP)
		return bad(path, n, err, "expected none, basic, bearer or "
		    "{header: NAME, value: TEMPLATE}");
	p->auth = NUDGE_AUTH_HEADER;
	for (i = 0; i < n->n; i++) {
		k = n->kids[i];
		if (strcmp(k->key, "header") == 0)
			rc = text(path, k, &p->auth_header, err);
		else if (strcmp(k->key, "value") == 0)
			rc = tpl(path, k, &p->auth_value, err);
		else
			rc = bad(path, k, err, "unknown setting");
		if (rc != 0)
			return rc;
	}
	if (p->auth_header == NULL || p->auth_value == NULL)
		return bad(path, n, err, "a header auth needs header: and "
		    "value:");
	if (p->auth_header[strcspn(p->auth_header, " \t\r\n:")] != '\0')
		return bad(path, n, err, "not a header name: \"%.40s\"",
		    p->auth_header);
	return 0;
}

static int
set_retry(const char *path, const nudge_ynode *n, nudge_provider *p,
    nudge_err *err)
{
	size_t i;
	int rc, v;

	if (n->kind != NUDGE_Y_SEQ)
		return bad(path, n, err, "expected a list of statuses, as in "
		    "[429, 500, 503]");
	if (n->n > NUDGE_PROV_MAXRETRY)
		return bad(path, n, err, "at most %d statuses",
		    NUDGE_PROV_MAXRETRY);
	p->nretry = 0;
	for (i = 0; i < n->n; i++) {
		if ((rc = int_of(path, n->kids[i], 400, 599, &v, err)) != 0)
			return rc;
		p->retry[p->nretry++] = v;
	}
	return 0;
}

static int
read_profile(const char *path, const nudge_ynode *root, nudge_provider *p,
    nudge_err *err)
{
	const nudge_ynode *n, *json_at = NULL;
	static const int dflt[] = { 429, 500, 502, 503, 504 };
	size_t i;
	int rc = 0;

	if (root->kind != NUDGE_Y_MAP)
		return nudge_errf(err, EX_DATAERR, "%s:%ld:%ld: expected a map "
		    "of settings", path, root->line, root->col);
	memcpy(p->retry, dflt, sizeof dflt);
	p->nretry = sizeof dflt / sizeof dflt[0];
	for (i = 0; i < root->n && rc == 0; i++) {
		const char *k;

		n = root->kids[i];
		k = n->key;
		if (strcmp(k, "name") == 0)
			rc = text(path, n, &p->name, err);
		else if (strcmp(k, "channel") == 0) {
			if ((rc = text(path, n, &p->channel, err)) == 0 &&
			    strcmp(p->channel, "sms") != 0 &&
			    strcmp(p->channel, "push") != 0 &&
			    strcmp(p->channel, "any") != 0)
				rc = bad(path, n, err, "expected sms, push or any, "
				    "not "
				    "\"%.40s\"", p->channel);
		} else if (strcmp(k, "method") == 0) {
			if ((rc = text(path, n, &p->method, err)) == 0 &&
			    (p->method[0] == '\0' || p->method[strspn(p->method,
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ")] != '\0'))
				rc = bad(path, n, err, "expected a method such as "
				    "POST, not \"%.40s\"", p->method);
		} else if (strcmp(k, "url") == 0) {
			if ((rc = tpl(path, n, &p->url, err)) == 0 &&
			    strncmp(p->url, "https://", 8) != 0 &&
			    strncmp(p->url, "http://", 7) != 0)
				rc = bad(path, n, err, "expected an http:// or "
				    "https:// URL");
		} else if (strcmp(k, "auth") == 0)
			rc = set_auth(path, n, p, err);
		else if (strcmp(k, "headers") == 0)
			rc = pairs(path, n, &p->nheaders, &p->hname, &p->hvalue,
			    1, err);
		else if (strcmp(k, "form") == 0) {
			if (p->body != NUDGE_BODY_NONE)
				rc = bad(path, n, err, "give form: or json:, not "
				    "both");
			else {
				p->body = NUDGE_BODY_FORM;
				rc = pairs(path, n, &p->nform, &p->fname,
				    &p->fvalue, 0, err);
			}
		} else if (strcmp(k, "json") == 0) {
			if (p->body != NUDGE_BODY_NONE)
				rc = bad(path, n, err, "give form: or json:, not "
				    "both");
			else {
				p->body = NUDGE_BODY_JSON;
				json_at = n;
				rc = tpl(path, n, &p->json, err);
			}
		} else if (strcmp(k, "id") == 0)
			rc = text(path, n, &p->id_path, err);
		else if (strcmp(k, "error") == 0)
			rc = text(path, n, &p->error_path, err);
		else if (strcmp(k, "retry") == 0)
			rc = set_retry(path, n, p, err);
		else if (strcmp(k, "rate") == 0)
			rc = rate_of(path, n, &p->rate, err);
		else if (strcmp(k, "burst") == 0)
			rc = int_of(path, n, 1, 10000, &p->burst, err);
		else if (strcmp(k, "parallel") == 0)
			rc = int_of(path, n, 1, 64, &p->parallel, err);
		else if (strcmp(k, "idempotency_header") == 0) {
			if ((rc = text(path, n, &p->idem_header, err)) == 0 &&
			    (p->idem_header[0] == '\0' ||
			    p->idem_header[strcspn(p->idem_header,
			    " \t\r\n:")] != '\0'))
				rc = bad(path, n, err, "not a header name");
		} else
			rc = bad(path, n, err, "unknown setting");
	}
	if (rc != 0)
		return rc;
	if (p->channel == NULL || p->url == NULL)
		return nudge_errf(err, EX_DATAERR, "%s: a profile needs %s",
		    path, p->channel == NULL ? "channel: (sms or push)" :
		    "url:");
	if (p->method == NULL && (p->method = strdup("POST")) == NULL)
		return oom(err);
	if (p->name == NULL) {
		const char *b = strrchr(path, '/');
		size_t len;

		b = b != NULL ? b + 1 : path;
		len = strcspn(b, ".");
		if ((p->name = strndup(b, len)) == NULL)
			return oom(err);
	}
	if (json_at != NULL) {
		/* every placeholder a string: is the rest JSON? */
		nudge_prov_vars v = { "x", "x", "x", "x", "x" };
		nudge_http_req r = { 0 };
		const char *e;

		p->authline = NULL;
		if ((rc = nudge_provider_render(p, &v, &r, err)) != 0) {
			nudge_http_req_free(&r);
			return rc;
		}
		e = nudge_json_skip_value(r.body.s, r.body.s + r.body.len);
		if (e == NULL || nudge_json_skip_ws(e, r.body.s + r.body.len) !=
		    r.body.s + r.body.len)
			rc = bad(path, json_at, err, "not JSON once each "
			    "placeholder is a string (write {{text}}, not "
			    "\"{{text}}\")");
		nudge_http_req_free(&r);
	}
	return rc;
}

int
nudge_provider_load(const char *path, nudge_provider **out, nudge_err *err)
{
	nudge_ynode *root;
	nudge_provider *p;
	int rc;

	*out = NULL;
	if ((rc = nudge_yaml_load(path, &root, err)) != 0)
		return rc;
	if ((p = calloc(1, sizeof *p)) == NULL ||
	    (p->path = strdup(path)) == NULL) {
		free(p);
		nudge_yaml_free(root);
		return oom(err);
	}
	rc = read_profile(path, root, p, err);
	nudge_yaml_free(root);
	if (rc != 0) {
		nudge_provider_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int
nudge_provider_find(const char *name, nudge_provider **out, nudge_err *err)
{
	const char *dirs[3], *env = getenv("NUDGE_PROVIDERS");
	char xdg[1024], file[1200];
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	size_t i, nd = 0;

	if (strchr(name, '/') != NULL)
		return nudge_provider_load(name, out, err);
	if (!nudge_is_name(name))
		return nudge_errf(err, EX_USAGE, "provider: not a name or a "
		    "path: \"%.64s\"", name);
	if (env != NULL && *env != '\0')
		dirs[nd++] = env;
	if (x != NULL && *x != '\0')
		snprintf(xdg, sizeof xdg, "%s/nudge/providers", x);
	else if (home != NULL)
		snprintf(xdg, sizeof xdg, "%s/.config/nudge/providers", home);
	else
		xdg[0] = '\0';
	if (xdg[0] != '\0')
		dirs[nd++] = xdg;
	dirs[nd++] = PROVIDERDIR;
	for (i = 0; i < nd; i++) {
		snprintf(file, sizeof file, "%s/%s.yaml", dirs[i], name);
		if (access(file, F_OK) == 0)
			return nudge_provider_load(file, out, err);
	}
	return nudge_errf(err, EX_NOINPUT, "provider %s: no %s.yaml in "
	    "$NUDGE_PROVIDERS, %s or %s", name, name,
	    xdg[0] != '\0' ? xdg : "~/.config/nudge/providers", PROVIDERDIR);
}

/* Writes the base64 of s[0..n) and a NUL to out, which holds at least
 * 4 * ((n + 2) / 3) + 1 bytes. */
static void
base64(char *out, const unsigned char *s, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		*out++ = t[v >> 18 & 63];
		*out++ = t[v >> 12 & 63];
		*out++ = i + 1 < n ? t[v >> 6 & 63] : '=';
		*out++ = i + 2 < n ? t[v & 63] : '=';
	}
	*out = '\0';
}

/* Appends v escaped for where it goes. */
/* RFC 3986's unreserved characters (ASCII whatever the locale), and in
 * a URL ':' and '@' too */
static int
unreserved(unsigned char c, int url)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~' || (url && (c == ':' || c == '@'));
}

static int
put_esc(nudge_buf *b, const char *v, size_t n, enum esc how)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o;
	size_t i, k;

	switch (how) {
	case E_JSON:
		return nudge_buf_json_str(b, v, n);
	case E_HEADER:
		for (i = 0; i < n; i++)
			if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
				return -2;
		return nudge_buf_add(b, v, n);
	case E_URL:
	case E_FORM:
		/* at most 3 bytes a byte, written in place */
		if (n > SIZE_MAX / 3 || (o = nudge_buf_room(b, 3 * n)) == NULL)
			return -1;
		for (i = k = 0; i < n; i++) {
			unsigned char c = (unsigned char)v[i];

			if (unreserved(c, how == E_URL)) {
				o[k++] = (char)c;
			} else if (c == ' ' && how == E_FORM) {
				o[k++] = '+';
			} else {
				o[k++] = '%';
				o[k++] = hex[c >> 4];
				o[k++] = hex[c & 15];
			}
		}
		nudge_buf_wrote(b, k);
		return 0;
	}
	return 0;
}

/* A UUID made from the key (SHA-1, laid out as RFC 4122 version 5), for
 * providers whose idempotency key must be a UUID: the same key, the same
 * UUID, in every run. */
static const char *
key_uuid(const char *key, char *out)
{
	unsigned char h[NUDGE_SHA1_LEN];
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	nudge_sha1(key, strlen(key), h);
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x50);
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[h[i] >> 4];
		out[o++] = hex[h[i] & 15];
	}
	out[o] = '\0';
	return out;
}

static const char *
var(const nudge_provider *p, const nudge_prov_vars *v, const char *name,
    size_t len, char *uuid)
{
	const char *r = NULL;

#define IS(s) (len == sizeof s - 1 && memcmp(name, s, len) == 0)
	if (IS("to"))
		r = v->to;
	else if (IS("from"))
		r = v->from;
	else if (IS("text"))
		r = v->text;
	else if (IS("title"))
		r = v->title;
	else if (IS("key"))
		r = v->key;
	else if (IS("key_uuid"))
		r = v->key != NULL ? key_uuid(v->key, uuid) : NULL;
	else if (IS("user"))
		r = p->user;
	else if (IS("secret"))
		r = p->secret;
#undef IS
	return r != NULL ? r : "";
}

/* Expands template s: literal text as is (form: escaped too), each
 * placeholder escaped by how. */
static int
expand(const nudge_provider *p, const nudge_prov_vars *v, const char *s,
    enum esc how, nudge_buf *b)
{
	const char *o, *e, *val;
	char uuid[40];
	int rc;

	for (;;) {
		if ((o = strstr(s, "{{")) == NULL)
			o = s + strlen(s);
		if (how == E_FORM)
			rc = put_esc(b, s, (size_t)(o - s), E_FORM);
		else
			rc = nudge_buf_add(b, s, (size_t)(o - s));
		if (rc != 0 || *o == '\0')
			return rc;
		e = strstr(o + 2, "}}");
		val = var(p, v, o + 2, (size_t)(e - o - 2), uuid);
		if ((rc = put_esc(b, val, strlen(val), how)) != 0)
			return rc;
		s = e + 2;
	}
}

int
nudge_provider_render(const nudge_provider *p, const nudge_prov_vars *v,
    nudge_http_req *r, nudge_err *err)
{
	const char *u = p->url;
	size_t i;
	int rc = 0;

	nudge_buf_reset(&r->url);
	nudge_buf_reset(&r->headers);
	nudge_buf_reset(&r->body);
	if (p->base != NULL) {
		/* the profile URL's path after base */
		u = strstr(u, "://") + 3;
		u += strcspn(u, "/");
		if (nudge_buf_puts(&r->url, p->base) == -1)
			return oom(err);
	}
	if (expand(p, v, u, E_URL, &r->url) != 0)
		return oom(err);
	if (p->authline != NULL && (nudge_buf_puts(&r->headers,
	    p->authline) == -1 || nudge_buf_putc(&r->headers, '\n') == -1))
		return oom(err);
	if (p->auth == NUDGE_AUTH_HEADER && (nudge_buf_printf(&r->headers,
	    "%s: ", p->auth_header) == -1 || (rc = expand(p, v,
	    p->auth_value, E_HEADER, &r->headers)) != 0 ||
	    nudge_buf_putc(&r->headers, '\n') == -1))
		goto fail;
	/* a form body's Content-Type, application/x-www-form-urlencoded,
	 * is libcurl's own for a posted body: not a header of ours, which
	 * libcurl would format again at every request */
	if (p->body == NUDGE_BODY_JSON && nudge_buf_puts(&r->headers,
	    "Content-Type: application/json\n") == -1)
		return oom(err);
	for (i = 0; i < p->nheaders; i++)
		if (nudge_buf_printf(&r->headers, "%s: ", p->hname[i]) == -1 ||
		    (rc = expand(p, v, p->hvalue[i], E_HEADER,
		    &r->headers)) != 0 || nudge_buf_putc(&r->headers, '\n') == -1)
			goto fail;
	if (p->idem_header != NULL && v->key != NULL &&
	    (nudge_buf_printf(&r->headers, "%s: ", p->idem_header) == -1 ||
	    (rc = put_esc(&r->headers, v->key, strlen(v->key),
	    E_HEADER)) != 0 || nudge_buf_putc(&r->headers, '\n') == -1))
		goto fail;
	if (p->body == NUDGE_BODY_FORM) {
		for (i = 0; i < p->nform; i++)
			if ((i > 0 && nudge_buf_putc(&r->body, '&') == -1) ||
			    put_esc(&r->body, p->fname[i], strlen(p->fname[i]),
			    E_FORM) != 0 || nudge_buf_putc(&r->body, '=') == -1 ||
			    expand(p, v, p->fvalue[i], E_FORM, &r->body) != 0)
				return oom(err);
	} else if (p->body == NUDGE_BODY_JSON) {
		if (expand(p, v, p->json, E_JSON, &r->body) != 0)
			return oom(err);
	}
	/* the buffers exist even when empty */
	if (nudge_buf_add(&r->body, "", 0) == -1 ||
	    nudge_buf_add(&r->headers, "", 0) == -1)
		return oom(err);
	return 0;
fail:
	if (rc == -2)
		return nudge_errf(err, EX_DATAERR, "%s: a control character in "
		    "a value going into a header", p->name);
	return oom(err);
}

void
nudge_http_req_free(nudge_http_req *r)
{
	nudge_buf_free(&r->url);
	nudge_buf_free(&r->headers);
	nudge_buf_free(&r->body);
}

/* True when a template of p holds the placeholder ph. */
static int
uses(const nudge_provider *p, const char *ph)
{
	size_t i;

	if (strstr(p->url, ph) != NULL || (p->auth_value != NULL &&
	    strstr(p->auth_value, ph) != NULL) || (p->json != NULL &&
	    strstr(p->json, ph) != NULL))
		return 1;
	for (i = 0; i < p->nheaders; i++)
		if (strstr(p->hvalue[i], ph) != NULL)
			return 1;
	for (i = 0; i < p->nform; i++)
		if (strstr(p->fvalue[i], ph) != NULL)
			return 1;
	return 0;
}

int
nudge_provider_bind(nudge_provider *p, const char *user, const char *secret,
    const char *base, nudge_err *err)
{
	nudge_buf b = { 0 };
	size_t n;

	if (((p->auth == NUDGE_AUTH_BASIC || uses(p, "{{user}}")) &&
	    user == NULL) || ((p->auth == NUDGE_AUTH_BASIC ||
	    p->auth == NUDGE_AUTH_BEARER || uses(p, "{{secret}}")) &&
	    secret == NULL))
		return nudge_errf(err, EX_USAGE, "provider %s: needs %s: give "
		    "user: and secret_env: (or secret_file:) under channels: "
		    "%s: in the config", p->name, user == NULL ? "a user" :
		    "a secret", p->channel);
	if (user != NULL && (p->user = strdup(user)) == NULL)
		return oom(err);
	if (secret != NULL && (p->secret = strdup(secret)) == NULL)
		return oom(err);
	if (base != NULL) {
		const char *h = strstr(base, "://");

		n = strlen(base);
		while (n > 0 && base[n - 1] == '/')
			n--;
		if (h == NULL || (strncmp(base, "http://", 7) != 0 &&
		    strncmp(base, "https://", 8) != 0) ||
		    memchr(h + 3, '/', n - (size_t)(h + 3 - base)) != NULL)
			return nudge_errf(err, EX_USAGE, "provider %s: url: "
			    "expected scheme://host[:port] only, as in "
			    "http://127.0.0.1:8080", p->name);
		if ((p->base = strndup(base, n)) == NULL)
			return oom(err);
	}
	if (p->auth == NUDGE_AUTH_BASIC) {
		/* buffers of their final size: a growing one would leave
		 * copies of the secret in freed memory */
		size_t ul = user != NULL ? strlen(user) : 0, sl = strlen(secret);
		char *pair, *line;

		n = ul + 1 + sl;
		if ((pair = malloc(n)) == NULL)
			return oom(err);
		if ((line = malloc(21 + 4 * ((n + 2) / 3) + 1)) == NULL) {
			free(pair);
			return oom(err);
		}
		if (ul > 0)
			memcpy(pair, user, ul);
		pair[ul] = ':';
		memcpy(pair + ul + 1, secret, sl);
		memcpy(line, "Authorization: Basic ", 21);
		base64(line + 21, (const unsigned char *)pair, n);
		explicit_bzero(pair, n);
		free(pair);
		p->authline = line;
	} else if (p->auth == NUDGE_AUTH_BEARER) {
		if (secret[strcspn(secret, "\r\n")] != '\0')
			return nudge_errf(err, EX_USAGE, "provider %s: the secret "
			    "holds a line break", p->name);
		if (nudge_buf_printf(&b, "Authorization: Bearer %s", secret) ==
		    -1)
			goto nomem;
		p->authline = b.s;
	}
	return 0;
nomem:
	if (b.s != NULL)
		explicit_bzero(b.s, b.cap);
	nudge_buf_free(&b);
	return oom(err);
}

int
nudge_provider_retryable(const nudge_provider *p, int status)
{
	size_t i;

	for (i = 0; i < p->nretry; i++)
		if (p->retry[i] == status)
			return 1;
	return 0;
}


int
nudge_provider_answer(const nudge_provider *p, int status, const char *body,
    size_t len, char *id, size_t idlen, char *detail, size_t dlen)
{
	char e[256];
	int have_id = 0, have_err = 0;

	id[0] = detail[0] = '\0';
	if (p->id_path != NULL)
		have_id = nudge_json_path(body, len, p->id_path, id, idlen) ==
		    0 && id[0] != '\0';
	if (p->error_path != NULL)
		have_err = nudge_json_path(body, len, p->error_path, e,
		    sizeof e) == 0 && e[0] != '\0';
	if (status >= 200 && status < 300 && (have_id || !have_err))
		return 1;
	if (have_err)
		snprintf(detail, dlen, "HTTP %d: %s", status, e);
	else
		snprintf(detail, dlen, "HTTP %d", status);
	id[0] = '\0';
	return 0;
}

void
nudge_provider_free(nudge_provider *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nheaders; i++) {
		free(p->hname[i]);
		free(p->hvalue[i]);
	}
	for (i = 0; i < p->nform; i++) {
		free(p->fname[i]);
		free(p->fvalue[i]);
	}
	free(p->hname);
	free(p->hvalue);
	free(p->fname);
	free(p->fvalue);
	free(p->path);
	free(p->name);
	free(p->channel);
	free(p->method);
	free(p->url);
	free(p->auth_header);
	free(p->auth_value);
	free(p->json);
	free(p->id_path);
	free(p->error_path);
	free(p->idem_header);
	free(p->user);
	if (p->secret != NULL) {
		explicit_bzero(p->secret, strlen(p->secret));
		free(p->secret);
	}
	if (p->authline != NULL) {
		explicit_bzero(p->authline, strlen(p->authline));
		free(p->authline);
	}
	free(p->base);
	free(p);
}
