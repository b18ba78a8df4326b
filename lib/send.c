/* send: a send run over every channel: policy, render, claim before
 * the message leaves, outcome after. */
#include "send.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"
#include "channel.h"
#include "computed.h"
#include "contact.h"
#include "event.h"
#include "journal.h"
#include "ledger.h"
#include "links.h"
#include "mime.h"
#include "policy.h"
#include "provider.h"
#include "sms.h"
#include "template.h"
#include "tplctx.h"
#include "transport.h"

/* Messages claimed in one transaction: one fsync for this many (email);
 * sms and push, many more for as much work, claim BATCH_HTTP. */
#define BATCH 64
#define BATCH_HTTP 256
/* Outcomes recorded in one transaction at the most. */
#define OUTCOMES 256
/* Kept outcomes older than this are written when the run waits. */
#define OUTCOMES_AGE_MS 200
/* A full window waits for room for this many messages (a quarter of a
 * small window), so that the threads switch once for a run of outcomes,
 * not once for each, and the network never runs dry meanwhile. */
#define ROOM 64
/* Lines waiting for a busy channel, all channels, at the most: then the
 * run waits for room. */
#define WAIT_MAX 65536
/* Render threads at the most, whatever the number of cores. */
#define WORKERS_MAX 16
/* Slots queued for the render threads before they are woken. */
#define WAKE 8

/* The contact being rendered, as the template's lookup sees it. */
struct contact {
	int64_t id;
	char idtext[24];
	nudge_buf vals;       /* field values, each NUL-terminated */
	long off[5];          /* email, phone, push_id, first_name,
				 last_name in vals, or -1 */
	nudge_buf attrs;      /* key \0 value \0 ... */
	size_t nattrs;
	nudge_buf comp;       /* computed fields' values, each \0-ended */
	long *coff;           /* field i (nudge_computed_field) in comp,
				 or -1; ncomp of them */
	size_t ncomp;
	unsigned char *cuse;  /* field i is read: some template names it */
	const char *unsub;    /* {{unsubscribe_url}}, or NULL */
	const char *confirm;  /* {{confirm_url}} (signup.h), or NULL */
	const char *code;     /* {{confirm_code}} (signup.h), or NULL */
	const char *prefs;    /* {{preferences_url}} (signup.h), or NULL */
	nudge_evdata *ev;     /* latest.TYPE.PATH, event.PATH */
	int64_t entry;        /* the entry event of event.*, or 0 */
	nudge_tplcond *cond;  /* the lane's {{#if}}s */
	int failed;           /* a store error in latest.* */
};

static const char *const fields[5] = { "email", "phone", "push_id",
	"first_name", "last_name" };

/* What a line is sent as: one campaign step (or a one-off's campaign),
 * its template, its policy.  A run has one lane for each step it meets;
 * all live until the run ends, the messages in flight pointing at them. */
struct nudge_sender_lane {
	nudge_send_opts o;      /* the run's, with this step's campaign,
				   step, channel, template and policy */
	nudge_policy_cfg pol;   /* o.policy's storage, for a campaign's */
	nudge_tpl *tpl;
	nudge_tplcond *cond;    /* its {{#if}} conditions, or NULL */
	nudge_policy *policy;
	int64_t campaign_id;
	int col;                /* the channel's nudge_channel_id, which is
				   also its address's index in fields[] */
	char quiet[128];        /* why messages are held now, or "" */
	int apart;              /* renders on the render threads: its
				   template reads nothing from the store
				   and gains from threads (apart_ok) */
	struct chan *ch;
	int64_t entry;          /* the entry event of a journey's instance
				   (event.* in its template), or 0 */
	char *own_step;         /* an instance's o.step ("STEP#EVENT"); its
				   template, conditions and policy are its
				   parent's (nudge_sender_add_instance) */
	struct nudge_sender_lane *next;
};

/* A line waiting for its channel: that transport had a full window when
 * the line came, and the lines of the other channels go on meanwhile. */
struct waiting {
	struct waiting *next;
	struct nudge_sender_lane *lane;
	long line;
	char text[];
};

/* One channel's transport, opened for its first message and shared by
 * every lane of the channel: email, sms and push go out at once, each on
 * its own connections and its own network thread. */
struct chan {
	const char *name;
	nudge_transport *t;
	nudge_provider *prov;   /* sms, push over http(s) */
	size_t window;
	int stop;               /* the circuit breaker opened: what is not
				   sent yet is held for a rerun */
	char why[640];          /* the stop's reason */
	struct waiting *head, **tail;
	size_t nwait;
};

/* What renders a message: its output buffers and link rewriter, one
 * per thread (the caller's and each render thread's). */
struct render {
	nudge_tpl_out out;
	nudge_links *links;     /* tracking (links.c), or NULL */
	nudge_buf unsub;        /* this message's unsubscribe URL */
	nudge_buf confirm;      /* and its sign-up confirmation URL */
	char code[7];           /* and code, in a journey of a request */
	nudge_buf prefs;        /* and its preference page's URL */
	nudge_buf plain;        /* an SMS before link tracking, measured */
};

/* Where a slot's message is. */
enum slot_state {
	SLOT_BUILT,             /* built (or being filled by the caller) */
	SLOT_QUEUED,            /* its contact read, for a render thread */
	SLOT_SKIP,              /* not built: the line is skipped (why) */
	SLOT_FAIL               /* not built: a fatal error (rc, why) */
};

/* A message of the batch being claimed. */
struct slot {
	long line;
	char *input;
	int64_t contact_id;
	struct nudge_sender_lane *lane;
	struct contact c;       /* its fields, read by the caller's thread */
	enum slot_state state;
	int rc;                 /* SLOT_SKIP, SLOT_FAIL: build's code */
	enum nudge_skip skip;   /* SLOT_SKIP: the class of why */
	nudge_err why;          /* why not built; else what a dry run
				   shows (its size, its segments) */
	char from[NUDGE_EMAIL_MAX + 1], to[NUDGE_EMAIL_MAX + 1];
	nudge_buf msg;
	nudge_buf title;        /* push */
	nudge_sms_count sc;     /* sms */
	int tracked;            /* sms: the segments link tracking added */
};

/* A render thread.  It reads the slots the caller queued (their contact
 * already read) and the lanes, both left alone by the caller until the
 * batch is settled, and writes only the slot it took and its own r. */
struct worker {
	pthread_t th;
	nudge_sender *s;
	struct render r;
};

/* What the transport carries back to us with each outcome. */
struct pending {
	long line;
	int64_t contact_id, ledger_id;
	struct nudge_sender_lane *lane;
	int segments;           /* sms; else 0 */
	int ucs2;
	int tracked;            /* of segments, added by link tracking */
	struct pending *prev, *next; /* sender.live */
	char input[];
};

/* Messages of this run not yet counted by the frequency cap's query (no
 * sent event yet), by contact: with several channels in flight at once,
 * the cap counts them too, so two channels never both take a contact's
 * last message of the period. */
struct inflight {
	int64_t *id;
	int *n;
	size_t cap, used;
};

struct nudge_sender {
	struct pending *live;   /* submitted, outcome not yet handed out */
	nudge_store *st;
	const nudge_send_opts *o;
	nudge_send_stats *stats;
	nudge_err *err;
	nudge_ledger *ledger;
	nudge_journal *journal; /* in flight: what may have left, or NULL */
	int clean;              /* finished: the journal can go */
	struct chan *stopped;   /* the channel of a delivery that stopped
				   the run (NUDGE_STOP_RUN), or NULL */
	int jfail;              /* the journal cannot be written: no more
				   messages start, the rest are held */
	nudge_event_writer *ew;
	struct render r;        /* the caller's thread's; r.links is the
				   tracking (links.c), or NULL */
	sqlite3_stmt *get_contact, *get_attrs;
	int id_param;           /* get_contact's ?N for the contact id */
	nudge_seg contact_q;    /* its query: parameters bound from here */
	sqlite3_stmt *topic_q;  /* --topic: the contact's latest row */
	struct contact c;       /* the computed fields read (ncomp, cuse),
				   and the contact of a lane's hold-out */
	struct slot slots[BATCH_HTTP];
	/* The render threads and their queue: qslot[next..end) are the
	 * slots waiting for one, queued those not yet built; all under mu.
	 * The caller waits (built) for queued to fall to 0 before it claims
	 * the batch. */
	struct worker *w;
	size_t nw;
	pthread_mutex_t mu;
	pthread_cond_t more, built;
	size_t qslot[BATCH_HTTP], next, end, queued;
	int quit;
	size_t nslots, nemail;
	nudge_delivery *done;   /* outcomes not yet written: OUTCOMES */
	size_t ndone;
	int64_t done_at;        /* when the oldest kept outcome came (ms) */
	int in_txn;             /* outcomes being recorded */
	long outcomes;          /* in the open transaction */
	int rc;                 /* a store error in a delivery callback */
	struct chan ch[3];      /* email, sms, push */
	struct nudge_sender_lane *lanes;
	size_t nwait;           /* lines waiting, all channels */
	struct inflight fl;
};

static void
result(nudge_sender *s, const struct nudge_sender_lane *l, long line, const char *input,
    int64_t cid, const char *status, const char *detail)
{
	nudge_send_result r = { line, input, cid, status, detail,
		l != NULL && l->o.step != NULL ? l->o.campaign : NULL,
		l != NULL ? l->o.step : NULL, NUDGE_SKIP_NONE };

	if (s->o->on_result != NULL)
		s->o->on_result(s->o->arg, &r);
}

/* Reports the line skipped for why (detail: this case's words). */
static void
skipped(nudge_sender *s, const struct nudge_sender_lane *l, long line,
    const char *input, int64_t cid, enum nudge_skip why, const char *detail)
{
	nudge_send_result r = { line, input, cid, "skipped", detail,
		l != NULL && l->o.step != NULL ? l->o.campaign : NULL,
		l != NULL ? l->o.step : NULL, why };

	s->stats->skipped++;
	s->stats->skips[why]++;
	if (s->o->on_result != NULL)
		s->o->on_result(s->o->arg, &r);
}

/* The in-flight count of contact id (fl.n[i]), found or made: open
 * addressing over a table that doubles at half full.  Returns its index,
 * or -1 when out of memory. */
