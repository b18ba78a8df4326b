/* Unit tests for policy: each reason to skip, on a hand-built store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "segment.h"
#include "tap.h"

#define NOW 1793491200LL  /* 2026-11-01T00:00:00Z */
#define DAY 86400LL

static char dir[] = "/tmp/nudge-policy-unit.XXXXXX";

/* "send" or "skip: REASON" for one check; "error: MSG" on failure.  A
 * reason that does not begin with the words of its class (the enum the
 * summaries count) is marked " [class: WORDS]". */
static const char *
check(nudge_policy *p, int64_t id, const char *channel, int transactional)
{
	static char out[1100];
	enum nudge_skip v;
	char reason[256];
	nudge_err err;

	if (nudge_policy_check(p, id, channel, transactional, &v, reason,
	    sizeof reason, &err) != 0)
		snprintf(out, sizeof out, "error: %s", err.msg);
	else if (v == NUDGE_SKIP_NONE)
		snprintf(out, sizeof out, "send%s", reason);
	else if (strncmp(reason, nudge_skip_name(v),
	    strlen(nudge_skip_name(v))) == 0)
		snprintf(out, sizeof out, "skip: %s", reason);
	else
		snprintf(out, sizeof out, "skip: %s [class: %s]", reason,
		    nudge_skip_name(v));
	return out;
}

static const char fixture[] =
    "INSERT INTO contacts (id, email, phone, push_id, created_at,"
    " updated_at) VALUES"
    " (1, 'a@example.com', NULL, NULL, 0, 0),"
    " (2, NULL, '+972521234567', NULL, 0, 0),"
    " (3, 'c@example.com', '+972521234568', NULL, 0, 0),"
    " (4, 'd@example.com', NULL, NULL, 0, 0),"
    " (5, 'e@example.com', NULL, NULL, 0, 0),"
    " (6, 'f@example.com', NULL, 'push-6', 0, 0),"
    " (7, 'g@example.com', '+972521234569', NULL, 0, 0),"
    " (8, 'h@example.com', NULL, NULL, 0, 0),"
    " (9, 'i@example.com', NULL, NULL, 0, 0);"
    /* 2026-10-15 */
    "INSERT INTO consent (contact_id, channel, status, at, source) VALUES"
    " (3, 'email', 'subscribed', 1790000000, 'import'),"
    " (3, 'email', 'unsubscribed', 1792022400, 'import'),"
    " (4, 'email', 'bounced', 1792108800, 'event'),"
    " (5, 'email', 'complained', 1792195200, 'import:list.csv:7'),"
    " (6, 'email', 'unsubscribed', 1790000000, 'import'),"
    " (6, 'email', 'subscribed', 1791000000, 'event add');"
    /* 7: three sends in the last week over two channels; 8: two in the
     * week and one before it. */
    "INSERT INTO events (contact_id, type, channel, at) VALUES"
    " (7, 'sent', 'email', 1793491200 - 86400),"
    " (7, 'sent', 'sms', 1793491200 - 2 * 86400),"
    " (7, 'sent', 'email', 1793491200 - 6 * 86400),"
    " (7, 'opened', 'email', 1793491200 - 86400),"
    " (8, 'sent', 'email', 1793491200 - 86400),"
    " (8, 'sent', 'email', 1793491200 - 3 * 86400),"
    " (8, 'sent', 'email', 1793491200 - 8 * 86400),"
    " (9, 'purchase', NULL, 1793491200 - 86400),"
    " (1, 'purchase', NULL, 1793491200 - 5 * 86400);";

