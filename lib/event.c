/* event: recording events and their consent rows; CSV and JSON import. */
#include "event.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channel.h"
#include "clock.h"
#include "contact.h"
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

struct camp {
	char *name;
	uint32_t hash;
	int64_t id;
	/* first_sent_at is at most sent_at in the store, as long as no
	 * transaction rolled back since (sent_gen: the store's rollbacks
	 * then, plus 1; 0: not known) */
	int64_t sent_at;
	unsigned long sent_gen;
};

struct nudge_event_writer {
	nudge_store *st;
	int64_t now;
	sqlite3_stmt *ins_event, *ins_consent;
	sqlite3_stmt *by_email, *by_phone, *by_id;
	sqlite3_stmt *new_email, *new_phone;
	sqlite3_stmt *camp_get, *camp_put, *camp_sent;
	/* campaign name -> id: open addressing, at most half full */
	struct camp *tab;
	size_t cap, used;
	struct camp *last;   /* rows often repeat the previous campaign */
};

static const char *const sqls[] = {
	"INSERT INTO events (contact_id, type, channel, campaign_id, step,"
	" message_id, at, props) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	"INSERT INTO consent (contact_id, channel, status, at, source,"
	" event_id) VALUES (?, ?, ?, ?, ?, ?)",
	"SELECT id FROM contacts WHERE email = ?",
	"SELECT id FROM contacts WHERE phone = ?",
	"SELECT id FROM contacts WHERE id = ?",
	"INSERT INTO contacts (email, created_at, updated_at) VALUES (?, ?, ?)",
	"INSERT INTO contacts (phone, created_at, updated_at) VALUES (?, ?, ?)",
	"SELECT id FROM campaigns WHERE name = ?",
	/* another process may add the same campaign at the same time */
	"INSERT INTO campaigns (name, created_at) VALUES (?, ?)"
	" ON CONFLICT (name) DO NOTHING",
	/* a campaign's first sent event dates it, for "in last N
	 * campaigns" (segment.c), and names its channel */
	"UPDATE campaigns SET first_sent_at = ?2,"
	" channel = coalesce(channel, ?3) WHERE id = ?1"
	" AND (first_sent_at IS NULL OR first_sent_at > ?2)",
};

int
nudge_event_writer_open(nudge_event_writer **out, nudge_store *st,
    int64_t now, nudge_err *err)
{
	nudge_event_writer *w;
	sqlite3_stmt **slot[10];
	size_t i;
	int rc;

	*out = NULL;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	w->st = st;
	w->now = now;
	slot[0] = &w->ins_event;
	slot[1] = &w->ins_consent;
	slot[2] = &w->by_email;
	slot[3] = &w->by_phone;
	slot[4] = &w->by_id;
	slot[5] = &w->new_email;
	slot[6] = &w->new_phone;
	slot[7] = &w->camp_get;
	slot[8] = &w->camp_put;
	slot[9] = &w->camp_sent;
	for (i = 0; i < sizeof sqls / sizeof sqls[0]; i++) {
		rc = nudge_store_prepare(st, slot[i], sqls[i], err);
		if (rc != 0) {
			nudge_event_writer_close(w);
			return rc;
		}
	}
	*out = w;
	return 0;
}

void
nudge_event_writer_close(nudge_event_writer *w)
{
	size_t i;

	if (w == NULL)
		return;
	sqlite3_finalize(w->ins_event);
	sqlite3_finalize(w->ins_consent);
	sqlite3_finalize(w->by_email);
	sqlite3_finalize(w->by_phone);
	sqlite3_finalize(w->by_id);
	sqlite3_finalize(w->new_email);
	sqlite3_finalize(w->new_phone);
	sqlite3_finalize(w->camp_get);
	sqlite3_finalize(w->camp_put);
	sqlite3_finalize(w->camp_sent);
	for (i = 0; i < w->cap; i++)
		free(w->tab[i].name);
	free(w->tab);
	free(w);
}

/* A name (util.h) without '-', so that a type is also a word of the
 * segment language on its own. */
int
nudge_event_type_ok(const char *s)
{
	return nudge_is_name(s) && strchr(s, '-') == NULL;
}

/* Steps a statement that yields at most one integer; *v = 0 for none. */
static int
step_id(nudge_event_writer *w, sqlite3_stmt *s, int64_t *v, nudge_err *err,
    const char *what)
{
	int rc = sqlite3_step(s);

	*v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(w->st, err, what);
	return 0;
}

/* Steps an INSERT; *v is the new rowid. */
static int
step_insert(nudge_event_writer *w, sqlite3_stmt *s, int64_t *v,
    nudge_err *err, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return nudge_store_error(w->st, err, what);
	if (v != NULL)
		*v = sqlite3_last_insert_rowid(w->st->db);
	return 0;
}

static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int
camp_grow(nudge_event_writer *w)
{
	size_t cap = w->cap ? w->cap * 2 : 64, i, j;
	struct camp *t = calloc(cap, sizeof *t);

	if (t == NULL)
		return -1;
	for (i = 0; i < w->cap; i++) {
		if (w->tab[i].name == NULL)
			continue;
		for (j = w->tab[i].hash & (cap - 1); t[j].name != NULL;
		    j = (j + 1) & (cap - 1))
			;
		t[j] = w->tab[i];
	}
	free(w->tab);
	w->tab = t;
	w->cap = cap;
	w->last = NULL;
	return 0;
}

int
nudge_event_campaign_id(nudge_event_writer *w, const char *name,
    int64_t *id, nudge_err *err)
{
	uint32_t h;
	size_t j;
	int rc;

	if (w->last != NULL && strcmp(w->last->name, name) == 0) {
		*id = w->last->id;
		return 0;
	}
	h = fnv1a(name);
	if (w->cap > 0) {
		for (j = h & (w->cap - 1); w->tab[j].name != NULL;
		    j = (j + 1) & (w->cap - 1)) {
			if (w->tab[j].hash == h &&
			    strcmp(w->tab[j].name, name) == 0) {
				w->last = &w->tab[j];
				*id = w->tab[j].id;
				return 0;
			}
		}
	}
	sqlite3_bind_text(w->camp_get, 1, name, -1, SQLITE_STATIC);
	if ((rc = step_id(w, w->camp_get, id, err, "campaigns")) != 0)
		return rc;
	if (*id == 0) {
		sqlite3_bind_text(w->camp_put, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(w->camp_put, 2, w->now);
		if ((rc = step_insert(w, w->camp_put, id, err,
		    "campaigns")) != 0)
			return rc;
		if (sqlite3_changes(w->st->db) == 0) {
			sqlite3_bind_text(w->camp_get, 1, name, -1,
			    SQLITE_STATIC);
			if ((rc = step_id(w, w->camp_get, id, err,
			    "campaigns")) != 0)
				return rc;
		}
	}
	if ((w->used + 1) * 2 > w->cap && camp_grow(w) == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	for (j = h & (w->cap - 1); w->tab[j].name != NULL;
	    j = (j + 1) & (w->cap - 1))
		;
	if ((w->tab[j].name = strdup(name)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	w->tab[j].hash = h;
	w->tab[j].id = *id;
	w->tab[j].sent_at = 0;
	w->tab[j].sent_gen = 0;
	w->used++;
	w->last = &w->tab[j];
	return 0;
}

int
nudge_event_contact(nudge_event_writer *w, const char *ref,
    const char *country, int create, int64_t *id, int *created,
    nudge_err *err)
{
	char key[NUDGE_EMAIL_MAX + 1];
	const char *why;
	sqlite3_stmt *find, *make;
	int64_t v;
	int rc;

	*id = 0;
	if (created != NULL)
		*created = 0;
	switch (nudge_contact_ref_kind(ref)) {
	case NUDGE_REF_ID:
		if (nudge_parse_i64(ref, &v) == -1 || v <= 0)
			return nudge_errf(err, EX_DATAERR, "not a contact id");
		sqlite3_bind_int64(w->by_id, 1, v);
		if ((rc = step_id(w, w->by_id, id, err, "contacts")) != 0)
			return rc;
		if (*id == 0 && create)
			return nudge_errf(err, EX_DATAERR, "no such contact "
			    "(an id cannot create one: give an email or "
			    "phone)");
		return 0;
	case NUDGE_REF_EMAIL:
		if (nudge_email_norm(ref, strlen(ref), key, &why) == -1)
			return nudge_errf(err, EX_DATAERR,
			    "not an email address (%s)", why);
		find = w->by_email;
		make = w->new_email;
		break;
	default:
		if (nudge_phone_norm(ref, strlen(ref), country, key,
		    &why) == -1)
			return nudge_errf(err, EX_DATAERR,
			    "not a contact id, email or phone (%s)", why);
		find = w->by_phone;
		make = w->new_phone;
		break;
	}
	sqlite3_bind_text(find, 1, key, -1, SQLITE_STATIC);
	if ((rc = step_id(w, find, id, err, "contacts")) != 0)
		return rc;
	if (*id != 0 || !create)
		return 0;
	sqlite3_bind_text(make, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(make, 2, w->now);
	sqlite3_bind_int64(make, 3, w->now);
	if ((rc = step_insert(w, make, id, err, "create contact")) != 0)
		return rc;
	if (created != NULL)
		*created = 1;
	return 0;
}

static int
consent_row(nudge_event_writer *w, const nudge_event *ev, const char *channel,
    const char *status, int64_t eid, nudge_err *err)
{
	sqlite3_stmt *s = w->ins_consent;

	sqlite3_bind_int64(s, 1, ev->contact_id);
	sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, ev->at);
	sqlite3_bind_text(s, 5, ev->source != NULL ? ev->source : "event", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, eid);
	return step_insert(w, s, NULL, err, "consent");
}

/* True when an inbound SMS text (the whole of it, blanks and case aside)
 * asks to stop: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, or the
 * Hebrew הסר that Israeli law makes the removal word. */
static int
stop_word(const char *props)
{
	static const char *const words[] = { "stop", "stopall",
		"unsubscribe", "cancel", "end", "quit", "\xd7\x94\xd7\xa1\xd7\xa8" };
	char text[64], *p, *e;
	size_t i;

	if (props == NULL || nudge_json_path(props, strlen(props), "text",
	    text, sizeof text) != 0)
		return 0;
	for (p = text; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
	    p++)
		;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r' || e[-1] == '.' || e[-1] == '!'))
		*--e = '\0';
	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasecmp(p, words[i]) == 0)
			return 1;
	return 0;
}

/* The consent side of an event: see nudge_event_record. */
static int
consent(nudge_event_writer *w, const nudge_event *ev, int64_t eid,
    nudge_err *err)
{
	const char *t = ev->type;
	size_t i;
	int rc;

	if (strcmp(t, "unsubscribed") == 0) {
		if (ev->channel != NULL)
			return consent_row(w, ev, ev->channel, t, eid, err);
		for (i = 0; i < NUDGE_NCHANNELS; i++)
			if ((rc = consent_row(w, ev, nudge_channels[i].consent,
			    t, eid, err)) != 0)
				return rc;
		return 0;
	}
	if (strcmp(t, "bounced") == 0 && ev->keep_consent)
		return 0;
	if (strcmp(t, "bounced") == 0 || strcmp(t, "complained") == 0)
		return consent_row(w, ev, ev->channel != NULL ? ev->channel :
		    "email", t, eid, err);
	if (strcmp(t, "subscribed") == 0 && ev->channel != NULL)
		return consent_row(w, ev, ev->channel, t, eid, err);
	if (strcmp(t, "inbound") == 0 && ev->channel != NULL &&
	    strcmp(ev->channel, "sms") == 0 && stop_word(ev->props_json))
		return consent_row(w, ev, "sms", "unsubscribed", eid, err);
	return 0;
}

int
nudge_event_consent(nudge_event_writer *w, int64_t contact_id,
    const char *channel, const char *status, int64_t at, const char *source,
    int64_t event_id, nudge_err *err)
{
	nudge_event ev = { 0 };

	ev.contact_id = contact_id;
	ev.at = at;
	ev.source = source;
	return consent_row(w, &ev, channel, status, event_id, err);
}

/* Whether an event of this type writes consent rows (cheap first test). */
int
nudge_event_is_consent_type(const char *t)
{
	return (t[0] == 'u' && strcmp(t, "unsubscribed") == 0) ||
	    (t[0] == 'b' && strcmp(t, "bounced") == 0) ||
	    (t[0] == 'c' && strcmp(t, "complained") == 0) ||
	    (t[0] == 's' && strcmp(t, "subscribed") == 0) ||
	    (t[0] == 'i' && strcmp(t, "inbound") == 0);
}

/* A sent event of campaign k at `at`: the campaign's first_sent_at
 * becomes at if it is later or unset (and its channel, if unset, the
 * event's).  Once a transaction for each campaign, not at every event. */
static int
first_sent(nudge_event_writer *w, struct camp *k, int64_t at,
    const char *channel, nudge_err *err)
{
	unsigned long gen = w->st->rollbacks + 1;
	int rc;

	if (k->sent_gen == gen && k->sent_at <= at)
		return 0;
	sqlite3_bind_int64(w->camp_sent, 1, k->id);
	sqlite3_bind_int64(w->camp_sent, 2, at);
	if (channel != NULL)
		sqlite3_bind_text(w->camp_sent, 3, channel, -1, SQLITE_STATIC);
	rc = sqlite3_step(w->camp_sent);
	sqlite3_reset(w->camp_sent);
	sqlite3_clear_bindings(w->camp_sent);
	if (rc != SQLITE_DONE)
		return nudge_store_error(w->st, err, "campaigns");
	k->sent_at = at;
	k->sent_gen = gen;
	return 0;
}

int
nudge_event_record(nudge_event_writer *w, const nudge_event *ev,
    int64_t *id, nudge_err *err)
{
	sqlite3_stmt *s = w->ins_event;
	int64_t cid = 0, eid = 0;
	char q[128];
	int rc;

	if (!nudge_event_type_ok(ev->type))
		return nudge_errf(err, EX_DATAERR, "type: not a name: \"%s\"",
		    nudge_quote(q, sizeof q, ev->type ? ev->type : "",
		    ev->type ? strlen(ev->type) : 0));
	if (ev->channel != NULL && !nudge_is_name(ev->channel))
		return nudge_errf(err, EX_DATAERR,
		    "channel: not a name: \"%s\"", nudge_quote(q, sizeof q,
		    ev->channel, strlen(ev->channel)));
	if (ev->campaign != NULL &&
	    (rc = nudge_event_campaign_id(w, ev->campaign, &cid, err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, ev->contact_id);
	sqlite3_bind_text(s, 2, ev->type, -1, SQLITE_STATIC);
	if (ev->channel != NULL)
		sqlite3_bind_text(s, 3, ev->channel, -1, SQLITE_STATIC);
	if (cid != 0)
		sqlite3_bind_int64(s, 4, cid);
	if (ev->step != NULL)
		sqlite3_bind_text(s, 5, ev->step, -1, SQLITE_STATIC);
	if (ev->message_id != 0)
		sqlite3_bind_int64(s, 6, ev->message_id);
	sqlite3_bind_int64(s, 7, ev->at);
	if (ev->props_json != NULL)
		sqlite3_bind_text(s, 8, ev->props_json, -1, SQLITE_STATIC);
	if ((rc = step_insert(w, s, &eid, err, "events")) != 0)
		return rc;
	if (id != NULL)
		*id = eid;
	if (cid != 0 && strcmp(ev->type, "sent") == 0 &&
	    (rc = first_sent(w, w->last, ev->at, ev->channel, err)) != 0)
		return rc;
	if (nudge_event_is_consent_type(ev->type))
		return consent(w, ev, eid, err);
	return 0;
}

/* True when s[0..n) is a JSON number with at most 15 digits before the
 * exponent, which a double holds exactly, so "0521234567" and a 20-digit
 * card number stay strings. */
static int
json_number(const char *s, size_t n)
{
	size_t i = 0, digits = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0') {
		i++;
		digits++;
	} else if (i < n && s[i] >= '1' && s[i] <= '9') {
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	} else {
		return 0;
	}
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t e0;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (e0 = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == e0 || i - e0 > 3)
			return 0;
	}
	return i == n && digits <= 15;
}

int
nudge_event_prop(nudge_buf *b, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	if (nudge_buf_putc(b, b->len == 0 ? '{' : ',') == -1 ||
	    nudge_buf_json_str(b, key, klen) == -1 ||
	    nudge_buf_putc(b, ':') == -1)
		return -1;
	if (json_number(val, vlen))
		return nudge_buf_add(b, val, vlen);
	return nudge_buf_json_str(b, val, vlen);
}

const char *
nudge_event_props_end(nudge_buf *b)
{
	if (b->len == 0)
		return NULL;
	if (nudge_buf_putc(b, '}') == -1)
		return NULL;
	return b->s;
}

/* Fills err with "FIELD: why: \"value\"" and returns EX_DATAERR. */
static int
field_err(nudge_err *err, const char *field, const char *why,
    const char *value)
{
	char q[256];

	return nudge_errf(err, EX_DATAERR, "%s: %s: \"%s\"", field, why,
	    nudge_quote(q, sizeof q, value, strlen(value)));
}

int
nudge_event_add(nudge_store *st, const nudge_event_add_opts *o, int64_t *id,
    int *created, nudge_err *err)
{
	nudge_event_writer *w = NULL;
	nudge_event ev;
	nudge_buf props = { 0 };
	nudge_err why;
	size_t i, j;
	int rc;

	*id = 0;
	*created = 0;
	memset(&ev, 0, sizeof ev);
	ev.type = o->type;
	ev.channel = o->channel;
	ev.campaign = o->campaign;
	ev.step = o->step;
	ev.source = o->source != NULL ? o->source : "event add";
	ev.at = o->now;
	{
		const char *const chk[][2] = { { "contact", o->contact },
		    { "type", o->type }, { "channel", o->channel },
		    { "campaign", o->campaign }, { "step", o->step },
		    { "at", o->at }, { "source", o->source } };

		for (i = 0; i < sizeof chk / sizeof chk[0]; i++)
			if (chk[i][1] != NULL &&
			    !nudge_utf8_valid(chk[i][1], strlen(chk[i][1])))
				return field_err(err, chk[i][0],
				    "not valid UTF-8", chk[i][1]);
	}
	if (!nudge_event_type_ok(o->type))
		return field_err(err, "type", "not a name", o->type);
	if (o->channel != NULL && !nudge_is_name(o->channel))
		return field_err(err, "channel", "not a name", o->channel);
	if (o->campaign != NULL && *o->campaign == '\0')
		ev.campaign = NULL;
	if (o->step != NULL && *o->step == '\0')
		ev.step = NULL;
	if (o->at != NULL && nudge_time_parse(o->at, &ev.at) == -1)
		return field_err(err, "at", "not a time", o->at);
	for (i = 0; i < o->nprops; i++) {
		const char *p = o->props[i], *eq = strchr(p, '=');
		size_t kl = eq != NULL ? (size_t)(eq - p) : 0;

		if (eq == NULL || kl == 0) {
			nudge_buf_free(&props);
			return nudge_errf(err, EX_USAGE,
			    "--prop wants KEY=VALUE: \"%s\"", p);
		}
		if (!nudge_utf8_valid(p, strlen(p))) {
			nudge_buf_free(&props);
			return field_err(err, "prop", "not valid UTF-8", p);
		}
		for (j = 0; j < i; j++) {
			if (strncmp(o->props[j], p, kl + 1) == 0) {
				nudge_buf_free(&props);
				return nudge_errf(err, EX_USAGE, "--prop %.*s "
				    "given twice", (int)kl, p);
			}
		}
		if (nudge_event_prop(&props, p, kl, eq + 1, strlen(eq + 1))
		    == -1) {
			nudge_buf_free(&props);
			return nudge_errf(err, EX_OSERR, "out of memory");
		}
	}
	if (o->nprops > 0 && (ev.props_json = nudge_event_props_end(&props)) ==
	    NULL) {
		nudge_buf_free(&props);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if ((rc = nudge_store_begin(st, err)) != 0)
		goto out;
	if ((rc = nudge_event_writer_open(&w, st, o->now, err)) != 0)
		goto out;
	rc = nudge_event_contact(w, o->contact, o->country, o->create,
	    &ev.contact_id, created, &why);
	if (rc == EX_DATAERR) {
		rc = field_err(err, "contact", why.msg, o->contact);
		goto out;
	} else if (rc != 0) {
		*err = why;
		goto out;
	}
	if (ev.contact_id == 0) {
		rc = field_err(err, "contact", "no such contact", o->contact);
		goto out;
	}
	if ((rc = nudge_event_record(w, &ev, id, err)) != 0)
		goto out;
	nudge_event_writer_close(w);
	w = NULL;
	rc = nudge_store_commit(st, err);
out:
	nudge_event_writer_close(w);
	if (rc != 0)
		nudge_store_rollback(st);
	nudge_buf_free(&props);
	return rc;
}

static int
num(const char **p, int max, int *v)
{
	int k = 0;

	*v = 0;
	while (k < max && **p >= '0' && **p <= '9') {
		*v = *v * 10 + (**p - '0');
		(*p)++;
		k++;
	}
	return k;
}

int
nudge_event_time(const char *s, int date_order, int64_t *at, const char **why)
{
	const char *p = s;
	int a, b, y, h = 0, mi = 0, sec = 0, d, m;
	char iso[40], sep;

	*why = "not a time";
	if (nudge_time_parse(s, at) == 0)
		return 0;
	/* D/M/YYYY or M/D/YYYY [HH:MM[:SS]] */
	if (num(&p, 2, &a) == 0 || (*p != '/' && *p != '.' && *p != '-'))
		return -1;
	sep = *p++;
	if (num(&p, 2, &b) == 0 || *p++ != sep || num(&p, 4, &y) != 4)
		return -1;
	if (*p == ' ' || *p == 'T') {
		p++;
		if (num(&p, 2, &h) == 0 || *p++ != ':' || num(&p, 2, &mi) != 2)
			return -1;
		if (*p == ':' && (p++, num(&p, 2, &sec) != 2))
			return -1;
	}
	if (*p != '\0')
		return -1;
	if (date_order == 'd' || (date_order == 0 && a > 12)) {
		d = a;
		m = b;
	} else if (date_order == 'm' || (date_order == 0 && b > 12)) {
		m = a;
		d = b;
	} else {
		*why = "ambiguous date: day/month or month/day? (give "
		    "--date-order dmy or mdy)";
		return -1;
	}
	snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, h,
	    mi, sec);
	return nudge_time_parse(iso, at);
}

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
};

static int
reject(struct imp *im, const char *field, const char *why, const char *value)
{
	im->rfield = field;
	im->rwhy = why;
	im->rvalue = value;
	return 1;
}

/* Checks and records one row: 0 recorded, 1 rejected (im->r* say why), or
 * a fatal code. */
static int
take_row(struct imp *im, struct row *r)
{
	const nudge_event_import_opts *o = im->o;
	nudge_event ev;
	int created, rc, i;

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
	if ((rc = nudge_event_record(im->w, &ev, NULL, &im->rerr)) != 0)
		return rc;
	if (created)
		im->n->created++;
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
	O_PRICE, O_N };

static const struct orders_fmt {
	const char *name;
	const char *cols[O_N];   /* normalised column names */
	int unit_price;          /* O_PRICE is the line's total: divide */
} orders_fmts[] = {
	{ "shopify-orders", { "name", "email", "phone", "paid_at", "total",
	  "currency", "lineitem_name", "lineitem_sku", "lineitem_quantity",
	  "lineitem_price" }, 1 },
	{ "woocommerce", { "order_id", "billing_email", "billing_phone",
	  "paid_date", "order_total", "order_currency", "item_name",
	  "item_sku", "item_quantity", "item_total" }, 0 },
};

struct order {
	int open;
	nudge_buf key, first, items;   /* first: the first row's fields */
	char **f;
	size_t *len, cap, nitems;
	nudge_csv_rec rec;
	char *v[O_AT + 3];             /* contact, at, total, currency */
};

/* Which orders format hdr is, filling col[] (index or -1); NULL: none.
 * Woo's paid_date may be absent: order_date then. */
static const struct orders_fmt *
orders_fmt(const nudge_csv_rec *hdr, long *col)
{
	size_t k, i;
	int o;

	for (k = 0; k < sizeof orders_fmts / sizeof orders_fmts[0]; k++) {
		for (o = 0; o < O_N; o++) {
			col[o] = -1;
			for (i = 0; i < hdr->n; i++) {
				char n[64];

				nudge_import_attr_key(hdr->f[i], n, sizeof n);
				if (strcmp(n, orders_fmts[k].cols[o]) == 0 ||
				    (k == 1 && o == O_AT && col[o] == -1 &&
				    strcmp(n, "order_date") == 0))
					col[o] = (long)i;
			}
		}
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

/* Starts an order with row r: its key and a copy of the row. */
static int
order_start(struct order *od, const nudge_csv_rec *r, const char *key)
{
	size_t i, off = 0;

	od->open = 1;
	od->nitems = 0;
	nudge_buf_reset(&od->key);
	nudge_buf_reset(&od->first);
	nudge_buf_reset(&od->items);
	for (i = 0; i < 4; i++) {
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
	for (i = 0; i < r->n; i++)
		if (nudge_buf_add(&od->first, r->f[i], r->len[i] + 1) == -1)
			return -1;
	for (i = 0; i < r->n; i++) {
		od->f[i] = od->first.s + off;
		od->len[i] = r->len[i];
		off += r->len[i] + 1;
	}
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
	    set_once(&od->v[3], ocell(r, col[O_CUR])) == -1)
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
order_flush(struct imp *im, struct order *od, const char *atcol)
{
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
	for (i = 0; i < 4; i++)
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
	for (;;) {
		const char *key;

		rc = nudge_csv_next(c, &rec, err);
		if (rc < 0 || rc > 1)
			break;
		key = rc == 1 && rec->n == hdr->n && !rec->bad_utf8 ?
		    ocell(rec, col[O_KEY]) : NULL;
		if (od.open && (rc == 0 || (key != NULL &&
		    strcmp(key, od.key.s) != 0))) {
			int r = order_flush(im, &od, hdr->f[col[O_AT]]);

			if (r == 0) {
				im->n->recorded++;
			} else if (r == 1) {
				if ((r = csv_reject(im, hdr, &od.rec, err)) !=
				    0) {
					rc = r;
					break;
				}
			} else {
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

static int
import_csv(struct imp *im, FILE *in, nudge_err *err)
{
	const nudge_event_import_opts *o = im->o;
	const nudge_csv_rec *rec;
	nudge_csv_rec hdr;
	nudge_csv *c = NULL;
	nudge_buf hbuf = { 0 };
	/* col[F] is the column of field F, or -1; contact columns are
	 * tried in order contact, email, phone; kind[i] is F for a known
	 * column, NF + 1..3 for a contact column, -1 for a prop. */
	long ccol[3] = { -1, -1, -1 }, col[NF];
	int *kind = NULL, *kind_map = NULL;
	const char **pkey = NULL;
	char **hf = NULL;
	size_t i, *hl = NULL;
	int rc, f;

	for (f = 0; f < NF; f++)
		col[f] = -1;
	memset(&hdr, 0, sizeof hdr);
	if ((rc = nudge_csv_open(&c, in, o->name, err)) != 0)
		return rc;
	if ((rc = nudge_csv_next(c, &rec, err)) != 1)
		goto out;         /* empty input: nothing to do */
	if (rec->bad_utf8) {
		rc = nudge_errf(err, EX_DATAERR, "%s:%ld: header: not valid "
		    "UTF-8", o->name, rec->line);
		goto out;
	}
	/* Keep a copy of the header: rec is overwritten by the next read. */
	hdr.n = rec->n;
	if ((kind = calloc(rec->n, sizeof *kind)) == NULL ||
	    (kind_map = calloc(rec->n, sizeof *kind_map)) == NULL ||
	    (hf = calloc(rec->n, sizeof *hf)) == NULL ||
	    (hl = calloc(rec->n, sizeof *hl)) == NULL)
		goto oom;
	for (i = 0; i < rec->n; i++)
		if (nudge_buf_add(&hbuf, rec->f[i], rec->len[i] + 1) == -1)
			goto oom;
	{
		size_t off = 0;

		for (i = 0; i < rec->n; i++) {
			hf[i] = hbuf.s + off;
			hl[i] = rec->len[i];
			off += rec->len[i] + 1;
		}
	}
	hdr.f = hf;
	hdr.len = hl;
	hdr.line = rec->line;
	if (o->nmaps == 0) {
		const struct orders_fmt *fm;
		long ocol[O_N];

		if ((fm = orders_fmt(&hdr, ocol)) != NULL) {
			rc = import_orders(im, c, &hdr, fm, ocol, err);
			goto out;
		}
	}
	if ((pkey = calloc(hdr.n, sizeof *pkey)) == NULL)
		goto oom;
	for (i = 0; i < o->nmaps; i++) {
		const char *m = o->maps[i], *eq = strchr(m, '=');
		static const char *const fld[] = { "contact", "email", "phone",
		    "type", "channel", "campaign", "step", "at" };
		size_t k, cl = eq != NULL ? (size_t)(eq - m) : 0;

		for (k = 0; k < hdr.n && cl > 0; k++)
			if (hl[k] == cl && strncasecmp(hf[k], m, cl) == 0)
				break;
		if (eq == NULL || cl == 0) {
			rc = nudge_errf(err, EX_USAGE, "--map %s: expected "
			    "COLUMN=FIELD", m);
			goto out;
		}
		if (k == hdr.n) {
			rc = nudge_errf(err, EX_USAGE, "--map %s: no column "
			    "\"%.*s\" in %s", m, (int)cl, m, o->name);
			goto out;
		}
		if (strncmp(eq + 1, "props.", 6) == 0 && eq[7] != '\0') {
			pkey[k] = eq + 7;
			kind_map[k] = -1;
			continue;
		}
		if (strcmp(eq + 1, "-") == 0) {
			kind_map[k] = -2;
			continue;
		}
		for (f = 0; f < 8; f++)
			if (strcmp(eq + 1, fld[f]) == 0)
				break;
		if (f == 8) {
			rc = nudge_errf(err, EX_USAGE, "--map %s: unknown field "
			    "\"%s\" (contact, email, phone, type, channel, "
			    "campaign, step, at, props.NAME or -)", m, eq + 1);
			goto out;
		}
		kind_map[k] = 100 + f;
	}
	for (i = 0; i < hdr.n; i++) {
		static const char *const cn[3] = { "contact", "email",
		    "phone" };
		long *slot = NULL;
		int k;

		kind[i] = -1;
		if (kind_map[i] == -1 || kind_map[i] == -2) {
			kind[i] = kind_map[i];
			continue;
		}
		if (kind_map[i] >= 100 + 3) {
			f = kind_map[i] - 100 - 3 + F_TYPE;
			slot = &col[f];
			kind[i] = f;
		} else if (kind_map[i] >= 100) {
			k = kind_map[i] - 100;
			slot = &ccol[k];
			kind[i] = NF + 1 + k;
		}
		for (k = 0; k < 3 && kind_map[i] == 0; k++)
			if (hdr_is(hf[i], hl[i], cn[k])) {
				slot = &ccol[k];
				kind[i] = NF + 1 + k;
			}
		for (f = 1; f < NF && kind_map[i] == 0; f++)
			if (hdr_is(hf[i], hl[i], fnames[f])) {
				slot = &col[f];
				kind[i] = f;
			}
		if (slot == NULL)
			continue;
		if (*slot != -1) {
			rc = nudge_errf(err, EX_DATAERR, "%s:%ld: header: "
			    "column \"%s\" appears twice", o->name, rec->line,
			    hf[i]);
			goto out;
		}
		*slot = (long)i;
	}
	if (ccol[0] == -1 && ccol[1] == -1 && ccol[2] == -1) {
		rc = nudge_errf(err, EX_DATAERR, "%s:%ld: header: no contact "
		    "column (contact, email or phone)", o->name, rec->line);
		goto out;
	}
	if (col[F_TYPE] == -1 && o->type == NULL) {
		rc = nudge_errf(err, EX_DATAERR, "%s:%ld: header: no type "
		    "column (give --type TYPE, or --map COLUMN=type)", o->name,
		    rec->line);
		goto out;
	}
	while ((rc = nudge_csv_next(c, &rec, err)) == 1) {
		struct row r;
		char why[64];
		int k;

		im->n->read++;
		memset(&r, 0, sizeof r);
		r.line = rec->line;
		if (rec->n != hdr.n) {
			snprintf(why, sizeof why,
			    "expected %zu fields, got %zu", hdr.n, rec->n);
			reject(im, "", why, NULL);
			if ((rc = csv_reject(im, &hdr, rec, err)) != 0)
				goto out;
			continue;
		}
		if (rec->bad_utf8) {
			reject(im, hf[rec->bad_utf8 - 1], "not valid UTF-8",
			    NULL);
			if ((rc = csv_reject(im, &hdr, rec, err)) != 0)
				goto out;
			continue;
		}
		for (k = 0; k < 3; k++) {
			if (ccol[k] != -1 && rec->len[ccol[k]] > 0) {
				r.v[F_CONTACT] = rec->f[ccol[k]];
				r.cname = hf[ccol[k]];
				break;
			}
		}
		if (r.cname == NULL)
			r.cname = "contact";
		for (f = 1; f < NF; f++)
			if (col[f] != -1)
				r.v[f] = rec->f[col[f]];
		if (col[F_AT] != -1)
			r.aname = hf[col[F_AT]];
		nudge_buf_reset(&im->props);
		for (i = 0; i < hdr.n; i++)
			if (kind[i] == -1 && rec->len[i] > 0 &&
			    nudge_event_prop(&im->props, pkey[i] != NULL ?
			    pkey[i] : hf[i], pkey[i] != NULL ? strlen(pkey[i]) :
			    hl[i], rec->f[i], rec->len[i]) == -1)
				goto oom;
		if ((rc = take_row(im, &r)) == 0) {
			im->n->recorded++;
		} else if (rc == 1) {
			if ((rc = csv_reject(im, &hdr, rec, err)) != 0)
				goto out;
		} else {
			*err = im->rerr;
			goto out;
		}
	}
out:
	nudge_csv_close(c);
	nudge_buf_free(&hbuf);
	free(kind);
	free(kind_map);
	free(pkey);
	free(hf);
	free(hl);
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
static int
import_json(struct imp *im, FILE *in, nudge_err *err)
{
	static const char *const cn[3] = { "contact", "email", "phone" };
	sqlite3_stmt *chk = NULL, *each = NULL;
	char *line = NULL, why[1100];
	size_t cap = 0, i;
	ssize_t len;
	long lineno = 0;
	nudge_buf keep = { 0 };
	int rc;

	if ((rc = nudge_store_prepare(im->st, &chk, "SELECT json_valid(?1), "
	    "CASE WHEN json_valid(?1) THEN json_type(?1) END", err)) != 0 ||
	    (rc = nudge_store_prepare(im->st, &each, "SELECT key, type, "
	    "CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
	    "WHEN 'null' THEN 'null' WHEN 'text' THEN value "
	    "ELSE json_quote(value) END FROM json_each(?1)", err)) != 0)
		goto out;
	errno = 0;
	while ((len = getline(&line, &cap, in)) != -1) {
		struct row r;
		size_t off[NF + 3], n = (size_t)len;
		int have[NF + 3], k, bad = 0, f;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		for (i = 0; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
			;
		if (i == n)
			continue;
		im->n->read++;
		memset(&r, 0, sizeof r);
		r.line = lineno;
		im->rfield = NULL;
		if (!nudge_utf8_valid(line, n)) {
			bad = reject(im, "", "not valid UTF-8", NULL);
			goto rejected;
		}
		sqlite3_bind_text(chk, 1, line, (int)n, SQLITE_STATIC);
		rc = sqlite3_step(chk);
		if (rc != SQLITE_ROW) {
			rc = nudge_store_error(im->st, err, "json");
			goto out;
		}
		if (!sqlite3_column_int(chk, 0))
			bad = reject(im, "", "not valid JSON", NULL);
		else if (strcmp((const char *)sqlite3_column_text(chk, 1),
		    "object") != 0)
			bad = reject(im, "", "not a JSON object", NULL);
		sqlite3_reset(chk);
		if (bad)
			goto rejected;
		/* keys: F_* for known ones, NF + k for contact/email/phone */
		for (k = 0; k < NF + 3; k++)
			have[k] = 0;
		nudge_buf_reset(&keep);
		nudge_buf_reset(&im->props);
		sqlite3_bind_text(each, 1, line, (int)n, SQLITE_STATIC);
		while ((rc = sqlite3_step(each)) == SQLITE_ROW) {
			const char *key, *type, *val;
			size_t kl, vl;
			int slot = -1;

			key = (const char *)sqlite3_column_text(each, 0);
			type = (const char *)sqlite3_column_text(each, 1);
			val = (const char *)sqlite3_column_text(each, 2);
			kl = (size_t)sqlite3_column_bytes(each, 0);
			vl = (size_t)sqlite3_column_bytes(each, 2);
			if (key == NULL || type == NULL || val == NULL)
				continue;
			for (k = 0; k < 3; k++)
				if (strcmp(key, cn[k]) == 0)
					slot = NF + k;
			for (f = 1; f < NF; f++)
				if (strcmp(key, fnames[f]) == 0)
					slot = f;
			if (slot == -1) {
				if (json_prop(&im->props, key, kl, type, val,
				    vl) == -1)
					goto oom;
				continue;
			}
			if (strcmp(type, "null") == 0)
				continue;
			if (strcmp(type, "text") != 0 &&
			    strcmp(type, "integer") != 0) {
				if (!bad)
					bad = reject(im, slot >= NF ?
					    cn[slot - NF] : fnames[slot],
					    "not a string", NULL);
				continue;
			}
			off[slot] = keep.len;
			have[slot] = 1;
			/* A number is Unix seconds for at, an id for a
			 * contact, and its digits elsewhere. */
			if (strcmp(type, "integer") == 0 && slot == F_AT &&
			    nudge_buf_putc(&keep, '@') == -1)
				goto oom;
			if (nudge_buf_add(&keep, val, vl + 1) == -1)
				goto oom;
		}
		sqlite3_reset(each);
		if (rc != SQLITE_DONE) {
			rc = nudge_store_error(im->st, err, "json");
			goto out;
		}
		if (bad)
			goto rejected;
		for (f = 1; f < NF; f++)
			if (have[f])
				r.v[f] = keep.s + off[f];
		for (k = 0; k < 3; k++) {
			if (have[NF + k] && keep.s[off[NF + k]] != '\0') {
				r.v[F_CONTACT] = keep.s + off[NF + k];
				r.cname = cn[k];
				break;
			}
		}
		if (r.cname == NULL)
			r.cname = "contact";
		if ((rc = take_row(im, &r)) == 0) {
			im->n->recorded++;
			continue;
		}
		if (rc != 1) {
			*err = im->rerr;
			goto out;
		}
rejected:
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
	sqlite3_finalize(chk);
	sqlite3_finalize(each);
	nudge_buf_free(&keep);
	free(line);
	return rc;
oom:
	sqlite3_reset(each);
	rc = nudge_errf(err, EX_OSERR, "out of memory");
	goto out;
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

/* Drops the events table's indexes, keeping their CREATE statements in
 * *out (*n of them) for rebuild(). */
static int
drop_indexes(nudge_store *st, char ***out, size_t *n, nudge_err *err)
{
	sqlite3_stmt *s;
	char **v = NULL, **nv, *drop;
	size_t cnt = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = nudge_store_prepare(st, &s, "SELECT name, sql FROM "
	    "sqlite_schema WHERE type = 'index' AND tbl_name = 'events' AND "
	    "sql IS NOT NULL", err)) != 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((nv = realloc(v, (cnt + 1) * 2 * sizeof *v)) == NULL)
			goto oom;
		v = nv;
		v[2 * cnt] = nudge_strdup((const char *)
		    sqlite3_column_text(s, 0));
		v[2 * cnt + 1] = nudge_strdup((const char *)
		    sqlite3_column_text(s, 1));
		cnt++;
		if (v[2 * cnt - 2] == NULL || v[2 * cnt - 1] == NULL)
			goto oom;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (rc != SQLITE_DONE) {
		rc = nudge_store_error(st, err, "indexes");
		goto fail;
	}
	for (i = 0; i < cnt; i++) {
		if ((drop = sqlite3_mprintf("DROP INDEX \"%w\"", v[2 * i])) ==
		    NULL)
			goto oom;
		rc = nudge_store_exec(st, drop, err);
		sqlite3_free(drop);
		if (rc != 0)
			goto fail;
	}
	/* keep only the CREATE statements */
	for (i = 0; i < cnt; i++) {
		free(v[2 * i]);
		v[i] = v[2 * i + 1];
	}
	*out = v;
	*n = cnt;
	return 0;
oom:
	rc = nudge_errf(err, EX_OSERR, "out of memory");
fail:
	sqlite3_finalize(s);
	for (i = 0; i < 2 * cnt; i++)
		free(v[i]);
	free(v);
	return rc;
}

static int
rebuild(nudge_store *st, char **create, size_t n, nudge_err *err)
{
	size_t i;
	int rc;

	/* The sorter's memory follows the cache size: page cache plus
	 * sort buffer stay near the import's own peak. */
	if (n > 0 && (rc = nudge_store_exec(st, "PRAGMA cache_size = -"
	    REBUILD_CACHE_KIB, err)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		if ((rc = nudge_store_exec(st, create[i], err)) != 0)
			return rc;
	return 0;
}

int
nudge_event_import(nudge_store *st, FILE *in, const nudge_event_import_opts *o,
    nudge_event_counts *n, nudge_err *err)
{
	struct imp im;
	sqlite3_stmt *s;
	char sql[128], **idx = NULL;
	size_t nidx = 0, i;
	int rc, old_cache = 0, rebuilding;

	memset(n, 0, sizeof *n);
	memset(&im, 0, sizeof im);
	im.st = st;
	im.o = o;
	im.n = n;
	if (sqlite3_prepare_v2(st->db, "PRAGMA cache_size", -1, &s, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			old_cache = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	rebuilding = worth_rebuild(st, in, o->rebuild_bytes);
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
	if ((rc = nudge_store_begin(st, err)) != 0)
		goto out;
	if (rebuilding && (rc = drop_indexes(st, &idx, &nidx, err)) != 0)
		goto out;
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
		if ((rc = rebuild(st, idx, nidx, err)) == 0)
			rc = nudge_store_commit(st, err);
	}
out:
	nudge_event_writer_close(im.w);
	nudge_store_rollback(st);
	nudge_buf_free(&im.props);
	for (i = 0; i < nidx; i++)
		free(idx[i]);
	free(idx);
	sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (rebuilding)
		sqlite3_exec(st->db, "PRAGMA temp_store = MEMORY", NULL, NULL,
		    NULL);
	snprintf(sql, sizeof sql, "PRAGMA cache_size = %d", old_cache);
	if (old_cache != 0)
		sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	return rc;
}
