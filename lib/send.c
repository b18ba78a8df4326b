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
#include "template.h"
#include "transport.h"

/* Messages claimed in one transaction: one fsync for this many. */
#define BATCH 64
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
};

/* What the transport carries back to us with each outcome. */
struct pending {
	long line;
	int64_t contact_id, ledger_id;
	char input[];
};

struct sender {
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
	struct slot slots[BATCH];
	size_t nslots;
	int in_txn;             /* outcomes being recorded */
	long outcomes;          /* in the open transaction */
	int rc;                 /* a store error in a delivery callback */
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

static void
on_delivery(void *arg, const nudge_delivery *d)
{
	struct sender *s = arg;
	struct pending *p = d->cookie;
	enum nudge_outcome out = NUDGE_OUT_FAILED;
	const char *type = "failed", *status = "failed";
	char detail[320];
	nudge_event ev = { 0 };
	nudge_err e;
	int rc;

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
		/* given up for this run: the server kept deferring it */
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
	if (d->fatal && s->rc == 0) {
		/* nothing can get through (authentication, TLS): stop
		 * rather than fail every message of the campaign */
		s->rc = EX_UNAVAILABLE;
		nudge_errf(s->err, EX_UNAVAILABLE, "%s", d->detail);
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
		/* a receipt's sent event is not counted by frequency caps */
		if (s->o->transactional && out == NUDGE_OUT_SENT)
			ev.props_json = "{\"transactional\":true}";
		if ((rc = nudge_ledger_outcome(s->ledger, p->ledger_id, out,
		    detail, s->o->now, &e)) != 0 ||
		    (rc = nudge_event_record(s->ew, &ev, NULL, &e)) != 0) {
			s->rc = rc;
			*s->err = e;
		} else if (++s->outcomes >= OUTCOMES) {
			s->rc = commit_outcomes(s);
		}
	}
	result(s, p->line, p->input, p->contact_id, status, detail);
	free(p);
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
	if (s->col != 0) {
		/* sms and push into the file transport (until the HTTP
		 * providers land): "To:" and the rendered text */
		nudge_buf_reset(&sl->msg);
		snprintf(sl->from, sizeof sl->from, "%s", o->channel);
		snprintf(sl->to, sizeof sl->to, "%s",
		    s->c.vals.s + s->c.off[s->col]);
		if (nudge_buf_printf(&sl->msg, "To: %s\nChannel: %s\n%s%s%s"
		    "\n%s", sl->to, o->channel,
		    s->out.part[NUDGE_TPL_TITLE].len > 0 ? "Title: " : "",
		    nudge_buf_str(&s->out.part[NUDGE_TPL_TITLE]),
		    s->out.part[NUDGE_TPL_TITLE].len > 0 ? "\n" : "",
		    nudge_buf_str(&s->out.part[NUDGE_TPL_TEXT])) == -1)
			return nudge_errf(s->err, EX_OSERR, "out of memory");
		goto built;
	}
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
built:
	if (o->dry_run) {
		snprintf(reason, sizeof reason, "%zu bytes", sl->msg.len);
		s->stats->rendered++;
		result(s, line, text, cid, "rendered", reason);
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

/* Claims the batch in one transaction, then hands what it won to the
 * transport: nothing leaves before its claim is on disk. */
static int
flush_batch(struct sender *s)
{
	enum nudge_claim claim[BATCH];
	int64_t ids[BATCH];
	size_t i;
	int rc;

	if (s->nslots == 0)
		return 0;
	if ((rc = commit_outcomes(s)) != 0 ||
	    (rc = nudge_store_begin(s->st, s->err)) != 0)
		return rc;
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
		strcpy(p->input, sl->input);
		if ((rc = nudge_transport_submit(s->t, sl->from, sl->to,
		    sl->msg.s, sl->msg.len, p, s->err)) != 0) {
			free(p);
			return rc;
		}
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

static int
open_transport(struct sender *s)
{
	const nudge_send_opts *o = s->o;
	const nudge_email_cfg *ec = o->cfg != NULL ? &o->cfg->email : NULL;
	nudge_transport_opts to = { 0 };
	const char *url = o->transport;
	char *password = NULL;
	int rc;

	if (url == NULL && ec != NULL)
		url = ec->url;
	if (url == NULL)
		return nudge_errf(s->err, EX_USAGE, "no transport: give "
		    "--transport smtp://host:port or file:///dir, or channels: "
		    "email: url: in the config");
	to.parallel = o->parallel > 0 ? o->parallel : ec != NULL &&
	    ec->parallel > 0 ? ec->parallel : 1;
	to.rate = o->rate > 0 ? o->rate : ec != NULL ? ec->rate : 0;
	to.max_retries = 3;
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
	s->window = 4 * (size_t)to.parallel;
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
	if (o->campaign == NULL || *o->campaign == '\0')
		return nudge_errf(err, EX_USAGE, "no campaign: give --campaign "
		    "NAME");
	if (o->channel != NULL && strcmp(o->channel, "email") != 0 &&
	    o->transport != NULL && strncmp(o->transport, "file://", 7) == 0)
		/* sms and push: only into the file transport so far */
		s.col = strcmp(o->channel, "sms") == 0 ? 1 :
		    strcmp(o->channel, "push") == 0 ? 2 : 0;
	if (o->channel == NULL || (strcmp(o->channel, "email") != 0 &&
	    s.col == 0))
		return nudge_errf(err, EX_USAGE, "channel %s: only email can be "
		    "sent so far (sms and push into file:// only)",
		    o->channel != NULL ? o->channel : "(none)");
	if (o->template_path == NULL)
		return nudge_errf(err, EX_USAGE, "no template: give --template "
		    "FILE");
	if (o->cfg != NULL) {
		s.from_spec = o->cfg->email.from;
		s.reply_to = o->cfg->email.reply_to;
	}
	if ((rc = nudge_tpl_load(o->template_path, &s.tpl, err)) != 0)
		goto out;
	if (s.col == 0 &&
	    !(nudge_tpl_parts(s.tpl) & (1u << NUDGE_TPL_SUBJECT))) {
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
		if ((rc = nudge_ledger_open(&s.ledger, st, err)) != 0 ||
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
		if (s.nslots == BATCH && (rc = flush_batch(&s)) != 0)
			goto out;
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
out:
	if (s.in_txn)
		nudge_store_commit(st, NULL);
	nudge_transport_close(s.t);
	free(line);
	for (i = 0; i < BATCH; i++) {
		free(s.slots[i].input);
		nudge_buf_free(&s.slots[i].msg);
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
	nudge_links_close(s.links);
	nudge_buf_free(&s.unsub);
	return rc;
}
