/* sendtrig: trigger lines into the lanes of one send run, a lane a step. */
#include "sendtrig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abtest.h"
#include "campaign.h"
#include "contact.h"
#include "trigline.h"

/* A step met in the stream, and how its lines go. */
struct step {
	char *campaign, *step, *file; /* the line's fields */
	nudge_sender_lane *lane;      /* NULL: skipped, why says why */
	char why[128];
	nudge_policy_cfg pol;
	const nudge_campaign *c;      /* the step's campaign, or NULL */
	const nudge_step *s;
	nudge_sender_lane **vlanes;   /* a lane a variant, opened when met */
	int ab_read;                  /* phase and winner read */
	enum nudge_ab_phase phase;
	char winner[72];
	struct step *next;
};

struct ctx {
	nudge_store *st;
	const nudge_send_opts *o;
	const char *dir;
	nudge_send_stats *stats;
	nudge_err *err;
	nudge_sender *s;
	nudge_campaign **cs;          /* loaded files, by path */
	size_t ncs;
	struct step *steps, *last;
};

static int
same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The campaign of st, loaded once a file. */
static int
campaign_for(struct ctx *x, struct step *st, long line, nudge_campaign **out)
{
	nudge_campaign **nc;
	char *path = NULL;
	size_t i;
	int rc;

	if (st->file != NULL) {
		path = strdup(st->file);
	} else if (x->dir == NULL) {
		return nudge_errf(x->err, EX_USAGE, "line %ld: a trigger line "
		    "without its campaign file: give --campaigns DIR", line);
	} else if (asprintf(&path, "%s/%s.yaml", x->dir, st->campaign) ==
	    -1) {
		path = NULL;
	}
	if (path == NULL)
		return nudge_errf(x->err, EX_OSERR, "out of memory");
	for (i = 0; i < x->ncs; i++)
		if (strcmp(x->cs[i]->path, path) == 0)
			break;
	if (i == x->ncs) {
		if ((nc = realloc(x->cs, (x->ncs + 1) * sizeof *nc)) == NULL) {
			free(path);
			return nudge_errf(x->err, EX_OSERR, "out of memory");
		}
		x->cs = nc;
		if ((rc = nudge_campaign_load(path, &x->cs[x->ncs], x->err)) !=
		    0) {
			free(path);
			return rc;
		}
		x->ncs++;
	}
	free(path);
	*out = x->cs[i];
	if (strcmp((*out)->name, st->campaign) != 0)
		return nudge_errf(x->err, EX_DATAERR, "line %ld: campaign "
		    "\"%.100s\", but %s is campaign \"%.100s\"", line,
		    st->campaign, (*out)->path, (*out)->name);
	return 0;
}

/* The lane of st, a new step met at line: its campaign's step with its
 * channel, template and policy.  An sms or push step with no transport
 * (no channels: sms: or push: in the config, no --transport file://) is
 * skipped, its lines not claimed (a later run offers them again), so that
 * the other steps of the same cron run still go out. */
static int
open_step(struct ctx *x, struct step *st, long line)
{
	nudge_send_opts so = *x->o;
	nudge_campaign *c = NULL;
	const nudge_step *s;
	int rc;

	if (st->campaign != NULL) {
		if ((rc = campaign_for(x, st, line, &c)) != 0)
			return rc;
		if ((s = nudge_campaign_step(c, st->step, NULL)) == NULL)
			return nudge_errf(x->err, EX_DATAERR, "line %ld: %s has "
			    "no step \"%.100s\"", line, c->path, st->step);
		st->c = c;
		st->s = s;
		if (s->nvariants > 0 && (st->vlanes = calloc(s->nvariants,
		    sizeof *st->vlanes)) == NULL)
			return nudge_errf(x->err, EX_OSERR, "out of memory");
		nudge_campaign_policy(c, x->o->cfg != NULL ?
		    &x->o->cfg->policy : NULL, &st->pol);
		so.campaign = c->name;
		so.step = st->step;
		so.channel = s->channel;
		so.template_path = s->tpl;
		so.entry_on = c->entry_on;
		so.policy = &st->pol;
		if (c->transactional > so.transactional)
			so.transactional = c->transactional;
		if (strcmp(s->channel, "email") != 0) {
			const nudge_http_cfg *h = x->o->cfg == NULL ? NULL :
			    strcmp(s->channel, "sms") == 0 ? &x->o->cfg->sms :
			    &x->o->cfg->push;

			/* --transport is the email's, unless a directory */
			if (so.transport != NULL &&
			    strncmp(so.transport, "file://", 7) != 0)
				so.transport = NULL;
			if (so.transport == NULL && (h == NULL ||
			    (h->provider == NULL && h->url == NULL))) {
				snprintf(st->why, sizeof st->why, "no transport "
				    "for %s: give channels: %s: in the config",
				    s->channel, s->channel);
				return 0;
			}
		}
	}
	return nudge_sender_add_lane(x->s, &so, &st->lane, x->err);
}

