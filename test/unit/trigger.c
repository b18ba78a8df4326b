/* Unit tests for what trigger builds on: step references and the other
 * campaign-context options of the segment compiler, parameter renumbering
 * when segments are joined into one query, the round suffix of recurring
 * campaigns, and a campaign's policy over the config's. */
#include <stdlib.h>
#include <string.h>

#include "campaign.h"
#include "segment.h"
#include "tap.h"
#include "trigger.h"
#include "trigline.h"

#define NOW 1793491200 /* 2026-11-01T00:00:00Z, a Sunday */

static void
test_step_refs(void)
{
	nudge_seg_ctx ctx = { .campaign = "wf" };
	nudge_seg seg;
	nudge_err e;
	int rc;

	rc = nudge_seg_compile_ctx(NULL, NULL, "not opened step \"push1\"",
	    NOW, &ctx, &seg, &e);
	is_int(rc, 0, "step alone in a campaign file compiles");
	is_str(seg.cond, "c.id NOT IN (SELECT e.contact_id FROM events e "
	    "WHERE e.type = ?1 AND e.campaign_id = (SELECT k.id FROM "
	    "campaigns k WHERE k.name = ?2) AND e.step = ?3)",
	    "  as the campaign's events of that step");
	is_str(seg.params[1].s, "wf", "  the campaign from the context");
	is_str(seg.params[2].s, "push1", "  the step id");
	nudge_seg_free(&seg);

	ctx.step_suffix = "@2026-10-29T00:00:00Z";
	rc = nudge_seg_compile_ctx(NULL, NULL, "clicked step \"a\" or "
	    "clicked campaign \"other\" step \"a\"", NOW, &ctx, &seg, &e);
	is_int(rc, 0, "with a round suffix");
	is_str(seg.params[2].s, "a@2026-10-29T00:00:00Z",
	    "  this campaign's step is this round's");
	is_str(seg.params[5].s, "a", "  another campaign's step is as written");
	nudge_seg_free(&seg);

	rc = nudge_seg_compile_ctx(NULL, NULL, "opened step \"x\"", NOW, NULL,
	    &seg, &e);
	is_int(rc, EX_USAGE, "step without a campaign outside a file: 64");
	is_str(e.msg, "column 8: \"step\" outside a campaign file needs "
	    "campaign \"NAME\" before it", "  says what it needs");
	nudge_seg_free(&seg);

	rc = nudge_seg_compile_ctx(NULL, NULL, "opened step x", NOW, &ctx,
	    &seg, &e);
	is_str(e.msg, "column 13: expected a step id in double quotes after "
	    "\"step\", got \"x\"", "a step id must be quoted");
	nudge_seg_free(&seg);

	ctx.step_suffix = NULL;
	ctx.event_since = "j0.claimed_at";
	rc = nudge_seg_compile_ctx(NULL, NULL, "purchase within 7d", NOW,
	    &ctx, &seg, &e);
	is_str(seg.cond, "c.id IN (SELECT e.contact_id FROM events e WHERE "
	    "e.type = ?1 AND e.contact_id = c.id AND e.at >= (j0.claimed_at) "
	    "AND e.at >= ?2)", "event_since bounds every event predicate");
	nudge_seg_free(&seg);

	rc = nudge_seg_compile_ctx(NULL, NULL, "@vip or list \"a\"", NOW,
	    &ctx, &seg, &e);
	is_int(rc, EX_USAGE, "@name without a store is an error");
	nudge_seg_free(&seg);
	ctx.lenient_refs = 1;
	rc = nudge_seg_compile_ctx(NULL, NULL, "@vip or list \"a\"", NOW,
	    &ctx, &seg, &e);
	is_int(rc, 0, "  unless lenient (trigger --check)");
	nudge_seg_free(&seg);
}

