/* config: finding and reading nudge's configuration (nudge-config(5)),
 * resolving which store to open, and fetching secrets it points at. */
#ifndef NUDGE_CONFIG_H
#define NUDGE_CONFIG_H

#include <stdint.h>

#include "store.h"
#include "util.h"

/* channels: email: */
typedef struct nudge_email_cfg {
	char *url;              /* smtp://host[:port], smtps://..., or
				   file:///dir; NULL if not set */
	char *from;             /* "Name <addr>" or addr; NULL if not set */
	char *reply_to;         /* NULL if not set */
	char *username;         /* NULL if not set */
	char *password_env;     /* the variable's name, or NULL */
	char *password_file;    /* resolved path, or NULL */
	char *password;         /* inline (only in a 0600 file), or NULL */
	int parallel;           /* connections; 0 when not set */
	double rate;            /* messages per second; 0 when not set */
	int allow_plaintext;    /* SMTP without STARTTLS to a non-loopback
				   host */
	int max_retries;        /* retries after a 4xx; -1 when not set */
	int backoff_ms;         /* the first retry's wait; 0: not set */
	int require_tls;        /* STARTTLS even to a loopback host */
	char *tls_ca_file;      /* resolved path of the CA certificates to
				   trust instead of the system's, or NULL */
	int timeout_ms;         /* per message; 0: not set */
} nudge_email_cfg;

/* channels: sms: and channels: push: -- an HTTP provider profile
 * (nudge-provider(5)) or an exec: or file:// transport. */
typedef struct nudge_http_cfg {
	char *provider;         /* a profile: a path (resolved against the
				   file's directory) or a name; or NULL */
	char *url;              /* replaces the profile URL's scheme, host
				   and port; or exec:..., file:///dir */
	char *user;             /* account, API key or app id; or NULL */
	char *secret_env;       /* the variable's name, or NULL */
	char *secret_file;      /* resolved path, or NULL */
	char *secret;           /* inline (only in a 0600 file), or NULL */
	int parallel;           /* connections; 0 when not set */
	double rate;            /* requests per second; 0 when not set */
	int burst;              /* requests above rate at once; 0: not set */
	int max_retries;        /* -1 when not set */
	int breaker;            /* failures in a row that stop a run; 0:
				   not set */
	int backoff_ms;         /* the first retry's wait; 0: not set */
	int retry_budget;       /* retries in a run; 0: not set */
	int timeout_ms;         /* per request; 0: not set */
	int allow_plaintext;    /* http:// to a non-loopback host */
	char *stop_text;        /* sms: appended to marketing messages */
	size_t nsenders;        /* sms: sender ids by country */
	char (*sender_cc)[8];   /* "IL", ..., or "default" */
	char **sender_id;
} nudge_http_cfg;

/* tracking: (read by the tracking issue) */
typedef struct nudge_tracking_cfg {
	char *base_url;         /* http(s)://...; NULL if not set */
	char *secret_env;
	char *secret_file;
	char *secret;           /* inline (only in a 0600 file), or NULL */
	int sms_untracked;      /* sms_links: no -- SMS texts keep their
				   links as written (a tracked link is
				   longer: it may cost a segment) */
} nudge_tracking_cfg;

/* What consent stops a message of (send --transactional, a campaign's
 * transactional:): marketing needs consent; a transactional message (a
 * receipt) is not capped or excluded but still stopped by any consent
 * row other than subscribed; a requested one (the confirmation of a
 * sign-up, asked for a moment ago) is stopped only by a bounce or a
 * complaint, not by an unsubscribe or a pending sign-up. */
enum nudge_msg_kind {
	NUDGE_MSG_MARKETING,
	NUDGE_MSG_TRANSACTIONAL,
	NUDGE_MSG_REQUESTED
};

/* policy: the global send policy; a campaign may override it. */
typedef struct nudge_policy_cfg {
	int64_t cap_max;        /* frequency_cap: max; 0 means no cap */
	int64_t cap_per;        /* frequency_cap: per, in seconds */
	int quiet_from;         /* quiet_hours: minutes after midnight, */
	int quiet_to;           /* -1 when quiet hours are not set */
	char *quiet_tz;         /* an Olson name; NULL means UTC */
	char *exclude;          /* a segment expression, or NULL */
	long exclude_line, exclude_col; /* where it starts in its file */
	int64_t sunset;         /* seconds; 0 when not set */
} nudge_policy_cfg;

/* bounces: what bounces do to an address (bounce.h's classes). */
typedef struct nudge_bounce_cfg {
	int64_t soft_limit;     /* soft bounces that suppress; default 5 */
	int64_t soft_within;    /* ... within this many seconds, with no
				   open, click or delivery between them;
				   default 30 days */
	double max_sender;      /* share (0..1) of a run's messages refused
				   for a sender-side reason that stops the
				   channel; default 0.02 */
} nudge_bounce_cfg;

/* report: what nudge report counts as money and in which day. */
typedef struct nudge_report_cfg {
	char *timezone;         /* an Olson name for --by day; NULL: the
				   policy's quiet hours zone, else UTC */
	char *conversion;       /* the conversion event type; NULL: purchase */
	char *value;            /* the prop holding a conversion's value;
				   NULL: total */
	char *currency;         /* ISO 4217 code, upper case, or NULL: a
				   conversion whose `currency` prop names
				   another is left out of revenue */
	size_t nprices;         /* price: per channel, of one message (one
				   segment for sms) */
	char **price_channel;
	double *price;
} nudge_report_cfg;

/* forms: NAME: -- a sign-up form served by nudge-track(1) at /s/NAME
 * (signup.h). */
