/* transport_http: the http(s):// side of the libcurl transfers (sms and
 * push through a provider profile): the request, Retry-After, the answer
 * read by the profile and classified. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "transport_int.h"

/*
 * Reads the HTTP header line buf[0..n): when it is a Retry-After with
 * delay-seconds or an HTTP date (taken relative to now, Unix seconds),
 * returns the wait in milliseconds, at most BACKOFF_MAX_MS and 0 for a
 * date past; else (another header, an unreadable value) -1.  Exposed for
 * the fuzz target retry-after.
 */
long
nudge_transport_retry_after(const char *buf, size_t n, int64_t now)
{
	char v[128];
	size_t k;
	time_t at;
	long ms = -1;

	if (n > 12 && strncasecmp(buf, "Retry-After:", 12) == 0) {
		k = n - 12;
		if (k >= sizeof v)
			k = sizeof v - 1;
		memcpy(v, buf + 12, k);
		v[k] = '\0';
		v[strcspn(v, "\r\n")] = '\0';
		/* Compared in seconds before multiplying: a huge value
		 * (strtol saturates at LONG_MAX) would overflow. */
		if (v[strspn(v, " \t0123456789")] == '\0' &&
		    v[strspn(v, " \t")] != '\0') {
			long sec = strtol(v, NULL, 10);

			ms = sec > BACKOFF_MAX_MS / 1000 ? BACKOFF_MAX_MS :
			    sec * 1000;
		} else if ((at = curl_getdate(v + strspn(v, " \t"), NULL)) !=
		    -1) {
			at -= (time_t)now;
			ms = at <= 0 ? 0 : at > BACKOFF_MAX_MS / 1000 ?
			    BACKOFF_MAX_MS : (long)at * 1000;
		}
	}
	return ms;
}

/* http: keeps Retry-After (seconds or an HTTP date) of the answer. */
static size_t
http_header_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct slot *s = ud;
	size_t n = size * nmemb;
	long ms = nudge_transport_retry_after(buf, n, (int64_t)time(NULL));

	if (ms != -1)
		s->retry_after_ms = ms;
	return n;
}

static size_t
http_write_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct slot *s = ud;
	size_t n = size * nmemb, k = n;

	if (s->resp.len + k > RESP_MAX)
		k = RESP_MAX - s->resp.len;
	if (k > 0 && nudge_buf_add(&s->resp, buf, k) == -1)
		return 0;
	return n;
}

/* http: what every request of slot s has. */
int
http_slot_init(nudge_transport *t, struct slot *s)
{
	CURL *e = s->easy;

	SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(e, CURLOPT_HEADERFUNCTION, http_header_cb);
	SETOPT(e, CURLOPT_WRITEFUNCTION, http_write_cb);
	SETOPT(e, CURLOPT_WRITEDATA, s);
	SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (strcmp(t->o.provider->method, "POST") == 0)
		SETOPT(e, CURLOPT_POST, 1L);
	else
		SETOPT(e, CURLOPT_CUSTOMREQUEST, t->o.provider->method);
	return 0;
fail:
	return -1;
}

