/* track: tracking requests in, HTTP responses out (nudge-track(1)). */
#include "track.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "contact.h"
#include "event.h"
#include "ledger.h"
#include "signup.h"
#include "token.h"

/* The smallest transparent GIF: 1x1, one palette entry, 43 bytes. */
static const unsigned char pixel[43] = {
	'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0,
	0xff, 0xff, 0xff, 0, 0, 0,
	0x21, 0xf9, 4, 1, 0, 0, 0, 0,
	0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0,
	2, 2, 0x44, 1, 0, 0x3b,
};

#define NOCACHE "Cache-Control: no-cache, no-store, must-revalidate, " \
    "max-age=0\r\nPragma: no-cache\r\nExpires: 0\r\n"

/* Twilio's opt-out and opt-in keywords (its Advanced Opt-Out defaults). */
static const char *const stop_words[] = { "STOP", "STOPALL", "UNSUBSCRIBE",
	"CANCEL", "END", "QUIT", "OPTOUT", "REVOKE" };
static const char *const start_words[] = { "START", "YES", "UNSTOP" };

/* Mailgun signatures older than this are refused: a replay. */
#define MAILGUN_SKEW 900

/* The state of one request. */
struct req {
	const nudge_track_opts *o;
	const nudge_track_req *r;
	nudge_track_resp *resp;
	nudge_err *err;
	nudge_store *st;
	int oom;
	int wrote;            /* the store took a write: drain the spool */
};

/* One form field, percent-decoded (track.h). */
#define field nudge_form_field
#define form nudge_form

static void
set(struct req *q, int status, const char *ctype, const void *body,
    size_t n)
{
	nudge_track_resp *p = q->resp;

	p->status = status;
	nudge_buf_reset(&p->headers);
	nudge_buf_reset(&p->body);
	if (ctype != NULL && nudge_buf_printf(&p->headers,
	    "Content-Type: %s\r\n", ctype) == -1)
		q->oom = 1;
	if (body != NULL && (nudge_buf_add(&p->body, body, n) == -1 ||
	    nudge_buf_printf(&p->headers, "Content-Length: %zu\r\n", n) ==
	    -1))
		q->oom = 1;
}

static void
header(struct req *q, const char *h)
{
	if (nudge_buf_puts(&q->resp->headers, h) == -1)
		q->oom = 1;
}

static void
text(struct req *q, int status, const char *msg)
{
	set(q, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

static void
not_found(struct req *q)
{
	text(q, 404, "not found\n");
}

/* A store error as a response: busy, full or unwritable is 503 (the
 * client may come back), anything else 500; err keeps the detail. */
static void
store_failed(struct req *q, int code)
{
	if (code == EX_TEMPFAIL || code == EX_IOERR || code == EX_CANTCREAT ||
	    code == EX_NOINPUT) {
		text(q, 503, "busy, try again later\n");
		header(q, "Retry-After: 5\r\n");
	} else {
		text(q, 500, "internal error\n");
	}
}

static int
open_store(struct req *q)
{
	int rc;

	if (q->st != NULL)
		return 0;
	if ((rc = q->o->open(q->o->arg, &q->st, q->err)) != 0) {
		q->st = NULL;
		store_failed(q, rc);
	}
	return rc;
}

static char *
pct_decode(const char *s, size_t n)
{
	char *d = malloc(n + 1), *p = d;
	size_t i;

	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		int a, b;

		if (s[i] == '+')
			*p++ = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		    (a = nudge_hexval(s[i + 1])) >= 0 &&
		    (b = nudge_hexval(s[i + 2])) >= 0) {
			*p++ = (char)(a << 4 | b);
			i += 2;
		} else
			*p++ = s[i];
	}
	*p = '\0';
	return d;
}

static void
form_free(struct form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->f[i].k);
		free(f->f[i].v);
	}
	free(f->f);
	memset(f, 0, sizeof *f);
}

/* Parses application/x-www-form-urlencoded s[0..n); 0 or -1 (memory). */
static int
form_parse(struct form *f, const char *s, size_t n)
{
	const char *end = s + n;

	while (s < end) {
		const char *amp = memchr(s, '&', (size_t)(end - s));
		const char *e = amp != NULL ? amp : end, *eq;

		eq = memchr(s, '=', (size_t)(e - s));
		if (e > s) {
			if (f->n == f->cap) {
				size_t cap = f->cap ? 2 * f->cap : 16;
				struct field *nf = realloc(f->f,
				    cap * sizeof *nf);

				if (nf == NULL)
					return -1;
				f->f = nf;
				f->cap = cap;
			}
			f->f[f->n].k = pct_decode(s, (size_t)((eq ? eq : e) -
			    s));
			f->f[f->n].v = eq ? pct_decode(eq + 1,
			    (size_t)(e - eq - 1)) : pct_decode("", 0);
			f->n++;
			if (f->f[f->n - 1].k == NULL ||
			    f->f[f->n - 1].v == NULL)
				return -1;
		}
		s = e + 1;
	}
	return 0;
}

static const char *
form_get(const struct form *f, const char *k)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->f[i].k, k) == 0)
			return f->f[i].v;
	return NULL;
}

const char *
nudge_track_proxy(const char *ua, const char *addr)
{
	if (ua != NULL && strstr(ua, "GoogleImageProxy") != NULL)
		return "google";
	if (ua != NULL && strstr(ua, "YahooMailProxy") != NULL)
		return "yahoo";
	/* Mail Privacy Protection fetches with a bare "Mozilla/5.0" from
	 * Apple's relays; 17.0.0.0/8 is Apple's own. */
	if (ua != NULL && strcmp(ua, "Mozilla/5.0") == 0)
		return "apple";
	if (addr != NULL && strncmp(addr, "17.", 3) == 0)
		return "apple";
	return NULL;
}

/* What the ledger and campaigns know of the message a token names. */
struct msg {
	int64_t id;           /* the ledger row, or 0 */
	char channel[32];
	char campaign[256];   /* "" when the campaign is gone */
};

/* An event a token asked for (open, click or unsubscribe), with what is
 * needed to record it now or, from the spool, later. */
struct tev {
	const char *type;
	int64_t contact, campaign;
	const char *step;     /* "" for none */
	int64_t at;
	const char *props;    /* a JSON object, or NULL */
	const char *source;
};

/* The campaign and ledger row of an event (lookup_msg) */
static const char msg_sql[] = "SELECT c.name, m.id, m.channel"
    " FROM campaigns c LEFT JOIN messages m"
    " ON m.campaign_id = c.id AND m.step = ?1 AND m.contact_id = ?2"
    " WHERE c.id = ?3";

