/* segment: the segment language of nudge-segment(7) — lexer, parser, and
 * the compiler to one parameterised SQL query over the store; saved
 * segments (@name). */
#ifndef NUDGE_SEGMENT_H
#define NUDGE_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fmt.h"
#include "store.h"
#include "util.h"

enum nudge_seg_type {
	NUDGE_SEG_INT,
	NUDGE_SEG_REAL,
	NUDGE_SEG_TEXT,
	NUDGE_SEG_TIME,  /* an integer that is a time (Unix seconds) */
};

/* The kinds of names an expression can use (see nudge_seg.names). */
enum nudge_seg_name_kind {
	NUDGE_SEG_NAME_EVENT,    /* an event type: opened, purchase */
	NUDGE_SEG_NAME_LIST,     /* list "NAME" */
	NUDGE_SEG_NAME_CAMPAIGN, /* campaign "NAME" */
	NUDGE_SEG_NAME_STEP,     /* step "ID" */
	NUDGE_SEG_NAME_CHANNEL,  /* channel NAME, in last N CHANNEL campaigns */
	NUDGE_SEG_NAME_FIELD,    /* FIELD OP VALUE on an attrs key, noted
				    only while computed fields are set: a
				    near miss of one is a typo */
};

/* One name an expression uses, as written, for the known-names check
 * (names.h): a typo there selects nobody or everybody. */
typedef struct nudge_seg_name {
	enum nudge_seg_name_kind kind;
	char *name;
	/* STEP: the campaign named before it, or NULL for a step of the
	 * context's campaign (nudge_seg_ctx.campaign) */
	char *campaign;
	/* the byte offset of the name in the expression, and its 1-based
	 * column in characters; a name inside a saved segment has those of
	 * its @name */
	size_t off, col;
} nudge_seg_name;

/* One bound parameter: ?N of the SQL is params[N - 1]. */
typedef struct nudge_seg_param {
	enum nudge_seg_type type;
	int64_t i;
	double r;
	char *s;
} nudge_seg_param;

typedef struct nudge_seg {
	/* A condition on one contact, the row of `contacts c` in scope: so
	 * another query can embed it (trigger: `... FROM contacts c WHERE
	 * <cond> AND ...`, its own parameters numbered after nparams).
	 * Subqueries inside use the aliases e, m, l, k and n. */
	char *cond;
	/* The contact ids in ascending order, one column: SELECT c.id FROM
	 * contacts c WHERE <cond> ORDER BY c.id, or when every predicate
	 * is a list or event one, the same ids without reading contacts. */
	char *sql;
	/* sql[0..sql_order) is that query without its final ORDER BY: an
	 * operand of a compound SELECT (trigger: AUDIENCE EXCEPT LEDGER).
	 * Set by nudge_seg_compile; 0 after nudge_seg_select. */
	size_t sql_order;
	nudge_seg_param *params;
	size_t nparams;
	/* After a failed compile: where the error is in the expression, as
	 * a byte offset and as a 1-based column counted in characters. */
	size_t err_off, err_col;
	/* After a compile: every event type, list, campaign, step and
	 * channel the expression names, in the order written, saved
	 * segments' included (not copied by select or append). */
	nudge_seg_name *names;
	size_t nnames;
	/* the clock `within` was compiled with */
	int64_t now;
} nudge_seg;

/* Compiles expr.  st (may be NULL, then @name is an error) is read for
 * saved segments, expanded in place; name, when not NULL, is the segment
 * being defined, so that a reference back to it is reported as a cycle.
 * now is the clock for `within`.  On success fills seg (free it with
 * nudge_seg_free).  Errors: EX_USAGE for a bad expression, an unknown
 * @name or a cycle, with err "column N: what was expected, got what" and
 * seg->err_off/err_col set; EX_OSERR; a store error.  seg needs
 * nudge_seg_free after a failure too. */
int nudge_seg_compile(nudge_store *st, const char *name, const char *expr,
    int64_t now, nudge_seg *seg, nudge_err *err);
void nudge_seg_free(nudge_seg *seg);

/* The consent mode per channel (email, sms, push; 1 opt-in: a contact
 * with no consent record is not subscribed) that `subscribed CH`
 * compiles to from now on in this process; nudge_config_load sets it.
 * Default: opt-out everywhere. */
void nudge_seg_set_consent(const int optin[3]);
/* Whether channel is opt-in by that setting. */
int nudge_seg_consent_optin(const char *channel);

/* Sets the computed fields (nudge-config(5) computed:) that expressions,
 * --fields and templates know from now on in this process: names[i] is
 * defined by the aggregate defs[i] (`sum of total over purchase`, see
 * nudge-segment(7)); nudge_config_load sets them.  Each is checked.
 * Errors: EX_USAGE "NAME: ..." or "in computed field NAME: column N:
 * ..." for a bad one (then the fields before it stay set), EX_OSERR. */
int nudge_seg_set_computed(const char *const *names, const char *const *defs,
    size_t n, nudge_err *err);
/* The aggregate defining computed field name, or NULL. */
const char *nudge_seg_computed(const char *name);
/* The i-th computed field's name, or NULL past the last. */
const char *nudge_seg_computed_name(size_t i);
/* The i-th figure nudge predict keeps per contact (p_alive, churn_risk,
 * ...: the predictions table's columns), or NULL past the last. */
