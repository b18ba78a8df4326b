/* event: recording events and their consent rows (their import from CSV
 * and JSON files is eventimport.c). */
#include "event.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channel.h"
#include "clock.h"
#include "contact.h"
#include "json.h"

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

/* The writer's statements, sqls[] below. */
enum {
	INS_EVENT, INS_CONSENT, BY_EMAIL, BY_PHONE, BY_ID, NEW_EMAIL,
	NEW_PHONE, CAMP_GET, CAMP_PUT, CAMP_SENT, CNT_EVENT, CNT_PARTS, NSQL
};

struct nudge_event_writer {
	nudge_store *st;
	int64_t now;
	sqlite3_stmt *s[NSQL];	/* sqls[], each prepared at its first use */
	/* campaign name -> id: open addressing, at most half full */
	struct camp *tab;
	size_t cap, used;
	struct camp *last;   /* rows often repeat the previous campaign */
};

static const char *const sqls[NSQL] = {
	[INS_EVENT] = "INSERT INTO events (contact_id, type, channel,"
	" campaign_id, step, message_id, at, props)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[INS_CONSENT] = "INSERT INTO consent (contact_id, channel, status, at,"
	" source, event_id) VALUES (?, ?, ?, ?, ?, ?)",
	[BY_EMAIL] = "SELECT id FROM contacts WHERE email = ?",
	[BY_PHONE] = "SELECT id FROM contacts WHERE phone = ?",
	[BY_ID] = "SELECT id FROM contacts WHERE id = ?",
	[NEW_EMAIL] = "INSERT INTO contacts (email, created_at, updated_at)"
	" VALUES (?, ?, ?)",
	[NEW_PHONE] = "INSERT INTO contacts (phone, created_at, updated_at)"
	" VALUES (?, ?, ?)",
	[CAMP_GET] = "SELECT id FROM campaigns WHERE name = ?",
	/* another process may add the same campaign at the same time */
	[CAMP_PUT] = "INSERT INTO campaigns (name, created_at) VALUES (?, ?)"
	" ON CONFLICT (name) DO NOTHING",
	/* a campaign's first sent event dates it, for "in last N
	 * campaigns" (segment.c), and names its channel */
	[CAMP_SENT] = "UPDATE campaigns SET first_sent_at = ?2,"
	" channel = coalesce(channel, ?3) WHERE id = ?1"
	" AND (first_sent_at IS NULL OR first_sent_at > ?2)",
	/* events_count_insert's statements (store.c), NEW.* bound: for a
	 * store whose triggers are off (nudge_store_own_counts) */
	[CNT_EVENT] = NUDGE_EVENT_COUNT_ONE("?1", "?2", "?3", "?4", "?5"),
	[CNT_PARTS] = NUDGE_EVENT_PARTS_OF("n") " FROM (SELECT ?1 AS campaign_id, ?2 AS channel, ?3 AS props) n"
	" WHERE true ON CONFLICT DO UPDATE SET parts = parts + excluded.parts",
};
int
nudge_event_writer_open(nudge_event_writer **out, nudge_store *st,
    int64_t now, nudge_err *err)
{
	nudge_event_writer *w;

	*out = NULL;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	w->st = st;
	w->now = now;
	*out = w;
	return 0;
}

/* Sets *s to the writer's statement k, prepared at its first use: a
 * writer that records one event (a click through nudge-track, one
 * `nudge event add`) uses two or three of the ten, and preparing an
 * INSERT costs as much as running it many times over.  Errors: store
 * errors. */
static int
stmt(nudge_event_writer *w, int k, sqlite3_stmt **s, nudge_err *err)
{
	int rc;

	if (w->s[k] == NULL && (rc = nudge_store_prepare(w->st, &w->s[k],
	    sqls[k], err)) != 0)
		return rc;
	*s = w->s[k];
	return 0;
}

void
nudge_event_writer_close(nudge_event_writer *w)
{
	size_t i;

	if (w == NULL)
		return;
	nudge_store_finalize_n(w->s, NSQL);
	for (i = 0; i < w->cap; i++)
		free(w->tab[i].name);
	free(w->tab);
	free(w);
}

int
nudge_event_writer_prepare(nudge_event_writer *w, const char *type,
    nudge_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = stmt(w, INS_EVENT, &s, err)) != 0)
		return rc;
	if (type != NULL && nudge_event_is_consent_type(type))
		return stmt(w, INS_CONSENT, &s, err);
	return 0;
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

/* The cache's entry of name (hash h), made its last; NULL if none. */
static struct camp *
camp_find(nudge_event_writer *w, const char *name, uint32_t h)
{
	size_t j;

	if (w->cap == 0)
		return NULL;
	for (j = h & (w->cap - 1); w->tab[j].name != NULL;
	    j = (j + 1) & (w->cap - 1))
		if (w->tab[j].hash == h && strcmp(w->tab[j].name, name) == 0)
			return w->last = &w->tab[j];
	return NULL;
}

