/* eventimport: nudge_event_import (declared in event.h): events from CSV
 * (with the orders format) and JSON lines files, each row checked and
 * recorded through event.c's writer, bad rows rejected with a reason. */
#include "event.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "csvin.h"
#include "json.h"
#include "listimport.h"

/* The page cache during an import, in KiB (a negative cache_size): big
 * enough to keep the upper levels of the contacts and events indexes in
 * memory, small enough that an import stays well under 64 MB of RSS. */
#define IMPORT_CACHE_KIB 32768

/* An input file at least this big, and with more rows (at one per
 * IMPORT_ROW_BYTES, a low guess) than the events table holds, is
 * imported with the events indexes dropped and rebuilt at the end: random
 * inserts into indexes larger than the cache reread and rewrite the same
 * pages over and over (10M events: 65 GB read from the WAL), while
 * CREATE INDEX sorts once. */
#define IMPORT_REBUILD_BYTES (32 << 20)
#define IMPORT_ROW_BYTES 128
#define REBUILD_CACHE_KIB "8192"

/*
 * The import.  Both formats fill a struct row with the known fields of
 * one input row and build its props in imp.props; take_row checks and
 * records it.
 */
enum { F_CONTACT, F_TYPE, F_CHANNEL, F_CAMPAIGN, F_STEP, F_AT, NF };
static const char *const fnames[NF] = { "contact", "type", "channel",
	"campaign", "step", "at" };

struct row {
	const char *v[NF];   /* NULL or "" when absent */
	const char *cname;   /* the column the contact came from */
	const char *aname;   /* the column the time came from, or NULL */
	const char *order;   /* an orders export's order key, or NULL */
	long line;
};

struct imp {
	nudge_store *st;
	const nudge_event_import_opts *o;
	nudge_event_writer *w;
	nudge_event_counts *n;
	nudge_buf props;
	/* the current reject */
	const char *rfield, *rwhy, *rvalue, *rwhy_t;
	nudge_err rerr;
	char src[512];
	int rejects_started;
	/* batches: rows up to line skip_to were recorded by an earlier run
	 * of the same file (journal row jid, 0: not journalled, one
	 * transaction); pending rows recorded since the last commit */
	int64_t skip_to, jid;
	long batch, pending, last_line;
	int rebuilding;      /* the events indexes are dropped */
	sqlite3_stmt *ordered;
};

static int batch_commit(struct imp *im);
static int rebuild(struct imp *im, nudge_err *err);

/* Whether the contact of ev has an event of its type and time for the
 * order key already: an order a re-exported file holds again.  Through
 * events_contact (contact_id, type, at), which import_orders makes sure
 * exists. */
static int
ordered(struct imp *im, const nudge_event *ev, const char *key, int *have)
{
	int rc;

	if (im->ordered == NULL && (rc = nudge_store_prepare(im->st,
	    &im->ordered, "SELECT 1 FROM events WHERE contact_id = ?1 AND "
	    "type = ?2 AND at = ?3 AND json_extract(props, '$.order') = ?4",
	    &im->rerr)) != 0)
		return rc;
	sqlite3_bind_int64(im->ordered, 1, ev->contact_id);
	sqlite3_bind_text(im->ordered, 2, ev->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(im->ordered, 3, ev->at);
	sqlite3_bind_text(im->ordered, 4, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(im->ordered);
	sqlite3_reset(im->ordered);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(im->st, &im->rerr, "events");
	*have = rc == SQLITE_ROW;
	return 0;
}

static int
reject(struct imp *im, const char *field, const char *why, const char *value)
{
	im->rfield = field;
	im->rwhy = why;
	im->rvalue = value;
	return 1;
}

/* Checks and records one row, counting it: 0 recorded (or skipped: an
 * earlier run recorded it), 1 rejected (im->r* say why), or a fatal code
 * (im->rerr says why).  Commits the batch when it is full. */
static int
take_row(struct imp *im, struct row *r)
{
	const nudge_event_import_opts *o = im->o;
	nudge_event ev;
	int created, have = 0, rc, i;

	for (i = 0; i < NF; i++)
		if (r->v[i] != NULL && r->v[i][0] == '\0')
			r->v[i] = NULL;
	if (r->v[F_CONTACT] == NULL)
		return reject(im, "contact", "missing", NULL);
	if (r->v[F_TYPE] == NULL)
		r->v[F_TYPE] = o->type;
	if (r->v[F_TYPE] == NULL)
		return reject(im, "type", "missing", NULL);
	if (!nudge_event_type_ok(r->v[F_TYPE]))
		return reject(im, "type", "not a name", r->v[F_TYPE]);
	if (r->v[F_CHANNEL] != NULL && !nudge_is_name(r->v[F_CHANNEL]))
		return reject(im, "channel", "not a name", r->v[F_CHANNEL]);
	memset(&ev, 0, sizeof ev);
	ev.at = o->now;
	if (r->v[F_AT] != NULL && nudge_event_time(r->v[F_AT], o->date_order,
	    &ev.at, &im->rwhy_t) == -1)
		return reject(im, r->aname != NULL ? r->aname : "at",
		    im->rwhy_t, r->v[F_AT]);
	rc = nudge_event_contact(im->w, r->v[F_CONTACT], o->country,
	    o->create, &ev.contact_id, &created, &im->rerr);
	if (rc == EX_DATAERR)
		return reject(im, r->cname, im->rerr.msg, r->v[F_CONTACT]);
	if (rc != 0)
		return rc;
	if (ev.contact_id == 0)
		return reject(im, r->cname, "no such contact", r->v[F_CONTACT]);
	ev.type = r->v[F_TYPE];
	ev.channel = r->v[F_CHANNEL];
	ev.campaign = r->v[F_CAMPAIGN];
	ev.step = r->v[F_STEP];
	ev.props_json = nudge_event_props_end(&im->props);
	if (im->props.len > 0 && ev.props_json == NULL)
		return nudge_errf(&im->rerr, EX_OSERR, "out of memory");
	if (nudge_event_is_consent_type(ev.type)) {
		if (o->source != NULL)
			ev.source = o->source;
		else {
			snprintf(im->src, sizeof im->src, "import:%s:%ld",
			    o->name, r->line);
			ev.source = im->src;
		}
	}
	if (created)
		im->n->created++;
	if (r->line <= im->skip_to) {
		im->n->skipped++;
		return 0;
	}
	if (r->order != NULL) {
		if ((rc = ordered(im, &ev, r->order, &have)) != 0)
			return rc;
		if (have) {
			im->n->skipped++;
			return 0;
		}
	}
	if ((rc = nudge_event_record(im->w, &ev, NULL, &im->rerr)) != 0)
		return rc;
	im->n->recorded++;
	im->last_line = r->line;
	if (++im->pending >= im->batch)
		return batch_commit(im);
	return 0;
}

/* Passes the current reject to the callback. */
static void
tell(struct imp *im, long line)
{
	im->n->rejected++;
	if (im->o->on_reject != NULL)
		im->o->on_reject(im->o->arg, line, im->rfield ? im->rfield : "",
		    im->rwhy, im->rvalue, im->rvalue ? strlen(im->rvalue) : 0);
}

/* "field: why" for a rejects file. */
static const char *
reason(struct imp *im, char *buf, size_t len)
{
	if (im->rfield != NULL && *im->rfield != '\0')
		snprintf(buf, len, "%s: %s", im->rfield, im->rwhy);
	else
		snprintf(buf, len, "%s", im->rwhy);
	return buf;
}

/* Writes "line,reason,fields..." to the rejects file; the first time, a
 * header "line,reason,<the input's header>" before it. */
static int
csv_reject(struct imp *im, const nudge_csv_rec *hdr, const nudge_csv_rec *rec,
    nudge_err *err)
{
	char num[24], why[1100];

	tell(im, rec->line);
	if (im->o->rejects == NULL)
		return 0;
	if (!im->rejects_started) {
		im->rejects_started = 1;
		if (nudge_csv_write_rejected(im->o->rejects, "line", "reason",
		    hdr) == -1)
			goto ioerr;
	}
	snprintf(num, sizeof num, "%ld", rec->line);
	if (nudge_csv_write_rejected(im->o->rejects, num,
	    reason(im, why, sizeof why), rec) == -1)
		goto ioerr;
	return 0;
ioerr:
	return nudge_errf(err, EX_IOERR, "rejects: %s", strerror(errno));
}

/* Lower-cased, blank-trimmed header name equals want. */
static int
hdr_is(const char *h, size_t n, const char *want)
{
	size_t i, w = strlen(want);

	while (n > 0 && (*h == ' ' || *h == '\t')) {
		h++;
		n--;
	}
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	if (n != w)
		return 0;
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != want[i])
			return 0;
	}
	return 1;
}