/* Fills m for e.  keep, when not NULL, holds the statement from one call
 * to the next (a drain's many entries); the caller finalizes it. */
static int
lookup_msg(nudge_store *st, const struct tev *e, struct msg *m,
    sqlite3_stmt **keep, nudge_err *err)
{
	sqlite3_stmt *s = keep != NULL ? *keep : NULL;
	int rc;

	memset(m, 0, sizeof *m);
	strcpy(m->channel, "email");
	if (s == NULL && sqlite3_prepare_v2(st->db, msg_sql, -1, &s, NULL) !=
	    SQLITE_OK)
		return nudge_store_error(st, err, "messages");
	if (keep != NULL)
		*keep = s;
	sqlite3_bind_text(s, 1, e->step, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, e->contact);
	sqlite3_bind_int64(s, 3, e->campaign);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(s, 0);

		snprintf(m->campaign, sizeof m->campaign, "%s",
		    v ? (const char *)v : "");
		m->id = sqlite3_column_int64(s, 1);
		if ((v = sqlite3_column_text(s, 2)) != NULL)
			snprintf(m->channel, sizeof m->channel, "%s", v);
	}
	if (keep != NULL) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	} else
		sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(st, err, "messages");
	return 0;
}

/* Sets *yes when the unsubscribe e asks for is a replay: its token
 * (campaign, step, contact) has unsubscribed the channel before, and the
 * contact is still unsubscribed there (a subscribe since makes the same
 * link mean something again). */
static int
unsub_replay(nudge_store *st, const struct tev *e, const char *channel,
    int *yes, nudge_err *err)
{
	sqlite3_stmt *s;
	int rc;

	*yes = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT EXISTS (SELECT 1 FROM events"
	    " WHERE contact_id = ?1 AND type = 'unsubscribed'"
	    " AND campaign_id = ?2 AND coalesce(step, '') = ?3"
	    " AND channel = ?4) AND EXISTS (SELECT 1 FROM consent_now"
	    " WHERE contact_id = ?1 AND channel = ?4"
	    " AND status = 'unsubscribed')", -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(st, err, "events");
	sqlite3_bind_int64(s, 1, e->contact);
	sqlite3_bind_int64(s, 2, e->campaign);
	sqlite3_bind_text(s, 3, e->step, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, channel, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*yes = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return nudge_store_error(st, err, "events");
	return 0;
}

/* Reads what e's event needs to know of its message (lookup_msg) and
 * tells w its campaign's id; keep as for lookup_msg.  Errors: store
 * errors. */
static int
read_msg(nudge_store *st, nudge_event_writer *w, const struct tev *e,
    struct msg *m, sqlite3_stmt **keep, nudge_err *err)
{
	int rc;

	if ((rc = lookup_msg(st, e, m, keep, err)) != 0)
		return rc;
	/* the token's campaign id, named by the row just read: no query
	 * for the id by name */
	if (m->campaign[0] != '\0' && (rc = nudge_event_campaign_known(w,
	    m->campaign, e->campaign, err)) != 0)
		return rc;
	return 0;
}

/* Records e, whose message is m (read_msg), with w, inside the caller's
 * write transaction (so that two replays of one unsubscribe at once
 * record it once).  Errors: EX_DATAERR (the contact is gone), store
 * errors. */
static int
write_tev(nudge_store *st, nudge_event_writer *w, const struct tev *e,
    const struct msg *m, nudge_err *err)
{
	nudge_event ev = { 0 };
	int rc, replay;

	if (strcmp(e->type, "unsubscribed") == 0) {
		if ((rc = unsub_replay(st, e, m->channel, &replay, err)) != 0)
			return rc;
		if (replay)
			return 0;
	}
	ev.contact_id = e->contact;
	ev.type = e->type;
	ev.channel = m->channel;
	ev.campaign = m->campaign[0] != '\0' ? m->campaign : NULL;
	ev.step = e->step[0] != '\0' ? e->step : NULL;
	ev.message_id = m->id;
	ev.at = e->at;
	ev.props_json = e->props;
	ev.source = e->source;
	return nudge_event_record(w, &ev, NULL, err);
}

/* Records one event in its own transaction. */
static int
record(struct req *q, nudge_event *ev)
{
	nudge_event_writer *w = NULL;
	int rc;

	if ((rc = nudge_store_begin(q->st, q->err)) != 0)
		return rc;
	if ((rc = nudge_event_writer_open(&w, q->st, q->o->now,
	    q->err)) == 0 && (rc = nudge_event_record(w, ev, NULL,
	    q->err)) == 0) {
		nudge_event_writer_close(w);
		if ((rc = nudge_store_commit(q->st, q->err)) == 0)
			q->wrote = 1;
		return rc;
	}
	nudge_event_writer_close(w);
	nudge_store_rollback(q->st);
	return rc;
}

/* ---- the spool ---- */

/* Spool entries older than this that are still being written were left
 * by a killed writer: a drain removes them. */
#define SPOOL_STALE 3600
/* The largest spool entry a drain reads: an entry is one event, a few
 * hundred bytes with the longest URL a token holds. */
#define SPOOL_MAXENTRY 65536

static char *
spool_dir(const char *store)
{
	size_t n = strlen(store);
	char *d = malloc(n + sizeof NUDGE_TRACK_SPOOL_SUFFIX);

	if (d != NULL) {
		memcpy(d, store, n);
		memcpy(d + n, NUDGE_TRACK_SPOOL_SUFFIX,
		    sizeof NUDGE_TRACK_SPOOL_SUFFIX);
	}
	return d;
}

/* Makes the spool directory dir of the store at path with the mode of
 * the store's directory (set-group-ID included, sticky bit not): whoever
 * may write the store and its WAL there may drain the spool, whatever
 * the umask of the web server that first spooled. */
static int
spool_mkdir(const char *dir, const char *path)
{
	char *p = strdup(path), *sl;
	struct stat sb;
	mode_t mode = 0;

	if (p != NULL) {
		if ((sl = strrchr(p, '/')) == NULL)
			strcpy(p, ".");
		else
			sl[sl == p] = '\0';
		if (stat(p, &sb) == 0)
			mode = sb.st_mode & 02777;
		free(p);
	}
	if (mkdir(dir, 0700) == -1)
		return errno == EEXIST ? 0 : -1;
	if (mode != 0)
		(void)chmod(dir, mode);
	return 0;
}

/* Writes e into a new entry of the spool of the store at path: a file
 * written under a hidden name and renamed into place, so that a drain
 * sees it whole or not at all, and whose name (the time in nanoseconds,
 * in hex, then the pid and a count) is unique among concurrent CGI
 * processes and sorts by time.  The name goes into the event's props
 * too (see nudge_track_drain).  An unsubscribe is on disk (fsync) before
 * it is answered, like a commit of the store; an open or a click is as
 * safe as a commit with synchronous=NORMAL.  Errors: EX_CANTCREAT,
 * EX_IOERR, EX_OSERR. */
static int
spool_put(const char *path, const struct tev *e, char *name, size_t len,
    nudge_err *err)
{
	static unsigned seq;
	nudge_buf b = { 0 }, props = { 0 };
	struct timespec ts;
	char *dir = NULL, tmp[96];
	int dfd = -1, fd = -1, rc = 0, sync = strcmp(e->type,
	    "unsubscribed") == 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, len, "e%016llx-%ld-%u", (unsigned long long)ts.tv_sec *
	    1000000000ULL + (unsigned long long)ts.tv_nsec, (long)getpid(),
	    seq++);
	snprintf(tmp, sizeof tmp, ".t-%s", name);
	if ((dir = spool_dir(path)) == NULL)
		goto oom;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 &&
	    errno == ENOENT && spool_mkdir(dir, path) == 0)
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1) {
		rc = nudge_errf(err, EX_CANTCREAT, "%s: %s", dir,
		    strerror(errno));
		goto out;
	}
	/* the props with "spool": NAME added */
	if (e->props != NULL && e->props[0] == '{' && e->props[1] != '}') {
		if (nudge_buf_add(&props, e->props, strlen(e->props) - 1) ==
		    -1 || nudge_buf_putc(&props, ',') == -1)
			goto oom;
	} else if (nudge_buf_putc(&props, '{') == -1)
		goto oom;
	if (nudge_buf_printf(&props, "\"spool\":\"%s\"}", name) == -1 ||
	    nudge_buf_puts(&b, "{\"type\":") == -1 ||
	    nudge_buf_json_str(&b, e->type, strlen(e->type)) == -1 ||
	    nudge_buf_printf(&b, ",\"contact\":%lld,\"campaign\":%lld,"
	    "\"step\":", (long long)e->contact, (long long)e->campaign) ==
	    -1 || nudge_buf_json_str(&b, e->step, strlen(e->step)) == -1 ||
	    nudge_buf_printf(&b, ",\"at\":%lld,\"source\":",
	    (long long)e->at) == -1 ||
	    nudge_buf_json_str(&b, e->source, strlen(e->source)) == -1 ||
	    nudge_buf_puts(&b, ",\"props\":") == -1 ||
	    nudge_buf_json_str(&b, props.s, props.len) == -1 ||
	    nudge_buf_puts(&b, "}\n") == -1)
		goto oom;
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0666)) == -1) {
		rc = nudge_errf(err, EX_CANTCREAT, "%s/%s: %s", dir, tmp,
		    strerror(errno));
		goto out;
	}
	if (nudge_write_all(fd, b.s, b.len) == -1)
		goto ioerr;
	if ((sync && fsync(fd) == -1) || close(fd) == -1) {
		fd = -1;
		goto ioerr;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) == -1 || (sync && fsync(dfd) == -1))
		goto ioerr;
	goto out;