static long
inflight_at(struct inflight *fl, int64_t id, int make)
{
	size_t i, mask;

	if (make && (fl->used + 1) * 2 > fl->cap) {
		struct inflight nf = { 0 };
		size_t k;

		nf.cap = fl->cap > 0 ? fl->cap * 2 : 1024;
		if ((nf.id = calloc(nf.cap, sizeof *nf.id)) == NULL ||
		    (nf.n = calloc(nf.cap, sizeof *nf.n)) == NULL) {
			free(nf.id);
			return -1;
		}
		for (k = 0; k < fl->cap; k++) {
			if (fl->id[k] == 0)
				continue;
			for (i = (size_t)fl->id[k] & (nf.cap - 1);
			    nf.id[i] != 0; i = (i + 1) & (nf.cap - 1))
				;
			nf.id[i] = fl->id[k];
			nf.n[i] = fl->n[k];
			nf.used++;
		}
		free(fl->id);
		free(fl->n);
		*fl = nf;
	}
	if (fl->cap == 0)
		return -1;
	mask = fl->cap - 1;
	for (i = (size_t)id & mask; fl->id[i] != 0; i = (i + 1) & mask)
		if (fl->id[i] == id)
			return (long)i;
	if (!make)
		return -1;
	fl->id[i] = id;
	fl->n[i] = 0;
	fl->used++;
	return (long)i;
}

/* The policy's count of messages in flight to contact id. */
static int64_t
inflight_count(void *arg, int64_t id)
{
	nudge_sender *s = arg;
	long i = inflight_at(&s->fl, id, 0);

	return i >= 0 ? s->fl.n[i] : 0;
}

/* One message more (d 1) or less (d -1) in flight to contact id; a
 * transactional lane's do not count. */
static int
inflight_add(nudge_sender *s, const struct nudge_sender_lane *l, int64_t id, int d)
{
	long i;

	if (l->o.transactional)
		return 0;
	if ((i = inflight_at(&s->fl, id, d > 0)) < 0)
		return d > 0 ? nudge_errf(s->err, EX_OSERR, "out of memory") : 0;
	if (s->fl.n[i] + d >= 0)
		s->fl.n[i] += d;
	return 0;
}

static const char *
lookup(void *ctx, const char *name, size_t *len)
{
	struct contact *c = ctx;
	const char *p;
	size_t i;

	if (strcmp(name, "id") == 0) {
		*len = strlen(c->idtext);
		return c->idtext;
	}
	if (strcmp(name, "unsubscribe_url") == 0) {
		*len = c->unsub != NULL ? strlen(c->unsub) : 0;
		return c->unsub;
	}
	if (strcmp(name, "confirm_url") == 0) {
		*len = c->confirm != NULL ? strlen(c->confirm) : 0;
		return c->confirm;
	}
	if (strcmp(name, "confirm_code") == 0) {
		*len = c->code != NULL ? strlen(c->code) : 0;
		return c->code;
	}
	if (strcmp(name, "preferences_url") == 0) {
		*len = c->prefs != NULL ? strlen(c->prefs) : 0;
		return c->prefs;
	}
	for (i = 0; i < 5; i++) {
		if (strcmp(name, fields[i]) != 0)
			continue;
		if (c->off[i] < 0)
			return NULL;
		p = c->vals.s + c->off[i];
		*len = strlen(p);
		return p;
	}
	for (i = 0; i < c->ncomp; i++) {
		if (strcmp(name, nudge_computed_field(i)) != 0)
			continue;
		if (c->coff[i] < 0)
			return NULL;
		p = c->comp.s + c->coff[i];
		*len = strlen(p);
		return p;
	}
	if (strncmp(name, "latest.", 7) == 0 || strncmp(name, "event.", 6) == 0)
		return nudge_evdata_lookup(c->ev, c->id, c->entry, name, len,
		    &c->failed);
	if (strncmp(name, "attrs.", 6) != 0)
		return NULL;
	for (i = 0, p = c->attrs.s; i < c->nattrs; i++) {
		const char *v = p + strlen(p) + 1;

		if (strcmp(p, name + 6) == 0) {
			*len = strlen(v);
			return *len > 0 ? v : NULL;
		}
		p = v + strlen(v) + 1;
	}
	return NULL;
}

/* (Re)prepares get_contact: the contact's fields, attrs and the computed
 * fields its templates name, in one row (computed.h), so that a send
 * whose templates name none pays nothing for them. */
static int
contact_query(nudge_sender *s, nudge_err *err)
{
	nudge_seg *q = &s->contact_q;
	int rc;

	sqlite3_finalize(s->get_contact);
	s->get_contact = NULL;
	nudge_seg_free(q);
	if (s->c.coff == NULL) {
		s->c.ncomp = nudge_computed_fields();
		if (s->c.ncomp > 0 && ((s->c.coff = calloc(s->c.ncomp,
		    sizeof *s->c.coff)) == NULL || (s->c.cuse =
		    calloc(s->c.ncomp, 1)) == NULL))
			return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if ((rc = nudge_computed_contact_sql(s->o->now, s->c.cuse, q,
	    &s->id_param, err)) != 0)
		return rc;
	return nudge_seg_prepare(s->st, q, &s->get_contact, err);
}

/* nudge_tpl_each_field: marks a computed field the template names. */
static int
note_computed(void *arg, const char *name, int has_def, const char *where)
{
	struct contact *c = arg;
	size_t i;

	(void)has_def;
	(void)where;
	for (i = 0; i < c->ncomp; i++)
		if (!c->cuse[i] && strcmp(name, nudge_computed_field(i)) == 0)
			c->cuse[i] = 2;
	return 0;
}

/* Reads the computed fields template t names with every contact from now
 * on: get_contact prepared again when t names one not read yet. */
static int
use_computed(nudge_sender *s, const nudge_tpl *t, nudge_err *err)
{
	size_t i;
	int more = 0;

	if (s->c.ncomp == 0)
		return 0;
	nudge_tpl_each_field(t, note_computed, &s->c);
	for (i = 0; i < s->c.ncomp; i++)
		if (s->c.cuse[i] == 2) {
			s->c.cuse[i] = 1;
			more = 1;
		}
	return more ? contact_query(s, err) : 0;
}

static int
cond(void *ctx, size_t i, int *truth, nudge_err *err)
{
	struct contact *c = ctx;

	return nudge_tplcond_eval(c->cond, c->id, i, truth, err);
}

/* Loads contact id's fields, attrs and the computed fields the run's
 * templates name into c, for the template. */
static int
load_contact(nudge_sender *s, struct contact *c, int64_t id)
{
	const unsigned char *attrs = NULL;
	size_t i;
	int rc, col;

	if (c->coff == NULL && s->c.ncomp > 0 &&
	    (c->coff = calloc(s->c.ncomp, sizeof *c->coff)) == NULL)
		return nudge_errf(s->err, EX_OSERR, "out of memory");
	c->ncomp = s->c.ncomp;
	c->ev = s->c.ev;
	c->id = id;
	c->idtext[nudge_fmt_i64(c->idtext, id)] = '\0';
	nudge_buf_reset(&c->vals);
	nudge_buf_reset(&c->attrs);
	nudge_buf_reset(&c->comp);
	c->nattrs = 0;
	sqlite3_bind_int64(s->get_contact, s->id_param, id);
	if ((rc = sqlite3_step(s->get_contact)) != SQLITE_ROW) {
		sqlite3_reset(s->get_contact);
		return rc == SQLITE_DONE ? nudge_errf(s->err, EX_DATAERR,
		    "no such contact") : nudge_store_error(s->st, s->err,
		    "read contact");
	}
	for (i = 0; i < 5; i++) {
		const unsigned char *v = sqlite3_column_text(s->get_contact,
		    (int)i);

		c->off[i] = -1;
		if (v == NULL || *v == '\0')
			continue;
		c->off[i] = (long)c->vals.len;
		if (nudge_buf_add(&c->vals, v, strlen((const char *)v) + 1) == -1)
			goto nomem;
	}
	for (i = 0, col = 6; i < c->ncomp; i++) {
		const unsigned char *v;
		char num[32];
		int dec;

		c->coff[i] = -1;
		if (!s->c.cuse[i])
			continue;
		if ((dec = nudge_computed_decimals(i)) >= 0 &&
		    sqlite3_column_type(s->get_contact, col) == SQLITE_FLOAT) {
			nudge_computed_fixed(sqlite3_column_double(
			    s->get_contact, col++), dec, num);
			v = (const unsigned char *)num;
		} else {
			v = sqlite3_column_text(s->get_contact, col++);
		}
		if (v == NULL || *v == '\0')
			continue;
		c->coff[i] = (long)c->comp.len;
		if (nudge_buf_add(&c->comp, v, strlen((const char *)v) + 1) ==
		    -1)
			goto nomem;
	}
	attrs = sqlite3_column_text(s->get_contact, 5);
	if (attrs != NULL && strcmp((const char *)attrs, "{}") != 0) {
		sqlite3_bind_text(s->get_attrs, 1, (const char *)attrs, -1,
		    SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(s->get_attrs)) == SQLITE_ROW) {
			const unsigned char *k = sqlite3_column_text(s->get_attrs,
			    0);
			const unsigned char *v = sqlite3_column_text(s->get_attrs,
			    1);

			if (k == NULL)
				continue;
			if (v == NULL)
				v = (const unsigned char *)"";
			if (nudge_buf_add(&c->attrs, k, strlen((const char *)k) +
			    1) == -1 || nudge_buf_add(&c->attrs, v,
			    strlen((const char *)v) + 1) == -1) {
				sqlite3_reset(s->get_attrs);
				goto nomem;
			}
			c->nattrs++;
		}
		sqlite3_reset(s->get_attrs);
	}
	sqlite3_reset(s->get_contact);
	return 0;
nomem:
	sqlite3_reset(s->get_contact);
	return nudge_errf(s->err, EX_OSERR, "out of memory");
}

/* Commits the outcomes recorded so far. */
static int
commit_outcomes(nudge_sender *s)
{
	if (!s->in_txn)
		return 0;
	s->in_txn = 0;
	s->outcomes = 0;
	return nudge_store_commit(s->st, s->err);
}

/* A message that surely did not leave (held by a stopping run, refused
 * to the end): its claim is given back, so that a rerun sends it, and
 * its line reported with status and detail. */
/* Frees p, unlinking it from s->live. */
static void
pending_drop(nudge_sender *s, struct pending *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		s->live = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	free(p);
}

static void
give_back(nudge_sender *s, struct pending *p, const char *status,
    const char *detail)
{
	nudge_err e;
	int rc;

	if ((rc = nudge_ledger_release(s->ledger, p->ledger_id, &e)) != 0 &&
	    s->rc == 0) {
		s->rc = rc;
		*s->err = e;
	}
	inflight_add(s, p->lane, p->contact_id, -1);
	result(s, p->lane, p->line, p->input, p->contact_id, status, detail);
	pending_drop(s, p);
}

