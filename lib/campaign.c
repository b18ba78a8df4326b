/* campaign: nudge-campaign(5) files read into structs. */
#include "campaign.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "clock.h"
#include "names.h"
#include "segment.h"
#include "yaml.h"

struct rd {
	const char *path;
	nudge_campaign *c;
	nudge_err *err;
};

/* "path:line:col: where: why". */
static int
bad(struct rd *r, long line, long col, const char *where, const char *fmt,
    ...) __attribute__((format(printf, 5, 6)));

static int
bad(struct rd *r, long line, long col, const char *where, const char *fmt,
    ...)
{
	char msg[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return nudge_errf(r->err, EX_DATAERR, "%s:%ld:%ld: %s%s%s", r->path,
	    line, col, where, *where != '\0' ? ": " : "", msg);
}

static int
oom(struct rd *r)
{
	return nudge_errf(r->err, EX_OSERR, "out of memory");
}

/* A quoted value for a message. */
static const char *
qv(char *buf, size_t len, const char *v)
{
	char t[80];

	nudge_quote(t, sizeof t, v, strlen(v));
	snprintf(buf, len, "\"%s\"", t);
	return buf;
}

/* A non-empty single value without control characters, copied to *dst. */
static int
text(struct rd *r, const nudge_ynode *n, const char *where, char **dst)
{
	const unsigned char *p;

	if (n->kind != NUDGE_Y_SCALAR)
		return bad(r, n->line, n->col, where, "expected a single value");
	if (*n->value == '\0')
		return bad(r, n->line, n->col, where, "expected a value, got "
		    "nothing");
	for (p = (const unsigned char *)n->value; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return bad(r, n->line, n->col, where, "control "
			    "characters are not allowed");
	return nudge_strset(dst, n->value) == -1 ? oom(r) : 0;
}

static int
duration(struct rd *r, const nudge_ynode *n, const char *where,
    int64_t *dst)
{
	char b[100];

	if (n->kind != NUDGE_Y_SCALAR)
		return bad(r, n->line, n->col, where, "expected a single value");
	if (nudge_duration_parse(n->value, dst) != 0)
		return bad(r, n->line, n->col, where, "expected a duration such "
		    "as 30m, 12h, 2d or 1w, got %s", qv(b, sizeof b, n->value));
	return 0;
}

/* Compiles a segment expression written at node n, so that a mistake is
 * reported at its line and column in the file. */
static int
expr(struct rd *r, const nudge_ynode *n, const char *where, char **dst,
    long *line, long *col)
{
	nudge_seg_ctx ctx = { .campaign = r->c->name, .lenient_refs = 1 };
	nudge_seg seg;
	nudge_err e;
	const char *msg;
	int rc;

	if ((rc = text(r, n, where, dst)) != 0)
		return rc;
	*line = n->line;
	*col = n->col + (n->plain ? 0 : 1);
	rc = nudge_seg_compile_ctx(NULL, NULL, *dst, 0, &ctx, &seg, &e);
	if (rc != 0) {
		long eline, ecol;

		/* a folded (>-) audience: its own line and column */
		nudge_yaml_pos(n, seg.err_off, &eline, &ecol);

		/* "column N: why": the file's column replaces it */
		msg = strncmp(e.msg, "column ", 7) == 0 && strchr(e.msg, ':') !=
		    NULL ? strchr(e.msg, ':') + 2 : e.msg;
		nudge_seg_free(&seg);
		if (rc != EX_USAGE)
			return nudge_errf(r->err, rc, "%s", e.msg);
		return bad(r, eline, ecol, where, "%s", msg);
	}
	nudge_seg_free(&seg);
	return 0;
}

/* The expressions of c, with where they are, for the checks of names. */
struct where {
	const char *e;
	long line, col;
	char what[64];
	const nudge_step *self;  /* the step whose if:/unless: it is */
};

/* Fills w[0..n) (room for 2 + 2 * nsteps) with c's expressions. */
static size_t
exprs(const nudge_campaign *c, struct where *w)
{
	size_t i, n = 0;

	if (c->audience != NULL) {
		w[n] = (struct where){ c->audience, c->aud_line, c->aud_col,
		    "audience", NULL };
		n++;
	}
	if (c->goal != NULL) {
		w[n] = (struct where){ c->goal, c->goal_line, c->goal_col,
		    "goal", NULL };
		n++;
	}
	for (i = 0; i < c->nsteps; i++) {
		const nudge_step *s = &c->steps[i];

		if (s->cond != NULL) {
			w[n] = (struct where){ s->cond, s->cond_line,
			    s->cond_col, "", s };
			snprintf(w[n++].what, sizeof w->what, "steps[%zu]: if",
			    i + 1);
		}
		if (s->unless != NULL) {
			w[n] = (struct where){ s->unless, s->unless_line,
			    s->unless_col, "", s };
			snprintf(w[n++].what, sizeof w->what,
			    "steps[%zu]: unless", i + 1);
		}
	}
	return n;
}

/* Where name u of expression w is in the file: its own line and column
 * in a folded (>-) expression too. */
static void
where_in(struct rd *r, const struct where *w, const nudge_seg_name *u,
    long *line, long *col)
{
	*line = w->line;
	*col = w->col + (long)u->col - 1;
	nudge_yaml_find_pos(r->path, w->line, w->col, u->off, line, col);
}

/*
 * `step "ID"` of this campaign (alone, or after its own campaign "NAME")
 * must name one of its steps, and not, in a step's condition, the step
 * itself: either is always false (always true after `not`), so a typo
 * would silently send every step or none.
 */
static int
check_steps(struct rd *r)
{
	nudge_campaign *c = r->c;
	nudge_seg_ctx ctx = { .campaign = c->name, .lenient_refs = 1 };
	struct where *w;
	nudge_seg seg;
	nudge_err e;
	const nudge_seg_name *u;
	const char *best;
	const char **ids;
	size_t i, j, n;
	char b[100], h[100];
	long el, ec;
	int rc = 0;

	w = calloc(2 + 2 * c->nsteps, sizeof *w);
	ids = calloc(c->nsteps, sizeof *ids);
	if (w == NULL || ids == NULL) {
		free(w);
		free(ids);
		return oom(r);
	}
	for (i = 0; i < c->nsteps; i++)
		ids[i] = c->steps[i].id;
	n = exprs(c, w);
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = nudge_seg_compile_ctx(NULL, NULL, w[i].e, 0, &ctx,
		    &seg, &e)) != 0) {
			nudge_seg_free(&seg);
			rc = nudge_errf(r->err, rc, "%s", e.msg);
			break;
		}
		for (j = 0; j < seg.nnames && rc == 0; j++) {
			u = &seg.names[j];
			if (u->kind != NUDGE_SEG_NAME_STEP || (u->campaign !=
			    NULL && strcmp(u->campaign, c->name) != 0))
				continue;
			if (nudge_campaign_step(c, u->name, NULL) == NULL ||
			    strchr(u->name, '@') != NULL) {
				best = nudge_closest(u->name, ids, c->nsteps);
				if (best != NULL)
					snprintf(h, sizeof h, "; did you mean "
					    "\"%s\"?", best);
				where_in(r, &w[i], u, &el, &ec);
				rc = bad(r, el, ec, w[i].what, "no step %s "
				    "in this campaign%s", qv(b, sizeof b,
				    u->name), best != NULL ? h : "");
			} else if (w[i].self != NULL &&
			    strcmp(u->name, w[i].self->id) == 0) {
				where_in(r, &w[i], u, &el, &ec);
				rc = bad(r, el, ec, w[i].what, "step %s "
				    "names itself: its events cannot exist "
				    "before it is sent", qv(b, sizeof b,
				    u->name));
			}
		}
		nudge_seg_free(&seg);
	}
	free(w);
	free(ids);
	return rc;
}

