/* campaign: campaign files (nudge-campaign(5)) — YAML read with libyaml
 * into structs, every error naming file:line:col and what was expected. */
#ifndef NUDGE_CAMPAIGN_H
#define NUDGE_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"

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
	long line, col;    /* where the step starts in the file */
} nudge_step;

typedef struct nudge_campaign {
	char *path;        /* the file, as given */
	char *name;        /* `name:`, else the file's base name without
			      .yaml or .yml */
	char *audience;    /* a segment expression (or @saved) */
	int64_t every;     /* `entry: every D`: D in seconds; 0: once */
	char *goal;        /* a segment expression, or NULL */
	nudge_policy_cfg policy; /* overrides: what is set (cap_max > 0,
				    quiet_from >= 0, exclude, sunset > 0)
				    replaces the config's */
	nudge_step *steps;
	size_t nsteps;
} nudge_campaign;

/* Reads and checks the campaign file at path: keys, types, durations,
 * step ids, channels, that each template file exists, and that every
 * expression compiles (saved @segments are looked up only when the
 * campaign runs).  On success *out is the campaign (free it with
 * nudge_campaign_free).  Errors: EX_NOINPUT (the file cannot be read),
 * EX_DATAERR "path:line:col: where: what was expected", EX_OSERR. */
int nudge_campaign_load(const char *path, nudge_campaign **out,
    nudge_err *err);
void nudge_campaign_free(nudge_campaign *c);

/* The step called id (a round suffix "@..." after it is ignored), or
 * NULL; *index (if not NULL) is set to its position. */
const nudge_step *nudge_campaign_step(const nudge_campaign *c,
    const char *id, size_t *index);

/* Writes into p the policy for c: the global one g (may be NULL) with
 * c's overrides.  Strings are shared with g and c, not copied. */
void nudge_campaign_policy(const nudge_campaign *c,
    const nudge_policy_cfg *g, nudge_policy_cfg *p);

#endif
