/* signup: sign-up forms with double opt-in, the /s/ paths of
 * nudge-track(1): a form's POST records a pending request with its proof
 * (a `signup_pending` event), the confirmation link's POST records
 * `subscribed` with that proof and adds the lists; the pages people read
 * are templates in English or Hebrew.  The confirmation message itself is
 * sent by the ordinary pipeline (a journey entered by signup_pending, its
 * template naming {{confirm_url}}: nudge_signup_journey), so that the CGI
 * stays fast and links no libcurl. */
#ifndef NUDGE_SIGNUP_H
#define NUDGE_SIGNUP_H

#include "config.h"
#include "store.h"
#include "track.h"
#include "util.h"

/*
 * Answers a request whose path starts with /s/: POST /s/FORM (a sign-up),
 * GET /s/confirm/TOKEN (the page with the confirm button) and POST
 * /s/confirm/TOKEN (the confirmation).  Opens the store through o->open
 * into *st (the caller closes it unless o->keep_store).  Fills resp like
 * nudge_track_handle: 200 with a page for a sign-up, whether the address
 * was new, known, rate-limited or caught by the honeypot (err then says
 * why for the log); 400 with a page for an address or field that is not
 * one; 404 for an unknown form or a bad token; 410 for an expired
 * request; 405 for a wrong method; 503 when the store is busy.  Returns
 * 0, or -1 when memory runs out.
 */
int nudge_signup_handle(const nudge_track_opts *o, const nudge_track_req *r,
    nudge_track_resp *resp, nudge_store **st, nudge_err *err);

/* Appends to out an HTML form for f posting to base/s/NAME, to paste into
 * a web page: email (and name, phone, the lists when there are several),
 * the hidden honeypot field, the text agreed to, in lang ("en", "he";
 * NULL: the form's, else English).  0 or -1 (memory). */
int nudge_signup_snippet(nudge_buf *out, const nudge_form_cfg *f,
    const char *base, const char *lang);

/* The confirmation journeys shipped with nudge, campaigns named as the
 * NULL-ended nudge_signup_journeys (campaigns/NAME.yaml: by email, entered
 * by each signup_pending on email; by SMS, a code), which
 * nudge-trigger(1) runs when the config defines forms and no campaign of
 * that name is given.  nudge_signup_journey writes the path of the one
 * called name into path (len bytes): beside the running program when it
 * has a campaigns/ directory (a build tree), else the installed
 * CAMPAIGNDIR.  Returns 0, or EX_OSFILE naming both places when neither
 * has it. */
extern const char *const nudge_signup_journeys[];
int nudge_signup_journey(const char *name, char *path, size_t len,
    nudge_err *err);

/* The name of the honeypot field: a person leaves it empty, a bot that
 * fills every field does not. */
#define NUDGE_SIGNUP_HONEYPOT "website"

#endif