/*
 * Orders exports: one row per line item, the order's own fields on its
 * first row (Shopify leaves them blank on the others, WooCommerce repeats
 * them).  Rows of one order are consecutive; each order becomes one
 * purchase event (or --type) at its paid time, with props order, total,
 * currency and items, an array of {name, sku, quantity, price}.
 */
enum { O_KEY, O_EMAIL, O_PHONE, O_AT, O_TOTAL, O_CUR, O_NAME, O_SKU, O_QTY,
	O_PRICE, O_STATUS, O_N };

/*
 * The layouts, as the tools write them (samples/exports/, test 3010):
 * Shopify admin's "Export orders" CSV, whose Paid at is empty for an
 * order not paid; and the WooCommerce Customer/Order/Coupon Export
 * plugin's "Default - One Row per Item", whose time is the order's
 * `date` (a paid_date or order_date column, as other exporters name
 * it, is taken first) and whose `status` says whether it was paid.
 */
static const struct orders_fmt {
	const char *name;
	const char *cols[O_N];   /* normalised column names; NULL: none */
	const char *at2, *at3;   /* O_AT's column when cols[O_AT] is absent */
	const char *paid;        /* the statuses of a paid order, as
				    "|a|b|", or NULL: O_AT says */
	int unit_price;          /* O_PRICE is the line's total: divide */
} orders_fmts[] = {
	{ "shopify-orders", { "name", "email", "phone", "paid_at", "total",
	  "currency", "lineitem_name", "lineitem_sku", "lineitem_quantity",
	  "lineitem_price", NULL }, NULL, NULL, NULL, 1 },
	{ "woocommerce", { "order_id", "billing_email", "billing_phone",
	  "paid_date", "order_total", "order_currency", "item_name",
	  "item_sku", "item_quantity", "item_total", "status" },
	  "order_date", "date", "|processing|completed|", 0 },
};

struct order {
	int open;
	nudge_buf key, first, items;   /* first: the first row's fields */
	char **f;
	size_t *len, cap, nitems;
	nudge_csv_rec rec;
	char *v[5];                    /* contact, at, total, currency,
					  status */
};

/* The column (index) of hdr whose normalised name is name, or -1. */
static long
col_named(const nudge_csv_rec *hdr, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < hdr->n; i++) {
		char n[64];

		nudge_import_attr_key(hdr->f[i], n, sizeof n);
		if (strcmp(n, name) == 0)
			return (long)i;
	}
	return -1;
}

/* Which orders format hdr is, filling col[] (index or -1); NULL: none. */
static const struct orders_fmt *
orders_fmt(const nudge_csv_rec *hdr, long *col)
{
	const struct orders_fmt *f;
	size_t k;
	int o;

	for (k = 0; k < sizeof orders_fmts / sizeof orders_fmts[0]; k++) {
		f = &orders_fmts[k];
		for (o = 0; o < O_N; o++)
			col[o] = col_named(hdr, f->cols[o]);
		if (col[O_AT] == -1)
			col[O_AT] = col_named(hdr, f->at2);
		if (col[O_AT] == -1)
			col[O_AT] = col_named(hdr, f->at3);
		if (col[O_KEY] != -1 && col[O_AT] != -1 && col[O_NAME] != -1 &&
		    col[O_TOTAL] != -1 && (col[O_EMAIL] != -1 ||
		    col[O_PHONE] != -1))
			return &orders_fmts[k];
	}
	return NULL;
}

static const char *
ocell(const nudge_csv_rec *r, long c)
{
	return c >= 0 && r->len[c] > 0 ? r->f[c] : NULL;
}

static int
set_once(char **slot, const char *v)
{
	if (*slot != NULL || v == NULL)
		return 0;
	return (*slot = strdup(v)) == NULL ? -1 : 0;
}

/* Copies the fields of record r into b, NUL-terminated, and points
 * f[i] and len[i] (room for r->n each) at them.  0, or -1 (memory). */
static int
rec_copy(nudge_buf *b, char **f, size_t *len, const nudge_csv_rec *r)
{
	size_t i, off = 0;

	for (i = 0; i < r->n; i++)
		if (nudge_buf_add(b, r->f[i], r->len[i] + 1) == -1)
			return -1;
	for (i = 0; i < r->n; i++) {
		f[i] = b->s + off;
		len[i] = r->len[i];
		off += r->len[i] + 1;
	}
	return 0;
}