/* http: the request of m (url, "Name: value\n" headers, body). */
int
http_start(nudge_transport *t, struct slot *s, struct msg *m)
{
	CURL *e = s->easy;
	struct curl_slist *l = NULL, *n;
	char *h, *nl;

	if (s->hdrs != NULL && strcmp(nudge_buf_str(&s->hdrs_text),
	    m->rcpt) == 0)
		goto same;
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	nudge_buf_reset(&s->hdrs_text);
	if (nudge_buf_puts(&s->hdrs_text, m->rcpt) == -1)
		return -1;
	/* "Expect:" off: a 100-continue round trip per small body */
	if ((l = curl_slist_append(NULL, "Expect:")) == NULL)
		return -1;
	for (h = m->rcpt; *h != '\0'; h = nl + 1) {
		if ((nl = strchr(h, '\n')) == NULL)
			break;
		*nl = '\0';
		n = curl_slist_append(l, h);
		*nl = '\n';
		if (n == NULL)
			goto fail;
		l = n;
	}
	s->hdrs = l;
	SETOPT(e, CURLOPT_HTTPHEADER, l);
same:
	if (s->url == NULL || strcmp(nudge_buf_str(&s->url_text),
	    m->from) != 0) {
		if (s->url == NULL && (s->url = curl_url()) == NULL)
			goto fail;
		nudge_buf_reset(&s->url_text);
		/* parsed as libcurl parses CURLOPT_URL; then read-only to
		 * libcurl, which copies it for each transfer instead of
		 * parsing the text again */
		if (curl_url_set(s->url, CURLUPART_URL, m->from,
		    CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) ==
		    CURLUE_OK) {
			if (nudge_buf_puts(&s->url_text, m->from) == -1)
				goto fail;
			SETOPT(e, CURLOPT_CURLU, s->url);
		} else {
			/* the transfer says what is wrong with it */
			SETOPT(e, CURLOPT_CURLU, (CURLU *)NULL);
			SETOPT(e, CURLOPT_URL, m->from);
		}
	}
	m->attempts++;
	s->m = m;
	s->errbuf[0] = '\0';
	s->retry_after_ms = -1;
	nudge_buf_reset(&s->resp);
	SETOPT(e, CURLOPT_POSTFIELDS, m->data);
	SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)m->len);
	if (curl_multi_add_handle(t->multi, e) != CURLM_OK)
		goto fail;
	return 0;
fail:
	/* the list built here and not kept, or the one kept */
	curl_slist_free_all(s->hdrs != NULL ? s->hdrs : l);
	s->hdrs = NULL;
	nudge_buf_reset(&s->hdrs_text);
	s->m = NULL;
	return -1;
}

/* http: true when the profile's requests carry the ledger key (an
 * idempotency header, or {{key}} / {{key_uuid}} in the body or a header),
 * so that the provider can drop a repeat: a request that may have
 * arrived can then be retried without a second message. */
static int
idempotent(const nudge_provider *p)
{
	size_t i;

	if (p->idem_header != NULL ||
	    (p->json != NULL && strstr(p->json, "{{key") != NULL))
		return 1;
	for (i = 0; i < p->nheaders; i++)
		if (strstr(p->hvalue[i], "{{key") != NULL)
			return 1;
	for (i = 0; i < p->nform; i++)
		if (strstr(p->fvalue[i], "{{key") != NULL)
			return 1;
	return 0;
}

/* True when a 2xx answer in which the profile found no id is not JSON at
 * all (its first character is not '{' or '['). */
static int
not_json(const nudge_provider *p, const nudge_buf *b, const char *id)
{
	size_t i = 0;

	if (p->id_path == NULL || id[0] != '\0' || b->len == 0)
		return 0;
	while (i < b->len && strchr(" \t\r\n", b->s[i]) != NULL)
		i++;
	return i < b->len && b->s[i] != '{' && b->s[i] != '[';
}

/* What went wrong once a request was out, in words. */
static const char *
no_answer(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return "no answer in time";
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_WEIRD_SERVER_REPLY:
		return "an answer that is not HTTP";
	case CURLE_GOT_NOTHING:
		return "the connection closed with no answer";
	case CURLE_PARTIAL_FILE:
		return "the answer was cut short";
	default:
		return "the connection failed";
	}
}

/* http: what a finished transfer saw, for the classifier; the provider's
 * id or error (its answer read by the profile) into d. */
