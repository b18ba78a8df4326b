/* listimport: CSV contacts into the store, one transaction per import. */
#include "listimport.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "contact.h"

enum field { F_EMAIL, F_PHONE, F_PUSH, F_FIRST, F_LAST, F_LISTS, F_ATTR,
	F_SKIP, F_FULL, F_NFIELDS };

static const char *const field_names[F_NFIELDS] = {
	"email", "phone", "push_id", "first_name", "last_name", "lists",
	"attrs", "-", "full_name",
};

/* Header spellings seen in exported contact lists, after lower-casing and
 * turning spaces and hyphens into underscores. */
static const struct alias {
	const char *name;
	enum field f;
} aliases[] = {
	{ "email", F_EMAIL }, { "e_mail", F_EMAIL },
	{ "email_address", F_EMAIL }, { "mail", F_EMAIL },
	{ "phone", F_PHONE }, { "mobile", F_PHONE }, { "phone_number", F_PHONE },
	{ "mobile_phone", F_PHONE }, { "cell", F_PHONE }, { "tel", F_PHONE },
	{ "telephone", F_PHONE },
	{ "push_id", F_PUSH }, { "device_token", F_PUSH },
	{ "player_id", F_PUSH },
	{ "first_name", F_FIRST }, { "firstname", F_FIRST },
	{ "given_name", F_FIRST }, { "first", F_FIRST },
	{ "last_name", F_LAST }, { "lastname", F_LAST }, { "surname", F_LAST },
	{ "family_name", F_LAST }, { "last", F_LAST },
	{ "lists", F_LISTS }, { "list", F_LISTS },
	{ "full_name", F_FULL }, { "fullname", F_FULL },
};

/*
 * The exports recognised by their header (nudge-import-list(1) has their
 * tables).  Columns are named as norm_header leaves them.  A format maps
 * its tags column to lists with its separator, and its consent columns to
 * consent rows with the format's source, the export's own time and proof
 * where it has them; every other column goes the generic way.
 */
enum ckind {
	C_NONE,
	C_YESNO,     /* "yes"/"true" subscribed, "no"/"false" unsubscribed */
	C_TRUE_OUT,  /* "true"/"yes" unsubscribed; anything else says nothing */
	C_FILE,      /* every row: the file's kind (mailchimp's three) */
};

struct ccol {
	const char *col, *channel;
	enum ckind kind;
};

struct format {
	const char *name, *what, *source;
	const char *sig[4];      /* columns that must all be there */
	const char *tags;        /* its tags column, or NULL */
	char tag_sep;
	int tag_quoted;          /* each tag in double quotes (mailchimp) */
	struct ccol consent[2];
	const char *when[3];     /* the consent time: the first non-blank */
	const char *proof[3];    /* the proof: the first non-blank */
};

static const struct format formats[] = {
	{ "mailchimp", "Mailchimp audience export (subscribed, unsubscribed "
	  "or cleaned members)", "mailchimp",
	  { "email_address", "member_rating", "optin_time", "leid" },
	  "tags", ',', 1, { { "email_address", "email", C_FILE } },
	  { "confirm_time", "optin_time" }, { "confirm_ip", "optin_ip" } },
	{ "shopify-customers", "Shopify customers export", "shopify",
	  { "accepts_email_marketing", "total_spent", "total_orders" },
	  "tags", ',', 0,
	  { { "accepts_email_marketing", "email", C_YESNO },
	    { "accepts_sms_marketing", "sms", C_YESNO } },
	  { NULL }, { NULL } },
	{ "hubspot", "HubSpot contacts export", "hubspot",
	  { "record_id", "create_date", "email" }, NULL, 0, 0,
	  { { "unsubscribed_from_all_email", "email", C_TRUE_OUT } },
	  { NULL }, { NULL } },
	{ "facebook-leads", "Facebook (Meta) lead ads download", "facebook",
	  { "ad_id", "form_id", "created_time" }, NULL, 0, 0, { { NULL } },
	  { NULL }, { NULL } },
	{ "csv", "any other CSV: columns by their names", "import",
	  { NULL }, NULL, 0, 0, { { NULL } }, { NULL }, { NULL } },
};

#define NFORMATS (sizeof formats / sizeof formats[0])

int
nudge_import_format(size_t i, const char **name, const char **what)
{
	if (i >= NFORMATS)
		return 0;
	*name = formats[i].name;
	*what = formats[i].what;
	return 1;
}

struct col {
	enum field f;
	char *key;  /* the column's name as the header has it */
	char *attr; /* the attrs key, for F_ATTR: the name normalised
		       (nudge_import_attr_key) or as --map gave it */
};

struct list_id {
	char *name;
	int64_t id;
};

/* Memberships the bulk path keeps in memory (8 bytes each) before it
 * moves them, sorted, to a temporary file, and how many rows one INSERT
 * writes (members_flush). */
#define MBUF 262144
#define MROWS 128
#define MCID_BITS 40

struct imp {
	nudge_store *st;
	const nudge_import_opts *o;
	struct col *cols;
	size_t ncols;
	int have[F_NFIELDS]; /* column index + 1 of each single field */
	int delim;           /* the file's separator, for messages */
	const struct format *fmt; /* the export's format */
	int fcons[2];        /* column index + 1 of its consent columns */
	int fwhen, fproof;   /* of its consent time and proof, or 0 */
	const char *fstatus; /* C_FILE: the file's status */
	int fstatus_when;    /* C_FILE: column + 1 of its time, or 0 */
	sqlite3_stmt *cons_last, *cons_ins;
	char list_sep;       /* between the names of the lists column */
	int list_quoted;     /* each name in double quotes */
	sqlite3_stmt *ins, *upd, *upd_blanks, *find_email, *find_phone, *member, *unlist;
	struct list_id *lists;
	size_t nlists, caplists;
	int64_t *row_lists;
	size_t nrow, caprow;
	nudge_buf tmp;
	nudge_buf src;       /* ["SOURCE",NOW]: where a field came from */
	nudge_buf src_all;   /* {"*":["SOURCE",NOW]}: a new contact's */
	nudge_err *err;
	/* The bulk path, for an import into an empty store: see bulk_start.
	 * bulk is 1 while the hash tables find duplicates (the first
	 * bulk_window rows), 2 after, while the filter does. */
	int bulk;
	long bulk_rows, bulk_max, bulk_window;
	uint64_t *hemail, *hphone; /* (hash tag << 32 | contact id), 0 empty */
	sqlite3_stmt *byid;
	uint64_t *filter;    /* the filter's bits (see filter_add) */
	size_t filter_blocks; /* its 512-bit blocks, a power of two */
	FILE *later;         /* the rows put off until the indexes are back */
	long nlater;
	uint64_t *mbuf;      /* memberships waiting (members_flush) */
	size_t nmbuf;
	FILE *mruns;         /* the sorted runs of them moved out of mbuf */
	size_t nruns;        /* (each mbuf_max long), merged at the end */
	size_t mbuf_max;     /* MBUF, or less for tests */
	uint64_t mpend[MROWS]; /* the next INSERT's, in order */
	size_t npend;
	sqlite3_stmt *mflush;
};

/*
 * The reader (a thread of its own) parses and checks rows and hands them in
 * batches to the writer (the caller's thread), which alone touches the
 * store: parsing and checking, a third of an import's CPU, overlaps the
 * writes.  Rows are handed over and written in file order, so the result is
 * the same as one thread's.
 */
struct row {
	nudge_buf b;             /* the row's bytes: its fields, then the
				    email, phone, attrs and reason derived */
	size_t *off, *len, capf; /* the fields in b */
	char **ptr;
	nudge_csv_rec rec;       /* the row as it came, over b */
	long reason, email, phone, attrs; /* offsets in b, or -1 */
	size_t lemail, lphone, lattrs; /* their lengths */
	uint64_t hemail, hphone; /* hash64 of the email and phone, made by
				    the reader for the writer's tables */
	long first, last;        /* offsets in b, or -1 */
	long note;               /* why a field was left out, or -1 */
	int by_phone;            /* keyed by phone: no usable email */
	const char *cstatus[2];  /* consent from the format's columns, or */
	int64_t cat[2];          /* NULL; its time, */
	int cdated[2];           /* from the file (else the import's) */
	long cproof;             /* offset in b of the proof, or -1 */
	int no_cc;               /* the phone left out had no country
				    code: 1, or 2 when it looks like an
				    Israeli mobile (05...), 3 like a
				    NANP number (10 digits, [2-9]...) */
};

#define BATCH 256
#define NBATCH 4

struct batch {
	struct row rows[BATCH];
	size_t n;
};

struct pipeline {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct batch *slot[NBATCH];
	size_t head, filled;     /* the writer's slot; slots handed over */
	int done, stop, rc;      /* reader finished; writer gave up; reader's
				    result */
	nudge_err err;
	nudge_csv *csv;
	struct imp *im;
};

/* Rows the bulk path's hash tables take (BULK_SLOTS 8-byte slots each, 32
 * MiB in all, at most 72% full); after them a filter of FILTER_BLOCKS
 * 512-bit blocks (32 MiB) takes over, so memory stays constant for any
 * file (see bulk_filter_start). */
#define BULK_SLOTS (1u << 21)
#define BULK_WINDOW 1500000L
#define FILTER_BLOCKS (1u << 19)

static void
norm_header(const char *in, char *out, size_t len)
{
	size_t i, o = 0;

	while (*in == ' ' || *in == '\t')
		in++;
	for (i = 0; in[i] != '\0' && o + 1 < len; i++) {
		unsigned char c = (unsigned char)in[i];

		out[o++] = (c == ' ' || c == '-') ? '_' : (char)tolower(c);
	}
	while (o > 0 && out[o - 1] == '_')
		o--;
	out[o] = '\0';
}

size_t
nudge_import_attr_key(const char *column, char *out, size_t size)
{
	size_t o = 0;
	int gap = 0;

	for (; *column != '\0' && o + 2 < size; column++) {
		unsigned char c = (unsigned char)*column;

		if (isalnum(c) || c >= 0x80) {
			if (gap && o > 0)
				out[o++] = '_';
			gap = 0;
			if (o == 0 && isdigit(c))
				out[o++] = '_';
			out[o++] = (char)tolower(c);
		} else {
			gap = 1;
		}
	}
	/* a multi-byte character cut by the size is dropped whole */
	if (((unsigned char)*column & 0xc0) == 0x80) {
		while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 0)
			o--;
	}
	out[o] = '\0';
	return o;
}

const char *
nudge_import_field(const char *column)
{
	char n[64];
	size_t i;

	norm_header(column, n, sizeof n);
	for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(aliases[i].name, n) == 0)
			return field_names[aliases[i].f];
	return NULL;
}

static int
field_by_name(const char *name, enum field *f)
{
	int i;

	for (i = 0; i < F_NFIELDS; i++) {
		if (i == F_ATTR)
			continue;
		if (strcmp(field_names[i], name) == 0) {
			*f = (enum field)i;
			return 0;
		}
	}
	return -1;
}

