/* sendtrig: trigger lines into send runs, one per step. */
#include "sendtrig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "campaign.h"
#include "ledger.h"

#define GROUP_MAX 4096

struct group {
	char *campaign, *step, *file; /* NULL campaign: bare lines */
	nudge_buf ids;                /* the first fields, one a line */
	long *lines;                  /* their line numbers in the stream */
	size_t n;
};

struct ctx {
	nudge_store *st;
	const nudge_send_opts *o;
	const char *dir;
	nudge_send_stats *stats;
	nudge_err *err;
	nudge_campaign **cs;          /* loaded files, by path */
	size_t ncs;
	struct group g;
};

static void
relay(void *arg, const nudge_send_result *r)
{
	struct ctx *x = arg;
	nudge_send_result rr = *r;

	if (r->line >= 1 && (size_t)r->line <= x->g.n)
		rr.line = x->g.lines[r->line - 1];
	if (x->o->on_result != NULL)
		x->o->on_result(x->o->arg, &rr);
}

static int
campaign_for(struct ctx *x, nudge_campaign **out)
{
	struct group *g = &x->g;
	nudge_campaign **nc;
	char *path = NULL;
	size_t i;
	int rc;

	if (g->file != NULL) {
		path = strdup(g->file);
	} else if (x->dir == NULL) {
		return nudge_errf(x->err, EX_USAGE, "line %ld: a trigger line "
		    "without its campaign file: give --campaigns DIR",
		    g->lines[0]);
	} else if (asprintf(&path, "%s/%s.yaml", x->dir, g->campaign) == -1) {
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
	if (strcmp((*out)->name, g->campaign) != 0)
		return nudge_errf(x->err, EX_DATAERR, "line %ld: campaign "
		    "\"%.100s\", but %s is campaign \"%.100s\"", g->lines[0],
		    g->campaign, (*out)->path, (*out)->name);
	return 0;
}

/* An sms or push step with no transport (no channels: sms: or push: in
 * the config, no --transport file://): its lines are skipped (not
 * claimed: a later run offers them again), so that the other steps of
 * the same cron run still go out. */
static int
no_transport(struct ctx *x, const char *channel)
{
	struct group *g = &x->g;
	nudge_send_result r = { 0 };
	char why[128], *p, *nl;
	size_t i;

	snprintf(why, sizeof why, "no transport for %s: give channels: %s: "
	    "in the config", channel, channel);
	for (i = 0, p = g->ids.s; i < g->n; i++, p = nl + 1) {
		nl = strchr(p, '\n');
		*nl = '\0';
		r.line = g->lines[i];
		r.input = p;
		r.status = "skipped";
		r.detail = why;
		r.campaign = g->campaign;
		r.step = g->step;
		x->stats->read++;
		x->stats->skipped++;
		if (x->o->on_result != NULL)
			x->o->on_result(x->o->arg, &r);
	}
	nudge_buf_reset(&g->ids);
	g->n = 0;
	return 0;
}

static int
flush(struct ctx *x)
{
	struct group *g = &x->g;
	nudge_send_opts so = *x->o;
	nudge_send_stats st;
	nudge_policy_cfg pol;
	nudge_campaign *c = NULL;
	const nudge_step *s;
	FILE *fp;
	int rc;

	if (g->n == 0)
		return 0;
	if (g->campaign != NULL) {
		if ((rc = campaign_for(x, &c)) != 0)
			return rc;
		if ((s = nudge_campaign_step(c, g->step, NULL)) == NULL)
			return nudge_errf(x->err, EX_DATAERR, "line %ld: %s has "
			    "no step \"%.100s\"", g->lines[0], c->path,
			    g->step);
		nudge_campaign_policy(c, x->o->cfg != NULL ?
		    &x->o->cfg->policy : NULL, &pol);
		so.campaign = c->name;
		so.step = g->step;
		so.channel = s->channel;
		so.template_path = s->tpl;
		so.policy = &pol;
		if (strcmp(s->channel, "email") != 0) {
			const nudge_http_cfg *h = x->o->cfg == NULL ? NULL :
			    strcmp(s->channel, "sms") == 0 ? &x->o->cfg->sms :
			    &x->o->cfg->push;

			/* --transport is the email's, unless a directory */
			if (so.transport != NULL &&
			    strncmp(so.transport, "file://", 7) != 0)
				so.transport = NULL;
			if (so.transport == NULL && (h == NULL ||
			    (h->provider == NULL && h->url == NULL)))
				return no_transport(x, s->channel);
		}
	}
	so.on_result = relay;
	so.arg = x;
	if ((fp = fmemopen(g->ids.s, g->ids.len, "r")) == NULL)
		return nudge_errf(x->err, EX_OSERR, "fmemopen: %s",
		    strerror(errno));
	rc = nudge_send_run(x->st, fp, &so, &st, x->err);
	fclose(fp);
	x->stats->read += st.read;
	x->stats->sent += st.sent;
	x->stats->failed += st.failed;
	x->stats->bounced += st.bounced;
	x->stats->tempfail += st.tempfail;
	x->stats->skipped += st.skipped;
	x->stats->duplicate += st.duplicate;
	x->stats->unknown += st.unknown;
	x->stats->rendered += st.rendered;
	x->stats->recovered += st.recovered;
	x->stats->held += st.held;
	nudge_buf_reset(&g->ids);
	g->n = 0;
	return rc;
}

/* The claims of a send that died become `unknown` at the start of every
 * run, even one that reads no line: once every due key is in the ledger
 * (the killed run's claims too), trigger prints nothing, no
 * nudge_send_run starts, and those claims would stay `claimed` for good,
 * their loss never reported.  Adds the rows marked to stats->recovered. */
static int
recover(nudge_store *st, const nudge_send_opts *o, nudge_send_stats *stats,
    nudge_err *err)
{
	nudge_ledger *l;
	long lost = 0;
	int rc;

	if (o->dry_run)
		return 0;
	if ((rc = nudge_ledger_open(&l, st, err)) != 0)
		return rc;
	rc = nudge_ledger_recover(l, o->now, 0, NULL, NULL, &lost, err);
	nudge_ledger_close(l);
	stats->recovered += lost;
	return rc;
}

static int
same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
nudge_send_stream(nudge_store *st, FILE *in, const nudge_send_opts *o,
    const char *dir, nudge_send_stats *stats, nudge_err *err)
{
	struct ctx x = { st, o, dir, stats, err, NULL, 0, { 0 } };
	struct group *g = &x.g;
	char *line = NULL, *f[4];
	size_t cap = 0, i;
	long lineno = 0;
	ssize_t n;
	int rc = 0, nf;

	memset(stats, 0, sizeof *stats);
	if ((rc = recover(st, o, stats, err)) != 0)
		return rc;
	if ((g->lines = malloc(GROUP_MAX * sizeof *g->lines)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	while ((n = getline(&line, &cap, in)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		for (nf = 1, f[0] = line; nf < 4 &&
		    (f[nf] = strchr(f[nf - 1], '\t')) != NULL; nf++)
			*f[nf]++ = '\0';
		if (nf == 4) {
			f[3][strcspn(f[3], "\t")] = '\0';
			if (*f[3] == '\0')
				nf = 3;
		}
		if (nf == 2 || o->campaign != NULL)
			nf = 1;   /* with --campaign every line is bare: its
				     further fields are the user's */
		if (nf >= 3 && (*f[1] == '\0' || *f[2] == '\0')) {
			rc = nudge_errf(err, EX_DATAERR, "line %ld: expected "
			    "CONTACT<TAB>CAMPAIGN<TAB>STEP[<TAB>FILE]", lineno);
			break;
		}
		if (g->n == GROUP_MAX || (g->n > 0 && (!same(g->campaign,
		    nf >= 3 ? f[1] : NULL) || !same(g->step, nf >= 3 ? f[2] :
		    NULL) || !same(g->file, nf == 4 ? f[3] : NULL)))) {
			if ((rc = flush(&x)) != 0)
				break;
		}
		if (g->n == 0) {
			free(g->campaign);
			free(g->step);
			free(g->file);
			g->campaign = g->step = g->file = NULL;
			if ((nf >= 3 && ((g->campaign = strdup(f[1])) == NULL ||
			    (g->step = strdup(f[2])) == NULL)) ||
			    (nf == 4 && (g->file = strdup(f[3])) == NULL)) {
				rc = nudge_errf(err, EX_OSERR, "out of memory");
				break;
			}
		}
		if (nudge_buf_puts(&g->ids, f[0]) == -1 ||
		    nudge_buf_putc(&g->ids, '\n') == -1) {
			rc = nudge_errf(err, EX_OSERR, "out of memory");
			break;
		}
		g->lines[g->n++] = lineno;
	}
	if (rc == 0 && ferror(in))
		rc = nudge_errf(err, EX_IOERR, "reading the contacts: %s",
		    strerror(errno));
	if (rc == 0)
		rc = flush(&x);
	free(line);
	free(g->campaign);
	free(g->step);
	free(g->file);
	free(g->lines);
	nudge_buf_free(&g->ids);
	for (i = 0; i < x.ncs; i++)
		nudge_campaign_free(x.cs[i]);
	free(x.cs);
	return rc;
}
