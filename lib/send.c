/* send: a blast over email, claim before send, outcome after. */
#include "send.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contact.h"
#include "event.h"
#include "ledger.h"
#include "links.h"
#include "mime.h"
#include "policy.h"
#include "provider.h"
#include "sms.h"
#include "template.h"
#include "transport.h"

/* Messages claimed in one transaction: one fsync for this many (email);
 * sms and push, many more for as much work, claim BATCH_HTTP. */
#define BATCH 64
#define BATCH_HTTP 256
/* Outcomes recorded in one transaction at the most. */
#define OUTCOMES 256

/* The contact being rendered, as the template's lookup sees it. */
struct contact {
	int64_t id;
	char idtext[24];
	nudge_buf vals;       /* field values, each NUL-terminated */
	long off[5];          /* email, phone, push_id, first_name,
				 last_name in vals, or -1 */
	nudge_buf attrs;      /* key \0 value \0 ... */
	size_t nattrs;
	const char *unsub;    /* {{unsubscribe_url}}, or NULL */
};

static const char *const fields[5] = { "email", "phone", "push_id",
	"first_name", "last_name" };

/* A message of the batch being claimed. */
struct slot {
	long line;
	char *input;
	int64_t contact_id;
	char from[NUDGE_EMAIL_MAX + 1], to[NUDGE_EMAIL_MAX + 1];
	nudge_buf msg;
	nudge_buf title;        /* push */
	nudge_sms_count sc;     /* sms */
};

/* What the transport carries back to us with each outcome. */
struct pending {
	long line;
	int64_t contact_id, ledger_id;
	int segments;           /* sms; else 0 */
	int ucs2;
	struct pending *prev, *next; /* sender.live */
	char input[];
};

struct sender {
	struct pending *live;   /* submitted, outcome not yet handed out */
	nudge_store *st;
	const nudge_send_opts *o;
	nudge_send_stats *stats;
	nudge_err *err;
	nudge_ledger *ledger;
	nudge_policy *policy;
	nudge_event_writer *ew;
	nudge_tpl *tpl;
	nudge_tpl_out out;
	nudge_links *links;     /* tracking (links.c), or NULL */
	nudge_buf unsub;        /* this message's unsubscribe URL */
	nudge_transport *t;
	size_t window;
	int64_t campaign_id;
	const char *from_spec;  /* --from or the config's, or NULL */
	const char *reply_to;
	sqlite3_stmt *get_contact, *get_attrs;
	struct contact c;
	struct slot slots[BATCH_HTTP];
	size_t nslots, batch;
	int in_txn;             /* outcomes being recorded */
	long outcomes;          /* in the open transaction */
	int rc;                 /* a store error in a delivery callback */
	int stop;               /* EX_TEMPFAIL: the circuit breaker opened;
				   read no more lines, record what ends */
	nudge_provider *prov;   /* sms, push over http(s) */
	int col;                /* the recipient's field: 0 email, 1 phone,
				   2 push_id */
	char quiet[128];        /* why messages are held now, or "" */
};