static int step_id_ok(const char *s);

int
nudge_campaign_check_names(const nudge_campaign *c, struct nudge_names *k,
    int *unchecked, nudge_err *err)
{
	struct where *w;
	size_t i, n;
	int rc = 0;

	if (unchecked != NULL)
		*unchecked = 0;
	if ((w = calloc(3 + 2 * c->nsteps, sizeof *w)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	n = exprs(c, w);
	/* a typo in the exclusion segment would exclude nobody */
	if (c->policy.exclude != NULL) {
		w[n] = (struct where){ c->policy.exclude, c->policy.exclude_line,
		    c->policy.exclude_col, "policy: exclude", NULL };
		n++;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = nudge_names_check_expr(k, w[i].e, c->name, c->path,
		    w[i].line, w[i].col, w[i].what, unchecked, err);
	free(w);
	/* the event types of entry: on and exit: on, each an expression
	 * of its own (a plain name is one) */
	if (rc == 0 && c->entry_on != NULL && step_id_ok(c->entry_on))
		rc = nudge_names_check_expr(k, c->entry_on, c->name, c->path,
		    c->entry_line, c->entry_col, "entry", unchecked, err);
	if (rc == 0 && c->exit_on != NULL && step_id_ok(c->exit_on))
		rc = nudge_names_check_expr(k, c->exit_on, c->name, c->path,
		    c->exit_line, c->exit_col, "exit", unchecked, err);
	return rc;
}

static int
step_id_ok(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return i <= 64;
}

/* The template path, relative to the campaign file's directory. */
static int
tpl_path(struct rd *r, const nudge_ynode *n, const char *where, char **dst)
{
	const char *slash = strrchr(r->path, '/');
	char *v = NULL, *p;
	int rc;

	if ((rc = text(r, n, where, &v)) != 0)
		return rc;
	if (v[0] == '/' || slash == NULL)
		rc = asprintf(&p, "%s", v);
	else
		rc = asprintf(&p, "%.*s/%s", (int)(slash - r->path), r->path, v);
	if (rc == -1) {
		free(v);
		return oom(r);
	}
	if (access(p, R_OK) != 0) {
		char b[100];

		rc = bad(r, n->line, n->col, where, "no such template file: %s "
		    "(%s)", qv(b, sizeof b, v), p);
		free(v);
		free(p);
		return rc;
	}
	free(v);
	free(*dst);
	*dst = p;
	return 0;
}

static int
share(struct rd *r, const nudge_ynode *n, const char *where, double *dst)
{
	char b[100];

	if (n->kind != NUDGE_Y_SCALAR)
		return bad(r, n->line, n->col, where, "expected a share such "
		    "as 10%%");
	if (nudge_parse_share(n->value, dst) != 0)
		return bad(r, n->line, n->col, where, "expected a share "
		    "between 0%% and 100%% such as 10%%, got %s", qv(b,
		    sizeof b, n->value));
	return 0;
}

/* `variants:`, a list of maps with template, subject, id and weight. */
static int
read_variants(struct rd *r, const nudge_ynode *m, nudge_step *s,
    const char *where)
{
	char w[160], b[100];
	size_t i, j, k;
	int rc = 0;

	if (m->kind != NUDGE_Y_SEQ || m->n < 2)
		return bad(r, m->line, m->col, where, "expected a list of two "
		    "or more variants (- template: ... or - subject: ...)");
	if ((s->variants = calloc(m->n, sizeof *s->variants)) == NULL)
		return oom(r);
	s->nvariants = m->n;
	for (i = 0; i < m->n && rc == 0; i++) {
		const nudge_ynode *v = m->kids[i];
		nudge_variant *x = &s->variants[i];

		x->weight = 1;
		snprintf(w, sizeof w, "%s[%zu]", where, i + 1);
		if (v->kind != NUDGE_Y_MAP)
			return bad(r, v->line, v->col, w, "expected a map with "
			    "template or subject");
		for (j = 0; j < v->n && rc == 0; j++) {
			const nudge_ynode *n = v->kids[j];
			char *end;

			if (strcmp(n->key, "id") == 0) {
				if ((rc = text(r, n, w, &x->id)) == 0 &&
				    !step_id_ok(x->id))
					rc = bad(r, n->line, n->col, w, "expected "
					    "an id of lower-case letters, digits, "
					    "_ and -, got %s", qv(b, sizeof b,
					    x->id));
			} else if (strcmp(n->key, "template") == 0) {
				rc = tpl_path(r, n, w, &x->tpl);
			} else if (strcmp(n->key, "subject") == 0) {
				rc = text(r, n, w, &x->subject);
			} else if (strcmp(n->key, "weight") == 0) {
				if (n->kind != NUDGE_Y_SCALAR || (x->weight =
				    strtod(n->value, &end)) <= 0 || *end != '\0' ||
				    end == n->value)
					rc = bad(r, n->line, n->col, w, "expected "
					    "a weight above 0, such as 50");
			} else {
				rc = bad(r, n->line, n->col, w, "unknown key "
				    "\"%.64s\" (expected id, template, subject "
				    "or weight)", n->key);
			}
		}
		if (rc != 0)
			return rc;
		if (x->tpl == NULL && x->subject == NULL)
			return bad(r, v->line, v->col, w, "no template or "
			    "subject: a variant must differ");
		if (x->id == NULL) {
			char id[2] = { (char)('a' + (i < 26 ? i : 25)), 0 };

			if ((x->id = strdup(id)) == NULL)
				return oom(r);
		}
		for (k = 0; k < i; k++)
			if (strcmp(s->variants[k].id, x->id) == 0)
				return bad(r, v->line, v->col, w, "%s is "
				    "already the id of variant %zu", qv(b,
				    sizeof b, x->id), k + 1);
	}
	return 0;
}

/* `test: {share: 20%, wait: 4h, metric: clicked}`. */
static int
read_test(struct rd *r, const nudge_ynode *m, nudge_step *s,
    const char *where)
{
	static const char *const metrics[] = { "clicked", "opened",
	    "converted", "revenue" };
	char b[100];
	size_t i, j;
	int rc = 0, has_wait = 0;

	if (m->kind != NUDGE_Y_MAP)
		return bad(r, m->line, m->col, where, "expected a map with "
		    "share, wait and metric");
	s->test_metric = NUDGE_AB_CLICKED;
	for (i = 0; i < m->n && rc == 0; i++) {
		const nudge_ynode *n = m->kids[i];
		char w[160];

		snprintf(w, sizeof w, "%s: %s", where, n->key);
		if (strcmp(n->key, "share") == 0) {
			rc = share(r, n, w, &s->test_share);
		} else if (strcmp(n->key, "wait") == 0) {
			rc = duration(r, n, w, &s->test_wait);
			has_wait = 1;
		} else if (strcmp(n->key, "metric") == 0) {
			for (j = 0; j < 4; j++)
				if (n->kind == NUDGE_Y_SCALAR &&
				    strcmp(n->value, metrics[j]) == 0)
					break;
			if (j == 4)
				rc = bad(r, n->line, n->col, w, "expected "
				    "clicked, opened, converted or revenue, "
				    "got %s", qv(b, sizeof b, n->kind ==
				    NUDGE_Y_SCALAR ? n->value : "a list"));
			else
				s->test_metric = (enum nudge_ab_metric)j;
		} else {
			rc = bad(r, n->line, n->col, where, "unknown key "
			    "\"%.64s\" (expected share, wait or metric)",
			    n->key);
		}
	}
	if (rc != 0)
		return rc;
	if (s->test_share == 0)
		return bad(r, m->line, m->col, where, "no share: which part "
		    "of the audience gets the variants first, such as 20%%");
	if (!has_wait)
		return bad(r, m->line, m->col, where, "no wait: how long the "
		    "test runs before the winner goes to the rest, such as 4h");
	return 0;
}

/* `within: HH:MM-HH:MM`: the window of the day a best hour is chosen
 * in; the end may be past midnight (22:00-02:00). */
static int
read_within(struct rd *r, const nudge_ynode *n, const char *where,
    nudge_step *s)
{
	int h1, m1, h2, m2, len = 0;
	char b[100];

	if (n->kind != NUDGE_Y_SCALAR || sscanf(n->value, "%2d:%2d-%2d:%2d%n",
	    &h1, &m1, &h2, &m2, &len) != 4 || n->value[len] != '\0' ||
	    h1 < 0 || h1 > 23 || m1 < 0 || m1 > 59 || h2 < 0 || h2 > 24 ||
	    m2 < 0 || m2 > 59 || (h2 == 24 && m2 != 0) || h1 * 60 + m1 ==
	    h2 * 60 + m2)
		return bad(r, n->line, n->col, where, "expected a window of "
		    "the day such as 08:00-20:00, got %s", qv(b, sizeof b,
		    n->kind == NUDGE_Y_SCALAR ? n->value : "a list"));
	s->within_from = h1 * 60 + m1;
	s->within_to = (h2 * 60 + m2) % 1440;
	return 0;
}

/* A step with `send_at: best_hour` gets two variants of the step's own
 * template, "fixed-time" (the control share, first: the contacts whose
 * variant hash falls below the share) and "best-hour", so that the
 * ledger, send and report --by variant tell them apart as they do an
 * A/B test's. */
static int
best_hour_variants(struct rd *r, nudge_step *s, const char *where,
    const nudge_ynode *within, const nudge_ynode *control)
{
	const nudge_ynode *n = within != NULL ? within : control;
	char w[128];

	if (!s->best_hour) {
		if (n == NULL)
			return 0;
		snprintf(w, sizeof w, "%s: %s", where, n->key);
		return bad(r, n->line, n->col, w, "only with send_at: "
		    "best_hour");
	}
	if (s->nvariants > 0)
		return bad(r, s->line, s->col, where, "send_at: best_hour does "
		    "not go with variants: its fixed-time control share is "
		    "compared as a variant of its own");
	if (control == NULL)
		s->control = 0.1;
	if ((s->variants = calloc(2, sizeof *s->variants)) == NULL ||
	    (s->variants[0].id = strdup("fixed-time")) == NULL ||
	    (s->variants[1].id = strdup("best-hour")) == NULL)
		return oom(r);
	s->nvariants = 2;
	s->variants[0].weight = s->control;
	s->variants[1].weight = 1 - s->control;
	return 0;
}

static int
read_step(struct rd *r, const nudge_ynode *m, size_t k)
{
	nudge_step *s = &r->c->steps[k];
	const nudge_ynode *test = NULL, *within = NULL, *control = NULL;
	char where[64], b[100];
	size_t i, j;
	int rc = 0;

	snprintf(where, sizeof where, "steps[%zu]", k + 1);
	s->within_from = s->within_to = -1;
	s->line = m->line;
	s->col = m->col;
	if (m->kind != NUDGE_Y_MAP)
		return bad(r, m->line, m->col, where, "expected a map with id, "
		    "channel and template");
	for (i = 0; i < m->n && rc == 0; i++) {
		const nudge_ynode *n = m->kids[i];
		char w[128];

		snprintf(w, sizeof w, "%s: %s", where, n->key);
		if (strcmp(n->key, "id") == 0) {
			if ((rc = text(r, n, w, &s->id)) == 0 &&
			    !step_id_ok(s->id))
				rc = bad(r, n->line, n->col, w, "expected a step "
				    "id of lower-case letters, digits, _ and "
				    "-, got %s", qv(b, sizeof b, s->id));
			for (j = 0; rc == 0 && j < k; j++)
				if (strcmp(r->c->steps[j].id, s->id) == 0)
					rc = bad(r, n->line, n->col, w, "%s is "
					    "already the id of steps[%zu]",
					    qv(b, sizeof b, s->id), j + 1);
		} else if (strcmp(n->key, "channel") == 0) {
			if ((rc = text(r, n, w, &s->channel)) == 0 &&
			    nudge_channel_find(s->channel) == NULL)
				rc = bad(r, n->line, n->col, w, "expected email, "
				    "sms or push, got %s", qv(b, sizeof b,
				    s->channel));
		} else if (strcmp(n->key, "template") == 0) {
			rc = tpl_path(r, n, w, &s->tpl);
		} else if (strcmp(n->key, "after") == 0) {
			if (k == 0 && r->c->entry_on == NULL)
				rc = bad(r, n->line, n->col, w, "the first step "
				    "starts the journey: only later steps wait "
				    "after the one before");
			else
				rc = duration(r, n, w, &s->after);
		} else if (strcmp(n->key, "if") == 0) {
			rc = expr(r, n, w, &s->cond, &s->cond_line,
			    &s->cond_col);
		} else if (strcmp(n->key, "unless") == 0) {
			rc = expr(r, n, w, &s->unless, &s->unless_line,
			    &s->unless_col);
		} else if (strcmp(n->key, "variants") == 0) {
			rc = read_variants(r, n, s, w);
		} else if (strcmp(n->key, "test") == 0) {
			test = n;
		} else if (strcmp(n->key, "send_at") == 0) {
			if (n->kind != NUDGE_Y_SCALAR || strcmp(n->value,
			    "best_hour") != 0)
				rc = bad(r, n->line, n->col, w, "expected "
				    "best_hour");
			s->best_hour = 1;
		} else if (strcmp(n->key, "within") == 0) {
			within = n;
			rc = read_within(r, n, w, s);
		} else if (strcmp(n->key, "control") == 0) {
			control = n;
			rc = share(r, n, w, &s->control);
		} else if (strcmp(n->key, "fallback") == 0) {
			if (n->kind != NUDGE_Y_SCALAR || (strcmp(n->value,
			    "true") != 0 && strcmp(n->value, "false") != 0))
				rc = bad(r, n->line, n->col, w, "expected true "
				    "or false");
			else if (k == 0)
				rc = bad(r, n->line, n->col, w, "the first step "
				    "has no step before it to fall back from");
			else
				s->fallback = strcmp(n->value, "true") == 0;
		} else {
			rc = bad(r, n->line, n->col, where, "unknown key \"%.64s\" "
			    "(expected id, channel, template, variants, test, "
			    "after, if, unless, fallback, send_at, within or "
			    "control)", n->key);
		}
	}
	if (rc != 0)
		return rc;
	if (s->id == NULL)
		return bad(r, m->line, m->col, where, "no id");
	if (s->channel == NULL)
		return bad(r, m->line, m->col, where, "no channel (email, sms or "
		    "push)");
	if (s->tpl == NULL)
		return bad(r, m->line, m->col, where, "no template");
	if ((rc = best_hour_variants(r, s, where, within, control)) != 0)
		return rc;
	if (test != NULL) {
		snprintf(b, sizeof b, "%s: test", where);
		if (s->nvariants == 0)
			return bad(r, test->line, test->col, b, "a test needs "
			    "variants: to compare");
		return read_test(r, test, s, b);
	}
	return 0;
}

/* The file's base name without .yaml or .yml. */
static char *
base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b != NULL ? b + 1 : path;
	n = strlen(b);
	if (n > 5 && strcmp(b + n - 5, ".yaml") == 0)
		n -= 5;
	else if (n > 4 && strcmp(b + n - 4, ".yml") == 0)
		n -= 4;
	return strndup(b, n);
}

/* Reads " at HH:MM" at the start of s into *minute; returns what
 * follows, or NULL. */
static const char *
at_time(const char *s, int *minute)
{
	int h, m, n = 0;

	if (sscanf(s, " at %2d:%2d%n", &h, &m, &n) != 2 || n == 0 || h < 0 ||
	    h > 23 || m < 0 || m > 59)
		return NULL;
	*minute = h * 60 + m;
	return s + n;
}

/* Reads a calendar entry of v into c: "every day at HH:MM", "every week
 * on DAY at HH:MM", "on the Nth of every month [at HH:MM]"; 0, or -1
 * when v is none. */
static int
calendar(nudge_campaign *c, const char *v)
{
	static const char *const days[] = { "sunday", "monday", "tuesday",
	    "wednesday", "thursday", "friday", "saturday" };
	const char *p;
	size_t i;
	int d, n = 0, minute = 0;

	if (strncmp(v, "every day", 9) == 0) {
		if ((p = at_time(v + 9, &minute)) == NULL || *p != '\0')
			return -1;
		c->cal = 'd';
		c->every = 86400;
	} else if (strncmp(v, "every week on ", 14) == 0) {
		for (i = 0; i < 7; i++)
			if (strncmp(v + 14, days[i], strlen(days[i])) == 0)
				break;
		if (i == 7 || (p = at_time(v + 14 + strlen(days[i]),
		    &minute)) == NULL || *p != '\0')
			return -1;
		c->cal = 'w';
		c->cal_wday = (int)i;
		c->every = 7 * 86400;
	} else if (sscanf(v, "on the %2d%n", &d, &n) == 1 && n > 0 &&
	    d >= 1 && d <= 28) {
		p = v + n;
		if (strncmp(p, d == 1 ? "st" : d == 2 ? "nd" : d == 3 ? "rd" :
		    d == 21 ? "st" : d == 22 ? "nd" : d == 23 ? "rd" : "th", 2)
		    != 0 || strncmp(p + 2, " of every month", 15) != 0)
			return -1;
		p += 17;
		if (*p != '\0' && ((p = at_time(p, &minute)) == NULL ||
		    *p != '\0'))
			return -1;
		c->cal = 'm';
		c->cal_mday = d;
		c->every = 31 * 86400;
	} else {
		return -1;
	}
	c->cal_minute = minute;
	return 0;
}

/* Whether s is a name of an event type or prop: [A-Za-z0-9_.:-]+. */
static int
name_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(('a' <= s[i] && s[i] <= 'z') || ('A' <= s[i] && s[i] <=
		    'Z') || ('0' <= s[i] && s[i] <= '9') || strchr("_.:-",
		    s[i]) != NULL))
			return 0;
	return n > 0;
}

