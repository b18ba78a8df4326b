/* Unit tests for the sign-up paths without a web server: the form body
 * parser (cases, then random bodies and a round trip of random fields),
 * requests refused before the store is opened, a confirmation token of
 * the wrong kind, and the snippet nudge track form prints. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signup.h"
#include "tap.h"
#include "token.h"
#include "track.h"

static const char key[] = "unit-secret";
static int opened;

static int
opener(void *arg, nudge_store **st, nudge_err *err)
{
	(void)arg;
	opened++;
	*st = NULL;
	return nudge_errf(err, EX_SOFTWARE, "the store was opened");
}

/* xorshift64*: the same bodies on every run */
static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	seed ^= seed >> 12;
	seed ^= seed << 25;
	seed ^= seed >> 27;
	return seed * 2685821657736338717ULL;
}

/* "k=v|k=v|" for the fields of body */
static const char *
fields(const char *body)
{
	static nudge_buf out;
	nudge_form f = { 0 };
	size_t i;

	nudge_buf_reset(&out);
	if (nudge_track_form_parse(&f, body, strlen(body)) == -1)
		return "(oom)";
	for (i = 0; i < f.n; i++)
		nudge_buf_printf(&out, "%s=%s|", f.f[i].k, f.f[i].v);
	nudge_track_form_free(&f);
	return nudge_buf_str(&out);
}

static void
test_cases(void)
{
	static const struct { const char *in, *want; } c[] = {
		{ "", "" },
		{ "a=1", "a=1|" },
		{ "email=ann%40example.com&name=Ann+Lee", "email=ann@example.com|"
		  "name=Ann Lee|" },
		{ "a", "a=|" },
		{ "&&a=1&&", "a=1|" },
		{ "=v", "=v|" },
		{ "a=%zz&b=%4&c=%", "a=%zz|b=%4|c=%|" },
		{ "a=%C3%A9%E2%82%AC", "a=\xc3\xa9\xe2\x82\xac|" },
		{ "a=1=2", "a=1=2|" },
		{ "%61=%62", "a=b|" },
		{ "a=%00b", "a=|" },
		{ "a=%26&b=%3D", "a=&|b==|" },
	};
	char d[128];
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		snprintf(d, sizeof d, "form body \"%s\"", c[i].in);
		is_str(fields(c[i].in), c[i].want, d);
	}
}

/* Random bytes: the parser never fails, every field has a name and a
 * value no longer than the body. */
static void
test_random(void)
{
	static const char alpha[] = "ab=&%+0A9fF\x01\xff ";
	char body[256];
	int bad = 0, i;

	for (i = 0; i < 20000 && !bad; i++) {
		size_t n = rnd() % sizeof body, j;
		nudge_form f = { 0 };

		for (j = 0; j < n; j++)
			body[j] = i % 2 ? alpha[rnd() % (sizeof alpha - 1)] :
			    (char)(rnd() % 255 + 1);
		if (nudge_track_form_parse(&f, body, n) != 0)
			bad = 1;
		for (j = 0; j < f.n; j++)
			if (f.f[j].k == NULL || f.f[j].v == NULL ||
			    strlen(f.f[j].k) > n || strlen(f.f[j].v) > n)
				bad = 1;
		nudge_track_form_free(&f);
	}
	ok(!bad, "20000 random bodies parse, fields within the body");
}

/* Random fields percent-encoded as a browser does come back as they
 * were, in order. */
static void
test_roundtrip(void)
{
	int bad = 0, i;

	for (i = 0; i < 2000 && !bad; i++) {
		char k[8][24], v[8][24];
		nudge_buf body = { 0 };
		nudge_form f = { 0 };
		size_t n = rnd() % 8 + 1, j, m;

		for (j = 0; j < n; j++) {
			size_t kl = rnd() % 20 + 1, vl = rnd() % 20;

			for (m = 0; m < kl; m++)
				k[j][m] = (char)(rnd() % 255 + 1);
			k[j][kl] = '\0';
			for (m = 0; m < vl; m++)
				v[j][m] = (char)(rnd() % 255 + 1);
			v[j][vl] = '\0';
			if (j > 0)
				nudge_buf_putc(&body, '&');
			for (m = 0; m < kl; m++)
				nudge_buf_printf(&body, "%%%02X",
				    (unsigned char)k[j][m]);
			nudge_buf_putc(&body, '=');
			for (m = 0; m < vl; m++)
				if (v[j][m] == ' ')
					nudge_buf_putc(&body, '+');
				else
					nudge_buf_printf(&body, "%%%02X",
					    (unsigned char)v[j][m]);
		}
		if (nudge_track_form_parse(&f, body.s, body.len) != 0 ||
		    f.n != n)
			bad = 1;
		for (j = 0; !bad && j < n; j++)
			if (strcmp(f.f[j].k, k[j]) != 0 ||
			    strcmp(f.f[j].v, v[j]) != 0 ||
			    nudge_track_form_get(&f, k[j]) == NULL)
				bad = 1;
		nudge_track_form_free(&f);
		nudge_buf_free(&body);
	}
	ok(!bad, "2000 sets of random fields survive encoding and parsing");
}

static nudge_form_cfg form = { "news", NULL, 0, 1, 1,
	"I agree to <news> & \"offers\".", NULL, NULL, NULL, NULL, 5, 3,
	1000, 172800, 0 };
