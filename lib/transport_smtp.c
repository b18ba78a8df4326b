/* transport_smtp: the smtp(s):// side of the libcurl transfers: the
 * callbacks that feed a message and keep the server's last reply, and
 * how a failed SMTP transfer is classified. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "transport_int.h"

size_t
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
size_t
header_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct slot *s = ud;

	nudge_transport_smtp_line(s->reply, sizeof s->reply, buf,
	    size * nmemb);
	return size * nmemb;
}

size_t
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
