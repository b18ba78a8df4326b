/* json: one value of a JSON text by its dotted path (json.c). */
#ifndef NUDGE_JSON_H
#define NUDGE_JSON_H

#include <stddef.h>

/* Finds the dotted path (a.b.0.c; a number indexes an array) in the JSON
 * text[0..len) and copies the value there into out (a string unescaped,
 * other values as written).  Returns 0, or -1 when it is not there. */
int nudge_json_path(const char *text, size_t len, const char *path,
    char *out, size_t outlen);

/* As nudge_json_path, but sets v[0..*vn) to the value's JSON text where
 * it stands (a string with its quotes, null as null), copying nothing.
 * Returns 0, or -1 when it is not there. */
int nudge_json_find(const char *text, size_t len, const char *path,
    const char **v, size_t *vn);

/* Unescapes the JSON string s[0..n) (from its opening quote) into out,
 * which has room for n + 6 bytes: an unescaped string is never longer
 * than its JSON text.  Returns its length. */
size_t nudge_json_unquote(const char *s, size_t n, char *out);

/* The end of the JSON value at p (blanks before it skipped), or NULL when
 * p..e holds none whole; nesting deeper than the reader allows is none. */
const char *nudge_json_skip_value(const char *p, const char *e);

/* p after any JSON blanks (before e).  Inline: the readers (json.c,
 * template.c's) call it at every token. */
static inline const char *
nudge_json_skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

#endif
