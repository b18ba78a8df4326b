/* tplctx: event data and conditions for message templates. */
#include "tplctx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "segment.h"

struct nudge_evdata {
	nudge_store *st;
	sqlite3_stmt *q;
	nudge_buf path, val;
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
	/* the member, else the time for "at" */
	if ((rc = nudge_store_prepare(st, &d->q, "SELECT coalesce("
	    "json_extract(CASE WHEN json_valid(props) THEN props END, ?3), "
	    "CASE WHEN ?4 THEN at END) FROM events WHERE contact_id = ?1 "
	    "AND type = ?2 ORDER BY at DESC, id DESC LIMIT 1", err)) != 0) {
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

const char *
nudge_evdata_lookup(nudge_evdata *d, int64_t contact, const char *name,
    size_t *len, int *failed)
{
	const char *type = name + 7, *dot = strchr(type, '.'), *p, *seg;
	const unsigned char *v;
	int rc;

	*failed = 0;
	if (strncmp(name, "latest.", 7) != 0 || dot == NULL || dot == type ||
	    dot[1] == '\0')
		return NULL;
	/* $."a"."b": quoted, so that any key (a-b) is one member */
	nudge_buf_reset(&d->path);
	if (nudge_buf_putc(&d->path, '$') == -1)
		goto oom;
	for (seg = dot + 1; seg != NULL; seg = p != NULL ? p + 1 : NULL) {
		p = strchr(seg, '.');
		if (nudge_buf_puts(&d->path, ".\"") == -1 ||
		    nudge_buf_add(&d->path, seg, p != NULL ? (size_t)(p - seg) :
		    strlen(seg)) == -1 || nudge_buf_putc(&d->path, '"') == -1)
			goto oom;
	}
	sqlite3_bind_int64(d->q, 1, contact);
	sqlite3_bind_text(d->q, 2, type, (int)(dot - type), SQLITE_STATIC);
	sqlite3_bind_text(d->q, 3, d->path.s, (int)d->path.len, SQLITE_STATIC);
	sqlite3_bind_int(d->q, 4, strcmp(dot + 1, "at") == 0);
	rc = sqlite3_step(d->q);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(d->q);
		*failed = rc != SQLITE_DONE;
		return NULL;
	}
	v = sqlite3_column_text(d->q, 0);
	nudge_buf_reset(&d->val);
	if (v != NULL && nudge_buf_add(&d->val, v, (size_t)sqlite3_column_bytes(
	    d->q, 0)) == -1) {
		sqlite3_reset(d->q);
		goto oom;
	}
	sqlite3_reset(d->q);
	if (v == NULL)
		return NULL;
	*len = d->val.len;
	return d->val.s;
oom:
	*failed = 1;
	return NULL;
}

void
nudge_evdata_free(nudge_evdata *d)
{
	if (d == NULL)
		return;
	sqlite3_finalize(d->q);
	nudge_buf_free(&d->path);
	nudge_buf_free(&d->val);
	free(d);
}

struct nudge_tplcond {
	nudge_store *st;
	sqlite3_stmt *q;
	size_t n;
	int idparam;
	int64_t contact;        /* whose truths are in truth, or -1 */
	unsigned char *truth;
	nudge_seg all;
};

struct build {
	nudge_store *st;
	int64_t now;
	nudge_tplcond *c;
	nudge_buf sql;
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
	struct unknown x;
	nudge_seg seg;
	nudge_err e;
	const char *msg;
	long line, col;
	size_t ecol;
	char file[1024];
	int rc;

	(void)i;
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
	if (nudge_buf_puts(&b->sql, b->c->n > 0 ? ", (" : "(") == -1 ||
	    (rc = nudge_seg_append(&b->c->all, &seg, &b->sql, NULL,
	    b->err)) != 0 || nudge_buf_puts(&b->sql, ") IS 1") == -1) {
		nudge_seg_free(&seg);
		return b->rc = rc != 0 ? rc : nudge_errf(b->err, EX_OSERR,
		    "out of memory");
	}
	nudge_seg_free(&seg);
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
	    (c->truth = calloc(n, 1)) == NULL) {
		free(c);
		return nudge_errf(err, EX_OSERR, "%s", strerror(errno));
	}
	c->st = st;
	c->contact = -1;
	memset(&b, 0, sizeof b);
	b.st = st;
	b.now = now;
	b.c = c;
	b.err = err;
	if (nudge_buf_puts(&b.sql, "SELECT ") == -1) {
		rc = nudge_errf(err, EX_OSERR, "out of memory");
		goto fail;
	}
	if ((rc = nudge_names_open(&b.names, st, NULL, err)) != 0)
		goto fail;
	if ((rc = nudge_tpl_each_cond(t, add_cond, &b, NULL)) != 0)
		goto fail;
	if ((c->idparam = nudge_seg_param_add(&c->all, NUDGE_SEG_INT, 0, NULL,
	    err)) == -1) {
		rc = EX_OSERR;
		goto fail;
	}
	if (nudge_buf_printf(&b.sql, " FROM contacts c WHERE c.id = ?%d",
	    c->idparam) == -1) {
		rc = nudge_errf(err, EX_OSERR, "out of memory");
		goto fail;
	}
	if ((rc = nudge_store_prepare(st, &c->q, b.sql.s, err)) != 0 ||
	    (rc = nudge_seg_bind(&c->all, c->q, err)) != 0)
		goto fail;
	nudge_buf_free(&b.sql);
	nudge_names_free(b.names);
	*out = c;
	return 0;
fail:
	nudge_buf_free(&b.sql);
	nudge_names_free(b.names);
	nudge_tplcond_free(c);
	return rc;
}

int
nudge_tplcond_eval(nudge_tplcond *c, int64_t contact, size_t i, int *truth,
    nudge_err *err)
{
	size_t k;
	int rc;

	if (c == NULL || i >= c->n)
		return nudge_errf(err, EX_SOFTWARE, "no condition %zu", i);
	if (c->contact != contact) {
		sqlite3_bind_int64(c->q, c->idparam, contact);
		rc = sqlite3_step(c->q);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			sqlite3_reset(c->q);
			return nudge_store_error(c->st, err, "a template "
			    "condition");
		}
		for (k = 0; k < c->n; k++)
			c->truth[k] = rc == SQLITE_ROW &&
			    sqlite3_column_int(c->q, (int)k) != 0;
		sqlite3_reset(c->q);
		c->contact = contact;
	}
	*truth = c->truth[i];
	return 0;
}

void
nudge_tplcond_free(nudge_tplcond *c)
{
	if (c == NULL)
		return;
	sqlite3_finalize(c->q);
	nudge_seg_free(&c->all);
	free(c->truth);
	free(c);
}
