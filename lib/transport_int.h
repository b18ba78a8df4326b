/* transport_int.h: what transport.c (the loop, queueing, retries, the
 * breaker, the public API) shares with its per-protocol parts,
 * transport_file.c, transport_smtp.c, transport_http.c and
 * transport_exec.c.  Private to those five files. */
#ifndef NUDGE_TRANSPORT_INT_H
#define NUDGE_TRANSPORT_INT_H

#include <poll.h>
#include <pthread.h>
#include <stdint.h>

#include <curl/curl.h>

#include "transport.h"

#define BACKOFF_MAX_MS (15L * 60 * 1000)

/* One submitted message.  from, rcpt and data live in one allocation. */
struct msg {
	struct msg *next;
	char *from, *rcpt, *data;	/* http: url, headers, body */
	size_t len, off;
	void *cookie;
	int attempts;
	int64_t not_before;	/* monotonic ms: no retry before */
	enum nudge_delivery_status last;	/* waiting for a retry: what
				   its last attempt came to */
};

/* One easy handle; with the multi's connection pool capped at the number
 * of slots, each slot's transfers reuse one connection.  Over nudge's own
 * SMTP client (transport_smtpwire.c) a slot is a connection (w) and no
 * easy handle; m is then the message in its envelope. */
struct slot {
	CURL *easy;
	struct wconn *w;	/* smtpwire: the connection */
	struct msg *m;		/* NULL when idle */
	struct curl_slist *rcpt;
	char errbuf[CURL_ERROR_SIZE];
	char reply[256];	/* the last reply line the server sent */
	/* http: the request headers, kept from one request to the next
	 * while their text (hdrs_text) stays the same */
	struct curl_slist *hdrs;
	nudge_buf hdrs_text;
	/* and the URL, parsed once while it stays the same (url_text) */
	CURLU *url;
	nudge_buf url_text;
	nudge_buf resp;		/* the answer's body, up to RESP_MAX */
	long retry_after_ms;	/* from Retry-After, or -1 */
};

#define RESP_MAX 65536
#define BREAKER_HTTP 10

/* Sender-side refusals that may stop a channel, at least: one or two in
 * a small run are no pattern. */
#define SENDER_SIDE_MIN 5

struct nudge_transport {
	nudge_transport_info info;
	nudge_transport_opts o;
	long outcomes, sender_side;	/* final outcomes, and of them the
				   refusals for a sender-side reason */
	char *url;
	size_t pending;
	nudge_delivery *res;	/* outcomes not yet handed out */
	size_t nres, capres;
	unsigned rnd;
	/* file:// */
	int dirfd, tmpfd, newfd;
	unsigned counter;
	int unsynced;
	char host[64];
	/* smtp:// */
	int wire;		/* plaintext smtp: transport_smtpwire.c, its
				   sockets polled, woken by wakefd */
	int wakefd;
	struct pollfd *pfd;
	CURLM *multi;
	struct slot *slots;
	int nslots;
	struct msg *qhead, *qtail;	/* ready, in submission order */
	struct msg *retry;		/* waiting for not_before */
	double tokens;
	int64_t tok_at;			/* monotonic microseconds */
	int64_t pause_until;		/* a 429's Retry-After holds all */
	long submitted, retries;	/* for the retry budget */
	int fails_in_row;		/* for the circuit breaker */
	int tripped;			/* the breaker is open */
	char why[96];			/* why it opened: set once, before
					   tripped, never after */
	/* exec: */
	char **argv;
	/* http: the multi loop runs in a thread of its own, so that the
	 * network overlaps the sender's store writes.  Under mu: inq, quit,
	 * res/nres/capres, wrc/werr; tripped is atomic; the rest of the
	 * loop's state (queues, slots, tokens, multi) is the loop's alone. */
	int threaded;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct msg *inq, *inq_tail;
	int quit;
	int idle;			/* the loop is (about to be) asleep in
					   poll: a submit must wake it */
	size_t want;			/* the caller waits for this many
					   outcomes: the loop wakes it then,
					   not at each one */
	int wrc;
	nudge_err werr;
	nudge_delivery *res2;		/* the array being handed out */
	size_t capres2;
	nudge_http_req req;		/* submit's, reused */
};

#define SETOPT(e, o, v) \
	do { \
		if (curl_easy_setopt((e), (o), (v)) != CURLE_OK) \
			goto fail; \
	} while (0)

/* transport.c */
int push_result(nudge_transport *t, const nudge_delivery *d);
int start_one(nudge_transport *t, void *cookie);
void set_class(nudge_delivery *d, const nudge_class *c);
int finish(nudge_transport *t, struct msg *m, const nudge_delivery *d,
    const char *why);
void retry_later(nudge_transport *t, struct msg *m,
    enum nudge_delivery_status last, long wait_ms);
int breaker_opens(nudge_transport *t, const nudge_class *c);
int http_may_retry(nudge_transport *t, const struct msg *m);

/* transport_file.c */
int file_open(nudge_transport *t, nudge_err *err);
int file_submit(nudge_transport *t, const char *data, size_t len,
    void *cookie, nudge_err *err);

/* transport_smtp.c */
/* The error text of a server that offers no AUTH nudge's own client
 * can use, when a username is configured (transport_smtpwire.c). */
#define NO_AUTH "the server offers no AUTH PLAIN or LOGIN"
int smtp_settle(nudge_transport *t, struct msg *m, long code, int rc,
    const char *errbuf, const char *reply, int after_data);
int smtp_slot_init(nudge_transport *t, struct slot *s);
int smtp_start(nudge_transport *t, struct slot *s, struct msg *m);
int smtp_done(nudge_transport *t, struct slot *s, CURLcode rc);

/* transport_smtpwire.c */
int wire_open(nudge_transport *t, nudge_err *err);
int wire_busy(const struct slot *s);
int wire_start(nudge_transport *t, struct slot *s, struct msg *m);
int wire_perform(nudge_transport *t, int64_t *next);
void wire_poll(nudge_transport *t, long wait_ms);
void wire_wake(nudge_transport *t);
void wire_close(nudge_transport *t);

/* transport_http.c */
int http_slot_init(nudge_transport *t, struct slot *s);
int http_start(nudge_transport *t, struct slot *s, struct msg *m);
int http_done(nudge_transport *t, struct slot *s, CURLcode rc);

/* transport_exec.c */
int exec_open(nudge_transport *t, nudge_err *err);
int exec_submit(nudge_transport *t, const nudge_transport_msg *mm,
    void *cookie, nudge_err *err);

#endif
