/* Fuzz target csv-import: a CSV file through csvin (every record read,
 * written back with nudge_csv_write and read again: the same fields) and
 * through import-list's nudge_import_contacts into a store, the options
 * taken from the input's length. */
#include "fuzz.h"

#include "csvin.h"
#include "listimport.h"

static int
on_reject(void *ctx, const nudge_csv_rec *rec, const char *reason,
    nudge_err *err)
{
	(void)ctx;
	(void)err;
	CHECK(rec != NULL && reason != NULL && reason[0] != '\0');
	return 0;
}

/* Reads every record of data; each one that is plain (valid UTF-8) is
 * written as CSV and must read back as the same fields. */
static void
roundtrip(const uint8_t *data, size_t size)
{
	FILE *fp, *out, *back;
	nudge_csv *c, *c2;
	const nudge_csv_rec *r, *r2;
	nudge_err err;
	char *buf;
	size_t blen, i;
	int rc;

	CHECK((fp = fmemopen((void *)(uintptr_t)data, size, "rb")) != NULL ||
	    size == 0);
	if (fp == NULL)
		return;
	CHECK(nudge_csv_open(&c, fp, "fuzz.csv", &err) == 0);
	while ((rc = nudge_csv_next(c, &r, &err)) == 1) {
		CHECK(r->line >= 1);
		for (i = 0; i < r->n; i++)
			CHECK(r->f[i][r->len[i]] == '\0');
		if (r->bad_utf8 != 0 || (r->n == 1 && r->len[0] == 0))
			continue;
		buf = NULL;
		blen = 0;
		CHECK((out = open_memstream(&buf, &blen)) != NULL);
		CHECK(nudge_csv_write(out, (const char *const *)r->f, r->len,
		    r->n) == 0);
		CHECK(fclose(out) == 0);
		CHECK((back = fmemopen(buf, blen, "rb")) != NULL);
		CHECK(nudge_csv_open(&c2, back, "back.csv", &err) == 0);
		CHECK(nudge_csv_next(c2, &r2, &err) == 1);
		CHECK(r2->n == r->n);
		for (i = 0; i < r->n; i++)
			if (r2->len[i] != r->len[i] ||
			    memcmp(r2->f[i], r->f[i], r->len[i]) != 0) {
				fprintf(stderr, "line %ld field %zu: read "
				    "\"%.*s\", written \"%.*s\", read back "
				    "\"%.*s\"\n", r->line, i, (int)r->len[i],
				    r->f[i], (int)blen, buf, (int)r2->len[i],
				    r2->f[i]);
				abort();
			}
		CHECK(nudge_csv_next(c2, &r2, &err) == 0);
		nudge_csv_close(c2);
		fclose(back);
		free(buf);
	}
	CHECK(rc == 0 || rc == EX_DATAERR || rc == EX_IOERR);
	nudge_csv_close(c);
	fclose(fp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const lists[] = { "news", "fuzz" };
	static const char *const maps[] = { "Mail=email", "Town=attrs.city" };
	nudge_store *st = fuzz_store();
	nudge_import_opts o = { 0 };
	nudge_import_stats stats = { 0 };
	nudge_err err;
	FILE *fp;
	int rc;

	if (size > 65536)
		return 0;
	roundtrip(data, size);
	if (size == 0)
		return 0;
	o.name = "fuzz.csv";
	o.key_phone = (size & 1) != 0;
	o.replace_lists = (size & 2) != 0;
	o.lists = lists;
	o.nlists = (size & 4) ? 2 : 0;
	o.maps = maps;
	o.nmaps = (size & 8) ? 2 : 0;
	o.country = (size & 16) ? "US" : NULL;
	/* mostly a dry run, so that the store stays small */
	o.dry_run = (size % 7) != 0;
	o.now = FUZZ_NOW;
	o.on_reject = on_reject;
	CHECK((fp = fmemopen((void *)(uintptr_t)data, size, "rb")) != NULL);
	err.msg[0] = '\0';
	rc = nudge_import_contacts(st, fp, &o, &stats, &err);
	CHECK(rc == 0 || err.msg[0] != '\0');
	CHECK(rc != 0 || stats.read == stats.inserted + stats.updated +
	    stats.unchanged + stats.rejected);
	fclose(fp);
	if (!o.dry_run && rc == 0)
		/* back to the fixture's contacts */
		CHECK(nudge_store_exec(st, "DELETE FROM list_members WHERE "
		    "contact_id > 3 OR list_id > 2; DELETE FROM consent WHERE "
		    "contact_id > 3; DELETE FROM contacts WHERE id > 3; "
		    "DELETE FROM lists WHERE id > 2", &err) == 0);
	return 0;
}
