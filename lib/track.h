/* track: the tracking endpoints of nudge-track(1) as a function from an
 * HTTP request to an HTTP response, so that they are tested without a web
 * server: the open pixel, clicks, unsubscribes (page and RFC 8058
 * one-click) and provider webhooks (Twilio, Mailgun), written into the
 * store as events. */
#ifndef NUDGE_TRACK_H
#define NUDGE_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"
#include "util.h"

/* The request, as a CGI program gets it (RFC 3875 meta-variables).
 * Strings are borrowed; any may be NULL. */
typedef struct nudge_track_req {
	const char *method;        /* REQUEST_METHOD */
	const char *path;          /* PATH_INFO: "/c/TOKEN", "/hook/twilio" */
	const char *query;         /* QUERY_STRING */
	const char *content_type;  /* CONTENT_TYPE */
	const char *body;          /* the request body, body_len bytes */
	size_t body_len;
	const char *user_agent;    /* HTTP_USER_AGENT */
	const char *remote_addr;   /* REMOTE_ADDR */
	const char *twilio_sig;    /* HTTP_X_TWILIO_SIGNATURE */
	const char *accept_language; /* HTTP_ACCEPT_LANGUAGE (sign-up
				      pages, signup.h) */
} nudge_track_req;

/* The response: a status, header lines ("Name: value\r\n" each) and a
 * body.  A zeroed struct is ready; free it with nudge_track_resp_free. */
typedef struct nudge_track_resp {
	int status;
	nudge_buf headers;
	nudge_buf body;
} nudge_track_resp;

/* Opens the store on demand: a refused token never touches it. */
typedef int nudge_track_open_fn(void *arg, nudge_store **st, nudge_err *err);

typedef struct nudge_track_opts {
	const void *key;          /* the tracking secret */
	size_t keylen;
	const char *base_url;     /* tracking: base_url, no trailing '/' */
	const char *twilio_token; /* Twilio's auth token, or NULL: no hook */
	const char *mailgun_key;  /* Mailgun's webhook signing key, or NULL */
	int64_t now;
	nudge_track_open_fn *open;
	void *arg;
	int keep_store;           /* the store open returns outlives the
				     request: do not close it */
	const nudge_config *cfg;  /* forms: and default_country for the
				     sign-up paths /s/ (signup.h), or NULL */
	const char *store_path;   /* the store's file, whose spool takes
				     what the store cannot (NULL: the
				     path of the store open returned) */
} nudge_track_opts;

/*
 * Answers one request.  Always fills resp (status, headers, body) and
 * returns 0, even for refused requests (404 for a bad, forged or expired
 * token and an unknown path, 403 for a bad webhook signature, 400 for a
 * malformed body, 405 for a wrong method, 503 with Retry-After when a
 * webhook finds the store locked past its busy timeout, full or
 * unwritable, or when an unsubscribe can be neither recorded nor
 * spooled); err then holds what the server log should say, or "" when
 * nothing went wrong.  An open, a click or an unsubscribe that the store
 * cannot take within its busy timeout goes to the spool (a file in the
 * directory STORE-spool) and is answered as if recorded; a click and an
 * open are answered so even when the spool fails too (err says the
 * event was lost).  A request that wrote the store then drains up to
 * NUDGE_TRACK_DRAIN_REQUEST spooled events, when no other process is
 * draining.  Only a failing allocation returns EX_OSERR.  What each path
 * records is in nudge-track(1).
 */
int nudge_track_handle(const nudge_track_opts *o, const nudge_track_req *r,
    nudge_track_resp *resp, nudge_err *err);

void nudge_track_resp_free(nudge_track_resp *resp);

/* An application/x-www-form-urlencoded body, percent-decoded: the
 * webhooks' and the sign-up forms' one parser.  A zeroed struct is
 * empty. */
typedef struct nudge_form_field {
	char *k, *v;
} nudge_form_field;

typedef struct nudge_form {
	nudge_form_field *f;
	size_t n, cap;
} nudge_form;

