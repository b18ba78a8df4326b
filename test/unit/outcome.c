/* Unit tests for outcome: the table of what a transport saw (libcurl's
 * code, the SMTP stage and reply, the HTTP status, the exit status of an
 * exec: command) and what it means: delivered, surely not delivered (the
 * claim given back), maybe delivered (unknown), refused for this
 * recipient; retried or not; temporary or not; whether the run stops.
 * The same table is in nudge-send(1), OUTCOMES. */
#include <stdio.h>
#include <sys/wait.h>

#include <curl/curl.h>

#include "outcome.h"
#include "tap.h"

#define EXITED(n) ((n) << 8)	/* a wait(2) status: exit n */
#define KILLED(s) (s)		/* a wait(2) status: killed by signal s */

enum { S = NUDGE_SENT, N = NUDGE_NOT_SENT, U = NUDGE_UNKNOWN,
	B = NUDGE_BOUNCED, F = NUDGE_FAILED };
enum { GO = NUDGE_STOP_NONE, RUN = NUDGE_STOP_RUN };

/* w: what was seen; then the verdict: status, retry, temporary, stop. */
static const struct row {
	const char *what;
	nudge_seen w;
	int status, retry, temporary, stop;
} rows[] = {
	/* ---- smtp: only the reply to the end of data accepts ---- */
	{ "smtp: 250 to the end of data",
	    { NUDGE_VIA_SMTP, CURLE_OK, 250, 0, 0, 0, 0, 0, 0, 0, NULL },
	    S, 0, 0, GO },
	{ "smtp: nothing listening (CURLE_COULDNT_CONNECT)",
	    { NUDGE_VIA_SMTP, CURLE_COULDNT_CONNECT, 0, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 1, 1, GO },
	{ "smtp: no such host (CURLE_COULDNT_RESOLVE_HOST)",
	    { NUDGE_VIA_SMTP, CURLE_COULDNT_RESOLVE_HOST, 0, 0, 0, 0, 0, 0, 0,
	    0, NULL }, N, 1, 1, GO },
	{ "smtp: no proxy (CURLE_COULDNT_RESOLVE_PROXY)",
	    { NUDGE_VIA_SMTP, CURLE_COULDNT_RESOLVE_PROXY, 0, 0, 0, 0, 0, 0, 0,
	    0, NULL }, N, 1, 1, GO },
	{ "smtp: TLS handshake failed (CURLE_SSL_CONNECT_ERROR)",
	    { NUDGE_VIA_SMTP, CURLE_SSL_CONNECT_ERROR, 0, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 1, 1, GO },
	{ "smtp: no STARTTLS, TLS required (CURLE_USE_SSL_FAILED)",
	    { NUDGE_VIA_SMTP, CURLE_USE_SSL_FAILED, 250, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 0, 0, RUN },
	{ "smtp: certificate not trusted (CURLE_PEER_FAILED_VERIFICATION)",
	    { NUDGE_VIA_SMTP, CURLE_PEER_FAILED_VERIFICATION, 0, 0, 0, 0, 0, 0,
	    0, 0, NULL }, N, 0, 0, RUN },
	{ "smtp: CA file unreadable (CURLE_SSL_CACERT_BADFILE)",
	    { NUDGE_VIA_SMTP, CURLE_SSL_CACERT_BADFILE, 0, 0, 0, 0, 0, 0, 0,
	    0, NULL }, N, 0, 0, RUN },
	{ "smtp: bad URL (CURLE_URL_MALFORMAT)",
	    { NUDGE_VIA_SMTP, CURLE_URL_MALFORMAT, 0, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 0, 0, RUN },
	{ "smtp: 535 to AUTH (CURLE_LOGIN_DENIED)",
	    { NUDGE_VIA_SMTP, CURLE_LOGIN_DENIED, 535, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 0, 0, RUN },
	{ "smtp: login refused, no code (CURLE_LOGIN_DENIED)",
	    { NUDGE_VIA_SMTP, CURLE_LOGIN_DENIED, 0, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 0, 0, RUN },
	{ "smtp: 530 authentication required",
	    { NUDGE_VIA_SMTP, CURLE_SEND_ERROR, 530, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 0, 0, RUN },
	{ "smtp: 454 to AUTH (temporary)",
	    { NUDGE_VIA_SMTP, CURLE_LOGIN_DENIED, 454, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 1, 1, GO },
	{ "smtp: 421 to the greeting",
	    { NUDGE_VIA_SMTP, CURLE_WEIRD_SERVER_REPLY, 421, 0, 0, 0, 0, 0, 0,
	    0, NULL }, N, 1, 1, GO },
	{ "smtp: 451 to MAIL FROM",
	    { NUDGE_VIA_SMTP, CURLE_SEND_ERROR, 451, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 1, 1, GO },
	{ "smtp: 451 to RCPT TO",
	    { NUDGE_VIA_SMTP, CURLE_SEND_ERROR, 451, 1, 0, 0, 0, 0, 0, 0, NULL },
	    N, 1, 1, GO },
	{ "smtp: 452 to the end of data",
	    { NUDGE_VIA_SMTP, CURLE_WEIRD_SERVER_REPLY, 452, 0, 0, 0, 0, 0, 0,
	    0, NULL }, N, 1, 1, GO },
	{ "smtp: 550 5.1.1 to RCPT TO: a bounce",
	    { NUDGE_VIA_SMTP, CURLE_SEND_ERROR, 550, 1, 0, 0, 0, 0, 0, 0,
	    "550 5.1.1 <ann@example.com>: Recipient address rejected: User "
	    "unknown" }, B, 0, 0, GO },
	{ "smtp: 554 5.7.1 to RCPT TO, our IP on a blocklist: failed, "
	    "not a bounce",
	    { NUDGE_VIA_SMTP, CURLE_SEND_ERROR, 554, 1, 0, 0, 0, 0, 0, 0,
	    "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked "
	    "using zen.spamhaus.org" }, F, 0, 0, GO },
	{ "smtp: 552 5.2.2 to RCPT TO, mailbox full: failed, not a bounce",
	    { NUDGE_VIA_SMTP, CURLE_SEND_ERROR, 552, 1, 0, 0, 0, 0, 0, 0,
	    "552 5.2.2 Mailbox full" }, F, 0, 0, GO },
	{ "smtp: 550 to RCPT TO with no reason given: failed, not a bounce",
	    { NUDGE_VIA_SMTP, CURLE_SEND_ERROR, 550, 1, 0, 0, 0, 0, 0, 0, NULL },
	    F, 0, 0, GO },
	{ "smtp: 550 to MAIL FROM",
	    { NUDGE_VIA_SMTP, CURLE_SEND_ERROR, 550, 0, 0, 0, 0, 0, 0, 0, NULL },
	    F, 0, 0, GO },
	{ "smtp: 554 to the end of data",
	    { NUDGE_VIA_SMTP, CURLE_WEIRD_SERVER_REPLY, 554, 0, 0, 0, 0, 0, 0,
	    0, NULL }, F, 0, 0, GO },
	{ "smtp: larger than SIZE (CURLE_FILESIZE_EXCEEDED)",
	    { NUDGE_VIA_SMTP, CURLE_FILESIZE_EXCEEDED, 250, 0, 0, 0, 0, 0, 0,
	    0, NULL }, F, 0, 0, GO },
	{ "smtp: connection lost before the end of data (CURLE_SEND_ERROR)",
	    { NUDGE_VIA_SMTP, CURLE_SEND_ERROR, 354, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 1, 1, GO },
	{ "smtp: connection lost before DATA (CURLE_RECV_ERROR)",
	    { NUDGE_VIA_SMTP, CURLE_RECV_ERROR, 250, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 1, 1, GO },
	{ "smtp: closed with nothing (CURLE_GOT_NOTHING)",
	    { NUDGE_VIA_SMTP, CURLE_GOT_NOTHING, 0, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 1, 1, GO },
	{ "smtp: timed out before the end of data",
	    { NUDGE_VIA_SMTP, CURLE_OPERATION_TIMEDOUT, 250, 0, 0, 0, 0, 0, 0,
	    0, NULL }, N, 1, 1, GO },
	{ "smtp: out of memory",
	    { NUDGE_VIA_SMTP, CURLE_OUT_OF_MEMORY, 0, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 1, 1, GO },
	{ "smtp: timed out after the end of data (RFC 1047)",
	    { NUDGE_VIA_SMTP, CURLE_OPERATION_TIMEDOUT, 354, 0, 1, 0, 0, 0, 0,
	    0, NULL }, U, 0, 0, GO },
	{ "smtp: connection lost after the end of data",
	    { NUDGE_VIA_SMTP, CURLE_RECV_ERROR, 354, 0, 1, 0, 0, 0, 0, 0, NULL },
	    U, 0, 0, GO },
	{ "smtp: closed after the end of data",
	    { NUDGE_VIA_SMTP, CURLE_GOT_NOTHING, 354, 0, 1, 0, 0, 0, 0, 0, NULL },
	    U, 0, 0, GO },

	/* ---- http: a provider through its profile ---- */
	{ "http: 201 with the id",
	    { NUDGE_VIA_HTTP, CURLE_OK, 201, 0, 0, 0, 1, 0, 0, 0, NULL },
	    S, 0, 0, GO },
	{ "http: 200 but a web page, not the API",
	    { NUDGE_VIA_HTTP, CURLE_OK, 200, 0, 0, 0, 1, 1, 0, 0, NULL },
	    U, 0, 0, GO },
	{ "http: 400 invalid number",
	    { NUDGE_VIA_HTTP, CURLE_OK, 400, 0, 0, 0, 0, 0, 0, 0, NULL },
	    F, 0, 0, GO },
	{ "http: 401 credentials refused",
	    { NUDGE_VIA_HTTP, CURLE_OK, 401, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 0, 0, RUN },
	{ "http: 403 forbidden",
	    { NUDGE_VIA_HTTP, CURLE_OK, 403, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 0, 0, RUN },
	{ "http: 404, not retryable",
	    { NUDGE_VIA_HTTP, CURLE_OK, 404, 0, 0, 0, 0, 0, 0, 0, NULL },
	    F, 0, 0, GO },
	{ "http: 429 too many requests",
	    { NUDGE_VIA_HTTP, CURLE_OK, 429, 0, 0, 0, 0, 0, 1, 0, NULL },
	    N, 1, 1, GO },
	{ "http: 503 unavailable",
	    { NUDGE_VIA_HTTP, CURLE_OK, 503, 0, 0, 0, 0, 0, 1, 1, NULL },
	    N, 1, 1, GO },
	{ "http: 500, retryable: it may have acted",
	    { NUDGE_VIA_HTTP, CURLE_OK, 500, 0, 0, 0, 0, 0, 1, 1, NULL },
	    U, 1, 1, GO },
	{ "http: 502, retryable",
	    { NUDGE_VIA_HTTP, CURLE_OK, 502, 0, 0, 0, 0, 0, 1, 0, NULL },
	    U, 1, 1, GO },
	{ "http: 500, not retryable in the profile",
	    { NUDGE_VIA_HTTP, CURLE_OK, 500, 0, 0, 0, 0, 0, 0, 0, NULL },
	    F, 0, 0, GO },
	{ "http: nothing listening",
	    { NUDGE_VIA_HTTP, CURLE_COULDNT_CONNECT, 0, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 1, 1, GO },
	{ "http: no such host",
	    { NUDGE_VIA_HTTP, CURLE_COULDNT_RESOLVE_HOST, 0, 0, 0, 0, 0, 0, 0,
	    0, NULL }, N, 1, 1, GO },
	{ "http: TLS handshake failed",
	    { NUDGE_VIA_HTTP, CURLE_SSL_CONNECT_ERROR, 0, 0, 0, 1, 0, 0, 0, 0, NULL },
	    N, 1, 1, GO },
	{ "http: certificate not trusted",
	    { NUDGE_VIA_HTTP, CURLE_PEER_FAILED_VERIFICATION, 0, 0, 0, 1, 0, 0,
	    0, 0, NULL }, N, 0, 0, RUN },
	{ "http: bad URL",
	    { NUDGE_VIA_HTTP, CURLE_URL_MALFORMAT, 0, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 0, 0, RUN },
	{ "http: lost before the request went out",
	    { NUDGE_VIA_HTTP, CURLE_SEND_ERROR, 0, 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 1, 1, GO },
	{ "http: timed out after the request, no idempotency key",
	    { NUDGE_VIA_HTTP, CURLE_OPERATION_TIMEDOUT, 0, 0, 0, 1, 0, 0, 0,
	    0, NULL }, U, 0, 0, GO },
	{ "http: timed out after the request, idempotent",
	    { NUDGE_VIA_HTTP, CURLE_OPERATION_TIMEDOUT, 0, 0, 0, 1, 0, 0, 0,
	    1, NULL }, U, 1, 1, GO },
	{ "http: closed with no answer (CURLE_GOT_NOTHING)",
	    { NUDGE_VIA_HTTP, CURLE_GOT_NOTHING, 0, 0, 0, 1, 0, 0, 0, 0, NULL },
	    U, 0, 0, GO },
	{ "http: connection reset after the request (CURLE_RECV_ERROR)",
	    { NUDGE_VIA_HTTP, CURLE_RECV_ERROR, 0, 0, 0, 1, 0, 0, 0, 1, NULL },
	    U, 1, 1, GO },
	{ "http: an answer that is not HTTP (CURLE_UNSUPPORTED_PROTOCOL)",
	    { NUDGE_VIA_HTTP, CURLE_UNSUPPORTED_PROTOCOL, 0, 0, 0, 1, 0, 0, 0,
	    0, NULL }, U, 0, 0, GO },
	{ "http: the answer cut short (CURLE_PARTIAL_FILE)",
	    { NUDGE_VIA_HTTP, CURLE_PARTIAL_FILE, 200, 0, 0, 1, 0, 0, 0, 0, NULL },
	    U, 0, 0, GO },

	/* ---- exec: the command's exit ---- */
	{ "exec: exit 0",
	    { NUDGE_VIA_EXEC, 0, EXITED(0), 0, 0, 0, 0, 0, 0, 0, NULL },
	    S, 0, 0, GO },
	{ "exec: exit 75 (EX_TEMPFAIL)",
	    { NUDGE_VIA_EXEC, 0, EXITED(75), 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 0, 1, GO },
	{ "exec: exit 1",
	    { NUDGE_VIA_EXEC, 0, EXITED(1), 0, 0, 0, 0, 0, 0, 0, NULL },
	    F, 0, 0, GO },
	{ "exec: exit 69 (EX_UNAVAILABLE)",
	    { NUDGE_VIA_EXEC, 0, EXITED(69), 0, 0, 0, 0, 0, 0, 0, NULL },
	    F, 0, 0, GO },
	{ "exec: exit 126 (cannot run)",
	    { NUDGE_VIA_EXEC, 0, EXITED(126), 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 0, 0, RUN },
	{ "exec: exit 127 (no such command)",
	    { NUDGE_VIA_EXEC, 0, EXITED(127), 0, 0, 0, 0, 0, 0, 0, NULL },
	    N, 0, 0, RUN },
	{ "exec: killed by SIGKILL",
	    { NUDGE_VIA_EXEC, 0, KILLED(9), 0, 0, 0, 0, 0, 0, 0, NULL },
	    U, 0, 0, GO },
	{ "exec: killed by SIGPIPE",
	    { NUDGE_VIA_EXEC, 0, KILLED(13), 0, 0, 0, 0, 0, 0, 0, NULL },
	    U, 0, 0, GO },

	/* ---- file: the rename into new/ ---- */
	{ "file: written",
	    { NUDGE_VIA_FILE, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL }, S, 0, 0, GO },
	{ "file: not written (ENOSPC)",
	    { NUDGE_VIA_FILE, 28, 0, 0, 0, 0, 0, 0, 0, 0, NULL }, N, 0, 0, RUN },
};

int
main(void)
{
	const char *name[] = { "sent", "not-sent", "unknown", "bounced",
	    "failed" };
	nudge_class c;
	size_t i;
	int st;

	/* the wait(2) encoding assumed by EXITED and KILLED */
	st = EXITED(75);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 75, "EXITED(75) is exit 75");
	st = KILLED(9);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == 9, "KILLED(9) is SIGKILL");

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		char want[200], got[200];

		nudge_outcome_classify(&r->w, &c);
		snprintf(want, sizeof want, "%s%s%s%s",
		    name[r->status], r->retry ? ", retried" : "",
		    r->temporary ? ", temporary" : "",
		    r->stop == RUN ? ", stops the run" : "");
		snprintf(got, sizeof got, "%s%s%s%s",
		    nudge_delivery_status_name(c.status),
		    c.retry ? ", retried" : "",
		    c.temporary ? ", temporary" : "",
		    c.stop == NUDGE_STOP_RUN ? ", stops the run" :
		    c.stop == NUDGE_STOP_CHANNEL ? ", stops the channel" : "");
		is_str(got, want, r->what);
	}

	/* the invariants over every CURLcode and reply class */
	for (i = 0; i < CURL_LAST; i++) {
		static const int codes[] = { 0, 220, 250, 354, 421, 451, 530,
		    535, 550, 554 };
		size_t k;
		int bad = 0;

		for (k = 0; k < sizeof codes / sizeof codes[0]; k++) {
			nudge_seen w = { NUDGE_VIA_SMTP, (int)i, codes[k], 0,
			    0, 0, 0, 0, 0, 0, NULL };

			nudge_outcome_classify(&w, &c);
			/* before the end of data nothing can have arrived */
			if (i != CURLE_OK && c.status != NUDGE_NOT_SENT &&
			    c.status != NUDGE_FAILED &&
			    c.status != NUDGE_BOUNCED)
				bad = 1;
			/* a retry only of what surely did not leave */
			if (c.retry && c.status != NUDGE_NOT_SENT)
				bad = 1;
			/* 4xx: not sent, and retried */
			if (i != CURLE_OK && codes[k] >= 400 && codes[k] < 500 &&
			    (c.status != NUDGE_NOT_SENT || !c.retry))
				bad = 1;
			w.after_data = 1;
			nudge_outcome_classify(&w, &c);
			if (i != CURLE_OK && (c.status != NUDGE_UNKNOWN ||
			    c.retry))
				bad = 1;
		}
		if (bad) {
			ok(0, "smtp invariants");
			printf("#   CURLcode %zu\n", i);
			break;
		}
	}
	if (i == CURL_LAST)
		ok(1, "smtp, every CURLcode: not delivered before the end of "
		    "data, unknown after it, only what did not leave retried");
	return done_testing();
}