/* Adds name (hash h) -> id to the cache, as its last entry. */
static int
camp_add(nudge_event_writer *w, const char *name, uint32_t h, int64_t id,
    nudge_err *err)
{
	size_t j;

	if ((w->used + 1) * 2 > w->cap && camp_grow(w) == -1)
		return nudge_errf(err, EX_OSERR, "out of memory");
	for (j = h & (w->cap - 1); w->tab[j].name != NULL;
	    j = (j + 1) & (w->cap - 1))
		;
	if ((w->tab[j].name = strdup(name)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	w->tab[j].hash = h;
	w->tab[j].id = id;
	w->tab[j].sent_at = 0;
	w->tab[j].sent_gen = 0;
	w->used++;
	w->last = &w->tab[j];
	return 0;
}

int
nudge_event_campaign_id(nudge_event_writer *w, const char *name,
    int64_t *id, nudge_err *err)
{
	sqlite3_stmt *get, *put;
	struct camp *k;
	uint32_t h;
	int rc;

	if (w->last != NULL && strcmp(w->last->name, name) == 0) {
		*id = w->last->id;
		return 0;
	}
	h = fnv1a(name);
	if ((k = camp_find(w, name, h)) != NULL) {
		*id = k->id;
		return 0;
	}
	if ((rc = stmt(w, CAMP_GET, &get, err)) != 0)
		return rc;
	sqlite3_bind_text(get, 1, name, -1, SQLITE_STATIC);
	if ((rc = step_id(w, get, id, err, "campaigns")) != 0)
		return rc;
	if (*id == 0) {
		if ((rc = stmt(w, CAMP_PUT, &put, err)) != 0)
			return rc;
		sqlite3_bind_text(put, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(put, 2, w->now);
		if ((rc = step_insert(w, put, id, err, "campaigns")) != 0)
			return rc;
		if (sqlite3_changes(w->st->db) == 0) {
			sqlite3_bind_text(get, 1, name, -1, SQLITE_STATIC);
			if ((rc = step_id(w, get, id, err, "campaigns")) != 0)
				return rc;
		}
	}
	return camp_add(w, name, h, *id, err);
}

int
nudge_event_campaign_known(nudge_event_writer *w, const char *name,
    int64_t id, nudge_err *err)
{
	uint32_t h = fnv1a(name);

	if (camp_find(w, name, h) != NULL)
		return 0;
	return camp_add(w, name, h, id, err);
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
	int k, rc;

	*id = 0;
	if (created != NULL)
		*created = 0;
	switch (nudge_contact_ref_kind(ref)) {
	case NUDGE_REF_ID:
		if (nudge_parse_i64(ref, &v) == -1 || v <= 0)
			return nudge_errf(err, EX_DATAERR, "not a contact id");
		if ((rc = stmt(w, BY_ID, &find, err)) != 0)
			return rc;
		sqlite3_bind_int64(find, 1, v);
		if ((rc = step_id(w, find, id, err, "contacts")) != 0)
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
		k = BY_EMAIL;
		break;
	default:
		if (nudge_phone_norm(ref, strlen(ref), country, key,
		    &why) == -1)
			return nudge_errf(err, EX_DATAERR,
			    "not a contact id, email or phone (%s)", why);
		k = BY_PHONE;
		break;
	}
	if ((rc = stmt(w, k, &find, err)) != 0)
		return rc;
	sqlite3_bind_text(find, 1, key, -1, SQLITE_STATIC);
	if ((rc = step_id(w, find, id, err, "contacts")) != 0)
		return rc;
	if (*id != 0 || !create)
		return 0;
	if ((rc = stmt(w, k == BY_EMAIL ? NEW_EMAIL : NEW_PHONE, &make,
	    err)) != 0)
		return rc;
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
	sqlite3_stmt *s;
	int rc;

	if ((rc = stmt(w, INS_CONSENT, &s, err)) != 0)
		return rc;
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

/* Whether events of type (a name) are counted: in NUDGE_EVENT_COUNTED. */
static int
counted(const char *type)
{
	const char *p = NUDGE_EVENT_COUNTED;
	size_t n = strlen(type);

	while ((p = strchr(p, '\'')) != NULL) {
		if (strncmp(p + 1, type, n) == 0 && p[n + 1] == '\'')
			return 1;
		if ((p = strchr(p + 1, '\'')) == NULL)
			break;
		p++;
	}
	return 0;
}

/* events_count_insert's work for event eid of campaign cid, when the
 * store's triggers are off (nudge_store_own_counts). */
static int
count_own(nudge_event_writer *w, const nudge_event *ev, int64_t cid,
    int64_t eid, nudge_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (!counted(ev->type))
		return 0;
	if ((rc = stmt(w, CNT_EVENT, &s, err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_text(s, 2, ev->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, ev->contact_id);
	sqlite3_bind_int64(s, 4, eid);
	sqlite3_bind_int64(s, 5, ev->at);
	if ((rc = step_insert(w, s, NULL, err, "campaign_counts")) != 0 ||
	    strcmp(ev->type, "sent") != 0)
		return rc;
	if ((rc = stmt(w, CNT_PARTS, &s, err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, cid);
	if (ev->channel != NULL)
		sqlite3_bind_text(s, 2, ev->channel, -1, SQLITE_STATIC);
	if (ev->props_json != NULL)
		sqlite3_bind_text(s, 3, ev->props_json, -1, SQLITE_STATIC);
	return step_insert(w, s, NULL, err, "campaign_channels");
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
	sqlite3_stmt *s;
	int rc;

	if (k->sent_gen == gen && k->sent_at <= at)
		return 0;
	if ((rc = stmt(w, CAMP_SENT, &s, err)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, k->id);
	sqlite3_bind_int64(s, 2, at);
	if (channel != NULL)
		sqlite3_bind_text(s, 3, channel, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
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
	sqlite3_stmt *s;
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
	if ((rc = stmt(w, INS_EVENT, &s, err)) != 0)
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
	if (cid != 0 && w->st->own_counts &&
	    (rc = count_own(w, ev, cid, eid, err)) != 0)
		return rc;
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
