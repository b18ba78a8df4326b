/* Unit tests for track and links without a web server: requests in,
 * responses out; a refused token never opens the store; the Message-ID
 * that track derives matches the one mime builds; proxies; tracked links
 * in text and HTML. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "links.h"
#include "mime.h"
#include "tap.h"
#include "token.h"
#include "track.h"

static const char key[] = "unit-secret";
static char dir[] = "/tmp/nudge-track-unit.XXXXXX";
static char dbpath[256];
static int opened;

static int
opener(void *arg, nudge_store **st, nudge_err *err)
{
	(void)arg;
	opened++;
	return nudge_store_open(st, dbpath, NUDGE_STORE_CREATE, err);
}

static int fail_code;

static int
failing(void *arg, nudge_store **st, nudge_err *err)
{
	(void)arg;
	*st = NULL;
	return nudge_errf(err, fail_code, "simulated");
}

/* A store that cannot be opened or written.  A click still redirects
 * and an open still gets its pixel, whatever the trouble: into the spool
 * when there is one, lost (and err says so) when not.  An unsubscribe
 * that can be neither recorded nor spooled is 503 for what may pass
 * (locked, full, unwritable), 500 for the rest, short bodies both. */
static void
test_unavailable(void)
{
	nudge_track_opts o = { key, sizeof key - 1, "https://t.example/t",
		NULL, NULL, 1800000000, failing, NULL, 0, NULL, NULL };
	nudge_track_req r = { 0 };
	nudge_track_resp resp = { 0 };
	nudge_buf u = { 0 }, c = { 0 };
	nudge_err err;
	static const int codes[] = { EX_TEMPFAIL, EX_IOERR, EX_CANTCREAT,
		EX_SOFTWARE };
	static const int want[] = { 503, 503, 503, 500 };
	char spooled[300], d[64];
	size_t i;

	nudge_track_url(&u, "https://t.example/t", key, sizeof key - 1, 'u',
	    1, "", 1, NULL, 0, 1800000000, &err);
	nudge_track_url(&c, "https://t.example/t", key, sizeof key - 1, 'c',
	    1, "", 1, "https://a.example/", 18, 1800000000, &err);
	r.method = "POST";
	r.path = u.s + 19;
	r.body = "List-Unsubscribe=One-Click";
	r.body_len = strlen(r.body);
	for (i = 0; i < 4; i++) {
		fail_code = codes[i];
		snprintf(d, sizeof d, "an unsubscribe: store error %d, no spool: "
		    "%d", codes[i], want[i]);
		ok(nudge_track_handle(&o, &r, &resp, &err) == 0 &&
		    resp.status == want[i] && resp.body.len < 40, d);
	}
	memset(&r, 0, sizeof r);
	r.method = "GET";
	r.path = c.s + 19;
	for (i = 0; i < 4; i++) {
		fail_code = codes[i];
		snprintf(d, sizeof d, "a click: store error %d, no spool: 302",
		    codes[i]);
		ok(nudge_track_handle(&o, &r, &resp, &err) == 0 &&
		    resp.status == 302 && strstr(resp.headers.s,
		    "Location: https://a.example/\r\n") != NULL &&
		    strstr(err.msg, "simulated") != NULL, d);
	}
	snprintf(spooled, sizeof spooled, "%s/gone.db", dir);
	o.store_path = spooled;
	fail_code = EX_TEMPFAIL;
	ok(nudge_track_handle(&o, &r, &resp, &err) == 0 &&
	    resp.status == 302 && strncmp(err.msg, "spooled as ", 11) == 0,
	    "a click with a spool: 302, spooled");
	snprintf(spooled, sizeof spooled, "%s/gone.db-spool", dir);
	ok(access(spooled, F_OK) == 0, "beside the store");
	nudge_track_resp_free(&resp);
	nudge_buf_free(&u);
	nudge_buf_free(&c);
}

static void
test_msgid(void)
{
	nudge_mime_msg m = { 0 };
	nudge_buf b = { 0 };
	nudge_err err;
	char local[40], want[80];

	m.from_addr = "shop@example.com";
	m.to_addr = "ann@example.com";
	m.subject = "s";
	m.msgid_key = "nudge-7-s2-42";
	m.text = "x";
	m.text_len = 1;
	m.seed = 1;
	ok(nudge_mime_build(&m, &b, &err) == 0, "mime builds a message");
	nudge_track_msgid_local("nudge-7-s2-42", local);
	snprintf(want, sizeof want, "Message-ID: <%s@example.com>", local);
	ok(b.s != NULL && strstr(b.s, want) != NULL,
	    "track derives the Message-ID that mime writes");
	nudge_buf_free(&b);
}

