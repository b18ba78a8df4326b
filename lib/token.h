/* token: HMAC-SHA256 signed tracking and unsubscribe tokens (the /o/, /c/
 * and /u/ paths of nudge-track(1)), URL-safe base64, and the small
 * crypto helpers the tracking endpoints share. */
#ifndef NUDGE_TOKEN_H
#define NUDGE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum nudge_token_kind {
	NUDGE_TOKEN_OPEN = 1,   /* /o/: the open pixel */
	NUDGE_TOKEN_CLICK = 2,  /* /c/: a link, sealed in the token */
	NUDGE_TOKEN_UNSUB = 3,  /* /u/: unsubscribe */
	NUDGE_TOKEN_CONFIRM = 4, /* /s/confirm/: a sign-up's confirmation
				    (signup.h) */
};

/* How long a token is good for, from the send: opens and clicks a year,
 * unsubscribe links three (a recipient may act on an old message). */
#define NUDGE_TOKEN_TTL (365 * 86400LL)
#define NUDGE_TOKEN_UNSUB_TTL (3 * 365 * 86400LL)
/* A confirmation link: a week; the form's expire: refuses older
 * requests before that. */
#define NUDGE_TOKEN_CONFIRM_TTL (7 * 86400LL)

/* The bytes of the MAC kept in a token: HMAC-SHA256 cut to 128 bits
 * (RFC 2104 section 5), so that SMS links stay short. */
#define NUDGE_TOKEN_MAC 16

/* What a token says.  The message is named by its ledger key (campaign,
 * step, contact): unique in the ledger, and known when the message is
 * rendered, before its row is claimed.  Strings are borrowed: after
 * nudge_token_open they point into the caller's scratch buffer. */
typedef struct nudge_token {
	enum nudge_token_kind kind;
	int64_t campaign_id;
	int64_t contact_id;
	const char *step;       /* "" or a step name */
	int64_t expires;        /* Unix seconds */
	const char *link;       /* NUDGE_TOKEN_CLICK: the URL; else NULL */
	size_t link_len;
} nudge_token;

/* Appends the token for t, signed with key[0..keylen), to out: URL-safe
 * base64 (RFC 4648 section 5, no padding) of a version and kind byte,
 * the numbers as varints, the step, the link and the MAC.
 * Errors: EX_DATAERR (a negative number, a step over 255 bytes, an empty
 * key, a click without a link or with a NUL in it, a token longer than
 * nudge_token_open reads), EX_OSERR. */
int nudge_token_seal(const nudge_token *t, const void *key, size_t keylen,
    nudge_buf *out, nudge_err *err);

enum nudge_token_verdict {
	NUDGE_TOKEN_OK,
	NUDGE_TOKEN_BAD,       /* malformed, truncated or forged */
	NUDGE_TOKEN_EXPIRED,   /* good signature, expires < now */
};

/* Checks the token s[0..n) against key and now; on NUDGE_TOKEN_OK fills
 * t, whose strings then point into scratch (reset first).  The MAC is
 * compared in constant time, before anything in the payload is trusted.
 * Returns the verdict; an internal failure (memory) is NUDGE_TOKEN_BAD
 * too, since a request can only be refused then. */
enum nudge_token_verdict nudge_token_open(const char *s, size_t n,
    const void *key, size_t keylen, int64_t now, nudge_token *t,
    nudge_buf *scratch);

/* Appends base64 of p[0..n) to out: URL-safe without padding when url is
 * set, else the standard alphabet with padding.  0 or -1 (memory). */
int nudge_b64_encode(nudge_buf *out, const void *p, size_t n, int url);

/* Decodes s[0..n) (URL-safe alphabet, no padding, when url is set; else
 * standard with optional padding) and appends the bytes to out.  Refuses
 * characters outside the alphabet, impossible lengths and non-zero
 * trailing bits (so each token has one spelling).  0 or -1. */
int nudge_b64_decode(nudge_buf *out, const char *s, size_t n, int url);

/* HMAC of msg with key: SHA-256 (mdlen 32) or SHA-1 (mdlen 20, Twilio's
 * scheme) into md.  0, or -1 when OpenSSL fails. */
int nudge_hmac(int mdlen, const void *key, size_t keylen, const void *msg,
    size_t n, unsigned char *md);

/* The confirmation code of a sign-up by SMS (signup.c): six digits from
 * the HMAC-SHA256 of "code:CONTACT:EVENT" (EVENT the request's
 * signup_pending event) with key, so that send writes it and track checks
 * it without the store keeping it.  out gets 6 digits and a NUL.  0, or
 * -1 when OpenSSL fails. */
int nudge_token_code(const void *key, size_t keylen, int64_t contact,
    int64_t event, char out[7]);

/* Constant-time equality of a[0..n) and b[0..n). */
int nudge_ct_equal(const void *a, const void *b, size_t n);

/* Appends base/KIND/TOKEN for the message (campaign_id, step, contact)
 * to out: kind 'o' (open pixel), 'c' (a click on link[0..len)), 'u'
 * (unsubscribe) or 's' (base/s/confirm/TOKEN: a sign-up's confirmation);
 * the token expires NUDGE_TOKEN_TTL (or _UNSUB_TTL, _CONFIRM_TTL)
 * after now.  Errors: EX_DATAERR (a link with a control character or a
 * space), EX_OSERR. */
int nudge_track_url(nudge_buf *out, const char *base, const void *key,
    size_t keylen, char kind, int64_t campaign_id, const char *step,
    int64_t contact_id, const char *link, size_t len, int64_t now,
    nudge_err *err);

#endif