static void
result(struct sender *s, long line, const char *input, int64_t cid,
    const char *status, const char *detail)
{
	nudge_send_result r = { line, input, cid, status, detail,
		s->o->step != NULL ? s->o->campaign : NULL, s->o->step };

	if (s->o->on_result != NULL)
		s->o->on_result(s->o->arg, &r);
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
	for (i = 0; i < 5; i++) {
		if (strcmp(name, fields[i]) != 0)
			continue;
		if (c->off[i] < 0)
			return NULL;
		p = c->vals.s + c->off[i];
		*len = strlen(p);
		return p;
	}
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

/* Loads contact id's fields and attrs for the template. */
static int
load_contact(struct sender *s, int64_t id)
{
	struct contact *c = &s->c;
	const unsigned char *attrs = NULL;
	size_t i;
	int rc;

	c->id = id;
	snprintf(c->idtext, sizeof c->idtext, "%lld", (long long)id);
	nudge_buf_reset(&c->vals);
	nudge_buf_reset(&c->attrs);
	c->nattrs = 0;
	sqlite3_bind_int64(s->get_contact, 1, id);
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
commit_outcomes(struct sender *s)
{
	int rc;

	if (!s->in_txn)
		return 0;
	s->in_txn = 0;
	s->outcomes = 0;
	if ((rc = nudge_store_commit(s->st, s->err)) != 0)
		return rc;
	return 0;
}

/* A message that surely did not leave (held by a stopping run, refused
 * to the end): its claim is given back, so that a rerun sends it, and
 * its line reported with status and detail. */
/* Frees p, unlinking it from s->live. */
static void
pending_drop(struct sender *s, struct pending *p)
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
give_back(struct sender *s, struct pending *p, const char *status,
    const char *detail)
{
	nudge_err e;
	int rc;

	if ((rc = nudge_ledger_release(s->ledger, p->ledger_id, &e)) != 0 &&
	    s->rc == 0) {
		s->rc = rc;
		*s->err = e;
	}
	result(s, p->line, p->input, p->contact_id, status, detail);
	pending_drop(s, p);
}

static void
on_delivery(void *arg, const nudge_delivery *d)
{
	struct sender *s = arg;
	struct pending *p = d->cookie;
	enum nudge_outcome out = NUDGE_OUT_FAILED;
	const char *type = "failed", *status = "failed";
	char detail[320], props[96], shown[400];
	nudge_event ev = { 0 };
	nudge_err e;
	int rc;

	if (d->fatal == 1 && s->rc == 0) {
		/* nothing can get through (authentication, TLS): stop
		 * rather than fail every message of the campaign */
		s->rc = EX_UNAVAILABLE;
		nudge_errf(s->err, EX_UNAVAILABLE, "%s", d->detail);
	}
	if (d->held) {
		s->stats->held++;
		give_back(s, p, "held", d->detail);
		return;
	}
	if (d->fatal == 2 && s->stop == 0) {
		s->stop = EX_TEMPFAIL;
		nudge_errf(s->err, EX_TEMPFAIL, "%s: the provider is down "
		    "(%s); the messages not sent are left for a rerun",
		    s->prov != NULL ? s->prov->name : s->o->channel, d->detail);
	}
	switch (d->status) {
	case NUDGE_SENT:
		out = NUDGE_OUT_SENT;
		type = status = "sent";
		snprintf(detail, sizeof detail, "%s", d->id);
		s->stats->sent++;
		break;
	case NUDGE_BOUNCED:
		out = NUDGE_OUT_BOUNCED;
		type = status = "bounced";
		snprintf(detail, sizeof detail, "%s", d->detail);
		s->stats->bounced++;
		break;
	case NUDGE_TEMPFAIL:
		/* given up for this run: the server kept deferring it.  When
		 * its last word was a refusal (an SMTP 4xx, an HTTP 429), the
		 * message surely did not get through: the claim is given
		 * back, so the next run (cron, after exit 75) sends it.  A
		 * dropped connection or a timeout may have delivered it: that
		 * claim stays, recorded failed, never sent twice. */
		if ((s->prov == NULL && d->smtp_code >= 400 &&
		    d->smtp_code < 500) || (s->prov != NULL &&
		    d->smtp_code == 429)) {
			s->stats->tempfail++;
			snprintf(detail, sizeof detail, "refused %d times, last: "
			    "%s; not sent, a rerun sends it", d->attempts,
			    d->detail);
			give_back(s, p, "tempfail", detail);
			return;
		}
		status = "tempfail";
		snprintf(detail, sizeof detail, "temporary failure after %d "
		    "attempts: %s", d->attempts, d->detail);
		s->stats->tempfail++;
		break;
	case NUDGE_FAILED:
		snprintf(detail, sizeof detail, "%s", d->detail);
		s->stats->failed++;
		break;
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
		    s->o->now, &e) != 0) {
			s->rc = EX_SOFTWARE;
			*s->err = e;
		}
	if (s->rc == 0) {
		ev.contact_id = p->contact_id;
		ev.type = type;
		ev.channel = s->o->channel;
		ev.campaign = s->o->campaign;
		ev.step = s->o->step;
		ev.message_id = p->ledger_id;
		ev.at = s->o->now;
		ev.source = "send";
		if (p->segments > 0) {
			/* the cost: segments and encoding, for the report */
			snprintf(props, sizeof props, "{\"segments\":%d,"
			    "\"encoding\":\"%s\"%s}", p->segments, p->ucs2 ?
			    "UCS-2" : "GSM-7", s->o->transactional &&
			    out == NUDGE_OUT_SENT ? ",\"transactional\":true" :
			    "");
			ev.props_json = props;
		} else if (s->o->transactional && out == NUDGE_OUT_SENT) {
			/* a receipt's sent event is not counted by frequency
			 * caps */
			ev.props_json = "{\"transactional\":true}";
		}
		if ((rc = nudge_ledger_outcome(s->ledger, p->ledger_id, out,
		    detail, s->o->now, &e)) != 0 ||
		    (rc = nudge_event_record(s->ew, &ev, NULL, &e)) != 0) {
			s->rc = rc;
			*s->err = e;
		} else if (++s->outcomes >= OUTCOMES) {
			s->rc = commit_outcomes(s);
		}
	}
	if (p->segments > 0 && d->status == NUDGE_SENT) {
		snprintf(shown, sizeof shown, "%s (%d segment%s, %s)", detail,
		    p->segments, p->segments > 1 ? "s" : "", p->ucs2 ? "UCS-2" :
		    "GSM-7");
		result(s, p->line, p->input, p->contact_id, status, shown);
	} else {
		result(s, p->line, p->input, p->contact_id, status, detail);
	}
	pending_drop(s, p);
}

/* The envelope sender and From: of this message. */
static int
pick_from(struct sender *s, struct slot *sl, char *name, size_t namelen)
{
	const nudge_buf *tf = &s->out.part[NUDGE_TPL_FROM];
	const char *spec = s->o->from != NULL ? s->o->from :
	    tf->len > 0 ? tf->s : s->from_spec;

	if (spec == NULL)
		return nudge_errf(s->err, EX_USAGE, "no sender: give --from, a "
		    "From: in the template, or channels: email: from: in the "
		    "config");
	return nudge_mime_mailbox(spec, name, namelen, sl->from,
	    sizeof sl->from, s->err);
}

/* A built message (sl->msg): with --dry-run reported as rendered with
 * why (its size), else kept in the batch for the next claim. */
static int
keep(struct sender *s, struct slot *sl, long line, const char *text,
    int64_t cid, const char *why)
{
	if (s->o->dry_run) {
		s->stats->rendered++;
		result(s, line, text, cid, "rendered", why);
		return 0;
	}
	free(sl->input);
	if ((sl->input = strdup(text)) == NULL)
		return nudge_errf(s->err, EX_OSERR, "out of memory");
	sl->line = line;
	sl->contact_id = cid;
	s->nslots++;
	return 0;
}

/* sms, push: the rendered text (and title) of the contact in s->c for
 * its phone or push id, with the sender id and STOP wording of the
 * config; adds it to the batch. */
static int
take_msg(struct sender *s, long line, const char *text, int64_t cid)
{
	const nudge_send_opts *o = s->o;
	struct slot *sl = &s->slots[s->nslots];
	const nudge_buf *body = &s->out.part[NUDGE_TPL_TEXT];
	const nudge_buf *tf = &s->out.part[NUDGE_TPL_FROM];
	const nudge_buf *title = &s->out.part[NUDGE_TPL_TITLE];
	const nudge_http_cfg *h = NULL;
	int sms = strcmp(o->channel, "sms") == 0;
	const char *to, *sender = NULL;
	char why[160];
	size_t n = body->len;

	if (o->cfg != NULL)
		h = sms ? &o->cfg->sms : &o->cfg->push;
	/* take_line saw the phone or push id (s->col) is there */
	to = s->c.vals.s + s->c.off[s->col];
	snprintf(sl->to, sizeof sl->to, "%s", to);
	if (o->from != NULL)
		sender = o->from;
	else if (tf->len > 0)
		sender = tf->s;
	else if (sms && o->cfg != NULL)
		sender = nudge_config_sms_sender(o->cfg, to);
	snprintf(sl->from, sizeof sl->from, "%s", sender != NULL ? sender :
	    "");
	/* the text part ends with the template's last newline */
	while (n > 0 && (body->s[n - 1] == '\n' || body->s[n - 1] == '\r'))
		n--;
	nudge_buf_reset(&sl->msg);
	nudge_buf_reset(&sl->title);
	if (nudge_buf_add(&sl->msg, body->s != NULL ? body->s : "", n) == -1 ||
	    (sms && h != NULL && h->stop_text != NULL && !o->transactional &&
	    (nudge_buf_putc(&sl->msg, '\n') == -1 ||
	    nudge_buf_puts(&sl->msg, h->stop_text) == -1)) ||
	    nudge_buf_add(&sl->title, title->s != NULL ? title->s : "",
	    title->len) == -1)
		return nudge_errf(s->err, EX_OSERR, "out of memory");
	memset(&sl->sc, 0, sizeof sl->sc);
	if (sms)
		nudge_sms_measure(sl->msg.s, sl->msg.len, &sl->sc);
	if (sms)
		snprintf(why, sizeof why, "%d segment%s (%s, %zu %s)",
		    sl->sc.segments, sl->sc.segments > 1 ? "s" : "",
		    nudge_sms_encoding(&sl->sc), sl->sc.units,
		    sl->sc.ucs2 ? "UTF-16 units" : "septets");
	else
		snprintf(why, sizeof why, "%zu bytes", sl->msg.len);
	return keep(s, sl, line, text, cid, why);
}

/* Hands one claimed sms or push message to the transport, the ledger key
 * as its idempotency key. */
static int
submit_msg(struct sender *s, struct slot *sl, struct pending *p)
{
	nudge_transport_msg m = { 0 };
	char key[96];

	m.channel = s->o->channel;
	m.to = sl->to;
	m.from = sl->from[0] != '\0' ? sl->from : NULL;
	m.title = sl->title.len > 0 ? sl->title.s : NULL;
	m.key = nudge_ledger_key(key, sizeof key, s->campaign_id, s->o->step,
	    sl->contact_id);
	m.text = nudge_buf_str(&sl->msg);
	m.len = sl->msg.len;
	p->segments = sl->sc.segments;
	p->ucs2 = sl->sc.ucs2;
	return nudge_transport_submit_msg(s->t, &m, p, s->err);
}

/* Tracking (links.c), when the config has it: before rendering, the
 * contact's {{unsubscribe_url}}; after, tracked links and the open pixel
 * unless the template says X-Nudge-Track: no. */
static int
track(struct sender *s, int64_t cid, int after)
{
	nudge_links_msg m = { s->campaign_id, s->o->step != NULL ?
	    s->o->step : "", cid, s->o->now };

	if (s->links == NULL)
		return 0;
	if (!after) {
		s->c.unsub = NULL;
		if (nudge_links_unsub(s->links, &m, &s->unsub, s->err) != 0)
			return EX_OSERR;
		s->c.unsub = s->unsub.s;
		return 0;
	}
	if (!nudge_tpl_track(s->tpl))
		return 0;
	return nudge_links_rewrite(s->links, &m, &s->out, s->err);
}

/* Resolves, checks and renders one line; adds it to the batch or reports
 * why not.  Returns 0 (also when the line was skipped) or a fatal code. */
static int
take_line(struct sender *s, long line, char *text)
{
	const nudge_send_opts *o = s->o;
	char reason[256], name[256], key[96], unsub[NUDGE_EMAIL_MAX + 40];
	enum nudge_verdict verdict;
	struct slot *sl = &s->slots[s->nslots];
	nudge_mime_msg m = { 0 };
	int64_t cid;
	nudge_err e;
	char *tab;
	int rc;

	if ((tab = strchr(text, '\t')) != NULL)
		*tab = '\0';
	if (*text == '\0')
		return 0;
	s->stats->read++;
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
		s->stats->skipped++;
		result(s, line, text, 0, "skipped", rc != 0 ? e.msg :
		    "no such contact");
		return 0;
	}
	if (rc != 0) {
		*s->err = e;
		return rc;
	}
	if (s->quiet[0] != '\0') {
		/* quiet hours: held, not claimed; trigger offers it again */
		s->stats->held++;
		result(s, line, text, cid, "held", s->quiet);
		return 0;
	}
	if ((rc = nudge_policy_check(s->policy, cid, o->channel,
	    o->transactional, &verdict, reason, sizeof reason, s->err)) != 0)
		return rc;
	if (verdict == NUDGE_POLICY_SKIP) {
		s->stats->skipped++;
		result(s, line, text, cid, "skipped", reason);
		return 0;
	}
	if ((rc = load_contact(s, cid)) != 0)
		return rc;
	if (s->c.off[s->col] < 0) {
		s->stats->skipped++;
		result(s, line, text, cid, "skipped", s->col == 0 ?
		    "no email address" : s->col == 1 ? "no phone number" :
		    "no push id");
		return 0;
	}
	if ((rc = track(s, cid, 0)) != 0)
		return rc;
	if ((rc = nudge_tpl_render(s->tpl, lookup, &s->c, &s->out, &e)) != 0) {
		if (rc != EX_DATAERR) {
			*s->err = e;
			return rc;
		}
		s->stats->skipped++;
		result(s, line, text, cid, "skipped", e.msg);
		return 0;
	}
	/* tracked links in every channel's text, before either builder */
	if ((rc = track(s, cid, 1)) != 0)
		return rc;
	if (s->col != 0)
		return take_msg(s, line, text, cid);
	if ((rc = pick_from(s, sl, name, sizeof name)) != 0)
		return rc;
	snprintf(sl->to, sizeof sl->to, "%s", s->c.vals.s + s->c.off[0]);
	snprintf(unsub, sizeof unsub, "mailto:%s?subject=unsubscribe",
	    sl->from);
	m.from_addr = sl->from;
	m.from_name = name[0] != '\0' ? name : NULL;
	m.to_addr = sl->to;
	m.to_name = NULL;
	if (s->c.off[3] >= 0) {
		snprintf(reason, sizeof reason, "%s%s%s",
		    s->c.vals.s + s->c.off[3], s->c.off[4] >= 0 ? " " : "",
		    s->c.off[4] >= 0 ? s->c.vals.s + s->c.off[4] : "");
		m.to_name = reason;
	}
	m.reply_to = s->out.part[NUDGE_TPL_REPLY_TO].len > 0 ?
	    s->out.part[NUDGE_TPL_REPLY_TO].s : s->reply_to;
	m.subject = nudge_buf_str(&s->out.part[NUDGE_TPL_SUBJECT]);
	m.date = o->now;
	m.msgid_key = nudge_ledger_key(key, sizeof key, s->campaign_id,
	    o->step, cid);
	m.text = nudge_buf_str(&s->out.part[NUDGE_TPL_TEXT]);
	m.text_len = s->out.part[NUDGE_TPL_TEXT].len;
	if (s->out.part[NUDGE_TPL_HTML].len > 0) {
		m.html = s->out.part[NUDGE_TPL_HTML].s;
		m.html_len = s->out.part[NUDGE_TPL_HTML].len;
	}
	if (s->out.part[NUDGE_TPL_PREHEADER].len > 0)
		m.preheader = s->out.part[NUDGE_TPL_PREHEADER].s;
	m.unsub_mailto = unsub;
	if (s->links != NULL && nudge_links_https(s->links))
		m.unsub_https = s->unsub.s;
	nudge_buf_reset(&sl->msg);
	if ((rc = nudge_mime_build(&m, &sl->msg, &e)) != 0) {
		if (rc != EX_DATAERR) {
			*s->err = e;
			return rc;
		}
		s->stats->skipped++;
		result(s, line, text, cid, "skipped", e.msg);
		return 0;
	}
	snprintf(reason, sizeof reason, "%zu bytes", sl->msg.len);
	return keep(s, sl, line, text, cid, reason);
}

