/* dsn: RFC 3464 and RFC 5965 reports from mailboxes into events. */
#include "dsn.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bounce.h"
#include "contact.h"
#include "event.h"
#include "ledger.h"
#include "token.h"

/* How deep multiparts may nest: reports are two levels deep. */
#define MAXDEPTH 6

/* What a message reports, its parts found by walk(). */
struct report {
	const char *ds, *fb, *orig;     /* delivery-status, feedback-report,
					   the returned message's headers */
	size_t dsn, fbn, orign;
	nudge_buf dec[3];               /* base64-decoded parts */
};

/* A run's statements, sqls[] below. */
enum { DUP, FIX, CNOW, SOFT, NSQL };

struct run {
	nudge_store *st;
	const nudge_dsn_opts *o;
	nudge_dsn_counts *n;
	nudge_err *err;
	nudge_event_writer *w;
	nudge_ledger *ledger;
	sqlite3_stmt *s[NSQL];	/* sqls[] */
	const char *source;
	const char *parser;     /* "nudge" or "sisimai": in each bounce */
	const char *name;       /* the input's name */
	char **origins;         /* the files Sisimai found reports in */
	size_t norigins, corigins;
	long fallback;          /* files nudge's reader read after Sisimai */
	nudge_buf val, addr, key;
};

/* The run's statements: an earlier report of the same bounce (by the
 * message or the report's identity), its reclassification, the email
 * consent now (and whether a hard bounce or complaint other than its
 * own event stands behind it), the soft bounces since the last sign of
 * life. */
static const char *const sqls[NSQL] = {
	[DUP] = "SELECT id,"
	" json_extract(props, '$.reason'),"
	" coalesce(json_extract(props, '$.report') = ?4, 0) AS same"
	" FROM events WHERE contact_id = ?1 AND type = ?2 AND ((?3 <> 0"
	" AND message_id = ?3) OR json_extract(props, '$.report') = ?4)"
	" ORDER BY same DESC, id DESC LIMIT 1",
	[FIX] = "UPDATE events SET props ="
	" json_set(props, '$.reason', ?1, '$.class', ?2, '$.parser', ?3,"
	" '$.was', ?4) WHERE id = ?5",
	[CNOW] = "SELECT status, event_id,"
	" EXISTS (SELECT 1 FROM events e WHERE e.contact_id = ?1"
	"  AND e.id <> consent.event_id AND (e.type = 'complained' OR"
	"  (e.type = 'bounced' AND coalesce(json_extract(e.props,"
	"  '$.class'), 'hard') = 'hard')))"
	" FROM consent WHERE contact_id = ?1 AND channel = 'email'"
	" ORDER BY at DESC, id DESC LIMIT 1",
	[SOFT] = "SELECT count(*) FROM events"
	" WHERE contact_id = ?1 AND type = 'bounced' AND at >= ?2"
	" AND at > coalesce((SELECT max(at) FROM events WHERE"
	" contact_id = ?1 AND type IN ('opened', 'clicked', 'delivered')),"
	" 0)"
	" AND json_extract(props, '$.class') = 'soft'",
};

/* Splits a message at its first empty line into header and body. */
static void
split(const char *s, size_t n, const char **h, size_t *hn, const char **b,
    size_t *bn)
{
	size_t i;

	*h = s;
	for (i = 0; i < n; i++) {
		if (s[i] != '\n')
			continue;
		if (i + 1 < n && s[i + 1] == '\n') {
			*hn = i + 1;
			*b = s + i + 2;
			*bn = n - i - 2;
			return;
		}
		if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			*hn = i + 1;
			*b = s + i + 3;
			*bn = n - i - 3;
			return;
		}
	}
	if (n > 0 && s[0] == '\n') {
		*hn = 0;
		*b = s + 1;
		*bn = n - 1;
		return;
	}
	*hn = n;
	*b = s + n;
	*bn = 0;
}

/* The unfolded value of the first field name in h[0..n), into out;
 * returns 1 when found. */
static int
field(const char *h, size_t n, const char *name, nudge_buf *out)
{
	size_t nl = strlen(name), i = 0;

	nudge_buf_reset(out);
	while (i < n) {
		size_t e = i;

		while (e < n && h[e] != '\n')
			e++;
		if (e - i > nl && strncasecmp(h + i, name, nl) == 0 &&
		    h[i + nl] == ':') {
			size_t v = i + nl + 1;

			for (;;) {
				size_t ve = e;

				while (v < ve && (h[v] == ' ' || h[v] == '\t'))
					v++;
				if (ve > v && h[ve - 1] == '\r')
					ve--;
				if (out->len > 0 && nudge_buf_putc(out, ' ') ==
				    -1)
					return 0;
				if (nudge_buf_add(out, h + v, ve - v) == -1)
					return 0;
				/* a continuation line */
				if (e + 1 < n && (h[e + 1] == ' ' ||
				    h[e + 1] == '\t')) {
					v = e + 1;
					for (e = v; e < n && h[e] != '\n'; e++)
						;
					continue;
				}
				break;
			}
			if (out->s == NULL)
				nudge_buf_add(out, "", 0);
			while (out->len > 0 && (out->s[out->len - 1] == ' ' ||
			    out->s[out->len - 1] == '\t'))
				out->s[--out->len] = '\0';
			return 1;
		}
		i = e + 1;
	}
	return 0;
}

/* The parameter name of a Content-Type value v, into out; 1 if found. */
static int
param(const char *v, const char *name, nudge_buf *out)
{
	size_t nl = strlen(name);
	const char *p = v;

	nudge_buf_reset(out);
	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, nl) != 0 || p[nl] != '=')
			continue;
		p += nl + 1;
		if (*p == '"') {
			const char *e = strchr(++p, '"');

			if (e == NULL)
				return 0;
			return nudge_buf_add(out, p, (size_t)(e - p)) == 0;
		}
		return nudge_buf_add(out, p, strcspn(p, "; \t\r")) == 0;
	}
	return 0;
}