static char *
trimmed_dup(const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return strndup(s, n);
}

/* The column (index + 1) whose normalised name is name, or 0. */
static int
col_named(const struct imp *im, const char *name)
{
	char n[64];
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; i < im->ncols; i++) {
		norm_header(im->cols[i].key, n, sizeof n);
		if (strcmp(n, name) == 0)
			return (int)i + 1;
	}
	return 0;
}

/* Chooses the format (--format, else the first whose signature columns
 * are all there; the generic csv has none) and maps its columns. */
static int
pick_format(struct imp *im)
{
	const nudge_import_opts *o = im->o;
	const struct format *f = NULL;
	size_t i, k;
	int c, lists = 0;

	for (i = 0; i < NFORMATS && f == NULL; i++) {
		if (o->format != NULL) {
			if (strcmp(o->format, formats[i].name) == 0)
				f = &formats[i];
			continue;
		}
		for (k = 0; k < 4 && formats[i].sig[k] != NULL; k++)
			if (col_named(im, formats[i].sig[k]) == 0)
				break;
		if (k == 4 || formats[i].sig[k] == NULL)
			f = &formats[i];
	}
	if (f == NULL) {
		nudge_buf_reset(&im->tmp);
		for (i = 0; i < NFORMATS; i++)
			nudge_buf_printf(&im->tmp, "%s%s", i ? ", " : "",
			    formats[i].name);
		return nudge_errf(im->err, EX_USAGE, "--format %s: not a format "
		    "nudge knows (%s)", o->format, nudge_buf_str(&im->tmp));
	}
	im->fmt = f;
	for (i = 0; i < im->ncols; i++)
		lists |= im->cols[i].f == F_LISTS;
	im->list_sep = ';';
	if (f->tags != NULL && !lists && (c = col_named(im, f->tags)) != 0) {
		im->cols[c - 1].f = F_LISTS;
		im->list_sep = f->tag_sep;
		im->list_quoted = f->tag_quoted;
	}
	for (i = 0; i < 2 && f->consent[i].col != NULL; i++) {
		if ((c = col_named(im, f->consent[i].col)) == 0)
			continue;
		im->fcons[i] = c;
		if (f->consent[i].kind != C_FILE)
			im->cols[c - 1].f = F_SKIP;
	}
	for (i = 0; i < 3 && f->when[i] != NULL && im->fwhen == 0; i++)
		im->fwhen = col_named(im, f->when[i]);
	for (i = 0; i < 3 && f->proof[i] != NULL && im->fproof == 0; i++)
		im->fproof = col_named(im, f->proof[i]);
	/* Mailchimp's three files differ by their last columns. */
	if ((c = col_named(im, "unsub_time")) != 0) {
		im->fstatus = "unsubscribed";
		im->fstatus_when = c;
	} else if ((c = col_named(im, "clean_time")) != 0) {
		im->fstatus = "bounced";
		im->fstatus_when = c;
	} else {
		im->fstatus = "subscribed";
		im->fstatus_when = im->fwhen;
	}
	return 0;
}

/* Maps the header's columns to fields, --map first. */
static int
map_header(struct imp *im, const nudge_csv_rec *h)
{
	const nudge_import_opts *o = im->o;
	size_t i, k;

	if (h->bad_utf8)
		return nudge_errf(im->err, EX_DATAERR, "%s:%ld: header: column "
		    "%zu is not valid UTF-8", o->name, h->line, h->bad_utf8);
	if ((im->cols = calloc(h->n, sizeof *im->cols)) == NULL)
		return nudge_errf(im->err, EX_OSERR, "out of memory");
	im->ncols = h->n;
	for (i = 0; i < h->n; i++) {
		struct col *c = &im->cols[i];
		const char *f;

		if ((c->key = trimmed_dup(h->f[i])) == NULL)
			return nudge_errf(im->err, EX_OSERR, "out of memory");
		if (c->key[0] == '\0')
			return nudge_errf(im->err, EX_DATAERR, "%s:%ld: header: "
			    "column %zu has no name", o->name, h->line, i + 1);
		for (k = 0; k < i; k++)
			if (strcmp(im->cols[k].key, c->key) == 0)
				return nudge_errf(im->err, EX_DATAERR,
				    "%s:%ld: header: column \"%s\" appears twice",
				    o->name, h->line, c->key);
		c->f = F_ATTR;
		if ((f = nudge_import_field(c->key)) != NULL)
			field_by_name(f, &c->f);
	}
	if ((k = (size_t)pick_format(im)) != 0)
		return (int)k;
	for (i = 0; i < h->n; i++) {
		char a[256];

		if (nudge_import_attr_key(im->cols[i].key, a, sizeof a) == 0)
			snprintf(a, sizeof a, "column_%zu", i + 1);
		if ((im->cols[i].attr = strdup(a)) == NULL)
			return nudge_errf(im->err, EX_OSERR, "out of memory");
	}
	for (k = 0; k < o->nmaps; k++) {
		const char *eq = strchr(o->maps[k], '=');
		char col[256];
		enum field f;

		if (eq == NULL || eq == o->maps[k] ||
		    (size_t)(eq - o->maps[k]) >= sizeof col)
			return nudge_errf(im->err, EX_USAGE, "--map %s: expected "
			    "COLUMN=FIELD", o->maps[k]);
		memcpy(col, o->maps[k], (size_t)(eq - o->maps[k]));
		col[eq - o->maps[k]] = '\0';
		for (i = 0; i < im->ncols; i++)
			if (strcasecmp(im->cols[i].key, col) == 0)
				break;
		if (i == im->ncols)
			return nudge_errf(im->err, EX_USAGE, "--map %s: no column "
			    "\"%s\" in %s", o->maps[k], col, o->name);
		if (strncmp(eq + 1, "attrs.", 6) == 0 && eq[7] != '\0') {
			char *key = strdup(eq + 7);

			if (key == NULL)
				return nudge_errf(im->err, EX_OSERR,
				    "out of memory");
			free(im->cols[i].attr);
			im->cols[i].attr = key;
			im->cols[i].f = F_ATTR;
		} else if (field_by_name(eq + 1, &f) == 0) {
			im->cols[i].f = f;
		} else {
			return nudge_errf(im->err, EX_USAGE, "--map %s: unknown "
			    "field \"%s\" (email, phone, push_id, first_name, "
			    "last_name, lists, attrs.NAME or -)", o->maps[k],
			    eq + 1);
		}
	}
	for (i = 0; i < im->ncols; i++) {
		enum field f = im->cols[i].f;

		if (f == F_ATTR || f == F_SKIP)
			continue;
		if (im->have[f])
			return nudge_errf(im->err, EX_DATAERR, "%s:%ld: header: "
			    "columns \"%s\" and \"%s\" are both %s (use --map "
			    "COLUMN=- to skip one)", o->name, h->line,
			    im->cols[im->have[f] - 1].key, im->cols[i].key,
			    field_names[f]);
		im->have[f] = (int)i + 1;
	}
	for (i = 0; i < im->ncols; i++)
		for (k = 0; k < i; k++)
			if (im->cols[i].f == F_ATTR && im->cols[k].f == F_ATTR &&
			    strcmp(im->cols[i].attr, im->cols[k].attr) == 0)
				return nudge_errf(im->err, EX_DATAERR,
				    "%s: columns \"%s\" and \"%s\" both map to "
				    "attrs.%s", o->name, im->cols[k].key,
				    im->cols[i].key, im->cols[i].attr);
	if (!im->have[o->key_phone ? F_PHONE : F_EMAIL] &&
	    (o->key_phone || !im->have[F_PHONE])) {
		/* Say what was seen: a wrong separator or encoding shows as
		 * one long column. */
		nudge_buf_reset(&im->tmp);
		for (i = 0; i < im->ncols && i < 12; i++)
			nudge_buf_printf(&im->tmp, "%s\"%s\"", i ? ", " : "",
			    im->cols[i].key);
		if (i < im->ncols)
			nudge_buf_printf(&im->tmp, " and %zu more",
			    im->ncols - i);
		return nudge_errf(im->err, EX_DATAERR, "%s:%ld: header: no %s "
		    "column (name one with --map COLUMN=%s); found %zu "
		    "column%s with %s as the separator (--delimiter sets "
		    "another): %s", o->name, h->line,
		    o->key_phone ? "phone" : "email",
		    o->key_phone ? "phone" : "email", im->ncols,
		    im->ncols == 1 ? "" : "s",
		    im->delim == '\t' ? "tab" : im->delim == ';' ? "semicolon" :
		    "comma", im->tmp.s != NULL ? im->tmp.s : "");
	}
	if (o->replace_lists && !im->have[F_LISTS] && o->nlists == 0)
		return nudge_errf(im->err, EX_USAGE, "--replace-lists needs a "
		    "lists column or --list");
	return 0;
}