const char *nudge_seg_predicted_name(size_t i);
/* The computed field name as an SQL expression on the contact row c (a
 * scalar subquery over events), its parameters added to seg's and its
 * window counted from seg->now.  *sql is the caller's to free.
 * Errors: EX_USAGE (not a computed field), EX_OSERR. */
int nudge_seg_computed_sql(nudge_seg *seg, const char *name, char **sql,
    nudge_err *err);

/* What a campaign file's expressions know beyond the store. */
typedef struct nudge_seg_ctx {
	/* The campaign being run: `step "ID"` without `campaign "NAME"`
	 * means a step of this one.  NULL: such a step is an error. */
	const char *campaign;
	/* Appended to step ids of that campaign ("@2026-11-02T00:00:00Z"
	 * for a round of a recurring campaign), or NULL. */
	const char *step_suffix;
	/* An SQL expression without parameters (the caller's own) of the
	 * entry event's id of the journey instance being run: step ids of
	 * that campaign are "ID#" || it (trigline.h), the events of this
	 * instance's own messages.  NULL: none. */
	const char *step_instance;
	/* An SQL expression without parameters (the caller's own, never
	 * user text) that bounds every event predicate from below, as
	 * `AND e.contact_id = c.id AND e.at >= (event_since)`: a campaign's
	 * goal counts only events since the contact entered.  NULL: none. */
	const char *event_since;
	/* With st NULL: @name is accepted unchecked (it matches nobody),
	 * so a file can be checked without its store. */
	int lenient_refs;
} nudge_seg_ctx;

/* nudge_seg_compile with a campaign context (ctx may be NULL): also
 * `EVENT step "ID"`, the contact's events of that step of ctx's
 * campaign.  Errors as nudge_seg_compile. */
int nudge_seg_compile_ctx(nudge_store *st, const char *name,
    const char *expr, int64_t now, const nudge_seg_ctx *ctx, nudge_seg *seg,
    nudge_err *err);

/* Appends src's parameters to dst's, and src's cond (into cond) and sql
 * (into sql), when not NULL, renumbered to follow dst's: so that several
 * segments make one query with one parameter list.  Errors: EX_OSERR. */
int nudge_seg_append(nudge_seg *dst, const nudge_seg *src, nudge_buf *cond,
    nudge_buf *sql, nudge_err *err);

/* As nudge_seg_append with cond NULL, but appends src's ids query
 * without its final ORDER BY (src->sql[0..sql_order)). */
int nudge_seg_append_unordered(nudge_seg *dst, const nudge_seg *src,
    nudge_buf *sql, nudge_err *err);

/* Appends one parameter (s copied when type is NUDGE_SEG_TEXT) and
 * returns its number, or -1 when memory runs out (err says so). */
int nudge_seg_param_add(nudge_seg *dst, enum nudge_seg_type type, int64_t i,
    const char *s, nudge_err *err);

/* Binds seg's parameters to ?1..?nparams of s: text as seg holds it,
 * so seg must outlive the binding; _copy binds copies, for a statement
 * that outlives seg. */
int nudge_seg_bind(const nudge_seg *seg, sqlite3_stmt *s, nudge_err *err);
int nudge_seg_bind_copy(const nudge_seg *seg, sqlite3_stmt *s,
    nudge_err *err);

/* Makes out (free with nudge_seg_free) the query that prints seg: with
 * count set `SELECT count(*)`; else seg->sql when nfields is 0, or one
 * result column per field: a contacts column such as email, or else a
 * key of attrs (json_extract, its path a parameter added after seg's).
 * Errors: EX_USAGE for a name that cannot be a field (empty, or with a
 * double quote, backslash or control character), EX_OSERR. */
int nudge_seg_select(const nudge_seg *seg, const char *const *fields,
    size_t nfields, int count, nudge_seg *out, nudge_err *err);

/* Prepares seg->sql on st and binds its parameters. */
int nudge_seg_prepare(nudge_store *st, const nudge_seg *seg,
    sqlite3_stmt **stmt, nudge_err *err);

/* Writes the rows of q (from nudge_seg_select) to fp in kind's format,
 * under the nfields column names fields.  Errors: store errors,
 * EX_OSERR, EX_IOERR. */
int nudge_seg_write(nudge_store *st, const nudge_seg *q,
    enum nudge_fmt_kind kind, const char *const *fields, size_t nfields,
    FILE *fp, nudge_err *err);

/* Sets *n to the count that q (nudge_seg_select with count) selects.
 * Errors: store errors. */
int nudge_seg_count(nudge_store *st, const nudge_seg *q, int64_t *n,
    nudge_err *err);

/* Appends the SQL and then one `-- ?N = value` line per parameter (times
 * also in ISO 8601), which is how `nudge segment --explain` shows it. */
int nudge_seg_explain(const nudge_seg *seg, nudge_buf *out);

/* Appends two lines for an error report: expr indented by four spaces
 * (tabs and newlines shown as spaces) and a caret under byte offset off,
 * placed by display width. */
int nudge_seg_caret(nudge_buf *out, const char *expr, size_t off);

/* Stores expr as the saved segment name (a name: [a-z][a-z0-9_-]*),
 * replacing an earlier one; the caller compiles it first.  Errors:
 * EX_USAGE for a bad name, store errors. */
int nudge_seg_save(nudge_store *st, const char *name, const char *expr,
    int64_t now, nudge_err *err);

#endif
