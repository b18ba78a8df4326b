/* outcome: the one classification of what a transport saw become of a
 * message (file, smtp, http, exec alike) into delivered, surely not
 * delivered, maybe delivered, or refused for this recipient; with
 * whether another attempt may help and whether the run or the channel
 * must stop.  Pure: no I/O, no libcurl call, so a table of cases tests
 * it (test/unit/outcome.c).  transport.c asks it about every attempt;
 * send.c records what the transport hands it and decides nothing. */
#ifndef NUDGE_OUTCOME_H
#define NUDGE_OUTCOME_H

/* What became of one message. */
enum nudge_delivery_status {
	NUDGE_SENT,	/* delivered: accepted by the server or the
			   provider, written to the directory, or the
			   command exited 0 */
	NUDGE_NOT_SENT,	/* surely not delivered: it never left (no
			   connection, TLS or login refused, the run
			   stopped first) or the server refused it for now
			   (an SMTP 4xx, HTTP 429 or 503, exit 75): its
			   claim is given back and a rerun sends it */
	NUDGE_UNKNOWN,	/* maybe delivered: handed over, then no usable
			   answer (RFC 1047: the connection lost after the
			   end of data; a provider's 5xx, or its silence
			   after the request): never resent unless asked
			   (--resend-unknown) */
	NUDGE_BOUNCED,	/* refused for this recipient: 5xx to RCPT TO */
	NUDGE_FAILED	/* refused for this recipient: another permanent
			   refusal (5xx, HTTP 4xx, a command's exit) */
};

/* What a delivery stops besides itself. */
enum nudge_stop {
	NUDGE_STOP_NONE,
	NUDGE_STOP_RUN,		/* no message can pass (credentials, TLS, the
				   URL, a command that cannot run): the whole
				   run stops, EX_UNAVAILABLE */
	NUDGE_STOP_CHANNEL	/* the circuit breaker opened: this channel
				   stops, the others go on; EX_TEMPFAIL */
};

enum nudge_via {
	NUDGE_VIA_FILE,
	NUDGE_VIA_SMTP,
	NUDGE_VIA_HTTP,
	NUDGE_VIA_EXEC
};

/* What a transport saw of one attempt. */
typedef struct nudge_seen {
	enum nudge_via via;
	int rc;		/* smtp, http: the CURLcode (0: CURLE_OK); file: an
			   errno (0: written) */
	int code;	/* smtp: the last reply's code (0: none); http: the
			   status (0: none); exec: the wait(2) status */
	int at_rcpt;	/* smtp: the failing command was RCPT TO */
	int after_data;	/* smtp: all of the message and its end went out
			   (354 was the last reply), no answer came */
	int went_out;	/* http: the request was written */
	int answer_ok;	/* http: a status the profile takes as sent and
			   the id it needs */
	int not_api;	/* http: a 2xx that is not the API's answer (not
			   JSON where the profile reads an id from JSON) */
	int retryable;	/* http: the profile lists the status retryable */
	int idempotent;	/* http: the requests carry the ledger key */
	const char *reply;	/* smtp: the last reply line ("" or NULL:
				   none), for a 5xx's reason */
} nudge_seen;

/* The verdict on one attempt. */
typedef struct nudge_class {
	enum nudge_delivery_status status;
	int retry;	/* another attempt may succeed and cannot deliver
			   twice: retried while retries remain */
	int temporary;	/* a failure for now only (4xx, 429, 5xx, a
			   refused or lost connection, exit 75): counted
			   as tempfail, the run exits EX_TEMPFAIL */
	enum nudge_stop stop;	/* NONE or RUN; the breaker is the
				   transport's */
	int trouble;	/* the peer is failing (5xx, no connection, no
			   answer): counts toward the circuit breaker */
	const char *reason;	/* smtp 5xx: why, in bounce.h's words
				   ("userunknown", "blocked"), else NULL */
	int sender_side;	/* the refusal is our fault (bounce.h), not
				   the recipient's: counted against the run */
} nudge_class;

/* Classifies w into c.  The rules, one table (nudge-send(1), OUTCOMES):
 * smtp: no error: sent.  The end of data went out and no answer came:
 * maybe delivered, not retried.  530/535 or a refused login, TLS refused
 * or not trusted, a bad URL: not sent, the run stops.  A 5xx is read
 * for its reason (bounce.h: nudge_bounce_classify over the reply): a hard
 * one (the address is dead) is bounced, which suppresses the recipient;
 * a soft or sender-side one (a full mailbox; our IP on a blocklist, SPF,
 * content judged spam) is failed, and sender_side says which.  Anything else (a 4xx, a refused, lost
 * or timed-out connection before the end of data): not sent, retried.
 * http: answer_ok: sent (not_api: maybe delivered).  401, 403: not sent,
 * the run stops.  429, 503: not sent, retried if retryable.  Another
 * retryable status: maybe delivered, retried.  Another: failed.  No
 * answer: before the request went out, not sent (retried, or the run
 * stops for a certificate or URL error); after, maybe delivered,
 * retried only when idempotent.
 * exec: exit 0: sent; 75: not sent, temporary; 126, 127 (cannot run):
 * not sent, the run stops; killed by a signal: maybe delivered; another
 * exit: failed.  file: rc 0: sent; an errno: not sent, the run stops. */
void nudge_outcome_classify(const nudge_seen *w, nudge_class *c);

/* "sent", "not-sent", "unknown", "bounced", "failed". */
const char *nudge_delivery_status_name(enum nudge_delivery_status s);

#endif