/* Claims the batch in one transaction, then hands what it won to the
 * transport: nothing leaves before its claim is on disk. */
static int
flush_batch(struct sender *s)
{
	enum nudge_claim claim[BATCH_HTTP];
	int64_t ids[BATCH_HTTP];
	size_t i;
	int rc;

	if (s->nslots == 0)
		return 0;
	/* the outcomes recorded since the last commit ride in the claims'
	 * transaction: one commit (one fsync, one write of each page) for
	 * both.  Should a claim fail, they roll back with it and those
	 * messages are found `unknown` next time: never sent twice. */
	if (!s->in_txn && (rc = nudge_store_begin(s->st, s->err)) != 0)
		return rc;
	s->in_txn = 0;
	s->outcomes = 0;
	for (i = 0; i < s->nslots; i++) {
		if ((rc = nudge_ledger_claim(s->ledger, s->campaign_id, s->o->step,
		    s->slots[i].contact_id, s->o->channel, s->o->resend_unknown,
		    s->o->now, &claim[i], &ids[i], s->err)) != 0) {
			nudge_store_rollback(s->st);
			return rc;
		}
	}
	if ((rc = nudge_store_commit(s->st, s->err)) != 0)
		return rc;
	for (i = 0; i < s->nslots && rc == 0; i++) {
		struct slot *sl = &s->slots[i];
		struct pending *p;

		if (s->rc != 0 && claim[i] == NUDGE_CLAIM_WON) {
			/* the run is stopping (credentials, a command that
			 * cannot run): what did not leave is given back */
			nudge_err e;

			if (nudge_ledger_release(s->ledger, ids[i], &e) == 0) {
				s->stats->held++;
				result(s, sl->line, sl->input, sl->contact_id,
				    "held", "not sent: the run stopped");
			}
			continue;
		}

		if (claim[i] == NUDGE_CLAIM_DONE) {
			s->stats->duplicate++;
			result(s, sl->line, sl->input, sl->contact_id,
			    "duplicate", "already in the ledger");
			continue;
		}
		if (claim[i] == NUDGE_CLAIM_UNKNOWN) {
			s->stats->unknown++;
			result(s, sl->line, sl->input, sl->contact_id, "unknown",
			    "an earlier send died before its outcome was "
			    "known; --resend-unknown sends it again");
			continue;
		}
		if ((p = malloc(sizeof *p + strlen(sl->input) + 1)) == NULL)
			return nudge_errf(s->err, EX_OSERR, "out of memory");
		p->line = sl->line;
		p->contact_id = sl->contact_id;
		p->ledger_id = ids[i];
		p->segments = p->ucs2 = 0;
		strcpy(p->input, sl->input);
		p->prev = NULL;
		if ((p->next = s->live) != NULL)
			p->next->prev = p;
		s->live = p;
		if ((rc = strcmp(s->o->channel, "email") == 0 ?
		    nudge_transport_submit(s->t, sl->from, sl->to, sl->msg.s,
		    sl->msg.len, p, s->err) : submit_msg(s, sl, p)) != 0) {
			pending_drop(s, p);
			return rc;
		}
		/* hand out what is done (exec: and file:// finish in submit)
		 * so that a stop is seen before the next message goes */
		rc = nudge_transport_run(s->t, 0, on_delivery, s, s->err);
		while (rc == 0 && s->rc == 0 &&
		    nudge_transport_pending(s->t) > s->window)
			rc = nudge_transport_run(s->t, 100, on_delivery, s,
			    s->err);
	}
	s->nslots = 0;
	if (rc == 0)
		rc = nudge_transport_run(s->t, 0, on_delivery, s, s->err);
	return rc != 0 ? rc : s->rc;
}

