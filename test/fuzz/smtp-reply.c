/* Fuzz target smtp-reply: SMTP server reply lines (one per input line,
 * as libcurl hands them to the header callback) kept as the transport
 * keeps them, then the failure classified from the last reply's code, a
 * libcurl code and error text taken from the input (after the end of
 * data when the last reply is a 354).  The kept line has
 * no control characters. */
#include "fuzz.h"

#include "transport.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reply[256] = "", errbuf[256];
	const char *p = (const char *)data, *end = p + size, *nl;
	nudge_delivery d;
	long code = 0;
	size_t k;
	int rc, after;

	if (size < 2 || size > 65536)
		return 0;
	/* first byte: the CURLcode; then the error text up to a NUL */
	rc = (unsigned char)*p++;
	nl = memchr(p, '\0', (size_t)(end - p));
	k = nl != NULL ? (size_t)(nl - p) : 0;
	if (k >= sizeof errbuf)
		k = sizeof errbuf - 1;
	memcpy(errbuf, p, k);
	errbuf[k] = '\0';
	if (nl != NULL)
		p = nl + 1;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		k = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		nudge_transport_smtp_line(reply, sizeof reply, p, k);
		CHECK(memchr(reply, '\0', sizeof reply) != NULL);
		p += k;
	}
	/* no control character from the server (a CR, an escape sequence)
	 * reaches the detail that send prints and the ledger keeps */
	for (k = 0; reply[k] != '\0'; k++)
		CHECK((unsigned char)reply[k] >= 0x20 && reply[k] != 0x7f);
	if (k >= 3 && reply[0] >= '1' && reply[0] <= '5' &&
	    reply[1] >= '0' && reply[1] <= '9' && reply[2] >= '0' &&
	    reply[2] <= '9')
		code = strtol(reply, NULL, 10) / (k > 3 && reply[3] >= '0' &&
		    reply[3] <= '9' ? 10 : 1);
	if (rc == 0)
		rc = 56;	/* CURLE_RECV_ERROR: only failures come here */
	memset(&d, 0, sizeof d);
	after = strncmp(reply, "354", 3) == 0;
	nudge_transport_smtp_failure(code, rc, errbuf, reply, after, &d);
	CHECK(d.status == NUDGE_NOT_SENT || d.status == NUDGE_FAILED ||
	    d.status == NUDGE_BOUNCED || d.status == NUDGE_UNKNOWN);
	CHECK((d.status == NUDGE_UNKNOWN) == (after != 0));
	CHECK(memchr(d.detail, '\0', sizeof d.detail) != NULL);
	CHECK(d.status != NUDGE_BOUNCED || code >= 500);
	CHECK(code < 400 || code >= 500 || d.status == NUDGE_NOT_SENT);
	CHECK(d.status != NUDGE_NOT_SENT || d.temporary ||
	    d.stop == NUDGE_STOP_RUN);
	CHECK(d.code == 0 || d.code == (int)code);
	(void)nudge_delivery_status_name(d.status);
	return 0;
}
