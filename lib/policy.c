/* policy: the per-contact send checks of nudge-config(5) "policy". */
#include "policy.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel.h"
#include "clock.h"
#include "segment.h"

struct nudge_policy {
	nudge_store *st;
	sqlite3_stmt *addr, *consent, *cap, *excl;
	sqlite3_stmt *sunset_q;   /* NULL when no sunset is set */
	int64_t now, cap_max, cap_per, sunset;
	char *exclude;
	nudge_seg seg;
	int have_seg;
	int excl_id;      /* the parameter number of the contact id in excl */
	int64_t (*inflight)(void *, int64_t); /* nudge_policy_inflight's */
	void *inflight_arg;
};

int
nudge_policy_open(nudge_policy **out, nudge_store *st,
    const nudge_policy_cfg *cfg, int64_t now, nudge_err *err)
{
	nudge_policy *p;
	nudge_buf sql = { 0 };
	int rc;

	*out = NULL;
	if ((p = calloc(1, sizeof *p)) == NULL)
		return nudge_errf(err, EX_OSERR, "out of memory");
	p->st = st;
	p->now = now;
	if (cfg != NULL && cfg->cap_max > 0 && cfg->cap_per > 0) {
		p->cap_max = cfg->cap_max;
		p->cap_per = cfg->cap_per;
	}
	/* The latest consent row of the channel straight from the
	 * consent_contact index (what consent_now gives, for one row). */
	if ((rc = nudge_store_prepare(st, &p->addr,
	    "SELECT email, phone, push_id FROM contacts WHERE id = ?1",
	    err)) != 0 ||
	    (rc = nudge_store_prepare(st, &p->consent,
	    "SELECT status, at, source FROM consent"
	    " WHERE contact_id = ?1 AND channel = ?2"
	    " ORDER BY at DESC, id DESC LIMIT 1", err)) != 0 ||
	    (rc = nudge_store_prepare(st, &p->cap,
	    "SELECT count(*) FROM events"
	    " WHERE contact_id = ?1 AND type = 'sent' AND at >= ?2"
	    " AND (props IS NULL OR props ->> 'transactional' IS NULL)",
	    err)) != 0)
		goto fail;
	/* sunset: known for longer than the period and no open or click
	 * in it, from the events_contact index */
	if (cfg != NULL && cfg->sunset > 0) {
		p->sunset = cfg->sunset;
		if ((rc = nudge_store_prepare(st, &p->sunset_q,
		    "SELECT 1 FROM contacts c WHERE c.id = ?1"
		    " AND c.created_at <= ?2 AND NOT EXISTS (SELECT 1 FROM"
		    " events e WHERE e.contact_id = c.id AND e.type IN"
		    " ('opened', 'clicked') AND e.at >= ?2)", err)) != 0)
			goto fail;
	}
	if (cfg != NULL && cfg->exclude != NULL) {
		nudge_err e;

		if ((p->exclude = strdup(cfg->exclude)) == NULL) {
			rc = nudge_errf(err, EX_OSERR, "out of memory");
			goto fail;
		}
		p->have_seg = 1;
		if ((rc = nudge_seg_compile(st, NULL, cfg->exclude, now,
		    &p->seg, &e)) != 0) {
			rc = nudge_errf(err, rc, "exclude: %s", e.msg);
			goto fail;
		}
		/* The segment's condition for one contact: an id lookup and
		 * one evaluation of the condition per check, however big
		 * the segment is. */
		p->excl_id = (int)p->seg.nparams + 1;
		if (nudge_buf_printf(&sql, "SELECT 1 FROM contacts c WHERE "
		    "c.id = ?%d AND (%s)", p->excl_id, p->seg.cond) == -1) {
			rc = nudge_errf(err, EX_OSERR, "out of memory");
			goto fail;
		}
		if ((rc = nudge_store_prepare(st, &p->excl, sql.s, err)) != 0 ||
		    (rc = nudge_seg_bind(&p->seg, p->excl, err)) != 0)
			goto fail;
	}
	nudge_buf_free(&sql);
	*out = p;
	return 0;
fail:
	nudge_buf_free(&sql);
	nudge_policy_close(p);
	return rc;
}

void
nudge_policy_inflight(nudge_policy *p, int64_t (*fn)(void *, int64_t),
    void *arg)
{
	p->inflight = fn;
	p->inflight_arg = arg;
}

void
nudge_policy_close(nudge_policy *p)
{
	if (p == NULL)
		return;
	sqlite3_finalize(p->addr);
	sqlite3_finalize(p->consent);
	sqlite3_finalize(p->cap);
	sqlite3_finalize(p->excl);
	sqlite3_finalize(p->sunset_q);
	if (p->have_seg)
		nudge_seg_free(&p->seg);
	free(p->exclude);
	free(p);
}