/* What an outcome comes to: the ledger's, the event's, the line's. */
struct verdict {
	int back;               /* surely not delivered: the claim is given
				   back, the next run sends it */
	enum nudge_outcome out;
	const char *type;       /* the event, or NULL */
	const char *status;     /* the line's */
	char detail[320];
	char props[96];         /* the event's props, or "" */
};

/* Judges outcome d of message p (classified by outcome.c), for
 * record_one and for the journal (finished): one rule for both, so that
 * a recovery records what the run would have.  Reads only what does not
 * change while p is in flight: safe from the network thread. */
static void
judge(const struct pending *p, const nudge_delivery *d, struct verdict *v)
{
	const struct nudge_sender_lane *l = p->lane;
	const nudge_send_opts *o = &l->o;

	v->back = 0;
	v->out = NUDGE_OUT_FAILED;
	v->type = v->status = "failed";
	v->props[0] = '\0';
	switch (d->status) {
	case NUDGE_SENT:
		v->out = NUDGE_OUT_SENT;
		v->type = v->status = "sent";
		nudge_strcpy(v->detail, sizeof v->detail, d->id);
		break;
	case NUDGE_BOUNCED:
		v->out = NUDGE_OUT_BOUNCED;
		v->type = v->status = "bounced";
		nudge_strcpy(v->detail, sizeof v->detail, d->detail);
		break;
	case NUDGE_NOT_SENT:
		/* surely not delivered: the claim is given back, so the next
		 * run sends it; held when it never was tried (the run or
		 * channel stopped, credentials refused, the journal could not
		 * be written), tempfail (exit 75: cron runs it again) when
		 * the server kept refusing it */
		v->back = 1;
		if (!d->temporary) {
			v->status = "held";
			nudge_strcpy(v->detail, sizeof v->detail, d->detail);
			return;
		}
		v->status = "tempfail";
		snprintf(v->detail, sizeof v->detail, "refused %d times, last: "
		    "%s; not sent, a rerun sends it", d->attempts, d->detail);
		return;
	case NUDGE_FAILED:
		nudge_strcpy(v->detail, sizeof v->detail, d->detail);
		break;
	case NUDGE_UNKNOWN:
		/* may have arrived: the row becomes `unknown`, never sent
		 * again unless --resend-unknown; no event, as after a crash.
		 * Still failing when the retries ran out (a provider's 5xx):
		 * told as a temporary failure, exit 75. */
		v->out = NUDGE_OUT_UNKNOWN;
		v->type = NULL;
		if (d->temporary) {
			v->status = "tempfail";
			snprintf(v->detail, sizeof v->detail, "temporary failure "
			    "after %d attempts: %s", d->attempts, d->detail);
			break;
		}
		v->status = "unknown";
		snprintf(v->detail, sizeof v->detail, "%s; not sent again unless "
		    "--resend-unknown", d->detail);
		break;
	}
	if (p->segments > 0)
		/* the cost: segments and encoding, for the report */
		snprintf(v->props, sizeof v->props, "{\"segments\":%d,"
		    "\"encoding\":\"%s\"%s}", p->segments, p->ucs2 ? "UCS-2" :
		    "GSM-7", o->transactional && v->out == NUDGE_OUT_SENT ?
		    ",\"transactional\":true" : "");
	else if (o->transactional && v->out == NUDGE_OUT_SENT)
		/* a receipt's sent event is not counted by frequency caps */
		nudge_strcpy(v->props, sizeof v->props,
		    "{\"transactional\":true}");
	else if (d->reason[0] != '\0')
		/* why it was refused, and whose fault (bounce.h) */
		snprintf(v->props, sizeof v->props, "{\"reason\":\"%s\","
		    "\"class\":\"%s\"}", d->reason, d->status == NUDGE_BOUNCED ?
		    "hard" : d->sender_side ? "sender" : "soft");
}

/* Writes one outcome: the ledger row, its event, the line's result.
 * Opens the outcomes' transaction if none is (see record_done). */
static void
record_one(nudge_sender *s, const nudge_delivery *d)
{
	struct pending *p = d->cookie;
	struct nudge_sender_lane *l = p->lane;
	const nudge_send_opts *o = &l->o;
	char shown[400];
	struct verdict v;
	nudge_event ev = { 0 };
	nudge_err e;
	int rc;

	judge(p, d, &v);
	if (d->status == NUDGE_NOT_SENT && !d->temporary)
		s->stats->held++;
	else if (strcmp(v.status, "tempfail") == 0)
		s->stats->tempfail++;
	else if (d->status == NUDGE_SENT)
		s->stats->sent++;
	else if (d->status == NUDGE_BOUNCED)
		s->stats->bounced++;
	else if (d->status == NUDGE_FAILED)
		s->stats->failed++;
	else
		s->stats->unknown++;
	if (v.back) {
		give_back(s, p, v.status, v.detail);
		return;
	}
	if (s->rc == 0 && !s->in_txn) {
		if ((rc = nudge_store_begin(s->st, &e)) != 0) {
			s->rc = rc;
			*s->err = e;
		} else {
			s->in_txn = 1;
		}
	}
	/* the transport's retries of this message, kept in the ledger */
	for (rc = 1; s->rc == 0 && rc < d->attempts; rc++)
		if (nudge_ledger_retry(s->ledger, p->ledger_id, "retried",
		    o->now, &e) != 0) {
			s->rc = EX_SOFTWARE;
			*s->err = e;
		}
	if (s->rc == 0) {
		ev.contact_id = p->contact_id;
		ev.type = v.type;
		ev.channel = o->channel;
		ev.campaign = o->campaign;
		ev.step = o->step;
		ev.message_id = p->ledger_id;
		ev.at = o->now;
		ev.source = "send";
		ev.props_json = v.props[0] != '\0' ? v.props : NULL;
		if ((rc = nudge_ledger_outcome(s->ledger, p->ledger_id, v.out,
		    v.detail, o->now, &e)) != 0 || (v.type != NULL &&
		    (rc = nudge_event_record(s->ew, &ev, NULL, &e)) != 0)) {
			s->rc = rc;
			*s->err = e;
		} else if (++s->outcomes >= OUTCOMES) {
			s->rc = commit_outcomes(s);
		}
	}
	/* a sent message is the cap's query's now, a failed one nobody's */
	inflight_add(s, l, p->contact_id, -1);
	if (p->segments > 0 && d->status == NUDGE_SENT) {
		s->stats->segments += p->segments;
		s->stats->tracked_segments += p->tracked;
		snprintf(shown, sizeof shown, "%s (%d segment%s, %s)", v.detail,
		    p->segments, p->segments > 1 ? "s" : "", p->ucs2 ? "UCS-2" :
		    "GSM-7");
		result(s, l, p->line, p->input, p->contact_id, v.status, shown);
	} else {
		result(s, l, p->line, p->input, p->contact_id, v.status,
		    v.detail);
	}
	pending_drop(s, p);
}

/* Writes the outcomes kept so far, in the order they came, in one
 * transaction; commits it when commit is set, else leaves it open for
 * the claims of flush_batch.  The transports' outcomes are kept in
 * memory until then, not written as they come: a write transaction holds
 * the store's write lock until its commit, and one opened at the first
 * outcome stayed open while this thread waited for the network, so that
 * other sends and nudge track starved for the lock (busy timeouts, exit
 * 75, 503s).  A kept outcome's message stays in flight for the frequency
 * cap until its sent event is written.  Errors go to s->rc. */
static void
record_done(nudge_sender *s, int commit)
{
	size_t i;
	int rc;

	for (i = 0; i < s->ndone; i++)
		record_one(s, &s->done[i]);
	s->ndone = 0;
	if (commit && s->in_txn && (rc = commit_outcomes(s)) != 0 &&
	    s->rc == 0)
		s->rc = rc;
}

/* The transports' callback: what stops the run or a channel takes
 * effect at once; the outcome is kept for record_done. */
static void
on_delivery(void *arg, const nudge_delivery *d)
{
	nudge_sender *s = arg;
	struct pending *p = d->cookie;
	struct nudge_sender_lane *l = p->lane;

	if (!s->jfail && nudge_journal_error(s->journal) != NULL)
		/* no message may start (the transports start none): what
		 * is in flight ends, what is not is held */
		s->jfail = 1;
	if (d->stop == NUDGE_STOP_RUN && s->rc == 0) {
		/* nothing can get through (authentication, TLS): stop
		 * rather than fail every message of the campaign.  The
		 * outcomes that came before are written; of those after,
		 * the ones not sent give their claims back (the transport
		 * is drained at close), the others are left claimed for
		 * the next run's recovery */
		record_done(s, 0);
		if (s->rc == 0) {
			s->rc = EX_UNAVAILABLE;
			nudge_errf(s->err, EX_UNAVAILABLE, "%s", d->detail);
		}
		s->stopped = l->ch;
	}
	if (d->stop == NUDGE_STOP_CHANNEL && l->ch->stop == 0) {
		/* this channel stops; the others go on */
		l->ch->stop = EX_TEMPFAIL;
		if (d->sender_side)
			snprintf(l->ch->why, sizeof l->ch->why, "%s: %s; the "
			    "messages not sent are left for a rerun once it is "
			    "mended", l->o.channel, d->detail);
		else
			snprintf(l->ch->why, sizeof l->ch->why, "%s: the "
			    "provider is down (%s); the messages not sent are "
			    "left for a rerun", l->ch->prov != NULL ?
			    l->ch->prov->name : l->o.channel, d->detail);
	}
	if (s->ndone == OUTCOMES)
		record_done(s, 1);
	if (s->ndone == 0)
		s->done_at = nudge_mono_ms();
	s->done[s->ndone++] = *d;
}

/* The envelope sender and From: of the message r rendered. */
static int
pick_from(const struct render *r, const struct nudge_sender_lane *l,
    struct slot *sl, char *name, size_t namelen, nudge_err *err)
{
	const nudge_buf *tf = &r->out.part[NUDGE_TPL_FROM];
	const nudge_email_cfg *ec = l->o.cfg != NULL ? &l->o.cfg->email : NULL;
	const char *spec = l->o.from != NULL ? l->o.from :
	    tf->len > 0 ? tf->s : ec != NULL ? ec->from : NULL;

	if (spec == NULL)
		return nudge_errf(err, EX_USAGE, "no sender: give --from, a "
		    "From: in the template, or channels: email: from: in the "
		    "config");
	return nudge_mime_mailbox(spec, name, namelen, sl->from,
	    sizeof sl->from, err);
}

/* A built message (sl->msg): with --dry-run reported as rendered with
 * why (its size), else kept in the batch for the next claim. */
