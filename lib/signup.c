/* signup: sign-up forms and double opt-in (nudge-track(1), signup.h). */
#include "signup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "channel.h"
#include "clock.h"
#include "contact.h"
#include "event.h"
#include "template.h"
#include "token.h"

/* The pages people read, one template per page and language.  Each is a
 * whole HTML document rendered by the template engine (its HTML escaping
 * for every value); a form's pages: directory may replace any of them
 * with PAGE.LANG.html. */
#define HEAD(lang, dir) "<!DOCTYPE html>\n<html lang=\"" lang "\" dir=\"" \
    dir "\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" " \
    "content=\"width=device-width, initial-scale=1\">\n" \
    "<title>{{title}}</title>\n" \
    "<style>body{font-family:sans-serif;max-width:32em;margin:2em auto;" \
    "padding:0 1em;line-height:1.5}.brand{color:#1a73e8}button{font-size:" \
    "1.1em;padding:.6em 1.4em;border:0;border-radius:.3em;color:#fff;" \
    "background:#1a73e8}</style>\n</head>\n<body>\n<p class=\"brand\">" \
    "<strong>{{title}}</strong></p>\n"
#define TAIL "</body>\n</html>\n"

enum page { P_CHECK, P_CONFIRM, P_THANKS, P_EXPIRED, P_BADADDR,
	P_NOTFOUND, P_CODE, P_SAVED, P_PREFS, P_NPAGES };

static const char *const page_names[P_NPAGES] = { "check", "confirm",
	"thanks", "expired", "error", "notfound", "code", "saved", "prefs" };

static const char *const pages_en[P_NPAGES] = {
	HEAD("en", "ltr") "<h1>Check your mail</h1>\n<p>We have sent a "
	"message to the address you gave.  Follow its link to confirm your "
	"subscription.</p>\n<p>No message?  Look in your spam folder, or "
	"sign up again tomorrow.</p>\n" TAIL,
	HEAD("en", "ltr") "<h1>Confirm your subscription</h1>\n<p>Press the "
	"button to confirm that you want our messages.</p>\n<form method="
	"\"post\" action=\"{{action}}\">\n<button type=\"submit\">"
	"Confirm</button>\n</form>\n" TAIL,
	HEAD("en", "ltr") "<h1>Thank you</h1>\n<p>Your subscription is "
	"confirmed.</p>\n" TAIL,
	HEAD("en", "ltr") "<h1>This link has expired</h1>\n<p>Please sign up "
	"again.</p>\n" TAIL,
	HEAD("en", "ltr") "<h1>Please check the form</h1>\n<p>{{error}}</p>\n"
	"<p>Go back and try again.</p>\n" TAIL,
	HEAD("en", "ltr") "<h1>Not found</h1>\n<p>This page does not exist."
	"</p>\n" TAIL,
	HEAD("en", "ltr") "<h1>Enter your code</h1>\n<p>We send a code by "
	"text message to the number you gave.  Enter it here to confirm your "
	"subscription.</p>\n<p>{{error|}}</p>\n<form method=\"post\" action="
	"\"{{action}}\">\n<p><label>Phone <input type=\"tel\" name=\"phone"
	"\" required></label></p>\n<p><label>Code <input "
	"name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
	"maxlength=\"6\" required></label></p>\n<button type=\"submit\">"
	"Confirm</button>\n</form>\n" TAIL,
	HEAD("en", "ltr") "<h1>Your choices are saved</h1>\n<p>You will get "
	"only what you chose.</p>\n" TAIL,
	NULL,	/* made by prefs_page */
};

static const char *const pages_he[P_NPAGES] = {
	HEAD("he", "rtl") "<h1>בדקו את תיבת הדואר</h1>\n<p>שלחנו הודעה "
	"לכתובת שמסרתם.  לחצו על הקישור שבה כדי לאשר את ההרשמה.</p>\n"
	"<p>לא הגיעה הודעה?  בדקו בתיקיית הספאם, או הירשמו שוב מחר.</p>\n"
	TAIL,
	HEAD("he", "rtl") "<h1>אישור ההרשמה</h1>\n<p>לחצו על הכפתור כדי "
	"לאשר שאתם רוצים לקבל את ההודעות שלנו.</p>\n<form method=\"post\" "
	"action=\"{{action}}\">\n<button type=\"submit\">אישור"
	"</button>\n</form>\n" TAIL,
	HEAD("he", "rtl") "<h1>תודה</h1>\n<p>ההרשמה אושרה.</p>\n" TAIL,
	HEAD("he", "rtl") "<h1>פג תוקף הקישור</h1>\n<p>אנא הירשמו שוב.</p>\n"
	TAIL,
	HEAD("he", "rtl") "<h1>אנא בדקו את הטופס</h1>\n<p>{{error}}</p>\n"
	"<p>חזרו ונסו שוב.</p>\n" TAIL,
	HEAD("he", "rtl") "<h1>הדף לא נמצא</h1>\n<p>הדף הזה אינו קיים.</p>\n"
	TAIL,
	HEAD("he", "rtl") "<h1>הקלידו את הקוד</h1>\n<p>אנחנו שולחים קוד "
	"בהודעת SMS למספר שמסרתם.  הקלידו אותו כאן כדי לאשר את ההרשמה.</p>\n"
	"<p>{{error|}}</p>\n<form method=\"post\" action=\"{{action}}\">\n"
	"<p><label>טלפון <input type=\"tel\" name=\"phone\" required>"
	"</label></p>\n<p><label>קוד <input name=\"code\" "
	"inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength="
	"\"6\" required></label></p>\n<button type=\"submit\">אישור</button>"
	"\n</form>\n" TAIL,
	HEAD("he", "rtl") "<h1>הבחירות שלכם נשמרו</h1>\n<p>תקבלו רק את מה "
	"שבחרתם.</p>\n" TAIL,
	NULL,	/* made by prefs_page */
};

/* The preference page: made per contact from these pieces (static text
 * and placeholders only: every value goes through the template engine),
 * a checkbox per topic and per channel. */
static const char *const prefs_en[] = {
	HEAD("en", "ltr") "<h1>Your messages</h1>\n<form method=\"post\" "
	"action=\"{{action}}\">\n",
	"<p>Topics:</p>\n",
	"<p>Channels:</p>\n",
	"<p><button type=\"submit\" name=\"save\" value=\"1\">Save</button>"
	"</p>\n<p><button type=\"submit\" name=\"leave\" value=\"all\">"
	"Leave everything</button></p>\n</form>\n" TAIL,
};
static const char *const prefs_he[] = {
	HEAD("he", "rtl") "<h1>ההודעות שלכם</h1>\n<form method=\"post\" "
	"action=\"{{action}}\">\n",
	"<p>נושאים:</p>\n",
	"<p>ערוצים:</p>\n",
	"<p><button type=\"submit\" name=\"save\" value=\"1\">שמירה"
	"</button></p>\n<p><button type=\"submit\" name=\"leave\" "
	"value=\"all\">הסרה מהכול</button></p>\n</form>\n" TAIL,
};

