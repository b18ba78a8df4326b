/* campaign: campaign files (nudge-campaign(5)) — YAML read with libyaml
 * into structs, every error naming file:line:col and what was expected. */
#ifndef NUDGE_CAMPAIGN_H
#define NUDGE_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"

/* One variant of an A/B step: its own template, or the step's with
 * another subject. */
typedef struct nudge_variant {
	char *id;          /* `id:`, else "a", "b", ... in file order */
	char *tpl;         /* resolved path, or NULL: the step's */
	char *subject;     /* replaces the rendered subject, or NULL */
	double weight;     /* > 0; shares are weight / sum of weights */
} nudge_variant;

enum nudge_ab_metric {
	NUDGE_AB_CLICKED,
	NUDGE_AB_OPENED,
	NUDGE_AB_CONVERTED,
	NUDGE_AB_REVENUE,
};

typedef struct nudge_step {
	char *id;          /* [a-z0-9][a-z0-9_-]*, unique in the campaign */
	char *channel;     /* email, sms or push */
	char *tpl;         /* the template's path, resolved against the
			      campaign file's directory */
	int64_t after;     /* seconds since the previous step was sent;
			      0 for the first step */
	char *cond;        /* `if:` expression, or NULL */
	char *unless;      /* `unless:` expression, or NULL */
	int fallback;      /* only when the previous step got no response
			      (no opened or clicked event of it) */
	nudge_variant *variants; /* `variants:`, or NULL */
	size_t nvariants;
	double test_share; /* `test: share:` as a fraction in (0, 1); 0:
			      no test, every contact gets a variant by
			      weight */
	int64_t test_wait; /* `test: wait:` in seconds */
	enum nudge_ab_metric test_metric;
	int best_hour;     /* `send_at: best_hour`: the step's variants are
			      then "fixed-time" (the control share, sent
			      when due) and "best-hour" (held until the
			      contact's best hour: besthour.h) */
	int within_from, within_to; /* `within: HH:MM-HH:MM`, minutes of
			      the day in the campaign's zone; -1: all day */
	double control;    /* `control:` as a fraction in (0, 1) */
	long line, col;    /* where the step starts in the file */
	long cond_line, cond_col, unless_line, unless_col; /* where the
				      expressions start */
} nudge_step;

typedef struct nudge_campaign {
	char *path;        /* the file, as given */
	char *name;        /* `name:`, else the file's base name without
			      .yaml or .yml */
	char *audience;    /* a segment expression (or @saved) */
	int64_t every;     /* `entry: every D`: D in seconds; 0: once */
	int cal;           /* a calendar entry: 'd' every day, 'w' every
			      week, 'm' every month at cal_minute (then
			      every is the longest round: 1d, 7d, 31d);
			      0: none */
	int cal_wday;      /* 'w': 0 Sunday .. 6 Saturday */
	int cal_mday;      /* 'm': 1 .. 28 */
	int cal_minute;    /* minute of the day, in tz */
	char *tz;          /* `timezone:` (an Olson name), or NULL: the
			      policy's quiet-hours zone, else UTC */
	char *entry_on;    /* `entry: on EVENT`: a journey instance per
			      event of that type, or NULL */
	char *entry_channel; /* `entry: on EVENT channel CHANNEL`: only
				the events of that channel, or NULL */
	char *exit_on;     /* `exit: on EVENT`: an event of that type after
			      the entry event ends the instance, or NULL */
	char *exit_prop;   /* `exit: on EVENT where PROP = entry.PROP`: the
			      prop both events share, or NULL */
	long entry_line, entry_col, exit_line, exit_col; /* where entry:
				      and exit: are */
	int64_t limit;     /* `limit: 1 per D`: D in seconds; 0: none */
	int64_t window;    /* how old an entry event may be and still start
			      an instance (7d) */
	double holdout;    /* `holdout:` as a fraction in [0, 1): the share
			      of the audience kept from the campaign */
	char *goal;        /* a segment expression, or NULL */
	int transactional; /* `transactional:` a nudge_msg_kind: what
			      consent stops its messages (policy.h) */
	nudge_policy_cfg policy; /* overrides: what is set (cap_max > 0,
				    quiet_from >= 0, exclude, sunset > 0)
				    replaces the config's */
	const nudge_policy_cfg *global_policy; /* the config's, set by
				    trigger's caller so that a best hour is
				    not in its quiet hours; may be NULL */
	nudge_step *steps;
	size_t nsteps;
	long aud_line, aud_col, goal_line, goal_col; /* where the
						      expressions start */
} nudge_campaign;

/* Reads and checks the campaign file at path: keys, types, durations,
 * step ids, channels, that each template file exists, that every
 * expression compiles (saved @segments are looked up only when the
 * campaign runs), and that every `step "ID"` of this campaign names one
 * of its steps, and in a step's if: or unless: not the step itself
 * (its events cannot exist before it is sent).  On success *out is the campaign (free it with
 * nudge_campaign_free).  Errors: EX_NOINPUT (the file cannot be read),
 * EX_DATAERR "path:line:col: where: what was expected", EX_OSERR. */
int nudge_campaign_load(const char *path, nudge_campaign **out,
    nudge_err *err);
void nudge_campaign_free(nudge_campaign *c);

struct nudge_names;
/* Checks every name c's expressions use (audience, goal, if:, unless:,
 * policy: exclude:) and the event types of entry: on and exit: on
 * against the known names k (names.h).  Returns 0 when all are known,
 * else EX_DATAERR "path:line:col: where: why, did you mean" for the
 * first that is not; *unchecked (if not NULL) counts the names only a
 * store could vouch for, when k has none.  Errors: EX_OSERR, store
 * errors. */
int nudge_campaign_check_names(const nudge_campaign *c,
    struct nudge_names *k, int *unchecked, nudge_err *err);

/* The step called id (a round suffix "@..." after it is ignored), or
 * NULL; *index (if not NULL) is set to its position. */
const nudge_step *nudge_campaign_step(const nudge_campaign *c,
    const char *id, size_t *index);

/* Writes into p the policy for c: the global one g (may be NULL) with
 * c's overrides.  Strings are shared with g and c, not copied. */
void nudge_campaign_policy(const nudge_campaign *c,
    const nudge_policy_cfg *g, nudge_policy_cfg *p);

#endif
