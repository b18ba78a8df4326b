/* Fuzz target track: one CGI request to the tracking endpoints (method,
 * PATH_INFO, QUERY_STRING, CONTENT_TYPE, User-Agent, REMOTE_ADDR,
 * X-Twilio-Signature and the body, NUL-separated) against a store with
 * the fixture.  So that the fuzzer gets past the MACs it cannot forge,
 * the harness fills in "{o}", "{c}", "{u}" in the path with good tokens
 * (open, click, unsubscribe of the fixture's sent message), "{sig}" as
 * the signature with Twilio's, and "{mgsig}" in the body with Mailgun's.
 * Every response is a known status with well-formed header lines: no
 * field of the request can add a header. */
#include "fuzz.h"

#include "token.h"
#include "track.h"

static const char key[] = "fuzz-secret";
static const char base[] = "https://t.example/t";
static const char twilio_token[] = "twilio-fuzz-token";
static const char mailgun_key[] = "mailgun-fuzz-key";

static int
opener(void *arg, nudge_store **st, nudge_err *err)
{
	(void)arg;
	(void)err;
	*st = fuzz_store();
	return 0;
}

/* s with each "{o}", "{c}", "{u}" replaced by a good token. */
static char *
fill_tokens(const char *s)
{
	nudge_buf b = { 0 }, u = { 0 };
	nudge_err err;
	const char *p;

	for (p = s; *p != '\0'; p++) {
		if (p[0] == '{' && strchr("ocu", p[1]) != NULL && p[1] != '\0' &&
		    p[2] == '}') {
			nudge_buf_reset(&u);
			CHECK(nudge_track_url(&u, base, key, sizeof key - 1,
			    p[1], 1, "hello", (p - s) & 1 ? 3 : 1,
			    "https://shop.example/a?b=1", 26, FUZZ_NOW,
			    &err) == 0);
			CHECK(nudge_buf_puts(&b, u.s + sizeof base + 2) == 0);
			p += 2;
		} else
			CHECK(nudge_buf_putc(&b, *p) == 0);
	}
	CHECK(nudge_buf_putc(&b, '\0') == 0);
	nudge_buf_free(&u);
	return b.s;
}

struct kv {
	char *k, *v;
};

static char *
decode(const char *s, size_t n)
{
	char *d = malloc(n + 1), *p = d;
	size_t i;
	unsigned x;

	CHECK(d != NULL);
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			*p++ = ' ';
		else if (s[i] == '%' && i + 2 < n && sscanf(s + i + 1, "%2x",
		    &x) == 1 && strchr("0123456789abcdefABCDEF", s[i + 1]) &&
		    s[i + 1] != '\0' && strchr("0123456789abcdefABCDEF",
		    s[i + 2]) && s[i + 2] != '\0') {
			*p++ = (char)x;
			i += 2;
		} else
			*p++ = s[i];
	}
	*p = '\0';
	return d;
}

static int
kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c != 0 ? c : strcmp(x->v, y->v);
}

/* Twilio's signature for the request: base64 of HMAC-SHA1 over the URL
 * and the form fields sorted, each name then value. */
static char *
twilio_sig(const char *path, const char *query, const char *body, size_t n)
{
	nudge_buf s = { 0 }, sig = { 0 };
	struct kv f[64];
	size_t nf = 0, i;
	const char *p = body, *end = body + n;
	unsigned char md[20];

	while (p < end && nf < 64) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp != NULL ? amp : end, *eq;

		eq = memchr(p, '=', (size_t)(e - p));
		if (e > p) {
			f[nf].k = decode(p, (size_t)((eq ? eq : e) - p));
			f[nf].v = eq ? decode(eq + 1, (size_t)(e - eq - 1)) :
			    decode("", 0);
			nf++;
		}
		p = e + 1;
	}
	qsort(f, nf, sizeof *f, kv_cmp);
	CHECK(nudge_buf_puts(&s, base) == 0 && nudge_buf_puts(&s, path) == 0);
	if (query != NULL && *query != '\0')
		CHECK(nudge_buf_printf(&s, "?%s", query) == 0);
	for (i = 0; i < nf; i++) {
		CHECK(nudge_buf_puts(&s, f[i].k) == 0 &&
		    nudge_buf_puts(&s, f[i].v) == 0);
		free(f[i].k);
		free(f[i].v);
	}
	CHECK(nudge_hmac(20, twilio_token, sizeof twilio_token - 1, s.s,
	    s.len, md) == 0);
	CHECK(nudge_b64_encode(&sig, md, 20, 0) == 0);
	nudge_buf_free(&s);
	return sig.s;
}