static int
prepare(struct imp *im)
{
	static const struct {
		size_t off;
		const char *sql;
	} stmts[] = {
		{ offsetof(struct imp, ins),
		  "INSERT INTO contacts (email, phone, push_id, first_name,"
		  " last_name, attrs, created_at, updated_at, sources)"
		  " VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, '{}'), ?7, ?7, ?9)"
		  " ON CONFLICT DO NOTHING" },
		/* Blank cells keep what the store has; the WHERE makes an
		 * unchanged row no write at all. */
		{ offsetof(struct imp, upd),
		  "UPDATE contacts SET email = coalesce(?1, email),"
		  " phone = coalesce(?2, phone), push_id = coalesce(?3, push_id),"
		  " first_name = coalesce(?4, first_name),"
		  " last_name = coalesce(?5, last_name),"
		  " attrs = CASE WHEN ?6 IS NULL THEN attrs"
		  "   ELSE json_patch(attrs, ?6) END,"
		  " sources = json_patch(coalesce(sources, '{}'), (SELECT"
		  " json_group_object(k, json(?9)) FROM (SELECT 'email' k"
		  " WHERE ?1 IS NOT NULL AND ?1 IS NOT email UNION ALL SELECT"
		  " 'phone' k WHERE ?2 IS NOT NULL AND ?2 IS NOT phone UNION"
		  " ALL SELECT 'push_id' k WHERE ?3 IS NOT NULL AND ?3 IS NOT"
		  " push_id UNION ALL SELECT 'first_name' k WHERE ?4 IS NOT"
		  " NULL AND ?4 IS NOT first_name UNION ALL SELECT"
		  " 'last_name' k WHERE ?5 IS NOT NULL AND ?5 IS NOT"
		  " last_name UNION ALL SELECT 'attrs' WHERE ?6 IS NOT NULL"
		  " AND json_patch(attrs, ?6) IS NOT attrs))),"
		  " updated_at = ?7"
		  " WHERE id = ?8 AND (email IS NOT coalesce(?1, email)"
		  "  OR phone IS NOT coalesce(?2, phone)"
		  "  OR push_id IS NOT coalesce(?3, push_id)"
		  "  OR first_name IS NOT coalesce(?4, first_name)"
		  "  OR last_name IS NOT coalesce(?5, last_name)"
		  "  OR (?6 IS NOT NULL AND json_patch(attrs, ?6) IS NOT attrs))" },
		/* --update blanks: the store's values win; attrs gain only
		 * the keys they lack */
		{ offsetof(struct imp, upd_blanks),
		  "UPDATE contacts SET email = coalesce(email, ?1),"
		  " phone = coalesce(phone, ?2), push_id = coalesce(push_id, ?3),"
		  " first_name = coalesce(first_name, ?4),"
		  " last_name = coalesce(last_name, ?5),"
		  " attrs = CASE WHEN ?6 IS NULL THEN attrs"
		  "   ELSE json_patch(attrs, (SELECT json_group_object(j.key,"
		  "   j.value) FROM json_each(?6) j WHERE NOT EXISTS (SELECT 1"
		  "   FROM json_each(contacts.attrs) a WHERE a.key = j.key))) END,"
		  " sources = json_patch(coalesce(sources, '{}'), (SELECT"
		  " json_group_object(k, json(?9)) FROM (SELECT 'email' k"
		  " WHERE email IS NULL AND ?1 IS NOT NULL UNION ALL SELECT"
		  " 'phone' k WHERE phone IS NULL AND ?2 IS NOT NULL UNION"
		  " ALL SELECT 'push_id' k WHERE push_id IS NULL AND ?3 IS"
		  " NOT NULL UNION ALL SELECT 'first_name' k WHERE first_name"
		  " IS NULL AND ?4 IS NOT NULL UNION ALL SELECT 'last_name' k"
		  " WHERE last_name IS NULL AND ?5 IS NOT NULL UNION ALL"
		  " SELECT 'attrs' WHERE ?6 IS NOT NULL AND EXISTS (SELECT 1"
		  " FROM json_each(?6) j WHERE NOT EXISTS (SELECT 1 FROM"
		  " json_each(contacts.attrs) a WHERE a.key = j.key))))),"
		  " updated_at = ?7"
		  " WHERE id = ?8 AND (email IS NOT coalesce(email, ?1)"
		  "  OR phone IS NOT coalesce(phone, ?2)"
		  "  OR push_id IS NOT coalesce(push_id, ?3)"
		  "  OR first_name IS NOT coalesce(first_name, ?4)"
		  "  OR last_name IS NOT coalesce(last_name, ?5)"
		  "  OR (?6 IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(?6) j"
		  "   WHERE NOT EXISTS (SELECT 1 FROM json_each(contacts.attrs) a"
		  "   WHERE a.key = j.key))))" },
		{ offsetof(struct imp, find_email),
		  "SELECT id FROM contacts WHERE email = ?" },
		{ offsetof(struct imp, cons_last),
		  "SELECT status, at, source FROM consent WHERE contact_id = ?"
		  " AND channel = ? ORDER BY at DESC, id DESC LIMIT 1" },
		{ offsetof(struct imp, cons_ins),
		  "INSERT INTO consent (contact_id, channel, status, at, source,"
		  " proof) VALUES (?, ?, ?, ?, ?, ?)" },
		{ offsetof(struct imp, find_phone),
		  "SELECT id FROM contacts WHERE phone = ?" },
		{ offsetof(struct imp, member),
		  "INSERT OR IGNORE INTO list_members (list_id, contact_id,"
		  " added_at) VALUES (?, ?, ?)" },
		/* list_id IN (...) lets the (list_id, contact_id) key serve a
		 * lookup by contact: a few seeks instead of a scan. */
		{ offsetof(struct imp, unlist),
		  "DELETE FROM list_members WHERE list_id IN (SELECT id FROM lists)"
		  " AND contact_id = ?1"
		  " AND list_id NOT IN (SELECT value FROM json_each(?2))" },
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
		sqlite3_stmt **s = (sqlite3_stmt **)(void *)((char *)im +
		    stmts[i].off);

		if ((rc = nudge_store_prepare(im->st, s, stmts[i].sql,
		    im->err)) != 0)
			return rc;
	}
	return 0;
}

static int
step_done(struct imp *im, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return nudge_store_error(im->st, im->err, what);
	return 0;
}

/* The id of a list, created on first sight; cached for the import. */
static int
list_id(struct imp *im, const char *name, size_t n, int64_t *id)
{
	size_t i;
	char *dup;
	int rc;

	for (i = 0; i < im->nlists; i++) {
		if (strncmp(im->lists[i].name, name, n) == 0 &&
		    im->lists[i].name[n] == '\0') {
			*id = im->lists[i].id;
			return 0;
		}
	}
	if ((dup = strndup(name, n)) == NULL)
		return nudge_errf(im->err, EX_OSERR, "out of memory");
	if ((rc = nudge_store_list_id(im->st, dup, 1, im->o->now, id,
	    im->err)) != 0) {
		free(dup);
		return rc;
	}
	if (im->nlists == im->caplists) {
		size_t cap = im->caplists ? im->caplists * 2 : 16;
		struct list_id *l = realloc(im->lists, cap * sizeof *l);

		if (l == NULL) {
			free(dup);
			return nudge_errf(im->err, EX_OSERR, "out of memory");
		}
		im->lists = l;
		im->caplists = cap;
	}
	im->lists[im->nlists].name = dup;
	im->lists[im->nlists++].id = *id;
	return 0;
}