/* A duration as people write it: 7d, 12h, 30m, 45s. */
static void
fmt_dur(char *buf, size_t len, int64_t s)
{
	if (s % 86400 == 0)
		snprintf(buf, len, "%" PRId64 "d", s / 86400);
	else if (s % 3600 == 0)
		snprintf(buf, len, "%" PRId64 "h", s / 3600);
	else if (s % 60 == 0)
		snprintf(buf, len, "%" PRId64 "m", s / 60);
	else
		snprintf(buf, len, "%" PRId64 "s", s);
}

const char *
nudge_skip_name(enum nudge_skip s)
{
	static const char *const name[NUDGE_SKIP__N] = {
		[NUDGE_SKIP_NONE] = "",
		[NUDGE_SKIP_NO_CONTACT] = "no such contact",
		[NUDGE_SKIP_NO_EMAIL] = "no email address",
		[NUDGE_SKIP_NO_PHONE] = "no phone number",
		[NUDGE_SKIP_NO_PUSH_ID] = "no push id",
		[NUDGE_SKIP_UNSUBSCRIBED] = "unsubscribed",
		[NUDGE_SKIP_BOUNCED] = "bounced",
		[NUDGE_SKIP_COMPLAINED] = "complained",
		[NUDGE_SKIP_NO_CONSENT] = "no consent",
		[NUDGE_SKIP_EXCLUDED] = "excluded by policy",
		[NUDGE_SKIP_CAP] = "frequency cap",
		[NUDGE_SKIP_SUNSET] = "sunset",
		[NUDGE_SKIP_BAD_REF] = "not a contact",
		[NUDGE_SKIP_TEMPLATE] = "template",
		[NUDGE_SKIP_MESSAGE] = "message not built",
		[NUDGE_SKIP_NO_TRANSPORT] = "no transport",
	};

	return (unsigned)s < NUDGE_SKIP__N && name[s] != NULL ? name[s] : "?";
}