static nudge_config cfg;

static int
request(const char *method, const char *path, const char *body,
    const char *lang, nudge_track_resp *resp)
{
	nudge_track_opts o = { key, sizeof key - 1, "https://t.example/t",
		NULL, NULL, 1800000000, opener, NULL, 0, &cfg, NULL };
	nudge_track_req r = { 0 };
	nudge_store *st = NULL;
	nudge_err err;

	r.method = method;
	r.path = path;
	r.body = body;
	r.body_len = body != NULL ? strlen(body) : 0;
	r.remote_addr = "192.0.2.1";
	r.accept_language = lang;
	nudge_buf_reset(&resp->headers);
	nudge_buf_reset(&resp->body);
	if (nudge_signup_handle(&o, &r, resp, &st, &err) != 0)
		return -1;
	return resp->status;
}

/* What is refused before the store is opened: a wrong method, an unknown
 * form, the honeypot, a bad address, a token of another kind. */
static void
test_refused(void)
{
	nudge_track_resp resp = { 0 };
	nudge_token t = { 0 };
	nudge_buf u = { 0 };
	nudge_err err;
	char path[512];

	is_int(request("GET", "/s/news", NULL, NULL, &resp), 405,
	    "GET /s/news: 405");
	ok(strstr(resp.headers.s, "Allow: POST\r\n") != NULL, "Allow: POST");
	is_int(request("POST", "/s/nope", "email=a%40b.example", NULL, &resp),
	    404, "an unknown form: 404");
	is_int(request("POST", "/s/news", "email=a%40b.example&website=x",
	    NULL, &resp), 200, "the honeypot: 200");
	ok(strstr(resp.body.s, "<h1>Check your mail</h1>") != NULL,
	    "with the check-your-mail page");
	is_int(request("POST", "/s/news", "email=a%40b.example&website=x",
	    "he-IL,he;q=0.9,en;q=0.5", &resp), 200, "in Hebrew too");
	ok(strstr(resp.body.s, "<html lang=\"he\" dir=\"rtl\">") != NULL,
	    "the Hebrew page is right-to-left");
	is_int(request("POST", "/s/news", "email=a%40&website=", "en",
	    &resp), 400, "not an address: 400");
	is_int(request("POST", "/s/news", "email=a%40b.example&phone=12",
	    "en", &resp), 400, "not a phone number: 400");
	is_int(request("POST", "/s/news", "email=a%40b.example&list=vip",
	    "en", &resp), 400, "a list the form does not offer: 400");
	t.kind = NUDGE_TOKEN_UNSUB;
	t.campaign_id = 1;
	t.contact_id = 1;
	t.step = "";
	t.expires = 1900000000;
	nudge_token_seal(&t, key, sizeof key - 1, &u, &err);
	snprintf(path, sizeof path, "/s/confirm/%s", u.s);
	is_int(request("GET", path, NULL, NULL, &resp), 404,
	    "an unsubscribe token as a confirmation: 404");
	is_int(request("GET", "/s/confirm/AAAA", NULL, NULL, &resp), 404,
	    "a forged token: 404");
	is_int(opened, 0, "none of them opened the store");
	nudge_buf_free(&u);
	nudge_track_resp_free(&resp);
}

static void
test_snippet(void)
{
	nudge_buf b = { 0 };

	nudge_signup_snippet(&b, &form, "https://t.example/t/", NULL);
	is_str(b.s,
	    "<form method=\"post\" action=\"https://t.example/t/s/news\" "
	    "accept-charset=\"utf-8\">\n"
	    "  <p><label>Email <input type=\"email\" name=\"email\" required "
	    "autocomplete=\"email\"></label></p>\n"
	    "  <p><label>Name <input name=\"name\" maxlength=\"100\" "
	    "autocomplete=\"given-name\"></label></p>\n"
	    "  <p><label>Phone <input type=\"tel\" name=\"phone\" "
	    "autocomplete=\"tel\"></label></p>\n"
	    "  <p><label><input type=\"checkbox\" name=\"list\" value=\"news\" "
	    "checked> news</label></p>\n"
	    "  <p><label><input type=\"checkbox\" name=\"list\" "
	    "value=\"offers\" checked> offers</label></p>\n"
	    "  <p style=\"position:absolute;left:-9999px\" aria-hidden=\"true\">"
	    "<label>Leave this empty <input name=\"website\" tabindex=\"-1\" "
	    "autocomplete=\"off\"></label></p>\n"
	    "  <p>I agree to &lt;news&gt; &amp; &quot;offers&quot;.</p>\n"
	    "  <p><button type=\"submit\">Sign up</button></p>\n"
	    "</form>\n", "the snippet: every field, the honeypot, the text "
	    "escaped");
	nudge_buf_reset(&b);
	nudge_signup_snippet(&b, &form, "https://t.example/t", "he");
	ok(strstr(b.s, " dir=\"rtl\" lang=\"he\"") != NULL &&
	    strstr(b.s, "הרשמה</button>") != NULL, "in Hebrew: rtl");
	nudge_buf_free(&b);
}

int
main(void)
{
	static char *lists[] = { "news", "offers", NULL };

	form.lists = lists;
	form.nlists = 2;
	cfg.forms = &form;
	cfg.nforms = 1;
	test_cases();
	test_random();
	test_roundtrip();
	test_refused();
	test_snippet();
	return done_testing();
}
