/* contact: identifiers (email, E.164 phone) and finding contacts. */
#include "contact.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "segment.h"

static int
atext(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

int
nudge_email_norm(const char *in, size_t n, char *out, const char **why)
{
	size_t i, at = 0, ats = 0, o, label;
	const char *s = in;

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return *why = "empty", -1;
	if (n > NUDGE_EMAIL_MAX)
		return *why = "too long", -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '@') {
			at = i;
			ats++;
		}
	}
	if (ats == 0)
		return *why = "no @", -1;
	if (ats > 1)
		return *why = "more than one @", -1;
	if (at == 0)
		return *why = "nothing before the @", -1;
	if (at > 64)
		return *why = "part before the @ is longer than 64", -1;
	for (i = 0; i < at; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (i == 0 || i + 1 == at || s[i + 1] == '.')
				return *why = "misplaced dot before the @", -1;
		} else if (c >= 0x80) {
			return *why = "non-ASCII before the @", -1;
		} else if (!atext(c)) {
			return *why = "character not allowed before the @", -1;
		}
		out[i] = (char)tolower(c);
	}
	out[at] = '@';
	o = at + 1;
	if (o == n)
		return *why = "no domain", -1;
	label = 0;
	for (i = at + 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return *why = "bad domain", -1;
			label = 0;
		} else if (isalnum(c) || c == '-') {
			if (label == 0 && c == '-')
				return *why = "bad domain", -1;
			if (++label > 63)
				return *why = "bad domain", -1;
		} else if (c >= 0x80) {
			return *why = "non-ASCII domain (use its xn-- form)", -1;
		} else {
			return *why = "character not allowed in the domain", -1;
		}
		out[o++] = (char)tolower(c);
	}
	out[o] = '\0';
	if (label == 0)
		return *why = "domain ends with a dot", -1;
	if (s[n - 1] == '-')
		return *why = "bad domain", -1;
	/* The top-level domain: letters (or an IDN's xn-- form), and there
	 * must be one: "user@localhost" reaches nobody we can mail. */
	{
		const char *tld = strrchr(out + at + 1, '.');
		size_t k;

		if (tld == NULL)
			return *why = "domain has no dot", -1;
		tld++;
		if (strncmp(tld, "xn--", 4) != 0) {
			if (strlen(tld) < 2)
				return *why = "bad top-level domain", -1;
			for (k = 0; tld[k] != '\0'; k++)
				if (!isalpha((unsigned char)tld[k]))
					return *why = "bad top-level domain", -1;
		}
	}
	return 0;
}

/* Calling codes and national number lengths of the countries nudge can
 * take local numbers for; numbers in +... form are accepted for any
 * country code. */
static const struct country {
	char iso[3];
	char cc[4];
	char trunk[2];     /* the national prefix dropped for E.164 */
	unsigned char min, max; /* national significant number length */
} countries[] = {
	{ "AE", "971", "0", 8, 9 },  { "AR", "54", "0", 10, 11 },
	{ "AT", "43", "0", 4, 13 },  { "AU", "61", "0", 9, 9 },
	{ "BE", "32", "0", 8, 9 },   { "BR", "55", "0", 10, 11 },
	{ "CA", "1", "1", 10, 10 },  { "CH", "41", "0", 9, 9 },
	{ "CN", "86", "0", 9, 11 },  { "CY", "357", "", 8, 8 },
	{ "CZ", "420", "", 9, 9 },   { "DE", "49", "0", 6, 13 },
	{ "DK", "45", "", 8, 8 },    { "EG", "20", "0", 9, 10 },
	{ "ES", "34", "", 9, 9 },    { "FI", "358", "0", 6, 11 },
	{ "FR", "33", "0", 9, 9 },   { "GB", "44", "0", 9, 10 },
	{ "GR", "30", "", 10, 10 },  { "HU", "36", "06", 8, 9 },
	{ "IE", "353", "0", 7, 9 },  { "IL", "972", "0", 8, 9 },
	{ "IN", "91", "0", 10, 10 }, { "IT", "39", "", 6, 11 },
	{ "JO", "962", "0", 8, 9 },  { "JP", "81", "0", 9, 10 },
	{ "MX", "52", "", 10, 10 },  { "NL", "31", "0", 9, 9 },
	{ "NO", "47", "", 8, 8 },    { "NZ", "64", "0", 8, 10 },
	{ "PL", "48", "", 9, 9 },    { "PS", "970", "0", 9, 9 },
	{ "PT", "351", "", 9, 9 },   { "RO", "40", "0", 9, 9 },
	{ "RU", "7", "8", 10, 10 },  { "SE", "46", "0", 7, 9 },
	{ "TR", "90", "0", 10, 10 }, { "UA", "380", "0", 9, 9 },
	{ "US", "1", "1", 10, 10 },  { "ZA", "27", "0", 9, 9 },
};