int
main(void)
{
	nudge_policy_cfg cfg;
	nudge_policy *p;
	nudge_store *st;
	nudge_err err;
	char db[300], cmd[300];
	enum nudge_skip v;
	char reason[256];

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(db, sizeof db, "%s/p.db", dir);
	if (!ok(nudge_store_open(&st, db, NUDGE_STORE_CREATE, &err) == 0 &&
	    nudge_store_exec(st, fixture, &err) == 0, "the fixture"))
		printf("# %s\n", err.msg);

	memset(&cfg, 0, sizeof cfg);
	cfg.quiet_from = cfg.quiet_to = -1;
	cfg.cap_max = 3;
	cfg.cap_per = 7 * DAY;
	cfg.exclude = "purchase within 2d";
	ok(nudge_policy_open(&p, st, &cfg, NOW, &err) == 0, "policy opens");
	is_str(check(p, 1, "email", 0), "send", "a plain contact is sent to");
	is_str(check(p, 2, "email", 0), "skip: no email address",
	    "no email address");
	is_str(check(p, 2, "sms", 0), "send", "but a phone for sms");
	is_str(check(p, 1, "sms", 0), "skip: no phone number",
	    "no phone number");
	is_str(check(p, 1, "push", 0), "skip: no push id", "no push id");
	is_str(check(p, 6, "push", 0), "send", "a push id");
	is_str(check(p, 3, "email", 0),
	    "skip: unsubscribed (email, 2026-10-15, import)",
	    "unsubscribed, with channel, date and source");
	is_str(check(p, 3, "sms", 0), "send",
	    "consent is per channel");
	is_str(check(p, 4, "email", 0), "skip: bounced (email, 2026-10-16, "
	    "event)", "bounced");
	is_str(check(p, 5, "email", 0), "skip: complained (email, 2026-10-17, "
	    "import:list.csv:7)", "complained");
	is_str(check(p, 5, "email", 1), "skip: complained (email, 2026-10-17, "
	    "import:list.csv:7)", "consent binds transactional mail too");
	is_str(check(p, 6, "email", 0), "send",
	    "subscribed again: the latest row counts");
	is_str(check(p, 7, "email", 0), "skip: frequency cap: 3 in 7d",
	    "frequency cap across channels");
	is_str(check(p, 7, "sms", 0), "skip: frequency cap: 3 in 7d",
	    "on every channel");
	is_str(check(p, 7, "email", 1), "send",
	    "a transactional message is not capped");
	is_str(check(p, 8, "email", 0), "send",
	    "two in the window and one before it: under the cap");
	is_str(check(p, 9, "email", 0), "skip: excluded by policy: purchase "
	    "within 2d", "the exclusion segment");
	is_str(check(p, 99, "email", 0), "skip: no such contact",
	    "no such contact");
	is_str(check(p, 1, "fax", 0), "error: channel: not one of email, sms "
	    "and push: \"fax\"", "an unknown channel is an error");
	nudge_policy_close(p);

	cfg.cap_max = 2;
	cfg.cap_per = 36 * 3600;
	cfg.exclude = "@buyers";
	ok(nudge_seg_save(st, "buyers", "purchase within 7d", NOW, &err) == 0,
	    "a saved segment");
	ok(nudge_policy_open(&p, st, &cfg, NOW, &err) == 0,
	    "policy with a saved exclusion segment");
	is_str(check(p, 1, "email", 0), "skip: excluded by policy: @buyers",
	    "which is expanded from the store");
	is_str(check(p, 8, "email", 0), "send", "one send in 36h, cap 2");
	nudge_policy_close(p);
	cfg.cap_max = 1;
	nudge_policy_open(&p, st, &cfg, NOW, &err);
	is_str(check(p, 8, "email", 0), "skip: frequency cap: 1 in 36h",
	    "the window is written back in hours");
	nudge_policy_close(p);

	ok(nudge_policy_open(&p, st, NULL, NOW, &err) == 0 &&
	    nudge_policy_check(p, 7, "email", 0, &v, reason, sizeof reason,
	    &err) == 0 && v == NUDGE_SKIP_NONE, "no config: no cap");
	nudge_policy_close(p);

	cfg.exclude = "purchase within";
	is_int(nudge_policy_open(&p, st, &cfg, NOW, &err), EX_USAGE,
	    "a bad exclusion is a usage error");
	is_str(err.msg, "exclude: column 16: expected a duration such as 7d "
	    "after \"within\", got the end of the expression",
	    "naming the setting and the column");
	cfg.exclude = "@nosuch";
	is_int(nudge_policy_open(&p, st, &cfg, NOW, &err), EX_USAGE,
	    "an unknown saved segment too");

	{
		/* consent: {sms: opt-in}: no record means no, for
		 * marketing only; a subscribe or an opt-out channel sends */
		static const int optin[3] = { 0, 1, 0 }, optout[3] = { 0 };

		nudge_seg_set_consent(optin);
		ok(nudge_policy_open(&p, st, NULL, NOW, &err) == 0,
		    "policy opens with sms opt-in");
		is_str(check(p, 2, "sms", 0), "skip: no consent (sms is "
		    "opt-in)", "opt-in: no record, no marketing sms");
		is_str(check(p, 2, "sms", 1), "send", "a transactional sms "
		    "needs no marketing consent");
		is_str(check(p, 1, "email", 0), "send", "email stays opt-out");
		nudge_store_exec(st, "INSERT INTO consent (contact_id, channel,"
		    " status, at, source) VALUES (2, 'sms', 'subscribed', 1,"
		    " 'shopify')", &err);
		is_str(check(p, 2, "sms", 0), "send", "a subscribe sends");
		nudge_policy_close(p);
		nudge_seg_set_consent(optout);
	}

	nudge_store_close(st);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	return done_testing();
}
