/* Unit tests for util, clock, contact normalisation, csvin, yaml, store. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "contact.h"
#include "csvin.h"
#include "store.h"
#include "tap.h"
#include "yaml.h"

static void
test_utf8(void)
{
	ok(nudge_utf8_valid("abc", 3), "ascii is utf-8");
	ok(nudge_utf8_valid("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", 8),
	    "hebrew is utf-8");
	ok(!nudge_utf8_valid("\xff", 1), "0xff is not utf-8");
	ok(!nudge_utf8_valid("\xc0\xaf", 2), "overlong is not utf-8");
	ok(!nudge_utf8_valid("\xed\xa0\x80", 3), "surrogate is not utf-8");
	ok(!nudge_utf8_valid("a\0b", 3), "NUL is refused");
	ok(!nudge_utf8_valid("\xd7", 1), "truncated sequence is refused");
}

static void
test_clock(void)
{
	int64_t t;
	char buf[32];

	ok(nudge_time_parse("2026-11-01", &t) == 0 && t == 1793491200,
	    "date is midnight UTC");
	ok(nudge_time_parse("2026-11-01T10:30:00Z", &t) == 0 &&
	    t == 1793491200 + 37800, "datetime with Z");
	ok(nudge_time_parse("2026-11-01 12:30+02:00", &t) == 0 &&
	    t == 1793491200 + 37800, "offset and space");
	ok(nudge_time_parse("@1700000000", &t) == 0 && t == 1700000000,
	    "@seconds");
	ok(nudge_time_parse("2024-02-30", &t) == -1, "impossible date refused");
	ok(nudge_time_parse("2024-02-29", &t) == 0, "leap day taken");
	ok(nudge_time_parse("03/15/2024", &t) == -1, "US date refused");
	ok(nudge_time_parse("2026-11-01T25:00Z", &t) == -1, "hour 25 refused");
	is_str(nudge_time_format(1793491200 + 37800, buf, sizeof buf),
	    "2026-11-01T10:30:00Z", "format");
	ok(nudge_duration_parse("7d", &t) == 0 && t == 604800, "7d");
	ok(nudge_duration_parse("30m", &t) == 0 && t == 1800, "30m");
	ok(nudge_duration_parse("4w", &t) == 0 && t == 2419200, "4w");
	ok(nudge_duration_parse("7", &t) == -1, "unitless refused");
	ok(nudge_duration_parse("0d", &t) == -1, "zero refused");
	ok(nudge_duration_parse("7dd", &t) == -1, "junk refused");
}

static void
email(const char *in, const char *want)
{
	char out[NUDGE_EMAIL_MAX + 1];
	const char *why = NULL;
	int rc = nudge_email_norm(in, strlen(in), out, &why);
	char desc[200];

	snprintf(desc, sizeof desc, "email \"%s\" -> %s", in,
	    want ? want : "rejected");
	if (want == NULL)
		ok(rc == -1 && why != NULL, desc);
	else
		is_str(rc == 0 ? out : why, want, desc);
}

static void
phone(const char *in, const char *cc, const char *want)
{
	char out[NUDGE_PHONE_MAX];
	const char *why = NULL;
	int rc = nudge_phone_norm(in, strlen(in), cc, out, &why);
	char desc[200];

	snprintf(desc, sizeof desc, "phone \"%s\" (%s) -> %s", in,
	    cc ? cc : "-", want ? want : "rejected");
	if (want == NULL)
		ok(rc == -1 && why != NULL, desc);
	else
		is_str(rc == 0 ? out : why, want, desc);
}

static void
test_contact(void)
{
	email("Dana.Levi@Example.COM", "dana.levi@example.com");
	email("  Dana@Example.com ", "dana@example.com");
	email("a+tag@sub.example.co.il", "a+tag@sub.example.co.il");
	email("dana.at.example.com", NULL);
	email("dana@", NULL);
	email("@example.com", NULL);
	email("dana@@example.com", NULL);
	email("dana levi@example.com", NULL);
	email("dana@example.com.", NULL);
	email("dana@localhost", NULL);
	email("<dana@example.com>", NULL);
	email("dana@example,com", NULL);
	email("dana@example.com;x@example.com", NULL);
	email("\xd7\x93\xd7\xa0\xd7\x94@example.com", NULL);
	email("", NULL);
	email("n/a", NULL);
	email("a..b@example.com", NULL);
	email("dana@-example.com", NULL);
	phone("052-1234567", "IL", "+972521234567");
	phone("0521234567", "IL", "+972521234567");
	phone("+972 52-123-4567", NULL, "+972521234567");
	phone("+972521234567", NULL, "+972521234567");
	phone("00972521234567", NULL, "+972521234567");
	phone("+1 (212) 555-0134", NULL, "+12125550134");
	phone("(212) 555-0134", "US", "+12125550134");
	phone("052-1234567", NULL, NULL);
	phone("052", "IL", NULL);
	phone("n/a", "IL", NULL);
	phone("+972-5x-123", "IL", NULL);
	phone("call me", "IL", NULL);
	phone("+97252123", NULL, NULL);
	ok(nudge_contact_ref_kind("42") == NUDGE_REF_ID, "digits are an id");
	ok(nudge_contact_ref_kind("0521234567") == NUDGE_REF_PHONE,
	    "leading 0 is a phone");
	ok(nudge_contact_ref_kind("+972521234567") == NUDGE_REF_PHONE,
	    "+ is a phone");
	ok(nudge_contact_ref_kind("a@b.co") == NUDGE_REF_EMAIL, "@ is an email");
}

static const nudge_csv_rec *
next(nudge_csv *c)
{
	const nudge_csv_rec *r = NULL;
	nudge_err err;
	int rc = nudge_csv_next(c, &r, &err);

	if (rc != 1) {
		if (rc != 0)
			printf("# csv: %s\n", err.msg);
		return NULL;
	}
	return r;
}

static void
test_csv(void)
{
	static const char text[] =
	    "\xef\xbb\xbf" "email,name\r\n"
	    "a@x.io,\"Levi, Dana\"\r\n"
	    "\r\n"
	    "b@x.io,\"two\nlines\"\r\n"
	    "c@x.io,\xff\n"
	    "d@x.io,\"q\"\"uote\"";
	const nudge_csv_rec *r;
	nudge_csv *c;
	nudge_err err;
	FILE *fp = fmemopen((void *)text, sizeof text - 1, "r");

	ok(nudge_csv_open(&c, fp, "t.csv", &err) == 0, "csv open");
	r = next(c);
	ok(r && r->n == 2 && r->line == 1 && strcmp(r->f[0], "email") == 0,
	    "BOM skipped, header on line 1");
	r = next(c);
	ok(r && r->line == 2 && strcmp(r->f[1], "Levi, Dana") == 0 &&
	    r->len[1] == 10, "quoted comma, CRLF dropped");
	r = next(c);
	ok(r && r->line == 4 && strcmp(r->f[1], "two\nlines") == 0,
	    "blank line skipped; quoted newline kept; line of its start");
	r = next(c);
	ok(r && r->line == 6 && r->bad_utf8 == 2, "bad utf-8 flagged by field");
	r = next(c);
	ok(r && r->line == 7 && strcmp(r->f[1], "q\"uote") == 0,
	    "doubled quote; last line without newline");
	ok(next(c) == NULL, "end of input");
	nudge_csv_close(c);
	fclose(fp);

	fp = fmemopen((void *)"a,\"open\nb,c\n", 12, "r");
	nudge_csv_open(&c, fp, "open.csv", &err);
	ok(nudge_csv_next(c, &r, &err) == EX_DATAERR &&
	    strstr(err.msg, "open.csv:1:") != NULL, "unclosed quote: line 1");
	nudge_csv_close(c);
	fclose(fp);
}

static void
test_yaml(void)
{
	static const char y[] = "db: x.db\nlist:\n  - a\n  - \"b\"\nmap: {k: v}\n";
	nudge_ynode *root;
	nudge_err err;

	ok(nudge_yaml_parse("t.yaml", y, sizeof y - 1, &root, &err) == 0,
	    "yaml parses");
	ok(root && root->n == 3 && nudge_yaml_get(root, "list")->n == 2 &&
	    nudge_yaml_get(root, "list")->kids[1]->line == 4, "yaml tree");
	nudge_yaml_free(root);
	ok(nudge_yaml_parse("t.yaml", "a: 1\na: 2\n", 10, &root, &err) ==
	    EX_DATAERR && strcmp(err.msg, "t.yaml:2:1: duplicate key \"a\"") == 0,
	    "duplicate key names line");
	ok(nudge_yaml_parse("t.yaml", "a: &x 1\nb: *x\n", 14, &root, &err) ==
	    EX_DATAERR, "aliases refused");
	ok(nudge_yaml_parse("t.yaml", "a: [1\n", 6, &root, &err) == EX_DATAERR &&
	    strncmp(err.msg, "t.yaml:", 7) == 0, "syntax error has position");
}

/* The first column of the first row of sql, as text ("" for none). */
static const char *
pragma_text(nudge_store *st, const char *sql)
{
	static char v[32];
	sqlite3_stmt *s;

	v[0] = '\0';
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return v;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(v, sizeof v, "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return v;
}

static void
test_store(void)
{
	char dir[] = "/tmp/nudge-unit.XXXXXX", path[64], cmd[128];
	nudge_store *st;
	nudge_err err;
	FILE *fp;

	if (mkdtemp(dir) == NULL)
		return;
	snprintf(path, sizeof path, "%s/a.db", dir);
	ok(nudge_store_open(&st, path, 0, &err) == EX_NOINPUT,
	    "missing store without create: EX_NOINPUT");
	ok(nudge_store_open(&st, path, NUDGE_STORE_CREATE, &err) == 0,
	    "created");
	nudge_store_close(st);
	ok(nudge_store_open(&st, path, 0, &err) == 0, "reopened");
	/* the durability nudge-track(1) documents for opens and clicks:
	 * WAL, synchronous=NORMAL (a commit is not flushed; a power loss
	 * may lose the last ones, never corrupt the file) */
	is_str(pragma_text(st, "PRAGMA journal_mode"), "wal",
	    "store: journal_mode is WAL");
	is_str(pragma_text(st, "PRAGMA synchronous"), "1",
	    "store: synchronous is NORMAL (1)");
	nudge_store_per_request(st, 250, 1);
	is_str(pragma_text(st, "PRAGMA synchronous"), "1",
	    "store: still NORMAL for a one-request connection");
	nudge_store_exec(st, "PRAGMA user_version = 99", &err);
	nudge_store_close(st);
	ok(nudge_store_open(&st, path, 0, &err) == EX_DATAERR &&
	    strstr(err.msg, "newer") != NULL, "newer schema refused");
	snprintf(path, sizeof path, "%s/b.db", dir);
	fp = fopen(path, "w");
	fputs("hello, this is not sqlite at all, not even close.......", fp);
	fclose(fp);
	ok(nudge_store_open(&st, path, 0, &err) == EX_DATAERR &&
	    strstr(err.msg, "not a nudge store") != NULL, "text file refused");
	snprintf(path, sizeof path, "%s/c.db", dir);
	snprintf(cmd, sizeof cmd, "sqlite3 %s 'CREATE TABLE t(x)'", path);
	if (system(cmd) == 0)
		ok(nudge_store_open(&st, path, 0, &err) == EX_DATAERR &&
		    strstr(err.msg, "another program") != NULL,
		    "foreign sqlite file refused, not rewritten");
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
}

static void
test_util(void)
{
	nudge_buf b = { 0 };
	char *s = NULL;

	ok(nudge_buf_replace(&b, "a c.id b c.id", "c.id", "m.contact_id") == 0,
	    "buf_replace: returns 0");
	is_str(nudge_buf_str(&b), "a m.contact_id b m.contact_id",
	    "buf_replace: every occurrence");
	nudge_buf_reset(&b);
	nudge_buf_replace(&b, "color: #1a73e8", "#1a73e8", "#c00");
	is_str(nudge_buf_str(&b), "color: #c00", "buf_replace: at the end");
	nudge_buf_reset(&b);
	nudge_buf_replace(&b, "none here", "#1a73e8", "#c00");
	is_str(nudge_buf_str(&b), "none here", "buf_replace: no occurrence");
	nudge_buf_free(&b);
	is_int(nudge_hexval('7'), 7, "hexval: digit");
	is_int(nudge_hexval('b'), 11, "hexval: lower case");
	is_int(nudge_hexval('F'), 15, "hexval: upper case");
	is_int(nudge_hexval('g'), -1, "hexval: not a digit");
	is_int(nudge_hex4("00e9", "00e9" + 4), 0xe9, "hex4: four digits");
	is_int(nudge_hex4("00e", "00e" + 3), -1, "hex4: too short");
	is_int(nudge_hex4("00x9", "00x9" + 4), -1, "hex4: not hex");
	ok(nudge_strset(&s, "one") == 0 && strcmp(s, "one") == 0,
	    "strset: a copy");
	ok(nudge_strset(&s, "two") == 0 && strcmp(s, "two") == 0,
	    "strset: replaces");
	free(s);
}

int
main(void)
{
	test_utf8();
	test_util();
	test_clock();
	test_contact();
	test_csv();
	test_yaml();
	test_store();
	return done_testing();
}