typedef struct nudge_form_cfg {
	char *name;             /* [a-z][a-z0-9_-]* */
	char **lists;           /* lists a sign-up may join; nlists */
	size_t nlists;
	int ask_phone;          /* fields: also phone, first_name */
	int ask_name;
	char *agree_text;       /* the text the person agrees to (proof) */
	char *title;            /* the business's name on pages, or NULL */
	char *color;            /* #rgb or #rrggbb for pages, or NULL */
	char *lang;             /* "en", "he": pages' language; NULL: the
				   browser's Accept-Language */
	char *pages;            /* a directory of page templates (NAME.LANG
				   .html) replacing the built-in ones, or
				   NULL */
	int64_t rate_ip;        /* sign-ups per address (IP) per hour; 5 */
	int64_t rate_email;     /* requests per email per day; 3 */
	int64_t max_pending;    /* unconfirmed requests at once; 1000 */
	int64_t expire;         /* unconfirmed requests expire; 2 days */
	int confirm_sms;        /* confirm: sms -- a code by SMS to the
				   phone, entered at /s/confirm (signup.c);
				   else a link by email */
} nudge_form_cfg;

typedef struct nudge_config {
	char *path;               /* the file read, or NULL if none was */
	char *db;                 /* `db:`, resolved against the file's
				     directory; NULL if not set */
	char currency[4];         /* `currency:` (ISO 4217, upper case):
				     the templates' :money, or "" */
	char default_country[3];  /* `default_country:` (ISO 3166 alpha-2,
				     upper case), or "" */
	nudge_email_cfg email;
	nudge_http_cfg sms, push;
	nudge_tracking_cfg tracking;
	nudge_policy_cfg policy;
	nudge_bounce_cfg bounces;
	nudge_report_cfg report;
	char **event_types;       /* `event_types:`, the business's own
				     types, known before their first event
				     (names.h); nevent_types of them */
	size_t nevent_types;
	char **event_channels;    /* `event_channels:`, channels of imported
				     events beyond email, sms and push */
	size_t nevent_channels;
	char **computed_names;    /* `computed:` NAME: AGGREGATE, the
				     per-contact fields computed from
				     events (nudge-segment(7)); ncomputed */
	char **computed_defs;
	size_t ncomputed;
	int consent_optin[3];     /* `consent:` per channel (email, sms,
				     push): 1 opt-in, a contact with no
				     consent record may not be sent
				     marketing; 0 opt-out (the default) */
	double holdout;           /* `holdout: N%`: the share of all
				     contacts kept from every campaign
				     (abtest.h), as a fraction; 0: none */
	nudge_form_cfg *forms;    /* `forms:`, nforms of them */
	size_t nforms;
	char **topics;            /* `topics:`, lists a contact may leave on
				     the preference page (signup.h);
				     ntopics of them */
	size_t ntopics;
} nudge_config;

/* The form called name, or NULL. */
const nudge_form_cfg *nudge_config_form(const nudge_config *cfg,
    const char *name);

/* Reads path, else $NUDGE_CONFIG, else $XDG_CONFIG_HOME/nudge/config.yaml
 * (~/.config/...), and hands its consent modes to the segment compiler
 * (nudge_seg_set_consent) and so to the send policy.  A missing default file is no error (all defaults);
 * a named file that is missing is.  Unknown keys are errors naming
 * file:line:col; so is a secret written in a file that is readable by
 * group or others or not owned by the user.  No message ever holds a
 * secret's value.  Errors: EX_NOINPUT, EX_DATAERR, EX_IOERR. */
int nudge_config_load(nudge_config *cfg, const char *path, nudge_err *err);
/* Frees everything, wiping inline secrets first. */
void nudge_config_free(nudge_config *cfg);

/* Opens the store: db_opt (--db), else $NUDGE_DB, else the config's db,
 * else $XDG_DATA_HOME/nudge/nudge.db (~/.local/share/...), whose
 * directory is created when flags has NUDGE_STORE_CREATE.  Errors as
 * nudge_store_open. */
int nudge_config_open_store(const nudge_config *cfg, const char *db_opt,
    int flags, nudge_store **st, nudge_err *err);

enum nudge_secret {
	NUDGE_SECRET_EMAIL_PASSWORD,  /* channels: email: password_* */
	NUDGE_SECRET_TRACKING,        /* tracking: secret_* */
	NUDGE_SECRET_SMS,             /* channels: sms: secret_* */
	NUDGE_SECRET_PUSH,            /* channels: push: secret_* */
};

/* Resolves a secret into *out (malloc'd; wipe and free it with
 * nudge_config_secret_free), or NULL when the config names none.  From
 * the environment variable, else from the file, which must be a regular
 * file owned by the user and not readable or writable by group or others
 * (one trailing newline is dropped), else the inline value.
 * Errors: EX_DATAERR (variable unset or empty, file of
 * wrong mode or owner, empty), EX_NOINPUT (file missing), EX_IOERR,
 * EX_OSERR.  Messages name the variable or file, never the value. */
int nudge_config_secret(const nudge_config *cfg, enum nudge_secret which,
    char **out, nudge_err *err);
void nudge_config_secret_free(char *secret);

/* The sender id of channels: sms: for a phone number in E.164: the one
 * given for its country, else "default", else NULL. */
const char *nudge_config_sms_sender(const nudge_config *cfg,
    const char *phone);

struct nudge_ynode;
/* Reads a `policy:` map m of the YAML file path into p (initialised by
 * the caller, quiet_from = quiet_to = -1; what m sets is replaced): the
 * per-campaign overrides of a campaign file.  Errors: EX_DATAERR naming
 * path:line:col, EX_OSERR. */
int nudge_config_read_policy(const char *path, const struct nudge_ynode *m,
    nudge_policy_cfg *p, nudge_err *err);

#endif
