/* Unit tests of lib/abtest.c: the stable hashes that pick variants, test
 * shares and holdouts, and the sample size a test needs; the campaign
 * keys that describe them (campaign.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abtest.h"
#include "tap.h"

static char dir[] = "/tmp/nudge-abtest.XXXXXX";

static nudge_campaign *
load(const char *yaml)
{
	char path[300];
	nudge_campaign *c = NULL;
	nudge_err err;
	FILE *fp;

	snprintf(path, sizeof path, "%s/c.yaml", dir);
	if ((fp = fopen(path, "w")) == NULL)
		return NULL;
	fputs(yaml, fp);
	fclose(fp);
	if (nudge_campaign_load(path, &c, &err) != 0)
		printf("# %s\n", err.msg);
	return c;
}

int
main(void)
{
	nudge_campaign *c;
	const nudge_step *s;
	long n[3] = { 0 }, in = 0, held = 0, i;
	char path[300], cmd[300];
	FILE *fp;
	double u;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/t.txt", dir);
	if ((fp = fopen(path, "w")) == NULL)
		return 1;
	fputs("Subject: A\n\nhi\n", fp);
	fclose(fp);

	u = nudge_ab_unit("launch", "mail", 42, 'v');
	ok(u >= 0 && u < 1, "a unit in [0, 1)");
	ok(u == nudge_ab_unit("launch", "mail", 42, 'v'), "the same key, the "
	    "same unit");
	ok(u != nudge_ab_unit("launch", "mail", 43, 'v') &&
	    u != nudge_ab_unit("launch", "mail2", 42, 'v') &&
	    u != nudge_ab_unit("launch", "mail", 42, 't'),
	    "another contact, step or salt, another unit");
	ok(nudge_ab_unit("ab", "c", 1, 'v') != nudge_ab_unit("a", "bc", 1, 'v'),
	    "the fields are kept apart");

	c = load("name: launch\naudience: list \"all\"\nholdout: 10%\n"
	    "steps:\n  - id: mail\n    channel: email\n    template: t.txt\n"
	    "    variants:\n      - {template: t.txt, weight: 2}\n"
	    "      - {subject: B, id: bee}\n      - {subject: C}\n"
	    "    test: {share: 20%, wait: 4h, metric: revenue}\n");
	ok(c != NULL, "a campaign with variants, a test and a holdout");
	if (c == NULL)
		return done_testing();
	s = &c->steps[0];
	is_int((long)s->nvariants, 3, "three variants");
	is_str(s->variants[0].id, "a", "ids by default a, b, ...");
	is_str(s->variants[1].id, "bee", "or as given");
	is_str(s->variants[2].id, "c", "in file order");
	ok(s->variants[0].tpl != NULL && s->variants[1].tpl == NULL &&
	    strcmp(s->variants[1].subject, "B") == 0, "a template or a "
	    "subject");
	ok(s->test_share == 0.2 && s->test_wait == 4 * 3600 &&
	    s->test_metric == NUDGE_AB_REVENUE, "the test's share, wait and "
	    "metric");
	ok(c->holdout == 0.1, "the holdout's share");
	for (i = 1; i <= 20000; i++) {
		n[nudge_ab_assign(c, s, i) - s->variants]++;
		in += nudge_ab_in_test(c, s, i);
		held += nudge_ab_held_out(c, 0, i);
	}
	/* 20000 draws: each share within 2 points (over 5 standard
	 * errors) */
	ok(labs(n[0] - 10000) < 400 && labs(n[1] - 5000) < 400 &&
	    labs(n[2] - 5000) < 400, "variants by weight 2:1:1 (%ld %ld %ld)",
	    n[0], n[1], n[2]);
	ok(labs(in - 4000) < 400, "the test share is 20%% (%ld)", in);
	ok(labs(held - 2000) < 400, "the holdout is 10%% (%ld)", held);
	ok(nudge_ab_held_out(c, 0.999, 7), "a global holdout keeps contacts "
	    "of every campaign");
	is_str(nudge_ab_variant(s, "bee")->id, "bee", "a variant by id");
	ok(nudge_ab_variant(s, "zz") == NULL, "none of another id");
	nudge_campaign_free(c);

	/* Fleiss: 3% against 3.6% needs 13914 a group; 20% against 24%,
	 * 1683 */
	is_int(nudge_ab_needed(0.03), 13914, "the sample size at a 3% rate");
	is_int(nudge_ab_needed(0.20), 1683, "and at 20%");
	ok(nudge_ab_base_rate(NUDGE_AB_CLICKED) == 0.03 &&
	    nudge_ab_base_rate(NUDGE_AB_OPENED) == 0.20 &&
	    nudge_ab_base_rate(NUDGE_AB_CONVERTED) == 0.02,
	    "the base rates the docs state");

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cleanup failed\n");
	return done_testing();
}
