/* template: message templates (nudge-template(5)) parsed once into literal
 * and placeholder segments, rendered many times with escaping chosen by
 * where each placeholder sits: header, text, HTML text, HTML attribute or
 * URL. */
#ifndef NUDGE_TEMPLATE_H
#define NUDGE_TEMPLATE_H

#include <stddef.h>

#include "util.h"

/* Returns the value of field name (e.g. "first_name", "attrs.city") for
 * the contact behind ctx and sets *len, or returns NULL when the contact
 * has no such field.  The value need not be NUL-terminated and must stay
 * valid until the next call. */
typedef const char *(*nudge_tpl_lookup)(void *ctx, const char *name,
    size_t *len);

typedef struct nudge_tpl nudge_tpl;

/* The parts a template may have, as bits for nudge_tpl_parts(). */
enum nudge_tpl_part {
	NUDGE_TPL_SUBJECT,
	NUDGE_TPL_FROM,
	NUDGE_TPL_REPLY_TO,
	NUDGE_TPL_PREHEADER,
	NUDGE_TPL_TITLE,
	NUDGE_TPL_TEXT,
	NUDGE_TPL_HTML,
	NUDGE_TPL_NPARTS
};

/* One rendering.  A zeroed struct is ready; nudge_tpl_render resets and
 * refills the buffers, so reusing one struct for many contacts allocates
 * only while the buffers grow.  part[i] is the part NUDGE_TPL_i; the
 * aliases below name them.  A part the template lacks is left empty. */
typedef struct nudge_tpl_out {
	nudge_buf part[NUDGE_TPL_NPARTS];
	nudge_buf scratch; /* internal: filtered values */
	nudge_buf scratch2; /* internal: JSON strings, numbers */
	void *loops;       /* internal: the {{#each}} frames */
} nudge_tpl_out;

#define nudge_tpl_subject(o)   (&(o)->part[NUDGE_TPL_SUBJECT])
#define nudge_tpl_text(o)      (&(o)->part[NUDGE_TPL_TEXT])
#define nudge_tpl_html(o)      (&(o)->part[NUDGE_TPL_HTML])

/* Reads and parses the template at path, and the HTML part from the
 * sibling file (path with its extension replaced by ".html") when the
 * template has no "--- html ---" line and that file exists.  Language
 * variants are the files beside it named STEM.LANG.EXT (promo.he.txt
 * for promo.txt, LANG two or three letters, maybe "-" and a region),
 * each with its own .html sibling; a variant must have the same parts
 * as the default.  Errors name
 * file:line:col: EX_NOINPUT (cannot read), EX_DATAERR (an unknown header,
 * an unclosed "{{", an unknown filter, a placeholder where HTML cannot
 * take one), EX_OSERR (memory). */
int nudge_tpl_load(const char *path, nudge_tpl **out, nudge_err *err);

/* Parses the template src[0..n), named name in errors; html, if not NULL,
 * is the HTML part (as from a sibling file) and the template itself may
 * then not have one.  Errors as for nudge_tpl_load. */
int nudge_tpl_parse(const char *name, const char *src, size_t n,
    const char *html, size_t hn, nudge_tpl **out, nudge_err *err);

/* Returns the parts t has, as bits (1u << NUDGE_TPL_SUBJECT, ...). */
unsigned nudge_tpl_parts(const nudge_tpl *t);

/* False when the template says X-Nudge-Track: no (its links are sent as
 * written, with no open pixel); true otherwise. */
int nudge_tpl_track(const nudge_tpl *t);

/* True when t gains from rendering on several threads at once (each with
 * its own out); false when it uses the :date filter, which takes the
 * process's one TZ in turns (clock.h): threads would wait on each other,
 * so such a template renders on one thread. */
int nudge_tpl_threadsafe(const nudge_tpl *t);

/* Renders t for the contact behind ctx into out.  Returns 0, EX_DATAERR
 * when a field has no value and no default (the error names it: skip that
 * contact) or a field filling a whole URL attribute is not an http, https
 * or mailto URL, or EX_OSERR (memory); after an error the parts in out
 * are unspecified.  t is only read: threads may share it, each with its
 * own out, when nudge_tpl_threadsafe says so. */
int nudge_tpl_render(const nudge_tpl *t, nudge_tpl_lookup lookup, void *ctx,
    nudge_tpl_out *out, nudge_err *err);

/* Sets *truth to whether condition i (as numbered by nudge_tpl_each_cond)
 * holds for the contact behind ctx.  Returns 0 or a sysexits code with
 * err set, which stops the rendering. */
typedef int (*nudge_tpl_cond)(void *ctx, size_t i, int *truth,
    nudge_err *err);

/* What a rendering reads besides the template. */
typedef struct nudge_tpl_env {
	nudge_tpl_lookup lookup;
	/* {{#if}} conditions; NULL: a template with one does not render
	 * (EX_DATAERR) */
	nudge_tpl_cond cond;
	void *ctx;              /* for lookup and cond */
	/* :money's currency (ISO 4217) when the value has no "currency"
	 * beside it; NULL: none, the amount is printed bare */
	const char *currency;
	/* :date's time zone (an Olson name) when the contact has no
	 * attrs.tz; NULL: UTC */
	const char *tz;
} nudge_tpl_env;

/* nudge_tpl_render with conditions, currency and time zone.  Picks the
 * language variant by the field attrs.lang (nudge_tpl_load), else renders
 * the default.  Errors as nudge_tpl_render, and cond's. */
int nudge_tpl_render_env(const nudge_tpl *t, const nudge_tpl_env *env,
    nudge_tpl_out *out, nudge_err *err);

/* Called for each {{#if COND}} of a template with its number (0, 1, ...
 * over the default and every variant), its text and where it starts
 * ("file:line:col"); a non-zero result stops the walk. */
typedef int nudge_tpl_cond_fn(void *ctx, size_t i, const char *cond,
    const char *where);

/* Calls fn for every condition of t; returns fn's first non-zero result,
 * or 0.  *n (if not NULL) is set to how many t has. */
int nudge_tpl_each_cond(const nudge_tpl *t, nudge_tpl_cond_fn *fn,
    void *ctx, size_t *n);

/* Called for each placeholder of a template with its field name, whether
 * it has a default, and where it is ("file:line:col", the column of the
 * name); a non-zero result stops the walk. */
typedef int nudge_tpl_field_fn(void *ctx, const char *name, int has_def,
    const char *where);

/* Calls fn for every placeholder of t in the order they appear (headers,
 * text, HTML; then each language variant's), and for every {{#each}}'s
 * path, so that the caller can refuse a field it cannot supply before
 * rendering anything.  A name inside an {{#each}} that is not a contact
 * column, attrs.* or latest.* is the loop item's own and is not passed.
 * Returns fn's first non-zero result, or 0. */
int nudge_tpl_each_field(const nudge_tpl *t, nudge_tpl_field_fn *fn,
    void *ctx);

/* Frees the buffers of out (not out itself). */
void nudge_tpl_out_free(nudge_tpl_out *out);

/* Frees t (NULL is fine). */
void nudge_tpl_free(nudge_tpl *t);

#endif