ioerr:
	rc = nudge_errf(err, EX_IOERR, "%s/%s: %s", dir, tmp, strerror(errno));
	if (fd != -1)
		close(fd);
	fd = -1;
	unlinkat(dfd, tmp, 0);
	goto out;
oom:
	rc = nudge_errf(err, EX_OSERR, "out of memory");
out:
	if (dfd != -1)
		close(dfd);
	free(dir);
	nudge_buf_free(&b);
	nudge_buf_free(&props);
	return rc;
}

/* Whether a store error is the store's trouble (locked, full,
 * unwritable, missing), which the spool rides out, rather than a
 * request's. */
static int
spoolable(int code)
{
	return code == EX_TEMPFAIL || code == EX_IOERR ||
	    code == EX_CANTCREAT || code == EX_NOINPUT;
}

/* Records type for the message of token t, or spools it when the store
 * cannot take it: 0 either way (err then says it was spooled), or the
 * store's error when the spool failed too, or EX_DATAERR when the
 * contact is gone. */
static int
record_token(struct req *q, const nudge_token *t, const char *type,
    const char *props, const char *source)
{
	struct tev e = { type, t->contact_id, t->campaign_id, t->step,
	    q->o->now, props, source };
	nudge_event_writer *w = NULL;
	struct msg m;
	const char *path;
	char name[64], why[sizeof q->err->msg];
	int rc;

	/* the statements are compiled, and the message read, before the
	 * write lock is taken, so that a click holds it for its insert and
	 * commit only: concurrent clicks wait on one another for that
	 * long (the ledger row and the campaign's name do not change once
	 * the message is sent) */
	if (q->st == NULL && (rc = q->o->open(q->o->arg, &q->st,
	    q->err)) != 0)
		q->st = NULL;
	else if ((rc = nudge_event_writer_open(&w, q->st, q->o->now,
	    q->err)) == 0 && (rc = nudge_event_writer_prepare(w, type,
	    q->err)) == 0 && (rc = read_msg(q->st, w, &e, &m, NULL,
	    q->err)) == 0 && (rc = nudge_store_begin(q->st, q->err)) == 0) {
		if ((rc = write_tev(q->st, w, &e, &m, q->err)) != 0)
			nudge_store_rollback(q->st);
		else if ((rc = nudge_store_commit(q->st, q->err)) == 0)
			q->wrote = 1;
	}
	nudge_event_writer_close(w);
	if (rc == 0 || !spoolable(rc))
		return rc;
	path = q->o->store_path != NULL ? q->o->store_path :
	    q->st != NULL ? q->st->path : NULL;
	snprintf(why, sizeof why, "%s", q->err->msg);
	if (path == NULL)
		return rc;
	if (spool_put(path, &e, name, sizeof name, q->err) != 0) {
		snprintf(why, sizeof why, "%s", q->err->msg);
		nudge_errf(q->err, rc, "not recorded: %s", why);
		return rc;
	}
	nudge_errf(q->err, 0, "spooled as %s" NUDGE_TRACK_SPOOL_SUFFIX
	    "/%s: %s", path, name, why);
	return 0;
}