static void
test_append(void)
{
	nudge_seg a, b, q = { 0 };
	nudge_buf cond = { 0 }, sql = { 0 };
	nudge_err e;
	int n;

	nudge_seg_compile(NULL, NULL, "list \"x\" and opened within 1d", NOW,
	    &a, &e);
	nudge_seg_compile(NULL, NULL, "clicked", NOW, &b, &e);
	n = nudge_seg_param_add(&q, NUDGE_SEG_TEXT, 0, "mine", &e);
	is_int(n, 1, "a parameter of the caller's first");
	is_int(nudge_seg_append(&q, &a, NULL, &sql, &e), 0, "append a's query");
	is_int(nudge_seg_append(&q, &b, &cond, NULL, &e), 0,
	    "append b's condition");
	is_int(q.nparams, 5, "  every parameter, once");
	is_str(cond.s, "c.id IN (SELECT e.contact_id FROM events e WHERE "
	    "e.type = ?5)", "  b's ?1 is now ?5");
	ok(strstr(sql.s, "l.name = ?2") != NULL &&
	    strstr(sql.s, "e.type = ?3 AND e.at >= ?4") != NULL,
	    "  a's ?1..?3 are now ?2..?4");
	is_str(q.params[4].s, "clicked", "  with their values");
	nudge_buf_reset(&sql);
	is_int(nudge_seg_append_unordered(&q, &a, &sql, &e), 0,
	    "append a's query without its ORDER BY");
	ok(strstr(sql.s, "ORDER BY") == NULL && strstr(a.sql, " ORDER BY ") !=
	    NULL, "  (a compound's operand)");
	nudge_seg_free(&a);
	nudge_seg_free(&b);
	nudge_seg_free(&q);
	nudge_buf_free(&cond);
	nudge_buf_free(&sql);
}

static void
test_round_and_policy(void)
{
	nudge_campaign c;
	nudge_policy_cfg g, p;
	char buf[48];

	memset(&c, 0, sizeof c);
	c.policy.quiet_from = c.policy.quiet_to = -1;
	nudge_trigger_round(&c, NOW, buf, sizeof buf);
	is_str(buf, "", "a campaign entered once has no round");
	c.every = 86400;
	nudge_trigger_round(&c, NOW + 3600, buf, sizeof buf);
	is_str(buf, "@2026-11-01T00:00:00Z", "every 1d: rounds at midnight UTC");
	c.every = 7 * 86400;
	nudge_trigger_round(&c, NOW, buf, sizeof buf);
	is_str(buf, "@2026-10-29T00:00:00Z", "every 7d: rounds on Thursdays");

	memset(&g, 0, sizeof g);
	g.cap_max = 3;
	g.cap_per = 86400;
	g.quiet_from = 21 * 60;
	g.quiet_to = 8 * 60;
	g.exclude = "list \"staff\"";
	c.policy.exclude = "purchase within 2d";
	c.policy.sunset = 90 * 86400;
	nudge_campaign_policy(&c, &g, &p);
	is_str(p.exclude, "purchase within 2d", "the campaign's exclude wins");
	is_int(p.sunset, 90 * 86400, "  and its sunset");
	is_int(p.cap_max, 3, "the config's cap stays");
	is_int(p.quiet_from, 21 * 60, "  and its quiet hours");
	nudge_campaign_policy(&c, NULL, &p);
	is_int(p.quiet_from, -1, "no config: no quiet hours");
}

/* The trigger line carries a journey instance as STEP#EVENT: the reader
 * gives its event id, a round or a plain step none. */
static void
test_trigline_instance(void)
{
	char a[] = "7\tabandoned-cart\tcart-email#4211\tc.yaml";
	char b[] = "7\tdigest\tdigest@2026-11-16T08:00:00Z\td.yaml";
	char c[] = "7\tx\ts#\tx.yaml";
	nudge_trigline t;

	is_int(nudge_trigline_split(a, &t), 4, "a trigger line of an instance");
	is_str(t.step, "cart-email#4211", "its step keeps the instance");
	ok(t.entry_event == 4211, "the entry event's id");
	nudge_trigline_split(b, &t);
	ok(t.entry_event == 0, "a round is no instance");
	nudge_trigline_split(c, &t);
	ok(t.entry_event == 0, "nor an empty one");
}

int
main(void)
{
	test_step_refs();
	test_append();
	test_round_and_policy();
	test_trigline_instance();
	return done_testing();
}