static int
row_list_add(struct imp *im, const char *name, size_t n)
{
	int64_t id;
	size_t i;
	int rc;

	while (n > 0 && (*name == ' ' || *name == '\t')) {
		name++;
		n--;
	}
	while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		n--;
	if (im->list_quoted && n >= 2 && name[0] == '"' && name[n - 1] == '"') {
		name++;
		n -= 2;
	}
	if (n == 0)
		return 0;
	if ((rc = list_id(im, name, n, &id)) != 0)
		return rc;
	for (i = 0; i < im->nrow; i++)
		if (im->row_lists[i] == id)
			return 0;
	if (im->nrow == im->caprow) {
		size_t cap = im->caprow ? im->caprow * 2 : 16;
		int64_t *l = realloc(im->row_lists, cap * sizeof *l);

		if (l == NULL)
			return nudge_errf(im->err, EX_OSERR, "out of memory");
		im->row_lists = l;
		im->caprow = cap;
	}
	im->row_lists[im->nrow++] = id;
	return 0;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A membership the bulk path keeps: list << MCID_BITS | contact, so that
 * sorting them sorts by (list, contact). */
static uint64_t
m_pack(int64_t list, int64_t cid)
{
	return (uint64_t)list << MCID_BITS | (uint64_t)cid;
}

static int64_t
m_list(uint64_t v)
{
	return (int64_t)(v >> MCID_BITS);
}

static int64_t
m_cid(uint64_t v)
{
	return (int64_t)(v & (((uint64_t)1 << MCID_BITS) - 1));
}

/* Writes one membership, in order, MROWS to an INSERT (members_flush). */
static int
members_put(struct imp *im, uint64_t v, nudge_import_stats *stats)
{
	size_t j;
	int rc;

	im->mpend[im->npend++] = v;
	if (im->npend < MROWS)
		return 0;
	for (j = 0; j < MROWS; j++) {
		sqlite3_bind_int64(im->mflush, (int)j * 2 + 2,
		    m_list(im->mpend[j]));
		sqlite3_bind_int64(im->mflush, (int)j * 2 + 3,
		    m_cid(im->mpend[j]));
	}
	im->npend = 0;
	sqlite3_bind_int64(im->mflush, 1, im->o->now);
	if ((rc = step_done(im, im->mflush, "add to list")) != 0)
		return rc;
	stats->memberships += sqlite3_changes(im->st->db);
	return 0;
}

/* Adds one membership now, one statement for it. */
static int
member_add(struct imp *im, int64_t list, int64_t cid,
    nudge_import_stats *stats)
{
	int rc;

	sqlite3_bind_int64(im->member, 1, list);
	sqlite3_bind_int64(im->member, 2, cid);
	sqlite3_bind_int64(im->member, 3, im->o->now);
	if ((rc = step_done(im, im->member, "add to list")) != 0)
		return rc;
	stats->memberships += sqlite3_changes(im->st->db);
	return 0;
}

/* The last few, one by one. */
static int
members_put_end(struct imp *im, nudge_import_stats *stats)
{
	size_t j;
	int rc;

	for (j = 0; j < im->npend; j++)
		if ((rc = member_add(im, m_list(im->mpend[j]),
		    m_cid(im->mpend[j]), stats)) != 0)
			return rc;
	im->npend = 0;
	return 0;
}

/* mbuf is full: sorted, it goes to the temporary file as one more run. */
static int
members_spill(struct imp *im)
{
	int rc;

	qsort(im->mbuf, im->nmbuf, sizeof *im->mbuf, u64_cmp);
	if (im->mruns == NULL &&
	    (rc = nudge_tmpfile("import", &im->mruns, im->err)) != 0)
		return rc;
	if (fwrite(im->mbuf, sizeof *im->mbuf, im->nmbuf, im->mruns) !=
	    im->nmbuf)
		return nudge_errf(im->err, EX_IOERR, "write a temporary file "
		    "for the import: %s", strerror(errno));
	im->nruns++;
	im->nmbuf = 0;
	return 0;
}

/* A run being merged: its next entries v[at..n), and where the rest of it
 * is in the file (from next to end). */
struct mrun {
	uint64_t v[512];
	size_t at, n;
	off_t next, end;
};

static int
mrun_fill(struct imp *im, struct mrun *r)
{
	size_t want = sizeof r->v;
	ssize_t got;

	if ((off_t)want > r->end - r->next)
		want = (size_t)(r->end - r->next);
	r->at = r->n = 0;
	if (want == 0)
		return 0;
	if ((got = pread(fileno(im->mruns), r->v, want, r->next)) <= 0 ||
	    (size_t)got % sizeof r->v[0] != 0)
		return nudge_errf(im->err, EX_IOERR, "read a temporary file "
		    "for the import: %s", got < 0 ? strerror(errno) :
		    "cut short");
	r->next += got;
	r->n = (size_t)got / sizeof r->v[0];
	return 0;
}

/* Moves heap entry i down to its place: h holds runs by their next
 * entry, smallest first. */
static void
mheap_down(struct mrun **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct mrun *t;

		if (l < n && h[l]->v[h[l]->at] < h[m]->v[h[m]->at])
			m = l;
		if (l + 1 < n && h[l + 1]->v[h[l + 1]->at] <
		    h[m]->v[h[m]->at])
			m = l + 1;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* The runs in the file and mbuf, merged into one ascending stream. */
static int
members_merge(struct imp *im, nudge_import_stats *stats)
{
	struct mrun *runs, **h;
	size_t i, n = 0;
	int rc = 0;

	if (fflush(im->mruns) != 0)
		return nudge_errf(im->err, EX_IOERR, "write a temporary file "
		    "for the import: %s", strerror(errno));
	if ((runs = calloc(im->nruns, sizeof *runs)) == NULL ||
	    (h = calloc(im->nruns + 1, sizeof *h)) == NULL) {
		free(runs);
		return nudge_errf(im->err, EX_OSERR, "out of memory");
	}
	for (i = 0; i < im->nruns && rc == 0; i++) {
		runs[i].next = (off_t)(i * im->mbuf_max * sizeof *im->mbuf);
		runs[i].end = runs[i].next + (off_t)(im->mbuf_max *
		    sizeof *im->mbuf);
		if ((rc = mrun_fill(im, &runs[i])) == 0 && runs[i].n > 0)
			h[n++] = &runs[i];
	}
	for (i = n; rc == 0 && i-- > 0;)
		mheap_down(h, n, i);
	/* mbuf's entries (sorted) are merged in as they come */
	i = 0;
	while (rc == 0 && (n > 0 || i < im->nmbuf)) {
		uint64_t v;

		if (n == 0 || (i < im->nmbuf && im->mbuf[i] <
		    h[0]->v[h[0]->at])) {
			v = im->mbuf[i++];
		} else {
			v = h[0]->v[h[0]->at++];
			if (h[0]->at == h[0]->n &&
			    (rc = mrun_fill(im, h[0])) == 0 && h[0]->n == 0)
				h[0] = h[--n];
			if (n > 0)
				mheap_down(h, n, 0);
		}
		if (rc == 0)
			rc = members_put(im, v, stats);
	}
	free(h);
	free(runs);
	return rc;
}

/*
 * Writes the memberships the bulk path kept, sorted by (list, contact),
 * MROWS rows an INSERT ... VALUES (the last few one by one), all at the
 * end: list_members was empty (the store was), so each one lands on the
 * table's last page, where SQLite looks first.  Runs written as they came
 * (one per MBUF, to the list's range in the middle of the table) cost 0.4
 * s more at 1M contacts.  Past MBUF they wait, sorted, in a temporary
 * file (members_spill) and are merged here.  The same rows as one by one:
 * every added_at is the import's time, and without --replace-lists
 * nothing the import does reads the table before the end.
 */
static int
members_flush(struct imp *im, nudge_import_stats *stats)
{
	size_t i;
	int rc = 0;

	if (im->nmbuf > 0) /* mbuf is NULL when none are kept */
		qsort(im->mbuf, im->nmbuf, sizeof *im->mbuf, u64_cmp);
	if (im->nruns > 0)
		rc = members_merge(im, stats);
	else
		for (i = 0; i < im->nmbuf && rc == 0; i++)
			rc = members_put(im, im->mbuf[i], stats);
	if (rc == 0)
		rc = members_put_end(im, stats);
	im->nmbuf = 0;
	if (im->mruns != NULL)
		fclose(im->mruns);
	im->mruns = NULL;
	im->nruns = 0;
	return rc;
}

/* Sets the row's memberships: adds each list, and with --replace-lists
 * removes the others.  The bulk path keeps them for members_flush. */
static int
memberships(struct imp *im, int64_t cid, nudge_import_stats *stats)
{
	size_t i;
	int rc;

	if (im->mbuf != NULL && cid < ((int64_t)1 << MCID_BITS)) {
		for (i = 0; i < im->nrow; i++)
			if (im->row_lists[i] >= ((int64_t)1 << (63 - MCID_BITS)))
				break;
		if (i == im->nrow) {
			for (i = 0; i < im->nrow; i++) {
				if (im->nmbuf == im->mbuf_max &&
				    (rc = members_spill(im)) != 0)
					return rc;
				im->mbuf[im->nmbuf++] =
				    m_pack(im->row_lists[i], cid);
			}
			return 0;
		}
	}
	if (im->o->replace_lists) {
		nudge_buf_reset(&im->tmp);
		nudge_buf_putc(&im->tmp, '[');
		for (i = 0; i < im->nrow; i++)
			nudge_buf_printf(&im->tmp, "%s%lld", i ? "," : "",
			    (long long)im->row_lists[i]);
		if (nudge_buf_putc(&im->tmp, ']') == -1)
			return nudge_errf(im->err, EX_OSERR, "out of memory");
		sqlite3_bind_int64(im->unlist, 1, cid);
		sqlite3_bind_text(im->unlist, 2, im->tmp.s, (int)im->tmp.len,
		    SQLITE_STATIC);
		if ((rc = step_done(im, im->unlist, "replace lists")) != 0)
			return rc;
	}
	for (i = 0; i < im->nrow; i++)
		if ((rc = member_add(im, im->row_lists[i], cid, stats)) != 0)
			return rc;
	return 0;
}

static int
find(struct imp *im, sqlite3_stmt *s, const char *key, int64_t *id)
{
	int rc;

	*id = 0;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nudge_store_error(im->st, im->err, "find contact");
	return 0;
}

static void
bind_opt(sqlite3_stmt *s, int i, const char *p, size_t n)
{
	if (p != NULL && n > 0)
		sqlite3_bind_text(s, i, p, (int)n, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* A cell with its surrounding blanks dropped. */
static const char *
cell(const nudge_csv_rec *r, int have, size_t *n)
{
	const char *p;
	size_t len;

	*n = 0;
	if (have == 0)
		return NULL;
	p = r->f[have - 1];
	len = r->len[have - 1];
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	*n = len;
	return p;
}

/* 64-bit FNV-1a with a final avalanche (splitmix64's), so both the low bits
 * (the slot) and the high bits (the tag) are well mixed. */
static uint64_t
hash64(const char *s, size_t n)
{
	uint64_t h = nudge_fnv64(NUDGE_FNV64_INIT, s, n);

	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
	return h ^ (h >> 31);
}

/* The first slot of hash h in a bulk path's table. */
static size_t
bulk_slot(uint64_t h)
{
	return (size_t)h & (BULK_SLOTS - 1);
}

/* The contact whose email (col 0) or phone (col 1) is key, in the bulk
 * path's table: each candidate whose tag matches is checked against the
 * store, so a stale entry (a contact whose phone changed since) or a hash
 * collision never gives a wrong answer.  *id = 0 when there is none. */
static int
bulk_find(struct imp *im, const uint64_t *t, int col, const char *key,
    uint64_t h, int64_t *id)
{
	uint64_t tag = h >> 32;
	size_t i = bulk_slot(h);
	int rc;

	*id = 0;
	for (; t[i] != 0; i = (i + 1) & (BULK_SLOTS - 1)) {
		const unsigned char *v;

		if (t[i] >> 32 != tag)
			continue;
		sqlite3_bind_int64(im->byid, 1, (int64_t)(t[i] & 0xffffffffu));
		rc = sqlite3_step(im->byid);
		if (rc == SQLITE_ROW && (v = sqlite3_column_text(im->byid,
		    col)) != NULL && strcmp((const char *)v, key) == 0)
			*id = (int64_t)(t[i] & 0xffffffffu);
		sqlite3_reset(im->byid);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return nudge_store_error(im->st, im->err, "find contact");
		if (*id != 0)
			return 0;
	}
	return 0;
}

static void
bulk_add(uint64_t *t, uint64_t h, int64_t id)
{
	size_t i = bulk_slot(h);

	while (t[i] != 0)
		i = (i + 1) & (BULK_SLOTS - 1);
	t[i] = (h >> 32) << 32 | (uint64_t)id;
}

/*
 * The filter (a blocked Bloom filter) says whether a key may have been seen
 * before: each key sets one bit in each of the eight words of one 512-bit
 * block (one cache line), so a test costs one cache miss.  It never says
 * no for a key it was given; it may say yes for one it was not (about 1 in
 * 400 when it holds 20M keys), which only costs that row a later turn.
 * Returns whether every bit was set already, and sets them.
 */
static uint64_t *
filter_block(const struct imp *im, uint64_t h)
{
	return im->filter + (size_t)(h & (im->filter_blocks - 1)) * 8;
}

static int
filter_add(struct imp *im, uint64_t h)
{
	uint64_t g, *b = filter_block(im, h);
	int i, all = 1;

	g = (h ^ (h >> 33) ^ 0x5bd1e9955bd1e995u) * 0xff51afd7ed558ccdu;
	g ^= g >> 29;
	for (i = 0; i < 8; i++) {
		uint64_t m = (uint64_t)1 << ((g >> (6 * i)) & 63);

		all &= (b[i] & m) != 0;
		b[i] |= m;
	}
	return all;
}

/* Whether the store has no contact yet: the bulk path's and the journal's
 * condition (bulk_start, hold_store). */
#define EMPTY_SQL "SELECT NOT EXISTS (SELECT 1 FROM contacts)"

/*
 * Keeping the email and phone indexes up to date costs about 3 us a row
 * (a random B-tree insert each), most of an import's time.  Into an empty
 * store, the bulk path drops them, finds duplicates within the file with
 * bounded hash tables instead, and builds the indexes once at the end by
 * sorting, which is several times cheaper.  All inside the import's
 * transaction: a rollback brings the indexes back.
 */
static int
bulk_start(struct imp *im)
{
	const char *e;
	int64_t empty;
	int rc;

	if ((rc = nudge_store_run(im->st, "count contacts", im->err, &empty,
	    EMPTY_SQL, "")) != 0)
		return rc;
	/* Test knobs: the bulk path off, ending after fewer rows, the hash
	 * tables handing over to the filter sooner, a smaller filter (one
	 * that is wrong more often), fewer memberships kept in memory. */
	if (!empty || getenv("NUDGE_IMPORT_NO_BULK") != NULL)
		return 0;
	im->bulk_max = LONG_MAX;
	if ((e = getenv("NUDGE_IMPORT_BULK_MAX")) != NULL && atol(e) > 0)
		im->bulk_max = atol(e);
	im->bulk_window = BULK_WINDOW;
	if ((e = getenv("NUDGE_IMPORT_BULK_WINDOW")) != NULL && atol(e) > 0 &&
	    atol(e) < BULK_WINDOW)
		im->bulk_window = atol(e);
	im->mbuf_max = MBUF;
	if ((e = getenv("NUDGE_IMPORT_MBUF")) != NULL && atol(e) > 0 &&
	    atol(e) < MBUF)
		im->mbuf_max = (size_t)atol(e);
	im->filter_blocks = FILTER_BLOCKS;
	if ((e = getenv("NUDGE_IMPORT_FILTER_BLOCKS")) != NULL && atol(e) > 0)
		while (im->filter_blocks > 1 &&
		    im->filter_blocks > (size_t)atol(e))
			im->filter_blocks /= 2;
	if ((im->hemail = calloc(BULK_SLOTS, sizeof *im->hemail)) == NULL ||
	    (im->hphone = calloc(BULK_SLOTS, sizeof *im->hphone)) == NULL) {
		free(im->hemail);
		im->hemail = NULL;
		return 0; /* no memory for it: the row-by-row path works */
	}
	/* Appends need few pages in cache: give its memory to the tables. */
	if ((rc = nudge_store_exec(im->st, "PRAGMA cache_size = -8192;"
	    "DROP INDEX contacts_email; DROP INDEX contacts_phone", im->err)) != 0)
		return rc;
	if ((rc = nudge_store_prepare(im->st, &im->byid, "SELECT email, phone"
	    " FROM contacts WHERE id = ?", im->err)) != 0)
		return rc;
	/* memberships kept for members_flush (none: one by one) */
	if (!im->o->replace_lists &&
	    getenv("NUDGE_IMPORT_MEMBERS_NOW") == NULL &&
	    (im->mbuf = malloc(MBUF * sizeof *im->mbuf)) != NULL) {
		size_t i;
		int bad;

		nudge_buf_reset(&im->tmp);
		bad = nudge_buf_puts(&im->tmp, "INSERT OR IGNORE INTO"
		    " list_members (list_id, contact_id, added_at) VALUES ");
		for (i = 0; i < MROWS; i++)
			bad |= nudge_buf_printf(&im->tmp, "%s(?%zu,?%zu,?1)",
			    i ? "," : "", 2 * i + 2, 2 * i + 3);
		if (bad != 0)
			return nudge_errf(im->err, EX_OSERR, "out of memory");
		if ((rc = nudge_store_prepare(im->st, &im->mflush, im->tmp.s,
		    im->err)) != 0)
			return rc;
	}
	im->bulk = 1;
	return 0;
}

/*
 * The hash tables are full (bulk_window rows): the filter takes over.  It
 * starts with every email and phone the store now holds.  A row after this
 * whose email and phone the filter has not seen shares neither with any
 * contact or with any earlier row: it is a new contact, inserted at once.
 * Any other row (a duplicate, or the filter's mistake) is put off, in file
 * order, until the indexes are back (later_put, bulk_end).  Each row's keys
 * go into the filter, those of the rows put off too, so a row that shares
 * a key with one put off is put off as well and the two keep their order:
 * every row meets the store as it would have row by row.
 */
static int bulk_end(struct imp *im, nudge_import_stats *stats);

static int
bulk_filter_start(struct imp *im, nudge_import_stats *stats)
{
	sqlite3_stmt *s;
	const unsigned char *v;
	int rc, k;

	free(im->hemail);
	free(im->hphone);
	im->hemail = im->hphone = NULL;
	if ((im->filter = calloc(im->filter_blocks, 64)) == NULL)
		return bulk_end(im, stats); /* row by row, then */
	if ((rc = nudge_store_prepare(im->st, &s, "SELECT email, phone FROM"
	    " contacts", im->err)) != 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		for (k = 0; k < 2; k++)
			if ((v = sqlite3_column_text(s, k)) != NULL)
				filter_add(im, hash64((const char *)v,
				    (size_t)sqlite3_column_bytes(s, k)));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return nudge_store_error(im->st, im->err, "read contacts");
	im->bulk = 2;
	return 0;
}

/* Keeps a row for after the indexes are back, in a temporary file: the
 * row as it is in memory, its fields' offsets and lengths, its bytes. */
static int
later_put(struct imp *im, const struct row *w)
{
	size_t n = w->rec.n;
	int rc;

	/* gone when the import ends, however it ends */
	if (im->later == NULL &&
	    (rc = nudge_tmpfile("import", &im->later, im->err)) != 0)
		return rc;
	if (fwrite(w, sizeof *w, 1, im->later) != 1 ||
	    fwrite(w->off, sizeof *w->off, n, im->later) != n ||
	    fwrite(w->len, sizeof *w->len, n, im->later) != n ||
	    (w->b.len > 0 && fwrite(w->b.s, 1, w->b.len, im->later) !=
	    w->b.len))
		return nudge_errf(im->err, EX_IOERR, "write a temporary file "
		    "for the import: %s", strerror(errno));
	im->nlater++;
	return 0;
}

static int upsert_row(struct imp *im, const struct row *w,
    nudge_import_stats *stats);
static void row_seal(struct row *w);

/* Applies the rows later_put kept, in their order, row by row. */
static int
later_replay(struct imp *im, nudge_import_stats *stats)
{
	struct row h, w;
	char *bytes = NULL;
	size_t cap = 0;
	int rc = 0;

	if (im->later == NULL)
		return 0;
	memset(&w, 0, sizeof w);
	if (fflush(im->later) != 0 || fseek(im->later, 0, SEEK_SET) != 0)
		rc = nudge_errf(im->err, EX_IOERR, "read a temporary file for "
		    "the import: %s", strerror(errno));
	for (; rc == 0 && im->nlater > 0; im->nlater--) {
		nudge_buf b;
		size_t n, *off, *len, capf;
		char **ptr;

		if (fread(&h, sizeof h, 1, im->later) != 1)
			goto short_read;
		n = h.rec.n;
		if (n > w.capf) {
			if ((off = realloc(w.off, n * sizeof *off)) != NULL)
				w.off = off;
			if ((len = realloc(w.len, n * sizeof *len)) != NULL)
				w.len = len;
			if ((ptr = realloc(w.ptr, n * sizeof *ptr)) != NULL)
				w.ptr = ptr;
			if (off == NULL || len == NULL || ptr == NULL) {
				rc = nudge_errf(im->err, EX_OSERR,
				    "out of memory");
				break;
			}
			w.capf = n;
		}
		if (h.b.len > cap) {
			char *nb = realloc(bytes, h.b.len);

			if (nb == NULL) {
				rc = nudge_errf(im->err, EX_OSERR,
				    "out of memory");
				break;
			}
			bytes = nb;
			cap = h.b.len;
		}
		if (fread(w.off, sizeof *w.off, n, im->later) != n ||
		    fread(w.len, sizeof *w.len, n, im->later) != n ||
		    (h.b.len > 0 && fread(bytes, 1, h.b.len, im->later) !=
		    h.b.len))
			goto short_read;
		nudge_buf_reset(&w.b);
		if (h.b.len > 0 && nudge_buf_add(&w.b, bytes, h.b.len) == -1) {
			rc = nudge_errf(im->err, EX_OSERR, "out of memory");
			break;
		}
		/* the row as it was, over this process's buffers */
		b = w.b;
		off = w.off;
		len = w.len;
		ptr = w.ptr;
		capf = w.capf;
		w = h;
		w.b = b;
		w.off = off;
		w.len = len;
		w.ptr = ptr;
		w.capf = capf;
		row_seal(&w);
		rc = upsert_row(im, &w, stats);
		continue;
short_read:
		rc = nudge_errf(im->err, EX_IOERR, "read a temporary file for "
		    "the import: %s", ferror(im->later) ? strerror(errno) :
		    "cut short");
	}
	free(bytes);
	nudge_buf_free(&w.b);
	free(w.off);
	free(w.len);
	free(w.ptr);
	fclose(im->later);
	im->later = NULL;
	return rc;
}

/*
 * Asks the kernel to start writing the store's dirty pages to disk now, in
 * the background, instead of all at the commit's fsync: the pages the
 * load wrote go out while the indexes are built.  Only a hint: what makes
 * the import durable is still the commit.
 */
static void
write_behind(const struct imp *im)
{
#ifdef SYNC_FILE_RANGE_WRITE
	int fd = open(im->st->path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return;
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	close(fd);
#else
	(void)im;
#endif
}

/* Builds the indexes the bulk path dropped, applies the rows it put off,
 * and returns to row by row. */
static int
bulk_end(struct imp *im, nudge_import_stats *stats)
{
	int rc;

	if (!im->bulk)
		return 0;
	if ((rc = members_flush(im, stats)) != 0)
		return rc;
	free(im->mbuf);
	im->mbuf = NULL;
	im->bulk = 0;
	free(im->hemail);
	free(im->hphone);
	free(im->filter);
	im->hemail = im->hphone = im->filter = NULL;
	write_behind(im);
	/* The sort spills to temporary files, not memory (the store keeps
	 * temp_store in memory for queries' small ephemeral tables), so the
	 * import's RSS stays bounded; threads lets the sorter use the second
	 * core.  The sorter's runs are the page cache's size: 2 MiB ones
	 * (that stay in the CPU's cache) made the two builds 1.24 s -> 1.09
	 * s at 1M contacts (medians of four), against 8 MiB. */
	if ((rc = nudge_store_exec(im->st, "PRAGMA temp_store = FILE;"
	    "PRAGMA threads = 2; PRAGMA cache_size = -2048;"
	    NUDGE_CONTACTS_KEYS
	    "PRAGMA threads = 0; PRAGMA temp_store = MEMORY;"
	    "PRAGMA cache_size = -32768", im->err)) != 0)
		return rc;
	return later_replay(im, stats);
}

/* The bulk path's half of import_row: which contact the row is (*cid, 0
 * for a new one), or a rejection (*why set). */
static int
bulk_match(struct imp *im, const struct row *w, int kp, const char *ep,
    const char *pp, int64_t *cid, int *conflict)
{
	int64_t eid = 0, pid = 0;
	int rc;

	*conflict = 0;
	if (ep != NULL && (rc = bulk_find(im, im->hemail, 0, ep, w->hemail,
	    &eid)) != 0)
		return rc;
	if (pp != NULL && (rc = bulk_find(im, im->hphone, 1, pp, w->hphone,
	    &pid)) != 0)
		return rc;
	*cid = kp ? pid : eid;
	/* the other identifier belongs to somebody else */
	if (kp ? (eid != 0 && eid != pid) :
	    (pid != 0 && pid != eid))
		*conflict = 1;
	return 0;
}

/* Binds a row's fields to the insert or the update (whose ?8 is the
 * contact) and runs it; returns SQLite's result code. */
static const char *row_str(const struct row *w, long at);

static int
write_contact(struct imp *im, const struct row *w, sqlite3_stmt *s,
    const char *ep, const char *pp, int64_t cid)
{
	const char *v;
	size_t n;
	int rc;

	sqlite3_bind_text(s, 1, ep, (int)w->lemail, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, pp, (int)w->lphone, SQLITE_STATIC);
	v = cell(&w->rec, im->have[F_PUSH], &n);
	bind_opt(s, 3, v, n);
	sqlite3_bind_text(s, 4, row_str(w, w->first), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, row_str(w, w->last), -1, SQLITE_STATIC);
	bind_opt(s, 6, row_str(w, w->attrs), w->lattrs);
	sqlite3_bind_int64(s, 7, im->o->now);
	if (cid != 0) {
		sqlite3_bind_int64(s, 8, cid);
		sqlite3_bind_text(s, 9, im->src.s, (int)im->src.len,
		    SQLITE_STATIC);
	} else {
		/* a new contact: every field it has comes from here, said
		 * once as "*" (a key per field cost a fifth more CPU and
		 * 150 MB more writing on the 1M-contact bench) */
		sqlite3_bind_text(s, 9, im->src_all.s, (int)im->src_all.len,
		    SQLITE_STATIC);
	}
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc;
}

/* Records why the row is rejected; returns 0 (the row is done). */
static int
row_reject(struct row *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
row_reject(struct row *w, const char *fmt, ...)
{
	char reason[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	w->reason = (long)w->b.len;
	if (nudge_buf_add(&w->b, reason, strlen(reason) + 1) == -1)
		return EX_OSERR;
	return 0;
}

static long
row_put(struct row *w, const char *s, size_t n)
{
	long at = (long)w->b.len;

	if (nudge_buf_add(&w->b, s, n) == -1 || nudge_buf_putc(&w->b, '\0') ==
	    -1)
		return -2;
	return at;
}

/* Digits with the signs and separators of numbers, phones and dates. */
static int
numeric(const char *s, size_t n)
{
	size_t i, d = 0;

	for (i = 0; i < n; i++) {
		if (isdigit((unsigned char)s[i]))
			d++;
		else if (strchr("+-.,()/: ", s[i]) == NULL || s[i] == '\0')
			return 0;
	}
	return d > 0;
}

/* The phone cell without the marks exports put before a number: Excel's
 * leading apostrophe, Facebook lead ads' "p:". */
static const char *
phone_cell(const nudge_csv_rec *r, int have, size_t *n)
{
	const char *v = cell(r, have, n);

	if (*n > 0 && v[0] == '\'') {
		v++;
		(*n)--;
	}
	if (*n > 2 && (v[0] == 'p' || v[0] == 'P') && v[1] == ':') {
		v += 2;
		*n -= 2;
	}
	while (*n > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		(*n)--;
	}
	return v;
}

/* What a phone without a country code looks like: 2 an Israeli mobile
 * (05 and 10 digits), 3 a North American number (10 digits, the first
 * 2-9), else 1: the summary's hint for default_country. */
static int
looks_local(const char *v, size_t n)
{
	char d[16];
	size_t i, k = 0;

	for (i = 0; i < n && k < sizeof d; i++)
		if (isdigit((unsigned char)v[i]))
			d[k++] = v[i];
	if (k == 10 && d[0] == '0' && d[1] == '5')
		return 2;
	if (k == 10 && d[0] >= '2' && d[0] <= '9')
		return 3;
	return 1;
}

/* The row's first and last names: from their columns, else split from a
 * full name (the first word, then the rest). */
static int
names(const struct imp *im, const nudge_csv_rec *r, struct row *w)
{
	const char *v, *sp;
	size_t n, k;

	v = cell(r, im->have[F_FIRST], &n);
	if (n > 0 && (w->first = row_put(w, v, n)) < 0)
		return -1;
	v = cell(r, im->have[F_LAST], &n);
	if (n > 0 && (w->last = row_put(w, v, n)) < 0)
		return -1;
	if (im->have[F_FIRST] || im->have[F_LAST])
		return 0;
	v = cell(r, im->have[F_FULL], &n);
	if (n == 0)
		return 0;
	sp = memchr(v, ' ', n);
	k = sp != NULL ? (size_t)(sp - v) : n;
	if ((w->first = row_put(w, v, k)) < 0)
		return -1;
	while (k < n && v[k] == ' ')
		k++;
	if (k < n && (w->last = row_put(w, v + k, n - k)) < 0)
		return -1;
	return 0;
}

static int
is_word(const char *v, size_t n, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strlen(*words) == n && strncasecmp(v, *words, n) == 0)
			return 1;
	return 0;
}

/* The consent the format's columns give the row (w->cstatus, w->cat,
 * w->cproof): only from a column that says it, for an address the row
 * has.  Returns 0, or -1 out of memory. */
static int
row_consent(const struct imp *im, const nudge_csv_rec *r, struct row *w)
{
	static const char *const yes[] = { "yes", "y", "true", "1",
	    "subscribed", NULL };
	static const char *const no[] = { "no", "n", "false", "0",
	    "unsubscribed", NULL };
	const char *v, *st;
	char t[64];
	size_t i, n;
	int when;

	w->cproof = -1;
	for (i = 0; i < 2; i++) {
		const struct ccol *cc = &im->fmt->consent[i];

		w->cstatus[i] = NULL;
		if (im->fcons[i] == 0 ||
		    (strcmp(cc->channel, "email") == 0 ? w->email : w->phone) < 0)
			continue;
		v = cell(r, im->fcons[i], &n);
		st = NULL;
		when = im->fwhen;
		if (cc->kind == C_FILE && n > 0) {
			st = im->fstatus;
			when = im->fstatus_when;
		} else if (cc->kind == C_YESNO && is_word(v, n, yes)) {
			st = "subscribed";
		} else if (cc->kind == C_YESNO && is_word(v, n, no)) {
			st = "unsubscribed";
		} else if (cc->kind == C_TRUE_OUT && is_word(v, n, yes)) {
			st = "unsubscribed";
		}
		if (st == NULL)
			continue;
		w->cstatus[i] = st;
		w->cat[i] = im->o->now;
		w->cdated[i] = 0;
		v = cell(r, when, &n);
		if (n > 0 && n < sizeof t) {
			memcpy(t, v, n);
			t[n] = '\0';
			w->cdated[i] = nudge_time_parse(t, &w->cat[i]) == 0;
			if (!w->cdated[i])
				w->cat[i] = im->o->now;
		}
	}
	/* the proof is a subscribe's: the IP it was confirmed from */
	v = cell(r, im->fproof, &n);
	if (n > 0 && ((w->cstatus[0] != NULL &&
	    strcmp(w->cstatus[0], "subscribed") == 0) ||
	    (w->cstatus[1] != NULL && strcmp(w->cstatus[1], "subscribed") ==
	    0))) {
		char p[160];

		norm_header(im->cols[im->fproof - 1].key, t, sizeof t);
		snprintf(p, sizeof p, "%s %.*s", t, (int)(n < 100 ? n : 100), v);
		if ((w->cproof = row_put(w, p, strlen(p))) < 0)
			return -1;
	}
	return 0;
}

/* The reader's half: copies the record into w and checks it, filling the
 * normalised email and phone and the attrs JSON, or the reason it is
 * rejected.  Touches no store.  Returns 0 or EX_OSERR. */
static int
validate_row(const struct imp *im, const nudge_csv_rec *r, struct row *w)
{
	const nudge_import_opts *o = im->o;
	char email[NUDGE_EMAIL_MAX + 1], phone[NUDGE_PHONE_MAX], q[128];
	char bad[300] = "", badp[300] = "";
	const char *v, *why;
	size_t n, i;
	long at;

	nudge_buf_reset(&w->b);
	w->reason = w->email = w->phone = w->attrs = -1;
	w->first = w->last = w->note = -1;
	w->by_phone = w->no_cc = 0;
	if (r->n > w->capf) {
		size_t *off = realloc(w->off, r->n * sizeof *off);
		size_t *len;
		char **ptr;

		if (off == NULL)
			return EX_OSERR;
		w->off = off;
		if ((len = realloc(w->len, r->n * sizeof *len)) == NULL)
			return EX_OSERR;
		w->len = len;
		if ((ptr = realloc(w->ptr, r->n * sizeof *ptr)) == NULL)
			return EX_OSERR;
		w->ptr = ptr;
		w->capf = r->n;
	}
	for (i = 0; i < r->n; i++) {
		if ((at = row_put(w, r->f[i], r->len[i])) < 0)
			return EX_OSERR;
		w->off[i] = (size_t)at;
		w->len[i] = r->len[i];
	}
	w->rec = *r;
	if (r->n != im->ncols)
		return row_reject(w, "wrong number of fields: %zu, the header "
		    "has %zu", r->n, im->ncols);
	if (r->bad_utf8)
		return row_reject(w, "%s: not valid UTF-8",
		    im->cols[r->bad_utf8 - 1].key);
	v = cell(r, im->have[F_EMAIL], &n);
	if (n > 0 && nudge_email_norm(v, n, email, &why) == 0) {
		w->lemail = strlen(email);
		w->hemail = hash64(email, w->lemail);
		if ((w->email = row_put(w, email, w->lemail)) < 0)
			return EX_OSERR;
	} else if (n > 0) {
		snprintf(bad, sizeof bad, "email: not an address (%s): \"%s\"",
		    why, nudge_quote(q, sizeof q, v, n));
	}
	v = phone_cell(r, im->have[F_PHONE], &n);
	if (n > 0 && nudge_phone_norm(v, n, o->country, phone, &why) == 0) {
		w->lphone = strlen(phone);
		w->hphone = hash64(phone, w->lphone);
		if ((w->phone = row_put(w, phone, w->lphone)) < 0)
			return EX_OSERR;
	} else if (n > 0) {
		snprintf(badp, sizeof badp, "phone: %s: \"%s\"", why,
		    nudge_quote(q, sizeof q, v, n));
		if (strncmp(why, "no country code", 15) == 0)
			w->no_cc = looks_local(v, n);
	}
	/* A field that cannot be read costs only that field; a row is
	 * rejected only when it has no usable address, or not the key
	 * --key asks for. */
	if (o->key_phone && w->phone < 0)
		return row_reject(w, "%s", badp[0] ? badp : "phone: missing");
	if (w->email < 0 && w->phone < 0) {
		if (bad[0] && badp[0])
			return row_reject(w, "%s; %s", bad, badp);
		return row_reject(w, "%s", bad[0] ? bad : badp[0] ? badp :
		    im->have[F_PHONE] && im->have[F_EMAIL] ?
		    "no address: email and phone missing" : "email: missing");
	}
	w->by_phone = o->key_phone || w->email < 0;
	if (bad[0] || badp[0]) {
		char note[600];

		snprintf(note, sizeof note, "%s%s%s", bad, bad[0] && badp[0] ?
		    "; " : "", badp);
		if ((w->note = row_put(w, note, strlen(note))) < 0)
			return EX_OSERR;
	}
	if (names(im, r, w) != 0 || row_consent(im, r, w) != 0)
		return EX_OSERR;
	/* attrs: every other non-blank column, as a JSON object of strings */
	at = (long)w->b.len;
	for (i = 0; i < im->ncols; i++) {
		if (im->cols[i].f != F_ATTR)
			continue;
		v = cell(r, (int)i + 1, &n);
		if (n == 0)
			continue;
		if (n > 1 && v[0] == '\'' && numeric(v + 1, n - 1)) {
			v++; /* Excel's "keep this as text" mark */
			n--;
		}
		nudge_buf_putc(&w->b, (long)w->b.len > at ? ',' : '{');
		nudge_buf_json_str(&w->b, im->cols[i].attr,
		    strlen(im->cols[i].attr));
		nudge_buf_putc(&w->b, ':');
		if (nudge_buf_json_str(&w->b, v, n) == -1)
			return EX_OSERR;
	}
	if ((long)w->b.len > at) {
		if (nudge_buf_add(&w->b, "}", 2) == -1)
			return EX_OSERR;
		w->attrs = at;
		w->lattrs = w->b.len - 1 - (size_t)at;
	}
	return 0;
}

/* Points the row's record at its bytes, once b no longer moves. */
static void
row_seal(struct row *w)
{
	size_t i;

	for (i = 0; i < w->rec.n; i++)
		w->ptr[i] = w->b.s + w->off[i];
	w->rec.f = w->ptr;
	w->rec.len = w->len;
}

static const char *
row_str(const struct row *w, long at)
{
	return at >= 0 ? w->b.s + at : NULL;
}

static int
reject(struct imp *im, const struct row *w, nudge_import_stats *stats,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
reject(struct imp *im, const struct row *w, nudge_import_stats *stats,
    const char *fmt, ...)
{
	char reason[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	stats->rejected++;
	if (im->o->on_reject != NULL)
		return im->o->on_reject(im->o->ctx, &w->rec, reason, im->err);
	return 0;
}

/*
 * Records the consent the row's export gives, as the law means it: a
 * subscribe older than the contact's latest unsubscribe (or bounce or
 * complaint) on the channel is not applied, only counted.  A subscribe
 * the file gives no time for (Shopify's "Accepts Email Marketing") cannot
 * be shown to be newer, so it never overrides an unsubscribe either; it
 * is recorded at the import's time.  A status the contact already has is
 * not written again, so a re-import adds nothing.
 */
static int
apply_consent(struct imp *im, const struct row *w, int64_t cid,
    nudge_import_stats *stats)
{
	size_t i;
	int rc;

	for (i = 0; i < 2; i++) {
		const char *st = w->cstatus[i], *ch, *last = NULL;
		int64_t at = 0;

		if (st == NULL)
			continue;
		ch = im->fmt->consent[i].channel;
		sqlite3_bind_int64(im->cons_last, 1, cid);
		sqlite3_bind_text(im->cons_last, 2, ch, -1, SQLITE_STATIC);
		rc = sqlite3_step(im->cons_last);
		if (rc == SQLITE_ROW) {
			last = (const char *)sqlite3_column_text(im->cons_last, 0);
			at = sqlite3_column_int64(im->cons_last, 1);
		}
		if (rc == SQLITE_ROW && strcmp(st, "subscribed") == 0 &&
		    strcmp(last, "subscribed") != 0 && (at > w->cat[i] ||
		    !w->cdated[i])) {
			stats->stale++;
			if (at >= stats->stale_at) {
				stats->stale_at = at;
				nudge_strcpy(stats->stale_source,
				    sizeof stats->stale_source, (const char *)
				    sqlite3_column_text(im->cons_last, 2));
			}
			sqlite3_reset(im->cons_last);
			continue;
		}
		if (rc == SQLITE_ROW && strcmp(last, st) == 0) {
			sqlite3_reset(im->cons_last);
			continue;
		}
		sqlite3_reset(im->cons_last);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return nudge_store_error(im->st, im->err, "read consent");
		sqlite3_bind_int64(im->cons_ins, 1, cid);
		sqlite3_bind_text(im->cons_ins, 2, ch, -1, SQLITE_STATIC);
		sqlite3_bind_text(im->cons_ins, 3, st, -1, SQLITE_STATIC);
		sqlite3_bind_int64(im->cons_ins, 4, w->cat[i]);
		sqlite3_bind_text(im->cons_ins, 5, im->fmt->source, -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(im->cons_ins, 6, row_str(w, w->cproof), -1,
		    SQLITE_STATIC);
		if ((rc = step_done(im, im->cons_ins, "record consent")) != 0)
			return rc;
		stats->consents++;
	}
	return 0;
}

/* The writer's half: upserts the checked row and its memberships (or puts
 * it off, see bulk_filter_start), or reports it rejected. */
static int
apply_row(struct imp *im, const struct row *w, nudge_import_stats *stats)
{
	const nudge_import_opts *o = im->o;
	const nudge_csv_rec *r = &w->rec;
	const char *ep = row_str(w, w->email), *pp = row_str(w, w->phone);
	int rc;

	stats->read++;
	if (w->reason >= 0)
		return reject(im, w, stats, "%s", row_str(w, w->reason));
	if (w->note >= 0) {
		/* counted before the row is written: a row rejected below
		 * for a taken phone is not kept, but its lost field was
		 * still unreadable */
		if (w->phone < 0 && w->no_cc) {
			stats->no_cc++;
			if (w->no_cc == 2)
				stats->no_cc_il++;
			else if (w->no_cc == 3)
				stats->no_cc_us++;
		}
		stats->dropped++;
		if (o->on_drop != NULL && (rc = o->on_drop(o->ctx, r,
		    row_str(w, w->note), im->err)) != 0)
			return rc;
	}
	if (im->bulk == 2) {
		/* past the hash tables: a row the filter may have seen a
		 * key of waits for the indexes (bulk_filter_start) */
		int seen = 0;

		if (ep != NULL)
			seen |= filter_add(im, w->hemail);
		if (pp != NULL)
			seen |= filter_add(im, w->hphone);
		if (seen)
			return later_put(im, w);
	}
	return upsert_row(im, w, stats);
}

/* The row's contact: found (by the bulk path's tables, or by its key) and
 * updated, or inserted; then its lists and consent. */
static int
upsert_row(struct imp *im, const struct row *w, nudge_import_stats *stats)
{
	const nudge_import_opts *o = im->o;
	const nudge_csv_rec *r = &w->rec;
	const char *v, *ep = row_str(w, w->email), *pp = row_str(w, w->phone);
	size_t n, i;
	int64_t cid = 0, other;
	int rc, kp = w->by_phone;

	if (im->bulk == 2) {
		/* a new contact: the filter has seen neither key */
	} else if (im->bulk) {
		int conflict;

		if ((rc = bulk_match(im, w, kp, ep, pp, &cid, &conflict)) !=
		    0)
			return rc;
		if (conflict && kp)
			return reject(im, w, stats, "email: %s belongs to another "
			    "contact", ep);
		if (conflict)
			return reject(im, w, stats, "phone: %s belongs to another "
			    "contact", pp);
	} else {
		/* By key first: a re-import, mostly of known contacts, then
		 * costs one index lookup a row and no failed insert. */
		if ((rc = find(im, kp ? im->find_phone :
		    im->find_email, kp ? pp : ep, &cid)) != 0)
			return rc;
	}
	if (cid == 0) {
		if ((rc = write_contact(im, w, im->ins, ep, pp, 0)) != SQLITE_DONE)
			return nudge_store_error(im->st, im->err,
			    "insert contact");
		/* The key is new, so a conflict is on the other unique
		 * column: somebody else's. */
		if (sqlite3_changes(im->st->db) == 0 && kp)
			return reject(im, w, stats, "email: %s belongs to "
			    "another contact", ep);
		if (sqlite3_changes(im->st->db) == 0)
			return reject(im, w, stats, "phone: %s belongs to another "
			    "contact", pp);
		cid = sqlite3_last_insert_rowid(im->st->db);
		stats->inserted++;
	} else if (o->update == NUDGE_UPDATE_NONE) {
		stats->unchanged++;
	} else {
		rc = write_contact(im, w, o->update == NUDGE_UPDATE_BLANKS ?
		    im->upd_blanks : im->upd, ep, pp, cid);
		if ((rc & 0xff) == SQLITE_CONSTRAINT) {
			const char *col = kp ? "email" : "phone";
			const char *val = kp ? ep : pp;

			if (find(im, kp ? im->find_email :
			    im->find_phone, val, &other) == 0 && other != 0)
				return reject(im, w, stats, "%s: %s belongs to "
				    "contact %lld", col, val, (long long)other);
			return reject(im, w, stats, "%s: %s belongs to another "
			    "contact", col, val);
		}
		if (rc != SQLITE_DONE)
			return nudge_store_error(im->st, im->err,
			    "update contact");
		if (sqlite3_changes(im->st->db) == 1)
			stats->updated++;
		else
			stats->unchanged++;
	}
	if (im->bulk == 1) {
		/* Entries for what the row may have set; stale ones for what
		 * it replaced are weeded out by bulk_find. */
		if (ep != NULL)
			bulk_add(im->hemail, w->hemail, cid);
		if (pp != NULL)
			bulk_add(im->hphone, w->hphone, cid);
	}
	im->nrow = 0;
	for (i = 0; i < o->nlists; i++)
		if ((rc = row_list_add(im, o->lists[i], strlen(o->lists[i]))) != 0)
			return rc;
	v = cell(r, im->have[F_LISTS], &n);
	while (n > 0) {
		const char *semi = memchr(v, im->list_sep, n);
		size_t len = semi != NULL ? (size_t)(semi - v) : n;

		if ((rc = row_list_add(im, v, len)) != 0)
			return rc;
		if (semi == NULL)
			break;
		n -= len + 1;
		v = semi + 1;
	}
	if ((rc = memberships(im, cid, stats)) != 0)
		return rc;
	return apply_consent(im, w, cid, stats);
}

static void
imp_free(struct imp *im)
{
	size_t i;

	sqlite3_finalize(im->ins);
	sqlite3_finalize(im->upd);
	sqlite3_finalize(im->upd_blanks);
	sqlite3_finalize(im->find_email);
	sqlite3_finalize(im->find_phone);
	sqlite3_finalize(im->member);
	sqlite3_finalize(im->unlist);
	sqlite3_finalize(im->cons_last);
	sqlite3_finalize(im->cons_ins);
	sqlite3_finalize(im->byid);
	sqlite3_finalize(im->mflush);
	free(im->mbuf);
	free(im->hemail);
	free(im->hphone);
	free(im->filter);
	if (im->later != NULL)
		fclose(im->later);
	if (im->mruns != NULL)
		fclose(im->mruns);
	for (i = 0; i < im->ncols; i++) {
		free(im->cols[i].key);
		free(im->cols[i].attr);
	}
	free(im->cols);
	for (i = 0; i < im->nlists; i++)
		free(im->lists[i].name);
	free(im->lists);
	free(im->row_lists);
	nudge_buf_free(&im->src);
	nudge_buf_free(&im->src_all);
	nudge_buf_free(&im->tmp);
}

/* Reads and checks up to BATCH records into bt; bt->n < BATCH at the end
 * of the input.  Returns 0, or a code with err set. */
static int
fill_batch(const struct imp *im, nudge_csv *csv, struct batch *bt,
    nudge_err *err)
{
	const nudge_csv_rec *r;
	int rc;

	for (bt->n = 0; bt->n < BATCH; bt->n++) {
		if ((rc = nudge_csv_next(csv, &r, err)) != 1)
			return rc;
		if (validate_row(im, r, &bt->rows[bt->n]) != 0)
			return nudge_errf(err, EX_OSERR, "out of memory");
		row_seal(&bt->rows[bt->n]);
	}
	return 0;
}

static void *
reader(void *arg)
{
	struct pipeline *pl = arg;
	struct batch *bt;
	int rc, end = 0;

	while (!end) {
		pthread_mutex_lock(&pl->mu);
		while (pl->filled == NBATCH && !pl->stop)
			pthread_cond_wait(&pl->cv, &pl->mu);
		if (pl->stop) {
			pthread_mutex_unlock(&pl->mu);
			break;
		}
		/* the first slot the writer is not holding or waiting on */
		bt = pl->slot[(pl->head + pl->filled) % NBATCH];
		pthread_mutex_unlock(&pl->mu);
		rc = fill_batch(pl->im, pl->csv, bt, &pl->err);
		end = rc != 0 || bt->n < BATCH;
		pthread_mutex_lock(&pl->mu);
		pl->filled++;
		if (end) {
			pl->done = 1;
			pl->rc = rc;
		}
		pthread_cond_broadcast(&pl->cv);
		pthread_mutex_unlock(&pl->mu);
	}
	return NULL;
}

/* The bulk path's probes miss the cache (its tables are 32 MiB): the
 * writer asks for the slots (or filter blocks) of the row PREFETCH ahead
 * while it works on this one, so they are in cache by then; the reader
 * made the hashes.  A macro: GCC drops a prefetch made in a function of
 * its own, which it finds has no effect. */
#define PREFETCH 8

static size_t
bulk_probes(const struct imp *im, const struct row *w, const void **at)
{
	size_t n = 0;

	if (w->reason >= 0)
		return 0;
	if (im->bulk == 1) {
		if (w->email >= 0)
			at[n++] = &im->hemail[bulk_slot(w->hemail)];
		if (w->phone >= 0)
			at[n++] = &im->hphone[bulk_slot(w->hphone)];
	} else if (im->bulk == 2) {
		if (w->email >= 0)
			at[n++] = filter_block(im, w->hemail);
		if (w->phone >= 0)
			at[n++] = filter_block(im, w->hphone);
	}
	return n;
}

#ifdef __GNUC__
#define BULK_PREFETCH(im, w) do {					\
	const void *at_[2];						\
	size_t k_, n_ = bulk_probes((im), (w), at_);			\
									\
	for (k_ = 0; k_ < n_; k_++)					\
		__builtin_prefetch(at_[k_]);				\
	for (k_ = 0; k_ < (w)->b.len && k_ < 256; k_ += 64)		\
		__builtin_prefetch((w)->b.s + k_);			\
} while (0)
#else
#define BULK_PREFETCH(im, w) ((void)0)
#endif

/* Writes every row the reader hands over, in order.  Without a thread
 * (threaded == 0) it reads each batch itself. */
static int
write_rows(struct pipeline *pl, int threaded, nudge_import_stats *stats,
    nudge_err *err)
{
	struct imp *im = pl->im;
	struct batch *bt;
	size_t i;
	int rc = 0, end;

	for (;;) {
		if (threaded) {
			pthread_mutex_lock(&pl->mu);
			while (pl->filled == 0 && !pl->done)
				pthread_cond_wait(&pl->cv, &pl->mu);
			if (pl->filled == 0) {
				rc = pl->rc;
				pthread_mutex_unlock(&pl->mu);
				break;
			}
			bt = pl->slot[pl->head];
			end = 0;
			pthread_mutex_unlock(&pl->mu);
		} else {
			bt = pl->slot[0];
			pl->rc = fill_batch(im, pl->csv, bt, &pl->err);
			end = pl->rc != 0 || bt->n < BATCH;
		}
		for (i = 0; im->bulk && i < PREFETCH && i < bt->n; i++)
			BULK_PREFETCH(im, &bt->rows[i]);
		for (i = 0; i < bt->n && rc == 0; i++) {
			if (im->bulk && i + PREFETCH < bt->n)
				BULK_PREFETCH(im, &bt->rows[i + PREFETCH]);
			rc = apply_row(im, &bt->rows[i], stats);
			if (rc != 0 || !im->bulk)
				continue;
			if (++im->bulk_rows >= im->bulk_max)
				rc = bulk_end(im, stats);
			else if (im->bulk == 1 &&
			    im->bulk_rows >= im->bulk_window)
				rc = bulk_filter_start(im, stats);
		}
		if (threaded) {
			pthread_mutex_lock(&pl->mu);
			pl->head = (pl->head + 1) % NBATCH;
			pl->filled--;
			if (rc != 0)
				pl->stop = 1;
			pthread_cond_broadcast(&pl->cv);
			pthread_mutex_unlock(&pl->mu);
		}
		if (rc != 0)
			return rc;
		if (end) {
			rc = pl->rc;
			break;
		}
	}
	if (rc != 0)
		*err = pl->err;
	return rc;
}

static void
batches_free(struct pipeline *pl)
{
	size_t i, k;

	for (i = 0; i < NBATCH; i++) {
		if (pl->slot[i] == NULL)
			continue;
		for (k = 0; k < BATCH; k++) {
			struct row *w = &pl->slot[i]->rows[k];

			nudge_buf_free(&w->b);
			free(w->off);
			free(w->len);
			free(w->ptr);
		}
		free(pl->slot[i]);
	}
}

/* Runs the reader thread beside the writer; one thread when it cannot
 * start one (or NUDGE_IMPORT_NO_THREAD is set, for tests). */
static int
run_pipeline(struct imp *im, nudge_csv *csv, nudge_import_stats *stats,
    nudge_err *err)
{
	struct pipeline pl = { .csv = csv, .im = im };
	pthread_t tid;
	int threaded, rc;
	size_t i;

	for (i = 0; i < NBATCH; i++)
		if ((pl.slot[i] = calloc(1, sizeof *pl.slot[i])) == NULL) {
			batches_free(&pl);
			return nudge_errf(err, EX_OSERR, "out of memory");
		}
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.cv, NULL);
	threaded = getenv("NUDGE_IMPORT_NO_THREAD") == NULL &&
	    pthread_create(&tid, NULL, reader, &pl) == 0;
	rc = write_rows(&pl, threaded, stats, err);
	if (threaded)
		pthread_join(tid, NULL);
	pthread_cond_destroy(&pl.cv);
	pthread_mutex_destroy(&pl.mu);
	batches_free(&pl);
	return rc;
}

/* The attrs keys of the columns, into the store's attr_keys, with the
 * column names they were made from (contact.h). */
static int
note_keys(struct imp *im)
{
	const char **keys;
	size_t i, n = 0;
	int rc;

	if ((keys = calloc(2 * im->ncols + 1, sizeof *keys)) == NULL)
		return nudge_errf(im->err, EX_OSERR, "out of memory");
	for (i = 0; i < im->ncols; i++)
		if (im->cols[i].f == F_ATTR) {
			keys[n] = im->cols[i].attr;
			keys[im->ncols + n++] = im->cols[i].key;
		}
	rc = nudge_contact_attr_keys_note(im->st, keys, keys + im->ncols, n,
	    im->err);
	free(keys);
	return rc;
}

/*
 * The first import into an empty store writes every page of it.  In WAL
 * mode each page is written twice, to the WAL and again by the checkpoint
 * into the store, and the index builds look their pages up in a WAL that
 * grows with the file (sqlite3WalFindFrame).  With a rollback journal
 * the new pages go to the store once and the journal holds only the few
 * pages the empty store had.  The price is the lock: until the import
 * ends, other commands wait (busy_timeout) or find the store busy, as
 * nudge-import-list(1) says.  Only when no other connection has the store
 * open (leaving WAL needs it alone; otherwise the import goes on in WAL,
 * saying nothing).  Returns whether the journal mode was changed: WAL
 * comes back at the end, and a store left in this mode by a kill comes
 * back to WAL (its journal rolled back first) at its next open
 * (nudge_store_open).
 */
static int
hold_store(nudge_store *st, const nudge_import_opts *o)
{
	sqlite3_stmt *s;
	nudge_err e;
	int64_t empty = 0;
	int held = 0;

	if (o->dry_run || getenv("NUDGE_IMPORT_NO_BULK") != NULL ||
	    getenv("NUDGE_IMPORT_WAL") != NULL)
		return 0;
	if (nudge_store_run(st, "count contacts", &e, &empty, EMPTY_SQL,
	    "") != 0 || !empty)
		return 0;
	sqlite3_busy_timeout(st->db, 0);
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = DELETE", -1, &s,
	    NULL) == SQLITE_OK) {
		held = sqlite3_step(s) == SQLITE_ROW &&
		    strcmp((const char *)sqlite3_column_text(s, 0), "delete") ==
		    0;
		sqlite3_finalize(s);
	}
	sqlite3_busy_timeout(st->db, st->busy_ms > 0 ? st->busy_ms : 5000);
	return held;
}

/* Puts the store back in WAL mode after hold_store. */
static void
release_store(nudge_store *st)
{
	sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
}

int
nudge_import_contacts(nudge_store *st, FILE *fp, const nudge_import_opts *o,
    nudge_import_stats *stats, nudge_err *err)
{
	struct imp im = { .st = st, .o = o, .err = err };
	const nudge_csv_rec *r;
	nudge_csv *csv = NULL;
	int rc, held = 0;

	memset(stats, 0, sizeof *stats);
	if ((rc = nudge_csv_open(&csv, fp, o->name, err)) != 0)
		return rc;
	if (o->delimiter != 0)
		nudge_csv_set_delimiter(csv, o->delimiter);
	/* A page cache of 32 MiB keeps the indexes' hot pages in memory and
	 * the whole import under 64 MB of RSS.  Foreign keys are not checked
	 * during the import (two lookups per membership, 10% of the time):
	 * every id it writes was just found or inserted in this transaction. */
	if ((rc = nudge_store_exec(st, "PRAGMA cache_size = -32768;"
	    "PRAGMA foreign_keys = OFF", err)) != 0)
		goto out;
	if ((rc = nudge_csv_next(csv, &r, err)) != 1) {
		if (rc == 0)
			rc = nudge_errf(err, EX_DATAERR, "%s: empty: no header "
			    "row", o->name);
		goto out;
	}
	im.delim = nudge_csv_delimiter(csv);
	stats->delimiter = im.delim;
	stats->encoding = nudge_csv_encoding(csv);
	stats->format = "csv";
	if ((rc = map_header(&im, r)) != 0)
		goto out;
	stats->format = im.fmt->name;
	{
		const char *base = strrchr(o->name, '/');
		char name[300];

		snprintf(name, sizeof name, strcmp(im.fmt->name, "csv") == 0 ?
		    "import:%s" : "%s", strcmp(im.fmt->name, "csv") == 0 ?
		    (base != NULL ? base + 1 : o->name) : im.fmt->source);
		if (nudge_buf_putc(&im.src, '[') == -1 ||
		    nudge_buf_json_str(&im.src, name, strlen(name)) == -1 ||
		    nudge_buf_printf(&im.src, ",%lld]", (long long)o->now) ==
		    -1 || nudge_buf_printf(&im.src_all, "{\"*\":%s}", im.src.s) ==
		    -1) {
			rc = nudge_errf(err, EX_OSERR, "out of memory");
			goto out;
		}
	}
	if (o->on_header != NULL && (rc = o->on_header(o->ctx, r, err)) != 0)
		goto out;
	held = hold_store(st, o);
	if ((rc = nudge_store_begin(st, err)) != 0)
		goto out;
	if ((rc = bulk_start(&im)) != 0 || (rc = prepare(&im)) != 0) {
		nudge_store_rollback(st);
		goto out;
	}
	rc = run_pipeline(&im, csv, stats, err);
	if (rc == 0)
		rc = bulk_end(&im, stats);
	if (rc == 0 && !o->dry_run)
		rc = note_keys(&im);
	if (rc != 0 || o->dry_run)
		nudge_store_rollback(st);
	else
		rc = nudge_store_commit(st, err);
out:
	imp_free(&im);
	if (held)
		release_store(st);
	nudge_csv_close(csv);
	sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return rc;
}
