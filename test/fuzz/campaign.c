/* Fuzz target campaign: a campaign file (nudge-campaign(5)) loaded from a
 * scratch directory that holds the templates the samples and tests name
 * (templates/NAME, t/ok.txt, ...); a loaded campaign's steps and policy
 * are read back. */
#include "fuzz.h"

#include <sys/stat.h>

#include "campaign.h"

static void
templates(void)
{
	static const char *const names[] = { "templates/follow-up.txt",
		"templates/promo-by-email.txt", "templates/sale.push",
		"templates/sale.sms", "templates/sale.txt",
		"templates/thanks-for-clicking.txt", "templates/vip-offer.sms",
		"templates/we-miss-you.push", "templates/win-back-reminder.txt",
		"templates/win-back.sms", "templates/win-back.txt", "t/ok.txt",
		"t/bad.txt", "a.txt", "welcome.txt" };
	static const char tpl[] = "Subject: hi {{first_name|there}}\n\nHello\n";
	char p[256];
	size_t i;

	snprintf(p, sizeof p, "%s/templates", fuzz_dir());
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/t", fuzz_dir());
	mkdir(p, 0700);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		fuzz_file(names[i], tpl, sizeof tpl - 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	nudge_campaign *c = NULL;
	nudge_policy_cfg p;
	nudge_err err;
	const char *path;
	size_t i;
	int rc;

	if (size > 65536)
		return 0;
	if (!ready) {
		templates();
		ready = 1;
	}
	path = fuzz_file("c.yaml", data, size);
	err.msg[0] = '\0';
	rc = nudge_campaign_load(path, &c, &err);
	if (rc != 0) {
		CHECK(err.msg[0] != '\0');
		CHECK(rc == EX_DATAERR || rc == EX_NOINPUT || rc == EX_OSERR);
		return 0;
	}
	CHECK(c != NULL && c->name != NULL && c->audience != NULL);
	CHECK(c->nsteps > 0);
	for (i = 0; i < c->nsteps; i++) {
		CHECK(c->steps[i].id != NULL && c->steps[i].tpl != NULL);
		CHECK(nudge_campaign_step(c, c->steps[i].id, NULL) != NULL);
	}
	nudge_campaign_policy(c, NULL, &p);
	nudge_campaign_free(c);
	return 0;
}
