/* tplctx: event data and conditions for message templates. */
#include "tplctx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "names.h"
#include "segment.h"

/* What one contact's message read already: each name once. */
struct evval {
	char *name;
	char *val;              /* NULL: no value */
	size_t len;
};

struct evtype {
	char *type;
	char *props;            /* NULL: no such event, or no props */
	char at[24];            /* "" when no such event */
};

struct nudge_evdata {
	nudge_store *st;
	sqlite3_stmt *q, *qe;
	int64_t contact;        /* whose reads are kept, or 0 */
	int64_t entry;          /* and of which entry event, or 0 */
	struct evtype ent;      /* the entry event, once read */
	int ent_read;
	struct evval *v;
	size_t nv, capv;
	struct evtype *t;
	size_t nt, capt;
};

int
nudge_evdata_open(nudge_evdata **out, nudge_store *st, nudge_err *err)
{
	nudge_evdata *d;
	int rc;

	*out = NULL;
	if ((d = calloc(1, sizeof *d)) == NULL)
		return nudge_errf(err, EX_OSERR, "%s", strerror(errno));
	d->st = st;
	/* props as stored: member() reads only the path it asks and finds
	 * nothing where that is not JSON; json_valid() here parsed every
	 * event's props whole, once a message */
	if ((rc = nudge_store_prepare(st, &d->q, "SELECT props, at FROM "
	    "events WHERE contact_id = ?1 AND type = ?2 ORDER BY at DESC, "
	    "id DESC LIMIT 1", err)) != 0 ||
	    (rc = nudge_store_prepare(st, &d->qe, "SELECT props, at FROM "
	    "events WHERE id = ?1 AND contact_id = ?2", err)) != 0) {
		nudge_evdata_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

static void
forget(nudge_evdata *d)
{
	size_t i;

	for (i = 0; i < d->nv; i++) {
		free(d->v[i].name);
		free(d->v[i].val);
	}
	for (i = 0; i < d->nt; i++) {
		free(d->t[i].type);
		free(d->t[i].props);
	}
	d->nv = d->nt = 0;
	free(d->ent.props);
	memset(&d->ent, 0, sizeof d->ent);
	d->ent_read = 0;
}

/* Steps q (bound) into e: its props and time, or nothing when q has no
 * row.  Returns 0, or -1 on an error (*failed set). */
static int
read_event(sqlite3_stmt *q, struct evtype *e, int *failed)
{
	int rc = sqlite3_step(q);

	if (rc == SQLITE_ROW) {
		const unsigned char *p = sqlite3_column_text(q, 0);

		snprintf(e->at, sizeof e->at, "%lld",
		    (long long)sqlite3_column_int64(q, 1));
		if (p != NULL && (e->props = strdup((const char *)p)) ==
		    NULL)
			rc = SQLITE_NOMEM;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		free(e->props);
		e->props = NULL;
		*failed = 1;
		return -1;
	}
	return 0;
}

/* The contact's latest event of type[0..tn), read once a message. */
static struct evtype *
event_of(nudge_evdata *d, int64_t contact, const char *type, size_t tn,
    int *failed)
{
	struct evtype *e;
	size_t i;

	for (i = 0; i < d->nt; i++)
		if (strlen(d->t[i].type) == tn &&
		    memcmp(d->t[i].type, type, tn) == 0)
			return &d->t[i];
	if (d->nt == d->capt) {
		size_t nc = d->capt ? d->capt * 2 : 4;

		if ((e = realloc(d->t, nc * sizeof *e)) == NULL)
			goto oom;
		d->t = e;
		d->capt = nc;
	}
	e = &d->t[d->nt];
	memset(e, 0, sizeof *e);
	if ((e->type = strndup(type, tn)) == NULL)
		goto oom;
	sqlite3_bind_int64(d->q, 1, contact);
	sqlite3_bind_text(d->q, 2, type, (int)tn, SQLITE_STATIC);
	if (read_event(d->q, e, failed) != 0) {
		free(e->type);
		return NULL;
	}
	d->nt++;
	return e;
oom:
	*failed = 1;
	return NULL;
}

/* The member path (a.b; a number indexes a list) of e's props: a
 * string unescaped, a number, a list or an object as written, in a
 * malloc'd string; or NULL: no such member, or null (*failed set when
 * out of memory).  Read by json.c, not SQLite's json_extract: a
 * statement run per member cost more than the rest of a message. */
static char *
member(const struct evtype *e, const char *path, size_t *len, int *failed)
{
	const char *v;
	size_t n;
	char *r;

	if (nudge_json_find(e->props, strlen(e->props), path, &v, &n) != 0 ||
	    (n == 4 && memcmp(v, "null", 4) == 0))
		return NULL;
	if ((r = malloc(n + 6)) == NULL) {
		*failed = 1;
		return NULL;
	}
	if (*v == '"') {
		*len = nudge_json_unquote(v, n, r);
	} else {
		memcpy(r, v, n);
		r[n] = '\0';
		*len = n;
	}
	return r;
}

/* The entry event of the message: read once, by its id (the primary
 * key), and only when it is contact's. */
static struct evtype *
entry_of(nudge_evdata *d, int64_t contact, int64_t entry, int *failed)
{
	if (!d->ent_read) {
		sqlite3_bind_int64(d->qe, 1, entry);
		sqlite3_bind_int64(d->qe, 2, contact);
		if (read_event(d->qe, &d->ent, failed) != 0)
			return NULL;
		d->ent_read = 1;
	}
	return &d->ent;
}

const char *
nudge_evdata_lookup(nudge_evdata *d, int64_t contact, int64_t entry,
    const char *name, size_t *len, int *failed)
{
	const char *type = name + 7, *dot = strchr(type, '.');
	struct evtype *e;
	struct evval *v;
	size_t i;

	*failed = 0;
	if (strncmp(name, "event.", 6) == 0) {
		if (entry == 0 || name[6] == '\0')
			return NULL;
		dot = name + 5;
	} else if (strncmp(name, "latest.", 7) != 0 || dot == NULL ||
	    dot == type || dot[1] == '\0')
		return NULL;
	if (d->contact != contact || d->entry != entry) {
		forget(d);
		d->contact = contact;
		d->entry = entry;
	}
	for (i = 0; i < d->nv; i++)
		if (strcmp(d->v[i].name, name) == 0) {
			*len = d->v[i].len;
			return d->v[i].val;
		}
	if ((e = name[0] == 'e' ? entry_of(d, contact, entry, failed) :
	    event_of(d, contact, type, (size_t)(dot - type), failed)) == NULL)
		return NULL;
	if (d->nv == d->capv) {
		size_t nc = d->capv ? d->capv * 2 : 8;

		if ((v = realloc(d->v, nc * sizeof *v)) == NULL) {
			*failed = 1;
			return NULL;
		}
		d->v = v;
		d->capv = nc;
	}
	v = &d->v[d->nv];
	memset(v, 0, sizeof *v);
	if ((v->name = strdup(name)) == NULL) {
		*failed = 1;
		return NULL;
	}
	if (e->props != NULL)
		v->val = member(e, dot + 1, &v->len, failed);
	if (v->val == NULL && !*failed && e->at[0] != '\0' &&
	    strcmp(dot + 1, "at") == 0) {
		/* the event's time, unless its props have an "at" */
		if ((v->val = strdup(e->at)) == NULL)
			*failed = 1;
		v->len = strlen(e->at);
	}
	if (*failed) {
		free(v->name);
		free(v->val);
		return NULL;
	}
	d->nv++;
	*len = v->len;
	return v->val;
}

void
nudge_evdata_free(nudge_evdata *d)
{
	if (d == NULL)
		return;
	forget(d);
	free(d->v);
	free(d->t);
	sqlite3_finalize(d->q);
	sqlite3_finalize(d->qe);
	free(d);
}

/* One condition: its query and, once asked, the contacts it holds for. */
struct condset {
	nudge_seg seg;
	char *text;             /* the condition as written */
	struct condset *same;   /* an earlier one with the same text (the
				   text part's and the HTML's), read
				   instead, or NULL */
	int loaded;
	int64_t *ids;           /* ascending */
	size_t n;
};

struct nudge_tplcond {
	nudge_store *st;
	size_t n;
	struct condset *set;
};

struct build {
	nudge_store *st;
	int64_t now;
	nudge_tplcond *c;
	nudge_names *names;
	nudge_err *err;
	int rc;
};

/* Splits where ("file:line:col") into its parts. */
static void
split_where(const char *where, char *file, size_t fl, long *line, long *col)
{
	const char *c1 = strrchr(where, ':'), *c0 = c1;

	*line = *col = 0;
	snprintf(file, fl, "%s", where);
	if (c1 == NULL)
		return;
	while (c0 > where && c0[-1] != ':')
		c0--;
	if (c0 <= where)
		return;
	*col = strtol(c1 + 1, NULL, 10);
	*line = strtol(c0, NULL, 10);
	snprintf(file, fl, "%.*s", (int)(c0 - 1 - where), where);
}

struct unknown {
	char why[512];
	size_t col;
	int found;
};

static void
on_unknown(void *arg, const nudge_seg_name *u, int rc, const char *why)
{
	struct unknown *x = arg;

	if (x->found || rc != 0)
		return;
	x->found = 1;
	x->col = u->col;
	snprintf(x->why, sizeof x->why, "%s", why);
}

static int
add_cond(void *ctx, size_t i, const char *cond, const char *where)
{
	struct build *b = ctx;
	struct condset *s;
	struct unknown x;
	nudge_seg seg;
	nudge_err e;
	const char *msg;
	long line, col;
	size_t ecol;
	char file[1024];
	int rc;

	split_where(where, file, sizeof file, &line, &col);
	memset(&seg, 0, sizeof seg);
	if ((rc = nudge_seg_compile(b->st, NULL, cond, b->now, &seg,
	    &e)) != 0) {
		/* the error's column is in cond: made one in the file */
		ecol = seg.err_col;
		nudge_seg_free(&seg);
		msg = e.msg;
		if (strncmp(msg, "column ", 7) == 0 && strchr(msg, ':') != NULL)
			msg = strchr(msg, ':') + 2;
		return b->rc = nudge_errf(b->err, rc == EX_USAGE ? EX_DATAERR :
		    rc, "%s:%ld:%ld: in {{#if}}: %s", file, line,
		    col + (long)(ecol > 0 ? ecol - 1 : 0), msg);
	}
	/* an event type no event has is a typo: it would never hold */
	memset(&x, 0, sizeof x);
	if ((rc = nudge_names_check_seg(b->names, &seg, on_unknown, &x,
	    b->err)) != 0 || x.found) {
		nudge_seg_free(&seg);
		if (rc != 0)
			return b->rc = rc;
		return b->rc = nudge_errf(b->err, EX_DATAERR, "%s:%ld:%ld: in "
		    "{{#if}}: %s", file, line, col + (long)(x.col > 0 ?
		    x.col - 1 : 0), x.why);
	}
	for (i = 0; i < b->c->n; i++)
		if (strcmp(b->c->set[i].text, cond) == 0)
			break;
	s = &b->c->set[b->c->n];
	s->seg = seg;
	s->same = i < b->c->n ? &b->c->set[i] : NULL;
	if ((s->text = strdup(cond)) == NULL) {
		nudge_seg_free(&s->seg);
		return b->rc = nudge_errf(b->err, EX_OSERR, "out of memory");
	}
	b->c->n++;
	return 0;
}

int
nudge_tplcond_open(nudge_tplcond **out, nudge_store *st, const nudge_tpl *t,
    int64_t now, nudge_err *err)
{
	struct build b;
	nudge_tplcond *c;
	size_t n;
	int rc;

	*out = NULL;
	(void)nudge_tpl_each_cond(t, NULL, NULL, &n);
	if (n == 0)
		return 0;
	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (c->set = calloc(n, sizeof *c->set)) == NULL) {
		free(c);
		return nudge_errf(err, EX_OSERR, "%s", strerror(errno));
	}
	c->st = st;
	memset(&b, 0, sizeof b);
	b.st = st;
	b.now = now;
	b.c = c;
	b.err = err;
	if ((rc = nudge_names_open(&b.names, st, NULL, err)) != 0 ||
	    (rc = nudge_tpl_each_cond(t, add_cond, &b, NULL)) != 0) {
		nudge_names_free(b.names);
		nudge_tplcond_free(c);
		return rc;
	}
	nudge_names_free(b.names);
	*out = c;
	return 0;
}

/* Reads the contacts condition s holds for: its query's ids, ascending. */
static int
load_set(nudge_tplcond *c, struct condset *s, nudge_err *err)
{
	sqlite3_stmt *q;
	size_t cap = 0;
	int rc;

	if ((rc = nudge_seg_prepare(c->st, &s->seg, &q, err)) != 0)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (s->n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			int64_t *v = realloc(s->ids, nc * sizeof *v);

			if (v == NULL) {
				sqlite3_finalize(q);
				return nudge_errf(err, EX_OSERR, "out of memory");
			}
			s->ids = v;
			cap = nc;
		}
		s->ids[s->n++] = sqlite3_column_int64(q, 0);
	}
	if (rc != SQLITE_DONE) {
		rc = nudge_store_error(c->st, err, "a template condition");
		sqlite3_finalize(q);
		return rc;
	}
	sqlite3_finalize(q);
	s->loaded = 1;
	return 0;
}

int
nudge_tplcond_eval(nudge_tplcond *c, int64_t contact, size_t i, int *truth,
    nudge_err *err)
{
	struct condset *s;
	size_t lo, hi;
	int rc;

	if (c == NULL || i >= c->n)
		return nudge_errf(err, EX_SOFTWARE, "no condition %zu", i);
	s = c->set[i].same != NULL ? c->set[i].same : &c->set[i];
	if (!s->loaded && (rc = load_set(c, s, err)) != 0)
		return rc;
	lo = 0;
	hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->ids[mid] < contact)
			lo = mid + 1;
		else
			hi = mid;
	}
	*truth = lo < s->n && s->ids[lo] == contact;
	return 0;
}

void
nudge_tplcond_free(nudge_tplcond *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		nudge_seg_free(&c->set[i].seg);
		free(c->set[i].text);
		free(c->set[i].ids);
	}
	free(c->set);
	free(c);
}