/* Reads "EVENT" (prop NULL) or "EVENT [where PROP = entry.PROP]" (the
 * text after "on ") of n into *type and *prop. */
static int
on_event(struct rd *r, const nudge_ynode *n, const char *where,
    const char *v, char **type, char **prop)
{
	size_t tl = strcspn(v, " ");
	const char *w = v + tl, *p, *q;
	size_t pl;

	if (!name_ok(v, tl))
		return bad(r, n->line, n->col, where, "expected an event type "
		    "after \"on\"");
	if ((*type = strndup(v, tl)) == NULL)
		return oom(r);
	if (*w == '\0')
		return 0;
	if (prop == NULL || strncmp(w, " where ", 7) != 0)
		return bad(r, n->line, n->col, where, "unexpected \"%.40s\" "
		    "after the event type%s", w + 1, prop != NULL ? " (expected "
		    "where PROP = entry.PROP)" : "");
	p = w + 7;
	pl = strcspn(p, " =");
	q = p + pl;
	while (*q == ' ')
		q++;
	if (!name_ok(p, pl) || *q != '=')
		return bad(r, n->line, n->col, where, "expected where PROP = "
		    "entry.PROP");
	for (q++; *q == ' '; q++)
		;
	if (strncmp(q, "entry.", 6) != 0 || strlen(q + 6) != pl ||
	    strncmp(q + 6, p, pl) != 0)
		return bad(r, n->line, n->col, where, "expected where %.*s = "
		    "entry.%.*s: the exit event's prop equal to the entry "
		    "event's", (int)pl, p, (int)pl, p);
	if ((*prop = strndup(p, pl)) == NULL)
		return oom(r);
	return 0;
}

