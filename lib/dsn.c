/* dsn: RFC 3464 and RFC 5965 reports from mailboxes into events. */
#include "dsn.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "contact.h"
#include "event.h"
#include "ledger.h"
#include "token.h"
#include "track.h"

/* How deep multiparts may nest: reports are two levels deep. */
#define MAXDEPTH 6

/* What a message reports, its parts found by walk(). */
struct report {
	const char *ds, *fb, *orig;     /* delivery-status, feedback-report,
					   the returned message's headers */
	size_t dsn, fbn, orign;
	nudge_buf dec[3];               /* base64-decoded parts */
};

struct run {
	nudge_store *st;
	const nudge_dsn_opts *o;
	nudge_dsn_counts *n;
	nudge_err *err;
	nudge_event_writer *w;
	nudge_ledger *ledger;
	sqlite3_stmt *dup;
	const char *source;
	nudge_buf val, addr;
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

/* Records type for the recipient rcpt of the message whose headers are
 * r->orig. */
static int
report(struct run *u, const char *where, const struct report *r,
    const char *type, const char *rcpt, const char *detail)
{
	nudge_event ev = { 0 };
	nudge_buf props = { 0 };
	char step[256], chan[32], campaign[256];
	int64_t cid = 0;
	nudge_err e;
	int rc;

	rc = nudge_contact_find(u->st, rcpt, u->o->country, &cid, &e);
	if (rc == EX_DATAERR || (rc == 0 && cid == 0)) {
		u->n->unmatched++;
		result(u, where, "unmatched", rcpt, 0, 0, "no such contact");
		return 0;
	}
	if (rc != 0) {
		*u->err = e;
		return rc;
	}
	ev.contact_id = cid;
	ev.type = type;
	ev.channel = "email";
	ev.at = u->o->now;
	ev.source = u->source;
	if (r->orig != NULL && field(r->orig, r->orign, "Message-ID",
	    &u->val) && (rc = nudge_track_find_message(u->st, cid,
	    u->val.s, &ev.message_id, campaign, sizeof campaign, step,
	    sizeof step, chan, sizeof chan, u->err)) != 0)
		return rc;
	if (ev.message_id != 0) {
		sqlite3_reset(u->dup);
		sqlite3_bind_int64(u->dup, 1, cid);
		sqlite3_bind_text(u->dup, 2, type, -1, SQLITE_STATIC);
		sqlite3_bind_int64(u->dup, 3, ev.message_id);
		rc = sqlite3_step(u->dup);
		sqlite3_reset(u->dup);
		if (rc == SQLITE_ROW) {
			u->n->duplicate++;
			result(u, where, "duplicate", rcpt, cid, ev.message_id,
			    detail);
			return 0;
		}
		if (rc != SQLITE_DONE)
			return nudge_store_error(u->st, u->err, "events");
		ev.campaign = campaign;
		ev.step = step[0] != '\0' ? step : NULL;
	}
	if (detail != NULL && *detail != '\0' && (nudge_event_prop(&props,
	    strcmp(type, "bounced") == 0 ? "status" : "feedback_type",
	    strcmp(type, "bounced") == 0 ? 6 : 13, detail,
	    strlen(detail)) == -1 ||
	    (ev.props_json = nudge_event_props_end(&props)) == NULL)) {
		nudge_buf_free(&props);
		return nudge_errf(u->err, EX_OSERR, "out of memory");
	}
	rc = nudge_event_record(u->w, &ev, NULL, u->err);
	nudge_buf_free(&props);
	if (rc != 0)
		return rc;
	if (ev.message_id != 0 && strcmp(type, "bounced") == 0 &&
	    (rc = nudge_ledger_outcome(u->ledger, ev.message_id,
	    NUDGE_OUT_BOUNCED, detail, u->o->now, &e)) != 0 &&
	    rc != EX_DATAERR) {
		*u->err = e;
		return rc;
	}
	if (strcmp(type, "bounced") == 0)
		u->n->bounced++;
	else
		u->n->complained++;
	result(u, where, type, rcpt, cid, ev.message_id, detail);
	return 0;
}

/* One message of the input. */
static int
message(struct run *u, const char *where, const char *s, size_t n)
{
	struct report r;
	nudge_buf tmp = { 0 };
	int rc = 0, found = 0;
	size_t k;

	memset(&r, 0, sizeof r);
	u->n->messages++;
	walk(&r, s, n, 0, &tmp);
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
			rc = report(u, where, &r, "complained", a, ftype);
		}
		found = 1;
	} else if (r.ds != NULL) {
		const char *p = r.ds, *end = r.ds + r.dsn;

		/* groups of fields, split by empty lines; the first is
		 * about the message, each other one about a recipient */
		while (p < end && rc == 0) {
			const char *g = p, *ge = p;
			char a[320], st[32];

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
			if (st[0] != '5' || (field(g, (size_t)(ge - g),
			    "Action", &tmp) && strcasecmp(tmp.s, "failed") !=
			    0)) {
				u->n->ignored++;
				result(u, where, "ignored", a, 0, 0, st[0] ==
				    '4' ? "a temporary failure" : "not a "
				    "failure");
				continue;
			}
			rc = report(u, where, &r, "bounced", a, st);
		}
	}
	if (!found) {
		u->n->ignored++;
		result(u, where, "ignored", "", 0, 0, "not a delivery status "
		    "notification or feedback report");
	}
	nudge_buf_free(&tmp);
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

