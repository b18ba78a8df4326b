/* Unit tests for the did-you-mean helper (util) and the known-names
 * lookup (names) over a real store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "names.h"
#include "segment.h"
#include "store.h"
#include "tap.h"

static void
test_distance(void)
{
	is_int(nudge_edit_distance("opened", "opened"), 0, "equal: 0");
	is_int(nudge_edit_distance("opend", "opened"), 1, "a letter left out");
	is_int(nudge_edit_distance("oppened", "opened"), 1, "one too many");
	is_int(nudge_edit_distance("clikced", "clicked"), 1,
	    "two neighbours swapped count once");
	is_int(nudge_edit_distance("", "sms"), 3, "from nothing");
	is_int(nudge_edit_distance("typo", "promo"), 4, "typo and promo: too far for a hint");
}

static void
test_closest(void)
{
	static const char *const types[] = { "sent", "opened", "clicked",
	    NULL, "purchase", "ad_view" };
	static const char *const lists[] = { "vip", "newsletter" };
	const size_t nt = sizeof types / sizeof types[0];

	is_str(nudge_closest("opend", types, nt), "opened", "opend: opened");
	is_str(nudge_closest("purchse", types, nt), "purchase",
	    "purchse: purchase");
	is_str(nudge_closest("ad-view", types, nt), "ad_view",
	    "ad-view: ad_view");
	is_str(nudge_closest("Newsletter", lists, 2), "newsletter",
	    "the same but for case comes first");
	ok(nudge_closest("opened", types, nt) == NULL,
	    "a known name gets no hint");
	ok(nudge_closest("bought", types, nt) == NULL,
	    "nothing close: no hint");
	ok(nudge_closest("vi", lists, 2) != NULL &&
	    nudge_closest("xy", lists, 2) == NULL,
	    "a short word allows one edit, no more");
}

/* Checks one name of an expression against k; returns the hint. */
static const char *
check(nudge_names *k, const char *expr, int *rc)
{
	static nudge_buf why;
	nudge_seg seg;
	nudge_err e;

	nudge_buf_reset(&why);
	*rc = -1;
	if (nudge_seg_compile(NULL, NULL, expr, 0, &seg, &e) == 0 &&
	    seg.nnames > 0)
		*rc = nudge_names_check(k, &seg.names[seg.nnames - 1], &why,
		    &e);
	nudge_seg_free(&seg);
	return nudge_buf_str(&why);
}

static void
test_store(void)
{
	char dir[] = "/tmp/nudge-names.XXXXXX", path[64];
	nudge_store *st;
	nudge_names *k;
	nudge_err e;
	nudge_buf sql = { 0 };
	const char *why;
	int rc, i;

	if (mkdtemp(dir) == NULL) {
		ok(0, "a scratch directory");
		return;
	}
	snprintf(path, sizeof path, "%s/n.db", dir);
	ok(nudge_store_open(&st, path, NUDGE_STORE_CREATE, &e) == 0,
	    "a store");
	/* 300 event types, so that the hint's skip-scan walks them all */
	nudge_buf_puts(&sql, "INSERT INTO contacts (id, email, created_at, "
	    "updated_at) VALUES (1, 'a@example.com', 0, 0);"
	    "INSERT INTO lists (name, created_at) VALUES ('newsletter', 0);"
	    "INSERT INTO campaigns (name, created_at) VALUES ('promo', 0);");
	for (i = 0; i < 300; i++)
		nudge_buf_printf(&sql, "INSERT INTO events (contact_id, type, "
		    "at) VALUES (1, 'type%03d', %d);", i, i);
	nudge_buf_puts(&sql, "INSERT INTO events (contact_id, type, "
	    "campaign_id, step, at) VALUES (1, 'opened', 1, 'email1', 0);");
	ok(nudge_store_exec(st, nudge_buf_str(&sql), &e) == 0, "its rows");
	nudge_buf_free(&sql);
	ok(nudge_names_open(&k, st, NULL, &e) == 0, "a lookup");

	check(k, "type299", &rc);
	is_int(rc, 1, "an event type of the store is known");
	why = check(k, "typ299", &rc);
	is_int(rc, 0, "a near miss is not");
	is_str(why, "no event of type \"typ299\"; did you mean \"type299\"?",
	    "and is hinted from the store's types, the last of 300 included");
	check(k, "opened", &rc);
	is_int(rc, 1, "nudge's own types are known");
	why = check(k, "list \"Newsletter\"", &rc);
	is_str(why, "list \"Newsletter\" is unknown; there is \"newsletter\" "
	    "(list names are case-sensitive)", "a list in the wrong case");
	check(k, "opened campaign \"promo\" step \"email1\"", &rc);
	is_int(rc, 1, "a step of the store's events is known");
	why = check(k, "opened campaign \"promo\" step \"emial1\"", &rc);
	is_str(why, "campaign \"promo\" has no step \"emial1\"; did you mean "
	    "\"email1\"?", "a step's hint comes from its campaign's events");
	why = check(k, "opened campaign \"Promo\"", &rc);
	is_str(why, "campaign \"Promo\" is unknown; there is \"promo\" "
	    "(campaign names are case-sensitive)", "a campaign in the wrong "
	    "case");
	nudge_names_free(k);

	ok(nudge_names_open(&k, NULL, NULL, &e) == 0, "a lookup without store");
	why = check(k, "list \"newsletter\"", &rc);
	is_int(rc, 2, "a list cannot be checked without a store");
	check(k, "opend", &rc);
	is_int(rc, 0, "but a near miss of nudge's own types is still a typo");
	nudge_names_free(k);
	nudge_store_close(st);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	if (system(path) != 0)
		printf("# could not remove %s\n", dir);
}

int
main(void)
{
	test_distance();
	test_closest();
	test_store();
	return done_testing();
}