/* The field errors, by language. */
enum ferr { E_EMAIL, E_PHONE, E_NAME, E_LIST, E_CODE, E_TRIES };
static const char *const ferr_en[] = { "That is not an email address.",
	"That is not a phone number.", "The name is too long.",
	"That list is not offered here.",
	"That code is not right, or not for this number.",
	"Too many wrong codes: please sign up again." };
static const char *const ferr_he[] = { "זו אינה כתובת דואר אלקטרוני.",
	"זה אינו מספר טלפון.", "השם ארוך מדי.", "הרשימה הזו אינה מוצעת כאן.",
	"הקוד שגוי, או שאינו של המספר הזה.",
	"יותר מדי קודים שגויים: אנא הירשמו שוב." };

/* Wrong codes allowed for one request of a sign-up by SMS. */
#define CODE_TRIES 5

struct page_ctx {
	const char *title, *action, *error;
	const char *const *vals;     /* {{v0}}, {{v1}}, ...: nvals */
	size_t nvals;
};

/* The built-in page src with the form's colour (checked by config.c to
 * be #rgb or #rrggbb: it needs no escaping) for the default one: the
 * template engine takes no placeholder in CSS. */
static int
colour(nudge_buf *b, const char *src, const char *color)
{
	const char *p;

	while ((p = strstr(src, "#1a73e8")) != NULL) {
		if (nudge_buf_add(b, src, (size_t)(p - src)) == -1 ||
		    nudge_buf_puts(b, color) == -1)
			return -1;
		src = p + 7;
	}
	return nudge_buf_puts(b, src);
}

static const char *
page_lookup(void *ctx, const char *name, size_t *len)
{
	struct page_ctx *c = ctx;
	const char *v = strcmp(name, "title") == 0 ? c->title :
	    strcmp(name, "action") == 0 ? c->action :
	    strcmp(name, "error") == 0 ? c->error : NULL;

	if (v == NULL && name[0] == 'v') {
		char *end;
		unsigned long i = strtoul(name + 1, &end, 10);

		if (*end == '\0' && end != name + 1 && i < c->nvals)
			v = c->vals[i];
	}
	if (v != NULL)
		*len = strlen(v);
	return v;
}

/* The state of one request. */
struct rq {
	const nudge_track_opts *o;
	const nudge_track_req *r;
	nudge_track_resp *resp;
	nudge_store **st;
	nudge_err *err;
	const nudge_form_cfg *form;  /* or NULL */
	const char *lang;            /* "en" or "he" */
	const char *gen;             /* P_PREFS: the page's source */
	const char *const *vals;     /* and its values */
	size_t nvals;
	int oom;
};

/* "he" when the first language of an Accept-Language header is Hebrew
 * (or its old code "iw"), else "en". */
static const char *
accept_lang(const char *h)
{
	if (h == NULL)
		return "en";
	while (*h == ' ')
		h++;
	if ((strncasecmp(h, "he", 2) == 0 || strncasecmp(h, "iw", 2) == 0) &&
	    (h[2] == '\0' || h[2] == '-' || h[2] == ';' || h[2] == ',' ||
	    h[2] == ' '))
		return "he";
	return "en";
}

/* Reads a form's own page PAGE.LANG.html from its pages: directory into
 * b; 0 when there is none. */
static int
own_page(const nudge_form_cfg *f, enum page p, const char *lang,
    nudge_buf *b)
{
	char path[4096], chunk[4096];
	FILE *fp;
	size_t n;

	if (f == NULL || f->pages == NULL)
		return 0;
	snprintf(path, sizeof path, "%s/%s.%s.html", f->pages, page_names[p],
	    lang);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		if (nudge_buf_add(b, chunk, n) == -1)
			break;
	fclose(fp);
	return 1;
}

/* Answers with page p (status) in the request's language. */
static void
page(struct rq *q, int status, enum page p, const char *action,
    const char *error)
{
	const int he = strcmp(q->lang, "he") == 0;
	struct page_ctx c = { NULL, action != NULL ? action : "",
	    error != NULL ? error : "", q->vals, q->nvals };
	nudge_buf own = { 0 };
	nudge_tpl *t = NULL;
	nudge_tpl_out out = { 0 };
	nudge_track_resp *rp = q->resp;
	const char *src = p == P_PREFS ? q->gen : he ? pages_he[p] :
	    pages_en[p];
	nudge_err e;
	int rc;

	c.title = q->form != NULL && q->form->title != NULL ? q->form->title :
	    p >= P_SAVED ? (he ? "העדפות" : "Preferences") :
	    he ? "הרשמה" : "Sign up";
	if (p != P_PREFS && own_page(q->form, p, q->lang, &own) && own.len > 0)
		src = nudge_buf_str(&own);
	else if (q->form != NULL && q->form->color != NULL) {
		nudge_buf_reset(&own);
		if (colour(&own, src, q->form->color) == -1) {
			q->oom = 1;
			goto out;
		}
		src = nudge_buf_str(&own);
	}
	rc = nudge_tpl_parse(page_names[p], "\n", 1, src, strlen(src), &t, &e);
	if (rc != 0 && own.len > 0 && p != P_PREFS) {
		/* a broken page of the business's: the built-in one, and
		 * the reason in the log */
		snprintf(q->err->msg, sizeof q->err->msg, "%s", e.msg);
		src = he ? pages_he[p] : pages_en[p];
		rc = nudge_tpl_parse(page_names[p], "\n", 1, src, strlen(src),
		    &t, &e);
	}
	if (rc == 0)
		rc = nudge_tpl_render(t, page_lookup, &c, &out, &e);
	nudge_buf_reset(&rp->headers);
	nudge_buf_reset(&rp->body);
	rp->status = status;
	if (rc != 0) {
		rp->status = 500;
		snprintf(q->err->msg, sizeof q->err->msg, "%s", e.msg);
		if (nudge_buf_puts(&rp->body, "internal error\n") == -1 ||
		    nudge_buf_printf(&rp->headers, "Content-Type: text/plain; "
		    "charset=utf-8\r\nContent-Length: %zu\r\n",
		    rp->body.len) == -1)
			q->oom = 1;
	} else if (nudge_buf_add(&rp->body, nudge_tpl_html(&out)->s,
	    nudge_tpl_html(&out)->len) == -1 || nudge_buf_printf(&rp->headers,
	    "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\nContent-Language: %s\r\n",
	    rp->body.len, q->lang) == -1)
		q->oom = 1;
out:
	nudge_tpl_out_free(&out);
	nudge_tpl_free(t);
	nudge_buf_free(&own);
}

