/* outcome: the one classification of what a transport saw (outcome.h). */
#include "outcome.h"

#include <string.h>
#include <sys/wait.h>

#include <curl/curl.h>

#include "bounce.h"
#include "util.h"

const char *
nudge_delivery_status_name(enum nudge_delivery_status s)
{
	switch (s) {
	case NUDGE_SENT:
		return "sent";
	case NUDGE_NOT_SENT:
		return "not-sent";
	case NUDGE_UNKNOWN:
		return "unknown";
	case NUDGE_BOUNCED:
		return "bounced";
	case NUDGE_FAILED:
		return "failed";
	}
	return "?";
}

/* libcurl errors that happen before a byte of the message can leave and
 * that no retry mends: the configuration or the peer's identity is
 * wrong, so every other message would meet them too. */
static int
stops_run(int rc)
{
	switch ((CURLcode)rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_FAILED_INIT:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_USE_SSL_FAILED:		/* no STARTTLS, TLS required */
	case CURLE_LOGIN_DENIED:
	case CURLE_AUTH_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CLIENTCERT:
		return 1;
	default:
		return 0;
	}
}

/* libcurl errors that mean no connection was made, so nothing left,
 * but that may pass later: no name, no route, refused, the handshake
 * failed. */
static int
no_connection(int rc)
{
	switch ((CURLcode)rc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_OUT_OF_MEMORY:
		return 1;
	default:
		return 0;
	}
}

/* libcurl errors of the set-up of a transfer (TLS, certificates, the
 * URL): met before any request is written, whatever libcurl counted. */
static int
before_request(int rc)
{
	return stops_run(rc) && rc != CURLE_UNSUPPORTED_PROTOCOL &&
	    rc != CURLE_LOGIN_DENIED && rc != CURLE_AUTH_ERROR;
}

static void
set(nudge_class *c, enum nudge_delivery_status st, int retry, int temporary,
    enum nudge_stop stop, int trouble)
{
	c->status = st;
	c->retry = retry;
	c->temporary = temporary;
	c->stop = stop;
	c->trouble = trouble;
}

static void refused(const nudge_seen *w, nudge_class *c);

/* A message is accepted only by the reply to its end of data: before
 * that, whatever broke, it did not arrive. */
static void
smtp(const nudge_seen *w, nudge_class *c)
{
	if (w->rc == CURLE_OK)
		set(c, NUDGE_SENT, 0, 0, NUDGE_STOP_NONE, 0);
	else if (w->after_data)
		set(c, NUDGE_UNKNOWN, 0, 0, NUDGE_STOP_NONE, 1);
	else if (w->code == 530 || w->code == 535 ||
	    (w->code < 400 && stops_run(w->rc)))
		/* authentication (530: also "STARTTLS first"), TLS, URL */
		set(c, NUDGE_NOT_SENT, 0, 0, NUDGE_STOP_RUN, 0);
	else if (w->code >= 500)
		refused(w, c);
	else if (w->code < 400 && w->rc == CURLE_FILESIZE_EXCEEDED)
		/* larger than the server's SIZE: this message only */
		set(c, NUDGE_FAILED, 0, 0, NUDGE_STOP_NONE, 0);
	else
		/* a 4xx; a connection refused, lost or timed out */
		set(c, NUDGE_NOT_SENT, 1, 1, NUDGE_STOP_NONE, w->code < 400);
}

/* An SMTP 5xx: the reply's enhanced status code ("550 5.1.1 ...") and
 * words name a reason; only a dead address bounces. */
