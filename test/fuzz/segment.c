/* Fuzz target segment: a segment expression compiled (plain, and with a
 * campaign context), its SQL prepared on a store with the schema (a
 * compiled expression must always prepare) and run; explain and the
 * error caret for the failures. */
#include "fuzz.h"

#include "segment.h"

static void
one(nudge_store *st, const char *expr, const nudge_seg_ctx *ctx)
{
	static const char *const fields[] = { "email", "city", "a.b" };
	nudge_seg seg = { 0 }, sel = { 0 };
	nudge_buf b = { 0 };
	nudge_err err;
	sqlite3_stmt *s;
	int rc, steps = 0;

	err.msg[0] = '\0';
	rc = nudge_seg_compile_ctx(st, NULL, expr, FUZZ_NOW, ctx, &seg, &err);
	if (rc != 0) {
		CHECK(err.msg[0] != '\0');
		if (rc == EX_USAGE) {
			CHECK(seg.err_off <= strlen(expr));
			CHECK(nudge_seg_caret(&b, expr, seg.err_off) == 0);
		}
		nudge_seg_free(&seg);
		nudge_buf_free(&b);
		return;
	}
	CHECK(seg.sql != NULL && seg.cond != NULL);
	CHECK(seg.sql_order <= strlen(seg.sql));
	CHECK(nudge_seg_explain(&seg, &b) == 0);
	if (nudge_seg_prepare(st, &seg, &s, &err) != 0) {
		fprintf(stderr, "compiled but does not prepare: %s\n%s\n",
		    err.msg, seg.sql);
		abort();
	}
	while (steps++ < 10 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	sqlite3_finalize(s);
	if (nudge_seg_select(&seg, fields, 3, (int)(strlen(expr) & 1), &sel,
	    &err) == 0) {
		if (nudge_seg_prepare(st, &sel, &s, &err) != 0) {
			fprintf(stderr, "select does not prepare: %s\n%s\n",
			    err.msg, sel.sql);
			abort();
		}
		sqlite3_finalize(s);
	}
	nudge_seg_free(&sel);
	nudge_seg_free(&seg);
	nudge_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nudge_seg_ctx ctx = { .campaign = "welcome",
		.step_suffix = "@2027-01-01T00:00:00Z",
		.event_since = "c.created_at" };
	nudge_store *st = fuzz_store();
	char *expr;

	if (size > 4096)
		return 0;
	CHECK((expr = malloc(size + 1)) != NULL);
	memcpy(expr, data, size);
	expr[size] = '\0';
	one(st, expr, NULL);
	one(st, expr, &ctx);
	free(expr);
	return 0;
}
