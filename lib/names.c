/* names: known names (nudge defines them, the config declares them or
 * the store holds them) and did-you-mean hints for the unknown. */
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channel.h"
#include "contact.h"
#include "yaml.h"

/* The hint reads at most this many candidates of a kind from the store:
 * a did-you-mean needs the names a person wrote, not every round of a
 * recurring campaign. */
#define MAX_CANDS 1000

struct nudge_names {
	nudge_store *st;
	const nudge_config *cfg;
	const nudge_campaign **cs;
	size_t ncs;
};

/* What nudge itself records (send, track, event's consent handling),
 * and the language's "received". */
static const char *const builtin_events[] = { "sent", "received",
    "delivered", "opened", "clicked", "bounced", "complained",
    "unsubscribed", "subscribed", "failed", "replied", "inbound",
    "signup_pending", "signup_confirmed", "preferences" };


#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Candidate names for a hint, owned. */
struct cands {
	char **v;
	size_t n;
};

static int
cand_add(struct cands *c, const char *s, size_t len)
{
	char **nv;

	if ((nv = realloc(c->v, (c->n + 1) * sizeof *nv)) == NULL)
		return -1;
	c->v = nv;
	if ((c->v[c->n] = strndup(s, len)) == NULL)
		return -1;
	c->n++;
	return 0;
}

static int
cand_addv(struct cands *c, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cand_add(c, v[i], strlen(v[i])) == -1)
			return -1;
	return 0;
}

static void
cand_free(struct cands *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	memset(c, 0, sizeof *c);
}