static int
campaign_id(struct sender *s)
{
	sqlite3_stmt *q;
	int rc;

	if (!s->o->dry_run)
		return nudge_event_campaign_id(s->ew, s->o->campaign,
		    &s->campaign_id, s->err);
	/* a dry run creates nothing: an unknown campaign is 0 */
	if ((rc = nudge_store_prepare(s->st, &q, "SELECT id FROM campaigns "
	    "WHERE name = ?", s->err)) != 0)
		return rc;
	sqlite3_bind_text(q, 1, s->o->campaign, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		s->campaign_id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return 0;
}

/* sms, push: the provider profile and account of channels: sms: (or
 * push:), or an exec: or file:// transport. */
static int
open_http(struct sender *s)
{
	const nudge_send_opts *o = s->o;
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
		if ((rc = nudge_provider_find(h->provider, &s->prov,
		    s->err)) != 0)
			return rc;
		if (strcmp(s->prov->channel, o->channel) != 0 &&
		    strcmp(s->prov->channel, "any") != 0)
			return nudge_errf(s->err, EX_USAGE, "provider %s sends "
			    "%s, not %s", s->prov->name, s->prov->channel,
			    o->channel);
		if ((rc = nudge_config_secret(o->cfg, sms ? NUDGE_SECRET_SMS :
		    NUDGE_SECRET_PUSH, &secret, s->err)) != 0)
			return rc;
		rc = nudge_provider_bind(s->prov, h->user, secret, url, s->err);
		nudge_config_secret_free(secret);
		if (rc != 0)
			return rc;
		to.provider = s->prov;
		url = s->prov->base;
	}
	to.parallel = o->parallel > 0 ? o->parallel : h != NULL &&
	    h->parallel > 0 ? h->parallel : s->prov != NULL &&
	    s->prov->parallel > 0 ? s->prov->parallel : 4;
	to.rate = o->rate > 0 ? o->rate : h != NULL && h->rate > 0 ? h->rate :
	    s->prov != NULL ? s->prov->rate : 0;
	to.burst = h != NULL && h->burst > 0 ? h->burst : s->prov != NULL ?
	    s->prov->burst : 0;
	to.max_retries = h != NULL && h->max_retries >= 0 ? h->max_retries :
	    3;
	to.retry_base_ms = h != NULL ? h->backoff_ms : 0;
	to.breaker = h != NULL ? h->breaker : 0;
	to.retry_budget = h != NULL ? h->retry_budget : 0;
	to.timeout_ms = h != NULL ? h->timeout_ms : 0;
	to.allow_plaintext = h != NULL ? h->allow_plaintext : 0;
	to.nosync = o->file_nosync;
	/* the network loop runs in its own thread: a deep window keeps it
	 * fed while this one writes the store */
	s->window = 64 * (size_t)to.parallel;
	return nudge_transport_open(&s->t, url, &to, s->err);
}