/* A spool entry parsed: the strings point into the statement's row. */
static int
spool_parse(sqlite3_stmt *s, const char *text, size_t n, struct tev *e)
{
	const char *type, *src;

	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, text, (int)n, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return -1;
	type = (const char *)sqlite3_column_text(s, 0);
	src = (const char *)sqlite3_column_text(s, 5);
	if (type == NULL || src == NULL ||
	    sqlite3_column_type(s, 1) != SQLITE_INTEGER ||
	    sqlite3_column_type(s, 2) != SQLITE_INTEGER ||
	    sqlite3_column_type(s, 3) != SQLITE_TEXT ||
	    sqlite3_column_type(s, 4) != SQLITE_INTEGER ||
	    sqlite3_column_int(s, 7) != 1)
		return -1;
	if (strcmp(type, "opened") != 0 && strcmp(type, "clicked") != 0 &&
	    strcmp(type, "unsubscribed") != 0)
		return -1;
	if (strcmp(src, "track") != 0 && strcmp(src, "track:one-click") != 0 &&
	    strcmp(src, "track:page") != 0)
		return -1;
	e->type = type;
	e->contact = sqlite3_column_int64(s, 1);
	e->campaign = sqlite3_column_int64(s, 2);
	e->step = (const char *)sqlite3_column_text(s, 3);
	e->at = sqlite3_column_int64(s, 4);
	e->source = src;
	e->props = (const char *)sqlite3_column_text(s, 6);
	return e->contact > 0 && e->campaign > 0 && e->step != NULL &&
	    e->props != NULL ? 0 : -1;
}

/* Reads the entry name of directory dfd into b; 1 when it is gone. */
static int
spool_read(int dfd, const char *name, nudge_buf *b)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	char *p;
	ssize_t r;

	nudge_buf_reset(b);
	if (fd == -1)
		return errno == ENOENT ? 1 : -1;
	for (;;) {
		if ((p = nudge_buf_room(b, 4096)) == NULL) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		if ((r = read(fd, p, 4096)) == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		nudge_buf_wrote(b, (size_t)r);
		if (b->len > SPOOL_MAXENTRY)
			break;
	}
	close(fd);
	return r == -1 ? -1 : 0;
}

enum { DONE = 1, BAD = 2 };

/* Records the entries names[0..n) in one transaction of st; sets
 * what[i] to DONE (recorded, found recorded, or dropped) or BAD. */
static int
drain_batch(nudge_store *st, int dfd, const char *dir, char **names,
    size_t n, unsigned char *what, nudge_err *err)
{
	static const char parse_sql[] = "SELECT json_extract(?1, '$.type'),"
	    " json_extract(?1, '$.contact'), json_extract(?1, '$.campaign'),"
	    " json_extract(?1, '$.step'), json_extract(?1, '$.at'),"
	    " json_extract(?1, '$.source'), json_extract(?1, '$.props'),"
	    " json_valid(json_extract(?1, '$.props'))"
	    " WHERE json_valid(?1)";
	nudge_event_writer *w = NULL;
	sqlite3_stmt *parse = NULL, *seen = NULL, *msg = NULL;
	nudge_buf b = { 0 };
	struct msg m;
	struct tev e;
	size_t i;
	int rc, r;

	if ((rc = nudge_store_begin(st, err)) != 0)
		return rc;
	if ((rc = nudge_event_writer_open(&w, st, (int64_t)time(NULL),
	    err)) != 0 ||
	    (rc = nudge_store_prepare(st, &parse, parse_sql, err)) != 0 ||
	    (rc = nudge_store_prepare(st, &seen, "SELECT 1 FROM events"
	    " WHERE contact_id = ?1 AND type = ?2 AND at = ?3 AND props = ?4",
	    err)) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		what[i] = 0;
		if ((r = spool_read(dfd, names[i], &b)) == 1)
			continue;
		if (r == -1) {
			rc = nudge_errf(err, errno == ENOMEM ? EX_OSERR :
			    EX_IOERR, "%s/%s: %s", dir, names[i],
			    strerror(errno));
			goto fail;
		}
		if (b.len > SPOOL_MAXENTRY ||
		    spool_parse(parse, b.s != NULL ? b.s : "", b.len, &e) != 0) {
			what[i] = BAD;
			continue;
		}
		what[i] = DONE;
		/* a drain killed between its commit and its unlinks left
		 * this entry recorded: the name in the props tells */
		sqlite3_reset(seen);
		sqlite3_bind_int64(seen, 1, e.contact);
		sqlite3_bind_text(seen, 2, e.type, -1, SQLITE_STATIC);
		sqlite3_bind_int64(seen, 3, e.at);
		sqlite3_bind_text(seen, 4, e.props, -1, SQLITE_STATIC);
		if ((r = sqlite3_step(seen)) == SQLITE_ROW)
			continue;
		if (r != SQLITE_DONE) {
			rc = nudge_store_error(st, err, "events");
			goto fail;
		}
		if ((rc = nudge_store_exec(st, "SAVEPOINT spool", err)) != 0)
			goto fail;
		if ((rc = read_msg(st, w, &e, &m, &msg, err)) == 0)
			rc = write_tev(st, w, &e, &m, err);
		if (rc == EX_DATAERR) /* the contact is gone: drop it */
			rc = nudge_store_exec(st, "ROLLBACK TO spool", err);
		if (rc != 0 || (rc = nudge_store_exec(st, "RELEASE spool",
		    err)) != 0)
			goto fail;
	}
	sqlite3_finalize(parse);
	sqlite3_finalize(seen);
	sqlite3_finalize(msg);
	nudge_event_writer_close(w);
	nudge_buf_free(&b);
	return nudge_store_commit(st, err);
fail:
	sqlite3_finalize(parse);
	sqlite3_finalize(seen);
	sqlite3_finalize(msg);
	nudge_event_writer_close(w);
	nudge_buf_free(&b);
	nudge_store_rollback(st);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the ready entries of the spool (their names start with 'e') into
 * *names, sorted, and removes entries a killed writer left half-written.
 * Returns 0 or -1 (errno set). */
static int
spool_list(int dfd, char ***names, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;
	time_t now = time(NULL);
	int fd = dup(dfd), saved;

	*n = 0;
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		saved = errno;
		if (fd != -1)
			close(fd);
		errno = saved;
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (strncmp(de->d_name, ".t-", 3) == 0 &&
		    fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    sb.st_mtime < now - SPOOL_STALE)
			unlinkat(dfd, de->d_name, 0);
		if (de->d_name[0] != 'e')
			continue;
		if (*n == cap) {
			char **nv;

			cap = cap ? 2 * cap : 64;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL)
				goto oom;
			v = nv;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL)
			goto oom;
		(*n)++;
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof *v, name_cmp);
	*names = v;
	return 0;
oom:
	closedir(d);
	while (*n > 0)
		free(v[--*n]);
	free(v);
	errno = ENOMEM;
	return -1;
}