/* transactional: no, yes or requested as a nudge_msg_kind, or -1. */
static int
msg_kind(const char *v)
{
	return strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ?
	    NUDGE_MSG_MARKETING : strcmp(v, "yes") == 0 ||
	    strcmp(v, "true") == 0 ? NUDGE_MSG_TRANSACTIONAL :
	    strcmp(v, "requested") == 0 ? NUDGE_MSG_REQUESTED : -1;
}

static int
read_root(struct rd *r, const nudge_ynode *root)
{
	nudge_campaign *c = r->c;
	const nudge_ynode *n, *steps = NULL, *aud = NULL, *goal = NULL;
	const nudge_ynode *ex = NULL, *lim = NULL;
	const char *v;
	int64_t total = 0;
	char b[100];
	size_t i;
	int rc = 0;

	if (root->kind != NUDGE_Y_MAP)
		return bad(r, root->line, root->col, "", "expected a map with "
		    "name, audience and steps");
	/* the name first: step references in expressions need it */
	if ((n = nudge_yaml_get(root, "name")) != NULL) {
		if ((rc = text(r, n, "name", &c->name)) != 0)
			return rc;
	} else if ((c->name = base_name(r->path)) == NULL) {
		return oom(r);
	}
	if (*c->name == '\0')
		return bad(r, 1, 1, "name", "the file name gives an empty "
		    "name: add name:");
	for (i = 0; i < root->n && rc == 0; i++) {
		n = root->kids[i];
		if (strcmp(n->key, "name") == 0) {
			continue;
		} else if (strcmp(n->key, "audience") == 0) {
			aud = n;
		} else if (strcmp(n->key, "goal") == 0) {
			goal = n;
		} else if (strcmp(n->key, "steps") == 0) {
			steps = n;
		} else if (strcmp(n->key, "entry") == 0) {
			if (n->kind != NUDGE_Y_SCALAR)
				return bad(r, n->line, n->col, "entry",
				    "expected once or every DURATION");
			v = n->value;
			if (strcmp(v, "once") == 0)
				c->every = 0;
			else if (calendar(c, v) == 0)
				;
			else if (strncmp(v, "on ", 3) == 0 &&
			    strncmp(v, "on the ", 7) != 0) {
				const char *ch = strstr(v + 3, " channel ");
				char *t = ch != NULL ? strndup(v + 3,
				    (size_t)(ch - v - 3)) : NULL;

				if (ch != NULL && t == NULL)
					return oom(r);
				rc = on_event(r, n, "entry", t != NULL ? t :
				    v + 3, &c->entry_on, NULL);
				free(t);
				c->entry_line = n->line;
				c->entry_col = n->col;
				if (rc == 0 && ch != NULL &&
				    nudge_channel_find(ch + 9) == NULL)
					rc = bad(r, n->line, n->col, "entry",
					    "channel: expected email, sms or "
					    "push, got %s", qv(b, sizeof b,
					    ch + 9));
				else if (rc == 0 && ch != NULL &&
				    (c->entry_channel = strdup(ch + 9)) ==
				    NULL)
					return oom(r);
			}
			else if (strncmp(v, "every ", 6) != 0 ||
			    nudge_duration_parse(v + 6, &c->every) != 0)
				rc = bad(r, n->line, n->col, "entry", "expected "
				    "once, every DURATION (every 7d), every day "
				    "at HH:MM, every week on DAY at HH:MM, on the "
				    "Nth of every month [at HH:MM] (N up to 28) "
				    "or on EVENT (on purchase), got %s",
				    qv(b, sizeof b, v));
		} else if (strcmp(n->key, "timezone") == 0) {
			if ((rc = text(r, n, "timezone", &c->tz)) == 0 &&
			    !nudge_tz_known(c->tz))
				rc = bad(r, n->line, n->col, "timezone", "unknown "
				    "time zone %s (expected UTC or an Olson name "
				    "such as Asia/Jerusalem)", qv(b, sizeof b,
				    c->tz));
		} else if (strcmp(n->key, "exit") == 0) {
			if (n->kind != NUDGE_Y_SCALAR ||
			    strncmp(n->value, "on ", 3) != 0)
				return bad(r, n->line, n->col, "exit", "expected "
				    "on EVENT [where PROP = entry.PROP]");
			rc = on_event(r, n, "exit", n->value + 3, &c->exit_on,
			    &c->exit_prop);
			ex = n;
			c->exit_line = n->line;
			c->exit_col = n->col;
		} else if (strcmp(n->key, "limit") == 0) {
			if (n->kind != NUDGE_Y_SCALAR ||
			    strncmp(n->value, "1 per ", 6) != 0 ||
			    nudge_duration_parse(n->value + 6, &c->limit) != 0)
				return bad(r, n->line, n->col, "limit", "expected "
				    "1 per DURATION (1 per 1d)");
			lim = n;
		} else if (strcmp(n->key, "holdout") == 0) {
			rc = share(r, n, "holdout", &c->holdout);
		} else if (strcmp(n->key, "transactional") == 0) {
			if (n->kind != NUDGE_Y_SCALAR ||
			    (c->transactional = msg_kind(n->value)) < 0)
				return bad(r, n->line, n->col, "transactional",
				    "expected no, yes or requested");
		} else if (strcmp(n->key, "policy") == 0) {
			rc = nudge_config_read_policy(r->path, n, &c->policy,
			    r->err);
		} else {
			rc = bad(r, n->line, n->col, "", "unknown key \"%.64s\" "
			    "(expected name, audience, entry, exit, limit, "
			    "timezone, goal, holdout, transactional, policy or steps)",
			    n->key);
		}
	}
	if (rc != 0)
		return rc;
	if (c->entry_on == NULL && (ex != NULL || lim != NULL))
		return bad(r, (ex != NULL ? ex : lim)->line, (ex != NULL ? ex :
		    lim)->col, ex != NULL ? "exit" : "limit", "only a journey "
		    "started by an event (entry: on EVENT) has instances to "
		    "end or limit");
	/* a journey started by an event: everyone with the event may
	 * enter unless an audience narrows it */
	if (aud == NULL && c->entry_on == NULL)
		return bad(r, root->line, root->col, "", "no audience: who may "
		    "enter, as a segment expression");
	if (aud != NULL && (rc = expr(r, aud, "audience", &c->audience,
	    &c->aud_line, &c->aud_col)) != 0)
		return rc;
	c->window = 7 * 86400;
	if (goal != NULL && (rc = expr(r, goal, "goal", &c->goal,
	    &c->goal_line, &c->goal_col)) != 0)
		return rc;
	if (steps == NULL)
		return bad(r, root->line, root->col, "", "no steps");
	if (steps->kind != NUDGE_Y_SEQ || steps->n == 0)
		return bad(r, steps->line, steps->col, "steps", "expected a list "
		    "of steps (- id: ...)");
	if ((c->steps = calloc(steps->n, sizeof *c->steps)) == NULL)
		return oom(r);
	for (i = 0; i < steps->n; i++) {
		c->nsteps = i + 1;
		if ((rc = read_step(r, steps->kids[i], i)) != 0)
			return rc;
		total += c->steps[i].after;
	}
	/* a test picks one winner, once: a round's messages have their
	 * own ledger steps, which no winner would ever reach */
	for (i = 0; i < c->nsteps; i++)
		if ((c->every > 0 || c->entry_on != NULL) &&
		    c->steps[i].test_share > 0) {
			snprintf(b, sizeof b, "steps[%zu]: test", i + 1);
			return bad(r, c->steps[i].line, c->steps[i].col, b,
			    "a test runs once, not in a campaign of rounds "
			    "or instances (entry: every ... or on ...); "
			    "variants without a test may");
		}
	/* a round's journey may run on into the next round, no further */
	if (c->every > 0 && total >= (c->cal == 'm' ? 28 * 86400 : c->every))
		return bad(r, steps->line, steps->col, "steps", "the waits add "
		    "up to a round or more (entry: every ...): a journey "
		    "must end within its round's length");
	return check_steps(r);
}

