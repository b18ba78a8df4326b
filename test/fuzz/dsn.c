/* Fuzz target dsn: one message or an mbox (as `nudge event import
 * --dsn` reads) parsed as a delivery status notification or an ARF
 * feedback report and matched against the fixture's contacts and ledger,
 * in a dry run (rolled back, so the store stays as it was).  Each result
 * is counted once, and every message has one. */
#include "fuzz.h"

#include "dsn.h"

static void
on_result(void *arg, const nudge_dsn_result *r)
{
	static const char *const st[] = { "bounced", "complained",
		"duplicate", "unmatched", "ignored" };
	size_t i;

	(*(long *)arg)++;
	CHECK(r->where != NULL && r->recipient != NULL && r->detail != NULL);
	for (i = 0; i < 5; i++)
		if (strcmp(r->status, st[i]) == 0)
			break;
	CHECK(i < 5);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long results = 0;
	nudge_dsn_opts o = { NULL, "US", 1, FUZZ_NOW, on_result, &results };
	nudge_dsn_counts n = { 0 };
	nudge_store *st = fuzz_store();
	nudge_err err;
	const char *path;
	int rc;

	if (size > 200000)
		return 0;
	path = fuzz_file("msg.eml", data, size);
	err.msg[0] = '\0';
	rc = nudge_dsn_import(st, path, &o, &n, &err);
	CHECK(rc == 0 || err.msg[0] != '\0');
	/* one result per recipient reported, at least one per message */
	CHECK(rc != 0 || results == n.bounced + n.complained + n.duplicate +
	    n.unmatched + n.ignored);
	CHECK(rc != 0 || results >= n.messages);
	return 0;
}