static void
field_error(struct rq *q, enum ferr e)
{
	page(q, 400, P_BADADDR, NULL, strcmp(q->lang, "he") == 0 ?
	    ferr_he[e] : ferr_en[e]);
}

/* A store error: 503 when the client may come back, else 500. */
static void
store_failed(struct rq *q, int code)
{
	nudge_track_resp *rp = q->resp;
	int busy = code == EX_TEMPFAIL || code == EX_IOERR ||
	    code == EX_CANTCREAT || code == EX_NOINPUT;
	const char *msg = busy ? "busy, try again later\n" : "internal error\n";

	nudge_buf_reset(&rp->headers);
	nudge_buf_reset(&rp->body);
	rp->status = busy ? 503 : 500;
	if (nudge_buf_puts(&rp->body, msg) == -1 ||
	    nudge_buf_printf(&rp->headers, "Content-Type: text/plain; "
	    "charset=utf-8\r\nContent-Length: %zu\r\n%s", strlen(msg),
	    busy ? "Retry-After: 5\r\n" : "") == -1)
		q->oom = 1;
}

static int
open_store(struct rq *q)
{
	int rc;

	if (*q->st != NULL)
		return 0;
	if ((rc = q->o->open(q->o->arg, q->st, q->err)) != 0) {
		*q->st = NULL;
		store_failed(q, rc);
	}
	return rc;
}