/* Appends the fields of s[0..n) to f ("a=1&b=%20" -> a "1", b " ";
 * a field without '=' has the value ""; empty fields are dropped).
 * Values may hold any byte but NUL (a %00 cuts them short).  0, or -1
 * when memory runs out (f then holds what was parsed; free it). */
int nudge_track_form_parse(nudge_form *f, const char *s, size_t n);
/* The value of the first field named k, or NULL. */
const char *nudge_track_form_get(const nudge_form *f, const char *k);
void nudge_track_form_free(nudge_form *f);
/* The spool: what nudge track could not write into the store.  */
#define NUDGE_TRACK_SPOOL_SUFFIX "-spool"
/* The events a transaction of nudge_track_drain records at most. */
#define NUDGE_TRACK_DRAIN_BATCH 500
/* The most a track request drains after its own write: some tens of
 * milliseconds. */
#define NUDGE_TRACK_DRAIN_REQUEST 100
enum {
	NUDGE_TRACK_DRAIN_TRY = 1  /* return at once when another process
				      is draining, instead of waiting */
};

/*
 * Records the events spooled beside st (in the directory named after its
 * file plus NUDGE_TRACK_SPOOL_SUFFIX) into the store, oldest first, and
 * removes them: at most max (0: all), NUDGE_TRACK_DRAIN_BATCH to a
 * transaction.  Each is recorded once, whatever else drains at the same
 * time (an exclusive flock(2) on the directory; with
 * NUDGE_TRACK_DRAIN_TRY a drain already running makes this return 0 at
 * once) and wherever a drain was killed: an event recorded from the
 * spool carries the entry's name in its `spool` prop, and an entry whose
 * event is in the store is only removed.  An entry whose contact is gone
 * is dropped; one that is not a spool entry is renamed ".bad-NAME" and
 * left.  A store opened read-only gets a writable connection of the
 * drain's own, only when there is something to drain.  Sets *n (when not
 * NULL) to the entries drained.  Errors: EX_IOERR, EX_CANTCREAT (the
 * directory or an entry cannot be read or removed), store errors
 * (EX_TEMPFAIL when locked past the busy timeout), EX_OSERR.
 */
int nudge_track_drain(nudge_store *st, long max, int flags, long *n,
    nudge_err *err);

/* Appends base/KIND/TOKEN for the message (campaign_id, step, contact)
 * to out: kind 'o' (open pixel), 'c' (a click on link[0..len)), 'u'
 * (unsubscribe) or 's' (base/s/confirm/TOKEN: a sign-up's confirmation);
 * the token expires NUDGE_TOKEN_TTL (or _UNSUB_TTL, _CONFIRM_TTL)
 * after now.  Errors: EX_DATAERR (a link with a control character or a
 * space), EX_OSERR. */
int nudge_track_url(nudge_buf *out, const char *base, const void *key,
    size_t keylen, char kind, int64_t campaign_id, const char *step,
    int64_t contact_id, const char *link, size_t len, int64_t now,
    nudge_err *err);

/* Writes the local part of the Message-ID that nudge_mime_build derives
 * from the ledger key ("<32 hex digits>.nudge") into buf (at least 39
 * bytes). */
void nudge_track_msgid_local(const char *key, char *buf);

/* Finds the ledger row of contact_id whose Message-ID (as sent by
 * nudge-send, "<...@domain>" or without brackets) is msgid: sets *id (0
 * when none matches), and the campaign's name, the step and the channel
 * of the row.  O(messages of the contact).  Errors: store errors. */
int nudge_track_find_message(nudge_store *st, int64_t contact_id,
    const char *msgid, int64_t *id, char *campaign, size_t camplen,
    char *step, size_t steplen, char *channel, size_t chanlen,
    nudge_err *err);

/* Says which image proxy fetched an open pixel, from its User-Agent and
 * address: "apple" (Mail Privacy Protection), "google" (Gmail's image
 * proxy), "yahoo", or NULL for none known. */
const char *nudge_track_proxy(const char *user_agent, const char *addr);

#endif