static int
file(struct run *u, const char *path, nudge_buf *b)
{
	FILE *fp;
	int rc;

	if ((fp = fopen(path, "rb")) == NULL)
		return nudge_errf(u->err, errno == ENOENT ? EX_NOINPUT :
		    EX_IOERR, "%s: %s", path, strerror(errno));
	rc = slurp(fp, path, b, u->err);
	fclose(fp);
	return rc != 0 ? rc : contents(u, path, b);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			rc = file(u, path, b);
	}
out:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int
nudge_dsn_import(nudge_store *st, const char *path, const nudge_dsn_opts *o,
    nudge_dsn_counts *n, nudge_err *err)
{
	struct run u = { st, o, n, err, NULL, NULL, NULL, NULL, { 0 }, { 0 } };
	const char *name = strcmp(path, "-") == 0 ? "(stdin)" : path;
	nudge_buf b = { 0 }, src = { 0 };
	struct stat sb;
	char sub[4096];
	int rc;

	memset(n, 0, sizeof *n);
	if (strcmp(path, "-") != 0 && stat(path, &sb) == -1)
		return nudge_errf(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR,
		    "%s: %s", path, strerror(errno));
	if (o->source != NULL)
		u.source = o->source;
	else if (nudge_buf_printf(&src, "dsn:%s", name) == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	else
		u.source = src.s;
	if ((rc = nudge_ledger_open(&u.ledger, st, err)) != 0 ||
	    (rc = nudge_event_writer_open(&u.w, st, o->now, err)) != 0 ||
	    (rc = nudge_store_prepare(st, &u.dup, "SELECT 1 FROM events"
	    " WHERE contact_id = ? AND type = ? AND message_id = ?",
	    err)) != 0 || (rc = nudge_store_begin(st, err)) != 0)
		goto out;
	if (strcmp(path, "-") == 0) {
		if ((rc = slurp(stdin, name, &b, err)) == 0)
			rc = contents(&u, name, &b);
	} else if (S_ISDIR(sb.st_mode)) {
		struct stat ss;

		snprintf(sub, sizeof sub, "%s/new", path);
		if (stat(sub, &ss) == 0 && S_ISDIR(ss.st_mode)) {
			/* a maildir */
			rc = directory(&u, sub, &b);
			snprintf(sub, sizeof sub, "%s/cur", path);
			if (rc == 0 && stat(sub, &ss) == 0 &&
			    S_ISDIR(ss.st_mode))
				rc = directory(&u, sub, &b);
		} else {
			rc = directory(&u, path, &b);
		}
	} else {
		rc = file(&u, path, &b);
	}
	if (rc == 0 && !o->dry_run)
		rc = nudge_store_commit(st, err);
	else
		nudge_store_rollback(st);
out:
	sqlite3_finalize(u.dup);
	nudge_event_writer_close(u.w);
	nudge_ledger_close(u.ledger);
	nudge_buf_free(&b);
	nudge_buf_free(&src);
	nudge_buf_free(&u.val);
	nudge_buf_free(&u.addr);
	return rc;
}