static const struct country *
country_by_iso(const char *iso)
{
	size_t i;

	if (iso == NULL)
		return NULL;
	for (i = 0; i < sizeof countries / sizeof countries[0]; i++)
		if (strcasecmp(countries[i].iso, iso) == 0)
			return &countries[i];
	return NULL;
}

int
nudge_phone_in_country(const char *phone, const char *country)
{
	const struct country *c = country_by_iso(country);

	return c != NULL && phone[0] == '+' &&
	    strncmp(phone + 1, c->cc, strlen(c->cc)) == 0;
}

/* Time zones that belong to one country of the table above (the zones
 * of several countries, like Europe/Brussels's neighbours, are theirs
 * too, but a guess is only offered where it is that country's). */
static const struct tz_country {
	const char *tz, *iso;
} tz_countries[] = {
	{ "Asia/Jerusalem", "IL" }, { "Asia/Tel_Aviv", "IL" },
	{ "Israel", "IL" }, { "America/New_York", "US" },
	{ "America/Chicago", "US" }, { "America/Denver", "US" },
	{ "America/Los_Angeles", "US" }, { "America/Phoenix", "US" },
	{ "America/Anchorage", "US" }, { "Pacific/Honolulu", "US" },
	{ "America/Detroit", "US" }, { "America/Boise", "US" },
	{ "US/Eastern", "US" }, { "US/Central", "US" },
	{ "US/Mountain", "US" }, { "US/Pacific", "US" },
	{ "America/Toronto", "CA" }, { "America/Vancouver", "CA" },
	{ "Europe/London", "GB" }, { "Europe/Berlin", "DE" },
	{ "Europe/Paris", "FR" }, { "Europe/Madrid", "ES" },
	{ "Europe/Rome", "IT" }, { "Europe/Amsterdam", "NL" },
	{ "Europe/Brussels", "BE" }, { "Europe/Vienna", "AT" },
	{ "Europe/Zurich", "CH" }, { "Europe/Stockholm", "SE" },
	{ "Europe/Oslo", "NO" }, { "Europe/Copenhagen", "DK" },
	{ "Europe/Helsinki", "FI" }, { "Europe/Warsaw", "PL" },
	{ "Europe/Prague", "CZ" }, { "Europe/Budapest", "HU" },
	{ "Europe/Lisbon", "PT" }, { "Europe/Dublin", "IE" },
	{ "Europe/Athens", "GR" }, { "Europe/Bucharest", "RO" },
	{ "Europe/Kyiv", "UA" }, { "Europe/Kiev", "UA" },
	{ "Europe/Istanbul", "TR" }, { "Europe/Moscow", "RU" },
	{ "Asia/Nicosia", "CY" }, { "Asia/Dubai", "AE" },
	{ "Asia/Amman", "JO" }, { "Asia/Gaza", "PS" },
	{ "Asia/Hebron", "PS" }, { "Africa/Cairo", "EG" },
	{ "Africa/Johannesburg", "ZA" }, { "Asia/Kolkata", "IN" },
	{ "Asia/Tokyo", "JP" }, { "Asia/Shanghai", "CN" },
	{ "Australia/Sydney", "AU" }, { "Australia/Melbourne", "AU" },
	{ "Pacific/Auckland", "NZ" }, { "America/Sao_Paulo", "BR" },
	{ "America/Mexico_City", "MX" },
	{ "America/Argentina/Buenos_Aires", "AR" },
};

const char *
nudge_phone_country_of_tz(const char *tz)
{
	size_t i;

	if (tz == NULL)
		return NULL;
	for (i = 0; i < sizeof tz_countries / sizeof tz_countries[0]; i++)
		if (strcmp(tz_countries[i].tz, tz) == 0)
			return tz_countries[i].iso;
	return NULL;
}

int
nudge_phone_country_known(const char *country)
{
	return country_by_iso(country) != NULL;
}

