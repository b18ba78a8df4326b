/* links: tracked links in outgoing messages — HTML hrefs and the URLs of
 * text, SMS and push bodies become base/c/TOKEN, HTML gets the open
 * pixel, and each message gets its unsubscribe URL base/u/TOKEN. */
#ifndef NUDGE_LINKS_H
#define NUDGE_LINKS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "template.h"
#include "util.h"

typedef struct nudge_links nudge_links;

/* The message whose links are being made: its ledger key and the time
 * the tokens count their expiry from. */
typedef struct nudge_links_msg {
	int64_t campaign_id;
	const char *step;     /* "" or a step */
	int64_t contact_id;
	int64_t now;
} nudge_links_msg;

/* Sets *out to NULL when cfg has no tracking: base_url (nothing is
 * rewritten then), else reads the tracking secret and prepares.
 * Errors: EX_USAGE (a base_url without a secret), the secret's errors
 * (nudge_config_secret), EX_OSERR. */
int nudge_links_open(nudge_links **out, const nudge_config *cfg,
    nudge_err *err);
/* Sets *out to a copy of l with its own scratch buffers (NULL for a
 * NULL l), for another thread: one nudge_links is used by one thread at
 * a time (nudge_links_rewrite writes its buffers).  Errors: EX_OSERR. */
int nudge_links_clone(const nudge_links *l, nudge_links **out,
    nudge_err *err);
/* Frees l, wiping the secret (NULL is fine). */
void nudge_links_close(nudge_links *l);

/* Replaces url's contents with the message's unsubscribe URL.
 * Errors: EX_OSERR. */
int nudge_links_unsub(const nudge_links *l, const nudge_links_msg *m,
    nudge_buf *url, nudge_err *err);

/* Replaces url's contents with the contact's sign-up confirmation URL
 * (base/s/confirm/TOKEN, signup.h).  Errors: EX_OSERR. */
int nudge_links_confirm(const nudge_links *l, const nudge_links_msg *m,
    nudge_buf *url, nudge_err *err);

/* Writes into code the six-digit confirmation code of a sign-up by SMS
 * (nudge_token_code) for the message's contact and the request that
 * started its journey (the step's "#EVENT"); "" when the step has none.
 * Errors: EX_SOFTWARE (OpenSSL). */
int nudge_links_code(const nudge_links *l, const nudge_links_msg *m,
    char code[7], nudge_err *err);

/* Replaces url's contents with the preference page's URL
 * (base/s/prefs/TOKEN, signup.h) for unsub, the message's unsubscribe
 * URL as nudge_links_unsub made it: the same token.  Errors: EX_OSERR. */
int nudge_links_prefs(const nudge_links *l, const char *unsub,
    nudge_buf *url, nudge_err *err);

/* True when base_url is https: only then may List-Unsubscribe-Post
 * (RFC 8058) point at it. */
int nudge_links_https(const nudge_links *l);

/*
 * Rewrites the rendered HTML part of out: every <a href="http(s)://...">
 * becomes a tracked link sealing the original URL (its character
 * references decoded first), except links in an <a> with a
 * data-nudge-notrack attribute (which is dropped) and links already under
 * the base URL; the open pixel goes before </body> (or at the end).
 * Then the text part's http(s) URLs become tracked links too (see
 * nudge_links_text).  Parts the message lacks are left alone.
 * Errors: EX_OSERR.
 */
int nudge_links_rewrite(nudge_links *l, const nudge_links_msg *m,
    nudge_tpl_out *out, nudge_err *err);

/* Rewrites the http(s) URLs in the plain text s[0..n) (an SMS, a push
 * body, an email's text part) into out: a URL runs to white space or one
 * of <>"' and loses trailing .,;:!?) characters, which stay after the
 * tracked link.  URLs under the base URL are kept.  Errors: EX_OSERR. */
int nudge_links_text(const nudge_links *l, const nudge_links_msg *m,
    const char *s, size_t n, nudge_buf *out, nudge_err *err);

#endif