/* body with "{mgsig}" replaced by Mailgun's signature of the timestamp
 * and token the body holds (read as the library reads them). */
static char *
mailgun_body(const char *body, size_t n, size_t *outlen)
{
	const char *at = memmem(body, n, "{mgsig}", 7);
	nudge_store *st = fuzz_store();
	sqlite3_stmt *s;
	nudge_buf m = { 0 }, b = { 0 };
	unsigned char md[32];
	char hex[65] = "";
	int i;

	CHECK(sqlite3_prepare_v2(st->db, "SELECT"
	    " json_extract(?1, '$.signature.timestamp'),"
	    " json_extract(?1, '$.signature.token') WHERE json_valid(?1)",
	    -1, &s, NULL) == SQLITE_OK);
	/* the signature is 64 hex digits: measure with them in place */
	CHECK(nudge_buf_add(&b, body, (size_t)(at - body)) == 0 &&
	    nudge_buf_puts(&b, "0000000000000000000000000000000000000000000"
	    "000000000000000000000") == 0 && nudge_buf_add(&b, at + 7,
	    n - (size_t)(at - body) - 7) == 0);
	sqlite3_bind_text(s, 1, b.s, (int)b.len, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) &&
	    sqlite3_column_text(s, 1)) {
		CHECK(nudge_buf_puts(&m, (const char *)sqlite3_column_text(s,
		    0)) == 0 && nudge_buf_puts(&m, (const char *)
		    sqlite3_column_text(s, 1)) == 0);
		CHECK(nudge_hmac(32, mailgun_key, sizeof mailgun_key - 1, m.s,
		    m.len, md) == 0);
		for (i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		memcpy(b.s + (at - body), hex, 64);
	}
	sqlite3_finalize(s);
	nudge_buf_free(&m);
	*outlen = b.len;
	return b.s;
}

static void
check_resp(const nudge_track_resp *r)
{
	static const int known[] = { 200, 204, 302, 400, 403, 404, 405, 413,
		500, 503 };
	const char *h = r->headers.s, *end = h + r->headers.len, *eol;
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (r->status == known[i])
			break;
	CHECK(i < sizeof known / sizeof known[0]);
	while (h != NULL && h < end) {
		eol = memchr(h, '\n', (size_t)(end - h));
		CHECK(eol != NULL && eol > h + 1 && eol[-1] == '\r');
		/* a header line: Name: value, no other CR, no NUL */
		CHECK(memchr(h, '\r', (size_t)(eol - 1 - h)) == NULL);
		CHECK(memchr(h, '\0', (size_t)(eol - h)) == NULL);
		CHECK(memchr(h, ':', (size_t)(eol - h)) != NULL);
		CHECK(*h != ' ' && *h != '\t');
		h = eol + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nudge_track_opts o = { key, sizeof key - 1, base, twilio_token,
		mailgun_key, FUZZ_NOW, opener, NULL, 1, NULL, NULL };
	nudge_track_req r = { 0 };
	nudge_track_resp resp = { 0 };
	nudge_err err;
	char *buf, *f[8], *path, *sig = NULL, *body = NULL;
	size_t n, last, blen;

	if (size > 65536)
		return 0;
	n = fuzz_split(data, size, &buf, f, 8, &last);
	path = fill_tokens(n > 1 ? f[1] : f[0]);
	r.method = n > 1 ? f[0] : "GET";
	r.path = path;
	r.query = n > 2 ? f[2] : NULL;
	r.content_type = n > 3 ? f[3] : NULL;
	r.user_agent = n > 4 ? f[4] : NULL;
	r.remote_addr = n > 5 ? f[5] : NULL;
	r.twilio_sig = n > 6 ? f[6] : NULL;
	if (n > 7) {
		r.body = f[7];
		r.body_len = last;
		if (memmem(r.body, r.body_len, "{mgsig}", 7) != NULL) {
			body = mailgun_body(r.body, r.body_len, &blen);
			r.body = body;
			r.body_len = blen;
		}
	}
	if (r.twilio_sig != NULL && strcmp(r.twilio_sig, "{sig}") == 0)
		r.twilio_sig = sig = twilio_sig(path, r.query, r.body != NULL ?
		    r.body : "", r.body_len);
	CHECK(nudge_track_handle(&o, &r, &resp, &err) == 0);
	check_resp(&resp);
	nudge_track_resp_free(&resp);
	/* the proxy guess never reads past its strings */
	(void)nudge_track_proxy(r.user_agent, r.remote_addr);
	free(sig);
	free(body);
	free(path);
	free(buf);
	return 0;
}
