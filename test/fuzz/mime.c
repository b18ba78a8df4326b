/* Fuzz target mime: a message built from hostile fields -- names, the
 * subject, addresses, URLs, an extra header and the bodies taken from the
 * input (NUL-separated; the text body is the rest, NULs and all).  A built
 * message has CRLF line ends only, no line over 998 octets, and a header
 * block whose every line is a continuation or one of the headers asked
 * for: no field can add a header. */
#include "fuzz.h"

#include <strings.h>

#include "mime.h"

static const char *const allowed[] = { "From", "To", "Reply-To", "Subject",
	"Date", "Message-ID", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "List-Unsubscribe",
	"List-Unsubscribe-Post", "X-Campaign" };

static void
check_message(const char *s, size_t n)
{
	size_t i, start = 0, nallowed = sizeof allowed / sizeof allowed[0];
	int in_headers = 1;

	CHECK(n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n');
	for (i = 0; i < n; i++) {
		if (s[i] == '\r')
			CHECK(i + 1 < n && s[i + 1] == '\n');
		else if (s[i] == '\n')
			CHECK(i > 0 && s[i - 1] == '\r');
		else
			continue;
		if (s[i] == '\r')
			continue;
		/* a line s[start .. i-1), its CR excluded */
		CHECK(i - 1 - start <= 998);
		if (in_headers) {
			const char *l = s + start, *colon;
			size_t len = i - 1 - start, k;

			if (len == 0) {
				in_headers = 0;
			} else if (l[0] != ' ' && l[0] != '\t') {
				colon = memchr(l, ':', len);
				CHECK(colon != NULL);
				for (k = 0; k < nallowed; k++)
					if (strlen(allowed[k]) ==
					    (size_t)(colon - l) &&
					    strncasecmp(l, allowed[k],
					    (size_t)(colon - l)) == 0)
						break;
				if (k == nallowed) {
					fprintf(stderr, "injected header: "
					    "%.*s\n", (int)len, l);
					abort();
				}
			}
		}
		start = i + 1;
	}
	CHECK(!in_headers);
	CHECK(memchr(s, '\0', n) == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nudge_mime_msg m = { 0 };
	nudge_mime_header extra[1];
	nudge_buf out = { 0 };
	nudge_err err;
	char *buf, *f[12];
	char name[256], addr[256];
	size_t n, last;
	int rc;

	if (size > 200000)
		return 0;
	n = fuzz_split(data, size, &buf, f, 12, &last);
	m.from_addr = "news@shop.example";
	m.to_addr = "ann@example.com";
	m.date = FUZZ_NOW;
	m.seed = 1;
	m.text = "";
	/* the fields in order; each present only when the input has it */
	switch (n) {
	default:
	case 12: m.html = f[10]; m.html_len = strlen(f[10]);
		/* fall through */
	case 11: m.preheader = f[9];
		/* fall through */
	case 10: m.unsub_https = f[8][0] != '\0' ? f[8] : NULL;
		/* fall through */
	case 9: m.unsub_mailto = f[7][0] != '\0' ? f[7] : NULL;
		/* fall through */
	case 8: extra[0].name = "X-Campaign";
		extra[0].value = f[6];
		m.extra = extra;
		m.nextra = 1;
		/* fall through */
	case 7: m.msgid_key = f[5][0] != '\0' ? f[5] : NULL;
		/* fall through */
	case 6: m.reply_to = f[4][0] != '\0' ? f[4] : NULL;
		/* fall through */
	case 5: if (f[3][0] != '\0') m.to_addr = f[3];
		/* fall through */
	case 4: m.to_name = f[2];
		/* fall through */
	case 3: m.from_name = f[1];
		/* fall through */
	case 2: m.subject = f[0];
		/* fall through */
	case 1: break;
	}
	m.text = f[n - 1];
	m.text_len = last;
	if (n == 1)
		m.subject = f[0];
	err.msg[0] = '\0';
	rc = nudge_mime_build(&m, &out, &err);
	if (rc == 0)
		check_message(out.s, out.len);
	else
		CHECK(rc == EX_DATAERR && err.msg[0] != '\0');
	/* the From: a template renders, split */
	if (nudge_mime_mailbox(f[0], name, sizeof name, addr, sizeof addr,
	    &err) == 0) {
		CHECK(memchr(name, '\0', sizeof name) != NULL);
		CHECK(memchr(addr, '\0', sizeof addr) != NULL);
	}
	nudge_buf_free(&out);
	free(buf);
	return 0;
}
