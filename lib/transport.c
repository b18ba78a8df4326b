/* transport: the public API (transport.h) over four transports, each
 * in a file of its own: transport_file.c (file://, maildir-style),
 * transport_smtp.c (smtp(s)://), transport_http.c (http(s)://: sms and
 * push through a provider profile) and transport_exec.c (exec:, a
 * command per message).  This file owns what they share: the queue, the
 * outcomes handed out, the rate limit, retries with backoff, the
 * circuit breaker, and the libcurl multi loop that smtp and http share
 * on a thread of its own.  These five files are the only ones that call
 * libcurl. */
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "transport_int.h"

/* True for 127.0.0.0/8, ::1, ::ffff:127.x and the name "localhost": the
 * literal forms only, so deciding needs no resolver. */
static int
is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	return 0;
}

int
nudge_transport_userinfo(const char *url)
{
	const char *p;

	if (strncmp(url, "exec:", 5) == 0 || strncmp(url, "file:", 5) == 0 ||
	    (p = strstr(url, "://")) == NULL)
		return 0;
	p += 3;
	return memchr(p, '@', strcspn(p, "/?#")) != NULL;
}

int
nudge_transport_parse(const char *url, int allow_plaintext,
    nudge_transport_info *info, nudge_err *err)
{
	const char *p, *end, *hs, *he, *colon;
	size_t n;
	char q[200];

	memset(info, 0, sizeof *info);
	if (strncmp(url, "file://", 7) == 0) {
		p = url + 7;
		if (strncmp(p, "localhost/", 10) == 0)
			p += 9;
		if (*p != '/' || p[1] == '\0')
			return nudge_errf(err, EX_USAGE,
			    "file transport needs an absolute directory: %s",
			    nudge_quote(q, sizeof q, url, strlen(url)));
		if (strlen(p) >= sizeof info->host)
			return nudge_errf(err, EX_USAGE,
			    "file transport: directory name too long");
		info->is_file = 1;
		strcpy(info->host, p);
		return 0;
	}
	if (strncmp(url, "exec:", 5) == 0) {
		p = url + 5 + strspn(url + 5, " \t");
		if (*p == '\0')
			return nudge_errf(err, EX_USAGE, "exec transport: no "
			    "command, as in exec:/usr/sbin/sendmail -t");
		info->is_exec = 1;
		snprintf(info->host, sizeof info->host, "%.*s",
		    (int)strcspn(p, " \t"), p);
		return 0;
	}
	if (strncmp(url, "smtp://", 7) == 0) {
		p = url + 7;
		info->port = 25;
		info->tls = NUDGE_TLS_STARTTLS;
	} else if (strncmp(url, "smtps://", 8) == 0) {
		p = url + 8;
		info->port = 465;
		info->tls = NUDGE_TLS_IMPLICIT;
	} else if (strncmp(url, "http://", 7) == 0) {
		p = url + 7;
		info->port = 80;
		info->tls = NUDGE_TLS_STARTTLS;	/* refused unless loopback */
		info->is_http = 1;
	} else if (strncmp(url, "https://", 8) == 0) {
		p = url + 8;
		info->port = 443;
		info->tls = NUDGE_TLS_IMPLICIT;
		info->is_http = 1;
	} else {
		/* Not quoted in full: it may hold a password. */
		return nudge_errf(err, EX_USAGE, "transport: unknown scheme "
		    "(want smtp://, smtps://, http://, https://, exec:COMMAND "
		    "or file:///dir)");
	}
	if (nudge_transport_userinfo(url))
		return nudge_errf(err, EX_USAGE, "transport: no user name or "
		    "password in the URL: give username and password_env "
		    "(or password_file) in the configuration");
	end = p + strcspn(p, "/?#");
	hs = p;
	if (*p == '[') {
		hs = p + 1;
		he = memchr(hs, ']', (size_t)(end - hs));
		if (he == NULL)
			return nudge_errf(err, EX_USAGE,
			    "transport: unclosed '[' in the host");
		colon = he + 1 < end && he[1] == ':' ? he + 1 : NULL;
		if (colon == NULL && he + 1 != end)
			return nudge_errf(err, EX_USAGE,
			    "transport: junk after ']' in the host");
	} else {
		colon = memchr(hs, ':', (size_t)(end - hs));
		he = colon ? colon : end;
	}
	n = (size_t)(he - hs);
	if (n == 0 || n >= sizeof info->host)
		return nudge_errf(err, EX_USAGE, "transport: %s host name",
		    n == 0 ? "no" : "too long a");
	memcpy(info->host, hs, n);
	info->host[n] = '\0';
	if (strspn(info->host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:_%") != n)
		return nudge_errf(err, EX_USAGE,
		    "transport: not a host name: %s",
		    nudge_quote(q, sizeof q, info->host, n));
	if (colon != NULL) {
		char port[8];
		int64_t v;

		n = (size_t)(end - colon - 1);
		if (n == 0 || n >= sizeof port)
			return nudge_errf(err, EX_USAGE, "transport: bad port");
		memcpy(port, colon + 1, n);
		port[n] = '\0';
		if (nudge_parse_i64(port, &v) == -1 || v < 1 || v > 65535)
			return nudge_errf(err, EX_USAGE,
			    "transport: bad port: %s",
			    nudge_quote(q, sizeof q, port, n));
		info->port = (long)v;
	}
	info->loopback = is_loopback(info->host);
	if (info->tls == NUDGE_TLS_STARTTLS &&
	    (info->loopback || allow_plaintext))
		info->tls = NUDGE_TLS_NONE;
	if (info->is_http && info->tls == NUDGE_TLS_STARTTLS)
		return nudge_errf(err, EX_USAGE, "transport: http:// to %s, "
		    "which is not a loopback address: use https:// (or set "
		    "allow_plaintext)", info->host);
	return 0;
}

/* Queues an outcome for the next run or drain to hand out. */
int
push_result(nudge_transport *t, const nudge_delivery *d)
{
	nudge_delivery *r;
	size_t cap;
	int rc = 0;

	if (t->o.on_done != NULL)
		t->o.on_done(t->o.done_arg, d);
	if (t->threaded)
		pthread_mutex_lock(&t->mu);
	if (t->nres == t->capres) {
		cap = t->capres ? t->capres * 2 : 16;
		if ((r = realloc(t->res, cap * sizeof *r)) == NULL) {
			rc = -1;
			goto out;
		}
		t->res = r;
		t->capres = cap;
	}
	t->res[t->nres++] = *d;
out:
	if (t->threaded) {
		if (rc != 0 || t->nres >= t->want)
			pthread_cond_signal(&t->cv);
		pthread_mutex_unlock(&t->mu);
	}
	return rc;
}

static void
flush_results(nudge_transport *t, nudge_delivery_fn *fn, void *arg)
{
	nudge_delivery d, *r;
	size_t i, n, cap;

	if (t->threaded) {
		/* take the loop's array, leave it the spare one */
		pthread_mutex_lock(&t->mu);
		r = t->res;
		n = t->nres;
		cap = t->capres;
		t->res = t->res2;
		t->capres = t->capres2;
		t->nres = 0;
		pthread_mutex_unlock(&t->mu);
		for (i = 0; i < n; i++) {
			t->pending--;
			if (fn != NULL)
				fn(arg, &r[i]);
		}
		t->res2 = r;
		t->capres2 = cap;
		return;
	}

	/* fn may submit, appending here: index, copy, then call. */
	for (i = 0; i < t->nres; i++) {
		d = t->res[i];
		t->pending--;
		if (fn != NULL)
			fn(arg, &d);
	}
	t->nres = 0;
}

/* Tells on_start that the message of cookie starts; when it may not,
 * its outcome is a held one, to stop the run.  0: go on; 1: held (the
 * outcome queued); -1: out of memory. */
int
start_one(nudge_transport *t, void *cookie)
{
	nudge_delivery d;

	if (t->o.on_start == NULL || t->o.on_start(t->o.start_arg, &cookie,
	    1) == 0)
		return 0;
	memset(&d, 0, sizeof d);
	d.cookie = cookie;
	d.status = NUDGE_NOT_SENT;   /* held: never tried, given back */
	d.temporary = 0;
	snprintf(d.detail, sizeof d.detail, "not sent: the in-flight journal "
	    "cannot be written");
	if (push_result(t, &d) == -1)
		return -1;
	t->pending++;
	return 1;
}

/* ---- the transfer slots of the multi (smtp and http) ---- */


/* Whether the environment names a proxy libcurl would use. */
static int
proxy_env(void)
{
	static const char *const names[] = { "http_proxy", "HTTP_PROXY",
		"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (getenv(names[i]) != NULL)
			return 1;
	return 0;
}

static int
slot_init(nudge_transport *t, struct slot *s)
{
	CURL *e;

	if ((s->easy = e = curl_easy_init()) == NULL)
		return -1;
	/* with no proxy in the environment, say so once: else libcurl
	 * looks there again for every request */
	if (!proxy_env())
		SETOPT(e, CURLOPT_PROXY, "");
	/* what every transfer has, SMTP or HTTP */
	SETOPT(e, CURLOPT_HEADERDATA, s);
	SETOPT(e, CURLOPT_ERRORBUFFER, s->errbuf);
	SETOPT(e, CURLOPT_PRIVATE, s);
	SETOPT(e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(e, CURLOPT_TCP_NODELAY, 1L);
	SETOPT(e, CURLOPT_TIMEOUT_MS, t->o.timeout_ms);
	SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, t->o.timeout_ms);
	/* Verification is never turned off, whatever the TLS mode. */
	SETOPT(e, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (t->o.ca_file != NULL)
		SETOPT(e, CURLOPT_CAINFO, t->o.ca_file);
	return t->info.is_http ? http_slot_init(t, s) : smtp_slot_init(t, s);
fail:
	return -1;
}

static int
smtp_open(nudge_transport *t, nudge_err *err)
{
	int i, rc;

	if (!t->info.is_http && t->info.tls == NUDGE_TLS_NONE) {
		/* plaintext SMTP: nudge's own client, pipelined */
		t->wire = 1;
		if ((rc = wire_open(t, err)) != 0)
			return rc;
	} else {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
		    (t->multi = curl_multi_init()) == NULL)
			return nudge_errf(err, EX_SOFTWARE,
			    "libcurl: cannot start");
		curl_multi_setopt(t->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
		    (long)t->nslots);
		curl_multi_setopt(t->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
		    (long)t->nslots);
		curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS,
		    (long)t->nslots);
		if ((t->slots = calloc((size_t)t->nslots,
		    sizeof *t->slots)) == NULL)
			return nudge_errf(err, EX_OSERR, "out of memory");
		for (i = 0; i < t->nslots; i++)
			if (slot_init(t, &t->slots[i]) == -1)
				return nudge_errf(err, EX_SOFTWARE,
				    "libcurl: cannot set up a transfer");
	}
	t->tokens = 1;
	t->tok_at = nudge_mono_us();
	return 0;
}

static int
slot_start(nudge_transport *t, struct slot *s, struct msg *m)
{
	if (t->wire)
		return wire_start(t, s, m);
	return t->info.is_http ? http_start(t, s, m) : smtp_start(t, s, m);
}

/* Whether slot s can take no message now. */
static int
slot_busy(const nudge_transport *t, const struct slot *s)
{
	return t->wire ? wire_busy(s) : s->m != NULL;
}

/* Wakes the network thread from its poll. */
static void
loop_wake(nudge_transport *t)
{
	if (t->wire)
		wire_wake(t);
	else
		curl_multi_wakeup(t->multi);
}

/* Copies what the classifier said of an attempt into d. */
void
set_class(nudge_delivery *d, const nudge_class *c)
{
	d->status = c->status;
	d->temporary = c->temporary;
	d->stop = c->stop;
	nudge_strcpy(d->reason, sizeof d->reason, c->reason != NULL ?
	    c->reason : "");
	d->sender_side = c->sender_side;
}

static long
backoff_ms(nudge_transport *t, int attempts)
{
	long d = t->o.retry_base_ms;
	int i;

	for (i = 1; i < attempts && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	/* Jitter over [d/2, d] spreads the retries of a burst apart. */
	t->rnd = t->rnd * 1103515245u + 12345u;
	return d / 2 + (long)((t->rnd >> 8) % (unsigned long)(d / 2 + 1));
}

static void
msg_free(struct msg *m)
{
	free(m);
}

/* Opens the circuit breaker: every message not yet tried comes back
 * not sent and not temporary (held: its claim is given back), those
 * waiting for a retry as what their last attempt came to, temporary. */
static int
trip(nudge_transport *t, const char *why)
{
	nudge_delivery d;
	struct msg *m;
	int queued;

	if (!t->tripped)
		snprintf(t->why, sizeof t->why, "%s", why);
	__atomic_store_n(&t->tripped, 1, __ATOMIC_RELEASE);
	for (queued = 1; queued >= 0; queued--) {
		while ((m = queued ? t->qhead : t->retry) != NULL) {
			if (queued && (t->qhead = m->next) == NULL)
				t->qtail = NULL;
			if (!queued)
				t->retry = m->next;
			memset(&d, 0, sizeof d);
			d.cookie = m->cookie;
			d.attempts = m->attempts;
			d.status = m->attempts == 0 ? NUDGE_NOT_SENT : m->last;
			d.temporary = m->attempts > 0;
			snprintf(d.detail, sizeof d.detail, "not sent: %s",
			    t->why);
			msg_free(m);
			if (push_result(t, &d) == -1)
				return -1;
		}
	}
	return 0;
}

/* The end of m: its outcome d queued for the caller; when it stops the
 * run or its channel, every message not yet done comes back (trip) with
 * why. */
int
finish(nudge_transport *t, struct msg *m, const nudge_delivery *d,
    const char *why)
{
	nudge_delivery sd;
	char w[400];

	msg_free(m);
	if (d->status != NUDGE_NOT_SENT)
		t->outcomes++;
	if (d->sender_side && ++t->sender_side >= SENDER_SIDE_MIN &&
	    t->o.max_sender_side > 0 && d->stop == NUDGE_STOP_NONE &&
	    (double)t->sender_side > t->o.max_sender_side *
	    (double)t->outcomes) {
		/* our IP on a blocklist, SPF, content judged spam: every
		 * message after would meet it too, and teach the receivers
		 * that we spam.  Stop like the breaker. */
		sd = *d;
		sd.stop = NUDGE_STOP_CHANNEL;
		snprintf(w, sizeof w, "%ld of %ld messages refused for a "
		    "sender-side reason, more than bounces: max_sender_side "
		    "%.1f%% (last: %s: %.200s): the fault is ours, not the "
		    "recipients'", t->sender_side, t->outcomes,
		    100 * t->o.max_sender_side, d->reason, d->detail);
		nudge_strcpy(sd.detail, sizeof sd.detail, w);
		d = &sd;
		why = w;
	}
	if (push_result(t, d) == -1)
		return -1;
	if (d->stop != NUDGE_STOP_NONE && trip(t, why) == -1)
		return -1;
	return 0;
}

/* Another attempt of m (whose attempt came to last) after backoff, or
 * after wait_ms if longer (a Retry-After). */
void
retry_later(nudge_transport *t, struct msg *m,
    enum nudge_delivery_status last, long wait_ms)
{
	long b = backoff_ms(t, m->attempts);

	m->last = last;
	m->not_before = nudge_mono_ms() + (wait_ms > b ? wait_ms : b);
	m->next = t->retry;
	t->retry = m;
}

/* http: counts c toward the circuit breaker; true when it opens it. */
int
breaker_opens(nudge_transport *t, const nudge_class *c)
{
	t->fails_in_row = c->trouble ? t->fails_in_row + 1 : 0;
	return t->o.breaker > 0 && t->fails_in_row >= t->o.breaker &&
	    !t->tripped;
}

/* http: true while m may be tried again: within max_retries and the
 * run's retry budget, the breaker closed. */
int
http_may_retry(nudge_transport *t, const struct msg *m)
{
	return !t->tripped && m->attempts <= t->o.max_retries &&
	    t->retries < (t->o.retry_budget > 0 ? t->o.retry_budget :
	    10 + t->submitted / 10);
}

/* A finished transfer classified: sent, a retry scheduled, or an outcome
 * queued for the caller. */
static int
slot_done(nudge_transport *t, struct slot *s, CURLcode rc)
{
	return t->info.is_http ? http_done(t, s, rc) : smtp_done(t, s, rc);
}

/* Moves due retries to the head of the queue; returns the earliest time a
 * waiting retry becomes due, or INT64_MAX. */
static int64_t
due_retries(nudge_transport *t, int64_t now)
{
	struct msg **pp = &t->retry, *m;
	int64_t next = INT64_MAX;

	while ((m = *pp) != NULL) {
		if (m->not_before <= now) {
			*pp = m->next;
			m->next = t->qhead;
			t->qhead = m;
			if (t->qtail == NULL)
				t->qtail = m;
		} else {
			if (m->not_before < next)
				next = m->not_before;
			pp = &m->next;
		}
	}
	return next;
}

/* Puts m[0..n) back at the head of the queue, in their order. */
static void
requeue(nudge_transport *t, struct msg **m, size_t n)
{
	while (n-- > 0) {
		m[n]->next = t->qhead;
		t->qhead = m[n];
		if (t->qtail == NULL)
			t->qtail = m[n];
	}
}

/* Starts the n messages m picked by fill on slots at[]: their first
 * attempts (the ns cookies in start) told to on_start first, in one
 * call (one journal write), before curl_multi_perform sends them.
 * When on_start refuses, none starts: they go back to the queue and
 * the breaker opens (trip), holding them and the rest.  0, or -1 (then
 * fill starts no more this turn; *rc set on an error). */
static int
start_picked(nudge_transport *t, struct msg **m, const int *at, size_t n,
    void *const *start, size_t ns, nudge_err *err, int *rc)
{
	size_t k;

	if (ns > 0 && t->o.on_start(t->o.start_arg, start, ns) != 0) {
		requeue(t, m, n);
		if (trip(t, "the in-flight journal cannot be written") == -1)
			*rc = nudge_errf(err, EX_OSERR, "out of memory");
		return -1;
	}
	for (k = 0; k < n; k++)
		if (slot_start(t, &t->slots[at[k]], m[k]) == -1) {
			*rc = nudge_errf(err, EX_SOFTWARE,
			    "libcurl: cannot start a transfer");
			requeue(t, m + k, n - k);
			return -1;
		}
	return 0;
}

/* Starts queued messages on idle slots as the rate allows; returns the
 * time more work could start (a token or a retry due), or INT64_MAX. */
static int64_t
fill(nudge_transport *t, nudge_err *err, int *rc)
{
	int64_t now = nudge_mono_ms(), next;
	double cap;
	struct msg *m, *picked[64];
	void *start[64];
	int at[64];
	size_t np = 0, ns = 0;
	int i;

	next = due_retries(t, now);
	if (t->pause_until > now)
		return t->pause_until < next ? t->pause_until : next;
	if (t->o.rate > 0) {
		cap = t->o.burst > 0 ? t->o.burst : t->nslots;
		/* microseconds: at a high rate a millisecond clock would
		 * add whole batches of tokens at once, or none */
		int64_t us = nudge_mono_us();

		t->tokens += (double)(us - t->tok_at) * t->o.rate / 1e6;
		if (t->tokens > cap)
			t->tokens = cap;
		t->tok_at = us;
	}
	/* picked first, then started together (start_picked) */
	for (i = 0; i < t->nslots && t->qhead != NULL; i++) {
		if (slot_busy(t, &t->slots[i]))
			continue;
		if (t->o.rate > 0) {
			if (t->tokens < 1.0) {
				int64_t at_ms = now + 1 + (int64_t)((1.0 -
				    t->tokens) * 1000.0 / t->o.rate);

				if (at_ms < next)
					next = at_ms;
				break;
			}
			t->tokens -= 1.0;
		}
		m = t->qhead;
		if ((t->qhead = m->next) == NULL)
			t->qtail = NULL;
		m->next = NULL;
		if (m->attempts == 0 && t->o.on_start != NULL)
			start[ns++] = m->cookie;
		at[np] = i;
		picked[np++] = m;
		if (np == sizeof picked / sizeof picked[0]) {
			if (start_picked(t, picked, at, np, start, ns, err,
			    rc) != 0)
				return next;
			np = ns = 0;
		}
	}
	if (np > 0)
		(void)start_picked(t, picked, at, np, start, ns, err, rc);
	return next;
}

/* ---- the network loop's thread (smtp and http) ---- */

/* One turn of the loop: start what may start, move transfers along, hand
 * out what finished, then sleep until a socket, a token, a retry or a
 * wakeup (a submit, close) is due. */
static int
loop_step(nudge_transport *t, nudge_err *err)
{
	CURLMsg *cm;
	struct slot *s;
	int running, left, rc = 0, done = 0;
	int64_t next, now;
	long wait;

	next = fill(t, err, &rc);
	if (rc != 0)
		return rc;
	if (t->wire) {
		/* the sockets of nudge's own SMTP client */
		if ((done = wire_perform(t, &next)) == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
	} else {
		if (curl_multi_perform(t->multi, &running) != CURLM_OK)
			return nudge_errf(err, EX_SOFTWARE,
			    "libcurl: multi failed");
		while ((cm = curl_multi_info_read(t->multi, &left)) != NULL) {
			if (cm->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE,
			    &s);
			if (slot_done(t, s, cm->data.result) == -1)
				return nudge_errf(err, EX_OSERR,
				    "out of memory");
			done = 1;
		}
	}
	if (done)
		return 0;
	now = nudge_mono_ms();
	wait = next == INT64_MAX ? 1000 : (long)(next - now);
	if (wait > 1000)
		wait = 1000;
	if (wait < 0)
		wait = 0;
	/* a wakeup is a syscall on each side: the sender makes one only
	 * when the loop said it is going to sleep */
	pthread_mutex_lock(&t->mu);
	if (t->inq != NULL || t->quit)
		wait = 0;
	else
		t->idle = 1;
	pthread_mutex_unlock(&t->mu);
	if (t->wire)
		wire_poll(t, wait);
	else if (wait > 0 && curl_multi_poll(t->multi, NULL, 0, (int)wait,
	    NULL) != CURLM_OK)
		return nudge_errf(err, EX_SOFTWARE, "libcurl: poll failed");
	pthread_mutex_lock(&t->mu);
	t->idle = 0;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

/* Appends the submitted message m to the ready queue (the loop's). */
static void
ready(nudge_transport *t, struct msg *m)
{
	if (t->qtail != NULL)
		t->qtail->next = m;
	else
		t->qhead = m;
	t->qtail = m;
	t->submitted++;
}

static void *
loop_main(void *arg)
{
	nudge_transport *t = arg;
	struct msg *in, *m;
	nudge_err e;
	int quit, rc = 0;

	for (;;) {
		pthread_mutex_lock(&t->mu);
		in = t->inq;
		t->inq = t->inq_tail = NULL;
		quit = t->quit;
		pthread_mutex_unlock(&t->mu);
		for (; in != NULL; in = m) {
			m = in->next;
			in->next = NULL;
			ready(t, in);
		}
		if (quit)
			break;
		/* a submit that raced with the breaker: held too */
		if (t->tripped && t->qhead != NULL && trip(t, t->why) == -1) {
			rc = nudge_errf(&e, EX_OSERR, "out of memory");
			break;
		}
		if ((rc = loop_step(t, &e)) != 0)
			break;
	}
	if (rc != 0) {
		pthread_mutex_lock(&t->mu);
		t->wrc = rc;
		t->werr = e;
		pthread_cond_signal(&t->cv);
		pthread_mutex_unlock(&t->mu);
	}
	return NULL;
}

static int
loop_start(nudge_transport *t, nudge_err *err)
{
	pthread_condattr_t ca;

	if (pthread_mutex_init(&t->mu, NULL) != 0)
		return nudge_errf(err, EX_OSERR, "cannot make a mutex");
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&t->cv, &ca) != 0) {
		pthread_mutex_destroy(&t->mu);
		return nudge_errf(err, EX_OSERR, "cannot make a condition");
	}
	pthread_condattr_destroy(&ca);
	t->threaded = 1;
	t->want = 1;
	if (pthread_create(&t->thr, NULL, loop_main, t) != 0) {
		t->threaded = 0;
		pthread_cond_destroy(&t->cv);
		pthread_mutex_destroy(&t->mu);
		return nudge_errf(err, EX_OSERR, "cannot start a thread");
	}
	return 0;
}

/* Waits up to deadline (monotonic ms) for want outcomes (at most as
 * many as are pending) or a failure of the loop; returns the loop's
 * failure code, or 0. */
static int
loop_wait(nudge_transport *t, int64_t deadline, size_t want, nudge_err *err)
{
	struct timespec ts;
	int64_t at;
	int rc;

	if (want > t->pending)
		want = t->pending;
	if (want == 0)
		want = 1;
	pthread_mutex_lock(&t->mu);
	t->want = want;
	while (t->nres < want && t->wrc == 0 && nudge_mono_ms() < deadline) {
		at = deadline;
		ts.tv_sec = (time_t)(at / 1000);
		ts.tv_nsec = (long)(at % 1000) * 1000000;
		pthread_cond_timedwait(&t->cv, &t->mu, &ts);
	}
	t->want = 1;
	if ((rc = t->wrc) != 0 && err != NULL)
		*err = t->werr;
	pthread_mutex_unlock(&t->mu);
	return rc;
}

/* ---- the common API ---- */

int
nudge_transport_open(nudge_transport **out, const char *url,
    const nudge_transport_opts *opts, nudge_err *err)
{
	nudge_transport *t;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof *t)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	t->dirfd = t->tmpfd = t->newfd = t->wakefd = -1;
	if (opts != NULL)
		t->o = *opts;
	t->o.username = t->o.password = t->o.ca_file = NULL;
	if (t->o.parallel <= 0)
		t->o.parallel = 1;
	if (t->o.parallel > 256 || t->o.rate < 0 || t->o.timeout_ms < 0 ||
	    t->o.retry_base_ms < 0) {
		rc = nudge_errf(err, EX_USAGE, "transport: %s out of range",
		    t->o.parallel > 256 ? "parallel" : t->o.rate < 0 ? "rate" :
		    t->o.timeout_ms < 0 ? "timeout" : "retry backoff");
		free(t);
		return rc;
	}
	if (t->o.timeout_ms == 0)
		t->o.timeout_ms = 60000;
	if (t->o.max_retries < 0)
		t->o.max_retries = 0;
	if (t->o.retry_base_ms == 0)
		t->o.retry_base_ms = 1000;
	t->nslots = t->o.parallel;
	t->rnd = (unsigned)getpid() ^ (unsigned)nudge_mono_ms();
	if (url == NULL && t->o.provider != NULL)
		url = t->o.provider->url;
	if (url == NULL) {
		free(t);
		return nudge_errf(err, EX_USAGE, "transport: no URL");
	}
	if ((rc = nudge_transport_parse(url, t->o.allow_plaintext, &t->info,
	    err)) != 0) {
		free(t);
		return rc;
	}
	/* asked for: no plaintext even to a loopback relay or tunnel */
	if (t->o.require_tls && t->info.tls == NUDGE_TLS_NONE &&
	    !t->info.is_http)
		t->info.tls = NUDGE_TLS_STARTTLS;
	if (t->info.is_http && t->o.provider == NULL) {
		free(t);
		return nudge_errf(err, EX_USAGE, "transport: http(s):// takes "
		    "a provider profile (channels: sms: provider:)");
	}
	if (t->info.is_http && t->o.breaker == 0)
		t->o.breaker = BREAKER_HTTP;
	if ((t->url = strdup(url)) == NULL ||
	    (opts != NULL && opts->username != NULL &&
	    (t->o.username = strdup(opts->username)) == NULL) ||
	    (opts != NULL && opts->password != NULL &&
	    (t->o.password = strdup(opts->password)) == NULL) ||
	    (opts != NULL && opts->ca_file != NULL &&
	    (t->o.ca_file = strdup(opts->ca_file)) == NULL)) {
		nudge_transport_close(t);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	rc = t->info.is_file ? file_open(t, err) : t->info.is_exec ?
	    exec_open(t, err) : smtp_open(t, err);
	if (rc == 0 && !t->info.is_file && !t->info.is_exec)
		rc = loop_start(t, err);
	if (rc != 0) {
		nudge_transport_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

static int
bad_address(const char *a)
{
	return a[strcspn(a, "\r\n<>")] != '\0';
}

static void enqueue(nudge_transport *t, struct msg *m);

int
nudge_transport_submit(nudge_transport *t, const char *from,
    const char *rcpt, const char *data, size_t len, void *cookie,
    nudge_err *err)
{
	size_t fl = strlen(from), rl = strlen(rcpt);
	char q[200];
	struct msg *m;

	if (bad_address(from))
		return nudge_errf(err, EX_USAGE, "envelope from: bad address: "
		    "%s", nudge_quote(q, sizeof q, from, fl));
	if (rl == 0 || bad_address(rcpt))
		return nudge_errf(err, EX_USAGE, "envelope recipient: bad "
		    "address: %s", nudge_quote(q, sizeof q, rcpt, rl));
	if (t->info.is_file)
		return file_submit(t, data, len, cookie, err);
	if (t->info.is_exec) {
		nudge_transport_msg mm = { "email", rcpt, from, NULL, NULL,
			data, len };

		return exec_submit(t, &mm, cookie, err);
	}
	if (len > SIZE_MAX - sizeof *m - fl - rl - 2 ||
	    (m = malloc(sizeof *m + fl + rl + 2 + len)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	memset(m, 0, sizeof *m);
	m->from = (char *)(m + 1);
	memcpy(m->from, from, fl + 1);
	m->rcpt = m->from + fl + 1;
	memcpy(m->rcpt, rcpt, rl + 1);
	m->data = m->rcpt + rl + 1;
	if (len > 0)
		memcpy(m->data, data, len);
	m->len = len;
	m->cookie = cookie;
	enqueue(t, m);
	return 0;
}

/* Queues a message (the caller's allocation) after the others. */
static void
enqueue(nudge_transport *t, struct msg *m)
{
	if (t->threaded) {
		int wake;

		pthread_mutex_lock(&t->mu);
		if (t->inq_tail != NULL)
			t->inq_tail->next = m;
		else
			t->inq = m;
		t->inq_tail = m;
		wake = t->idle;
		t->idle = 0;
		pthread_mutex_unlock(&t->mu);
		t->pending++;
		if (wake)
			loop_wake(t);
		return;
	}
	t->pending++;
	ready(t, m);
}

int
nudge_transport_submit_msg(nudge_transport *t, const nudge_transport_msg *mm,
    void *cookie, nudge_err *err)
{
	const nudge_provider *p = t->o.provider;
	nudge_prov_vars v;
	nudge_http_req *rq = &t->req;
	struct msg *m;
	nudge_buf b = { 0 };
	int rc;

	if (t->info.is_exec)
		return exec_submit(t, mm, cookie, err);
	if (t->info.is_file) {
		if (strcmp(mm->channel, "email") == 0)
			return file_submit(t, mm->text, mm->len, cookie, err);
		if (nudge_buf_printf(&b, "To: %s\nChannel: %s\n", mm->to,
		    mm->channel) == -1 || (mm->from != NULL &&
		    nudge_buf_printf(&b, "From: %s\n", mm->from) == -1) ||
		    (mm->title != NULL && nudge_buf_printf(&b, "Title: %s\n",
		    mm->title) == -1) || nudge_buf_putc(&b, '\n') == -1 ||
		    nudge_buf_add(&b, mm->text, mm->len) == -1 ||
		    nudge_buf_putc(&b, '\n') == -1) {
			nudge_buf_free(&b);
			return nudge_errf(err, EX_OSERR, "out of memory");
		}
		rc = file_submit(t, b.s, b.len, cookie, err);
		nudge_buf_free(&b);
		return rc;
	}
	if (!t->info.is_http)
		return nudge_transport_submit(t, mm->from != NULL ? mm->from :
		    "", mm->to, mm->text, mm->len, cookie, err);
	if (__atomic_load_n(&t->tripped, __ATOMIC_ACQUIRE)) {
		nudge_delivery d;

		memset(&d, 0, sizeof d);
		d.cookie = cookie;
		d.status = NUDGE_NOT_SENT;	/* held */
		snprintf(d.detail, sizeof d.detail, "not sent: %s", t->why);
		if (push_result(t, &d) == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
		t->pending++;
		return 0;
	}
	v.to = mm->to;
	v.from = mm->from;
	v.text = mm->text;
	v.title = mm->title;
	v.key = mm->key;
	if ((rc = nudge_provider_render(p, &v, rq, err)) != 0)
		return rc;
	if ((m = malloc(sizeof *m + rq->url.len + rq->headers.len +
	    rq->body.len + 3)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	memset(m, 0, sizeof *m);
	m->from = (char *)(m + 1);
	memcpy(m->from, rq->url.s, rq->url.len + 1);
	m->rcpt = m->from + rq->url.len + 1;
	memcpy(m->rcpt, rq->headers.s, rq->headers.len + 1);
	m->data = m->rcpt + rq->headers.len + 1;
	memcpy(m->data, rq->body.s, rq->body.len + 1);
	m->len = rq->body.len;
	m->cookie = cookie;
	enqueue(t, m);
	return 0;
}

size_t
nudge_transport_pending(const nudge_transport *t)
{
	return t->pending;
}

int
nudge_transport_run(nudge_transport *t, int timeout_ms, size_t want,
    nudge_delivery_fn *fn, void *arg, nudge_err *err)
{
	int64_t deadline = nudge_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	size_t before = t->pending, done;
	int rc;

	if (t->threaded) {
		for (;;) {
			flush_results(t, fn, arg);
			done = before - t->pending;
			if (t->pending == 0 || (want > 0 && done >= want))
				return 0;
			if ((rc = loop_wait(t, deadline, want > 0 ? want -
			    done : SIZE_MAX, err)) != 0)
				return rc;
			if (nudge_mono_ms() >= deadline) {
				flush_results(t, fn, arg);
				return 0;
			}
		}
	}
	/* file: and exec: deliver in submit; their outcomes are ready */
	flush_results(t, fn, arg);
	return 0;
}

int
nudge_transport_drain(nudge_transport *t, nudge_delivery_fn *fn, void *arg,
    nudge_err *err)
{
	int rc;

	while (t->pending > 0)
		if ((rc = nudge_transport_run(t, 1000, 0, fn, arg, err)) != 0)
			return rc;
	if (t->info.is_file && t->unsynced && !t->o.nosync) {
		if (fsync(t->newfd) == -1)
			return nudge_errf(err, EX_IOERR, "%s/new: %s",
			    t->info.host, strerror(errno));
		t->unsynced = 0;
	}
	return 0;
}

static void
free_list(struct msg *m)
{
	struct msg *n;

	for (; m != NULL; m = n) {
		n = m->next;
		msg_free(m);
	}
}

void
nudge_transport_close(nudge_transport *t)
{
	struct slot *s;
	int i;

	if (t == NULL)
		return;
	if (t->threaded) {
		pthread_mutex_lock(&t->mu);
		t->quit = 1;
		pthread_mutex_unlock(&t->mu);
		loop_wake(t);
		pthread_join(t->thr, NULL);
		t->threaded = 0;
		pthread_cond_destroy(&t->cv);
		pthread_mutex_destroy(&t->mu);
		free_list(t->inq);
		free(t->res2);
	}
	if (t->wire)
		wire_close(t);
	for (i = 0; t->slots != NULL && i < t->nslots; i++) {
		s = &t->slots[i];
		if (s->m != NULL) {
			if (!t->wire)
				curl_multi_remove_handle(t->multi, s->easy);
			msg_free(s->m);
		}
		curl_slist_free_all(s->rcpt);
		curl_slist_free_all(s->hdrs);
		nudge_buf_free(&s->hdrs_text);
		nudge_buf_free(&s->resp);
		if (s->easy != NULL)
			curl_easy_cleanup(s->easy);
		curl_url_cleanup(s->url);
		nudge_buf_free(&s->url_text);
	}
	if (t->argv != NULL) {
		free(t->argv[0]);
		free(t->argv);
	}
	free(t->slots);
	if (t->multi != NULL)
		curl_multi_cleanup(t->multi);
	free_list(t->qhead);
	free_list(t->retry);
	if (t->dirfd != -1)
		close(t->dirfd);
	if (t->tmpfd != -1)
		close(t->tmpfd);
	if (t->newfd != -1)
		close(t->newfd);
	free(t->res);
	free(t->url);
	nudge_http_req_free(&t->req);
	if (t->o.password != NULL) {
		explicit_bzero((char *)t->o.password, strlen(t->o.password));
		free((char *)t->o.password);
	}
	free((char *)t->o.username);
	free((char *)t->o.ca_file);
	free(t);
}