int
nudge_phone_norm(const char *in, size_t n, const char *country, char *out,
    const char **why)
{
	char d[40];
	size_t i, nd = 0;
	int plus = 0, seen_digit = 0;
	const struct country *c;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (isdigit(ch)) {
			if (nd + 1 >= sizeof d)
				return *why = "too many digits", -1;
			d[nd++] = (char)ch;
			seen_digit = 1;
		} else if (ch == '+' && !seen_digit && !plus) {
			plus = 1;
		} else if (ch == ' ' || ch == '-' || ch == '.' || ch == '(' ||
		    ch == ')' || ch == '/' || ch == '\t') {
			continue;
		} else {
			return *why = "not a phone number", -1;
		}
	}
	d[nd] = '\0';
	if (nd == 0)
		return *why = plus ? "not a phone number" : "empty", -1;
	if (!plus && nd > 2 && d[0] == '0' && d[1] == '0') {
		/* 00 is the international prefix almost everywhere */
		memmove(d, d + 2, nd - 1);
		nd -= 2;
		plus = 1;
	}
	if (plus) {
		if (d[0] == '0')
			return *why = "country code cannot start with 0", -1;
		if (nd < 8 || nd > 15)
			return *why = "wrong number of digits", -1;
		/* Check the length for the countries we know. */
		for (i = 0; i < sizeof countries / sizeof countries[0]; i++) {
			size_t cl = strlen(countries[i].cc);

			if (strncmp(d, countries[i].cc, cl) == 0) {
				if (nd - cl < countries[i].min ||
				    nd - cl > countries[i].max)
					return *why = "wrong number of digits "
					    "for its country", -1;
				break;
			}
		}
		out[0] = '+';
		memcpy(out + 1, d, nd + 1);
		return 0;
	}
	if (country == NULL || *country == '\0')
		return *why = "no country code (+...) and no default_country "
		    "set", -1;
	if ((c = country_by_iso(country)) == NULL)
		return *why = "default_country unknown to nudge", -1;
	{
		size_t tl = strlen(c->trunk), cl = strlen(c->cc);
		const char *nsn = d;
		size_t nl = nd;

		if (tl > 0 && nl > tl && strncmp(nsn, c->trunk, tl) == 0 &&
		    nl - tl >= c->min) {
			nsn += tl;
			nl -= tl;
		}
		if (nl < c->min || nl > c->max)
			return *why = "wrong number of digits", -1;
		if (nsn[0] == '0' && c->trunk[0] == '0')
			return *why = "not a phone number", -1;
		if (cl + nl > 15)
			return *why = "too many digits", -1;
		out[0] = '+';
		memcpy(out + 1, c->cc, cl);
		memcpy(out + 1 + cl, nsn, nl);
		out[1 + cl + nl] = '\0';
	}
	return 0;
}

enum nudge_ref_kind
nudge_contact_ref_kind(const char *ref)
{
	size_t i;

	if (strchr(ref, '@') != NULL)
		return NUDGE_REF_EMAIL;
	if (ref[0] == '0' || ref[0] == '\0')
		return NUDGE_REF_PHONE;
	for (i = 0; ref[i] != '\0'; i++)
		if (!isdigit((unsigned char)ref[i]))
			return NUDGE_REF_PHONE;
	return NUDGE_REF_ID;
}

/* The normalised key and the column it lives in. */
static int
ref_key(const char *ref, const char *country, char *key, const char **col,
    nudge_err *err)
{
	char q[128];
	const char *why;

	switch (nudge_contact_ref_kind(ref)) {
	case NUDGE_REF_EMAIL:
		if (nudge_email_norm(ref, strlen(ref), key, &why) == -1)
			return nudge_errf(err, EX_DATAERR,
			    "not an email address (%s): \"%s\"", why,
			    nudge_quote(q, sizeof q, ref, strlen(ref)));
		*col = "email";
		return 0;
	case NUDGE_REF_PHONE:
		if (nudge_phone_norm(ref, strlen(ref), country, key, &why) == -1)
			return nudge_errf(err, EX_DATAERR,
			    "not a contact id, email or phone (%s): \"%s\"", why,
			    nudge_quote(q, sizeof q, ref, strlen(ref)));
		*col = "phone";
		return 0;
	default:
		*col = "id";
		snprintf(key, NUDGE_EMAIL_MAX + 1, "%s", ref);
		return 0;
	}
}

