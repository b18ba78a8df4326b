/* transport: delivery of already-built messages (CRLF line ends, one
 * envelope sender, one recipient) to a maildir-style directory (file://)
 * or an SMTP server (smtp://, smtps://), and of sms and push messages to
 * an HTTP provider (http://, https://, through a provider profile), all
 * through the libcurl multi interface: several connections, each reused
 * for many messages, a token-bucket rate limit, retries with backoff and
 * jitter; for http also Retry-After, a retry budget and a circuit
 * breaker.  exec: pipes each message to a command instead.  The smtp and
 * http multi loop runs in a thread of its own (started by open, joined by
 * close) so that the network overlaps the caller's work; every function
 * here is still called from one thread, the caller's, and the delivery
 * callback runs in it.  Only this module uses libcurl, so a command that
 * never sends does not link it. */
#ifndef NUDGE_TRANSPORT_H
#define NUDGE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "outcome.h"
#include "provider.h"
#include "util.h"

typedef struct nudge_transport nudge_transport;

/* The outcome of one submitted message, handed to a nudge_delivery_fn:
 * the transport's classification (outcome.h), which send records as it
 * is. */
typedef struct nudge_delivery {
	void *cookie;		/* as given to submit */
	enum nudge_delivery_status status;
	int code;		/* the deciding answer: an SMTP reply code
				   (smtp), an HTTP status (http), or 0 */
	int attempts;		/* 1 + the retries made */
	int temporary;		/* its last attempt failed for now only (see
				   nudge_class): tempfail, EX_TEMPFAIL */
	enum nudge_stop stop;	/* what else it stops: the run (RUN), or
				   its channel (CHANNEL: the circuit
				   breaker opened) */
	char id[256];		/* provider id: file name, or server reply */
	char detail[256];	/* reason of a failure ("" when sent) */
	char reason[24];	/* an SMTP 5xx's reason (bounce.h), or "" */
	int sender_side;	/* that reason is our fault, not the
				   recipient's (nudge_class) */
} nudge_delivery;

typedef void nudge_delivery_fn(void *arg, const nudge_delivery *d);

typedef struct nudge_transport_opts {
	int parallel;		/* SMTP connections; 0 means 1 */
	double rate;		/* messages per second; 0 means no limit */
	int allow_plaintext;	/* smtp:// without STARTTLS to any host */
	const char *username;	/* SMTP AUTH when not NULL */
	const char *password;
	long timeout_ms;	/* per attempt; 0 means 60 s */
	int max_retries;	/* retries after a temporary failure; <0: 0 */
	long retry_base_ms;	/* first backoff, doubled each time; 0: 1 s */
	int nosync;		/* file://: do not fsync (tests, demos) */
	const nudge_provider *provider;	/* http(s): the profile, bound;
				   the URL then replaces its base (or is
				   NULL: the profile's own) */
	int burst;		/* messages above rate at once; 0: parallel */
	int breaker;		/* failures in a row (5xx, refused, dropped,
				   timed out) that open the circuit
				   breaker; 0: 10 for http, off for smtp */
	double max_sender_side;	/* smtp: the share of the outcomes refused
				   for a sender-side reason (bounce.h: a
				   blocklist, SPF, spam) that stops the
				   channel as the breaker does, once there
				   are SENDER_SIDE_MIN of them; 0: never */
	int retry_budget;	/* retries in the whole run; 0: 10 + a
				   tenth of the messages submitted */
	int require_tls;	/* smtp://: STARTTLS even to a loopback host */
	const char *ca_file;	/* PEM certificates to trust instead of the
				   system's (a private CA, a self-signed
				   server), or NULL */
	/* When not NULL: called with the cookies of the n messages whose
	 * first attempts are about to start, before any of them can put a
	 * byte on the wire or run its command (retries do not call it
	 * again): for smtp and http once a turn of the network thread, for
	 * every message that turn starts, so it must be thread-safe
	 * (send.c appends their ledger ids to the in-flight journal,
	 * journal.h, in one write).  Returns 0, or -1 when they may not
	 * start (the journal cannot be written): then none of them starts
	 * and they come back held (status TEMPFAIL, held set); smtp and
	 * http also hold every message not yet started, hand back those
	 * waiting for a retry as temporary failures and start nothing
	 * more (as an open circuit breaker); file: and exec: ask again at
	 * each message. */
	int (*on_start)(void *arg, void *const *cookies, size_t n);
	void *start_arg;
	/* When not NULL: called with each final outcome as soon as it is
	 * known, before it is queued for the caller's run or drain: from
	 * the network thread for smtp and http, so it must be thread-safe
	 * (send.c appends it to the in-flight journal, so that a kill
	 * before the caller records it does not leave it unknown). */
	void (*on_done)(void *arg, const nudge_delivery *d);
	void *done_arg;
} nudge_transport_opts;

/* How a URL is reached, decided without touching the network. */
enum nudge_tls {
	NUDGE_TLS_NONE,		/* plaintext: loopback or allow_plaintext */
	NUDGE_TLS_STARTTLS,	/* smtp:// elsewhere: STARTTLS required */
	NUDGE_TLS_IMPLICIT	/* smtps:// */
};

typedef struct nudge_transport_info {
	int is_file;		/* file:// */
	int is_http;		/* http(s):// through a provider profile */
	int is_exec;		/* exec:COMMAND ARGS */
	enum nudge_tls tls;
	int loopback;		/* host is 127.0.0.0/8, ::1 or localhost */
	char host[256];		/* smtp: the host; file: the directory */
	long port;
} nudge_transport_info;

