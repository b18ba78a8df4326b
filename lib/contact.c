/* contact: identifiers (email, E.164 phone) and finding contacts. */
#include "contact.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

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
	sqlite3_stmt *s;
	int rc;

	if ((rc = ref_key(ref, country, key, &col, err)) != 0)
		return rc;
	if (strcmp(col, "id") == 0)
		return nudge_errf(err, EX_DATAERR, "cannot create contact %s "
		    "from an id: give an email or phone", ref);
	snprintf(sql, sizeof sql, "INSERT INTO contacts (%s, created_at, "
	    "updated_at) VALUES (?, ?, ?)", col);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return nudge_store_error(st, err, "create contact");
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return nudge_store_error(st, err, "create contact");
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}