/* Starts an order with row r: its key and a copy of the row. */
static int
order_start(struct order *od, const nudge_csv_rec *r, const char *key)
{
	size_t i;

	od->open = 1;
	od->nitems = 0;
	nudge_buf_reset(&od->key);
	nudge_buf_reset(&od->first);
	nudge_buf_reset(&od->items);
	for (i = 0; i < 5; i++) {
		free(od->v[i]);
		od->v[i] = NULL;
	}
	if (nudge_buf_puts(&od->key, key) == -1)
		return -1;
	if (r->n > od->cap) {
		char **f = realloc(od->f, r->n * sizeof *f);
		size_t *l;

		if (f == NULL)
			return -1;
		od->f = f;
		if ((l = realloc(od->len, r->n * sizeof *l)) == NULL)
			return -1;
		od->len = l;
		od->cap = r->n;
	}
	if (rec_copy(&od->first, od->f, od->len, r) == -1)
		return -1;
	od->rec = *r;
	od->rec.f = od->f;
	od->rec.len = od->len;
	return 0;
}

/* Adds row r's line item and fills what the order's first row left
 * blank. */
static int
order_add(struct order *od, const struct orders_fmt *fm, const nudge_csv_rec *r,
    const long *col)
{
	nudge_buf it = { 0 };
	const char *name = ocell(r, col[O_NAME]), *q = ocell(r, col[O_QTY]);
	const char *pr = ocell(r, col[O_PRICE]), *v;
	char price[48];
	int rc = -1;

	v = ocell(r, col[O_PHONE]);
	if (v != NULL && v[0] == '\'')
		v++; /* Excel's "keep as text" mark */
	if (set_once(&od->v[0], ocell(r, col[O_EMAIL])) == -1 ||
	    set_once(&od->v[0], v != NULL && *v != '\0' ? v : NULL) == -1 ||
	    set_once(&od->v[1], ocell(r, col[O_AT])) == -1 ||
	    set_once(&od->v[2], ocell(r, col[O_TOTAL])) == -1 ||
	    set_once(&od->v[3], ocell(r, col[O_CUR])) == -1 ||
	    set_once(&od->v[4], ocell(r, col[O_STATUS])) == -1)
		return -1;
	if (name == NULL)
		return 0;
	if (!fm->unit_price && pr != NULL && q != NULL && atof(q) > 0) {
		snprintf(price, sizeof price, "%.2f", atof(pr) / atof(q));
		pr = price;
	}
	if (nudge_event_prop(&it, "name", 4, name, strlen(name)) == -1 ||
	    ((v = ocell(r, col[O_SKU])) != NULL &&
	    nudge_event_prop(&it, "sku", 3, v, strlen(v)) == -1) ||
	    (q != NULL && nudge_event_prop(&it, "quantity", 8, q, strlen(q)) ==
	    -1) || (pr != NULL && nudge_event_prop(&it, "price", 5, pr,
	    strlen(pr)) == -1) || nudge_event_props_end(&it) == NULL)
		goto out;
	if (nudge_buf_putc(&od->items, od->nitems++ ? ',' : '[') == -1 ||
	    nudge_buf_puts(&od->items, it.s) == -1)
		goto out;
	rc = 0;
out:
	nudge_buf_free(&it);
	return rc;
}

/* Records the open order: 0, 1 rejected (im->r* say why), or a code. */
static int
order_flush(struct imp *im, struct order *od, const struct orders_fmt *fm,
    const nudge_csv_rec *hdr, const long *col)
{
	const char *atcol = hdr->f[col[O_AT]];
	char bar[80];
	const nudge_event_import_opts *o = im->o;
	struct row r;
	size_t k;

	od->open = 0;
	nudge_buf_reset(&im->props);
	/* the order's name is text even when it is a number (WooCommerce) */
	if (nudge_buf_puts(&im->props, "{\"order\":") == -1 ||
	    nudge_buf_json_str(&im->props, od->key.s, od->key.len) == -1 ||
	    (od->v[2] != NULL && nudge_event_prop(&im->props, "total", 5,
	    od->v[2], strlen(od->v[2])) == -1) ||
	    (od->v[3] != NULL && nudge_event_prop(&im->props, "currency", 8,
	    od->v[3], strlen(od->v[3])) == -1) ||
	    nudge_buf_puts(&im->props, ",\"items\":") == -1 ||
	    nudge_buf_puts(&im->props, od->nitems ? od->items.s : "[") == -1 ||
	    nudge_buf_putc(&im->props, ']') == -1)
		return nudge_errf(&im->rerr, EX_OSERR, "out of memory");
	memset(&r, 0, sizeof r);
	r.line = od->rec.line;
	r.order = od->key.s;
	r.v[F_CONTACT] = od->v[0];
	r.cname = "contact";
	r.v[F_TYPE] = o->type != NULL ? o->type : "purchase";
	r.v[F_AT] = od->v[1];
	r.aname = atcol;
	for (k = 0; k < NF; k++)
		if (r.v[k] != NULL && r.v[k][0] == '\0')
			r.v[k] = NULL;
	if (r.v[F_AT] == NULL)
		return reject(im, atcol, "missing: the order is not paid",
		    NULL);
	snprintf(bar, sizeof bar, "|%s|", od->v[4] != NULL ? od->v[4] : "");
	if (fm->paid != NULL && col[O_STATUS] != -1 &&
	    strstr(fm->paid, bar) == NULL)
		return reject(im, hdr->f[col[O_STATUS]], "the order is not "
		    "paid", od->v[4] != NULL ? od->v[4] : "");
	return take_row(im, &r);
}

static void
order_free(struct order *od)
{
	size_t i;

	nudge_buf_free(&od->key);
	nudge_buf_free(&od->first);
	nudge_buf_free(&od->items);
	free(od->f);
	free(od->len);
	for (i = 0; i < 5; i++)
		free(od->v[i]);
}

