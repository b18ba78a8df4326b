/* transport_smtp: the smtp(s):// side of the libcurl transfers: the
 * callbacks that feed a message and keep the server's last reply, and
 * how a failed SMTP transfer is classified. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "transport_int.h"

static size_t
read_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct msg *m = ud;
	size_t n = size * nmemb;

	if (n > m->len - m->off)
		n = m->len - m->off;
	memcpy(buf, m->data + m->off, n);
	m->off += n;
	return n;
}

/*
 * Keeps the SMTP reply line buf[0..n) (as libcurl hands it, with its line
 * end) in reply[0..len), NUL-terminated, cut to fit and with control
 * characters made spaces, unless it is the
 * "221" to the QUIT libcurl sends after a failure: so that reply holds the
 * last line a message ended on.  Exposed for the fuzz target smtp-reply.
 */
void
nudge_transport_smtp_line(char *reply, size_t len, const char *buf, size_t n)
{
	size_t k = n, i;

	while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == '\r'))
		k--;
	if (k >= 4 && memcmp(buf, "221 ", 4) == 0)
		return;
	if (k >= len)
		k = len - 1;
	/* A server's control characters (a lone CR, a NUL, an escape
	 * sequence) become spaces: the reply is printed and stored. */
	for (i = 0; i < k; i++)
		reply[i] = (unsigned char)buf[i] < 0x20 || buf[i] == 0x7f ?
		    ' ' : buf[i];
	reply[k] = '\0';
}

/* Every server reply line comes here (libcurl's pingpong code hands them
 * to the header callback). */
static size_t
header_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct slot *s = ud;

	nudge_transport_smtp_line(s->reply, sizeof s->reply, buf,
	    size * nmemb);
	return size * nmemb;
}

static size_t
write_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	(void)buf;
	(void)ud;
	return size * nmemb;
}

/*
 * Classifies an SMTP transfer that failed with libcurl's rc (a CURLcode,
 * not CURLE_OK), the last reply's code (0 when none), libcurl's error
 * text errbuf ("" when none) and the last reply line reply (""), with
 * after_data set when the end of data went out and no answer came (see
 * nudge_outcome_classify), and fills d's status, temporary, stop, code
 * and detail.  Returns whether another attempt may be made.  Exposed for
 * the fuzz target smtp-reply.
 */
int
nudge_transport_smtp_failure(long code, int rc, const char *errbuf,
    const char *reply, int after_data, nudge_delivery *d)
{
	nudge_seen w = { .via = NUDGE_VIA_SMTP, .rc = rc, .code = (int)code,
	    .at_rcpt = strncmp(errbuf, "RCPT", 4) == 0,
	    .after_data = after_data, .reply = reply };
	nudge_class c;
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);

	nudge_outcome_classify(&w, &c);
	set_class(d, &c);
	d->code = (int)code;
	if (after_data) {
		d->code = 0;
		snprintf(d->detail, sizeof d->detail, "%s after the end of "
		    "data: the server may have accepted the message",
		    rc == CURLE_OPERATION_TIMEDOUT ? "no answer in time" :
		    "the connection was lost");
	} else if (c.stop == NUDGE_STOP_RUN && (code == 535 ||
	    (code < 400 && (rc == CURLE_LOGIN_DENIED ||
	    rc == CURLE_AUTH_ERROR)))) {
		if (code < 400)
			d->code = 0;
		snprintf(d->detail, sizeof d->detail, "the server refused the "
		    "user name or password (%.120s): nothing was sent, a rerun "
		    "with the right password sends it", code >= 400 &&
		    reply[0] != '\0' ? reply : why);
	} else if (code >= 400 && reply[0] != '\0') {
		snprintf(d->detail, sizeof d->detail, "%s", reply);
	} else {
		/* Not a reply's fault: a code here would mislead. */
		d->code = 0;
		snprintf(d->detail, sizeof d->detail, "%s", why);
	}
	return c.retry;
}

