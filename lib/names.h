/* names: which names are known — the event types, lists, campaigns,
 * steps and channels that nudge defines, the configuration declares or
 * the store holds — so that a typo in an expression is caught with a
 * did-you-mean hint instead of silently selecting nobody or everybody
 * (nudge-segment(7), KNOWN NAMES). */
#ifndef NUDGE_NAMES_H
#define NUDGE_NAMES_H

#include <stddef.h>

#include "campaign.h"
#include "config.h"
#include "segment.h"
#include "store.h"
#include "util.h"

typedef struct nudge_names nudge_names;

/*
 * The distinct event types as rows x of t (ending in one NULL row), one
 * index seek each (a skip-scan of events_type_at): SELECT DISTINCT type
 * would read every entry of the index, 10M on a big store, where this
 * reads one per type.  A query goes on with its own SELECT ... FROM t.
 */
#define NUDGE_NAMES_SQL_TYPES \
    "WITH RECURSIVE t(x) AS (" \
    " SELECT (SELECT type FROM events ORDER BY type LIMIT 1)" \
    " UNION ALL" \
    " SELECT (SELECT type FROM events WHERE type > t.x ORDER BY type" \
    "  LIMIT 1) FROM t WHERE t.x IS NOT NULL)"

/* The same for the steps of campaign ?1 in the ledger, over its unique
 * key (campaign_id, step, contact_id): the whole query, one step a row. */
#define NUDGE_NAMES_SQL_STEPS \
    "WITH RECURSIVE k(id) AS (SELECT id FROM campaigns WHERE name = ?1)," \
    " t(x) AS (" \
    " SELECT (SELECT step FROM messages WHERE campaign_id = (SELECT id" \
    "  FROM k) ORDER BY step LIMIT 1)" \
    " UNION ALL" \
    " SELECT (SELECT step FROM messages WHERE campaign_id = (SELECT id" \
    "  FROM k) AND step > t.x ORDER BY step LIMIT 1)" \
    " FROM t WHERE t.x IS NOT NULL)" \
    " SELECT x FROM t WHERE x IS NOT NULL AND x != ''"

/* Starts a lookup over st (NULL: no store, see nudge_names_check) and
 * cfg's event_types (cfg may be NULL).  Both must outlive k.  Errors:
 * EX_OSERR. */
int nudge_names_open(nudge_names **k, nudge_store *st,
    const nudge_config *cfg, nudge_err *err);
void nudge_names_free(nudge_names *k);

/* Makes campaign c (it must outlive k) known, and its steps: campaign
 * files about to run are known before the store has a row of them.
 * Errors: EX_OSERR. */
int nudge_names_add_campaign(nudge_names *k, const nudge_campaign *c,
    nudge_err *err);

/*
 * Whether u names something known.  Returns 1 when it does; 0 when it
 * does not, with why set to one line saying so and naming the closest
 * known name ("no event of type \"opend\"; did you mean \"opened\"?");
 * 2 when only a store could say and there is none (why says so).  A
 * step of the context's campaign (u->campaign NULL) is 1: the campaign
 * file checks those (nudge_campaign_load).  Each lookup is one indexed
 * query (events by type: the events_type_at index; a campaign's steps:
 * the ledger's unique key), and the hint's candidates are read only for
 * an unknown name, distinct event types by a skip-scan of that index:
 * one seek per type, so it stays fast on a store of 10M events.
 * Errors (a sysexits code above 2, err set): store errors, EX_OSERR.
 */
int nudge_names_check(nudge_names *k, const nudge_seg_name *u,
    nudge_buf *why, nudge_err *err);

/* Called by nudge_names_check_seg for a name u that is not known
 * (rc 0) or could not be checked (rc 2), why as nudge_names_check says. */
typedef void nudge_names_fn(void *arg, const nudge_seg_name *u, int rc,
    const char *why);

/* nudge_names_check for each name seg uses, each distinct one once, in
 * the order written, calling fn for those not known.  Returns 0, or the
 * first error of nudge_names_check. */
int nudge_names_check_seg(nudge_names *k, const nudge_seg *seg,
    nudge_names_fn *fn, void *arg, nudge_err *err);

/* Compiles expr (written in file path at line, col; campaign, if not
 * NULL, is the campaign file's own name for `step "ID"`) and checks
 * every name it uses.  Returns 0 when all are known; else EX_DATAERR
 * "path:line:col: what: why" for the first that is not.  *unchecked (if
 * not NULL) is increased by the names only a store could vouch for, when
 * k has none.  Errors: EX_USAGE (expr does not compile), EX_OSERR, store
 * errors. */
int nudge_names_check_expr(nudge_names *k, const char *expr,
    const char *campaign, const char *path, long line, long col,
    const char *what, int *unchecked, nudge_err *err);

/* True when type is an event type nudge itself records (sent, opened,
 * clicked, ...) or "received", the language's word for sent. */
int nudge_names_event_builtin(const char *type);

#endif