/* One number from a query with text parameters p[0..np). */
static int
count(struct rq *q, const char *sql, const char *const *p, int np,
    int64_t at, int64_t *n)
{
	sqlite3_stmt *s;
	int i, rc;

	*n = 0;
	if (sqlite3_prepare_v2((*q->st)->db, sql, -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(*q->st, q->err, "signup");
	sqlite3_bind_int64(s, 1, at);
	for (i = 0; i < np; i++)
		sqlite3_bind_text(s, i + 2, p[i], -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return nudge_store_error(*q->st, q->err, "signup");
	return 0;
}

/* A value people type: at most max bytes, no control characters. */
static int
plain(const char *v, size_t max)
{
	const unsigned char *p;

	if (strlen(v) > max)
		return 0;
	for (p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* Records ev in the open transaction; with pending, also a `pending`
 * consent row on ev's channel pointing at it: an address the form has
 * just created is not consented there until it is confirmed, whatever
 * the config's consent default (nudge-config(5) consent). */
static int
record(struct rq *q, nudge_event *ev, int pending)
{
	nudge_event_writer *w = NULL;
	int64_t eid = 0;
	int rc;

	if ((rc = nudge_event_writer_open(&w, *q->st, q->o->now,
	    q->err)) == 0)
		rc = nudge_event_record(w, ev, &eid, q->err);
	if (rc == 0 && pending)
		rc = nudge_event_consent(w, ev->contact_id, ev->channel,
		    "pending", ev->at, ev->source, eid, q->err);
	nudge_event_writer_close(w);
	return rc;
}

static int
prop(nudge_buf *b, const char *k, const char *v)
{
	if (v == NULL)
		return 0;
	return nudge_event_prop(b, k, strlen(k), v, strlen(v));
}

/*
 * POST /s/FORM.  Every refusal that could tell an address apart (known,
 * rate-limited, pending cap, honeypot) answers the same "check your
 * mail" page; the store is written only for a request that passes them
 * all.  The limits are counted from the signup_pending events themselves
 * (the events_type_at and events_contact indexes), so a flood of
 * requests from one address leaves at most rate_ip of them.
 */
/* Appends base, a base URL, without its trailing slashes: the pages'
 * own addresses (/s/...) follow it.  0 or -1 (out of memory). */
static int
base_put(nudge_buf *out, const char *base)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	return nudge_buf_add(out, base, n);
}

/* The start of a signed-link page (/s/confirm/TOKEN, /s/prefs/TOKEN):
 * opens tok into t, which must be of kind (else a 404 page, and bad in
 * the error), then the store, in a transaction when post (*begun then
 * set).  0, or -1 when the page is answered. */
static int
link_start(struct rq *q, const char *bad, const char *tok,
    enum nudge_token_kind kind, int post, nudge_token *t, nudge_buf *scratch,
    int *begun)
{
	int rc;

	if (nudge_token_open(tok, strlen(tok), q->o->key, q->o->keylen,
	    q->o->now, t, scratch) != NUDGE_TOKEN_OK || t->kind != kind) {
		nudge_errf(q->err, EX_DATAERR, "%s", bad);
		page(q, 404, P_NOTFOUND, NULL, NULL);
		return -1;
	}
	if (open_store(q) != 0)
		return -1;
	if (post) {
		if ((rc = nudge_store_begin(*q->st, q->err)) != 0) {
			store_failed(q, rc);
			return -1;
		}
		*begun = 1;
	}
	return 0;
}

/* Answers with the page asking for the code of a sign-up by SMS, posting
 * to base/s/confirm; error (an enum ferr) or NULL. */
static void
code_page(struct rq *q, int status, const enum ferr *error)
{
	nudge_buf self = { 0 };

	if (base_put(&self, q->o->base_url) == -1 ||
	    nudge_buf_puts(&self, "/s/confirm") == -1)
		q->oom = 1;
	else
		page(q, status, P_CODE, self.s, error == NULL ? NULL :
		    strcmp(q->lang, "he") == 0 ? ferr_he[*error] :
		    ferr_en[*error]);
	nudge_buf_free(&self);
}

static void
do_signup(struct rq *q)
{
	const nudge_form_cfg *f = q->form;
	nudge_form fm = { 0 };
	nudge_buf props = { 0 }, lists = { 0 };
	char email[NUDGE_EMAIL_MAX + 1], phone[NUDGE_PHONE_MAX] = "";
	const char *v, *why, *ip = q->r->remote_addr != NULL ?
	    q->r->remote_addr : "";
	const char *country = q->o->cfg->default_country;
	nudge_event ev = { 0 };
	char source[128];
	int64_t n, cid = 0;
	size_t i, j;
	int rc, begun = 0, created = 0;
	const int sms = f->confirm_sms;

	if (q->r->body != NULL && nudge_track_form_parse(&fm, q->r->body,
	    q->r->body_len) == -1) {
		q->oom = 1;
		goto out;
	}
	if ((v = nudge_track_form_get(&fm, NUDGE_SIGNUP_HONEYPOT)) != NULL &&
	    *v != '\0') {
		nudge_errf(q->err, EX_DATAERR, "signup: %s: the honeypot field "
		    "is filled: ignored", f->name);
		goto check;
	}
	v = nudge_track_form_get(&fm, "email");
	email[0] = '\0';
	if (!sms && (v == NULL || nudge_email_norm(v, strlen(v), email,
	    &why) != 0)) {
		nudge_errf(q->err, EX_DATAERR, "signup: %s: email: not an "
		    "address", f->name);
		field_error(q, E_EMAIL);
		goto out;
	}
	if (f->ask_phone && (v = nudge_track_form_get(&fm, "phone")) != NULL &&
	    *v != '\0' && nudge_phone_norm(v, strlen(v), country[0] != '\0' ?
	    country : NULL, phone, &why) != 0) {
		nudge_errf(q->err, EX_DATAERR, "signup: %s: phone: %s", f->name,
		    why);
		field_error(q, E_PHONE);
		goto out;
	}
	if (sms && phone[0] == '\0') {
		nudge_errf(q->err, EX_DATAERR, "signup: %s: phone: missing",
		    f->name);
		field_error(q, E_PHONE);
		goto out;
	}
	if (f->ask_name && (v = nudge_track_form_get(&fm, "name")) != NULL &&
	    !plain(v, 100)) {
		nudge_errf(q->err, EX_DATAERR, "signup: %s: name: too long or "
		    "with control characters", f->name);
		field_error(q, E_NAME);
		goto out;
	}
	/* the lists asked for, each one the form offers; none: all */
	for (i = 0; i < fm.n; i++) {
		if (strcmp(fm.f[i].k, "list") != 0)
			continue;
		for (j = 0; j < f->nlists; j++)
			if (strcmp(fm.f[i].v, f->lists[j]) == 0)
				break;
		if (j == f->nlists) {
			nudge_errf(q->err, EX_DATAERR, "signup: %s: list: not "
			    "offered by the form", f->name);
			field_error(q, E_LIST);
			goto out;
		}
		if ((lists.len > 0 && nudge_buf_putc(&lists, ',') == -1) ||
		    nudge_buf_puts(&lists, f->lists[j]) == -1) {
			q->oom = 1;
			goto out;
		}
	}
	for (j = 0, i = lists.len == 0; i && j < f->nlists; j++)
		if ((j > 0 && nudge_buf_putc(&lists, ',') == -1) ||
		    nudge_buf_puts(&lists, f->lists[j]) == -1) {
			q->oom = 1;
			goto out;
		}

	if ((rc = open_store(q)) != 0)
		goto out;
	if ((rc = nudge_store_begin(*q->st, q->err)) != 0)
		goto fail;
	begun = 1;
	if ((rc = count(q, "SELECT count(*) FROM events WHERE type ="
	    " 'signup_pending' AND at > ?1 AND props ->> 'ip' = ?2",
	    &ip, 1, q->o->now - 3600, &n)) != 0)
		goto fail;
	if (n >= f->rate_ip) {
		nudge_errf(q->err, EX_TEMPFAIL, "signup: %s: %s: more than %lld "
		    "sign-ups in an hour: ignored", f->name, ip,
		    (long long)f->rate_ip);
		goto check;
	}
	if ((rc = count(q, "SELECT count(*) FROM events WHERE type ="
	    " 'signup_pending' AND at > ?1", NULL, 0, q->o->now - f->expire,
	    &n)) != 0)
		goto fail;
	if (n >= f->max_pending) {
		nudge_errf(q->err, EX_TEMPFAIL, "signup: %s: %lld requests "
		    "pending (max_pending): ignored", f->name, (long long)n);
		goto check;
	}
	if ((rc = nudge_contact_find(*q->st, sms ? phone : email, NULL, &cid,
	    q->err)) != 0)
		goto fail;
	if (cid != 0) {
		char idtext[24];
		const char *p[1] = { idtext };

		snprintf(idtext, sizeof idtext, "%lld", (long long)cid);
		if ((rc = count(q, "SELECT count(*) FROM events WHERE"
		    " contact_id = ?2 AND type = 'signup_pending' AND at > ?1",
		    p, 1, q->o->now - 86400, &n)) != 0)
			goto fail;
		if (n >= f->rate_email) {
			nudge_errf(q->err, EX_TEMPFAIL, "signup: %s: more than "
			    "%lld requests for one address in a day: ignored",
			    f->name, (long long)f->rate_email);
			goto check;
		}
	} else if ((rc = nudge_contact_create(*q->st, sms ? phone : email,
	    NULL, q->o->now, &cid, q->err)) != 0)
		goto fail;
	else
		created = 1;
	snprintf(source, sizeof source, "form:%s", f->name);
	if (prop(&props, "form", f->name) == -1 ||
	    prop(&props, "ip", ip) == -1 ||
	    prop(&props, "user_agent", q->r->user_agent) == -1 ||
	    prop(&props, "agree_text", f->agree_text) == -1 ||
	    prop(&props, "lists", nudge_buf_str(&lists)) == -1 ||
	    prop(&props, "lang", q->lang) == -1 ||
	    (!sms && phone[0] != '\0' && prop(&props, "phone", phone) ==
	    -1) ||
	    (f->ask_name && prop(&props, "name", nudge_track_form_get(&fm,
	    "name")) == -1) || nudge_event_props_end(&props) == NULL) {
		q->oom = 1;
		goto out;
	}
	ev.contact_id = cid;
	ev.type = "signup_pending";
	ev.channel = sms ? "sms" : "email";
	ev.at = q->o->now;
	ev.props_json = props.s;
	ev.source = source;
	if ((rc = record(q, &ev, created)) != 0)
		goto fail;
	if ((rc = nudge_store_commit(*q->st, q->err)) != 0)
		goto fail;
	begun = 0;
check:
	if (sms)
		code_page(q, 200, NULL);
	else
		page(q, 200, P_CHECK, NULL, NULL);
	goto out;
fail:
	store_failed(q, rc);
out:
	if (begun)
		nudge_store_rollback(*q->st);
	nudge_buf_free(&props);
	nudge_buf_free(&lists);
	nudge_track_form_free(&fm);
}

/* The latest signup_pending event on channel of contact cid not older
 * than the longest expire: of any form: its id, time and props (malloc'd
 * into *props), and whether a `subscribed` from a form came after it;
 * q->form its form and q->lang the page's language.  A request whose form
 * is gone, or older than that form's expire, leaves *at 0 (and q->form
 * NULL): none is live. */
static int
pending(struct rq *q, int64_t cid, const char *channel, int64_t *eid,
    int64_t *at, char **props, int *done)
{
	char form[128];
	sqlite3_stmt *s;
	int64_t oldest = 0;
	size_t i;
	int rc;

	*at = 0;
	*eid = 0;
	*done = 0;
	*props = NULL;
	for (i = 0; i < q->o->cfg->nforms; i++)
		if (q->o->cfg->forms[i].expire > oldest)
			oldest = q->o->cfg->forms[i].expire;
	if (sqlite3_prepare_v2((*q->st)->db, "SELECT e.at, e.props ->> 'form',"
	    " e.props, EXISTS (SELECT 1 FROM events d WHERE d.contact_id ="
	    " e.contact_id AND d.type = 'subscribed' AND d.at >= e.at AND"
	    " d.props ->> 'form' = e.props ->> 'form'), e.id"
	    " FROM events e WHERE e.contact_id = ?1 AND e.type ="
	    " 'signup_pending' AND e.at > ?2 AND e.channel = ?3"
	    " ORDER BY e.at DESC, e.id DESC LIMIT 1", -1, &s, NULL) !=
	    SQLITE_OK)
		return nudge_store_error(*q->st, q->err, "signup");
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_int64(s, 2, q->o->now - oldest);
	sqlite3_bind_text(s, 3, channel, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *f = (const char *)sqlite3_column_text(s, 1);
		const char *p = (const char *)sqlite3_column_text(s, 2);

		*at = sqlite3_column_int64(s, 0);
		snprintf(form, sizeof form, "%s", f != NULL ? f : "");
		*done = sqlite3_column_int(s, 3);
		*eid = sqlite3_column_int64(s, 4);
		if (p != NULL && (*props = strdup(p)) == NULL)
			q->oom = 1;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(*q->st, q->err, "signup");
	q->form = *at != 0 ? nudge_config_form(q->o->cfg, form) : NULL;
	if (q->form != NULL && q->form->lang != NULL)
		q->lang = q->form->lang;
	else if (*props != NULL && strstr(*props, "\"lang\":\"he\"") != NULL)
		q->lang = "he";
	if (q->form == NULL || *at <= q->o->now - q->form->expire) {
		q->form = NULL;
		*at = 0;
	}
	return 0;
}

static int
exec3(struct rq *q, const char *sql, int64_t a, int64_t b, int64_t c)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2((*q->st)->db, sql, -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(*q->st, q->err, "signup");
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	sqlite3_bind_int64(s, 3, c);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return nudge_store_error(*q->st, q->err, "signup");
	return 0;
}

/* The subscription of the pending request (form f, props) confirmed:
 * `subscribed` on email with the request's proof and the confirmation's
 * own, the lists joined, the name and phone given kept where the
 * contact has none. */
static int
confirm(struct rq *q, int64_t cid, const nudge_form_cfg *f, int64_t at,
    const char *props, const char *channel)
{
	nudge_event ev = { 0 };
	nudge_buf p = { 0 };
	sqlite3_stmt *s = NULL;
	char source[128], when[32];
	int rc;

	nudge_time_format(at, when, sizeof when);
	snprintf(source, sizeof source, "form:%s", f->name);
	/* the request's proof, and when and from where it was confirmed */
	if (sqlite3_prepare_v2((*q->st)->db, "SELECT json_set(?1,"
	    " '$.requested_at', ?2, '$.confirmed_ip', ?3,"
	    " '$.confirmed_user_agent', ?4)", -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(*q->st, q->err, "signup");
	sqlite3_bind_text(s, 1, props, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, when, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, q->r->remote_addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, q->r->user_agent, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = nudge_store_error(*q->st, q->err, "signup");
		goto out;
	}
	if (nudge_buf_puts(&p, (const char *)sqlite3_column_text(s, 0)) ==
	    -1) {
		q->oom = 1;
		rc = EX_OSERR;
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	ev.contact_id = cid;
	ev.type = "subscribed";
	ev.channel = channel;
	ev.at = q->o->now;
	ev.props_json = p.s;
	ev.source = source;
	if ((rc = record(q, &ev, 0)) != 0)
		goto out;
	/* and signup_confirmed, for segments and the confirmation
	 * campaign's audience: `subscribed` there is the consent state */
	ev.type = "signup_confirmed";
	ev.props_json = NULL;
	ev.source = NULL;
	if ((rc = record(q, &ev, 0)) != 0)
		goto out;
	/* the lists, each still offered by the form */
	if (sqlite3_prepare_v2((*q->st)->db, "SELECT value FROM json_each("
	    "'[\"' || replace(?1 ->> 'lists', ',', '\",\"') || '\"]')"
	    " WHERE ?1 ->> 'lists' <> ''", -1, &s, NULL) != SQLITE_OK) {
		rc = nudge_store_error(*q->st, q->err, "signup");
		goto out;
	}
	sqlite3_bind_text(s, 1, props, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		int64_t lid;
		size_t j;

		for (j = 0; j < f->nlists; j++)
			if (strcmp(f->lists[j], name) == 0)
				break;
		if (j == f->nlists)
			continue;
		if ((rc = nudge_store_list_id(*q->st, name, 1, q->o->now, &lid,
		    q->err)) != 0 || (rc = exec3(q, "INSERT OR IGNORE INTO"
		    " list_members (list_id, contact_id, added_at)"
		    " VALUES (?1, ?2, ?3)", lid, cid, q->o->now)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = nudge_store_error(*q->st, q->err, "signup");
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	rc = 0;
out:
	sqlite3_finalize(s);
	nudge_buf_free(&p);
	return rc;
}

/* The live request (at, props) of contact cid confirmed on channel in
 * the open transaction, committed (*begun cleared), and the thank-you
 * page.  0 or a store error. */
static int
confirmed(struct rq *q, int64_t cid, int64_t at, const char *props,
    const char *channel, int *begun)
{
	int rc;

	if ((rc = confirm(q, cid, q->form, at, props, channel)) != 0 ||
	    (rc = nudge_store_commit(*q->st, q->err)) != 0)
		return rc;
	*begun = 0;
	page(q, 200, P_THANKS, NULL, NULL);
	return 0;
}

/* GET or POST /s/confirm/TOKEN. */
static void
do_confirm(struct rq *q, const char *tok)
{
	const int post = q->r->method != NULL &&
	    strcmp(q->r->method, "POST") == 0;
	nudge_buf scratch = { 0 }, self = { 0 };
	nudge_token t;
	char *props = NULL;
	int64_t at, eid;
	int rc, done, begun = 0;

	if (link_start(q, "signup: a bad or expired confirmation token", tok,
	    NUDGE_TOKEN_CONFIRM, post, &t, &scratch, &begun) != 0)
		goto out;
	if ((rc = pending(q, t.contact_id, "email", &eid, &at, &props,
	    &done)) != 0)
		goto fail;
	if (q->oom)
		goto out;
	if (at == 0) {
		nudge_errf(q->err, EX_DATAERR, "signup: contact %lld: no "
		    "pending request (expired, or its form is gone)",
		    (long long)t.contact_id);
		page(q, 410, P_EXPIRED, NULL, NULL);
		goto out;
	}
	if (!post) {
		if (done)
			page(q, 200, P_THANKS, NULL, NULL);
		else if (base_put(&self, q->o->base_url) == -1 ||
		    nudge_buf_printf(&self, "/s/confirm/%s", tok) == -1)
			q->oom = 1;
		else
			page(q, 200, P_CONFIRM, self.s, NULL);
		goto out;
	}
	if (done)
		page(q, 200, P_THANKS, NULL, NULL);
	else if ((rc = confirmed(q, t.contact_id, at, props, "email",
	    &begun)) != 0)
		goto fail;
	goto out;
fail:
	store_failed(q, rc);
out:
	if (begun)
		nudge_store_rollback(*q->st);
	free(props);
	nudge_buf_free(&scratch);
	nudge_buf_free(&self);
}

/* GET /s/confirm (rest: what follows it, nothing): the page asking for
 * the code of a sign-up by SMS.
 * POST: the phone's latest live request checked against its code
 * (nudge_token_code); a wrong code is a signup_code_failed event, and
 * after CODE_TRIES of them the request takes no more.  A phone that is
 * unknown, or has no live request, gets the wrong-code answer: the page
 * says nothing of who signed up. */
static void
do_code(struct rq *q, const char *rest)
{
	const char *country = q->o->cfg->default_country;
	const char *v, *code, *why, *ip = q->r->remote_addr != NULL ?
	    q->r->remote_addr : "";
	nudge_form fm = { 0 };
	nudge_buf props = { 0 };
	nudge_event ev = { 0 };
	char phone[NUDGE_PHONE_MAX], want[7], idtext[24];
	const char *p[1] = { idtext };
	char *req = NULL;
	enum ferr e = E_CODE;
	int64_t cid = 0, eid = 0, at = 0, n;
	int rc, done = 0, begun = 0;

	if (*rest != '\0') {
		page(q, 404, P_NOTFOUND, NULL, NULL);
		return;
	}
	if (q->r->method == NULL || strcmp(q->r->method, "POST") != 0) {
		code_page(q, 200, NULL);
		return;
	}
	if (q->r->body != NULL && nudge_track_form_parse(&fm, q->r->body,
	    q->r->body_len) == -1) {
		q->oom = 1;
		goto out;
	}
	v = nudge_track_form_get(&fm, "phone");
	code = nudge_track_form_get(&fm, "code");
	if (v == NULL || nudge_phone_norm(v, strlen(v), country[0] != '\0' ?
	    country : NULL, phone, &why) != 0) {
		nudge_errf(q->err, EX_DATAERR, "signup: confirm: phone: not a "
		    "number");
		e = E_PHONE;
		code_page(q, 400, &e);
		goto out;
	}
	if ((rc = open_store(q)) != 0)
		goto out;
	if ((rc = nudge_store_begin(*q->st, q->err)) != 0)
		goto fail;
	begun = 1;
	if ((rc = nudge_contact_find(*q->st, phone, NULL, &cid, q->err)) != 0)
		goto fail;
	if (cid != 0 && (rc = pending(q, cid, "sms", &eid, &at, &req,
	    &done)) != 0)
		goto fail;
	if (q->oom)
		goto out;
	if (at == 0) {
		nudge_errf(q->err, EX_DATAERR, "signup: confirm: %s: no live "
		    "request", phone);
		code_page(q, 400, &e);
		goto out;
	}
	if (done) {
		page(q, 200, P_THANKS, NULL, NULL);
		goto out;
	}
	snprintf(idtext, sizeof idtext, "%lld", (long long)cid);
	if ((rc = count(q, "SELECT count(*) FROM events WHERE contact_id = ?2"
	    " AND type = 'signup_code_failed' AND at >= ?1", p, 1, at,
	    &n)) != 0)
		goto fail;
	if (n >= CODE_TRIES) {
		nudge_errf(q->err, EX_DATAERR, "signup: confirm: %s: %d wrong "
		    "codes: the request takes no more", phone, CODE_TRIES);
		e = E_TRIES;
		code_page(q, 429, &e);
		goto out;
	}
	if (nudge_token_code(q->o->key, q->o->keylen, cid, eid, want) != 0) {
		rc = nudge_errf(q->err, EX_SOFTWARE, "signup: HMAC failed");
		goto fail;
	}
	if (code == NULL || strlen(code) != 6 || !nudge_ct_equal(code, want,
	    6)) {
		if (prop(&props, "ip", ip) == -1 ||
		    nudge_event_props_end(&props) == NULL) {
			q->oom = 1;
			goto out;
		}
		ev.contact_id = cid;
		ev.type = "signup_code_failed";
		ev.channel = "sms";
		ev.at = q->o->now;
		ev.props_json = props.s;
		if ((rc = record(q, &ev, 0)) != 0 ||
		    (rc = nudge_store_commit(*q->st, q->err)) != 0)
			goto fail;
		begun = 0;
		nudge_errf(q->err, EX_DATAERR, "signup: confirm: %s: a wrong "
		    "code", phone);
		code_page(q, 400, &e);
		goto out;
	}
	if ((rc = confirmed(q, cid, at, req, "sms", &begun)) != 0)
		goto fail;
	goto out;
fail:
	store_failed(q, rc);
out:
	if (begun)
		nudge_store_rollback(*q->st);
	free(req);
	nudge_buf_free(&props);
	nudge_track_form_free(&fm);
}

/* The latest consent status of contact cid on consent channel ch into
 * st: "subscribed" when it has no row. */
static int
consent_of(struct rq *q, int64_t cid, const char *ch, char *st, size_t len)
{
	sqlite3_stmt *s;
	int rc;

	snprintf(st, len, "subscribed");
	if (sqlite3_prepare_v2((*q->st)->db, "SELECT status FROM consent"
	    " WHERE contact_id = ?1 AND channel = ?2 ORDER BY at DESC, id DESC"
	    " LIMIT 1", -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(*q->st, q->err, "consent");
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_text(s, 2, ch, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		snprintf(st, len, "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(*q->st, q->err, "consent");
	return 0;
}

/* One choice of the preference page: a topic (consent channel
 * "topic:NAME") or a channel the contact has an address for. */
struct choice {
	const char *name;        /* shown and posted */
	char consent[160];       /* the consent channel */
	char state[16];          /* its latest status */
	int topic;
};

#define MAXCHOICES 64

/* GET or POST /s/prefs/TOKEN: the preference center, reached with the
 * token of a message's unsubscribe link ({{preferences_url}}).  A GET
 * shows a checkbox per topic (config topics:) and per channel the contact
 * has an address for, ticked unless left; a POST records a `preferences`
 * event with the choices and their proof (IP, User-Agent) and a consent
 * row for each choice that changed (source "prefs"): a topic left is the
 * consent channel "topic:NAME" unsubscribed.  "Leave everything" leaves
 * every topic and channel.  A bounced or complained channel is neither
 * shown nor changed. */
static void
do_prefs(struct rq *q, const char *tok)
{
	const int post = q->r->method != NULL &&
	    strcmp(q->r->method, "POST") == 0;
	const int he = strcmp(q->lang, "he") == 0;
	const char *const *pc = he ? prefs_he : prefs_en;
	const nudge_config *cfg = q->o->cfg;
	struct choice ch[MAXCHOICES];
	const char *vals[MAXCHOICES];
	nudge_buf scratch = { 0 }, src = { 0 }, self = { 0 }, props = { 0 },
	    kept = { 0 }, left = { 0 };
	nudge_form fm = { 0 };
	nudge_event_writer *w = NULL;
	nudge_event ev = { 0 };
	sqlite3_stmt *s = NULL;
	nudge_token t;
	size_t n = 0, i, k;
	int64_t eid;
	int rc, begun = 0, leave, has[NUDGE_NCHANNELS];

	if (link_start(q, "prefs: a bad or expired token", tok,
	    NUDGE_TOKEN_UNSUB, post, &t, &scratch, &begun) != 0)
		goto out;
	if (sqlite3_prepare_v2((*q->st)->db, "SELECT coalesce(email, '') <> '',"
	    " coalesce(phone, '') <> '', coalesce(push_id, '') <> ''"
	    " FROM contacts WHERE id = ?", -1, &s, NULL) != SQLITE_OK) {
		rc = nudge_store_error(*q->st, q->err, "contacts");
		goto fail;
	}
	sqlite3_bind_int64(s, 1, t.contact_id);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			rc = nudge_store_error(*q->st, q->err, "contacts");
			goto fail;
		}
		nudge_errf(q->err, EX_DATAERR, "prefs: contact %lld is gone",
		    (long long)t.contact_id);
		page(q, 404, P_NOTFOUND, NULL, NULL);
		goto out;
	}
	for (i = 0; i < NUDGE_NCHANNELS; i++)
		has[i] = sqlite3_column_int(s, (int)i);
	sqlite3_finalize(s);
	for (i = 0; i < cfg->ntopics && n < MAXCHOICES; i++, n++) {
		ch[n].name = cfg->topics[i];
		ch[n].topic = 1;
		snprintf(ch[n].consent, sizeof ch[n].consent, "topic:%s",
		    cfg->topics[i]);
	}
	for (i = 0; i < NUDGE_NCHANNELS && n < MAXCHOICES; i++)
		if (has[i]) {
			ch[n].name = nudge_channels[i].name;
			ch[n].topic = 0;
			snprintf(ch[n].consent, sizeof ch[n].consent, "%s",
			    nudge_channels[i].consent);
			n++;
		}
	for (i = 0; i < n; i++) {
		if ((rc = consent_of(q, t.contact_id, ch[i].consent,
		    ch[i].state, sizeof ch[i].state)) != 0)
			goto fail;
		vals[i] = ch[i].name;
	}
	if (!post) {
		if (base_put(&self, q->o->base_url) == -1 ||
		    nudge_buf_printf(&self, "/s/prefs/%s", tok) == -1 ||
		    nudge_buf_puts(&src, pc[0]) == -1) {
			q->oom = 1;
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (strcmp(ch[i].state, "bounced") == 0 ||
			    strcmp(ch[i].state, "complained") == 0)
				continue;
			if ((i == 0 || ch[i - 1].topic != ch[i].topic) &&
			    nudge_buf_puts(&src, pc[ch[i].topic ? 1 : 2]) ==
			    -1) {
				q->oom = 1;
				goto out;
			}
			if (
			    nudge_buf_printf(&src, "<p><label><input type="
			    "\"checkbox\" name=\"%s\" value=\"{{v%zu}}\"%s> "
			    "{{v%zu}}</label></p>\n", ch[i].topic ? "topic" :
			    "channel", i, strcmp(ch[i].state, "subscribed") ==
			    0 ? " checked" : "", i) == -1) {
				q->oom = 1;
				goto out;
			}
		}
		if (nudge_buf_puts(&src, pc[3]) == -1) {
			q->oom = 1;
			goto out;
		}
		q->gen = src.s;
		q->vals = vals;
		q->nvals = n;
		page(q, 200, P_PREFS, self.s, NULL);
		goto out;
	}
	if (q->r->body != NULL && nudge_track_form_parse(&fm, q->r->body,
	    q->r->body_len) == -1) {
		q->oom = 1;
		goto out;
	}
	leave = nudge_track_form_get(&fm, "leave") != NULL;
	for (i = 0; i < n; i++) {
		int want = 0;

		for (k = 0; !leave && k < fm.n; k++)
			if (strcmp(fm.f[k].k, ch[i].topic ? "topic" :
			    "channel") == 0 && strcmp(fm.f[k].v,
			    ch[i].name) == 0)
				want = 1;
		ch[i].topic |= want << 1;	/* bit 1: wanted */
		if (((want ? &kept : &left)->len > 0 && nudge_buf_putc(want ?
		    &kept : &left, ',') == -1) || nudge_buf_printf(want ?
		    &kept : &left, "%s%s", ch[i].topic & 1 ? "topic:" : "",
		    ch[i].name) == -1) {
			q->oom = 1;
			goto out;
		}
	}
	if (prop(&props, "ip", q->r->remote_addr) == -1 ||
	    prop(&props, "user_agent", q->r->user_agent) == -1 ||
	    prop(&props, "kept", nudge_buf_str(&kept)) == -1 ||
	    prop(&props, "left", nudge_buf_str(&left)) == -1 ||
	    (leave && prop(&props, "leave", "all") == -1) ||
	    nudge_event_props_end(&props) == NULL) {
		q->oom = 1;
		goto out;
	}
	ev.contact_id = t.contact_id;
	ev.type = "preferences";
	ev.at = q->o->now;
	ev.props_json = props.s;
	ev.source = "prefs";
	if ((rc = nudge_event_writer_open(&w, *q->st, q->o->now,
	    q->err)) != 0 || (rc = nudge_event_record(w, &ev, &eid,
	    q->err)) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		int want = (ch[i].topic & 2) != 0;
		int now = strcmp(ch[i].state, "subscribed") == 0;

		if (strcmp(ch[i].state, "bounced") == 0 ||
		    strcmp(ch[i].state, "complained") == 0 || want == now)
			continue;
		if ((rc = nudge_event_consent(w, t.contact_id, ch[i].consent,
		    want ? "subscribed" : "unsubscribed", q->o->now, "prefs",
		    eid, q->err)) != 0)
			goto fail;
	}
	nudge_event_writer_close(w);
	w = NULL;
	if ((rc = nudge_store_commit(*q->st, q->err)) != 0)
		goto fail;
	begun = 0;
	page(q, 200, P_SAVED, NULL, NULL);
	goto out;
fail:
	store_failed(q, rc);
out:
	nudge_event_writer_close(w);
	if (begun)
		nudge_store_rollback(*q->st);
	nudge_track_form_free(&fm);
	nudge_buf_free(&scratch);
	nudge_buf_free(&src);
	nudge_buf_free(&self);
	nudge_buf_free(&props);
	nudge_buf_free(&kept);
	nudge_buf_free(&left);
}

int
nudge_signup_handle(const nudge_track_opts *o, const nudge_track_req *r,
    nudge_track_resp *resp, nudge_store **st, nudge_err *err)
{
	static const struct {
		const char *prefix;
		void (*fn)(struct rq *, const char *);
	} links[] = { { "prefs/", do_prefs }, { "confirm/", do_confirm },
	    { "confirm", do_code } };
	struct rq q = { o, r, resp, st, err, NULL, "en", NULL, NULL, 0, 0 };
	const char *path = r->path + 3;
	const char *method = r->method != NULL ? r->method : "";
	size_t i;

	q.lang = accept_lang(r->accept_language);
	/* the pages of a signed link, and the code's: GET shows, POST
	 * records */
	for (i = 0; i < sizeof links / sizeof links[0]; i++) {
		size_t n = strlen(links[i].prefix);

		if (strncmp(path, links[i].prefix, n) != 0)
			continue;
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
		    strcmp(method, "POST") != 0) {
			page(&q, 405, P_NOTFOUND, NULL, NULL);
			if (nudge_buf_puts(&resp->headers,
			    "Allow: GET, POST\r\n") == -1)
				q.oom = 1;
		} else if (o->cfg == NULL) {
			page(&q, 404, P_NOTFOUND, NULL, NULL);
		} else {
			links[i].fn(&q, path + n);
		}
		return q.oom ? -1 : 0;
	}
	if (o->cfg == NULL || (q.form = nudge_config_form(o->cfg,
	    path)) == NULL) {
		nudge_errf(err, EX_DATAERR, "signup: no such form");
		page(&q, 404, P_NOTFOUND, NULL, NULL);
		return q.oom ? -1 : 0;
	}
	if (q.form->lang != NULL)
		q.lang = q.form->lang;
	if (strcmp(method, "POST") != 0) {
		page(&q, 405, P_NOTFOUND, NULL, NULL);
		if (nudge_buf_puts(&resp->headers, "Allow: POST\r\n") == -1)
			q.oom = 1;
		return q.oom ? -1 : 0;
	}
	do_signup(&q);
	return q.oom ? -1 : 0;
}

/* Appends s with <, >, &, " and ' escaped. */
static int
esc(nudge_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		const char *e = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" :
		    *s == '&' ? "&amp;" : *s == '"' ? "&quot;" :
		    *s == '\'' ? "&#39;" : NULL;

		if ((e != NULL ? nudge_buf_puts(b, e) :
		    nudge_buf_putc(b, *s)) == -1)
			return -1;
	}
	return 0;
}

int
nudge_signup_snippet(nudge_buf *out, const nudge_form_cfg *f,
    const char *base, const char *lang)
{
	const int he = strcmp(lang != NULL ? lang : f->lang != NULL ? f->lang :
	    "en", "he") == 0;
	size_t i;

	if (nudge_buf_printf(out, "<form method=\"post\" action=\"") == -1 ||
	    base_put(out, base) == -1 ||
	    nudge_buf_puts(out, "/s/") == -1 || esc(out, f->name) == -1 ||
	    nudge_buf_printf(out, "\" accept-charset=\"utf-8\"%s>\n",
	    he ? " dir=\"rtl\" lang=\"he\"" : "") == -1 ||
	    (!f->confirm_sms && nudge_buf_printf(out, "  <p><label>%s <input "
	    "type=\"email\" name=\"email\" required autocomplete=\"email\">"
	    "</label></p>\n", he ? "דואר אלקטרוני" : "Email") == -1))
		return -1;
	if (f->ask_name && nudge_buf_printf(out, "  <p><label>%s <input "
	    "name=\"name\" maxlength=\"100\" autocomplete=\"given-name\">"
	    "</label></p>\n", he ? "שם" : "Name") == -1)
		return -1;
	if (f->ask_phone && nudge_buf_printf(out, "  <p><label>%s <input "
	    "type=\"tel\" name=\"phone\"%s autocomplete=\"tel\"></label>"
	    "</p>\n", he ? "טלפון" : "Phone", f->confirm_sms ? " required" :
	    "") == -1)
		return -1;
	for (i = 0; f->nlists > 1 && i < f->nlists; i++)
		if (nudge_buf_puts(out, "  <p><label><input type=\"checkbox\" "
		    "name=\"list\" value=\"") == -1 || esc(out,
		    f->lists[i]) == -1 || nudge_buf_puts(out, "\" checked> ") ==
		    -1 || esc(out, f->lists[i]) == -1 || nudge_buf_puts(out,
		    "</label></p>\n") == -1)
			return -1;
	if (nudge_buf_printf(out, "  <p style=\"position:absolute;"
	    "left:-9999px\" aria-hidden=\"true\"><label>%s <input name=\""
	    NUDGE_SIGNUP_HONEYPOT "\" tabindex=\"-1\" autocomplete=\"off\">"
	    "</label></p>\n  <p>", he ? "השאירו ריק" : "Leave this empty") ==
	    -1 || esc(out, f->agree_text) == -1 ||
	    nudge_buf_printf(out, "</p>\n  <p><button type=\"submit\">%s"
	    "</button></p>\n</form>\n", he ? "הרשמה" : "Sign up") == -1)
		return -1;
	return 0;
}

#ifndef CAMPAIGNDIR
#define CAMPAIGNDIR "/usr/local/share/nudge/campaigns"
#endif

const char *const nudge_signup_journeys[] = { "signup-confirm",
	"signup-confirm-sms", NULL };

int
nudge_signup_journey(const char *name, char *path, size_t len,
    nudge_err *err)
{
	char self[4096], here[4096 + 160], file[128];
	ssize_t n;
	char *slash;

	snprintf(file, sizeof file, "%s.yaml", name);
	here[0] = '\0';
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = '\0';
		snprintf(here, sizeof here, "%s/campaigns/%s", self, file);
		if (access(here, R_OK) == 0) {
			snprintf(path, len, "%s", here);
			return 0;
		}
	}
	snprintf(path, len, "%s/%s", CAMPAIGNDIR, file);
	if (access(path, R_OK) == 0)
		return 0;
	return nudge_errf(err, EX_OSFILE, "forms: the confirmation journey "
	    "%s is neither %s nor %s: reinstall nudge, or give a campaign "
	    "named %s", file, here[0] != '\0' ? here : "beside the program",
	    path, name);
}