/* smtp: what every SMTP transfer of slot s has. */
int
smtp_slot_init(nudge_transport *t, struct slot *s)
{
	CURL *e = s->easy;

	SETOPT(e, CURLOPT_URL, t->url);
	SETOPT(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SETOPT(e, CURLOPT_UPLOAD, 1L);
	SETOPT(e, CURLOPT_READFUNCTION, read_cb);
	SETOPT(e, CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(e, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(e, CURLOPT_USE_SSL, t->info.tls == NUDGE_TLS_NONE ?
	    (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	if (t->o.username != NULL) {
		SETOPT(e, CURLOPT_USERNAME, t->o.username);
		SETOPT(e, CURLOPT_PASSWORD,
		    t->o.password ? t->o.password : "");
	}
	return 0;
fail:
	return -1;
}

/* smtp: starts the transfer of m on slot s.  0, or -1. */
int
smtp_start(nudge_transport *t, struct slot *s, struct msg *m)
{
	if ((s->rcpt = curl_slist_append(NULL, m->rcpt)) == NULL)
		return -1;
	m->off = 0;
	m->attempts++;
	s->m = m;
	s->errbuf[0] = s->reply[0] = '\0';
	SETOPT(s->easy, CURLOPT_MAIL_FROM, m->from);
	SETOPT(s->easy, CURLOPT_MAIL_RCPT, s->rcpt);
	SETOPT(s->easy, CURLOPT_READDATA, m);
	SETOPT(s->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->len);
	if (curl_multi_add_handle(t->multi, s->easy) != CURLM_OK)
		goto fail;
	return 0;
fail:
	curl_slist_free_all(s->rcpt);
	s->rcpt = NULL;
	s->m = NULL;
	return -1;
}

/* smtp: a finished transfer classified: sent, a retry scheduled, or an
 * outcome queued for the caller. */
int
smtp_done(nudge_transport *t, struct slot *s, CURLcode rc)
{
	struct msg *m = s->m;
	long code = 0;
	int after_data;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR ||
	    rc == CURLE_WEIRD_SERVER_REPLY) {
		curl_socket_t fd = CURL_SOCKET_BAD;

		/* libcurl (7.88) keeps a connection whose answer timed out
		 * in its pool; the next message would take the late answer
		 * for its own.  Shut down, it is found dead and closed. */
		if (curl_easy_getinfo(s->easy, CURLINFO_ACTIVESOCKET, &fd) ==
		    CURLE_OK && fd != CURL_SOCKET_BAD)
			shutdown(fd, SHUT_RDWR);
	}
	curl_multi_remove_handle(t->multi, s->easy);
	curl_slist_free_all(s->rcpt);
	s->rcpt = NULL;
	s->m = NULL;

	/* all of the message went out (a send error: maybe not its end),
	 * then no answer came */
	after_data = strncmp(s->reply, "354", 3) == 0 && m->off == m->len &&
	    rc != CURLE_SEND_ERROR;
	return smtp_settle(t, m, code, (int)rc, s->errbuf, s->reply,
	    after_data);
}

/*
 * Ends message m of either SMTP client (libcurl's, nudge's own) with rc
 * (a CURLcode: CURLE_OK, sent), the last reply's code (0: none), the
 * error text errbuf ("": none), the last reply line reply and after_data
 * (nudge_transport_smtp_failure): its outcome handed out, or a retry
 * scheduled.  0, or -1 (memory).
 */
int
smtp_settle(nudge_transport *t, struct msg *m, long code, int rc,
    const char *errbuf, const char *reply, int after_data)
{
	nudge_delivery d;
	int retry;

	memset(&d, 0, sizeof d);
	d.cookie = m->cookie;
	d.attempts = m->attempts;
	d.code = (int)code;
	if (rc == CURLE_OK) {
		d.status = NUDGE_SENT;
		snprintf(d.id, sizeof d.id, "%s", reply);
		return finish(t, m, &d, NULL);
	}
	retry = nudge_transport_smtp_failure(code, rc, errbuf, reply,
	    after_data, &d);
	if (rc == CURLE_USE_SSL_FAILED)
		snprintf(d.detail, sizeof d.detail, "%.60s:%ld: the server "
		    "does not offer STARTTLS and TLS is required: nothing sent "
		    "in plaintext (allow_plaintext sends without TLS)",
		    t->info.host, t->info.port);
	else if (rc == CURLE_PEER_FAILED_VERIFICATION)
		snprintf(d.detail, sizeof d.detail, "%.60s:%ld: the server's "
		    "certificate is not trusted: %.100s (tls_ca_file trusts a "
		    "private CA)", t->info.host, t->info.port, errbuf[0] ?
		    errbuf : curl_easy_strerror(rc));
	else if (rc == CURLE_LOGIN_DENIED && code == 0 &&
	    strcmp(errbuf, NO_AUTH) == 0)
		/* not a wrong password: no password can pass */
		snprintf(d.detail, sizeof d.detail, "%.60s:%ld: %s, which a "
		    "configured username needs: nothing sent", t->info.host,
		    t->info.port, NO_AUTH);
	if (retry && m->attempts <= t->o.max_retries) {
		retry_later(t, m, d.status, 0);
		return 0;
	}
	return finish(t, m, &d, d.code == 535 || d.code == 530 ||
	    rc == CURLE_LOGIN_DENIED || rc == CURLE_AUTH_ERROR ?
	    "the server refused the login" : "TLS failed");
}
