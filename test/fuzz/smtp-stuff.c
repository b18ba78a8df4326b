/* Fuzz target smtp-stuff: a message made SMTP DATA content by
 * nudge_transport_smtp_stuff (transport_smtpwire.c).  Its invariants:
 * every line ends in CRLF, the end of data comes once and last, and
 * undoing the dot-stuffing gives the input back with its bare LFs made
 * CRLF (and a CRLF added when the input did not end a line). */
#include "fuzz.h"

#include "transport.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	nudge_buf out = { 0 }, want = { 0 }, back = { 0 };
	size_t i, bol;

	if (size > 65536)
		return 0;
	CHECK(nudge_transport_smtp_stuff(&out, in, size) == 0);
	/* the input with every line end CRLF, ending in one */
	for (i = 0; i < size; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			nudge_buf_putc(&want, '\r');
		nudge_buf_putc(&want, in[i]);
	}
	if (size > 0 && in[size - 1] != '\n')
		nudge_buf_puts(&want, "\r\n");
	CHECK(!want.failed);
	/* every LF of the output after a CR */
	for (i = 0; i < out.len; i++)
		CHECK(out.s[i] != '\n' || (i > 0 && out.s[i - 1] == '\r'));
	/* the end of data last, and no line of one dot before it */
	CHECK(out.len >= 3 && memcmp(out.s + out.len - 3, ".\r\n", 3) == 0);
	CHECK(out.len == 3 || (out.len >= 5 &&
	    memcmp(out.s + out.len - 5, "\r\n.\r\n", 5) == 0));
	/* unstuffed, line by line: a leading dot taken off */
	for (bol = 0; bol < out.len - 3; ) {
		const char *nl = memchr(out.s + bol, '\n', out.len - 3 - bol);
		size_t end = nl != NULL ? (size_t)(nl - out.s) + 1 : out.len - 3;

		CHECK(!(end - bol == 3 && memcmp(out.s + bol, ".\r\n", 3) ==
		    0));
		if (out.s[bol] == '.') {
			CHECK(end - bol >= 2 && out.s[bol + 1] == '.');
			bol++;
		}
		nudge_buf_add(&back, out.s + bol, end - bol);
		bol = end;
	}
	CHECK(!back.failed);
	CHECK(back.len == want.len && (want.len == 0 ||
	    memcmp(back.s, want.s, want.len) == 0));
	nudge_buf_free(&out);
	nudge_buf_free(&want);
	nudge_buf_free(&back);
	return 0;
}
