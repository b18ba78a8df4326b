/* Fuzz target signup: the input as a form body, parsed (the one parser of
 * form bodies, track.h), then POSTed to a sign-up form (/s/news) against
 * the fixture store, and taken as the token of /s/confirm/.  Invariants:
 * every field parsed lies within the body and the first of a name is
 * found by name; every answer has a known status and well-formed header
 * lines; only a well-formed address is ever recorded as a pending
 * sign-up, with a JSON object of proof. */
#include "fuzz.h"

#include "signup.h"
#include "track.h"

static const char key[] = "fuzz-secret";

static int
opener(void *arg, nudge_store **st, nudge_err *err)
{
	(void)arg;
	(void)err;
	*st = fuzz_store();
	return 0;
}

static void
check_resp(const nudge_track_resp *r)
{
	static const int known[] = { 200, 400, 404, 405, 410, 500, 503 };
	const char *h = r->headers.s, *end = h + r->headers.len, *eol;
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (r->status == known[i])
			break;
	CHECK(i < sizeof known / sizeof known[0]);
	while (h != NULL && h < end) {
		eol = memchr(h, '\n', (size_t)(end - h));
		CHECK(eol != NULL && eol > h + 1 && eol[-1] == '\r');
		CHECK(memchr(h, '\r', (size_t)(eol - 1 - h)) == NULL);
		CHECK(memchr(h, '\0', (size_t)(eol - h)) == NULL);
		CHECK(memchr(h, ':', (size_t)(eol - h)) != NULL);
		h = eol + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *lists[] = { "news", "vip", NULL };
	static nudge_form_cfg form = { .name = "news", .lists = lists,
		.nlists = 2, .ask_phone = 1, .ask_name = 1,
		.agree_text = "I agree.", .color = "#abc", .rate_ip = 1000000,
		.rate_email = 1000, .max_pending = 100000000,
		.expire = 172800 };
	static nudge_config cfg;
	nudge_track_opts o = { key, sizeof key - 1, "https://t.example/t",
		NULL, NULL, FUZZ_NOW, opener, NULL, 1, &cfg, NULL };
	nudge_track_req r = { 0 };
	nudge_track_resp resp = { 0 };
	nudge_form f = { 0 };
	nudge_store *st = NULL;
	nudge_buf path = { 0 };
	nudge_err err;
	sqlite3_stmt *s;
	const char *body;
	size_t i;

	if (size > 65536)
		return 0;
	cfg.forms = &form;
	cfg.nforms = 1;
	/* 1. the parser, on a copy ending at an unreadable page */
	body = fuzz_guarded(data, size);
	CHECK(nudge_track_form_parse(&f, body, size) == 0);
	for (i = 0; i < f.n; i++) {
		CHECK(f.f[i].k != NULL && f.f[i].v != NULL);
		CHECK(strlen(f.f[i].k) <= size && strlen(f.f[i].v) <= size);
	}
	if (f.n > 0)
		CHECK(nudge_track_form_get(&f, f.f[0].k) == f.f[0].v);
	nudge_track_form_free(&f);

	/* 2. the sign-up */
	r.method = "POST";
	r.path = "/s/news";
	r.body = body;
	r.body_len = size;
	r.user_agent = "fuzz";
	r.remote_addr = "192.0.2.7";
	r.accept_language = size > 0 && data[0] & 1 ? "he" : "en";
	CHECK(nudge_signup_handle(&o, &r, &resp, &st, &err) == 0);
	check_resp(&resp);
	if (st != NULL) {
		CHECK(sqlite3_prepare_v2(st->db, "SELECT count(*) FROM events e"
		    " JOIN contacts c ON c.id = e.contact_id WHERE e.type ="
		    " 'signup_pending' AND (c.email IS NULL OR c.email NOT LIKE"
		    " '%_@_%._%' OR NOT json_valid(e.props))", -1, &s,
		    NULL) == SQLITE_OK);
		CHECK(sqlite3_step(s) == SQLITE_ROW);
		CHECK(sqlite3_column_int(s, 0) == 0);
		sqlite3_finalize(s);
	}

	/* 3. the input as a confirmation token, GET and POST */
	CHECK(nudge_buf_puts(&path, "/s/confirm/") == 0);
	for (i = 0; i < size && i < 4096; i++)
		CHECK(nudge_buf_putc(&path, data[i] != 0 ? (char)data[i] :
		    'A') == 0);
	r.path = path.s;
	r.body = NULL;
	r.body_len = 0;
	r.method = "GET";
	CHECK(nudge_signup_handle(&o, &r, &resp, &st, &err) == 0);
	check_resp(&resp);
	r.method = "POST";
	CHECK(nudge_signup_handle(&o, &r, &resp, &st, &err) == 0);
	check_resp(&resp);
	nudge_buf_free(&path);
	nudge_track_resp_free(&resp);
	return 0;
}