static int
open_transport(struct sender *s)
{
	const nudge_send_opts *o = s->o;
	const nudge_email_cfg *ec = o->cfg != NULL ? &o->cfg->email : NULL;
	nudge_transport_opts to = { 0 };
	const char *url = o->transport;
	char *password = NULL;
	int rc;

	if (strcmp(o->channel, "email") != 0)
		return open_http(s);
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
	if (ec != NULL) {
		to.allow_plaintext = ec->allow_plaintext;
		to.username = ec->username;
		if (ec->username != NULL && (rc = nudge_config_secret(o->cfg,
		    NUDGE_SECRET_EMAIL_PASSWORD, &password, s->err)) != 0)
			return rc;
		to.password = password;
	}
	rc = nudge_transport_open(&s->t, url, &to, s->err);
	nudge_config_secret_free(password);
	/* the loop runs in its own thread: a deep window keeps it busy
	 * while this thread renders and writes the store */
	s->window = 64 * (size_t)to.parallel;
	return rc;
}

int
nudge_send_run(nudge_store *st, FILE *in, const nudge_send_opts *o,
    nudge_send_stats *stats, nudge_err *err)
{
	struct sender s = { .st = st, .o = o, .stats = stats, .err = err };
	char *line = NULL;
	size_t cap = 0, i;
	long lineno = 0, lost = 0;
	ssize_t n;
	int rc;

	memset(stats, 0, sizeof *stats);
	s.batch = o->channel != NULL && strcmp(o->channel, "email") != 0 ?
	    BATCH_HTTP : BATCH;
	if (o->campaign == NULL || *o->campaign == '\0')
		return nudge_errf(err, EX_USAGE, "no campaign: give --campaign "
		    "NAME");
	if (o->channel == NULL || (strcmp(o->channel, "email") != 0 &&
	    strcmp(o->channel, "sms") != 0 && strcmp(o->channel, "push") != 0))
		return nudge_errf(err, EX_USAGE, "channel %s: expected email, "
		    "sms or push", o->channel != NULL ? o->channel : "(none)");
	s.col = strcmp(o->channel, "sms") == 0 ? 1 :
	    strcmp(o->channel, "push") == 0 ? 2 : 0;
	if (o->template_path == NULL)
		return nudge_errf(err, EX_USAGE, "no template: give --template "
		    "FILE");
	if (o->cfg != NULL) {
		s.from_spec = o->cfg->email.from;
		s.reply_to = o->cfg->email.reply_to;
	}
	if ((rc = nudge_tpl_load(o->template_path, &s.tpl, err)) != 0)
		goto out;
	if (s.col != 0) {
		if (!(nudge_tpl_parts(s.tpl) & (1u << NUDGE_TPL_TEXT))) {
			rc = nudge_errf(err, EX_DATAERR, "%s: no text",
			    o->template_path);
			goto out;
		}
	} else if (!(nudge_tpl_parts(s.tpl) & (1u << NUDGE_TPL_SUBJECT))) {
		rc = nudge_errf(err, EX_DATAERR, "%s: no Subject: line",
		    o->template_path);
		goto out;
	}
	if ((rc = nudge_links_open(&s.links, o->cfg, err)) != 0 ||
	    (rc = nudge_event_writer_open(&s.ew, st, o->now, err)) != 0 ||
	    (rc = campaign_id(&s)) != 0 ||
	    (rc = nudge_policy_open(&s.policy, st, o->policy != NULL ?
	    o->policy : o->cfg != NULL ? &o->cfg->policy : NULL, o->now,
	    err)) != 0 ||
	    (rc = nudge_store_prepare(st, &s.get_contact, "SELECT email, phone,"
	    " push_id, first_name, last_name, attrs FROM contacts WHERE id = ?",
	    err)) != 0 ||
	    (rc = nudge_store_prepare(st, &s.get_attrs, "SELECT key, value"
	    " FROM json_each(?)", err)) != 0)
		goto out;
	if (!o->transactional && (rc = nudge_policy_quiet(o->policy != NULL ?
	    o->policy : o->cfg != NULL ? &o->cfg->policy : NULL, o->now,
	    s.quiet, sizeof s.quiet, err)) != 0)
		goto out;
	if (!o->dry_run) {
		/* claims, outcomes and events touch index pages all over a
		 * big store: 32 MB of cache instead of 2 saves the rereads */
		if ((rc = nudge_store_exec(st, "PRAGMA cache_size = -32768",
		    err)) != 0 ||
		    (rc = nudge_ledger_open(&s.ledger, st, err)) != 0 ||
		    (rc = nudge_ledger_recover(s.ledger, o->now, 0, NULL, NULL,
		    &lost, err)) != 0 || (rc = open_transport(&s)) != 0)
			goto out;
		stats->recovered = lost;
	}
	while ((n = getline(&line, &cap, in)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if ((rc = take_line(&s, lineno, line)) != 0)
			goto out;
		/* keep the connections busy while the next batch renders:
		 * without this they idle for a whole batch's rendering */
		if (s.t != NULL && nudge_transport_pending(s.t) > 0 &&
		    ((rc = nudge_transport_run(s.t, 0, on_delivery, &s,
		    err)) != 0 || (rc = s.rc) != 0))
			goto out;
		if (s.nslots == s.batch && (rc = flush_batch(&s)) != 0)
			goto out;
		if (s.stop)
			break;
	}
	if (ferror(in)) {
		rc = nudge_errf(err, EX_IOERR, "reading the contacts: %s",
		    strerror(errno));
		goto out;
	}
	if ((rc = flush_batch(&s)) != 0)
		goto out;
	if (s.t != NULL && (rc = nudge_transport_drain(s.t, on_delivery, &s,
	    err)) != 0)
		goto out;
	rc = s.rc != 0 ? s.rc : commit_outcomes(&s);
	if (rc == 0)
		rc = s.stop;
out:
	if (s.in_txn)
		nudge_store_commit(st, NULL);
	nudge_transport_close(s.t);
	/* a run that stopped early: the transport dropped these */
	while (s.live != NULL)
		pending_drop(&s, s.live);
	free(line);
	for (i = 0; i < BATCH_HTTP; i++) {
		free(s.slots[i].input);
		nudge_buf_free(&s.slots[i].msg);
		nudge_buf_free(&s.slots[i].title);
	}
	nudge_buf_free(&s.c.vals);
	nudge_buf_free(&s.c.attrs);
	sqlite3_finalize(s.get_contact);
	sqlite3_finalize(s.get_attrs);
	nudge_ledger_close(s.ledger);
	nudge_policy_close(s.policy);
	nudge_event_writer_close(s.ew);
	nudge_tpl_out_free(&s.out);
	nudge_tpl_free(s.tpl);
	nudge_provider_free(s.prov);
	nudge_links_close(s.links);
	nudge_buf_free(&s.unsub);
	return rc;
}