static void
http_seen(nudge_transport *t, struct slot *s, CURLcode rc, nudge_seen *w,
    nudge_delivery *d)
{
	const nudge_provider *p = t->o.provider;
	long code = 0, n = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	memset(w, 0, sizeof *w);
	w->via = NUDGE_VIA_HTTP;
	w->rc = (int)rc;
	w->code = (int)code;
	if (rc == CURLE_OK) {
		w->answer_ok = nudge_provider_answer(p, (int)code,
		    s->resp.s != NULL ? s->resp.s : "", s->resp.len, d->id,
		    sizeof d->id, d->detail, sizeof d->detail);
		w->not_api = w->answer_ok && not_json(p, &s->resp, d->id);
		w->retryable = !w->answer_ok &&
		    nudge_provider_retryable(p, (int)code);
	} else {
		w->went_out = curl_easy_getinfo(s->easy,
		    CURLINFO_REQUEST_SIZE, &n) == CURLE_OK && n > 0;
		w->idempotent = idempotent(p);
	}
}

/* http: d's code and detail for what w saw and c made of it, and the
 * reason to give the messages held when it stops the run. */
static const char *
http_detail(struct slot *s, CURLcode rc, const nudge_seen *w,
    const nudge_class *c, const nudge_provider *p, nudge_delivery *d)
{
	const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
	char *ct = NULL;

	d->code = w->code;
	if (rc == CURLE_OK) {
		if (w->not_api) {
			/* a 2xx from something that is not the API (a
			 * proxy's or a web server's page): delivered or not,
			 * nobody can tell */
			curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &ct);
			snprintf(d->detail, sizeof d->detail, "%.30s: HTTP %d "
			    "but the answer is not JSON (%.60s): is the URL the "
			    "provider's API?", p->name, w->code, ct != NULL ?
			    ct : "no Content-Type");
		}
		return "the provider refused the credentials";
	}
	d->code = 0;
	if (c->status == NUDGE_UNKNOWN)
		/* the request went out, no usable answer came back */
		snprintf(d->detail, sizeof d->detail, "%.30s: %.40s after the "
		    "request (%.100s)%s", p->name, no_answer(rc), why,
		    w->idempotent ? "" : ": it may have arrived, and the "
		    "profile sends no idempotency key");
	else if (c->stop == NUDGE_STOP_RUN)
		/* nothing went out (a certificate refused, a bad URL) */
		snprintf(d->detail, sizeof d->detail, "%.30s: %.200s",
		    p->name, why);
	else
		snprintf(d->detail, sizeof d->detail, "%s", why);
	return "the provider cannot be reached safely";
}

/* http: a finished transfer classified (nudge_outcome_classify), then
 * the breaker counted, then retried or handed out. */
int
http_done(nudge_transport *t, struct slot *s, CURLcode rc)
{
	struct msg *m = s->m;
	nudge_delivery d;
	nudge_seen w;
	nudge_class c;
	const char *why;
	int64_t now;

	memset(&d, 0, sizeof d);
	d.cookie = m->cookie;
	d.attempts = m->attempts;
	http_seen(t, s, rc, &w, &d);
	curl_multi_remove_handle(t->multi, s->easy);
	s->m = NULL;
	nudge_outcome_classify(&w, &c);
	set_class(&d, &c);
	why = http_detail(s, rc, &w, &c, t->o.provider, &d);
	if (c.stop == NUDGE_STOP_RUN)
		return finish(t, m, &d, why);
	now = nudge_mono_ms();
	if (w.code == 429 && s->retry_after_ms > 0 &&
	    now + s->retry_after_ms > t->pause_until)
		t->pause_until = now + s->retry_after_ms;
	if (breaker_opens(t, &c)) {
		d.stop = NUDGE_STOP_CHANNEL;
		if (d.temporary)
			snprintf(d.detail + strlen(d.detail), sizeof d.detail -
			    strlen(d.detail), " (circuit breaker: %d failures "
			    "in a row)", t->fails_in_row);
		return finish(t, m, &d, "the circuit breaker is open (the "
		    "provider is failing)");
	}
	if (c.retry && http_may_retry(t, m)) {
		t->retries++;
		retry_later(t, m, c.status, s->retry_after_ms);
		return 0;
	}
	return finish(t, m, &d, NULL);
}
