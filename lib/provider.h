/* provider: HTTP provider profiles (nudge-provider(5)) for the sms and
 * push channels -- how one message becomes one HTTP request (method, URL,
 * auth, headers, a form or JSON body, each value escaped for where it
 * goes) and how the provider's answer gives a message id or an error. */
#ifndef NUDGE_PROVIDER_H
#define NUDGE_PROVIDER_H

#include <stddef.h>

#include "json.h"
#include "util.h"

enum nudge_prov_auth {
	NUDGE_AUTH_NONE,
	NUDGE_AUTH_BASIC,	/* Authorization: Basic base64(user:secret) */
	NUDGE_AUTH_BEARER,	/* Authorization: Bearer secret */
	NUDGE_AUTH_HEADER	/* auth_header: its value template */
};

enum nudge_prov_body {
	NUDGE_BODY_NONE,
	NUDGE_BODY_FORM,	/* application/x-www-form-urlencoded */
	NUDGE_BODY_JSON		/* application/json */
};

#define NUDGE_PROV_MAXRETRY 16

typedef struct nudge_provider {
	char *path;		/* the file read */
	char *name;		/* name: */
	char *channel;		/* "sms", "push" or "any" */
	char *method;		/* "POST", "PUT", ... */
	char *url;		/* a template: placeholders percent-encoded */
	enum nudge_prov_auth auth;
	char *auth_header;	/* header name, for NUDGE_AUTH_HEADER */
	char *auth_value;	/* its value template, e.g. "Key {{secret}}" */
	size_t nheaders;
	char **hname, **hvalue;	/* headers: value templates */
	enum nudge_prov_body body;
	size_t nform;
	char **fname, **fvalue;	/* form: value templates */
	char *json;		/* json: a placeholder is a JSON string */
	char *id_path;		/* id: a dotted path into the JSON answer */
	char *error_path;	/* error: likewise */
	int retry[NUDGE_PROV_MAXRETRY];	/* retryable statuses */
	size_t nretry;
	double rate;		/* requests per second; 0: no limit */
	int burst;		/* requests above rate at once; 0: 1 */
	int parallel;		/* connections; 0: not said */
	char *idem_header;	/* idempotency key header, or NULL */
	/* set by nudge_provider_bind */
	char *user, *secret, *base;
	char *authline;		/* "Authorization: ..." or NULL */
} nudge_provider;

/* What one message fills in: {{to}}, {{from}}, {{text}}, {{title}},
 * {{key}} (and {{key_uuid}}, a UUID made from it); {{user}} and
 * {{secret}} come from nudge_provider_bind. */
typedef struct nudge_prov_vars {
	const char *to, *from, *text, *title, *key;
} nudge_prov_vars;

/* One rendered request.  A zeroed struct is ready; render resets it. */
typedef struct nudge_http_req {
	nudge_buf url;
	nudge_buf headers;	/* "Name: value\n" lines; a form body's
				   Content-Type is left to libcurl */
	nudge_buf body;
} nudge_http_req;

/* Reads the profile at path.  Unknown keys, a missing url or channel, an
 * unknown placeholder, a JSON body that is not JSON once its placeholders
 * are filled, a retryable status outside 400-599 are errors naming
 * path:line:col.  Errors: EX_NOINPUT, EX_DATAERR, EX_OSERR. */
int nudge_provider_load(const char *path, nudge_provider **out,
    nudge_err *err);

/* Finds the profile called name: a path when it holds a '/', else
 * NAME.yaml in $NUDGE_PROVIDERS, $XDG_CONFIG_HOME/nudge/providers and
 * PROVIDERDIR (the installed samples), in that order.  Errors as load;
 * EX_NOINPUT names the places looked in. */
int nudge_provider_find(const char *name, nudge_provider **out,
    nudge_err *err);

/* Gives p its account: user and secret (either may be NULL; copied, the
 * secret wiped at free) and base, which when not NULL replaces the
 * scheme, host and port of p's URL (a test server, a self-hosted ntfy).
 * Checks that the auth p asks for has what it needs.  Errors:
 * EX_USAGE (missing user or secret, a bad base), EX_OSERR. */
int nudge_provider_bind(nudge_provider *p, const char *user,
    const char *secret, const char *base, nudge_err *err);

/* Renders the request for one message into r.  Returns 0, EX_DATAERR
 * (a value with a control character where a header takes it), EX_OSERR. */
int nudge_provider_render(const nudge_provider *p, const nudge_prov_vars *v,
    nudge_http_req *r, nudge_err *err);
void nudge_http_req_free(nudge_http_req *r);

/* True when status is one p retries. */
int nudge_provider_retryable(const nudge_provider *p, int status);

/* Reads the answer body[0..len) of a request that got status: copies the
 * message id (id_path) into id, or the error (error_path, else "HTTP
 * <status>") into detail.  Returns 1 when the message was accepted (2xx
 * and, when the profile names an id, an id, or no error), else 0. */
int nudge_provider_answer(const nudge_provider *p, int status,
    const char *body, size_t len, char *id, size_t idlen, char *detail,
    size_t dlen);

void nudge_provider_free(nudge_provider *p);

#endif