static int
import_orders(struct imp *im, nudge_csv *c, const nudge_csv_rec *hdr,
    const struct orders_fmt *fm, const long *col, nudge_err *err)
{
	const nudge_csv_rec *rec;
	struct order od;
	int rc;

	memset(&od, 0, sizeof od);
	im->n->orders = fm->name;
	/* ordered() looks each order up: the indexes must be there */
	if (im->rebuilding) {
		if ((rc = rebuild(im, err)) != 0)
			return rc;
		im->rebuilding = 0;
	}
	for (;;) {
		const char *key;

		rc = nudge_csv_next(c, &rec, err);
		if (rc < 0 || rc > 1)
			break;
		key = rc == 1 && rec->n == hdr->n && !rec->bad_utf8 ?
		    ocell(rec, col[O_KEY]) : NULL;
		if (od.open && (rc == 0 || (key != NULL &&
		    strcmp(key, od.key.s) != 0))) {
			int r = order_flush(im, &od, fm, hdr, col);

			if (r == 1) {
				if ((r = csv_reject(im, hdr, &od.rec, err)) !=
				    0) {
					rc = r;
					break;
				}
			} else if (r != 0) {
				*err = im->rerr;
				rc = r;
				break;
			}
		}
		if (rc == 0)
			break;
		im->n->read++;
		if (rec->n != hdr->n || rec->bad_utf8) {
			char why[64];

			snprintf(why, sizeof why, rec->bad_utf8 ?
			    "not valid UTF-8" : "expected %zu fields, got %zu",
			    hdr->n, rec->n);
			reject(im, rec->bad_utf8 ? hdr->f[rec->bad_utf8 - 1] :
			    "", why, NULL);
			if ((rc = csv_reject(im, hdr, rec, err)) != 0)
				break;
			continue;
		}
		if (!od.open) {
			if (key == NULL) {
				reject(im, hdr->f[col[O_KEY]], "missing", NULL);
				if ((rc = csv_reject(im, hdr, rec, err)) != 0)
					break;
				continue;
			}
			if (order_start(&od, rec, key) == -1)
				goto oom;
		}
		if (order_add(&od, fm, rec, col) == -1)
			goto oom;
	}
	order_free(&od);
	return rc;
oom:
	order_free(&od);
	return nudge_errf(err, EX_OSERR, "out of memory");
}

/* A CSV file's header as import_csv reads it: its columns' names kept
 * (rec is overwritten by the next read), and what each column holds.
 * col[F] is the column of field F, or -1; contact columns are tried in
 * order contact, email, phone (ccol); kind[i] is F for a known column,
 * NF + 1..3 for a contact column, -1 for a prop, -2 for one ignored;
 * kind_map[i] is what --map said of it (0: nothing), pkey[i] the prop
 * name --map gave it, or NULL. */
struct csv_cols {
	nudge_csv_rec hdr;
	nudge_buf hbuf;
	long ccol[3], col[NF];
	int *kind, *kind_map;
	const char **pkey;
	char **hf;
	size_t *hl;
};

static void
csv_cols_free(struct csv_cols *h)
{
	nudge_buf_free(&h->hbuf);
	free(h->kind);		/* and kind_map */
	free(h->pkey);
	free(h->hf);
	free(h->hl);
}

/* Keeps a copy of the header rec in h.  0, or -1 (out of memory). */
static int
csv_header_copy(struct csv_cols *h, const nudge_csv_rec *rec)
{
	h->hdr.n = rec->n;
	/* kind and kind_map in one allocation */
	if ((h->kind = calloc(2 * rec->n, sizeof *h->kind)) == NULL ||
	    (h->hf = calloc(rec->n, sizeof *h->hf)) == NULL ||
	    (h->hl = calloc(rec->n, sizeof *h->hl)) == NULL)
		return -1;
	h->kind_map = h->kind + rec->n;
	if (rec_copy(&h->hbuf, h->hf, h->hl, rec) == -1)
		return -1;
	h->hdr.f = h->hf;
	h->hdr.len = h->hl;
	h->hdr.line = rec->line;
	return 0;
}

/* Reads the --map COLUMN=FIELD options into h->kind_map and h->pkey.
 * Errors: EX_USAGE. */
static int
csv_maps(struct csv_cols *h, const nudge_event_import_opts *o,
    nudge_err *err)
{
	static const char *const fld[] = { "contact", "email", "phone",
	    "type", "channel", "campaign", "step", "at" };
	size_t i, k, cl;
	const char *m, *eq;
	int f;

	for (i = 0; i < o->nmaps; i++) {
		m = o->maps[i];
		eq = strchr(m, '=');
		cl = eq != NULL ? (size_t)(eq - m) : 0;
		for (k = 0; k < h->hdr.n && cl > 0; k++)
			if (h->hl[k] == cl && strncasecmp(h->hf[k], m, cl) == 0)
				break;
		if (eq == NULL || cl == 0)
			return nudge_errf(err, EX_USAGE, "--map %s: expected "
			    "COLUMN=FIELD", m);
		if (k == h->hdr.n)
			return nudge_errf(err, EX_USAGE, "--map %s: no column "
			    "\"%.*s\" in %s", m, (int)cl, m, o->name);
		if (strncmp(eq + 1, "props.", 6) == 0 && eq[7] != '\0') {
			h->pkey[k] = eq + 7;
			h->kind_map[k] = -1;
			continue;
		}
		if (strcmp(eq + 1, "-") == 0) {
			h->kind_map[k] = -2;
			continue;
		}
		for (f = 0; f < 8; f++)
			if (strcmp(eq + 1, fld[f]) == 0)
				break;
		if (f == 8)
			return nudge_errf(err, EX_USAGE, "--map %s: unknown "
			    "field \"%s\" (contact, email, phone, type, channel, "
			    "campaign, step, at, props.NAME or -)", m, eq + 1);
		h->kind_map[k] = 100 + f;
	}
	return 0;
}

/* Says what each column holds (h->kind, h->col, h->ccol), by --map or
 * by its name.  Errors: EX_DATAERR (a column twice, no contact column,
 * no type). */
static int
csv_columns(struct csv_cols *h, const nudge_event_import_opts *o,
    nudge_err *err)
{
	static const char *const cn[3] = { "contact", "email", "phone" };
	size_t i;
	long *slot;
	int f, k;

	for (i = 0; i < h->hdr.n; i++) {
		slot = NULL;
		h->kind[i] = -1;
		if (h->kind_map[i] == -1 || h->kind_map[i] == -2) {
			h->kind[i] = h->kind_map[i];
			continue;
		}
		if (h->kind_map[i] >= 100 + 3) {
			f = h->kind_map[i] - 100 - 3 + F_TYPE;
			slot = &h->col[f];
			h->kind[i] = f;
		} else if (h->kind_map[i] >= 100) {
			k = h->kind_map[i] - 100;
			slot = &h->ccol[k];
			h->kind[i] = NF + 1 + k;
		}
		for (k = 0; k < 3 && h->kind_map[i] == 0; k++)
			if (hdr_is(h->hf[i], h->hl[i], cn[k])) {
				slot = &h->ccol[k];
				h->kind[i] = NF + 1 + k;
			}
		for (f = 1; f < NF && h->kind_map[i] == 0; f++)
			if (hdr_is(h->hf[i], h->hl[i], fnames[f])) {
				slot = &h->col[f];
				h->kind[i] = f;
			}
		if (slot == NULL)
			continue;
		if (*slot != -1)
			return nudge_errf(err, EX_DATAERR, "%s:%ld: header: "
			    "column \"%s\" appears twice", o->name, h->hdr.line,
			    h->hf[i]);
		*slot = (long)i;
	}
	if (h->ccol[0] == -1 && h->ccol[1] == -1 && h->ccol[2] == -1)
		return nudge_errf(err, EX_DATAERR, "%s:%ld: header: no contact "
		    "column (contact, email or phone)", o->name, h->hdr.line);
	if (h->col[F_TYPE] == -1 && o->type == NULL)
		return nudge_errf(err, EX_DATAERR, "%s:%ld: header: no type "
		    "column (give --type TYPE, or --map COLUMN=type)", o->name,
		    h->hdr.line);
	return 0;
}

