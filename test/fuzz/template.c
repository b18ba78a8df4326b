/* Fuzz target template: a template (nudge-template(5)) parsed and, when
 * it parses, rendered for a fixed contact with event data (JSON lists for
 * {{#each}}) and {{#if}} conditions true by parity; a NUL in the input
 * starts the HTML sibling file.  A header part never holds a CR or LF
 * after rendering; the condition walk numbers every condition once. */
#include "fuzz.h"

#include "template.h"

static const char *
lookup(void *ctx, const char *name, size_t *len)
{
	static const char *const kv[] = {
		"first_name", "dana", "last_name", "O'Hara <\"x\">",
		"email", "dana@example.com", "phone", "+14155550101",
		"attrs.city", "Tel Aviv & Jaffa\r\nBcc: evil@example.com",
		"attrs.url", "https://shop.example/a?b=c&d=<e>",
		"attrs.bad", "javascript:alert(1)", "attrs.empty", "",
		"attrs.utf8", "Z\xc3\xbcrich \xe2\x82\xac",
		"attrs.nonutf8", "\xff\xfe\xc3(",
		"attrs.tz", "Asia/Jerusalem",
		"latest.purchase.items", "[{\"name\":\"Tea <b>\\r\\nBcc: x\","
		    "\"quantity\":2,\"price\":12.5,\"tags\":[\"a\",\"\\ud83d\"]},"
		    "{\"name\":\"\\u05d3\",\"price\":\"x\",\"currency\":\"eur\"},"
		    "3, null, [1,[2]], {\"at\":1793575800}]",
		"latest.purchase.total", "1234.5",
		"latest.purchase.currency", "ILS",
		"latest.purchase.at", "2026-11-01T23:30:00Z",
		"latest.bad.items", "[{\"a\":[1,2,{\"b\":}]",
		"latest.bad.deep", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]",
	};
	size_t i;

	(void)ctx;
	for (i = 0; i < sizeof kv / sizeof kv[0]; i += 2)
		if (strcmp(name, kv[i]) == 0) {
			*len = strlen(kv[i + 1]);
			return kv[i + 1];
		}
	return NULL;
}

static int
cond(void *ctx, size_t i, int *truth, nudge_err *err)
{
	(void)ctx;
	(void)err;
	*truth = (int)(i & 1);
	return 0;
}

static int
walk_cond(void *ctx, size_t i, const char *c, const char *where)
{
	size_t *next = ctx;

	CHECK(i == (*next)++);
	CHECK(c[0] != '\0' && where[0] != '\0');
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int headers[] = { NUDGE_TPL_SUBJECT, NUDGE_TPL_FROM,
		NUDGE_TPL_REPLY_TO, NUDGE_TPL_PREHEADER, NUDGE_TPL_TITLE };
	nudge_tpl *t = NULL;
	nudge_tpl_out out = { 0 };
	nudge_tpl_env env = { lookup, cond, NULL, "usd", NULL };
	nudge_err err;
	size_t nc = 0, seen = 0;
	const char *nul;
	size_t n = size, i;
	int rc;

	if (size > 65536)
		return 0;
	nul = memchr(data, '\0', size);
	if (nul != NULL)
		n = (size_t)(nul - (const char *)data);
	err.msg[0] = '\0';
	rc = nudge_tpl_parse("fuzz.tpl", (const char *)data, n,
	    nul != NULL ? nul + 1 : NULL, nul != NULL ? size - n - 1 : 0, &t,
	    &err);
	if (rc != 0) {
		CHECK(err.msg[0] != '\0');
		CHECK(rc == EX_DATAERR || rc == EX_OSERR);
		nudge_tpl_free(t);
		return 0;
	}
	(void)nudge_tpl_parts(t);
	(void)nudge_tpl_track(t);
	(void)nudge_tpl_each_cond(t, walk_cond, &seen, &nc);
	CHECK(seen == nc);
	rc = nudge_tpl_render_env(t, &env, &out, &err);
	CHECK(rc == 0 || rc == EX_DATAERR);
	if (rc == 0)
		for (i = 0; i < sizeof headers / sizeof headers[0]; i++) {
			const nudge_buf *b = &out.part[headers[i]];

			CHECK(b->len == 0 || (memchr(b->s, '\r', b->len) == NULL
			    && memchr(b->s, '\n', b->len) == NULL));
		}
	/* a second rendering into the same buffers */
	(void)nudge_tpl_render(t, lookup, NULL, &out, &err);
	(void)nudge_tpl_render_env(t, &env, &out, &err);
	nudge_tpl_out_free(&out);
	nudge_tpl_free(t);
	return 0;
}