int
nudge_track_drain(nudge_store *st, long max, int flags, long *n,
    nudge_err *err)
{
	nudge_store *wst = st;
	char **names = NULL, *dir, bad[300];
	unsigned char what[NUDGE_TRACK_DRAIN_BATCH];
	size_t i, j, k, total = 0, count;
	int dfd, rc = 0;

	if (n != NULL)
		*n = 0;
	if ((dir = spool_dir(st->path)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		rc = errno == ENOENT ? 0 : nudge_errf(err, EX_IOERR, "%s: %s",
		    dir, strerror(errno));
		free(dir);
		return rc;
	}
	/* the lock serialises drains: the check for an entry already
	 * recorded and its recording are one step */
	while ((rc = flock(dfd, LOCK_EX | ((flags & NUDGE_TRACK_DRAIN_TRY) ?
	    LOCK_NB : 0))) == -1 && errno == EINTR)
		;
	if (rc == -1) {
		rc = errno == EWOULDBLOCK ? 0 : nudge_errf(err, EX_IOERR,
		    "%s: lock: %s", dir, strerror(errno));
		goto out;
	}
	if (spool_list(dfd, &names, &total) == -1) {
		rc = nudge_errf(err, errno == ENOMEM ? EX_OSERR : EX_IOERR,
		    "%s: %s", dir, strerror(errno));
		goto out;
	}
	count = total;
	if (max > 0 && count > (size_t)max)
		count = (size_t)max;
	if (count > 0 && sqlite3_db_readonly(st->db, "main") == 1 &&
	    (rc = nudge_store_open(&wst, st->path, 0, err)) != 0) {
		wst = NULL;
		goto out;
	}
	for (i = 0; i < count && rc == 0; i += k) {
		k = count - i < NUDGE_TRACK_DRAIN_BATCH ? count - i :
		    NUDGE_TRACK_DRAIN_BATCH;
		if ((rc = drain_batch(wst, dfd, dir, names + i, k, what,
		    err)) != 0)
			break;
		for (j = 0; j < k; j++) {
			if (what[j] == BAD) {
				snprintf(bad, sizeof bad, ".bad-%s",
				    names[i + j]);
				if (renameat(dfd, names[i + j], dfd, bad) == 0)
					continue;
			} else if (what[j] != DONE ||
			    unlinkat(dfd, names[i + j], 0) == 0 ||
			    errno == ENOENT) {
				if (what[j] == DONE && n != NULL)
					(*n)++;
				continue;
			}
			rc = nudge_errf(err, EX_IOERR, "%s/%s: %s", dir,
			    names[i + j], strerror(errno));
			break;
		}
	}
out:
	if (wst != st)
		nudge_store_close(wst);
	for (i = 0; i < total; i++)
		free(names[i]);
	free(names);
	close(dfd);
	free(dir);
	return rc;
}

/* The token of a /K/TOKEN path of kind want, or NULL (404 set). */
static int
get_token(struct req *q, const char *tok, enum nudge_token_kind want,
    nudge_token *t, nudge_buf *scratch)
{
	enum nudge_token_verdict v;

	v = nudge_token_open(tok, strlen(tok), q->o->key, q->o->keylen,
	    q->o->now, t, scratch);
	if (v == NUDGE_TOKEN_OK && t->kind == want)
		return 0;
	nudge_errf(q->err, EX_DATAERR, "%s token", v == NUDGE_TOKEN_EXPIRED ?
	    "an expired" : "a bad");
	not_found(q);
	return -1;
}

static void
do_open(struct req *q, const nudge_token *t)
{
	const char *proxy = nudge_track_proxy(q->r->user_agent,
	    q->r->remote_addr);
	char props[48];

	/* "none" too, so that a segment can keep only real opens:
	 * opened proxy = "none" */
	snprintf(props, sizeof props, "{\"proxy\":\"%s\"}",
	    proxy != NULL ? proxy : "none");
	/* the pixel whatever happened to the event (err says it): a
	 * contact deleted since the send, a store and spool that both
	 * failed */
	(void)record_token(q, t, "opened", props, "track");
	set(q, 200, "image/gif", pixel, sizeof pixel);
	header(q, NOCACHE);
}

static void
do_click(struct req *q, const nudge_token *t)
{
	nudge_buf props = { 0 }, loc = { 0 };
	/* only an http(s) URL sealed in the token is ever a Location */
	if (!(strncasecmp(t->link, "https://", 8) == 0 ||
	    strncasecmp(t->link, "http://", 7) == 0) ||
	    strpbrk(t->link, "\r\n") != NULL) {
		nudge_errf(q->err, EX_DATAERR, "a token with a bad link");
		not_found(q);
		return;
	}
	if (nudge_event_prop(&props, "url", 3, t->link, t->link_len) == -1 ||
	    nudge_event_props_end(&props) == NULL) {
		q->oom = 1;
		return;
	}
	/* the person goes where the link says whatever happened to the
	 * event (err says it) */
	(void)record_token(q, t, "clicked", props.s, "track");
	nudge_buf_free(&props);
	text(q, 302, "");
	if (nudge_buf_printf(&loc, "Location: %s\r\n", t->link) == -1)
		q->oom = 1;
	else
		header(q, loc.s);
	header(q, NOCACHE);
	nudge_buf_free(&loc);
}

static const char page_head[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width\">"
    "<meta name=\"robots\" content=\"noindex\">"
    "<title>Unsubscribe</title></head><body>\n";

/* True when the body is an RFC 8058 one-click POST: the form field
 * List-Unsubscribe=One-Click, urlencoded or as multipart/form-data. */
static int
one_click(const nudge_track_req *r, const struct form *f)
{
	const char *v = form_get(f, "List-Unsubscribe");
	const char *p, *end;

	if (v != NULL)
		return strcmp(v, "One-Click") == 0;
	if (r->content_type == NULL || strncasecmp(r->content_type,
	    "multipart/form-data", 19) != 0 || r->body == NULL)
		return 0;
	end = r->body + r->body_len;
	p = memmem(r->body, r->body_len, "name=\"List-Unsubscribe\"", 23);
	if (p == NULL)
		return 0;
	p = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
	return p != NULL && (size_t)(end - p) >= 13 &&
	    memcmp(p + 4, "One-Click", 9) == 0 &&
	    (p[13] == '\r' || p[13] == '\n');
}

static void
do_unsub(struct req *q, const nudge_token *t)
{
	struct form f = { 0 };
	int rc, oneclick;
	nudge_buf page = { 0 };

	if (strcmp(q->r->method, "GET") == 0 ||
	    strcmp(q->r->method, "HEAD") == 0) {
		/* no change on GET: scanners and prefetchers follow links */
		if (nudge_buf_puts(&page, page_head) == -1 ||
		    nudge_buf_puts(&page, "<h1>Unsubscribe</h1>\n"
		    "<p>Stop receiving these messages?</p>\n"
		    "<form method=\"post\">"
		    "<input type=\"hidden\" name=\"confirm\" value=\"yes\">"
		    "<button type=\"submit\">Unsubscribe</button></form>\n"
		    "</body></html>\n") == -1)
			q->oom = 1;
		else
			set(q, 200, "text/html; charset=utf-8", page.s,
			    page.len);
		header(q, NOCACHE);
		nudge_buf_free(&page);
		return;
	}
	if (strcmp(q->r->method, "POST") != 0) {
		text(q, 405, "method not allowed\n");
		header(q, "Allow: GET, POST\r\n");
		return;
	}
	if (q->r->body != NULL && form_parse(&f, q->r->body,
	    q->r->body_len) == -1) {
		form_free(&f);
		q->oom = 1;
		return;
	}
	oneclick = one_click(q->r, &f);
	if (!oneclick && (form_get(&f, "confirm") == NULL ||
	    strcmp(form_get(&f, "confirm"), "yes") != 0)) {
		form_free(&f);
		nudge_errf(q->err, EX_DATAERR, "an unsubscribe POST without "
		    "List-Unsubscribe=One-Click or confirm=yes");
		text(q, 400, "bad request\n");
		return;
	}
	form_free(&f);
	rc = record_token(q, t, "unsubscribed", NULL, oneclick ?
	    "track:one-click" : "track:page");
	if (rc != 0 && rc != EX_DATAERR) {
		store_failed(q, rc);
		return;
	}
	if (oneclick) {
		text(q, 200, "unsubscribed\n");
		return;
	}
	if (nudge_buf_puts(&page, page_head) == -1 ||
	    nudge_buf_puts(&page, "<h1>Unsubscribed</h1>\n<p>You will not "
	    "receive these messages any more.</p>\n</body></html>\n") == -1)
		q->oom = 1;
	else
		set(q, 200, "text/html; charset=utf-8", page.s, page.len);
	nudge_buf_free(&page);
}

static int
field_cmp(const void *a, const void *b)
{
	const struct field *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c != 0 ? c : strcmp(x->v, y->v);
}

/* Twilio's scheme: base64 of HMAC-SHA1 over the URL it called and every
 * POST field, sorted by name, each name then its value. */
static int
twilio_ok(struct req *q, struct form *f)
{
	nudge_buf s = { 0 }, sig = { 0 };
	unsigned char md[20];
	const char *base = q->o->base_url;
	size_t i, blen = strlen(base);
	int good = 0;

	if (q->r->twilio_sig == NULL)
		return 0;
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (f->n > 1)	/* qsort's base may not be NULL, even for 0 */
		qsort(f->f, f->n, sizeof *f->f, field_cmp);
	if (nudge_buf_add(&s, base, blen) == -1 ||
	    nudge_buf_puts(&s, q->r->path) == -1 ||
	    (q->r->query != NULL && *q->r->query != '\0' &&
	    nudge_buf_printf(&s, "?%s", q->r->query) == -1))
		goto out;
	for (i = 0; i < f->n; i++)
		if (nudge_buf_puts(&s, f->f[i].k) == -1 ||
		    nudge_buf_puts(&s, f->f[i].v) == -1)
			goto out;
	if (nudge_hmac(20, q->o->twilio_token, strlen(q->o->twilio_token),
	    s.s, s.len, md) == -1 || nudge_b64_encode(&sig, md, 20, 0) == -1)
		goto out;
	good = strlen(q->r->twilio_sig) == sig.len &&
	    nudge_ct_equal(sig.s, q->r->twilio_sig, sig.len);
out:
	nudge_buf_free(&s);
	nudge_buf_free(&sig);
	return good;
}

/* The ledger row whose provider id is pid, for Twilio's callbacks. */
static int
msg_by_provider(struct req *q, const char *pid, int64_t *id, int64_t *cid,
    char *campaign, size_t clen, char *step, size_t slen)
{
	sqlite3_stmt *s;
	int rc;

	*id = *cid = 0;
	if (sqlite3_prepare_v2(q->st->db, "SELECT m.id, m.contact_id, c.name,"
	    " m.step FROM messages m JOIN campaigns c ON c.id = m.campaign_id"
	    " WHERE m.provider_id = ?", -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(q->st, q->err, "messages");
	sqlite3_bind_text(s, 1, pid, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		*cid = sqlite3_column_int64(s, 1);
		snprintf(campaign, clen, "%s", sqlite3_column_text(s, 2));
		snprintf(step, slen, "%s", sqlite3_column_text(s, 3));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(q->st, q->err, "messages");
	return 0;
}

static int
word_in(const char *w, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(w, list[i]) == 0)
			return 1;
	return 0;
}

/* Twilio: a status callback (MessageStatus) or an inbound message. */
static void
hook_twilio(struct req *q)
{
	static const char twiml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<Response></Response>\n";
	struct form f = { 0 };
	const char *status, *body, *from;
	nudge_event ev = { 0 };
	nudge_buf props = { 0 };
	char campaign[256], step[256], word[32];
	int rc = 0;

	if (q->o->twilio_token == NULL) {
		not_found(q);
		return;
	}
	if (q->r->body != NULL && form_parse(&f, q->r->body,
	    q->r->body_len) == -1) {
		q->oom = 1;
		goto out;
	}
	if (!twilio_ok(q, &f)) {
		nudge_errf(q->err, EX_DATAERR,
		    "twilio: bad X-Twilio-Signature");
		text(q, 403, "forbidden\n");
		goto out;
	}
	status = form_get(&f, "MessageStatus");
	body = form_get(&f, "Body");
	from = form_get(&f, "From");
	ev.at = q->o->now;
	ev.channel = "sms";
	if (status != NULL && strcmp(status, "received") != 0) {
		const char *sid = form_get(&f, "MessageSid");
		const char *reason = NULL, *cls = NULL;
		const char *code = form_get(&f, "ErrorCode");
		nudge_bounce_class k = NUDGE_BOUNCE_NONE;

		if (strcmp(status, "delivered") == 0)
			ev.type = "delivered";
		else if (strcmp(status, "undelivered") == 0 ||
		    strcmp(status, "failed") == 0) {
			/* bounce.h's classes for Twilio's error codes: only
			 * a number that does not exist or takes no SMS is
			 * hard; an unreachable handset may be back
			 * tomorrow; a carrier's spam filter is our fault */
			reason = code == NULL ? NULL :
			    strcmp(code, "30005") == 0 ? "userunknown" :
			    strcmp(code, "30006") == 0 ? "notaccept" :
			    strcmp(code, "30003") == 0 ? "networkerror" :
			    strcmp(code, "30007") == 0 ? "spamdetected" :
			    strcmp(code, "30004") == 0 ? "filtered" : NULL;
			ev.type = reason != NULL && strcmp(reason,
			    "spamdetected") != 0 ? "bounced" : "failed";
			if (reason != NULL) {
				k = nudge_bounce_class_of(
				    nudge_bounce_reason_find(reason), 1);
				cls = nudge_bounce_class_name(k);
			}
			ev.keep_consent = k != NUDGE_BOUNCE_HARD;
		}
		if (ev.type == NULL || sid == NULL)
			goto ack;
		if ((rc = open_store(q)) != 0)
			goto out;
		if ((rc = msg_by_provider(q, sid, &ev.message_id,
		    &ev.contact_id, campaign, sizeof campaign, step,
		    sizeof step)) != 0)
			goto fail;
		if (ev.message_id == 0)
			goto ack;
		ev.campaign = campaign;
		ev.step = step[0] != '\0' ? step : NULL;
		ev.source = "twilio";
		if (code != NULL && *code != '\0' && (nudge_event_prop(&props,
		    "error_code", 10, code, strlen(code)) == -1 ||
		    (reason != NULL && (nudge_event_prop(&props, "reason", 6,
		    reason, strlen(reason)) == -1 || nudge_event_prop(&props,
		    "class", 5, cls, strlen(cls)) == -1)) ||
		    (ev.props_json = nudge_event_props_end(&props)) == NULL)) {
			q->oom = 1;
			goto out;
		}
	} else if (body != NULL && from != NULL) {
		size_t n;

		if ((rc = open_store(q)) != 0)
			goto out;
		if ((rc = nudge_contact_find(q->st, from, NULL,
		    &ev.contact_id, q->err)) == EX_DATAERR ||
		    (rc == 0 && ev.contact_id == 0)) {
			rc = 0;
			goto ack;
		}
		if (rc != 0)
			goto fail;
		while (*body == ' ' || *body == '\t' || *body == '\n' ||
		    *body == '\r')
			body++;
		n = strlen(body);
		while (n > 0 && (body[n - 1] == ' ' || body[n - 1] == '\n' ||
		    body[n - 1] == '\r' || body[n - 1] == '\t' ||
		    body[n - 1] == '.' || body[n - 1] == '!'))
			n--;
		snprintf(word, sizeof word, "%.*s", (int)(n < 31 ? n : 31),
		    body);
		if (n < 32 && word_in(word, stop_words, sizeof stop_words /
		    sizeof stop_words[0])) {
			ev.type = "unsubscribed";
			ev.source = "twilio:STOP";
		} else if (n < 32 && word_in(word, start_words,
		    sizeof start_words / sizeof start_words[0])) {
			ev.type = "subscribed";
			ev.source = "twilio:START";
		} else {
			ev.type = "replied";
			ev.source = "twilio";
			if (nudge_event_prop(&props, "body", 4, body,
			    strlen(body)) == -1 || (ev.props_json =
			    nudge_event_props_end(&props)) == NULL) {
				q->oom = 1;
				goto out;
			}
		}
	} else {
		goto ack;
	}
	if ((rc = record(q, &ev)) != 0 && rc != EX_DATAERR)
		goto fail;
	rc = 0;
ack:
	set(q, 200, "text/xml", twiml, sizeof twiml - 1);
	goto out;
fail:
	store_failed(q, rc);
out:
	nudge_buf_free(&props);
	form_free(&f);
}

/* Mailgun's webhooks (JSON): permanent failures, complaints and
 * unsubscribes, signed with HMAC-SHA256 over timestamp and token. */
static void
hook_mailgun(struct req *q)
{
	sqlite3_stmt *s = NULL;
	const char *ts, *tok, *sig, *event, *sev, *rcpt, *mid, *code, *diag;
	const nudge_bounce_reason *why = NULL;
	nudge_bounce_class k;
	const char *cls = NULL;
	int perm;
	nudge_event ev = { 0 };
	nudge_buf m = { 0 }, props = { 0 };
	unsigned char md[32];
	char hex[65], step[256], chan[32], campaign[256];
	int64_t t;
	int i, rc = 0;

	if (q->o->mailgun_key == NULL) {
		not_found(q);
		return;
	}
	if ((rc = open_store(q)) != 0)
		return;
	if (sqlite3_prepare_v2(q->st->db, "SELECT"
	    " json_extract(?1, '$.signature.timestamp'),"
	    " json_extract(?1, '$.signature.token'),"
	    " json_extract(?1, '$.signature.signature'),"
	    " json_extract(?1, '$.\"event-data\".event'),"
	    " json_extract(?1, '$.\"event-data\".severity'),"
	    " json_extract(?1, '$.\"event-data\".recipient'),"
	    " json_extract(?1,"
	    "  '$.\"event-data\".message.headers.\"message-id\"'),"
	    " json_extract(?1, '$.\"event-data\".\"delivery-status\".code'),"
	    " json_extract(?1, '$.\"event-data\".\"delivery-status\".message')"
	    " || ' ' || coalesce(json_extract(?1,"
	    "  '$.\"event-data\".\"delivery-status\".description'), '')"
	    " WHERE json_valid(?1)", -1, &s, NULL) != SQLITE_OK) {
		rc = nudge_store_error(q->st, q->err, "json");
		goto fail;
	}
	sqlite3_bind_text(s, 1, q->r->body != NULL ? q->r->body : "",
	    (int)q->r->body_len, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		nudge_errf(q->err, EX_DATAERR, "mailgun: not a JSON object");
		text(q, 400, "bad request\n");
		goto out;
	}
	ts = (const char *)sqlite3_column_text(s, 0);
	tok = (const char *)sqlite3_column_text(s, 1);
	sig = (const char *)sqlite3_column_text(s, 2);
	if (ts == NULL || tok == NULL || sig == NULL ||
	    nudge_parse_i64(ts, &t) == -1 || strlen(sig) != 64 ||
	    nudge_buf_puts(&m, ts) == -1 || nudge_buf_puts(&m, tok) == -1 ||
	    nudge_hmac(32, q->o->mailgun_key, strlen(q->o->mailgun_key), m.s,
	    m.len, md) == -1) {
		nudge_errf(q->err, EX_DATAERR, "mailgun: no signature");
		text(q, 403, "forbidden\n");
		goto out;
	}
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (!nudge_ct_equal(hex, sig, 64) || t < q->o->now - MAILGUN_SKEW ||
	    t > q->o->now + MAILGUN_SKEW) {
		nudge_errf(q->err, EX_DATAERR, "mailgun: bad or stale "
		    "signature");
		text(q, 403, "forbidden\n");
		goto out;
	}
	event = (const char *)sqlite3_column_text(s, 3);
	sev = (const char *)sqlite3_column_text(s, 4);
	rcpt = (const char *)sqlite3_column_text(s, 5);
	mid = (const char *)sqlite3_column_text(s, 6);
	code = (const char *)sqlite3_column_text(s, 7);
	diag = (const char *)sqlite3_column_text(s, 8);
	if (event == NULL || rcpt == NULL)
		goto ack;
	if (strcmp(event, "failed") == 0 && sev != NULL &&
	    strcmp(sev, "permanent") == 0)
		ev.type = "bounced";
	else if (strcmp(event, "complained") == 0)
		ev.type = "complained";
	else if (strcmp(event, "unsubscribed") == 0)
		ev.type = "unsubscribed";
	else if (strcmp(event, "delivered") == 0)
		ev.type = "delivered";
	else
		goto ack;
	if ((rc = nudge_contact_find(q->st, rcpt, NULL, &ev.contact_id,
	    q->err)) == EX_DATAERR || (rc == 0 && ev.contact_id == 0)) {
		rc = 0;
		goto ack;
	}
	if (rc != 0)
		goto fail;
	ev.channel = "email";
	ev.at = q->o->now;
	ev.source = "mailgun";
	if (mid != NULL && (rc = nudge_track_find_message(q->st,
	    ev.contact_id, mid, &ev.message_id, campaign, sizeof campaign,
	    step, sizeof step, chan, sizeof chan, q->err)) != 0)
		goto fail;
	if (ev.message_id != 0) {
		ev.campaign = campaign;
		ev.step = step[0] != '\0' ? step : NULL;
	}
	if (strcmp(ev.type, "bounced") == 0) {
		/* Mailgun's "permanent" is a 5xx; what it means for the
		 * address is bounce.h's to say */
		why = nudge_bounce_classify(NULL, code != NULL ? atoi(code) :
		    550, diag, &perm);
		k = nudge_bounce_class_of(why, 1);
		cls = nudge_bounce_class_name(k);
		ev.keep_consent = k != NUDGE_BOUNCE_HARD;
	}
	if ((code != NULL && nudge_event_prop(&props, "code", 4, code,
	    strlen(code)) == -1) || (why != NULL && (nudge_event_prop(&props,
	    "reason", 6, why->name, strlen(why->name)) == -1 ||
	    nudge_event_prop(&props, "class", 5, cls, strlen(cls)) == -1)) ||
	    ((code != NULL || why != NULL) && (ev.props_json =
	    nudge_event_props_end(&props)) == NULL)) {
		q->oom = 1;
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if ((rc = record(q, &ev)) != 0 && rc != EX_DATAERR)
		goto fail;
ack:
	text(q, 200, "ok\n");
	goto out;
fail:
	store_failed(q, rc);
out:
	sqlite3_finalize(s);
	nudge_buf_free(&m);
	nudge_buf_free(&props);
}

int
nudge_track_handle(const nudge_track_opts *o, const nudge_track_req *r,
    nudge_track_resp *resp, nudge_err *err)
{
	struct req q = { o, r, resp, err, NULL, 0, 0 };
	const char *path = r->path != NULL ? r->path : "";
	const char *method = r->method != NULL ? r->method : "";
	nudge_buf scratch = { 0 };
	nudge_token t;

	err->msg[0] = '\0';
	if ((path[0] == '/' && strchr("ocu", path[1]) != NULL &&
	    path[1] != '\0' && path[2] == '/')) {
		enum nudge_token_kind want = path[1] == 'o' ? NUDGE_TOKEN_OPEN :
		    path[1] == 'c' ? NUDGE_TOKEN_CLICK : NUDGE_TOKEN_UNSUB;

		if (want != NUDGE_TOKEN_UNSUB && strcmp(method, "GET") != 0 &&
		    strcmp(method, "HEAD") != 0) {
			text(&q, 405, "method not allowed\n");
			header(&q, "Allow: GET\r\n");
		} else if (get_token(&q, path + 3, want, &t, &scratch) == 0) {
			if (want == NUDGE_TOKEN_OPEN)
				do_open(&q, &t);
			else if (want == NUDGE_TOKEN_CLICK)
				do_click(&q, &t);
			else
				do_unsub(&q, &t);
		}
	} else if (strncmp(path, "/hook/", 6) == 0 &&
	    strcmp(method, "POST") != 0) {
		text(&q, 405, "method not allowed\n");
		header(&q, "Allow: POST\r\n");
	} else if (strcmp(path, "/hook/twilio") == 0) {
		hook_twilio(&q);
	} else if (strcmp(path, "/hook/mailgun") == 0) {
		hook_mailgun(&q);
	} else if (strncmp(path, "/s/", 3) == 0) {
		if (nudge_signup_handle(o, r, resp, &q.st, err) != 0)
			q.oom = 1;
	} else {
		not_found(&q);
	}
	nudge_buf_free(&scratch);
	if (q.wrote) {
		/* the store takes writes again: what was spooled while it
		 * did not goes in now, a batch at most, unless another
		 * process is at it */
		nudge_err de;

		if (nudge_track_drain(q.st, NUDGE_TRACK_DRAIN_REQUEST,
		    NUDGE_TRACK_DRAIN_TRY, NULL, &de) != 0 &&
		    err->msg[0] == '\0')
			nudge_errf(err, 0, "spool: %s", de.msg);
	}
	if (q.st != NULL && !o->keep_store)
		nudge_store_close(q.st);
	if (q.oom)
		return nudge_errf(err, EX_OSERR, "out of memory");
	return 0;
}

int
nudge_track_form_parse(nudge_form *f, const char *s, size_t n)
{
	return form_parse(f, s, n);
}

const char *
nudge_track_form_get(const nudge_form *f, const char *k)
{
	return form_get(f, k);
}

void
nudge_track_form_free(nudge_form *f)
{
	form_free(f);
}

void
nudge_track_resp_free(nudge_track_resp *resp)
{
	nudge_buf_free(&resp->headers);
	nudge_buf_free(&resp->body);
}
