/* contact: what a contact's identifiers look like (email validation and
 * lower-casing, phones to E.164), and finding a contact by id, email or
 * phone. */
#ifndef NUDGE_CONTACT_H
#define NUDGE_CONTACT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "template.h"
#include "util.h"

/* Room for an E.164 number: '+', up to 15 digits, NUL. */
#define NUDGE_PHONE_MAX 17
/* Longest email accepted (RFC 5321's path limit less the brackets). */
#define NUDGE_EMAIL_MAX 254

/* Normalises an email address: surrounding blanks dropped, lower-cased,
 * checked to be one plain address (dot-atom local part of ASCII, a domain
 * of at least two labels ending in an alphabetic TLD).  Writes it to out
 * (at least NUDGE_EMAIL_MAX + 1 bytes).  Returns 0, or -1 with *why set
 * to a short static reason. */
int nudge_email_norm(const char *in, size_t n, char *out, const char **why);

/* Normalises a phone number as people type it ("052-123 4567",
 * "+1 (212) 555-0134", "00972...") to E.164 ("+972521234567") into out
 * (NUDGE_PHONE_MAX bytes).  A number without a country code needs
 * country (ISO 3166 alpha-2, e.g. "IL"; NULL or "" for none).  Returns 0,
 * or -1 with *why set. */
int nudge_phone_norm(const char *in, size_t n, const char *country,
    char *out, const char **why);

/* True when phone (E.164) has the calling code of country (ISO 3166
 * alpha-2): "+1..." is in both US and CA. */
int nudge_phone_in_country(const char *phone, const char *country);

/* True when nudge knows the country's calling code and trunk prefix. */
int nudge_phone_country_known(const char *country);

/* The country (ISO 3166 alpha-2) an Olson time zone is in, for the
 * countries nudge knows phones of, or NULL ("Asia/Jerusalem" -> "IL"). */
const char *nudge_phone_country_of_tz(const char *tz);

/* What a contact reference looks like: "a@b.c" is an email, "+972..." or a
 * number with a leading 0 or with separators is a phone, plain digits are
 * an id. */
enum nudge_ref_kind { NUDGE_REF_ID, NUDGE_REF_EMAIL, NUDGE_REF_PHONE };
enum nudge_ref_kind nudge_contact_ref_kind(const char *ref);

/* Finds the contact that ref names (an id, email or phone, normalised as
 * above with country).  Sets *id to it, or to 0 when there is none.
 * Returns 0; EX_DATAERR with err set when ref is malformed; or a store
 * error. */
int nudge_contact_find(nudge_store *st, const char *ref, const char *country,
    int64_t *id, nudge_err *err);

/* Creates a contact from an email or phone reference (not an id), with
 * created_at = updated_at = now; sets *id.  Returns 0 or a code. */
int nudge_contact_create(nudge_store *st, const char *ref,
    const char *country, int64_t now, int64_t *id, nudge_err *err);

/*
 * The attrs keys contacts have, kept in the store's attr_keys table (a
 * key once imported stays known) so that a template's fields are checked
 * without a scan of every contact's attrs (0.8 s a million).
 *
 * nudge_contact_attr_known sets *found to 1 when key is in attr_keys or,
 * failing that, when a scan finds a contact that has it (a writer that
 * did not keep the table; the scan ends at the first such contact), else
 * 0.  Returns 0 or a store error.
 *
 * nudge_contact_attr_keys_note adds those of keys[0..n) that some contact
 * has to attr_keys: every writer of contacts.attrs calls it in the
 * transaction that wrote them.  A known key costs one lookup.  names, if
 * not NULL, are the names the keys were made from (an export's column
 * "Default Address City" for default_address_city): each known key's
 * replaces the one kept (attr_names).  Returns 0 or a store error.
 *
 * nudge_contact_attr_name writes into name (len bytes) the name key was
 * last imported from, else key itself.  Returns 0 or a store error.
 *
 * nudge_contact_attr_keys sets *keys to the known keys, sorted, *n of
 * them, in one allocation (free(*keys) frees all): the candidates of a
 * did-you-mean hint.  Returns 0, EX_OSERR or a store error.
 */
int nudge_contact_attr_known(nudge_store *st, const char *key, int *found,
    nudge_err *err);
int nudge_contact_attr_keys_note(nudge_store *st, const char *const *keys,
    const char *const *names, size_t n, nudge_err *err);
int nudge_contact_attr_name(nudge_store *st, const char *key, char *name,
    size_t len, nudge_err *err);
int nudge_contact_attr_keys(nudge_store *st, char ***keys, size_t *n,
    nudge_err *err);

/* The fields a template rendered for a contact may name (send.c's lookup
 * supplies them): the columns id, email, phone, push_id, first_name,
 * last_name, unsubscribe_url, confirm_url, confirm_code and
 * preferences_url (signup.h),
 * and attrs.KEY for a KEY some contact has. */
extern const char *const nudge_contact_tpl_fields[10];

/* Refuses a template that names a field no contact can have: not one of
 * nudge_contact_tpl_fields and not attrs.KEY with nudge_contact_attr_known
 * (a typo such as {{frist_name}} would skip every contact, or with a
 * default render the default for every one), nor latest.TYPE.FIELD of a
 * known type, nor a computed field; and event.FIELD unless entry_on (the
 * campaign's entry: on EVENT) is not NULL: without an entry event it
 * would render empty for every contact.  Returns 0, EX_DATAERR
 * ("file:line:col: unknown field "frist_name" ...; did you mean
 * "first_name"?"), or a store error. */
int nudge_contact_tpl_check(nudge_store *st, const nudge_tpl *t,
    const char *entry_on, nudge_err *err);

#endif