/* The step of a line's fields (campaign NULL: a bare line), met before
 * or new. */
static int
step_for(struct ctx *x, const char *campaign, const char *step,
    const char *file, long line, struct step **out)
{
	struct step *st;
	int rc;

	if ((st = x->last) != NULL && same(st->campaign, campaign) &&
	    same(st->step, step) && same(st->file, file)) {
		*out = st;
		return 0;
	}
	for (st = x->steps; st != NULL; st = st->next)
		if (same(st->campaign, campaign) && same(st->step, step) &&
		    same(st->file, file))
			break;
	if (st == NULL) {
		if ((st = calloc(1, sizeof *st)) == NULL ||
		    (campaign != NULL && (st->campaign = strdup(campaign)) ==
		    NULL) || (step != NULL && (st->step = strdup(step)) ==
		    NULL) || (file != NULL && (st->file = strdup(file)) ==
		    NULL)) {
			if (st != NULL) {
				free(st->campaign);
				free(st->step);
				free(st);
			}
			return nudge_errf(x->err, EX_OSERR, "out of memory");
		}
		st->next = x->steps;
		x->steps = st;
		if ((rc = open_step(x, st, line)) != 0)
			return rc;
	}
	x->last = st;
	*out = st;
	return 0;
}

/* Line t of a journey's instance (STEP#EVENT): *lane, the lane of STEP
 * (or its variant's), becomes a lane of that instance, which shares all
 * but its step and entry event.  Other lines keep *lane. */
static int
instance(struct ctx *x, const nudge_trigline *t, nudge_sender_lane **lane)
{
	if (t->entry_event == 0 || t->step == NULL)
		return 0;
	return nudge_sender_add_instance(x->s, *lane, t->step, t->entry_event,
	    lane, x->err);
}

/*
 * The lane of line t of step st: kept out by a holdout (*lane NULL, the
 * line taken here), its A/B variant's (opened when first met), or st's
 * own; for a journey's instance, a lane of that instance made from it.
 * The rest of an A/B test's audience waits for the winner (trigger
 * offers it them after the test's wait).
 */
static int
lane_for(struct ctx *x, struct step *st, const nudge_trigline *t, long line,
    nudge_sender_lane **lane)
{
	const char *text = t->contact;
	const nudge_step *s = st->s;
	const nudge_variant *v;
	nudge_send_opts so;
	nudge_err e;
	int64_t cid = 0;
	char why[160];
	int rc;

	*lane = st->lane;
	if (st->c == NULL || (st->c->holdout == 0 && (x->o->cfg == NULL ||
	    x->o->cfg->holdout == 0) && s->nvariants == 0))
		return instance(x, t, lane);
	/* the hashes are of contact ids: trigger writes ids */
	if (nudge_contact_ref_kind(text) != NUDGE_REF_ID ||
	    nudge_parse_i64(text, &cid) != 0) {
		if (nudge_contact_find(x->st, text, x->o->cfg != NULL ?
		    x->o->cfg->default_country : NULL, &cid, &e) != 0)
			cid = 0;
	}
	if (cid <= 0)
		return instance(x, t, lane);  /* send says why */
	if (nudge_ab_held_out(st->c, x->o->cfg != NULL ? x->o->cfg->holdout :
	    0, cid)) {
		snprintf(why, sizeof why, "holdout: kept from campaign %.100s, "
		    "nothing sent", st->c->name);
		if ((rc = instance(x, t, lane)) != 0)
			return rc;
		rc = nudge_sender_hold_out(x->s, *lane, line, text, cid, 1,
		    why);
		*lane = NULL;
		return rc;
	}
	if (s->nvariants == 0)
		return instance(x, t, lane);
	if (s->test_share > 0 && !nudge_ab_in_test(st->c, s, cid)) {
		if (!st->ab_read && (rc = nudge_ab_phase(x->st, st->c, s,
		    x->o->now, &st->phase, st->winner, sizeof st->winner,
		    x->err)) != 0)
			return rc;
		st->ab_read = 1;
		if (st->phase != NUDGE_AB_DECIDED ||
		    (v = nudge_ab_variant(s, st->winner)) == NULL) {
			snprintf(why, sizeof why, "the A/B test of step %.64s "
			    "has no winner yet: the rest wait for it", s->id);
			if ((rc = instance(x, t, lane)) != 0)
				return rc;
			rc = nudge_sender_hold_out(x->s, *lane, line, text,
			    cid, 0, why);
			*lane = NULL;
			return rc;
		}
	} else {
		v = nudge_ab_assign(st->c, s, cid);
	}
	if ((*lane = st->vlanes[v - s->variants]) != NULL)
		return instance(x, t, lane);
	so = *nudge_sender_lane_opts(st->lane);
	so.template_path = v->tpl != NULL ? v->tpl : s->tpl;
	so.subject = v->subject;
	so.variant = v->id;
	if ((rc = nudge_sender_add_lane(x->s, &so, lane, x->err)) != 0)
		return rc;
	st->vlanes[v - s->variants] = *lane;
	return instance(x, t, lane);
}