/* One data row rec: recorded, or rejected (written out by csv_reject).
 * 0, or an error. */
static int
csv_row(struct imp *im, const struct csv_cols *h, const nudge_csv_rec *rec,
    nudge_err *err)
{
	struct row r;
	char why[64];
	size_t i;
	int f, k, rc;

	im->n->read++;
	memset(&r, 0, sizeof r);
	r.line = rec->line;
	if (rec->n != h->hdr.n) {
		snprintf(why, sizeof why,
		    "expected %zu fields, got %zu", h->hdr.n, rec->n);
		reject(im, "", why, NULL);
		return csv_reject(im, &h->hdr, rec, err);
	}
	if (rec->bad_utf8) {
		reject(im, h->hf[rec->bad_utf8 - 1], "not valid UTF-8", NULL);
		return csv_reject(im, &h->hdr, rec, err);
	}
	for (k = 0; k < 3; k++) {
		if (h->ccol[k] != -1 && rec->len[h->ccol[k]] > 0) {
			r.v[F_CONTACT] = rec->f[h->ccol[k]];
			r.cname = h->hf[h->ccol[k]];
			break;
		}
	}
	if (r.cname == NULL)
		r.cname = "contact";
	for (f = 1; f < NF; f++)
		if (h->col[f] != -1)
			r.v[f] = rec->f[h->col[f]];
	if (h->col[F_AT] != -1)
		r.aname = h->hf[h->col[F_AT]];
	nudge_buf_reset(&im->props);
	for (i = 0; i < h->hdr.n; i++)
		if (h->kind[i] == -1 && rec->len[i] > 0 &&
		    nudge_event_prop(&im->props, h->pkey[i] != NULL ?
		    h->pkey[i] : h->hf[i], h->pkey[i] != NULL ?
		    strlen(h->pkey[i]) : h->hl[i], rec->f[i], rec->len[i]) ==
		    -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
	if ((rc = take_row(im, &r)) == 0)
		return 0;
	if (rc == 1)
		return csv_reject(im, &h->hdr, rec, err);
	*err = im->rerr;
	return rc;
}

/* A CSV file of events (or of orders, told by its header): the header
 * read (csv_header_copy, csv_maps, csv_columns), then each row
 * (csv_row). */
static int
import_csv(struct imp *im, FILE *in, nudge_err *err)
{
	const nudge_event_import_opts *o = im->o;
	const nudge_csv_rec *rec;
	struct csv_cols h;
	nudge_csv *c = NULL;
	int rc, f;

	memset(&h, 0, sizeof h);
	h.ccol[0] = h.ccol[1] = h.ccol[2] = -1;
	for (f = 0; f < NF; f++)
		h.col[f] = -1;
	if ((rc = nudge_csv_open(&c, in, o->name, err)) != 0)
		return rc;
	if ((rc = nudge_csv_next(c, &rec, err)) != 1)
		goto out;         /* empty input: nothing to do */
	if (rec->bad_utf8) {
		rc = nudge_errf(err, EX_DATAERR, "%s:%ld: header: not valid "
		    "UTF-8", o->name, rec->line);
		goto out;
	}
	if (csv_header_copy(&h, rec) == -1)
		goto oom;
	if (o->nmaps == 0) {
		const struct orders_fmt *fm;
		long ocol[O_N];

		if ((fm = orders_fmt(&h.hdr, ocol)) != NULL) {
			rc = import_orders(im, c, &h.hdr, fm, ocol, err);
			goto out;
		}
	}
	if ((h.pkey = calloc(h.hdr.n, sizeof *h.pkey)) == NULL)
		goto oom;
	if ((rc = csv_maps(&h, o, err)) != 0 ||
	    (rc = csv_columns(&h, o, err)) != 0)
		goto out;
	while ((rc = nudge_csv_next(c, &rec, err)) == 1)
		if ((rc = csv_row(im, &h, rec, err)) != 0)
			goto out;
out:
	nudge_csv_close(c);
	csv_cols_free(&h);
	return rc;
oom:
	rc = nudge_errf(err, EX_OSERR, "out of memory");
	goto out;
}

/* Adds "key":value to props, value as json_each gave it: strings are
 * quoted again, other types are JSON text already. */
static int
json_prop(nudge_buf *b, const char *key, size_t kl, const char *type,
    const char *val, size_t vl)
{
	if (nudge_buf_putc(b, b->len == 0 ? '{' : ',') == -1 ||
	    nudge_buf_json_str(b, key, kl) == -1 ||
	    nudge_buf_putc(b, ':') == -1)
		return -1;
	if (strcmp(type, "text") == 0)
		return nudge_buf_json_str(b, val, vl);
	return nudge_buf_add(b, val, vl);
}

/*
 * JSON lines.  SQLite parses: json_valid and json_type check the line,
 * json_each walks its keys.  Known keys are copied into keep (their
 * text dies at the next step); the others go to props with their JSON
 * types kept.
 */
/* What import_json keeps from one line to the next: its two statements
 * (chk: is the line a JSON object; each: its keys), and keep, the text
 * of the known fields of the current line (r.v points into it). */
struct json_imp {
	sqlite3_stmt *chk, *each;
	nudge_buf keep;
};

static const char *const json_cn[3] = { "contact", "email", "phone" };

/* Whether line[0..n) is valid UTF-8 and a JSON object: 0 (it is), 1
 * (rejected: im says why), or a store error. */
static int
json_check(struct imp *im, struct json_imp *j, const char *line, size_t n,
    nudge_err *err)
{
	int bad = 0;

	if (!nudge_utf8_valid(line, n))
		return reject(im, "", "not valid UTF-8", NULL);
	sqlite3_bind_text(j->chk, 1, line, (int)n, SQLITE_STATIC);
	if (sqlite3_step(j->chk) != SQLITE_ROW)
		return nudge_store_error(im->st, err, "json");
	if (!sqlite3_column_int(j->chk, 0))
		bad = reject(im, "", "not valid JSON", NULL);
	else if (strcmp((const char *)sqlite3_column_text(j->chk, 1),
	    "object") != 0)
		bad = reject(im, "", "not a JSON object", NULL);
	sqlite3_reset(j->chk);
	return bad;
}

/* The object line[0..n) into r: its known keys (contact, email, phone,
 * type, channel, campaign, step, at) as strings in j->keep, the others
 * as props in im->props.  0, 1 (rejected: a known key that is not a
 * string), or an error. */
static int
json_fields(struct imp *im, struct json_imp *j, const char *line, size_t n,
    struct row *r, nudge_err *err)
{
	/* keys: F_* for known ones, NF + k for contact/email/phone */
	size_t off[NF + 3];
	int have[NF + 3], k, bad = 0, f, rc;

	for (k = 0; k < NF + 3; k++)
		have[k] = 0;
	nudge_buf_reset(&j->keep);
	nudge_buf_reset(&im->props);
	sqlite3_bind_text(j->each, 1, line, (int)n, SQLITE_STATIC);
	while ((rc = sqlite3_step(j->each)) == SQLITE_ROW) {
		const char *key, *type, *val;
		size_t kl, vl;
		int slot = -1;

		key = (const char *)sqlite3_column_text(j->each, 0);
		type = (const char *)sqlite3_column_text(j->each, 1);
		val = (const char *)sqlite3_column_text(j->each, 2);
		kl = (size_t)sqlite3_column_bytes(j->each, 0);
		vl = (size_t)sqlite3_column_bytes(j->each, 2);
		if (key == NULL || type == NULL || val == NULL)
			continue;
		for (k = 0; k < 3; k++)
			if (strcmp(key, json_cn[k]) == 0)
				slot = NF + k;
		for (f = 1; f < NF; f++)
			if (strcmp(key, fnames[f]) == 0)
				slot = f;
		if (slot == -1) {
			if (json_prop(&im->props, key, kl, type, val, vl) ==
			    -1)
				goto oom;
			continue;
		}
		if (strcmp(type, "null") == 0)
			continue;
		if (strcmp(type, "text") != 0 &&
		    strcmp(type, "integer") != 0) {
			if (!bad)
				bad = reject(im, slot >= NF ?
				    json_cn[slot - NF] : fnames[slot],
				    "not a string", NULL);
			continue;
		}
		off[slot] = j->keep.len;
		have[slot] = 1;
		/* A number is Unix seconds for at, an id for a contact, and
		 * its digits elsewhere. */
		if (strcmp(type, "integer") == 0 && slot == F_AT &&
		    nudge_buf_putc(&j->keep, '@') == -1)
			goto oom;
		if (nudge_buf_add(&j->keep, val, vl + 1) == -1)
			goto oom;
	}
	sqlite3_reset(j->each);
	if (rc != SQLITE_DONE)
		return nudge_store_error(im->st, err, "json");
	if (bad)
		return 1;
	for (f = 1; f < NF; f++)
		if (have[f])
			r->v[f] = j->keep.s + off[f];
	for (k = 0; k < 3; k++) {
		if (have[NF + k] && j->keep.s[off[NF + k]] != '\0') {
			r->v[F_CONTACT] = j->keep.s + off[NF + k];
			r->cname = json_cn[k];
			break;
		}
	}
	if (r->cname == NULL)
		r->cname = "contact";
	return 0;
oom:
	sqlite3_reset(j->each);
	return nudge_errf(err, EX_OSERR, "out of memory");
}

/* One non-blank line, number lineno: checked (json_check), read
 * (json_fields) and recorded (take_row).  0 (recorded), 1 (rejected:
 * im says why), or an error. */
static int
json_row(struct imp *im, struct json_imp *j, const char *line, size_t n,
    long lineno, nudge_err *err)
{
	struct row r;
	int rc;

	im->n->read++;
	memset(&r, 0, sizeof r);
	r.line = lineno;
	im->rfield = NULL;
	if ((rc = json_check(im, j, line, n, err)) != 0 ||
	    (rc = json_fields(im, j, line, n, &r, err)) != 0)
		return rc;
	if ((rc = take_row(im, &r)) != 0 && rc != 1)
		*err = im->rerr;
	return rc;
}

/* A JSON lines file of events: each non-blank line an object, recorded
 * (json_row) or rejected (told, and written to the rejects with its
 * reason). */
static int
import_json(struct imp *im, FILE *in, nudge_err *err)
{
	struct json_imp j = { NULL, NULL, { 0 } };
	char *line = NULL, why[1100];
	size_t cap = 0, i, n;
	ssize_t len;
	long lineno = 0;
	int rc;

	if ((rc = nudge_store_prepare(im->st, &j.chk, "SELECT json_valid(?1), "
	    "CASE WHEN json_valid(?1) THEN json_type(?1) END", err)) != 0 ||
	    (rc = nudge_store_prepare(im->st, &j.each, "SELECT key, type, "
	    "CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
	    "WHEN 'null' THEN 'null' WHEN 'text' THEN value "
	    "ELSE json_quote(value) END FROM json_each(?1)", err)) != 0)
		goto out;
	errno = 0;
	while ((len = getline(&line, &cap, in)) != -1) {
		n = (size_t)len;
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		for (i = 0; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
			;
		if (i == n)
			continue;
		if ((rc = json_row(im, &j, line, n, lineno, err)) == 0)
			continue;
		if (rc != 1)
			goto out;
		tell(im, lineno);
		if (im->o->rejects != NULL &&
		    fprintf(im->o->rejects, "%ld\t%s\t%s\n", lineno,
		    reason(im, why, sizeof why), line) < 0) {
			rc = nudge_errf(err, EX_IOERR, "rejects: %s",
			    strerror(errno));
			goto out;
		}
		errno = 0;
	}
	rc = 0;
	if (ferror(in))
		rc = nudge_errf(err, EX_IOERR, "%s: %s", im->o->name,
		    strerror(errno));
out:
	sqlite3_finalize(j.chk);
	sqlite3_finalize(j.each);
	nudge_buf_free(&j.keep);
	free(line);
	return rc;
}

/* Whether to drop the events indexes for this import: see
 * IMPORT_REBUILD_BYTES. */
static int
worth_rebuild(nudge_store *st, FILE *in, int64_t min)
{
	struct stat sb;
	sqlite3_stmt *s;
	int64_t have = 0;

	if (min <= 0)
		min = IMPORT_REBUILD_BYTES;
	if (fstat(fileno(in), &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size < min)
		return 0;
	/* max(id) is an O(log n) guess at the row count */
	if (sqlite3_prepare_v2(st->db, "SELECT max(id) FROM events", -1, &s,
	    NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		have = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return sb.st_size / IMPORT_ROW_BYTES >= have;
}

/* Runs, for each index or trigger dropped_indexes lists for events, in
 * the order listed, "DROP INDEX (TRIGGER) IF EXISTS name" (with drop),
 * else its CREATE statement unless it is there, and takes it off the
 * list; each is committed on its own when im is journalled, so the WAL
 * holds one index at a time.  The list is read first: SQLite refuses a
 * schema change while a statement reads. */
static int
drop_listed(nudge_store *st, int drop, struct imp *im, nudge_err *err)
{
	sqlite3_stmt *s;
	nudge_buf b = { 0 };
	const char *p;
	int rc;

	if ((rc = nudge_store_prepare(st, &s, "SELECT CASE WHEN ?1 THEN "
	    "'DROP ' || CASE WHEN sql LIKE 'CREATE TRIGGER%' THEN 'TRIGGER' "
	    "ELSE 'INDEX' END || ' IF EXISTS \"' || replace(name, '\"', "
	    "'\"\"') || '\"' "
	    "ELSE sql || '; DELETE FROM dropped_indexes WHERE name = ' || "
	    "quote(name) END FROM dropped_indexes d WHERE tbl = 'events' AND "
	    "(?1 OR NOT EXISTS (SELECT 1 FROM sqlite_schema m WHERE "
	    "m.type IN ('index', 'trigger') AND m.name = d.name)) "
	    "ORDER BY d.rowid", err)) != 0)
		return rc;
	sqlite3_bind_int(s, 1, drop);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (nudge_buf_puts(&b, (const char *)sqlite3_column_text(s,
		    0)) == -1 || nudge_buf_add(&b, "", 1) == -1) {
			sqlite3_finalize(s);
			nudge_buf_free(&b);
			return nudge_errf(err, EX_OSERR, "out of memory");
		}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		nudge_buf_free(&b);
		return nudge_store_error(st, err, "indexes");
	}
	rc = 0;
	for (p = b.s; rc == 0 && p != NULL && p < b.s + b.len;
	    p += strlen(p) + 1)
		if ((rc = nudge_store_exec(st, p, err)) == 0 && im != NULL &&
		    im->jid != 0 && (rc = batch_commit(im)) != 0)
			*err = im->rerr;
	nudge_buf_free(&b);
	return rc;
}

/* Drops the events table's indexes and triggers (the triggers keep
 * event.h's counts, which would probe an index at every row), their
 * CREATE statements kept in dropped_indexes in the same transaction for
 * rebuild(): the indexes first, then the triggers, then (a row of its
 * own, "(counts)", that no index or trigger is named) the recount of
 * what the dropped triggers did not keep, so that a rebuild killed at
 * any point leaves the rest listed, the recount after the triggers. */
static int
drop_indexes(nudge_store *st, nudge_err *err)
{
	int rc;

	if ((rc = nudge_store_exec(st, "INSERT OR REPLACE INTO dropped_indexes "
	    "(name, tbl, sql) SELECT name, tbl_name, sql FROM sqlite_schema "
	    "WHERE type IN ('index', 'trigger') AND tbl_name = 'events' AND "
	    "sql IS NOT NULL ORDER BY type = 'trigger', name", err)) != 0 ||
	    (rc = nudge_store_run(st, "indexes", err, NULL,
	    "INSERT OR REPLACE INTO dropped_indexes (name, tbl, sql) SELECT "
	    "'(counts)', 'events', ?1 WHERE EXISTS (SELECT 1 FROM "
	    "sqlite_schema WHERE type = 'trigger' AND tbl_name = 'events')",
	    "t", NUDGE_EVENT_COUNTS_SQL)) != 0)
		return rc;
	return drop_listed(st, 1, NULL, err);
}

/* Whether an import left the events indexes dropped (killed before its
 * rebuild): its rerun, or the next import, builds them. */
static int
indexes_dropped(nudge_store *st)
{
	nudge_err e;
	int64_t n = 0;

	return nudge_store_run(st, "dropped_indexes", &e, &n, "SELECT "
	    "count(*) FROM dropped_indexes WHERE tbl = 'events'", "") == 0 &&
	    n > 0;
}

/* Creates the indexes drop_indexes (of this run or of a killed one)
 * dropped, and forgets them. */
static int
rebuild(struct imp *im, nudge_err *err)
{
	nudge_store *st = im->st;
	int rc;

	/* The sorter's memory follows the cache size: page cache plus
	 * sort buffer stay near the import's own peak.  Its two helper
	 * threads sort one run while the main thread reads the next: the
	 * four builds of 10M events 26.8 s -> 19.8 s on a quiet 2-core
	 * machine (the recount's GROUP BY sorts with them too); when the
	 * other core is busy they gain nothing and cost little. */
	if ((rc = nudge_store_exec(st, "PRAGMA threads = 2;"
	    "PRAGMA cache_size = -" REBUILD_CACHE_KIB, err)) != 0 ||
	    (rc = drop_listed(st, 0, im, err)) != 0)
		return rc;
	return nudge_store_exec(st, "DELETE FROM dropped_indexes WHERE "
	    "tbl = 'events'", err);
}

/* The fingerprint of a regular file fd for the journal: its size, a
 * hash of its first and last MiB, and of the options that change what
 * its rows record.  Reading 2 MiB costs a few ms; a whole-file hash
 * would read a 10 GB file twice.  -1 when fd is not a regular file. */
static int
fingerprint(int fd, const nudge_event_import_opts *o, char *out, size_t len)
{
	enum { PART = 1 << 20 };
	struct stat sb;
	uint64_t h[3];
	char *buf;
	ssize_t got;
	off_t at[2];
	size_t i;
	int k;

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (buf = malloc(PART)) == NULL)
		return -1;
	at[0] = 0;
	at[1] = sb.st_size > PART ? sb.st_size - PART : 0;
	for (k = 0; k < 2; k++) {
		if ((got = pread(fd, buf, PART, at[k])) < 0) {
			free(buf);
			return -1;
		}
		h[k] = nudge_fnv64(NUDGE_FNV64_INIT, buf, (size_t)got);
	}
	free(buf);
	h[2] = NUDGE_FNV64_INIT;
#define FP_STR(x) ((x) != NULL ? (x) : ""), ((x) != NULL ? strlen(x) + 1 : 0)
	h[2] = nudge_fnv64(h[2], FP_STR(o->type));
	h[2] = nudge_fnv64(h[2], FP_STR(o->country));
	h[2] = nudge_fnv64(h[2], FP_STR(o->source));
	for (i = 0; i < o->nmaps; i++)
		h[2] = nudge_fnv64(h[2], FP_STR(o->maps[i]));
#undef FP_STR
	snprintf(out, len, "%lld-%d%d%d-%016llx%016llx%016llx",
	    (long long)sb.st_size, (int)o->format, o->create, o->date_order,
	    (unsigned long long)h[0], (unsigned long long)h[1],
	    (unsigned long long)h[2]);
	return 0;
}

/* Finds the journal row of this file (a rerun: skip what it recorded),
 * or with fp set to its fingerprint, im->jid 0, for journal_add.  fp is
 * "" for input that is not a regular file: not journalled. */
static int
journal_find(struct imp *im, FILE *in, char *fp, size_t len, nudge_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*fp = '\0';
	if (fingerprint(fileno(in), im->o, fp, len) == -1) {
		*fp = '\0';
		return 0;
	}
	if ((rc = nudge_store_prepare(im->st, &s, "SELECT id, line, done FROM "
	    "event_imports WHERE fingerprint = ?1 ORDER BY id DESC LIMIT 1",
	    err)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, fp, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		im->jid = sqlite3_column_int64(s, 0);
		im->skip_to = sqlite3_column_int(s, 2) ? INT64_MAX :
		    sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(im->st, err, "event_imports");
	return 0;
}

/* Starts the journal row of a file journal_find did not find, in the
 * import's first transaction: an import that fails before its first
 * commit leaves no trace. */
static int
journal_add(struct imp *im, const char *fp, nudge_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (im->jid != 0 || *fp == '\0')
		return 0;
	if ((rc = nudge_store_prepare(im->st, &s, "INSERT INTO event_imports "
	    "(name, fingerprint, started_at, updated_at) VALUES (?1, ?2, ?3, "
	    "?3)", err)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, im->o->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, fp, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, im->o->now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return nudge_store_error(im->st, err, "event_imports");
	im->jid = sqlite3_last_insert_rowid(im->st->db);
	return 0;
}

/* Notes in the journal that every row up to line is recorded (done: the
 * whole file), in the open transaction. */
static int
journal_note(struct imp *im, long line, int done, nudge_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (im->jid == 0)
		return 0;
	if ((rc = nudge_store_prepare(im->st, &s, "UPDATE event_imports SET "
	    "line = max(line, ?2), done = ?3, updated_at = ?4 WHERE id = ?1",
	    err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, im->jid);
	sqlite3_bind_int64(s, 2, line);
	sqlite3_bind_int(s, 3, done);
	sqlite3_bind_int64(s, 4, im->o->now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 :
	    nudge_store_error(im->st, err, "event_imports");
}

/* Commits the rows recorded so far with the journal's line (the last
 * recorded row's), and starts the next batch.  The checkpoint after each commit lets the WAL start
 * over, so it holds about one batch, not the whole import. */
static int
batch_commit(struct imp *im)
{
	int rc;

	im->pending = 0;
	if (im->jid == 0)
		return 0;
	if (im->o->rejects != NULL && fflush(im->o->rejects) == EOF)
		return nudge_errf(&im->rerr, EX_IOERR, "rejects: %s",
		    strerror(errno));
	if ((rc = journal_note(im, im->last_line, 0, &im->rerr)) != 0 ||
	    (rc = nudge_store_commit(im->st, &im->rerr)) != 0)
		return rc;
	im->n->committed = im->n->recorded;
	(void)sqlite3_wal_checkpoint_v2(im->st->db, NULL,
	    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return nudge_store_begin(im->st, &im->rerr);
}

int
nudge_event_import(nudge_store *st, FILE *in, const nudge_event_import_opts *o,
    nudge_event_counts *n, nudge_err *err)
{
	struct imp im;
	sqlite3_stmt *s;
	char sql[128], fp[128] = "";
	int rc, old_cache = 0, rebuilding;

	memset(n, 0, sizeof *n);
	memset(&im, 0, sizeof im);
	im.st = st;
	im.o = o;
	im.n = n;
	im.batch = o->batch > 0 ? o->batch : NUDGE_EVENT_BATCH;
	if (sqlite3_prepare_v2(st->db, "PRAGMA cache_size", -1, &s, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			old_cache = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	/* journalled first: a rerun of an import that ran to the end
	 * records nothing, and drops no index for it */
	if (!o->dry_run && (rc = journal_find(&im, in, fp, sizeof fp, err)) !=
	    0)
		return rc;
	rebuilding = indexes_dropped(st) || (im.skip_to != INT64_MAX &&
	    worth_rebuild(st, in, o->rebuild_bytes));
	/* CREATE INDEX sorts in temporary files: on disk, not in memory.
	 * Foreign keys are off for the import: every contact_id and
	 * campaign_id it writes was just looked up or inserted in this
	 * transaction, which holds the write lock, so the check would only
	 * repeat a random read of the contacts table for every row (half
	 * the time of a 10M-row import into 1M contacts). */
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d;"
	    "PRAGMA foreign_keys = OFF;%s", IMPORT_CACHE_KIB,
	    rebuilding ? "PRAGMA temp_store = FILE" : "");
	if ((rc = nudge_store_exec(st, sql, err)) != 0)
		return rc;
	if ((rc = nudge_store_begin(st, err)) != 0 ||
	    (rc = journal_add(&im, fp, err)) != 0)
		goto out;
	if (rebuilding && (rc = drop_indexes(st, err)) != 0)
		goto out;
	im.rebuilding = rebuilding;
	if ((rc = nudge_event_writer_open(&im.w, st, o->now, err)) != 0)
		goto out;
	if (o->format == NUDGE_EVENT_JSON)
		rc = import_json(&im, in, err);
	else
		rc = import_csv(&im, in, err);
	if (rc == 0 && o->rejects != NULL && fflush(o->rejects) == EOF)
		rc = nudge_errf(err, EX_IOERR, "rejects: %s", strerror(errno));
	nudge_event_writer_close(im.w);
	im.w = NULL;
	if (rc == 0 && !o->dry_run) {
		if ((!im.rebuilding || (rc = rebuild(&im, err)) == 0) &&
		    (rc = journal_note(&im, LONG_MAX, 1, err)) == 0 &&
		    (rc = nudge_store_commit(st, err)) == 0)
			n->committed = n->recorded;
	}
out:
	nudge_event_writer_close(im.w);
	sqlite3_finalize(im.ordered);
	nudge_store_rollback(st);
	nudge_buf_free(&im.props);
	sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (rebuilding)
		sqlite3_exec(st->db, "PRAGMA temp_store = MEMORY;"
		    "PRAGMA threads = 0", NULL, NULL, NULL);
	snprintf(sql, sizeof sql, "PRAGMA cache_size = %d", old_cache);
	if (old_cache != 0)
		sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	return rc;
}