static void
test_proxy(void)
{
	is_str(nudge_track_proxy("Mozilla/5.0", "203.0.113.9"), "apple",
	    "a bare Mozilla/5.0 is Apple's MPP");
	is_str(nudge_track_proxy("Mozilla/5.0 (Macintosh)", "17.58.1.2"),
	    "apple", "Apple's 17/8 is Apple");
	is_str(nudge_track_proxy("Mozilla/5.0 (Windows NT 5.1; rv:11.0) "
	    "Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "66.1.1.1"),
	    "google", "GoogleImageProxy is Google");
	ok(nudge_track_proxy("Mozilla/5.0 (X11; Linux) Thunderbird/115",
	    "192.0.2.1") == NULL, "a mail client is none");
	ok(nudge_track_proxy(NULL, NULL) == NULL, "nothing known is none");
}

static int
req(const char *method, const char *path, const char *body,
    nudge_track_resp *resp)
{
	nudge_track_opts o = { key, sizeof key - 1, "https://t.example/t",
		NULL, NULL, 1800000000, opener, NULL, 0, NULL, NULL };
	nudge_track_req r = { 0 };
	nudge_err err;

	r.method = method;
	r.path = path;
	r.body = body;
	r.body_len = body != NULL ? strlen(body) : 0;
	r.content_type = "application/x-www-form-urlencoded";
	return nudge_track_handle(&o, &r, resp, &err);
}

static void
test_handle(void)
{
	nudge_track_resp resp = { 0 };
	nudge_buf u = { 0 };
	nudge_store *st;
	nudge_err err;
	const char *loc = "Location: https://shop.example/a?b=1\r\n";

	snprintf(dbpath, sizeof dbpath, "%s/t.db", dir);
	opened = 0;
	ok(req("GET", "/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL,
	    &resp) == 0 && resp.status == 404, "a forged click is 404");
	is_int(opened, 0, "and never opened the store");
	ok(req("GET", "/nope", NULL, &resp) == 0 && resp.status == 404,
	    "an unknown path is 404");
	ok(req("POST", "/hook/twilio", "a=b", &resp) == 0 &&
	    resp.status == 404, "a hook with no secret is 404");
	ok(nudge_store_open(&st, dbpath, NUDGE_STORE_CREATE, &err) == 0 &&
	    nudge_store_exec(st, "INSERT INTO contacts (id, email, created_at,"
	    " updated_at) VALUES (1, 'a@example.com', 0, 0);"
	    "INSERT INTO campaigns (id, name, created_at) VALUES (1, 'c', 0)",
	    &err) == 0, "a store with a contact and a campaign");
	nudge_store_close(st);
	ok(nudge_track_url(&u, "https://t.example/t/", key, sizeof key - 1,
	    'c', 1, "", 1, "https://shop.example/a?b=1", 26, 1800000000,
	    &err) == 0 && strncmp(u.s, "https://t.example/t/c/", 22) == 0,
	    "a click URL under the base, one slash");
	ok(req("GET", u.s + 19, NULL, &resp) == 0 && resp.status == 302,
	    "the click is 302");
	ok(resp.headers.s != NULL && strstr(resp.headers.s, loc) != NULL,
	    "to the sealed URL");
	ok(req("POST", u.s + 19, "x", &resp) == 0 && resp.status == 405,
	    "POST to a click is 405");
	nudge_buf_reset(&u);
	nudge_track_url(&u, "https://t.example/t", key, sizeof key - 1, 'o',
	    1, "", 1, NULL, 0, 1800000000, &err);
	ok(req("GET", u.s + 19, NULL, &resp) == 0 && resp.status == 200 &&
	    resp.body.len == 43 && memcmp(resp.body.s, "GIF89a", 6) == 0,
	    "the open is the 43-byte GIF");
	nudge_buf_reset(&u);
	nudge_track_url(&u, "https://t.example/t", key, sizeof key - 1, 'u',
	    1, "", 1, NULL, 0, 1800000000, &err);
	ok(req("POST", u.s + 19, "List-Unsubscribe=One-Click", &resp) == 0 &&
	    resp.status == 200, "one-click unsubscribe is 200");
	ok(nudge_store_open(&st, dbpath, 0, &err) == 0, "reopen");
	{
		sqlite3_stmt *s;
		char got[256] = "";

		sqlite3_prepare_v2(st->db, "SELECT group_concat(type || ':' ||"
		    " coalesce(props, ''), ' ') FROM events", -1, &s, NULL);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			snprintf(got, sizeof got, "%s",
			    sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
		is_str(got, "clicked:{\"url\":\"https://shop.example/a?b=1\"} "
		    "opened:{\"proxy\":\"none\"} unsubscribed:",
		    "the store has the click, the open and the unsubscribe");
	}
	nudge_store_close(st);
	nudge_track_resp_free(&resp);
	nudge_buf_free(&u);
}

/* Replaces the tokens of s by TOKEN. */
static char *
untoken(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	while (*s) {
		if (s[0] == '/' && s[1] != '\0' && strchr("ocu", s[1]) &&
		    s[2] == '/') {
			memcpy(o, s, 3);
			o += 3;
			s += 3;
			strcpy(o, "TOKEN");
			o += 5;
			while (*s != '\0' && strchr("-_0123456789"
			    "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", *s) != NULL)
				s++;
			continue;
		}
		*o++ = *s++;
	}
	*o = '\0';
	return out;
}

static void
test_links(void)
{
	nudge_config cfg;
	nudge_links *l = NULL;
	nudge_links_msg m = { 1, "", 1, 1800000000 };
	nudge_buf out = { 0 };
	nudge_tpl_out t = { 0 };
	nudge_err err;
	char *u;
	const char *txt = "See https://a.example/x?y=1. Or (https://b.example/)"
	    ", not https://t.example/t/u/keep nor mailto:a@b.c; "
	    "xhttps://c.example/ stays.";

	memset(&cfg, 0, sizeof cfg);
	ok(nudge_links_open(&l, &cfg, &err) == 0 && l == NULL,
	    "no tracking config: no links");
	cfg.tracking.base_url = "https://t.example/t";
	cfg.tracking.secret = (char *)key;
	ok(nudge_links_open(&l, &cfg, &err) == 0 && l != NULL,
	    "tracking config: links");
	ok(nudge_links_text(l, &m, txt, strlen(txt), &out, &err) == 0,
	    "text rewrites");
	u = untoken(out.s);
	is_str(u, "See https://t.example/t/c/TOKEN. Or "
	    "(https://t.example/t/c/TOKEN), not https://t.example/t/u/TOKEN "
	    "nor mailto:a@b.c; xhttps://c.example/ stays.",
	    "URLs tracked, punctuation kept out, ours and others kept");
	free(u);
	nudge_buf_puts(&t.part[NUDGE_TPL_HTML],
	    "<p><A HREF=\"https://a.example/?a=1&amp;b=2\">x</a>"
	    "<a data-nudge-notrack href=\"https://b.example/\">y</a>"
	    "<a name=z>z</a></p></BODY>");
	ok(nudge_links_rewrite(l, &m, &t, &err) == 0, "HTML rewrites");
	u = untoken(t.part[NUDGE_TPL_HTML].s);
	is_str(u, "<p><A HREF=\"https://t.example/t/c/TOKEN\">x</a>"
	    "<a href=\"https://b.example/\">y</a><a name=z>z</a></p>"
	    "<img src=\"https://t.example/t/o/TOKEN\" width=\"1\" height=\"1\" "
	    "alt=\"\" style=\"border:0;width:1px;height:1px\"></BODY>",
	    "links tracked, notrack kept and its attribute dropped, pixel "
	    "before </body>");
	free(u);
	{
		nudge_token tk;
		nudge_buf sc = { 0 };
		const char *p = strstr(t.part[NUDGE_TPL_HTML].s, "/c/") + 3;

		ok(nudge_token_open(p, strcspn(p, "\""), key, sizeof key - 1,
		    0, &tk, &sc) == NUDGE_TOKEN_OK && strcmp(tk.link,
		    "https://a.example/?a=1&b=2") == 0,
		    "the sealed link has its &amp; decoded");
		nudge_buf_free(&sc);
	}
	cfg.tracking.secret = NULL;
	nudge_links_close(l);
	nudge_buf_free(&out);
	nudge_tpl_out_free(&t);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	test_msgid();
	test_proxy();
	test_handle();
	test_unavailable();
	test_links();
	snprintf(dbpath, sizeof dbpath, "rm -rf %s", dir);
	if (system(dbpath) != 0)
		printf("# could not remove %s\n", dir);
	return done_testing();
}