static int
skip(enum nudge_skip *out, enum nudge_skip cls, char *reason, size_t len,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
skip(enum nudge_skip *out, enum nudge_skip cls, char *reason, size_t len,
    const char *fmt, ...)
{
	va_list ap;

	*out = cls;
	if (len > 0) {
		va_start(ap, fmt);
		vsnprintf(reason, len, fmt, ap);
		va_end(ap);
	}
	return 0;
}

int
nudge_policy_check(nudge_policy *p, int64_t contact_id, const char *channel,
    int transactional, enum nudge_skip *why, char *reason,
    size_t len, nudge_err *err)
{
	const nudge_channel *ch = nudge_channel_find(channel);
	static const enum nudge_skip no_addr[] = { NUDGE_SKIP_NO_EMAIL,
	    NUDGE_SKIP_NO_PHONE, NUDGE_SKIP_NO_PUSH_ID };
	char status[16], source[256], day[32];
	int col, rc, has;
	int64_t at = 0, n;

	*why = NUDGE_SKIP_NONE;
	if (len > 0)
		*reason = '\0';
	if (ch == NULL)
		return nudge_errf(err, EX_DATAERR, "channel: not one of email, "
		    "sms and push: \"%.64s\"", channel);
	col = (int)ch->id;  /* p->addr selects the columns in table order */

	sqlite3_bind_int64(p->addr, 1, contact_id);
	rc = sqlite3_step(p->addr);
	has = rc == SQLITE_ROW && sqlite3_column_type(p->addr, col) !=
	    SQLITE_NULL && sqlite3_column_bytes(p->addr, col) > 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		rc = nudge_store_error(p->st, err, "policy");
	sqlite3_reset(p->addr);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return rc;
	if (rc == SQLITE_DONE)
		return skip(why, NUDGE_SKIP_NO_CONTACT, reason, len, "no such contact");
	if (!has)
		return skip(why, no_addr[col], reason, len, "%s",
		    ch->no_address);

	sqlite3_bind_int64(p->consent, 1, contact_id);
	sqlite3_bind_text(p->consent, 2, ch->consent, -1, SQLITE_STATIC);
	rc = sqlite3_step(p->consent);
	*status = '\0';
	if (rc == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(p->consent, 0);
		const char *src = (const char *)sqlite3_column_text(p->consent,
		    2);

		snprintf(status, sizeof status, "%s", s != NULL ? s : "");
		at = sqlite3_column_int64(p->consent, 1);
		snprintf(source, sizeof source, "%s", src != NULL ? src : "");
	} else if (rc != SQLITE_DONE) {
		rc = nudge_store_error(p->st, err, "policy");
		sqlite3_reset(p->consent);
		return rc;
	}
	sqlite3_reset(p->consent);
	if (*status == '\0' && !transactional &&
	    nudge_seg_consent_optin(channel))
		return skip(why, NUDGE_SKIP_NO_CONSENT, reason, len,
		    "no consent (%s is opt-in)", channel);
	if (*status != '\0' && strcmp(status, "subscribed") != 0 &&
	    (transactional < NUDGE_MSG_REQUESTED ||
	    strcmp(status, "bounced") == 0 ||
	    strcmp(status, "complained") == 0)) {
		nudge_time_format(at, day, sizeof day);
		return skip(why, strcmp(status, "unsubscribed") == 0 ?
		    NUDGE_SKIP_UNSUBSCRIBED : strcmp(status, "bounced") == 0 ?
		    NUDGE_SKIP_BOUNCED : strcmp(status, "complained") == 0 ?
		    NUDGE_SKIP_COMPLAINED : NUDGE_SKIP_NO_CONSENT, reason, len,
		    "%s (%s, %.10s, %s)", status,
		    channel, day, source);
	}

	if (p->excl != NULL && !transactional) {
		sqlite3_bind_int64(p->excl, p->excl_id, contact_id);
		rc = sqlite3_step(p->excl);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			rc = nudge_store_error(p->st, err, "policy: exclude");
		sqlite3_reset(p->excl);
		if (rc == SQLITE_ROW)
			return skip(why, NUDGE_SKIP_EXCLUDED, reason, len,
			    "excluded by policy: %s", p->exclude);
		if (rc != SQLITE_DONE)
			return rc;
	}

	if (p->cap_max > 0 && !transactional) {
		sqlite3_bind_int64(p->cap, 1, contact_id);
		sqlite3_bind_int64(p->cap, 2, p->now - p->cap_per);
		rc = sqlite3_step(p->cap);
		n = rc == SQLITE_ROW ? sqlite3_column_int64(p->cap, 0) : 0;
		if (rc != SQLITE_ROW)
			rc = nudge_store_error(p->st, err, "policy: cap");
		sqlite3_reset(p->cap);
		if (rc != SQLITE_ROW)
			return rc;
		if (p->inflight != NULL)
			n += p->inflight(p->inflight_arg, contact_id);
		if (n >= p->cap_max) {
			fmt_dur(day, sizeof day, p->cap_per);
			return skip(why, NUDGE_SKIP_CAP, reason, len,
			    "frequency cap: %" PRId64 " in %s", n, day);
		}
	}
	if (p->sunset_q != NULL && !transactional) {
		sqlite3_bind_int64(p->sunset_q, 1, contact_id);
		sqlite3_bind_int64(p->sunset_q, 2, p->now - p->sunset);
		rc = sqlite3_step(p->sunset_q);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			rc = nudge_store_error(p->st, err, "policy: sunset");
		sqlite3_reset(p->sunset_q);
		if (rc == SQLITE_ROW) {
			fmt_dur(day, sizeof day, p->sunset);
			return skip(why, NUDGE_SKIP_SUNSET, reason, len,
			    "sunset: no open or click in %s", day);
		}
		if (rc != SQLITE_DONE)
			return rc;
	}
	return 0;
}

/* The minute of the day at t in the zone tz (NULL: UTC). */
static int
local_minute(int64_t t, const char *tz, int *minute)
{
	struct tm tm;

	if (nudge_tz_local(t, tz, &tm) == -1)
		return -1;
	*minute = tm.tm_hour * 60 + tm.tm_min;
	return 0;
}

int
nudge_policy_quiet(const nudge_policy_cfg *cfg, int64_t now, char *why,
    size_t len, nudge_err *err)
{
	char until[32];
	int m, from, to, quiet, left;

	if (len > 0)
		*why = '\0';
	if (cfg == NULL || cfg->quiet_from < 0 || cfg->quiet_to < 0)
		return 0;
	if (local_minute(now, cfg->quiet_tz, &m) == -1)
		return nudge_errf(err, EX_SOFTWARE, "quiet hours: cannot read "
		    "the time in %s", cfg->quiet_tz != NULL ? cfg->quiet_tz :
		    "UTC");
	from = cfg->quiet_from;
	to = cfg->quiet_to;
	/* 21:00-08:00 wraps midnight; 13:00-14:00 does not */
	quiet = from < to ? m >= from && m < to : m >= from || m < to;
	if (!quiet)
		return 0;
	left = ((to - m) % 1440 + 1440) % 1440;
	nudge_time_format(now - now % 60 + (int64_t)left * 60, until,
	    sizeof until);
	snprintf(why, len, "quiet hours %02d:%02d-%02d:%02d %s, until %s",
	    from / 60, from % 60, to / 60, to % 60, cfg->quiet_tz != NULL ?
	    cfg->quiet_tz : "UTC", until);
	return 0;
}