/* True when url (scheme://...) carries a user name or password before
 * its host ("smtp://user:pw@host"), which nudge refuses: on a command
 * line it would show in ps(1) and /proc/PID/cmdline. */
int nudge_transport_userinfo(const char *url);

/* Parses url (file:///dir, smtp://host[:port][/ehlo-name],
 * smtps://host[:port], http(s)://host[:port], exec:COMMAND ARGS) and
 * decides the TLS policy: STARTTLS is required
 * for smtp:// unless the host is a loopback address (by its literal form or
 * the name "localhost"; no name is resolved) or allow_plaintext is set.
 * Certificate verification is never turned off.  Returns 0, or EX_USAGE
 * with err naming what is wrong (never quoting a password in the URL). */
int nudge_transport_parse(const char *url, int allow_plaintext,
    nudge_transport_info *info, nudge_err *err);

/* Opens a transport for url with opts (NULL: defaults).  Nothing is
 * connected yet.  Returns 0, EX_USAGE for a bad URL or option,
 * EX_CANTCREAT when the directory of a file:// URL cannot be made, or
 * EX_OSERR / EX_SOFTWARE when memory or libcurl fail. */
int nudge_transport_open(nudge_transport **out, const char *url,
    const nudge_transport_opts *opts, nudge_err *err);

/* Queues one message: envelope from and rcpt, data[0..len) with CRLF line
 * ends.  The transport keeps a copy, so data may be freed on return.  The
 * file transport writes the message now; its outcome, like every other,
 * is handed to the callback of the next run or drain.  Returns 0, EX_USAGE
 * for an address with CR, LF, NUL or '<' '>', or EX_OSERR. */
int nudge_transport_submit(nudge_transport *t, const char *from,
    const char *rcpt, const char *data, size_t len, void *cookie,
    nudge_err *err);

/* One sms or push message (or an email for exec:), for
 * nudge_transport_submit_msg. */
typedef struct nudge_transport_msg {
	const char *channel;	/* "sms", "push" or "email" */
	const char *to;		/* phone, push id or address */
	const char *from;	/* sender id, or NULL */
	const char *title;	/* push: the title, or NULL */
	const char *key;	/* the ledger key (idempotency key) */
	const char *text;	/* the message (email: all of it, CRLF) */
	size_t len;
} nudge_transport_msg;

/* Queues one message of any channel: over http(s) the provider profile
 * renders its request; exec: runs the command now with the message on
 * its standard input and NUDGE_TO, NUDGE_FROM, NUDGE_TITLE, NUDGE_KEY and
 * NUDGE_CHANNEL in its environment (exit 0: sent, its first line of
 * output the id; 75: temporary failure; else failed); file:// writes the
 * message with To:, Channel:, From: and Title: lines first.  Outcomes as for
 * nudge_transport_submit.  Returns 0, EX_DATAERR (a value the request
 * cannot carry), EX_OSERR. */
int nudge_transport_submit_msg(nudge_transport *t,
    const nudge_transport_msg *m, void *cookie, nudge_err *err);

/* Messages submitted whose outcome was not yet handed out.  A sender keeps
 * this under a window (say 4 x parallel) by running between submits. */
size_t nudge_transport_pending(const nudge_transport *t);

/* Moves messages along for up to timeout_ms (0: do what can be done
 * without waiting), calling fn(arg, delivery) once for each message whose
 * outcome is final (after its last retry; a nudge_delivery_status and,
 * when it stops the run or the channel, every message not yet tried,
 * NUDGE_NOT_SENT).  Returns early once nothing is pending, or once it handed
 * out want outcomes (0: none early); the network thread wakes the caller
 * when that many are ready, not at each.  Returns 0, or
 * EX_SOFTWARE when libcurl fails as a whole.
 * What each attempt's end means, and whether it is retried, is
 * nudge_outcome_classify's (outcome.h): a 4xx reply, a refused, dropped
 * or timed-out connection before the end of data are retried and end
 * NUDGE_NOT_SENT; a connection lost after the end of data (SMTP), or
 * after an HTTP request to a provider that takes no idempotency key, is
 * NUDGE_UNKNOWN and never retried: the server may have queued the message
 * and lost only its answer (RFC 1047).  A 5xx to RCPT TO is a bounce, any
 * other 5xx a failure. */
int nudge_transport_run(nudge_transport *t, int timeout_ms, size_t want,
    nudge_delivery_fn *fn, void *arg, nudge_err *err);

/* Runs until nothing is pending, then makes the file transport's renames
 * durable (fsync of new/).  Returns as nudge_transport_run, or EX_IOERR. */
int nudge_transport_drain(nudge_transport *t, nudge_delivery_fn *fn,
    void *arg, nudge_err *err);

/* Closes connections and frees t; messages still pending are dropped
 * without an outcome (drain first). */
void nudge_transport_close(nudge_transport *t);

/* Parsers of what servers answer, exposed for the fuzz targets (see
 * test/fuzz/): an SMTP reply line kept, an SMTP failure classified, an
 * HTTP Retry-After header read.  Comments at their definitions. */
void nudge_transport_smtp_line(char *reply, size_t len, const char *buf,
    size_t n);
int nudge_transport_smtp_failure(long code, int rc, const char *errbuf,
    const char *reply, int after_data, nudge_delivery *d);
long nudge_transport_retry_after(const char *buf, size_t n, int64_t now);

/* Appends the message p[0..n) to out as SMTP DATA content, dot-stuffed,
 * bare LFs made CRLF, with the end of data (transport_smtpwire.c).  0,
 * or -1 when memory runs out. */
int nudge_transport_smtp_stuff(nudge_buf *out, const char *p, size_t n);

#endif