static int
is_type(const char *v, const char *type)
{
	size_t n = strlen(type);

	return strncasecmp(v, type, n) == 0 && (v[n] == '\0' || v[n] == ';' ||
	    v[n] == ' ' || v[n] == '\t');
}

static void
walk(struct report *r, const char *s, size_t n, int depth, nudge_buf *tmp)
{
	const char *h, *b;
	size_t hn, bn;
	char ctype[128], bound[128];
	int b64;

	if (depth > MAXDEPTH)
		return;
	split(s, n, &h, &hn, &b, &bn);
	if (!field(h, hn, "Content-Type", tmp) || tmp->s == NULL)
		return;
	snprintf(ctype, sizeof ctype, "%s", tmp->s);
	b64 = field(h, hn, "Content-Transfer-Encoding", tmp) &&
	    strncasecmp(nudge_buf_str(tmp), "base64", 6) == 0;
	if (strncasecmp(ctype, "multipart/", 10) == 0) {
		const char *p = b, *end = b + bn, *start = NULL;
		size_t bl;

		if (!param(ctype, "boundary", tmp) || tmp->len == 0 ||
		    tmp->len > 100)
			return;
		bound[0] = bound[1] = '-';
		memcpy(bound + 2, tmp->s, tmp->len + 1);
		bl = tmp->len + 2;
		while (p < end) {
			const char *e = memchr(p, '\n', (size_t)(end - p));
			const char *next = e != NULL ? e + 1 : end;

			if ((size_t)(end - p) >= bl &&
			    memcmp(p, bound, bl) == 0) {
				if (start != NULL) {
					const char *pe = p;

					/* the newline before a delimiter is
					 * part of the delimiter */
					if (pe > start && pe[-1] == '\n')
						pe--;
					if (pe > start && pe[-1] == '\r')
						pe--;
					walk(r, start, (size_t)(pe - start),
					    depth + 1, tmp);
				}
				if ((size_t)(end - p) >= bl + 2 &&
				    memcmp(p + bl, "--", 2) == 0)
					return;
				start = next;
			}
			p = next;
		}
		return;
	}
	{
		const char **dst = NULL;
		size_t *dn = NULL;
		int k = 0;

		if (is_type(ctype, "message/delivery-status") ||
		    is_type(ctype, "message/global-delivery-status")) {
			dst = &r->ds, dn = &r->dsn, k = 0;
		} else if (is_type(ctype, "message/feedback-report")) {
			dst = &r->fb, dn = &r->fbn, k = 1;
		} else if (is_type(ctype, "message/rfc822") ||
		    is_type(ctype, "text/rfc822-headers") ||
		    is_type(ctype, "message/rfc822-headers") ||
		    is_type(ctype, "message/global")) {
			dst = &r->orig, dn = &r->orign, k = 2;
		}
		if (dst == NULL || *dst != NULL)
			return;
		if (b64) {
			size_t i;

			nudge_buf_reset(&r->dec[k]);
			/* base64 with line breaks: decode line by line */
			for (i = 0; i < bn;) {
				size_t e = i;

				while (e < bn && b[e] != '\n')
					e++;
				{
					size_t le = e;

					if (le > i && b[le - 1] == '\r')
						le--;
					if (le > i && nudge_b64_decode(
					    &r->dec[k], b + i, le - i, 0) == -1)
						return;
				}
				i = e + 1;
			}
			*dst = nudge_buf_str(&r->dec[k]);
			*dn = r->dec[k].len;
		} else {
			*dst = b;
			*dn = bn;
		}
	}
}

/* The address of a recipient field: "rfc822; <a@b>" gives a@b. */
static const char *
address(nudge_buf *v)
{
	char *s = v->s, *e;

	if (s == NULL)
		return "";
	if ((e = strchr(s, ';')) != NULL)
		s = e + 1;
	while (*s == ' ' || *s == '\t' || *s == '<')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '>' || e[-1] == '\t'))
		e--;
	*e = '\0';
	return s;
}