static int
keep(nudge_sender *s, struct nudge_sender_lane *l, struct slot *sl, long line,
    const char *text, int64_t cid, const char *why)
{
	int rc;

	/* counted in flight from now: the next lane's cap sees it (a dry
	 * run's too, to show what the cap would skip) */
	if (s->o->campaign == NULL &&
	    (rc = inflight_add(s, l, cid, 1)) != 0)
		return rc;
	if (s->o->dry_run) {
		char shown[400];

		s->stats->rendered++;
		if (l->col == 1) {
			s->stats->segments += sl->sc.segments;
			s->stats->tracked_segments += sl->tracked;
		}
		if (l->quiet[0] != '\0') {
			/* rendered all the same: a dry run shows what the
			 * messages will be, and which would wait now */
			s->stats->held++;
			nudge_strcpy(s->stats->quiet, sizeof s->stats->quiet,
			    l->quiet);
			snprintf(shown, sizeof shown, "%s; would be held: %s",
			    why, l->quiet);
			why = shown;
		}
		result(s, l, line, text, cid, "rendered", why);
		return 0;
	}
	if (nudge_strset(&sl->input, text) == -1)
		return nudge_errf(s->err, EX_OSERR, "out of memory");
	sl->line = line;
	sl->contact_id = cid;
	sl->lane = l;
	s->nslots++;
	if (l->col == 0)
		s->nemail++;
	return 0;
}

/* The text of an sms or push message of lane l into dst: the rendered
 * text part body without its trailing newlines and, for a marketing sms,
 * the config's STOP wording on a line of its own.  -1: out of memory. */
static int
msg_text(const struct nudge_sender_lane *l, const nudge_buf *body,
    nudge_buf *dst)
{
	const nudge_send_opts *o = &l->o;
	const nudge_http_cfg *h = NULL;
	size_t n = body->len;

	if (o->cfg != NULL)
		h = l->col == 1 ? &o->cfg->sms : &o->cfg->push;
	/* the text part ends with the template's last newline */
	while (n > 0 && (body->s[n - 1] == '\n' || body->s[n - 1] == '\r'))
		n--;
	nudge_buf_reset(dst);
	if (nudge_buf_add(dst, body->s != NULL ? body->s : "", n) == -1 ||
	    (l->col == 1 && h != NULL && h->stop_text != NULL &&
	    !o->transactional && (nudge_buf_putc(dst, '\n') == -1 ||
	    nudge_buf_puts(dst, h->stop_text) == -1)))
		return -1;
	return 0;
}

/* sms, push: the text (and title) r rendered for the contact of sl, for
 * its phone or push id, with the sender id and STOP wording of the
 * config, into sl; sl->why says what a dry run shows.  plain: an sms's
 * segments before link tracking rewrote it (0: not rewritten). */
static int
build_msg(const nudge_sender *s, const struct render *r, struct slot *sl,
    int plain)
{
	const struct nudge_sender_lane *l = sl->lane;
	const nudge_send_opts *o = &l->o;
	const nudge_buf *tf = &r->out.part[NUDGE_TPL_FROM];
	const nudge_buf *title = &r->out.part[NUDGE_TPL_TITLE];
	int sms = l->col == 1;
	const char *to, *sender = NULL;
	char *why = sl->why.msg;
	size_t whyn = sizeof sl->why.msg;

	/* take_line saw the phone or push id (l->col) is there */
	to = sl->c.vals.s + sl->c.off[l->col];
	nudge_strcpy(sl->to, sizeof sl->to, to);
	if (o->from != NULL)
		sender = o->from;
	else if (tf->len > 0)
		sender = tf->s;
	else if (sms && o->cfg != NULL)
		sender = nudge_config_sms_sender(o->cfg, to);
	nudge_strcpy(sl->from, sizeof sl->from, sender != NULL ? sender : "");
	nudge_buf_reset(&sl->title);
	if (msg_text(l, &r->out.part[NUDGE_TPL_TEXT], &sl->msg) == -1 ||
	    nudge_buf_add(&sl->title, title->s != NULL ? title->s : "",
	    title->len) == -1)
		return nudge_errf(&sl->why, EX_OSERR, "out of memory");
	memset(&sl->sc, 0, sizeof sl->sc);
	sl->tracked = 0;
	if (sms) {
		nudge_sms_measure(sl->msg.s, sl->msg.len, &sl->sc);
		if (plain > 0 && sl->sc.segments > plain)
			sl->tracked = sl->sc.segments - plain;
	}
	/* what a dry run reports: the segments as the text will leave,
	 * after link tracking, and what tracking added */
	why[0] = '\0';
	if (sms && s->o->dry_run && sl->tracked > 0)
		snprintf(why, whyn, "%d segments (%s, %zu %s; %d "
		    "without link tracking)", sl->sc.segments,
		    nudge_sms_encoding(&sl->sc), sl->sc.units,
		    sl->sc.ucs2 ? "UTF-16 units" : "septets", plain);
	else if (sms && s->o->dry_run)
		snprintf(why, whyn, "%d segment%s (%s, %zu %s)",
		    sl->sc.segments, sl->sc.segments > 1 ? "s" : "",
		    nudge_sms_encoding(&sl->sc), sl->sc.units,
		    sl->sc.ucs2 ? "UTF-16 units" : "septets");
	else if (s->o->dry_run)
		snprintf(why, whyn, "%zu bytes", sl->msg.len);
	return 0;
}

/* Hands one claimed sms or push message to the transport, the ledger key
 * as its idempotency key. */
static int
submit_msg(nudge_sender *s, struct slot *sl, struct pending *p)
{
	const struct nudge_sender_lane *l = sl->lane;
	nudge_transport_msg m = { 0 };
	char key[96];

	m.channel = l->o.channel;
	m.to = sl->to;
	m.from = sl->from[0] != '\0' ? sl->from : NULL;
	m.title = sl->title.len > 0 ? sl->title.s : NULL;
	m.key = nudge_ledger_key(key, sizeof key, l->campaign_id, l->o.step,
	    sl->contact_id);
	m.text = nudge_buf_str(&sl->msg);
	m.len = sl->msg.len;
	p->segments = sl->sc.segments;
	p->ucs2 = sl->sc.ucs2;
	p->tracked = sl->tracked;
	return nudge_transport_submit_msg(l->ch->t, &m, p, s->err);
}

/* Whether tracking rewrites the links of lane l's messages: the config
 * has tracking, the template does not say X-Nudge-Track: no, and for
 * sms the config does not say sms_links: no. */
static int
rewrites(const nudge_sender *s, const struct nudge_sender_lane *l)
{
	return s->r.links != NULL && nudge_tpl_track(l->tpl) && !(l->col == 1 &&
	    l->o.cfg != NULL && l->o.cfg->tracking.sms_untracked);
}

/* Tracking (links.c) by r, when the config has it: before rendering,
 * the {{unsubscribe_url}} of sl's contact; after, tracked links and the
 * open pixel unless the template says X-Nudge-Track: no. */
static int
track(const nudge_sender *s, struct render *r, struct slot *sl, int after)
{
	const struct nudge_sender_lane *l = sl->lane;
	struct contact *c = &sl->c;
	nudge_links_msg m = { l->campaign_id, l->o.step != NULL ?
	    l->o.step : "", sl->contact_id, l->o.now };

	if (r->links == NULL)
		return 0;
	if (!after) {
		c->unsub = NULL;
		if (nudge_links_unsub(r->links, &m, &r->unsub, &sl->why) != 0)
			return EX_OSERR;
		c->unsub = r->unsub.s;
		c->confirm = NULL;
		if (nudge_links_confirm(r->links, &m, &r->confirm,
		    &sl->why) != 0)
			return EX_OSERR;
		c->confirm = r->confirm.s;
		if (nudge_links_code(r->links, &m, r->code, &sl->why) != 0)
			return EX_SOFTWARE;
		c->code = r->code[0] != '\0' ? r->code : NULL;
		c->prefs = NULL;
		if (nudge_links_prefs(r->links, r->unsub.s, &r->prefs,
		    &sl->why) != 0)
			return EX_OSERR;
		c->prefs = r->prefs.s;
		return 0;
	}
	if (!rewrites(s, l))
		return 0;
	return nudge_links_rewrite(r->links, &m, &r->out, &sl->why);
}

/* Sets *left when contact cid's latest consent row for the topic (the
 * preference page's, signup.h) is not subscribed.  One indexed lookup
 * (consent_contact). */
static int
left_topic(nudge_sender *s, int64_t cid, const char *topic, int *left)
{
	char ch[300];
	int rc;

	*left = 0;
	snprintf(ch, sizeof ch, "topic:%s", topic);
	if (s->topic_q == NULL && sqlite3_prepare_v2(s->st->db, "SELECT"
	    " status <> 'subscribed' FROM consent WHERE contact_id = ?1 AND"
	    " channel = ?2 ORDER BY at DESC, id DESC LIMIT 1", -1, &s->topic_q,
	    NULL) != SQLITE_OK)
		return nudge_store_error(s->st, s->err, "consent");
	sqlite3_bind_int64(s->topic_q, 1, cid);
	sqlite3_bind_text(s->topic_q, 2, ch, -1, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(s->topic_q)) == SQLITE_ROW)
		*left = sqlite3_column_int(s->topic_q, 0);
	sqlite3_reset(s->topic_q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(s->st, s->err, "consent");
	return 0;
}

static int build(const nudge_sender *s, struct render *r, struct slot *sl);

/* Resolves, checks and renders one line of lane l (queues its rendering
 * for a render thread when the lane is apart); adds it to the batch or
 * reports why not.  Returns 0 (also when the line was skipped) or a
 * fatal code. */