int
nudge_campaign_load(const char *path, nudge_campaign **out, nudge_err *err)
{
	nudge_ynode *root = NULL;
	nudge_campaign *c;
	struct rd r = { path, NULL, err };
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	c->policy.quiet_from = c->policy.quiet_to = -1;
	r.c = c;
	if ((c->path = strdup(path)) == NULL) {
		rc = oom(&r);
		goto fail;
	}
	if ((rc = nudge_yaml_load(path, &root, err)) != 0 ||
	    (rc = read_root(&r, root)) != 0)
		goto fail;
	nudge_yaml_free(root);
	*out = c;
	return 0;
fail:
	nudge_yaml_free(root);
	nudge_campaign_free(c);
	return rc;
}

void
nudge_campaign_free(nudge_campaign *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsteps; i++) {
		size_t j;

		for (j = 0; j < c->steps[i].nvariants; j++) {
			free(c->steps[i].variants[j].id);
			free(c->steps[i].variants[j].tpl);
			free(c->steps[i].variants[j].subject);
		}
		free(c->steps[i].variants);
		free(c->steps[i].id);
		free(c->steps[i].channel);
		free(c->steps[i].tpl);
		free(c->steps[i].cond);
		free(c->steps[i].unless);
	}
	free(c->steps);
	free(c->path);
	free(c->name);
	free(c->audience);
	free(c->goal);
	free(c->tz);
	free(c->entry_on);
	free(c->entry_channel);
	free(c->exit_on);
	free(c->exit_prop);
	free(c->policy.quiet_tz);
	free(c->policy.exclude);
	free(c);
}

const nudge_step *
nudge_campaign_step(const nudge_campaign *c, const char *id, size_t *index)
{
	size_t i, n = strcspn(id, "@#");

	for (i = 0; i < c->nsteps; i++)
		if (strlen(c->steps[i].id) == n &&
		    strncmp(c->steps[i].id, id, n) == 0) {
			if (index != NULL)
				*index = i;
			return &c->steps[i];
		}
	return NULL;
}

void
nudge_campaign_policy(const nudge_campaign *c, const nudge_policy_cfg *g,
    nudge_policy_cfg *p)
{
	const nudge_policy_cfg *o = &c->policy;

	memset(p, 0, sizeof *p);
	p->quiet_from = p->quiet_to = -1;
	if (g != NULL)
		*p = *g;
	if (o->cap_max > 0) {
		p->cap_max = o->cap_max;
		p->cap_per = o->cap_per;
	}
	if (o->quiet_from >= 0) {
		p->quiet_from = o->quiet_from;
		p->quiet_to = o->quiet_to;
		p->quiet_tz = o->quiet_tz;
	}
	if (o->exclude != NULL)
		p->exclude = o->exclude;
	if (o->sunset > 0)
		p->sunset = o->sunset;
}
