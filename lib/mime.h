/* mime: builds an RFC 5322 + MIME message (text and HTML alternatives,
 * RFC 2047 encoded words, List-Unsubscribe) that no field can break out
 * of. */
#ifndef NUDGE_MIME_H
#define NUDGE_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct nudge_mime_header {
	const char *name;   /* a header name: printable ASCII, no ':' */
	const char *value;  /* UTF-8; control characters become spaces */
} nudge_mime_header;

/* What a message is built from.  Strings are NUL-terminated UTF-8;
 * optional ones are NULL.  Names, the subject and extra header values may
 * hold anything: a run of control characters (CR, LF, tab...) and spaces
 * becomes one space, and they are trimmed; a NUL ends the string.
 * Addresses are checked instead, and refused when they hold a control
 * character, a space, one of <>,;"()[]\ or non-ASCII, or not one '@'. */
typedef struct nudge_mime_msg {
	const char *from_addr, *from_name;   /* from_addr required */
	const char *to_addr, *to_name;       /* to_addr required */
	const char *reply_to;                /* an address */
	const char *subject;
	int64_t date;                        /* Unix seconds, shown in UTC */
	const char *msgid_domain;            /* default: from_addr's domain */
	const char *msgid_key;               /* e.g. the ledger key: the
						Message-ID is derived from it,
						else random */
	const char *text;                    /* the text/plain body */
	size_t text_len;
	const char *html;                    /* text/html alternative */
	size_t html_len;
	const char *preheader;               /* hidden preview text in HTML */
	const char *unsub_mailto;            /* "mailto:..." */
	const char *unsub_https;             /* "https://...": also adds
						List-Unsubscribe-Post */
	const nudge_mime_header *extra;
	size_t nextra;
	uint64_t seed;                       /* tests: non-zero fixes the
						boundary and a random
						Message-ID */
} nudge_mime_msg;

/* Appends the message m to out, with CRLF line ends, no line over 998
 * octets (header lines folded near 78), the bodies quoted-printable or
 * base64 (whichever is shorter) and a multipart/alternative boundary that
 * cannot occur in them.  Returns 0, EX_DATAERR for a refused address,
 * URL or header name (err says which), or EX_OSERR. */
int nudge_mime_build(const nudge_mime_msg *m, nudge_buf *out, nudge_err *err);

/* Splits a mailbox "Display Name <addr>" or a bare "addr" (as a template's
 * From: renders) into name (may become empty) and addr, copied into
 * name[0..namelen) and addr[0..addrlen).  Returns 0, or EX_DATAERR. */
int nudge_mime_mailbox(const char *s, char *name, size_t namelen,
    char *addr, size_t addrlen, nudge_err *err);

#endif