/* Counts r, a line skipped for reason k, and hands it on. */
static void
skipped(struct ctx *x, nudge_send_result *r, enum nudge_skip k)
{
	r->status = "skipped";
	r->skip = k;
	x->stats->read++;
	x->stats->skipped++;
	x->stats->skips[k]++;
	if (x->o->on_result != NULL)
		x->o->on_result(x->o->arg, r);
}

/* A line of a step with no transport: skipped, with why. */
static void
skip(struct ctx *x, const struct step *st, long line, const char *text,
    const char *step)
{
	nudge_send_result r = { 0 };

	r.line = line;
	r.input = text;
	r.detail = st->why;
	r.campaign = st->campaign;
	r.step = step;
	skipped(x, &r, NUDGE_SKIP_NO_TRANSPORT);
}

/* A line that cannot be a contact line whatever its fields: skipped, the
 * reason naming its line, and shown quoted (its NUL bytes as \x00) so
 * that the text before a NUL is not taken for the contact. */
static void
reject(struct ctx *x, long line, const char *text, size_t n, const char *why)
{
	nudge_send_result r = { 0 };
	char q[128], detail[256];

	nudge_quote(q, sizeof q, text, n);
	snprintf(detail, sizeof detail, "%s (line %ld): \"%s\"", why, line, q);
	r.line = line;
	r.input = q;
	r.detail = detail;
	skipped(x, &r, NUDGE_SKIP_BAD_REF);
}

int
nudge_send_stream(nudge_store *st, FILE *in, const nudge_send_opts *o,
    const char *dir, nudge_send_stats *stats, nudge_err *err)
{
	struct ctx x = { st, o, dir, stats, err, NULL, NULL, 0, NULL, NULL };
	struct step *sp = NULL;
	nudge_sender_lane *lane;
	char *line = NULL, *hash;
	nudge_trigline t;
	size_t cap = 0, i;
	long lineno = 0;
	ssize_t n;
	int rc, nf;

	if ((rc = nudge_sender_open(&x.s, st, o, stats, err)) != 0)
		return rc;
	while ((n = getline(&line, &cap, in)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		/* getline reads past a NUL, the split and the C strings below
		 * stop at it: "3<NUL>garbage" would go to contact 3 */
		if (strlen(line) != (size_t)n) {
			reject(&x, lineno, line, (size_t)n, "a NUL byte in the "
			    "line");
			continue;
		}
		nf = nudge_trigline_split(line, &t);
		if (o->campaign != NULL)
			/* with --campaign every line is bare: its further
			 * fields are the user's */
			t.campaign = t.step = t.file = NULL;
		else if (nf == -1) {
			rc = nudge_errf(err, EX_DATAERR, "line %ld: expected "
			    NUDGE_TRIGLINE_FORM, lineno);
			break;
		}
		if (*t.contact == '\0')
			continue;
		/* every instance of a journey's step (STEP#EVENT) goes by
		 * the one step STEP: its template and policy read once, not
		 * once an instance (lane_for) */
		hash = t.entry_event != 0 && t.step != NULL ?
		    strchr(t.step, '#') : NULL;
		if (hash != NULL)
			*hash = '\0';
		rc = step_for(&x, t.campaign, t.step, t.file, lineno, &sp);
		if (hash != NULL)
			*hash = '#';
		if (rc != 0)
			break;
		if (sp->lane == NULL) {
			skip(&x, sp, lineno, t.contact, t.step);
			continue;
		}
		if ((rc = lane_for(&x, sp, &t, lineno, &lane)) != 0)
			break;
		if (lane != NULL && (rc = nudge_sender_take(x.s, lane, lineno,
		    t.contact)) != 0)
			break;
	}
	if (rc == 0 && ferror(in))
		rc = nudge_errf(err, EX_IOERR, "reading the contacts: %s",
		    strerror(errno));
	if (rc == 0)
		rc = nudge_sender_finish(x.s);
	nudge_sender_close(x.s);
	free(line);
	while ((sp = x.steps) != NULL) {
		x.steps = sp->next;
		free(sp->campaign);
		free(sp->step);
		free(sp->file);
		free(sp->vlanes);
		free(sp);
	}
	for (i = 0; i < x.ncs; i++)
		nudge_campaign_free(x.cs[i]);
	free(x.cs);
	return rc;
}