int
nudge_names_open(nudge_names **k, nudge_store *st, const nudge_config *cfg,
    nudge_err *err)
{
	if ((*k = calloc(1, sizeof **k)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	(*k)->st = st;
	(*k)->cfg = cfg;
	return 0;
}

void
nudge_names_free(nudge_names *k)
{
	if (k == NULL)
		return;
	free(k->cs);
	free(k);
}

int
nudge_names_add_campaign(nudge_names *k, const nudge_campaign *c,
    nudge_err *err)
{
	const nudge_campaign **ncs;

	if ((ncs = realloc(k->cs, (k->ncs + 1) * sizeof *ncs)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	k->cs = ncs;
	k->cs[k->ncs++] = c;
	return 0;
}

int
nudge_names_event_builtin(const char *type)
{
	size_t i;

	for (i = 0; i < NELEM(builtin_events); i++)
		if (strcmp(builtin_events[i], type) == 0)
			return 1;
	return 0;
}

static int
in(const char *s, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* Runs sql with text parameters a and b (b may be NULL): 1 when it gives
 * a row, 0 when not, or a store error's sysexits code (err set). */
static int
exists(nudge_store *st, const char *sql, const char *a, const char *b,
    nudge_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(st, err, "known names");
	sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	if (b != NULL)
		sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return nudge_store_error(st, err, "known names");
}

/* Adds the first column of each row of sql (parameter ?1 = a, if not
 * NULL) to c, at most MAX_CANDS; a step's round ("@...") cut off. */
static int
collect(nudge_store *st, const char *sql, const char *a, struct cands *c,
    nudge_err *err)
{
	sqlite3_stmt *s;
	const char *v;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(st, err, "known names");
	if (a != NULL)
		sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && c->n < MAX_CANDS) {
		if ((v = (const char *)sqlite3_column_text(s, 0)) == NULL)
			continue;
		if (cand_add(c, v, strcspn(v, "@#")) == -1) {
			sqlite3_finalize(s);
			return nudge_errf(err, EX_OSERR, "out of memory");
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(st, err, "known names");
	return 0;
}

/* The loaded campaign called name, or NULL. */
static const nudge_campaign *
loaded(const nudge_names *k, const char *name)
{
	size_t i;

	for (i = 0; i < k->ncs; i++)
		if (strcmp(k->cs[i]->name, name) == 0)
			return k->cs[i];
	return NULL;
}

static const char sql_types[] = NUDGE_NAMES_SQL_TYPES
    " SELECT x FROM t WHERE x IS NOT NULL";

/* Fills c with the known names of u's kind (for a step: of its
 * campaign). */
static int
candidates(nudge_names *k, const nudge_seg_name *u, struct cands *c,
    nudge_err *err)
{
	const nudge_campaign *lc;
	size_t i;
	int rc = 0;

	switch (u->kind) {
	case NUDGE_SEG_NAME_EVENT:
		if (cand_addv(c, builtin_events, NELEM(builtin_events)) == -1 ||
		    (k->cfg != NULL && cand_addv(c,
		    (const char *const *)k->cfg->event_types,
		    k->cfg->nevent_types) == -1))
			return nudge_errf(err, EX_OSERR, "out of memory");
		if (k->st != NULL)
			rc = collect(k->st, sql_types, NULL, c, err);
		break;
	case NUDGE_SEG_NAME_LIST:
		if (k->st != NULL)
			rc = collect(k->st, "SELECT name FROM lists ORDER BY id",
			    NULL, c, err);
		break;
	case NUDGE_SEG_NAME_CAMPAIGN:
		for (i = 0; i < k->ncs; i++)
			if (cand_add(c, k->cs[i]->name,
			    strlen(k->cs[i]->name)) == -1)
				return nudge_errf(err, EX_OSERR, "out of memory");
		if (k->st != NULL)
			rc = collect(k->st, "SELECT name FROM campaigns "
			    "ORDER BY id", NULL, c, err);
		break;
	case NUDGE_SEG_NAME_STEP:
		if ((lc = loaded(k, u->campaign)) != NULL) {
			for (i = 0; i < lc->nsteps; i++)
				if (cand_add(c, lc->steps[i].id,
				    strlen(lc->steps[i].id)) == -1)
					return nudge_errf(err, EX_OSERR,
					    "out of memory");
		} else if (k->st != NULL) {
			rc = collect(k->st, NUDGE_NAMES_SQL_STEPS, u->campaign, c, err);
			/* events imported with a step have no ledger row:
			 * the campaign's events then (a scan of them, only
			 * for a hint) */
			if (rc == 0 && c->n == 0)
				rc = collect(k->st, "SELECT DISTINCT step FROM "
				    "events WHERE campaign_id = (SELECT id FROM "
				    "campaigns WHERE name = ?1) AND step IS NOT "
				    "NULL AND step != ''", u->campaign, c, err);
		}
		break;
	case NUDGE_SEG_NAME_FIELD:
		for (i = 0; nudge_seg_computed_name(i) != NULL; i++)
			if (cand_add(c, nudge_seg_computed_name(i),
			    strlen(nudge_seg_computed_name(i))) == -1)
				return nudge_errf(err, EX_OSERR, "out of memory");
		break;
	case NUDGE_SEG_NAME_CHANNEL:
		for (i = 0; i < NUDGE_NCHANNELS; i++)
			if (cand_add(c, nudge_channels[i].name,
			    strlen(nudge_channels[i].name)) == -1)
				return nudge_errf(err, EX_OSERR, "out of memory");
		if ((k->cfg != NULL && cand_addv(c,
		    (const char *const *)k->cfg->event_channels,
		    k->cfg->nevent_channels) == -1))
			return nudge_errf(err, EX_OSERR, "out of memory");
		break;
	}
	return rc;
}

/* Whether u is known: 1, 0, 2 (only the absent store could say), or a
 * sysexits code (err set). */
static int
known(nudge_names *k, const nudge_seg_name *u, nudge_err *err)
{
	const nudge_campaign *lc;
	nudge_store *st = k->st;
	const char **cs;
	size_t i;
	int rc, found;

	switch (u->kind) {
	case NUDGE_SEG_NAME_EVENT:
		if (nudge_names_event_builtin(u->name) || (k->cfg != NULL &&
		    in(u->name, (const char *const *)k->cfg->event_types,
		    k->cfg->nevent_types)))
			return 1;
		return st == NULL ? 2 : exists(st, "SELECT 1 FROM events "
		    "WHERE type = ?1 LIMIT 1", u->name, NULL, err);
	case NUDGE_SEG_NAME_LIST:
		return st == NULL ? 2 : exists(st, "SELECT 1 FROM lists "
		    "WHERE name = ?1", u->name, NULL, err);
	case NUDGE_SEG_NAME_CAMPAIGN:
		if (loaded(k, u->name) != NULL)
			return 1;
		return st == NULL ? 2 : exists(st, "SELECT 1 FROM campaigns "
		    "WHERE name = ?1", u->name, NULL, err);
	case NUDGE_SEG_NAME_STEP:
		if (u->campaign == NULL)
			return 1;
		if ((lc = loaded(k, u->campaign)) != NULL)
			return nudge_campaign_step(lc, u->name, NULL) != NULL &&
			    strchr(u->name, '@') == NULL;
		if (st == NULL)
			return 2;
		/* the ledger's key, then the campaign's events (imported
		 * ones may have no ledger row) */
		if ((rc = exists(st, "SELECT 1 FROM messages WHERE campaign_id "
		    "= (SELECT id FROM campaigns WHERE name = ?1) AND step = ?2 "
		    "LIMIT 1", u->campaign, u->name, err)) != 0)
			return rc;
		return exists(st, "SELECT 1 FROM events WHERE campaign_id = "
		    "(SELECT id FROM campaigns WHERE name = ?1) AND step = ?2 "
		    "LIMIT 1", u->campaign, u->name, err);
	case NUDGE_SEG_NAME_FIELD:
		/* an attrs key: a typo only when it is a near miss of a
		 * computed field that no contact has as a key either */
		for (i = 0; nudge_seg_computed_name(i) != NULL; i++)
			;
		if ((cs = calloc(i + 1, sizeof *cs)) == NULL)
			return nudge_errf(err, EX_OSERR, "out of memory");
		for (i = 0; (cs[i] = nudge_seg_computed_name(i)) != NULL; i++)
			;
		rc = nudge_closest(u->name, cs, i) == NULL;
		free(cs);
		if (rc || st == NULL)
			return rc;
		found = 0;
		if ((rc = nudge_contact_attr_known(st, u->name, &found, err)) !=
		    0)
			return rc;
		return found;
	case NUDGE_SEG_NAME_CHANNEL:
		/* not the store's: no index has events.channel, and a scan
		 * for a channel few events have costs seconds on 10M events
		 * at every run (5.7 s measured); a business's own channels
		 * are declared in the config */
		return nudge_channel_find(u->name) != NULL ||
		    (k->cfg != NULL && in(u->name,
		    (const char *const *)k->cfg->event_channels,
		    k->cfg->nevent_channels));
	}
	return 1;
}

static const char *
qt(char *buf, size_t len, const char *s)
{
	return nudge_quote(buf, len, s, strlen(s));
}

int
nudge_names_check(nudge_names *k, const nudge_seg_name *u, nudge_buf *why,
    nudge_err *err)
{
	struct cands c = { 0 };
	const char *best;
	char a[80], b[80], q[80];
	int rc, r;

	if ((rc = known(k, u, err)) == 1 || rc > 2)
		return rc;
	/* a step of a campaign that is itself unknown: that is the error */
	if (u->kind == NUDGE_SEG_NAME_STEP && rc == 0 &&
	    loaded(k, u->campaign) == NULL && k->st != NULL) {
		nudge_seg_name cu = { NUDGE_SEG_NAME_CAMPAIGN,
		    u->campaign, NULL, u->off, u->col };

		if ((r = known(k, &cu, err)) > 2)
			return r;
		if (r == 0)
			return 1;
	}
	if (rc == 2 && u->kind == NUDGE_SEG_NAME_EVENT) {
		/* no store: a near miss of a name nudge defines or the
		 * config declares is still a typo ("opend") */
		if ((r = candidates(k, u, &c, err)) != 0) {
			cand_free(&c);
			return r;
		}
		if (nudge_closest(u->name, (const char *const *)c.v, c.n) !=
		    NULL)
			rc = 0;
		cand_free(&c);
	}
	if (rc == 2) {
		static const char *const what[] = { "event type", "list",
		    "campaign", "step", "channel", "field" };

		r = nudge_buf_printf(why, "%s \"%s\" not checked: no store "
		    "to look it up in", what[u->kind], qt(a, sizeof a,
		    u->name));
		return r == -1 ? nudge_errf(err, EX_OSERR, "out of memory") : 2;
	}
	if ((r = candidates(k, u, &c, err)) != 0) {
		cand_free(&c);
		return r;
	}
	best = nudge_closest(u->name, (const char *const *)c.v, c.n);
	qt(a, sizeof a, u->name);
	if (best != NULL)
		qt(b, sizeof b, best);
	switch (u->kind) {
	case NUDGE_SEG_NAME_EVENT:
		r = nudge_buf_printf(why, "no event of type \"%s\"", a);
		if (best == NULL)
			r |= nudge_buf_puts(why, " (a type with no events yet "
			    "can be declared in the config's event_types)");
		break;
	case NUDGE_SEG_NAME_LIST:
	case NUDGE_SEG_NAME_CAMPAIGN: {
		const char *what = u->kind == NUDGE_SEG_NAME_LIST ? "list" :
		    "campaign";

		r = best != NULL && strcasecmp(best, u->name) == 0 ?
		    nudge_buf_printf(why, "%s \"%s\" is unknown; there is "
		    "\"%s\" (%s names are case-sensitive)", what, a, b, what) :
		    nudge_buf_printf(why, "no %s \"%s\"", what, a);
		break;
	}
	case NUDGE_SEG_NAME_STEP:
		r = nudge_buf_printf(why, "campaign \"%s\" has no step \"%s\"",
		    qt(q, sizeof q, u->campaign), a);
		break;
	case NUDGE_SEG_NAME_FIELD:
		r = nudge_buf_printf(why, "no computed field \"%s\", nor an "
		    "attrs key any contact has", a);
		break;
	case NUDGE_SEG_NAME_CHANNEL:
		r = nudge_buf_printf(why, "no channel \"%s\"", a);
		if (best == NULL)
			r |= nudge_buf_puts(why, " (nudge's own: "
			    NUDGE_CHANNEL_NAMES "; others can be declared in "
			    "the config's event_channels)");
		break;
	}
	/* (a list or campaign in the wrong case was named above) */
	if (best != NULL && (strcasecmp(best, u->name) != 0 ||
	    (u->kind != NUDGE_SEG_NAME_LIST &&
	    u->kind != NUDGE_SEG_NAME_CAMPAIGN)))
		r |= nudge_buf_printf(why, "; did you mean \"%s\"?", b);
	cand_free(&c);
	if (r != 0)
		return nudge_errf(err, EX_OSERR, "out of memory");
	return 0;
}

static int
same_name(const nudge_seg_name *a, const nudge_seg_name *b)
{
	return a->kind == b->kind && strcmp(a->name, b->name) == 0 &&
	    (a->campaign == NULL) == (b->campaign == NULL) &&
	    (a->campaign == NULL || strcmp(a->campaign, b->campaign) == 0);
}

int
nudge_names_check_seg(nudge_names *k, const nudge_seg *seg,
    nudge_names_fn *fn, void *arg, nudge_err *err)
{
	nudge_buf why = { 0 };
	size_t i, j;
	int rc;

	for (i = 0; i < seg->nnames; i++) {
		for (j = 0; j < i; j++)
			if (same_name(&seg->names[i], &seg->names[j]))
				break;
		if (j < i)
			continue;
		nudge_buf_reset(&why);
		if ((rc = nudge_names_check(k, &seg->names[i], &why, err)) >
		    2) {
			nudge_buf_free(&why);
			return rc;
		}
		if (rc != 1)
			fn(arg, &seg->names[i], rc, nudge_buf_str(&why));
	}
	nudge_buf_free(&why);
	return 0;
}

struct first {
	const nudge_seg_name *u;
	char why[700];
	int unchecked;
};

static void
on_unknown(void *arg, const nudge_seg_name *u, int rc, const char *why)
{
	struct first *f = arg;

	if (rc == 2) {
		f->unchecked++;
	} else if (f->u == NULL) {
		f->u = u;
		snprintf(f->why, sizeof f->why, "%s", why);
	}
}

int
nudge_names_check_expr(nudge_names *k, const char *expr,
    const char *campaign, const char *path, long line, long col,
    const char *what, int *unchecked, nudge_err *err)
{
	nudge_seg_ctx ctx = { .campaign = campaign, .lenient_refs = 1 };
	struct first f;
	nudge_seg seg;
	nudge_err e;
	int rc;

	memset(&f, 0, sizeof f);
	if ((rc = nudge_seg_compile_ctx(NULL, NULL, expr, 0, &ctx, &seg,
	    &e)) != 0)
		rc = nudge_errf(err, rc, "%s: %s: %s", path, what, e.msg);
	else
		rc = nudge_names_check_seg(k, &seg, on_unknown, &f, err);
	if (rc == 0 && f.u != NULL) {
		long eline = line, ecol = col + (long)f.u->col - 1;

		/* in a folded (>-) expression the name is on its own line */
		nudge_yaml_find_pos(path, line, col, f.u->off, &eline, &ecol);
		rc = nudge_errf(err, EX_DATAERR, "%s:%ld:%ld: %s: %s", path,
		    eline, ecol, what, f.why);
	}
	if (unchecked != NULL)
		*unchecked += f.unchecked;
	nudge_seg_free(&seg);
	return rc;
}
