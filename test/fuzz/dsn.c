/* Fuzz target dsn: one message or an mbox (as `nudge event import
 * --format dsn --parser builtin` reads) parsed as a delivery status notification or an ARF
 * feedback report and matched against the fixture's contacts and ledger,
 * in a dry run (rolled back, so the store stays as it was).  Each result
 * is counted once, and every message has one. */
#include "fuzz.h"

#include "dsn.h"

static void
on_result(void *arg, const nudge_dsn_result *r)
{
	static const char *const st[] = { "bounced", "complained",
		"duplicate", "unmatched", "ignored", "reclassified", "restored",
		"suppressed" };
	size_t i, n = sizeof st / sizeof st[0];

	(*(long *)arg)++;
	CHECK(r->where != NULL && r->recipient != NULL && r->detail != NULL);
	for (i = 0; i < n; i++)
		if (strcmp(r->status, st[i]) == 0)
			break;
	CHECK(i < n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long results = 0;
	nudge_dsn_opts o = { .country = "US", .dry_run = 1, .now = FUZZ_NOW,
	    .on_result = on_result, .arg = &results,
	    .parser = NUDGE_DSN_BUILTIN, .soft_limit = 2,
	    .soft_within = 30 * 86400 };
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
	    n.unmatched + n.ignored + n.reclassified + n.soft_suppressed);
	/* every bounce is in one class */
	CHECK(rc != 0 || n.bounced == n.hard + n.soft + n.sender);
	CHECK(rc != 0 || results >= n.messages);
	return 0;
}