static void
refused(const nudge_seen *w, nudge_class *c)
{
	const char *r = w->reply != NULL ? w->reply : "", *st = NULL;
	const nudge_bounce_reason *why;
	nudge_bounce_class cls;
	char status[16];
	size_t n;
	int perm;

	/* "550 5.1.1 text" or "550-5.1.1 text": the status after the code */
	while (*r >= '0' && *r <= '9')
		r++;
	if (*r == ' ' || *r == '-')
		r++;
	n = strspn(r, "0123456789.");
	if (n >= 5 && n < sizeof status && r[1] == '.') {
		memcpy(status, r, n);
		status[n] = '\0';
		st = status;
	}
	why = nudge_bounce_classify(st, w->code, w->reply, &perm);
	cls = nudge_bounce_class_of(why, 1);
	set(c, cls == NUDGE_BOUNCE_HARD ? NUDGE_BOUNCED : NUDGE_FAILED, 0, 0,
	    NUDGE_STOP_NONE, 0);
	c->reason = why->name;
	c->sender_side = cls == NUDGE_BOUNCE_SENDER;
}

static void
http(const nudge_seen *w, nudge_class *c)
{
	if (w->rc == CURLE_OK) {
		if (w->answer_ok)
			set(c, w->not_api ? NUDGE_UNKNOWN : NUDGE_SENT, 0, 0,
			    NUDGE_STOP_NONE, w->not_api);
		else if (w->code == 401 || w->code == 403)
			set(c, NUDGE_NOT_SENT, 0, 0, NUDGE_STOP_RUN, 0);
		else if (w->code == 429 || w->code == 503)
			/* "not now": the provider did not take it */
			set(c, NUDGE_NOT_SENT, w->retryable, 1,
			    NUDGE_STOP_NONE, w->code >= 500);
		else if (w->retryable)
			/* a 5xx: the provider may have acted on it */
			set(c, NUDGE_UNKNOWN, 1, 1, NUDGE_STOP_NONE,
			    w->code >= 500);
		else
			set(c, NUDGE_FAILED, 0, 0, NUDGE_STOP_NONE,
			    w->code >= 500);
	} else if (w->went_out && !no_connection(w->rc) &&
	    !before_request(w->rc)) {
		/* out, then no usable answer: in time, cut, not HTTP.  A
		 * retry cannot deliver twice only if the provider drops
		 * a repeated key. */
		set(c, NUDGE_UNKNOWN, w->idempotent, w->idempotent,
		    NUDGE_STOP_NONE, 1);
	} else if (stops_run(w->rc)) {
		/* a certificate refused, a bad URL: nothing went out and
		 * nothing will */
		set(c, NUDGE_NOT_SENT, 0, 0, NUDGE_STOP_RUN, 0);
	} else {
		set(c, NUDGE_NOT_SENT, 1, 1, NUDGE_STOP_NONE, 1);
	}
}

static void
exec(const nudge_seen *w, nudge_class *c)
{
	int st = w->code;

	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		set(c, NUDGE_SENT, 0, 0, NUDGE_STOP_NONE, 0);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == EX_TEMPFAIL)
		set(c, NUDGE_NOT_SENT, 0, 1, NUDGE_STOP_NONE, 0);
	else if (WIFEXITED(st) && (WEXITSTATUS(st) == 126 ||
	    WEXITSTATUS(st) == 127))
		/* the command cannot run: it fails every message */
		set(c, NUDGE_NOT_SENT, 0, 0, NUDGE_STOP_RUN, 0);
	else if (WIFEXITED(st))
		set(c, NUDGE_FAILED, 0, 0, NUDGE_STOP_NONE, 0);
	else
		/* killed midway: it may have passed the message on */
		set(c, NUDGE_UNKNOWN, 0, 0, NUDGE_STOP_NONE, 0);
}

void
nudge_outcome_classify(const nudge_seen *w, nudge_class *c)
{
	memset(c, 0, sizeof *c);
	switch (w->via) {
	case NUDGE_VIA_SMTP:
		smtp(w, c);
		break;
	case NUDGE_VIA_HTTP:
		http(w, c);
		break;
	case NUDGE_VIA_EXEC:
		exec(w, c);
		break;
	case NUDGE_VIA_FILE:
		if (w->rc == 0)
			set(c, NUDGE_SENT, 0, 0, NUDGE_STOP_NONE, 0);
		else
			set(c, NUDGE_NOT_SENT, 0, 0, NUDGE_STOP_RUN, 0);
		break;
	}
}