static int
take_line(nudge_sender *s, struct nudge_sender_lane *l, long line, const char *text)
{
	const nudge_send_opts *o = &l->o;
	char reason[256];
	enum nudge_skip why;
	struct slot *sl;
	int64_t cid;
	nudge_err e;
	int rc;

	/* the reads of the lines between two waits share one read
	 * transaction (one WAL snapshot and lock, not one a statement);
	 * a write (claims, outcomes) ends it first */
	nudge_store_read(s->st);
	/* an id, as nudge segment prints them, needs no lookup (a prepared
	 * query per line): the policy says "no such contact" for a wrong
	 * one */
	if (nudge_contact_ref_kind(text) == NUDGE_REF_ID &&
	    nudge_parse_i64(text, &cid) == 0 && cid > 0)
		rc = 0;
	else
		rc = nudge_contact_find(s->st, text, o->cfg != NULL ?
		    o->cfg->default_country : NULL, &cid, &e);
	if (rc == EX_DATAERR || (rc == 0 && cid == 0)) {
		skipped(s, l, line, text, 0, rc != 0 ? NUDGE_SKIP_BAD_REF :
		    NUDGE_SKIP_NO_CONTACT, rc != 0 ? e.msg : "no such contact");
		return 0;
	}
	if (rc != 0) {
		*s->err = e;
		return rc;
	}
	if ((rc = nudge_policy_check(l->policy, cid, o->channel,
	    o->transactional, &why, reason, sizeof reason, s->err)) != 0)
		return rc;
	if (why != NUDGE_SKIP_NONE) {
		skipped(s, l, line, text, cid, why, reason);
		return 0;
	}
	if (o->topic != NULL) {
		int left;

		if ((rc = left_topic(s, cid, o->topic, &left)) != 0)
			return rc;
		if (left) {
			snprintf(reason, sizeof reason, "left the topic %s",
			    o->topic);
			skipped(s, l, line, text, cid, NUDGE_SKIP_UNSUBSCRIBED,
			    reason);
			return 0;
		}
	}
	if ((l->quiet[0] != '\0' && !s->o->dry_run) ||
	    (l->ch != NULL && l->ch->stop) || s->jfail) {
		/* after the policy, so that held means it will go: quiet
		 * hours (a rerun after them sends it; trigger offers it
		 * again), the channel's provider is down, or the journal
		 * cannot be written.  Held, not claimed.  A dry run renders
		 * it all the same (keep). */
		s->stats->held++;
		if (l->quiet[0] != '\0')
			nudge_strcpy(s->stats->quiet, sizeof s->stats->quiet,
			    l->quiet);
		result(s, l, line, text, cid, "held", l->quiet[0] != '\0' ?
		    l->quiet : s->jfail ? "not sent: the in-flight journal "
		    "cannot be written" : "not sent: the provider is down");
		return 0;
	}
	sl = &s->slots[s->nslots];
	if ((rc = load_contact(s, &sl->c, cid)) != 0)
		return rc;
	if (sl->c.off[l->col] < 0) {
		why = l->col == 0 ? NUDGE_SKIP_NO_EMAIL : l->col == 1 ?
		    NUDGE_SKIP_NO_PHONE : NUDGE_SKIP_NO_PUSH_ID;
		skipped(s, l, line, text, cid, why,
		    nudge_channels[l->col].no_address);
		return 0;
	}
	sl->lane = l;
	sl->contact_id = cid;
	sl->skip = NUDGE_SKIP_NONE;
	if (l->apart && !s->o->dry_run) {
		/* rendered by a render thread while this one reads the next
		 * contacts; settle() reports a skip when the batch is claimed */
		sl->state = SLOT_QUEUED;
		if ((rc = keep(s, l, sl, line, text, cid, "")) != 0)
			return rc;
		pthread_mutex_lock(&s->mu);
		s->qslot[s->end++] = s->nslots - 1;
		s->queued++;
		/* the render threads wake for a run of slots, not for each:
		 * a wake-up is a futex call and a thread switch */
		if (s->end - s->next >= WAKE)
			pthread_cond_broadcast(&s->more);
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	sl->state = SLOT_BUILT;
	if ((rc = build(s, &s->r, sl)) != 0) {
		if (sl->skip == NUDGE_SKIP_NONE) {
			*s->err = sl->why;
			return rc;
		}
		skipped(s, l, line, text, cid, sl->skip, sl->why.msg);
		return 0;
	}
	return keep(s, l, sl, line, text, cid, sl->why.msg);
}

/* Renders and builds the message of sl (its lane, contact id and
 * contact's fields set) with r: the tracking URLs, the template, a
 * variant's subject, tracked links, then MIME (email) or the text (sms,
 * push).  Touches only sl and r, and the store only through the lookups
 * of a lane that is not apart (latest.*, {{#if}}): a render thread runs
 * it for the slots queued.  Returns 0 (sl->why: what a dry run shows),
 * EX_DATAERR with sl->skip set (the line is skipped: sl->why says why),
 * or a fatal code (sl->why). */
static int
build(const nudge_sender *s, struct render *r, struct slot *sl)
{
	const struct nudge_sender_lane *l = sl->lane;
	const nudge_send_opts *o = &l->o;
	char name[256], key[96], toname[256], unsub[NUDGE_EMAIL_MAX + 40];
	nudge_mime_msg m = { 0 };
	nudge_tpl_env env;
	int rc, plain;

	sl->why.msg[0] = '\0';
	if ((rc = track(s, r, sl, 0)) != 0)
		return rc;
	sl->c.cond = l->cond;
	sl->c.entry = l->entry;
	sl->c.failed = 0;
	env.lookup = lookup;
	env.cond = cond;
	env.ctx = &sl->c;
	env.currency = o->cfg != NULL && o->cfg->currency[0] != '\0' ?
	    o->cfg->currency : NULL;
	env.tz = l->o.policy != NULL ? l->o.policy->quiet_tz : o->cfg != NULL ?
	    o->cfg->policy.quiet_tz : NULL;
	rc = nudge_tpl_render_env(l->tpl, &env, &r->out, &sl->why);
	if (rc == 0 && sl->c.failed)
		/* latest.*: only a lane that is not apart reads the store,
		 * on the caller's thread */
		return nudge_store_error(s->st, &sl->why, "read an event");
	if (rc != 0) {
		if (rc == EX_DATAERR)
			sl->skip = NUDGE_SKIP_TEMPLATE;
		return rc;
	}
	if (o->subject != NULL) {
		/* an A/B variant's subject, written as is */
		nudge_buf_reset(&r->out.part[NUDGE_TPL_SUBJECT]);
		if (nudge_buf_puts(&r->out.part[NUDGE_TPL_SUBJECT],
		    o->subject) == -1)
			return nudge_errf(&sl->why, EX_OSERR, "out of memory");
	}
	/* an sms measured before its links grow (when tracking rewrites
	 * them): a longer link may cost a segment, which the dry run and
	 * the summary tell */
	plain = 0;
	if (l->col == 1 && rewrites(s, l)) {
		nudge_sms_count sc;

		if (msg_text(l, &r->out.part[NUDGE_TPL_TEXT], &r->plain) == -1)
			return nudge_errf(&sl->why, EX_OSERR, "out of memory");
		nudge_sms_measure(r->plain.s, r->plain.len, &sc);
		plain = sc.segments;
	}
	/* tracked links in every channel's text, before either builder */
	if ((rc = track(s, r, sl, 1)) != 0)
		return rc;
	if (l->col != 0)
		return build_msg(s, r, sl, plain);
	if ((rc = pick_from(r, l, sl, name, sizeof name, &sl->why)) != 0)
		return rc;
	snprintf(sl->to, sizeof sl->to, "%s", sl->c.vals.s + sl->c.off[0]);
	snprintf(unsub, sizeof unsub, "mailto:%s?subject=unsubscribe",
	    sl->from);
	m.from_addr = sl->from;
	m.from_name = name[0] != '\0' ? name : NULL;
	m.to_addr = sl->to;
	m.to_name = NULL;
	if (sl->c.off[3] >= 0) {
		snprintf(toname, sizeof toname, "%s%s%s",
		    sl->c.vals.s + sl->c.off[3], sl->c.off[4] >= 0 ? " " : "",
		    sl->c.off[4] >= 0 ? sl->c.vals.s + sl->c.off[4] : "");
		m.to_name = toname;
	}
	m.reply_to = r->out.part[NUDGE_TPL_REPLY_TO].len > 0 ?
	    r->out.part[NUDGE_TPL_REPLY_TO].s : o->cfg != NULL ?
	    o->cfg->email.reply_to : NULL;
	m.subject = nudge_buf_str(&r->out.part[NUDGE_TPL_SUBJECT]);
	m.date = o->now;
	m.msgid_key = nudge_ledger_key(key, sizeof key, l->campaign_id,
	    o->step, sl->contact_id);
	m.text = nudge_buf_str(&r->out.part[NUDGE_TPL_TEXT]);
	m.text_len = r->out.part[NUDGE_TPL_TEXT].len;
	if (r->out.part[NUDGE_TPL_HTML].len > 0) {
		m.html = r->out.part[NUDGE_TPL_HTML].s;
		m.html_len = r->out.part[NUDGE_TPL_HTML].len;
	}
	if (r->out.part[NUDGE_TPL_PREHEADER].len > 0)
		m.preheader = r->out.part[NUDGE_TPL_PREHEADER].s;
	m.unsub_mailto = unsub;
	if (r->links != NULL && nudge_links_https(r->links))
		m.unsub_https = r->unsub.s;
	nudge_buf_reset(&sl->msg);
	if ((rc = nudge_mime_build(&m, &sl->msg, &sl->why)) != 0) {
		if (rc == EX_DATAERR)
			sl->skip = NUDGE_SKIP_MESSAGE;
		return rc;
	}
	snprintf(sl->why.msg, sizeof sl->why.msg, "%zu bytes", sl->msg.len);
	return 0;
}

const nudge_send_opts *
nudge_sender_lane_opts(const nudge_sender_lane *l)
{
	return &l->o;
}

int
nudge_sender_hold_out(nudge_sender *s, nudge_sender_lane *l, long line,
    const char *text, int64_t cid, int row, const char *why)
{
	enum nudge_claim got = NUDGE_CLAIM_WON;
	int64_t id;
	int rc;

	enum nudge_skip skip;
	char reason[256];

	s->stats->read++;
	if (!row) {
		s->stats->held++;
		result(s, l, line, text, cid, "held", why);
		return 0;
	}
	/* the policy first, as for the treated: a contact it would skip
	 * (no consent, excluded, capped) is in neither group, so that the
	 * two stay alike and the uplift compares like with like */
	nudge_store_read(s->st);
	if ((rc = nudge_policy_check(l->policy, cid, l->o.channel,
	    l->o.transactional, &skip, reason, sizeof reason, s->err)) != 0)
		return rc;
	if (skip != NUDGE_SKIP_NONE) {
		skipped(s, l, line, text, cid, skip, reason);
		return 0;
	}
	/* joins the open transaction of claims or outcomes, if one is */
	if (!s->o->dry_run && (rc = nudge_ledger_claim_as(s->ledger,
	    l->campaign_id, l->o.step, cid, l->o.channel, NULL, 1, 0,
	    l->o.now, &got, &id, s->err)) != 0)
		return rc;
	if (got != NUDGE_CLAIM_WON) {
		s->stats->duplicate++;
		result(s, l, line, text, cid, "duplicate", "already in the "
		    "ledger");
		return 0;
	}
	s->stats->held_out++;
	result(s, l, line, text, cid, "held-out", why);
	return 0;
}

/* Hands out the outcomes every open transport has ready, waiting up to
 * timeout_ms on one that has messages in flight: on the only one, or in
 * short turns over several, so that none waits on another's.  Waiting on
 * one, returns once want outcomes came (0: waits out timeout_ms unless
 * nothing is left): a thread switch for many outcomes, not one each. */
static int
poll_all(nudge_sender *s, int timeout_ms, size_t want)
{
	nudge_transport *busy[3];
	size_t i, n = 0;
	int rc;

	for (i = 0; i < 3; i++)
		if (s->ch[i].t != NULL && nudge_transport_pending(s->ch[i].t) >
		    0)
			busy[n++] = s->ch[i].t;
	/* no snapshot held while waiting */
	if (timeout_ms > 0)
		nudge_store_read_end(s->st);
	/* about to wait on the network: the outcomes kept for a while are
	 * written now, in a short transaction, so that a kill does not
	 * turn messages that arrived into `unknown` (a slow provider may
	 * take minutes to make OUTCOMES) */
	if (timeout_ms > 0 && s->ndone > 0 && s->rc == 0 &&
	    (s->ndone >= OUTCOMES / 2 || nudge_mono_ms() - s->done_at >=
	    OUTCOMES_AGE_MS)) {
		if (s->in_txn || (rc = nudge_store_begin(s->st, s->err)) == 0) {
			s->in_txn = 1;
			record_done(s, 1);
		} else if (rc != EX_TEMPFAIL) {
			return rc;
		}
	}
	for (i = 0; i < n; i++)
		if ((rc = nudge_transport_run(busy[i], n == 1 ? timeout_ms :
		    timeout_ms > 0 ? 2 : 0, n == 1 ? want : 1, on_delivery, s,
		    s->err)) != 0)
			return rc;
	return s->rc;
}

static void
contact_free(struct contact *c)
{
	nudge_buf_free(&c->vals);
	nudge_buf_free(&c->attrs);
	nudge_buf_free(&c->comp);
	free(c->coff);
}

static void
render_free(struct render *r)
{
	nudge_tpl_out_free(&r->out);
	nudge_links_close(r->links);
	nudge_buf_free(&r->unsub);
	nudge_buf_free(&r->confirm);
	nudge_buf_free(&r->prefs);
	nudge_buf_free(&r->plain);
}

/* A render thread: builds the queued slots, in the order queued, until
 * the run stops it. */
static void *
work(void *arg)
{
	struct worker *w = arg;
	nudge_sender *s = w->s;
	struct slot *sl;
	int rc;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->quit && s->next == s->end)
			pthread_cond_wait(&s->more, &s->mu);
		if (s->quit)
			break;
		sl = &s->slots[s->qslot[s->next++]];
		pthread_mutex_unlock(&s->mu);
		rc = build(s, &w->r, sl);
		sl->rc = rc;
		sl->state = rc == 0 ? SLOT_BUILT : sl->skip != NUDGE_SKIP_NONE ?
		    SLOT_SKIP : SLOT_FAIL;
		pthread_mutex_lock(&s->mu);
		if (--s->queued == 0)
			pthread_cond_signal(&s->built);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Starts the render threads, one per core online (at most WORKERS_MAX),
 * each with its own copy of the link rewriter.  Rendering and MIME are
 * most of what a message costs the caller's thread, which keeps the
 * store (claims, outcomes, events) and the journal to itself.  Errors:
 * EX_OSERR. */
static int
workers_start(nudge_sender *s, nudge_err *err)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i;
	int rc;

	if (n < 1)
		n = 1;
	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	if ((s->w = calloc((size_t)n, sizeof *s->w)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	for (i = 0; i < (size_t)n; i++) {
		s->w[i].s = s;
		if ((rc = nudge_links_clone(s->r.links, &s->w[i].r.links,
		    err)) != 0)
			return rc;
		if (pthread_create(&s->w[i].th, NULL, work, &s->w[i]) != 0) {
			render_free(&s->w[i].r);
			return nudge_errf(err, EX_OSERR, "cannot start a render "
			    "thread: %s", strerror(errno));
		}
		s->nw++;
	}
	return 0;
}

/* Stops and joins the render threads (a slot being built is finished
 * first; those still queued are left: the run is over). */
static void
workers_stop(nudge_sender *s)
{
	size_t i;

	if (s->w == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	pthread_cond_broadcast(&s->more);
	pthread_mutex_unlock(&s->mu);
	for (i = 0; i < s->nw; i++) {
		pthread_join(s->w[i].th, NULL);
		render_free(&s->w[i].r);
	}
	free(s->w);
	s->w = NULL;
	s->nw = 0;
}

/* Waits until every queued slot of the batch is built, then reports the
 * lines the render threads skipped, in the batch's order, and takes
 * them out of it.  Returns 0 or the first fatal code of a build. */
static int
settle(nudge_sender *s)
{
	struct slot tmp;
	size_t i, j;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (s->next < s->end)
		pthread_cond_broadcast(&s->more);
	while (s->queued > 0)
		pthread_cond_wait(&s->built, &s->mu);
	s->next = s->end = 0;
	pthread_mutex_unlock(&s->mu);
	for (i = j = 0; i < s->nslots; i++) {
		struct slot *sl = &s->slots[i];

		if (sl->state == SLOT_FAIL && rc == 0) {
			*s->err = sl->why;
			rc = sl->rc;
		}
		if (sl->state == SLOT_SKIP || sl->state == SLOT_FAIL) {
			/* keep() counted it in flight and in the batch */
			if (s->o->campaign == NULL)
				inflight_add(s, sl->lane, sl->contact_id, -1);
			if (sl->lane->col == 0)
				s->nemail--;
			if (sl->state == SLOT_SKIP)
				skipped(s, sl->lane, sl->line, sl->input,
				    sl->contact_id, sl->skip, sl->why.msg);
			continue;
		}
		if (i != j) {
			tmp = s->slots[j];
			s->slots[j] = *sl;
			*sl = tmp;
		}
		j++;
	}
	s->nslots = j;
	return rc;
}

/* Claims the batch in one transaction, then hands what it won to the
 * transports: nothing leaves before its claim is on disk. */
static int
flush_batch(nudge_sender *s)
{
	enum nudge_claim claim[BATCH_HTTP];
	int64_t ids[BATCH_HTTP];
	size_t i;
	int rc = 0;

	if ((rc = settle(s)) != 0)
		return rc;
	if (s->nslots == 0)
		return 0;
	/* the outcomes recorded since the last commit ride in the claims'
	 * transaction: one commit (one fsync, one write of each page) for
	 * both.  Should a claim fail, they roll back with it and those
	 * messages are found `unknown` next time: never sent twice. */
	record_done(s, 0);
	if (!s->in_txn && (rc = nudge_store_begin(s->st, s->err)) != 0)
		return rc;
	s->in_txn = 0;
	s->outcomes = 0;
	for (i = 0; i < s->nslots; i++) {
		const struct nudge_sender_lane *l = s->slots[i].lane;

		if ((rc = nudge_ledger_claim_as(s->ledger, l->campaign_id,
		    l->o.step, s->slots[i].contact_id, l->o.channel,
		    l->o.variant, 0, l->o.resend_unknown, l->o.now, &claim[i],
		    &ids[i], s->err)) != 0) {
			nudge_store_rollback(s->st);
			return rc;
		}
	}
	if ((rc = nudge_store_commit(s->st, s->err)) != 0)
		return rc;
	for (i = 0; i < s->nslots && rc == 0; i++) {
		struct slot *sl = &s->slots[i];
		struct nudge_sender_lane *l = sl->lane;
		struct pending *p;

		if (claim[i] != NUDGE_CLAIM_WON)
			inflight_add(s, l, sl->contact_id, -1);
		if ((s->rc != 0 || s->jfail || l->ch->stop) &&
		    claim[i] == NUDGE_CLAIM_WON) {
			/* the run is stopping (credentials, a command that
			 * cannot run), or this channel's provider is down:
			 * what did not leave is given back */
			nudge_err e;

			inflight_add(s, l, sl->contact_id, -1);
			if (nudge_ledger_release(s->ledger, ids[i], &e) == 0) {
				s->stats->held++;
				result(s, l, sl->line, sl->input,
				    sl->contact_id, "held", s->rc != 0 ?
				    "not sent: the run stopped" :
				    "not sent: the provider is down");
			}
			continue;
		}
		if (claim[i] == NUDGE_CLAIM_DONE) {
			s->stats->duplicate++;
			result(s, l, sl->line, sl->input, sl->contact_id,
			    "duplicate", "already in the ledger");
			continue;
		}
		if (claim[i] == NUDGE_CLAIM_UNKNOWN) {
			s->stats->unknown++;
			result(s, l, sl->line, sl->input, sl->contact_id,
			    "unknown", "an earlier send lost its outcome (it may "
			    "have arrived); --resend-unknown sends it again");
			continue;
		}
		if ((p = malloc(sizeof *p + strlen(sl->input) + 1)) == NULL)
			return nudge_errf(s->err, EX_OSERR, "out of memory");
		p->line = sl->line;
		p->contact_id = sl->contact_id;
		p->ledger_id = ids[i];
		p->lane = l;
		p->segments = p->ucs2 = 0;
		strcpy(p->input, sl->input);
		p->prev = NULL;
		if ((p->next = s->live) != NULL)
			p->next->prev = p;
		s->live = p;
		if ((rc = l->col == 0 ? nudge_transport_submit(l->ch->t,
		    sl->from, sl->to, sl->msg.s, sl->msg.len, p, s->err) :
		    submit_msg(s, sl, p)) != 0) {
			pending_drop(s, p);
			return rc;
		}
		/* hand out what is done (exec: and file:// finish in submit)
		 * so that a stop is seen before the next message goes */
		rc = nudge_transport_run(l->ch->t, 0, 0, on_delivery, s,
		    s->err);
		/* a full window: wait for room for a run of messages, not
		 * for each one */
		while (rc == 0 && s->rc == 0 && !l->ch->stop &&
		    nudge_transport_pending(l->ch->t) > l->ch->window)
			rc = poll_all(s, 5, nudge_transport_pending(l->ch->t) -
			    l->ch->window + (l->ch->window / 4 < ROOM ?
			    l->ch->window / 4 + 1 : ROOM));
	}
	s->nslots = 0;
	s->nemail = 0;
	if (rc == 0)
		rc = poll_all(s, 0, 0);
	return rc != 0 ? rc : s->rc;
}

/* The transport's on_start: journals the ledger ids of the messages
 * about to start, in one write (from the network thread; the pendings
 * are not touched by the caller's thread until their outcomes come
 * back).  -1 when the journal cannot be written: they may not start. */
static int
started(void *arg, void *const *cookies, size_t n)
{
	int64_t ids[64];
	size_t i, k;

	for (i = 0; i < n; i += k) {
		for (k = 0; k < 64 && i + k < n; k++)
			ids[k] = ((const struct pending *)cookies[i + k])->
			    ledger_id;
		if (nudge_journal_add(arg, ids, k) != 0)
			return -1;
	}
	return 0;
}

/* The transport's on_done: journals outcome d as soon as it is known,
 * as record_one will record it (from the network thread, as started),
 * so that a kill before the run writes it to the store leaves the next
 * run's recovery the outcome, not an `unknown`. */
static void
finished(void *arg, const nudge_delivery *d)
{
	const struct pending *p = d->cookie;
	nudge_journal_outcome o;
	struct verdict v;

	judge(p, d, &v);
	o.id = p->ledger_id;
	o.back = v.back;
	o.out = v.out;
	o.attempts = d->attempts > 1 ? d->attempts : 1;
	o.props = v.props[0] != '\0' ? v.props : NULL;
	o.detail = v.detail;
	nudge_journal_done(arg, &o);
}

/* sms, push: the provider profile and account of channels: sms: (or
 * push:), or an exec: or file:// transport. */
static int
open_http(nudge_sender *s, const nudge_send_opts *o, struct chan *ch)
{
	int sms = strcmp(o->channel, "sms") == 0;
	const nudge_http_cfg *h = o->cfg == NULL ? NULL : sms ? &o->cfg->sms :
	    &o->cfg->push;
	const char *url = o->transport != NULL ? o->transport : h != NULL ?
	    h->url : NULL;
	nudge_transport_opts to = { 0 };
	char *secret = NULL;
	int rc;

	if (url != NULL && strncmp(url, "http", 4) != 0 &&
	    strncmp(url, "exec:", 5) != 0 && strncmp(url, "file://", 7) != 0)
		return nudge_errf(s->err, EX_USAGE, "%s goes through a provider "
		    "(http:// or https://), exec:COMMAND or file:///dir, not "
		    "%.*s", o->channel, (int)strcspn(url, ":"), url);
	if (url == NULL || strncmp(url, "http", 4) == 0) {
		if (h == NULL || h->provider == NULL)
			return nudge_errf(s->err, EX_USAGE, "no %s provider: "
			    "give channels: %s: provider: in the config, or "
			    "--transport exec:COMMAND or file:///dir",
			    o->channel, o->channel);
		if ((rc = nudge_provider_find(h->provider, &ch->prov,
		    s->err)) != 0)
			return rc;
		if (strcmp(ch->prov->channel, o->channel) != 0 &&
		    strcmp(ch->prov->channel, "any") != 0)
			return nudge_errf(s->err, EX_USAGE, "provider %s sends "
			    "%s, not %s", ch->prov->name, ch->prov->channel,
			    o->channel);
		if ((rc = nudge_config_secret(o->cfg, sms ? NUDGE_SECRET_SMS :
		    NUDGE_SECRET_PUSH, &secret, s->err)) != 0)
			return rc;
		rc = nudge_provider_bind(ch->prov, h->user, secret, url, s->err);
		nudge_config_secret_free(secret);
		if (rc != 0)
			return rc;
		to.provider = ch->prov;
		url = ch->prov->base;
	}
	to.parallel = o->parallel > 0 ? o->parallel : h != NULL &&
	    h->parallel > 0 ? h->parallel : ch->prov != NULL &&
	    ch->prov->parallel > 0 ? ch->prov->parallel : 4;
	to.rate = o->rate > 0 ? o->rate : h != NULL && h->rate > 0 ? h->rate :
	    ch->prov != NULL ? ch->prov->rate : 0;
	to.burst = h != NULL && h->burst > 0 ? h->burst : ch->prov != NULL ?
	    ch->prov->burst : 0;
	to.max_retries = h != NULL && h->max_retries >= 0 ? h->max_retries :
	    3;
	to.retry_base_ms = h != NULL ? h->backoff_ms : 0;
	to.breaker = h != NULL ? h->breaker : 0;
	to.retry_budget = h != NULL ? h->retry_budget : 0;
	to.timeout_ms = h != NULL ? h->timeout_ms : 0;
	to.allow_plaintext = h != NULL ? h->allow_plaintext : 0;
	to.nosync = o->file_nosync;
	if (s->journal != NULL) {
		to.on_start = started;
		to.start_arg = s->journal;
		to.on_done = finished;
		to.done_arg = s->journal;
	}
	/* the network loop runs in its own thread: a deep window keeps it
	 * fed while this one writes the store */
	ch->window = 64 * (size_t)to.parallel;
	return nudge_transport_open(&ch->t, url, &to, s->err);
}

/* The transport of lane l's channel, opened at the channel's first
 * lane with that lane's options (--transport, --parallel, --rate apply
 * to every lane of the channel). */
static int
open_chan(nudge_sender *s, const nudge_send_opts *o, struct chan *ch)
{
	const nudge_email_cfg *ec = o->cfg != NULL ? &o->cfg->email : NULL;
	nudge_transport_opts to = { 0 };
	const char *url = o->transport;
	char *password = NULL;
	int rc;

	if (ch->t != NULL)
		return 0;
	if (strcmp(o->channel, "email") != 0)
		return open_http(s, o, ch);
	if (url == NULL && ec != NULL)
		url = ec->url;
	if (url == NULL)
		return nudge_errf(s->err, EX_USAGE, "no transport: give "
		    "--transport smtp://host:port or file:///dir, or channels: "
		    "email: url: in the config");
	to.parallel = o->parallel > 0 ? o->parallel : ec != NULL &&
	    ec->parallel > 0 ? ec->parallel : 1;
	to.rate = o->rate > 0 ? o->rate : ec != NULL ? ec->rate : 0;
	to.max_retries = ec != NULL && ec->max_retries >= 0 ?
	    ec->max_retries : 3;
	to.retry_base_ms = ec != NULL ? ec->backoff_ms : 0;
	to.nosync = o->file_nosync;
	to.max_sender_side = o->cfg != NULL ? o->cfg->bounces.max_sender :
	    NUDGE_BOUNCE_MAX_SENDER;
	if (s->journal != NULL) {
		to.on_start = started;
		to.start_arg = s->journal;
		to.on_done = finished;
		to.done_arg = s->journal;
	}
	if (ec != NULL) {
		to.allow_plaintext = ec->allow_plaintext;
		to.require_tls = ec->require_tls;
		to.ca_file = ec->tls_ca_file;
		to.timeout_ms = ec->timeout_ms;
		to.username = ec->username;
		if (ec->username != NULL && (rc = nudge_config_secret(o->cfg,
		    NUDGE_SECRET_EMAIL_PASSWORD, &password, s->err)) != 0)
			return rc;
		to.password = password;
	}
	rc = nudge_transport_open(&ch->t, url, &to, s->err);
	nudge_config_secret_free(password);
	/* the loop runs in its own thread: a deep window keeps it busy
	 * while this thread renders and writes the store */
	ch->window = 64 * (size_t)to.parallel;
	return rc;
}

int
nudge_sender_open(nudge_sender **out, nudge_store *st,
    const nudge_send_opts *o, nudge_send_stats *stats, nudge_err *err)
{
	nudge_sender *s;
	nudge_err je;
	long lost = 0;
	int rc, i;

	*out = NULL;
	memset(stats, 0, sizeof *stats);
	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->done = malloc(OUTCOMES * sizeof *s->done)) == NULL) {
		free(s);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	s->st = st;
	s->o = o;
	s->stats = stats;
	s->err = err;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->more, NULL);
	pthread_cond_init(&s->built, NULL);
	for (i = 0; i < 3; i++) {
		s->ch[i].name = nudge_channels[i].name;
		s->ch[i].tail = &s->ch[i].head;
	}
	if ((rc = nudge_links_open(&s->r.links, o->cfg, err)) != 0 ||
	    (rc = nudge_event_writer_open(&s->ew, st, o->now, err)) != 0 ||
	    (rc = contact_query(s, err)) != 0 ||
	    (rc = nudge_store_prepare(st, &s->get_attrs, "SELECT key, value"
	    " FROM json_each(?)", err)) != 0 ||
	    (rc = nudge_evdata_open(&s->c.ev, st, err)) != 0)
		goto fail;
	if (!o->dry_run) {
		/* claims, outcomes and events touch index pages all over a
		 * big store: 32 MB of cache instead of 2 saves the rereads;
		 * the event writers count the events, not the trigger (more
		 * than half of a sent event's cost: store.h) */
		if ((rc = nudge_store_exec(st, "PRAGMA cache_size = -32768",
		    err)) != 0 ||
		    (rc = nudge_store_own_counts(st, 1, err)) != 0 ||
		    (rc = nudge_ledger_open(&s->ledger, st, err)) != 0 ||
		    (rc = nudge_ledger_recover(s->ledger, o->now, 0, NULL, NULL,
		    &lost, err)) != 0)
			goto fail;
		stats->recovered = lost;
		stats->given_back = nudge_ledger_given_back(s->ledger);
		stats->journalled = nudge_ledger_journalled(s->ledger);
		/* Without a boot id to trust a journal by, a kill leaves
		 * every claim `unknown`, as it would anyway.  A journal that
		 * cannot be written (a full disk) stops the run before any
		 * claim: a kill would leave all of them `unknown`. */
		if ((rc = nudge_journal_open(&s->journal, st->path,
		    nudge_ledger_me(s->ledger), &je)) == EX_OSERR)
			s->journal = NULL;
		else if (rc != 0) {
			*err = je;
			goto fail;
		}
		if ((rc = workers_start(s, err)) != 0)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	nudge_sender_close(s);
	return rc;
}

static int
campaign_id(nudge_sender *s, struct nudge_sender_lane *l)
{
	sqlite3_stmt *q;
	int rc;

	if (!l->o.dry_run)
		return nudge_event_campaign_id(s->ew, l->o.campaign,
		    &l->campaign_id, s->err);
	/* a dry run creates nothing: an unknown campaign is 0 */
	if ((rc = nudge_store_prepare(s->st, &q, "SELECT id FROM campaigns "
	    "WHERE name = ?", s->err)) != 0)
		return rc;
	sqlite3_bind_text(q, 1, l->o.campaign, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		l->campaign_id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return 0;
}

/* nudge_tpl_each_field: a latest.TYPE.PATH reads the store. */
static int
reads_events(void *arg, const char *name, int has_def, const char *where)
{
	(void)arg;
	(void)has_def;
	(void)where;
	return strncmp(name, "latest.", 7) == 0 ||
	    strncmp(name, "event.", 6) == 0;
}

/* Whether lane l's messages may render on a render thread: its template
 * reads nothing from the store while it renders (no latest.*, event.*
 * or {{#if}}: those read through the caller's connection) and gains
 * from threads (nudge_tpl_threadsafe). */
static int
apart_ok(const struct nudge_sender_lane *l)
{
	return l->cond == NULL && nudge_tpl_threadsafe(l->tpl) &&
	    nudge_tpl_each_field(l->tpl, reads_events, NULL) == 0;
}

static void
lane_free(struct nudge_sender_lane *l)
{
	if (l->own_step != NULL) {
		/* an instance: the rest is its parent's */
		free(l->own_step);
		free(l);
		return;
	}
	nudge_tpl_free(l->tpl);
	nudge_tplcond_free(l->cond);
	nudge_policy_close(l->policy);
	free(l);
}

int
nudge_sender_add_lane(nudge_sender *s, const nudge_send_opts *lo,
    struct nudge_sender_lane **out, nudge_err *err)
{
	const nudge_policy_cfg *pc;
	struct nudge_sender_lane *l;
	int rc;

	*out = NULL;
	nudge_store_read_end(s->st);	/* a lane may write its campaign */
	if (lo->campaign == NULL || *lo->campaign == '\0')
		return nudge_errf(err, EX_USAGE, "no campaign: give --campaign "
		    "NAME");
	if (nudge_channel_find(lo->channel) == NULL)
		return nudge_errf(err, EX_USAGE, "channel %s: expected email, "
		    "sms or push", lo->channel != NULL ? lo->channel : "(none)");
	if (lo->template_path == NULL)
		return nudge_errf(err, EX_USAGE, "no template: give --template "
		    "FILE");
	if ((l = calloc(1, sizeof *l)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	l->o = *lo;
	if (lo->policy != NULL) {
		l->pol = *lo->policy;
		l->o.policy = &l->pol;
	}
	pc = l->o.policy != NULL ? l->o.policy : lo->cfg != NULL ?
	    &lo->cfg->policy : NULL;
	l->col = (int)nudge_channel_find(lo->channel)->id;
	l->ch = &s->ch[l->col];
	if ((rc = nudge_tpl_load(lo->template_path, &l->tpl, err)) != 0 ||
	    (rc = nudge_contact_tpl_check(s->st, l->tpl, lo->entry_on,
	    err)) != 0 ||
	    (rc = use_computed(s, l->tpl, err)) != 0 ||
	    (rc = nudge_tplcond_open(&l->cond, s->st, l->tpl, lo->now,
	    err)) != 0)
		goto fail;
	if (l->col != 0) {
		if (!(nudge_tpl_parts(l->tpl) & (1u << NUDGE_TPL_TEXT))) {
			rc = nudge_errf(err, EX_DATAERR, "%s: no text",
			    lo->template_path);
			goto fail;
		}
	} else if (!(nudge_tpl_parts(l->tpl) & (1u << NUDGE_TPL_SUBJECT))) {
		rc = nudge_errf(err, EX_DATAERR, "%s: no Subject: line",
		    lo->template_path);
		goto fail;
	}
	if ((rc = campaign_id(s, l)) != 0 ||
	    (rc = nudge_policy_open(&l->policy, s->st, pc, lo->now,
	    err)) != 0)
		goto fail;
	if (s->o->campaign == NULL)
		nudge_policy_inflight(l->policy, inflight_count, s);
	if (!lo->transactional && (rc = nudge_policy_quiet(pc, lo->now,
	    l->quiet, sizeof l->quiet, err)) != 0)
		goto fail;
	if (!lo->dry_run && (rc = open_chan(s, &l->o, l->ch)) != 0)
		goto fail;
	l->apart = s->w != NULL && apart_ok(l);
	l->next = s->lanes;
	s->lanes = l;
	*out = l;
	return 0;
fail:
	lane_free(l);
	return rc;
}

int
nudge_sender_add_instance(nudge_sender *s, const nudge_sender_lane *parent,
    const char *step, int64_t entry, nudge_sender_lane **out,
    nudge_err *err)
{
	struct nudge_sender_lane *l;

	*out = NULL;
	if ((l = malloc(sizeof *l)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	*l = *parent;
	if ((l->own_step = strdup(step)) == NULL) {
		free(l);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	l->o.step = l->own_step;
	l->entry = entry;
	l->next = s->lanes;
	s->lanes = l;
	*out = l;
	return 0;
}

/* Whether lane l's channel has a full window: its lines wait. */
static int
full(const struct nudge_sender_lane *l)
{
	const struct chan *ch = l->ch;

	return ch->t != NULL && !ch->stop && (ch->head != NULL ||
	    nudge_transport_pending(ch->t) > ch->window);
}

/* Takes one line, batches it and claims a full batch. */
static int
take(nudge_sender *s, struct nudge_sender_lane *l, long line, const char *text)
{
	int rc;

	if ((rc = take_line(s, l, line, text)) != 0)
		return rc;
	if (s->nslots == BATCH_HTTP || s->nemail == BATCH)
		return flush_batch(s);
	return 0;
}

/* Takes the waiting lines of every channel whose window has room. */
static int
pump(nudge_sender *s)
{
	struct waiting *w;
	struct chan *ch;
	size_t i;
	int rc;

	for (i = 0; i < 3; i++) {
		ch = &s->ch[i];
		while ((w = ch->head) != NULL && (ch->stop || ch->t == NULL ||
		    nudge_transport_pending(ch->t) <= ch->window)) {
			if ((ch->head = w->next) == NULL)
				ch->tail = &ch->head;
			ch->nwait--;
			s->nwait--;
			rc = take(s, w->lane, w->line, w->text);
			free(w);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

int
nudge_sender_take(nudge_sender *s, struct nudge_sender_lane *l, long line,
    const char *text)
{
	struct waiting *w;
	size_t n;
	int rc;

	if (*text == '\0')
		return 0;
	s->stats->read++;
	if (!full(l)) {
		if ((rc = take(s, l, line, text)) != 0)
			return rc;
	} else {
		/* its channel is busy: the line waits, and the lines of the
		 * other channels behind it go on */
		n = strlen(text);
		if ((w = malloc(sizeof *w + n + 1)) == NULL)
			return nudge_errf(s->err, EX_OSERR, "out of memory");
		w->next = NULL;
		w->lane = l;
		w->line = line;
		memcpy(w->text, text, n + 1);
		*l->ch->tail = w;
		l->ch->tail = &w->next;
		l->ch->nwait++;
		s->nwait++;
	}
	/* keep the connections busy while the next batch renders: without
	 * this they idle for a whole batch's rendering */
	if ((rc = poll_all(s, 0, 0)) != 0 || (rc = pump(s)) != 0)
		return rc;
	while (s->nwait >= WAIT_MAX)
		if ((rc = poll_all(s, 5, ROOM)) != 0 || (rc = pump(s)) != 0)
			return rc;
	return 0;
}

int
nudge_sender_finish(nudge_sender *s)
{
	size_t i;
	int rc;

	nudge_store_read_end(s->st);
	for (;;) {
		if ((rc = pump(s)) != 0 || (rc = flush_batch(s)) != 0)
			return rc;
		if (s->nwait == 0)
			break;
		if ((rc = poll_all(s, 100, ROOM)) != 0)
			return rc;
	}
	/* the last outcomes, written as they come in (poll_all) */
	for (;;) {
		for (i = 0; i < 3; i++)
			if (s->ch[i].t != NULL &&
			    nudge_transport_pending(s->ch[i].t) > 0)
				break;
		if (i == 3)
			break;
		if ((rc = poll_all(s, 100, ROOM)) != 0)
			return rc;
	}
	for (i = 0; i < 3; i++)
		if (s->ch[i].t != NULL && (rc = nudge_transport_drain(s->ch[i].t,
		    on_delivery, s, s->err)) != 0)
			return rc;
	record_done(s, 0);
	if (s->rc != 0)
		return s->rc;
	if ((rc = commit_outcomes(s)) != 0)
		return rc;
	/* every claim of the run has its outcome: nothing left to tell */
	s->clean = 1;
	if (s->jfail)
		return nudge_errf(s->err, EX_IOERR, "%s: the run stopped, no "
		    "message starts unless its start is journalled; those not "
		    "sent are held", nudge_journal_error(s->journal));
	for (i = 0; i < 3; i++)
		if (s->ch[i].stop)
			return nudge_errf(s->err, s->ch[i].stop, "%s",
			    s->ch[i].why);
	return 0;
}

void
nudge_sender_close(nudge_sender *s)
{
	struct waiting *w;
	struct nudge_sender_lane *l;
	size_t i;

	if (s == NULL)
		return;
	workers_stop(s);
	nudge_store_read_end(s->st);
	/* a run stopped by a delivery (credentials, TLS): its transport
	 * hands back the rest at once (not sent: claims given back) or as
	 * the transfers under way end, so that none is left claimed */
	if (s->stopped != NULL && s->stopped->t != NULL)
		nudge_transport_drain(s->stopped->t, on_delivery, s, NULL);
	if (s->ndone > 0)
		record_done(s, 0);
	if (s->in_txn)
		nudge_store_commit(s->st, NULL);
	if (s->st->own_counts)
		(void)nudge_store_own_counts(s->st, 0, NULL);
	free(s->done);
	for (i = 0; i < 3; i++) {
		nudge_transport_close(s->ch[i].t);
		nudge_provider_free(s->ch[i].prov);
	}
	/* a run that stopped early: the transports dropped these */
	while (s->live != NULL)
		pending_drop(s, s->live);
	/* after the network threads are joined; kept when the run did not
	 * finish: its claims left `claimed` are then told apart by the next
	 * run's recovery */
	nudge_journal_close(s->journal, s->clean);
	for (i = 0; i < 3; i++) {
		while ((w = s->ch[i].head) != NULL) {
			s->ch[i].head = w->next;
			free(w);
		}
	}
	while ((l = s->lanes) != NULL) {
		s->lanes = l->next;
		lane_free(l);
	}
	for (i = 0; i < BATCH_HTTP; i++) {
		free(s->slots[i].input);
		nudge_buf_free(&s->slots[i].msg);
		nudge_buf_free(&s->slots[i].title);
		contact_free(&s->slots[i].c);
	}
	contact_free(&s->c);
	free(s->c.cuse);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->more);
	pthread_cond_destroy(&s->built);
	sqlite3_finalize(s->get_contact);
	nudge_seg_free(&s->contact_q);
	sqlite3_finalize(s->get_attrs);
	sqlite3_finalize(s->topic_q);
	nudge_evdata_free(s->c.ev);
	nudge_ledger_close(s->ledger);
	nudge_event_writer_close(s->ew);
	render_free(&s->r);
	free(s->fl.id);
	free(s->fl.n);
	free(s);
}