int
nudge_contact_find(nudge_store *st, const char *ref, const char *country,
    int64_t *id, nudge_err *err)
{
	static const char by_id[] = "SELECT id FROM contacts WHERE id = ?",
	    by_email[] = "SELECT id FROM contacts WHERE email = ?",
	    by_phone[] = "SELECT id FROM contacts WHERE phone = ?";
	char key[NUDGE_EMAIL_MAX + 1];
	const char *col = "id";
	sqlite3_stmt *s;
	int rc;

	*id = 0;
	if ((rc = ref_key(ref, country, key, &col, err)) != 0)
		return rc;
	if ((rc = nudge_store_cached(st, strcmp(col, "id") == 0 ? by_id :
	    strcmp(col, "email") == 0 ? by_email : by_phone, &s, err)) != 0)
		return rc;
	if (strcmp(col, "id") == 0) {
		int64_t v;

		if (nudge_parse_i64(key, &v) == -1)
			return nudge_errf(err, EX_DATAERR, "bad contact id: %s",
			    key);
		sqlite3_bind_int64(s, 1, v);
	} else {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = nudge_store_error(st, err, "find contact");
		sqlite3_reset(s);
		return rc;
	}
	sqlite3_reset(s);
	return 0;
}

int
nudge_contact_create(nudge_store *st, const char *ref, const char *country,
    int64_t now, int64_t *id, nudge_err *err)
{
	char key[NUDGE_EMAIL_MAX + 1], sql[128];
	const char *col = "id";
	int rc;

	if ((rc = ref_key(ref, country, key, &col, err)) != 0)
		return rc;
	if (strcmp(col, "id") == 0)
		return nudge_errf(err, EX_DATAERR, "cannot create contact %s "
		    "from an id: give an email or phone", ref);
	snprintf(sql, sizeof sql, "INSERT INTO contacts (%s, created_at, "
	    "updated_at) VALUES (?, ?, ?)", col);
	if ((rc = nudge_store_run(st, "create contact", err, NULL, sql, "tii",
	    key, now, now)) != 0)
		return rc;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* Whether some contact has key, by a scan of the contacts: what
 * attr_keys says, for a writer that did not keep it. */
static int
attr_scan(nudge_store *st, const char *key, int *found, nudge_err *err)
{
	int64_t n;
	int rc;

	/* json_each compares the key as it is, whatever its characters (a
	 * JSON path would have to quote dots and quotes); the EXISTS stops
	 * at the first contact that has it */
	if ((rc = nudge_store_run(st, "attrs", err, &n, "SELECT EXISTS"
	    " (SELECT 1 FROM contacts c, json_each(c.attrs) j"
	    " WHERE c.attrs <> '{}' AND j.key = ?1)", "t", key)) == 0)
		*found = n != 0;
	return rc;
}

int
nudge_contact_attr_known(nudge_store *st, const char *key, int *found,
    nudge_err *err)
{
	int64_t n;
	int rc;

	*found = 0;
	if ((rc = nudge_store_run(st, "attr_keys", err, &n, "SELECT EXISTS"
	    " (SELECT 1 FROM attr_keys WHERE key = ?1)", "t", key)) != 0)
		return rc;
	*found = n != 0;
	/* a miss is the error path: worth a scan to be sure */
	if (rc == 0 && !*found)
		rc = attr_scan(st, key, found, err);
	return rc;
}

int
nudge_contact_attr_keys_note(nudge_store *st, const char *const *keys,
    const char *const *names, size_t n, nudge_err *err)
{
	sqlite3_stmt *s = NULL, *nm = NULL;
	size_t i;
	int rc;

	if (n == 0)
		return 0;
	/* a key known already costs one lookup; a new one is added when a
	 * contact has it (the first one that does ends the scan: a column
	 * left blank in every row costs a scan, and stays unknown) */
	if ((rc = nudge_store_prepare(st, &s, "INSERT INTO attr_keys (key) "
	    "SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM attr_keys WHERE "
	    "key = ?1) AND EXISTS (SELECT 1 FROM contacts c, "
	    "json_each(c.attrs) j WHERE c.attrs <> '{}' AND j.key = ?1)",
	    err)) != 0)
		return rc;
	if (names != NULL && (rc = nudge_store_prepare(st, &nm, "INSERT OR "
	    "REPLACE INTO attr_names (key, name) SELECT ?1, ?2 WHERE EXISTS "
	    "(SELECT 1 FROM attr_keys WHERE key = ?1)", err)) != 0) {
		sqlite3_finalize(s);
		return rc;
	}
	for (i = 0; i < n && rc == 0; i++) {
		sqlite3_bind_text(s, 1, keys[i], -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = nudge_store_error(st, err, "attr_keys");
		sqlite3_reset(s);
		if (rc != 0 || nm == NULL || names[i] == NULL)
			continue;
		sqlite3_bind_text(nm, 1, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(nm, 2, names[i], -1, SQLITE_STATIC);
		if (sqlite3_step(nm) != SQLITE_DONE)
			rc = nudge_store_error(st, err, "attr_names");
		sqlite3_reset(nm);
	}
	sqlite3_finalize(s);
	sqlite3_finalize(nm);
	return rc;
}

int
nudge_contact_attr_name(nudge_store *st, const char *key, char *name,
    size_t len, nudge_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	snprintf(name, len, "%s", key);
	if ((rc = nudge_store_prepare(st, &s, "SELECT name FROM attr_names "
	    "WHERE key = ?1", err)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		snprintf(name, len, "%s", (const char *)sqlite3_column_text(s,
		    0));
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
	    nudge_store_error(st, err, "attr_names");
	sqlite3_finalize(s);
	return rc;
}

int
nudge_contact_attr_keys(nudge_store *st, char ***keys, size_t *n,
    nudge_err *err)
{
	sqlite3_stmt *s = NULL;
	nudge_buf b = { 0 };
	size_t i, k = 0, off;
	char **v;
	int rc;

	*keys = NULL;
	*n = 0;
	if ((rc = nudge_store_prepare(st, &s, "SELECT key FROM attr_keys "
	    "ORDER BY 1", err)) != 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		if (t != NULL && nudge_buf_add(&b, t, strlen(t) + 1) == -1) {
			rc = -1;
			break;
		}
		k += t != NULL;
	}
	if (rc != SQLITE_DONE) {
		rc = rc == -1 ? nudge_errf(err, EX_OSERR, "out of memory") :
		    nudge_store_error(st, err, "attr_keys");
		sqlite3_finalize(s);
		nudge_buf_free(&b);
		return rc;
	}
	sqlite3_finalize(s);
	/* the pointers, then the strings, in one block */
	if ((v = malloc(k * sizeof *v + b.len + 1)) == NULL) {
		nudge_buf_free(&b);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	if (b.len > 0)
		memcpy((char *)(v + k), b.s, b.len);
	for (i = 0, off = 0; i < k; i++) {
		v[i] = (char *)(v + k) + off;
		off += strlen(v[i]) + 1;
	}
	nudge_buf_free(&b);
	*keys = v;
	*n = k;
	return 0;
}

const char *const nudge_contact_tpl_fields[10] = { "id", "email", "phone",
	"push_id", "first_name", "last_name", "unsubscribe_url",
	"confirm_url", "confirm_code", "preferences_url" };

struct tplcheck {
	nudge_store *st;
	nudge_err *err;
	char **seen;          /* attrs keys found already */
	size_t nseen;
	const char *entry_on; /* the campaign's entry event, or NULL */
};

/* The hint for an unknown field: "; did you mean "x"?", or "". */
static void
hint(struct tplcheck *c, const char *name, char *out, size_t outlen)
{
	const char **cands = NULL, *best = NULL;
	char **keys = NULL, **full = NULL;
	size_t nk = 0, i, nf = sizeof nudge_contact_tpl_fields /
	    sizeof nudge_contact_tpl_fields[0];
	nudge_err e;
	int found;

	out[0] = '\0';
	/* {{city}} for {{attrs.city}} is too far for an edit distance */
	if (strncmp(name, "attrs.", 6) != 0) {
		char *a;

		if (asprintf(&a, "attrs.%s", name) != -1) {
			if (nudge_contact_attr_known(c->st, name, &found,
			    &e) == 0 && found)
				snprintf(out, outlen, "; did you mean \"%s\"?",
				    a);
			free(a);
			if (out[0] != '\0')
				return;
		}
	}
	if (nudge_contact_attr_keys(c->st, &keys, &nk, &e) != 0)
		nk = 0;
	if ((cands = calloc(nf + nk, sizeof *cands)) != NULL &&
	    (full = calloc(nk + 1, sizeof *full)) != NULL) {
		for (i = 0; i < nf; i++)
			cands[i] = nudge_contact_tpl_fields[i];
		for (i = 0; i < nk; i++)
			if (asprintf(&full[i], "attrs.%s", keys[i]) != -1)
				cands[nf + i] = full[i];
			else
				full[i] = NULL;
		best = nudge_closest(name, cands, nf + nk);
		if (best != NULL)
			snprintf(out, outlen, "; did you mean \"%s\"?", best);
	}
	for (i = 0; full != NULL && i < nk; i++)
		free(full[i]);
	free(full);
	free(cands);
	free(keys);
}

/* latest.TYPE.PATH: known when the event type is (names.h). */
static int
check_latest(struct tplcheck *c, const char *name, const char *where)
{
	const char *type = name + 7, *dot = strchr(type, '.');
	nudge_seg_name u;
	nudge_names *k = NULL;
	nudge_buf why = {0};
	int rc;

	if (dot == NULL || dot == type || dot[1] == '\0')
		return nudge_errf(c->err, EX_DATAERR, "%s: \"%s\": expected "
		    "latest.EVENT_TYPE.FIELD, such as latest.purchase.total",
		    where, name);
	memset(&u, 0, sizeof u);
	u.kind = NUDGE_SEG_NAME_EVENT;
	if ((u.name = strndup(type, (size_t)(dot - type))) == NULL)
		return nudge_errf(c->err, EX_OSERR, "out of memory");
	if ((rc = nudge_names_open(&k, c->st, NULL, c->err)) == 0) {
		rc = nudge_names_check(k, &u, &why, c->err);
		if (rc == 0)
			rc = nudge_errf(c->err, EX_DATAERR, "%s: unknown field "
			    "\"%s\": %s", where, name, why.s != NULL ? why.s :
			    "no such event type");
		else if (rc == 1 || rc == 2)
			rc = 0;
	}
	nudge_names_free(k);
	nudge_buf_free(&why);
	free(u.name);
	return rc;
}

static int
check_field(void *ctx, const char *name, int has_def, const char *where)
{
	struct tplcheck *c = ctx;
	char h[200], **v;
	size_t i;
	int rc, found = 0;

	(void)has_def;  /* a default for every contact is the same typo */
	if (strncmp(name, "latest.", 7) == 0)
		return check_latest(c, name, where);
	if (strncmp(name, "event.", 6) == 0) {
		if (c->entry_on == NULL)
			return nudge_errf(c->err, EX_DATAERR, "%s: \"%s\": "
			    "event.* is the event that started a journey, and "
			    "this message's campaign has no entry: on EVENT",
			    where, name);
		if (name[6] == '\0' || name[strlen(name) - 1] == '.')
			return nudge_errf(c->err, EX_DATAERR, "%s: \"%s\": "
			    "expected event.FIELD, such as event.total", where,
			    name);
		return 0;
	}
	for (i = 0; i < sizeof nudge_contact_tpl_fields /
	    sizeof nudge_contact_tpl_fields[0]; i++)
		if (strcmp(name, nudge_contact_tpl_fields[i]) == 0)
			return 0;
	if (nudge_seg_computed(name) != NULL)
		return 0;
	for (i = 0; nudge_seg_predicted_name(i) != NULL; i++)
		if (strcmp(name, nudge_seg_predicted_name(i)) == 0)
			return 0;
	if (strncmp(name, "attrs.", 6) == 0 && name[6] != '\0') {
		for (i = 0; i < c->nseen; i++)
			if (strcmp(c->seen[i], name + 6) == 0)
				return 0;
		if ((rc = nudge_contact_attr_known(c->st, name + 6, &found,
		    c->err)) != 0)
			return rc;
	}
	if (found) {
		if ((v = realloc(c->seen, (c->nseen + 1) * sizeof *v)) ==
		    NULL || (v[c->nseen] = strdup(name + 6)) == NULL) {
			if (v != NULL)
				c->seen = v;
			return nudge_errf(c->err, EX_OSERR, "out of memory");
		}
		c->seen = v;
		c->nseen++;
		return 0;
	}
	hint(c, name, h, sizeof h);
	return nudge_errf(c->err, EX_DATAERR, "%s: unknown field \"%s\": "
	    "not a contact column, nor an attrs key any contact has%s", where,
	    name, h);
}

int
nudge_contact_tpl_check(nudge_store *st, const nudge_tpl *t,
    const char *entry_on, nudge_err *err)
{
	struct tplcheck c = { st, err, NULL, 0, entry_on };
	size_t i;
	int rc;

	rc = nudge_tpl_each_field(t, check_field, &c);
	for (i = 0; i < c.nseen; i++)
		free(c.seen[i]);
	free(c.seen);
	return rc;
}