/* The mailbox of a To: header: the part in <>, else all of it. */
static const char *
mailbox(nudge_buf *v)
{
	char *s = v->s, *lt, *gt;

	if (s == NULL)
		return "";
	if ((lt = strchr(s, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
		*gt = '\0';
		return lt + 1;
	}
	if ((gt = strchr(s, ',')) != NULL)
		*gt = '\0';
	while (*s == ' ')
		s++;
	return s;
}

static void
result(struct run *u, const char *where, const char *status,
    const char *rcpt, int64_t cid, int64_t mid, const char *detail)
{
	nudge_dsn_result r = { where, status, rcpt, cid, mid, detail };

	if (u->o->on_result != NULL)
		u->o->on_result(u->o->arg, &r);
}

/* What one report says about one recipient, from whichever parser. */
struct verdict {
	const char *type;       /* "bounced" or "complained" */
	const char *rcpt;
	const char *status;     /* the enhanced status code, or "" */
	const nudge_bounce_reason *reason;      /* bounces only */
	nudge_bounce_class cls;
	const char *diag;       /* the diagnostic text, or "" */
	const char *msgid;      /* the returned message's Message-ID, or
				   NULL */
	const char *key;        /* the report's identity for duplicates */
	const char *sender;     /* our sending domain, or "" */
	const char *ftype;      /* a complaint's Feedback-Type */
};

/* The text of column i of s, "" for NULL. */
static const char *
col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? (const char *)t : "";
}

/* An earlier report of v found as event id with reason was: v corrects
 * it.  A bounce that had suppressed the address and now reads as
 * anything but hard gives the address back with a consent row that says
 * why, if that bounce is still what keeps the address suppressed; one
 * that now reads as hard suppresses it. */
static int
reclassify(struct run *u, const char *where, int64_t cid, int64_t eid,
    const char *was, const struct verdict *v)
{
	const nudge_bounce_reason *old = nudge_bounce_reason_find(was);
	int oldhard = old != NULL && old->cls == NUDGE_BOUNCE_HARD;
	int newhard = v->cls == NUDGE_BOUNCE_HARD;
	char why[200];
	int rc;

	sqlite3_reset(u->s[FIX]);
	sqlite3_bind_text(u->s[FIX], 1, v->reason->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(u->s[FIX], 2, nudge_bounce_class_name(v->cls), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(u->s[FIX], 3, u->parser, -1, SQLITE_STATIC);
	sqlite3_bind_text(u->s[FIX], 4, was, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(u->s[FIX], 5, eid);
	rc = sqlite3_step(u->s[FIX]);
	sqlite3_reset(u->s[FIX]);
	if (rc != SQLITE_DONE)
		return nudge_store_error(u->st, u->err, "events");
	u->n->reclassified++;
	if (oldhard && !newhard) {
		sqlite3_reset(u->s[CNOW]);
		sqlite3_bind_int64(u->s[CNOW], 1, cid);
		rc = sqlite3_step(u->s[CNOW]);
		if (rc == SQLITE_ROW && strcmp(col(u->s[CNOW], 0), "bounced") ==
		    0 && sqlite3_column_int64(u->s[CNOW], 1) == eid &&
		    sqlite3_column_int(u->s[CNOW], 2) == 0) {
			sqlite3_reset(u->s[CNOW]);
			snprintf(why, sizeof why, "%s: re-read as %s (%s), "
			    "not a dead address", u->source, v->reason->name,
			    nudge_bounce_class_name(v->cls));
			if ((rc = nudge_event_consent(u->w, cid, "email",
			    "subscribed", u->o->now, why, eid, u->err)) != 0)
				return rc;
			u->n->restored++;
			result(u, where, "restored", v->rcpt, cid, 0,
			    v->reason->name);
			return 0;
		}
		sqlite3_reset(u->s[CNOW]);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return nudge_store_error(u->st, u->err, "consent");
	} else if (!oldhard && newhard) {
		snprintf(why, sizeof why, "%s: re-read as %s", u->source,
		    v->reason->name);
		if ((rc = nudge_event_consent(u->w, cid, "email", "bounced",
		    u->o->now, why, eid, u->err)) != 0)
			return rc;
		u->n->hard++;
	}
	result(u, where, "reclassified", v->rcpt, cid, 0, v->reason->name);
	return 0;
}

/* After a soft bounce of contact cid at `at`: when it is the soft_limit-th
 * within soft_within with no open, click or delivery since the first of
 * them, the address is suppressed, with a consent row that says so. */
static int
soft_limit(struct run *u, const char *where, int64_t cid, int64_t at,
    int64_t eid, const char *rcpt)
{
	char why[160];
	int64_t k;
	int rc;

	if (u->o->soft_limit <= 0)
		return 0;
	sqlite3_reset(u->s[SOFT]);
	sqlite3_bind_int64(u->s[SOFT], 1, cid);
	sqlite3_bind_int64(u->s[SOFT], 2, at - u->o->soft_within);
	rc = sqlite3_step(u->s[SOFT]);
	k = rc == SQLITE_ROW ? sqlite3_column_int64(u->s[SOFT], 0) : 0;
	sqlite3_reset(u->s[SOFT]);
	if (rc != SQLITE_ROW)
		return nudge_store_error(u->st, u->err, "events");
	if (k < u->o->soft_limit)
		return 0;
	sqlite3_reset(u->s[CNOW]);
	sqlite3_bind_int64(u->s[CNOW], 1, cid);
	rc = sqlite3_step(u->s[CNOW]);
	if (rc == SQLITE_ROW && strcmp(col(u->s[CNOW], 0), "bounced") == 0) {
		sqlite3_reset(u->s[CNOW]);
		return 0;       /* suppressed already */
	}
	sqlite3_reset(u->s[CNOW]);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(u->st, u->err, "consent");
	snprintf(why, sizeof why, "%s: %lld soft bounces within %lld days",
	    u->source, (long long)k, (long long)(u->o->soft_within / 86400));
	if ((rc = nudge_event_consent(u->w, cid, "email", "bounced", at, why,
	    eid, u->err)) != 0)
		return rc;
	u->n->soft_suppressed++;
	result(u, where, "suppressed", rcpt, cid, 0, "soft bounce limit");
	return 0;
}

/* Records what v says of its recipient: finds the contact and the ledger
 * row, recognises a report seen before (a duplicate, or a correction of
 * its verdict), and stores the event.  Only a hard bounce (or a
 * complaint) suppresses the address. */
static int
report(struct run *u, const char *where, const struct verdict *v)
{
	nudge_event ev = { 0 };
	nudge_buf props = { 0 };
	char step[256], chan[32], campaign[256], detail[96];
	const char *cls = v->reason != NULL ?
	    nudge_bounce_class_name(v->cls) : NULL;
	int bounce = strcmp(v->type, "bounced") == 0;
	int64_t cid = 0, eid = 0;
	nudge_err e;
	int rc;

	rc = nudge_contact_find(u->st, v->rcpt, u->o->country, &cid, &e);
	if (rc == EX_DATAERR || (rc == 0 && cid == 0)) {
		u->n->unmatched++;
		result(u, where, "unmatched", v->rcpt, 0, 0, "no such contact");
		return 0;
	}
	if (rc != 0) {
		*u->err = e;
		return rc;
	}
	ev.contact_id = cid;
	ev.type = v->type;
	ev.channel = "email";
	ev.at = u->o->now;
	ev.source = u->source;
	if (v->msgid != NULL && *v->msgid != '\0' &&
	    (rc = nudge_track_find_message(u->st, cid, v->msgid,
	    &ev.message_id, campaign, sizeof campaign, step, sizeof step,
	    chan, sizeof chan, u->err)) != 0)
		return rc;
	/* seen before: the same ledger row, or the same report */
	sqlite3_reset(u->s[DUP]);
	sqlite3_bind_int64(u->s[DUP], 1, cid);
	sqlite3_bind_text(u->s[DUP], 2, v->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(u->s[DUP], 3, ev.message_id);
	sqlite3_bind_text(u->s[DUP], 4, v->key, -1, SQLITE_STATIC);
	rc = sqlite3_step(u->s[DUP]);
	if (rc == SQLITE_ROW) {
		const nudge_bounce_reason *old;
		char was[64];
		int same = sqlite3_column_int(u->s[DUP], 2);

		eid = sqlite3_column_int64(u->s[DUP], 0);
		snprintf(was, sizeof was, "%s", col(u->s[DUP], 1));
		sqlite3_reset(u->s[DUP]);
		old = nudge_bounce_reason_find(was);
		/* the same report read again with another verdict
		 * corrects it; another report of the same ledger row is
		 * recorded only when it is the first hard one */
		if (bounce && same && old != NULL && old != v->reason)
			return reclassify(u, where, cid, eid, was, v);
		if (!bounce || same || v->cls != NUDGE_BOUNCE_HARD ||
		    (old != NULL && old->cls == NUDGE_BOUNCE_HARD) ||
		    *was == '\0') {
			u->n->duplicate++;
			result(u, where, "duplicate", v->rcpt, cid,
			    ev.message_id, bounce && v->reason != NULL ?
			    v->reason->name : v->ftype);
			return 0;
		}
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(u->s[DUP]);
		return nudge_store_error(u->st, u->err, "events");
	}
	sqlite3_reset(u->s[DUP]);
	if (ev.message_id != 0) {
		ev.campaign = campaign;
		ev.step = step[0] != '\0' ? step : NULL;
	}
	if (bounce) {
		ev.keep_consent = v->cls != NUDGE_BOUNCE_HARD;
		if ((*v->status != '\0' && nudge_event_prop(&props, "status",
		    6, v->status, strlen(v->status)) == -1) ||
		    nudge_event_prop(&props, "reason", 6, v->reason->name,
		    strlen(v->reason->name)) == -1 ||
		    nudge_event_prop(&props, "class", 5, cls, strlen(cls)) ==
		    -1 || nudge_event_prop(&props, "parser", 6, u->parser,
		    strlen(u->parser)) == -1 ||
		    (*v->diag != '\0' && nudge_event_prop(&props,
		    "diagnostic", 10, v->diag, strnlen(v->diag, 300)) == -1) ||
		    (*v->sender != '\0' && nudge_event_prop(&props,
		    "sender_domain", 13, v->sender, strlen(v->sender)) == -1))
			goto oom;
	} else if (*v->ftype != '\0' && nudge_event_prop(&props,
	    "feedback_type", 13, v->ftype, strlen(v->ftype)) == -1)
		goto oom;
	if (nudge_event_prop(&props, "report", 6, v->key,
	    strlen(v->key)) == -1 ||
	    (ev.props_json = nudge_event_props_end(&props)) == NULL)
		goto oom;
	rc = nudge_event_record(u->w, &ev, &eid, u->err);
	nudge_buf_free(&props);
	if (rc != 0)
		return rc;
	if (ev.message_id != 0 && bounce &&
	    (rc = nudge_ledger_outcome(u->ledger, ev.message_id,
	    NUDGE_OUT_BOUNCED, v->status, u->o->now, &e)) != 0 &&
	    rc != EX_DATAERR) {
		*u->err = e;
		return rc;
	}
	if (!bounce) {
		u->n->complained++;
		result(u, where, "complained", v->rcpt, cid, ev.message_id,
		    v->ftype);
		return 0;
	}
	u->n->bounced++;
	if (v->cls == NUDGE_BOUNCE_HARD)
		u->n->hard++;
	else if (v->cls == NUDGE_BOUNCE_SENDER)
		u->n->sender++;
	else
		u->n->soft++;
	snprintf(detail, sizeof detail, "%s%s%s %s", v->status, *v->status !=
	    '\0' ? " " : "", v->reason->name, cls);
	result(u, where, "bounced", v->rcpt, cid, ev.message_id, detail);
	if (v->cls == NUDGE_BOUNCE_SOFT)
		return soft_limit(u, where, cid, ev.at, eid, v->rcpt);
	return 0;
oom:
	nudge_buf_free(&props);
	return nudge_errf(u->err, EX_OSERR, "out of memory");
}

/* The identity of one report about rcpt, the same whichever parser read
 * it: the name of the file it came in (without its directory and maildir
 * flags), the returned message's Message-ID when there is one, and the
 * recipient; in lower case, into u->key. */
static const char *
report_key(struct run *u, const char *msgid, const char *where,
    const char *rcpt)
{
	const char *base = strrchr(where, '/');
	size_t n;

	nudge_buf_reset(&u->key);
	base = base != NULL ? base + 1 : where;
	if (nudge_buf_add(&u->key, base, strcspn(base, ":")) == -1 ||
	    nudge_buf_putc(&u->key, ' ') == -1)
		return "";
	if (msgid != NULL && *msgid != '\0') {
		while (*msgid == '<' || *msgid == ' ')
			msgid++;
		if (nudge_buf_add(&u->key, msgid, strcspn(msgid, ">")) == -1 ||
		    nudge_buf_putc(&u->key, ' ') == -1)
			return "";
	}
	if (nudge_buf_puts(&u->key, rcpt) == -1)
		return "";
	for (n = 0; n < u->key.len; n++)
		u->key.s[n] = (char)tolower((unsigned char)u->key.s[n]);
	return u->key.s;
}

/* The domain of the From: of the returned message, into out. */
static const char *
sender_domain(const struct report *r, nudge_buf *out)
{
	const char *m, *at;

	if (r->orig == NULL || !field(r->orig, r->orign, "From", out))
		return "";
	m = mailbox(out);
	if ((at = strrchr(m, '@')) == NULL)
		return "";
	return at + 1;
}

/* One message of the input. */
static int
message(struct run *u, const char *where, const char *s, size_t n)
{
	struct report r;
	struct verdict v;
	nudge_buf tmp = { 0 }, mid = { 0 }, from = { 0 }, diag = { 0 };
	int rc = 0, found = 0;
	size_t k;

	memset(&r, 0, sizeof r);
	u->n->messages++;
	walk(&r, s, n, 0, &tmp);
	if (r.orig != NULL)
		field(r.orig, r.orign, "Message-ID", &mid);
	memset(&v, 0, sizeof v);
	v.msgid = mid.s;
	v.status = v.diag = v.ftype = "";
	v.sender = sender_domain(&r, &from);
	if (r.fb != NULL) {
		char ftype[64];
		const char *rcpt;

		ftype[0] = '\0';
		if (field(r.fb, r.fbn, "Feedback-Type", &tmp))
			snprintf(ftype, sizeof ftype, "%s", tmp.s);
		if (field(r.fb, r.fbn, "Original-Rcpt-To", &u->addr))
			rcpt = address(&u->addr);
		else if (r.orig != NULL && field(r.orig, r.orign, "To",
		    &u->addr))
			rcpt = mailbox(&u->addr);
		else
			rcpt = "";
		if (*rcpt == '\0') {
			u->n->ignored++;
			result(u, where, "ignored", "", 0, 0, "a feedback "
			    "report with no recipient");
		} else {
			char a[320];

			snprintf(a, sizeof a, "%s", rcpt);
			v.type = "complained";
			v.rcpt = a;
			v.ftype = ftype;
			v.key = report_key(u, v.msgid, where, a);
			rc = report(u, where, &v);
		}
		found = 1;
	} else if (r.ds != NULL) {
		const char *p = r.ds, *end = r.ds + r.dsn;

		/* groups of fields, split by empty lines; the first is
		 * about the message, each other one about a recipient */
		while (p < end && rc == 0) {
			const char *g = p, *ge = p;
			char a[320], st[32], act[32];
			int perm;

			while (ge < end) {
				const char *e = memchr(ge, '\n',
				    (size_t)(end - ge));
				const char *line = ge;

				ge = e != NULL ? e + 1 : end;
				if (*line == '\n' || (*line == '\r' &&
				    line + 1 < end && line[1] == '\n'))
					break;
			}
			p = ge;
			if (!field(g, (size_t)(ge - g), "Status", &tmp))
				continue;
			snprintf(st, sizeof st, "%s", tmp.s);
			if (!field(g, (size_t)(ge - g), "Original-Recipient",
			    &u->addr) && !field(g, (size_t)(ge - g),
			    "Final-Recipient", &u->addr))
				continue;
			snprintf(a, sizeof a, "%s", address(&u->addr));
			found = 1;
			act[0] = '\0';
			if (field(g, (size_t)(ge - g), "Action", &tmp))
				snprintf(act, sizeof act, "%s", tmp.s);
			/* a failure: Action failed, or a 5.x.x with no
			 * Action; a delay or a success is no bounce */
			if ((st[0] != '5' && st[0] != '4') || (*act != '\0' ?
			    strncasecmp(act, "failed", 6) != 0 : st[0] != '5')) {
				u->n->ignored++;
				result(u, where, "ignored", a, 0, 0, st[0] ==
				    '4' ? "a temporary failure" : "not a "
				    "failure");
				continue;
			}
			if (!field(g, (size_t)(ge - g), "Diagnostic-Code",
			    &diag))
				nudge_buf_reset(&diag);
			v.type = "bounced";
			v.rcpt = a;
			v.status = st;
			v.diag = nudge_buf_str(&diag);
			v.reason = nudge_bounce_classify(st, 0, v.diag, &perm);
			v.cls = nudge_bounce_class_of(v.reason, perm);
			v.key = report_key(u, v.msgid, where, a);
			if (v.cls == NUDGE_BOUNCE_NONE) {
				u->n->ignored++;
				result(u, where, "ignored", a, 0, 0,
				    v.reason->name);
				continue;
			}
			rc = report(u, where, &v);
		}
	}
	if (!found) {
		u->n->ignored++;
		result(u, where, "ignored", "", 0, 0, "not a delivery status "
		    "notification or feedback report");
	}
	nudge_buf_free(&tmp);
	nudge_buf_free(&mid);
	nudge_buf_free(&from);
	nudge_buf_free(&diag);
	for (k = 0; k < 3; k++)
		nudge_buf_free(&r.dec[k]);
	return rc;
}

static int
slurp(FILE *fp, const char *name, nudge_buf *b, nudge_err *err)
{
	char chunk[65536];
	size_t n;

	nudge_buf_reset(b);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		if (nudge_buf_add(b, chunk, n) == -1)
			return nudge_errf(err, EX_OSERR, "out of memory");
	if (ferror(fp))
		return nudge_errf(err, EX_IOERR, "%s: %s", name,
		    strerror(errno));
	if (b->s == NULL && nudge_buf_add(b, "", 0) == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	return 0;
}

/* A file's contents: an mbox (it starts with "From ") or one message. */
static int
contents(struct run *u, const char *name, const nudge_buf *b)
{
	const char *s = b->s, *end = b->s + b->len;
	char where[1100];
	long k = 0;
	int rc;

	if (b->len < 5 || memcmp(s, "From ", 5) != 0)
		return message(u, name, s, b->len);
	while (s < end) {
		const char *body = memchr(s, '\n', (size_t)(end - s)), *e;

		body = body != NULL ? body + 1 : end;
		/* the next "From " line after an empty line */
		for (e = body; e < end; e++) {
			e = memchr(e, '\n', (size_t)(end - e));
			if (e == NULL) {
				e = end;
				break;
			}
			if (end - e > 6 && e[1] == '\n' &&
			    memcmp(e + 2, "From ", 5) == 0) {
				e += 2;
				break;
			}
			if (end - e > 7 && e[1] == '\r' && e[2] == '\n' &&
			    memcmp(e + 3, "From ", 5) == 0) {
				e += 3;
				break;
			}
		}
		snprintf(where, sizeof where, "%s:%ld", name, ++k);
		if ((rc = message(u, where, body, (size_t)(e - body))) != 0)
			return rc;
		s = e;
	}
	return 0;
}

/* The whole file at path into b. */
static int
slurp_file(const char *path, nudge_buf *b, nudge_err *err)
{
	FILE *fp;
	int rc;

	if ((fp = fopen(path, "rb")) == NULL)
		return nudge_errf(err, errno == ENOENT ? EX_NOINPUT :
		    EX_IOERR, "%s: %s", path, strerror(errno));
	rc = slurp(fp, path, b, err);
	fclose(fp);
	return rc;
}

static int
file(struct run *u, const char *path, nudge_buf *b)
{
	int rc = slurp_file(path, b, u->err);

	return rc != 0 ? rc : contents(u, path, b);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether Sisimai found a report in the file at path (then nudge's own
 * reader leaves it alone). */
static int
read_by_sisimai(const struct run *u, const char *path)
{
	size_t i;

	for (i = 0; i < u->norigins; i++)
		if (strcmp(u->origins[i], path) == 0)
			return 1;
	return 0;
}

/* Every regular file of dir not starting with '.', in name order. */
static int
directory(struct run *u, const char *dir, nudge_buf *b)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	struct stat sb;
	int rc = 0;

	if ((d = opendir(dir)) == NULL)
		return nudge_errf(u->err, EX_IOERR, "%s: %s", dir,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? 2 * cap : 64) *
			    sizeof *nn);

			if (nn == NULL) {
				rc = nudge_errf(u->err, EX_OSERR, "out of "
				    "memory");
				goto out;
			}
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = nudge_errf(u->err, EX_OSERR, "out of memory");
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof *names, cmpstr);
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    !read_by_sisimai(u, path))
			rc = file(u, path, b);
	}
out:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* One record of Sisimai's JSON (its dump): the row of json_each that s
 * holds. */
static int
sisimai_record(struct run *u, sqlite3_stmt *s)
{
	const char *rcpt = col(s, 0), *reason = col(s, 1), *origin = col(s, 10);
	const char *st = col(s, 2), *ftype = col(s, 7);
	struct verdict v;
	char a[320], where[1100], stbuf[32];
	int perm;

	u->n->messages++;
	snprintf(where, sizeof where, "%s", *origin != '\0' ? origin :
	    u->name);
	if (*origin != '\0' && (u->norigins == 0 ||
	    strcmp(u->origins[u->norigins - 1], origin) != 0)) {
		if (u->norigins == u->corigins) {
			size_t c = u->corigins ? 2 * u->corigins : 64;
			char **no = realloc(u->origins, c * sizeof *no);

			if (no == NULL)
				return nudge_errf(u->err, EX_OSERR, "out of "
				    "memory");
			u->origins = no;
			u->corigins = c;
		}
		if ((u->origins[u->norigins] = strdup(origin)) == NULL)
			return nudge_errf(u->err, EX_OSERR, "out of memory");
		u->norigins++;
	}
	snprintf(a, sizeof a, "%s", rcpt);
	snprintf(stbuf, sizeof stbuf, "%s", st);
	memset(&v, 0, sizeof v);
	v.rcpt = a;
	v.status = stbuf;
	v.diag = col(s, 4);
	v.msgid = col(s, 5);
	v.sender = col(s, 9);
	v.ftype = "";
	v.key = report_key(u, v.msgid, where, a);
	if (*a == '\0') {
		u->n->ignored++;
		result(u, where, "ignored", "", 0, 0, "no recipient");
		return 0;
	}
	if (*col(s, 11) != '\0' && strcmp(col(s, 11), "failed") != 0) {
		/* delayed, delivered, relayed, expanded: no bounce */
		u->n->ignored++;
		result(u, where, "ignored", a, 0, 0, strcmp(col(s, 11),
		    "delayed") == 0 ? "a temporary failure" : "not a failure");
		return 0;
	}
	if (strcmp(reason, "feedback") == 0) {
		v.type = "complained";
		v.ftype = *ftype != '\0' ? ftype : "abuse";
		return report(u, where, &v);
	}
	v.type = "bounced";
	if ((v.reason = nudge_bounce_reason_find(reason)) == NULL) {
		/* a reason newer than this table: read the reply */
		v.reason = nudge_bounce_classify(stbuf,
		    (int)sqlite3_column_int64(s, 3), v.diag, &perm);
		v.cls = nudge_bounce_class_of(v.reason, perm);
	} else {
		/* Sisimai's own verdict on hard or soft */
		perm = sqlite3_column_int64(s, 6) == 0 ||
		    (sqlite3_column_type(s, 6) == SQLITE_NULL &&
		    stbuf[0] == '5');
		v.cls = nudge_bounce_class_of(v.reason, perm);
	}
	if (v.cls == NUDGE_BOUNCE_NONE) {
		u->n->ignored++;
		result(u, where, "ignored", a, 0, 0, v.reason->name);
		return 0;
	}
	return report(u, where, &v);
}

/* Sisimai's JSON in b: an array of records. */
static int
sisimai_json(struct run *u, const nudge_buf *b)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = nudge_store_prepare(u->st, &s, "SELECT"
	    " json_extract(value, '$.recipient'), json_extract(value, '$.reason'),"
	    " json_extract(value, '$.deliverystatus'),"
	    " json_extract(value, '$.replycode'),"
	    " json_extract(value, '$.diagnosticcode'),"
	    " json_extract(value, '$.messageid'),"
	    " json_extract(value, '$.softbounce'),"
	    " json_extract(value, '$.feedbacktype'),"
	    " json_extract(value, '$.timestamp'),"
	    " json_extract(value, '$.senderdomain'),"
	    " json_extract(value, '$.origin'), json_extract(value, '$.action')"
	    " FROM json_each(?1) WHERE json_valid(?1) AND json_type(?1) = 'array'"
	    " AND json_type(value) = 'object'", u->err)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, b->s, (int)b->len, SQLITE_STATIC);
	if (!nudge_utf8_valid(b->s, b->len) || b->len > INT32_MAX) {
		sqlite3_finalize(s);
		return nudge_errf(u->err, EX_DATAERR, "%s: not Sisimai's JSON "
		    "(not valid UTF-8)", u->name);
	}
	{
		sqlite3_stmt *c = NULL;
		int ok;

		if ((rc = nudge_store_prepare(u->st, &c, "SELECT json_valid(?1)"
		    " AND json_type(?1) = 'array'", u->err)) != 0) {
			sqlite3_finalize(s);
			return rc;
		}
		sqlite3_bind_text(c, 1, b->s, (int)b->len, SQLITE_STATIC);
		ok = sqlite3_step(c) == SQLITE_ROW && sqlite3_column_int(c, 0);
		sqlite3_finalize(c);
		if (!ok) {
			sqlite3_finalize(s);
			return nudge_errf(u->err, EX_DATAERR, "%s: not Sisimai's "
			    "JSON (expected an array of records, as sisimai "
			    "dump writes)", u->name);
		}
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((rc = sisimai_record(u, s)) != 0) {
			sqlite3_finalize(s);
			return rc;
		}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return nudge_store_error(u->st, u->err, "Sisimai's JSON");
	return 0;
}

/* Runs perl with Sisimai over path (a mailbox, maildir or message) and
 * reads its JSON into b; the first line of its output is Sisimai's
 * version, into ver.  Returns EX_UNAVAILABLE when perl or Sisimai is not
 * installed. */
static int
run_sisimai(const char *path, nudge_buf *b, char *ver, size_t verlen,
    int probe, nudge_err *err)
{
	static const char script[] =
	    "use Sisimai; binmode STDOUT; print \"$Sisimai::VERSION\\n\";"
	    " exit 0 if $ARGV[0] eq '-'; my $j = Sisimai->dump($ARGV[0],"
	    " delivered => 0); print defined $j ? $j : '[]';";
	int fd[2], st;
	pid_t pid;
	FILE *fp;
	char *nl;
	int rc;

	if (pipe(fd) == -1)
		return nudge_errf(err, EX_OSERR, "pipe: %s", strerror(errno));
	if ((pid = fork()) == -1) {
		close(fd[0]);
		close(fd[1]);
		return nudge_errf(err, EX_OSERR, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(fd[1], STDOUT_FILENO);
		if (null != -1) {
			dup2(null, STDIN_FILENO);
			if (probe)
				dup2(null, STDERR_FILENO);
		}
		close(fd[0]);
		close(fd[1]);
		execlp("perl", "perl", "-e", script, probe ? "-" : path,
		    (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	if ((fp = fdopen(fd[0], "r")) == NULL) {
		close(fd[0]);
		waitpid(pid, &st, 0);
		return nudge_errf(err, EX_OSERR, "fdopen: %s", strerror(errno));
	}
	rc = slurp(fp, "Sisimai", b, err);
	fclose(fp);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (rc != 0)
		return rc;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || b->len == 0 ||
	    (nl = memchr(b->s, '\n', b->len)) == NULL) {
		if (probe || (WIFEXITED(st) && (WEXITSTATUS(st) == 127 ||
		    WEXITSTATUS(st) == 2)))
			return nudge_errf(err, EX_UNAVAILABLE, "Sisimai is not "
			    "installed (Debian: apt-get install "
			    "libsisimai-perl)");
		return nudge_errf(err, EX_SOFTWARE, "%s: Sisimai failed "
		    "(perl exited %d)", path, WIFEXITED(st) ?
		    WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	*nl = '\0';
	snprintf(ver, verlen, "%s", b->s[0] == 'v' ? b->s + 1 : b->s);
	/* the JSON after the version line */
	memmove(b->s, nl + 1, b->len - (size_t)(nl + 1 - b->s));
	b->len -= (size_t)(nl + 1 - b->s);
	b->s[b->len] = '\0';
	return 0;
}

/* stdin copied to a temporary file for Sisimai, whose name goes into
 * path. */
static int
stdin_file(char *path, size_t len, nudge_err *err)
{
	const char *tmp = getenv("TMPDIR");
	char buf[65536];
	ssize_t k;
	size_t n;
	int fd;

	snprintf(path, len, "%s/nudge-dsn.XXXXXX", tmp != NULL && *tmp !=
	    '\0' ? tmp : "/tmp");
	if ((fd = mkstemp(path)) == -1)
		return nudge_errf(err, EX_CANTCREAT, "%s: %s", path,
		    strerror(errno));
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
		for (k = 0; n > 0; n -= (size_t)k) {
			if ((k = write(fd, buf, n)) <= 0) {
				close(fd);
				unlink(path);
				return nudge_errf(err, EX_IOERR, "%s: %s", path,
				    strerror(errno));
			}
		}
	if (ferror(stdin) || close(fd) == -1) {
		unlink(path);
		return nudge_errf(err, EX_IOERR, "(stdin): %s",
		    strerror(errno));
	}
	return 0;
}

/* The mailbox at path read by Sisimai (a maildir's new/ and cur/ each),
 * then the files in which Sisimai found nothing by nudge's own reader. */
static int
sisimai(struct run *u, const char *path, const struct stat *sb,
    nudge_buf *b, char *ver, size_t verlen)
{
	char tmpname[4096] = "", sub[4096], runs[2][4096];
	struct stat ss;
	size_t nd = 0, i;
	long before;
	int rc = 0;

	if (strcmp(path, "-") == 0) {
		if ((rc = stdin_file(tmpname, sizeof tmpname, u->err)) != 0)
			return rc;
		snprintf(runs[nd++], sizeof runs[0], "%s", tmpname);
	} else if (S_ISDIR(sb->st_mode)) {
		snprintf(sub, sizeof sub, "%s/new", path);
		if (stat(sub, &ss) == 0 && S_ISDIR(ss.st_mode)) {
			/* a maildir: Sisimai reads a directory's files */
			snprintf(runs[nd++], sizeof runs[0], "%s", sub);
			snprintf(sub, sizeof sub, "%s/cur", path);
			if (stat(sub, &ss) == 0 && S_ISDIR(ss.st_mode))
				snprintf(runs[nd++], sizeof runs[0], "%s", sub);
		} else
			snprintf(runs[nd++], sizeof runs[0], "%s", path);
	} else
		snprintf(runs[nd++], sizeof runs[0], "%s", path);
	for (i = 0; i < nd && rc == 0; i++) {
		nudge_buf_reset(b);
		if ((rc = run_sisimai(runs[i], b, ver, verlen, 0, u->err)) == 0)
			rc = sisimai_json(u, b);
	}
	/* what Sisimai could not read: the files of a directory it found
	 * no report in, or a file or stdin it found none in at all */
	u->parser = "nudge";
	before = u->n->messages;
	if (strcmp(path, "-") == 0 || !S_ISDIR(sb->st_mode)) {
		if (rc == 0 && u->norigins == 0 &&
		    (rc = slurp_file(runs[0], b, u->err)) == 0)
			rc = contents(u, u->name, b);
	} else {
		for (i = 0; i < nd && rc == 0; i++)
			rc = directory(u, runs[i], b);
	}
	if (*tmpname != '\0')
		unlink(tmpname);
	u->fallback = u->n->messages - before;
	u->parser = "sisimai";
	return rc;
}

/* The mailbox at path read by nudge's own reader. */
static int
builtin(struct run *u, const char *path, const struct stat *sb,
    nudge_buf *b)
{
	char sub[4096];
	int rc;

	if (strcmp(path, "-") == 0) {
		if ((rc = slurp(stdin, u->name, b, u->err)) == 0)
			rc = contents(u, u->name, b);
	} else if (S_ISDIR(sb->st_mode)) {
		struct stat ss;

		snprintf(sub, sizeof sub, "%s/new", path);
		if (stat(sub, &ss) == 0 && S_ISDIR(ss.st_mode)) {
			/* a maildir */
			rc = directory(u, sub, b);
			snprintf(sub, sizeof sub, "%s/cur", path);
			if (rc == 0 && stat(sub, &ss) == 0 &&
			    S_ISDIR(ss.st_mode))
				rc = directory(u, sub, b);
		} else {
			rc = directory(u, path, b);
		}
	} else {
		rc = file(u, path, b);
	}
	return rc;
}

int
nudge_dsn_import(nudge_store *st, const char *path, const nudge_dsn_opts *o,
    nudge_dsn_counts *n, nudge_err *err)
{
	struct run u;
	nudge_buf b = { 0 }, src = { 0 };
	char ver[32];
	struct stat sb;
	int rc = 0, sis = 0;

	memset(&u, 0, sizeof u);
	u.st = st;
	u.o = o;
	u.n = n;
	u.err = err;
	u.name = strcmp(path, "-") == 0 ? "(stdin)" : path;
	memset(n, 0, sizeof n[0]);
	if (strcmp(path, "-") != 0 && stat(path, &sb) == -1)
		return nudge_errf(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR,
		    "%s: %s", path, strerror(errno));
	if (o->source != NULL)
		u.source = o->source;
	else if (nudge_buf_printf(&src, "dsn:%s", u.name) == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	else
		u.source = src.s;
	/* who reads the mail */
	if (o->sisimai_json) {
		sis = 1;
		snprintf(n->parser, sizeof n->parser, "Sisimai's JSON");
		rc = strcmp(path, "-") == 0 ? slurp(stdin, u.name, &b, err) :
		    slurp_file(path, &b, err);
	} else if (o->parser != NUDGE_DSN_BUILTIN &&
	    (rc = run_sisimai(path, &b, ver, sizeof ver, 1, err)) == 0) {
		sis = 2;
	} else if (o->parser == NUDGE_DSN_SISIMAI) {
		goto out;
	} else {
		rc = 0;
		snprintf(n->parser, sizeof n->parser, "nudge's RFC 3464/5965 "
		    "reader%s", o->parser == NUDGE_DSN_BUILTIN ? "" :
		    " (Sisimai is not installed)");
	}
	if (rc != 0)
		goto out;
	u.parser = sis ? "sisimai" : "nudge";
	if ((rc = nudge_ledger_open(&u.ledger, st, err)) != 0 ||
	    (rc = nudge_event_writer_open(&u.w, st, o->now, err)) != 0 ||
	    (rc = nudge_store_prepare_n(st, u.s, sqls, NSQL, err)) != 0 ||
	    (rc = nudge_store_begin(st, err)) != 0)
		goto out;
	if (sis == 2) {
		rc = sisimai(&u, path, &sb, &b, ver, sizeof ver);
		snprintf(n->parser, sizeof n->parser, "Sisimai %s", ver);
		if (u.fallback > 0)
			snprintf(n->parser + strlen(n->parser), sizeof n->parser -
			    strlen(n->parser), ", then nudge's reader (%ld "
			    "messages)", u.fallback);
	} else if (sis)
		rc = sisimai_json(&u, &b);
	else
		rc = builtin(&u, path, &sb, &b);
	if (rc == 0 && !o->dry_run)
		rc = nudge_store_commit(st, err);
	else
		nudge_store_rollback(st);
out:
	nudge_store_finalize_n(u.s, NSQL);
	nudge_event_writer_close(u.w);
	nudge_ledger_close(u.ledger);
	nudge_buf_free(&b);
	nudge_buf_free(&src);
	nudge_buf_free(&u.val);
	nudge_buf_free(&u.addr);
	nudge_buf_free(&u.key);
	while (u.norigins > 0)
		free(u.origins[--u.norigins]);
	free(u.origins);
	return rc;
}
