/* yaml: YAML documents as trees with positions, over libyaml's parser. */
#include "yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static nudge_ynode *
node_new(nudge_ykind kind, const yaml_mark_t *m)
{
	nudge_ynode *n = calloc(1, sizeof *n);

	if (n != NULL) {
		n->kind = kind;
		n->line = (long)m->line + 1;
		n->col = (long)m->column + 1;
	}
	return n;
}

static int
node_add(nudge_ynode *parent, nudge_ynode *kid)
{
	nudge_ynode **k;

	if ((k = realloc(parent->kids, (parent->n + 1) * sizeof *k)) == NULL)
		return -1;
	parent->kids = k;
	parent->kids[parent->n++] = kid;
	return 0;
}

void
nudge_yaml_free(nudge_ynode *node)
{
	size_t i;

	if (node == NULL)
		return;
	for (i = 0; i < node->n; i++)
		nudge_yaml_free(node->kids[i]);
	free(node->kids);
	free(node->key);
	free(node->value);
	free(node->pos);
	free(node);
}

const nudge_ynode *
nudge_yaml_get(const nudge_ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->kind != NUDGE_Y_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->kids[i]->key, key) == 0)
			return map->kids[i];
	return NULL;
}

/* One entry: value offset off is at line:col. */
static int
pos_add(nudge_ynode *n, size_t off, long line, long col)
{
	struct nudge_ypos *p;

	if ((p = realloc(n->pos, (n->npos + 1) * sizeof *p)) == NULL)
		return -1;
	n->pos = p;
	n->pos[n->npos++] = (struct nudge_ypos){ off, line, col };
	return 0;
}

/*
 * Fills n->pos for scalar n, written at src[start..end) of the file
 * (libyaml's marks) with style: libyaml folds the line breaks and drops
 * the indentation of a scalar over several lines, so an offset in the
 * value is not the start column plus the offset.  What folding keeps are
 * the characters other than blanks, in order: the source and the value
 * are walked together over those, and the first of each source line
 * gets an entry.  The walk stops at the first difference (an escape
 * sequence of a quoted scalar).  O(length of the scalar).
 */
static int
positions(nudge_ynode *n, const char *src, size_t start, size_t end,
    const yaml_mark_t *m, yaml_scalar_style_t style)
{
	const char *v = n->value;
	size_t i = start, k = 0, vlen = strlen(n->value);
	long line = (long)m->line + 1, col = (long)m->column + 1;
	int first = 1;

	if (style == YAML_LITERAL_SCALAR_STYLE ||
	    style == YAML_FOLDED_SCALAR_STYLE) {
		/* the content starts on the line after the | or > */
		while (i < end && src[i] != '\n')
			i++;
	} else if (style != YAML_PLAIN_SCALAR_STYLE && i < end) {
		i++;
		col++;
	}
	for (; i < end; i++) {
		char c = src[i];

		if (c == '\n') {
			line++;
			col = 1;
			first = 1;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			col++;
			continue;
		}
		while (k < vlen && (v[k] == ' ' || v[k] == '\t' ||
		    v[k] == '\n' || v[k] == '\r'))
			k++;
		if (k >= vlen || v[k] != c)
			break;
		if (first && pos_add(n, k, line, col) == -1)
			return -1;
		first = 0;
		k++;
		/* columns count characters: not UTF-8 continuation bytes */
		if (((unsigned char)src[i + 1 < end ? i + 1 : i] & 0xC0) !=
		    0x80 || i + 1 >= end)
			col++;
	}
	return 0;
}

void
nudge_yaml_pos(const nudge_ynode *n, size_t off, long *line, long *col)
{
	const struct nudge_ypos *e;
	size_t i, j;

	if (n->npos == 0) {
		*line = n->line;
		*col = n->col + (n->plain ? 0 : 1) + (long)off;
		return;
	}
	for (i = 0; i + 1 < n->npos && n->pos[i + 1].off <= off; i++)
		;
	e = &n->pos[i];
	*line = e->line;
	*col = e->col;
	if (n->value == NULL)
		return;
	for (j = e->off; j < off && n->value[j] != '\0'; j++)
		if (((unsigned char)n->value[j] & 0xC0) != 0x80)
			(*col)++;
	if (off < e->off)
		*col -= (long)(e->off - off);
}

struct pstate {
	yaml_parser_t p;
	const char *name;
	const char *text;       /* the source, for nudge_yaml_pos */
	size_t len;
	nudge_err *err;
	int depth;
};

static int
perr(struct pstate *ps, const yaml_mark_t *m, const char *what)
{
	return nudge_errf(ps->err, EX_DATAERR, "%s:%lu:%lu: %s", ps->name,
	    (unsigned long)m->line + 1, (unsigned long)m->column + 1, what);
}

/*
 * libyaml's problems in nudge's words: what is wrong and what to do,
 * said for someone who edits a campaign file and does not know YAML's
 * grammar.  at_context: the place to name is where the construct began
 * (an unclosed quote or bracket), not where libyaml noticed.  A problem
 * not listed keeps libyaml's words.
 */
static const struct {
	const char *problem;    /* the start of libyaml's problem */
	const char *context;    /* and of its context, or NULL for any */
	int at_context;
	const char *words;
} problems[] = {
	{ "mapping values are not allowed", NULL, 0, "unexpected ':' here: "
	    "a value with \": \" in it must be quoted, and a key must be "
	    "indented like the keys beside it" },
	{ "did not find expected key", NULL, 0, "expected a key here "
	    "(\"key: value\"), indented like the keys above it" },
	{ "found unexpected end of stream", "while scanning a quoted", 1,
	    "this quoted value is never closed" },
	{ "found a tab character", NULL, 0, "a tab in the indentation: "
	    "indent with spaces" },
	{ "did not find expected ',' or ']'", NULL, 1, "this [ list is not "
	    "closed with ]" },
	{ "did not find expected ',' or '}'", NULL, 1, "this { map is not "
	    "closed with }" },
	{ "found character that cannot start any token", NULL, 0,
	    "a value cannot start with this character: quote the value" },
	{ "did not find expected '-' indicator", NULL, 0, "expected a \"- \" "
	    "item of the list above, or a key indented like it: check this "
	    "line's indentation" },
	{ "could not find expected ':'", NULL, 1, "expected \"key: value\": "
	    "this line has no ':'" },
	{ "found unknown escape character", NULL, 0, "unknown \\ escape in a "
	    "double-quoted value: write \\\\ for a backslash, or use single "
	    "quotes" },
	{ "block sequence entries are not allowed", NULL, 0, "a \"- \" list "
	    "item where a value was expected: check the indentation" },
	{ "did not find expected node content", "while parsing a flow", 0,
	    "expected a value here: is a [ or { above not closed?" },
	{ "did not find expected node content", NULL, 0, "expected a value" },
	{ "found undefined tag handle", NULL, 0, "tags (!name) are not "
	    "supported" },
};

static int
next_event(struct pstate *ps, yaml_event_t *ev)
{
	const char *problem, *context;
	size_t i;

	if (!yaml_parser_parse(&ps->p, ev)) {
		char msg[512];

		problem = ps->p.problem ? ps->p.problem : "syntax error";
		context = ps->p.context ? ps->p.context : "";
		for (i = 0; i < sizeof problems / sizeof problems[0]; i++) {
			if (strncmp(problem, problems[i].problem,
			    strlen(problems[i].problem)) != 0 ||
			    (problems[i].context != NULL && strncmp(context,
			    problems[i].context,
			    strlen(problems[i].context)) != 0))
				continue;
			return perr(ps, problems[i].at_context &&
			    ps->p.context != NULL ? &ps->p.context_mark :
			    &ps->p.problem_mark, problems[i].words);
		}
		snprintf(msg, sizeof msg, "YAML: %s%s%s", problem,
		    *context ? " " : "", context);
		return perr(ps, &ps->p.problem_mark, msg);
	}
	return 0;
}

/* Builds the node that starts with ev (consumed); sets *out. */
static int
build(struct pstate *ps, yaml_event_t *ev, nudge_ynode **out)
{
	nudge_ynode *n = NULL;
	yaml_event_t kev, vev;
	int rc;

	*out = NULL;
	if (++ps->depth > 64) {
		rc = perr(ps, &ev->start_mark, "nested too deep");
		yaml_event_delete(ev);
		return rc;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if ((n = node_new(NUDGE_Y_SCALAR, &ev->start_mark)) == NULL ||
		    (n->value = strndup((char *)ev->data.scalar.value,
		    ev->data.scalar.length)) == NULL)
			goto nomem;
		if (strlen(n->value) != ev->data.scalar.length) {
			rc = perr(ps, &ev->start_mark, "NUL byte in a value");
			goto fail;
		}
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if ((!n->plain || ev->end_mark.line != ev->start_mark.line) &&
		    ps->text != NULL && ev->end_mark.index <= ps->len &&
		    positions(n, ps->text, ev->start_mark.index,
		    ev->end_mark.index, &ev->start_mark,
		    ev->data.scalar.style) == -1)
			goto nomem;
		break;
	case YAML_SEQUENCE_START_EVENT:
		if ((n = node_new(NUDGE_Y_SEQ, &ev->start_mark)) == NULL)
			goto nomem;
		for (;;) {
			nudge_ynode *kid;

			if ((rc = next_event(ps, &vev)) != 0)
				goto fail;
			if (vev.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&vev);
				break;
			}
			if ((rc = build(ps, &vev, &kid)) != 0)
				goto fail;
			if (node_add(n, kid) == -1) {
				nudge_yaml_free(kid);
				goto nomem;
			}
		}
		break;
	case YAML_MAPPING_START_EVENT:
		if ((n = node_new(NUDGE_Y_MAP, &ev->start_mark)) == NULL)
			goto nomem;
		for (;;) {
			nudge_ynode *kid;
			char *key;

			if ((rc = next_event(ps, &kev)) != 0)
				goto fail;
			if (kev.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&kev);
				break;
			}
			if (kev.type != YAML_SCALAR_EVENT) {
				rc = perr(ps, &kev.start_mark,
				    "a key must be a plain word");
				yaml_event_delete(&kev);
				goto fail;
			}
			key = strndup((char *)kev.data.scalar.value,
			    kev.data.scalar.length);
			if (key == NULL) {
				yaml_event_delete(&kev);
				goto nomem;
			}
			if (nudge_yaml_get(n, key) != NULL) {
				char msg[300];

				snprintf(msg, sizeof msg, "duplicate key \"%.200s\"",
				    key);
				rc = perr(ps, &kev.start_mark, msg);
				free(key);
				yaml_event_delete(&kev);
				goto fail;
			}
			yaml_event_delete(&kev);
			if ((rc = next_event(ps, &vev)) != 0) {
				free(key);
				goto fail;
			}
			if ((rc = build(ps, &vev, &kid)) != 0) {
				free(key);
				goto fail;
			}
			kid->key = key;
			if (node_add(n, kid) == -1) {
				nudge_yaml_free(kid);
				goto nomem;
			}
		}
		break;
	case YAML_ALIAS_EVENT:
		rc = perr(ps, &ev->start_mark, "aliases (*name) are not supported");
		goto fail;
	default:
		rc = perr(ps, &ev->start_mark, "unexpected YAML event");
		goto fail;
	}
	yaml_event_delete(ev);
	ps->depth--;
	*out = n;
	return 0;
nomem:
	rc = nudge_errf(ps->err, EX_OSERR, "%s: out of memory", ps->name);
fail:
	yaml_event_delete(ev);
	nudge_yaml_free(n);
	return rc;
}

int
nudge_yaml_parse(const char *name, const char *text, size_t len,
    nudge_ynode **root, nudge_err *err)
{
	struct pstate ps = { .name = name, .err = err, .text = text,
	    .len = len };
	yaml_event_t ev;
	int rc = 0;

	*root = NULL;
	if (!yaml_parser_initialize(&ps.p))
		return nudge_errf(err, EX_OSERR, "%s: out of memory", name);
	yaml_parser_set_input_string(&ps.p, (const unsigned char *)text, len);
	for (;;) {
		if ((rc = next_event(&ps, &ev)) != 0)
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_STREAM_START_EVENT ||
		    ev.type == YAML_DOCUMENT_START_EVENT ||
		    ev.type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if (*root != NULL) {
			rc = perr(&ps, &ev.start_mark,
			    "only one YAML document is allowed");
			yaml_event_delete(&ev);
			break;
		}
		if ((rc = build(&ps, &ev, root)) != 0)
			break;
	}
	yaml_parser_delete(&ps.p);
	if (rc == 0 && *root == NULL) {
		yaml_mark_t m = { 0, 0, 0 };

		if ((*root = node_new(NUDGE_Y_MAP, &m)) == NULL)
			rc = nudge_errf(err, EX_OSERR, "%s: out of memory", name);
	}
	if (rc != 0) {
		nudge_yaml_free(*root);
		*root = NULL;
	}
	return rc;
}

int
nudge_yaml_load(const char *path, nudge_ynode **root, nudge_err *err)
{
	nudge_buf b = { 0 };
	char chunk[8192];
	size_t n;
	FILE *fp;
	int rc;

	*root = NULL;
	if ((fp = fopen(path, "r")) == NULL)
		return nudge_errf(err, EX_NOINPUT, "%s: %s", path,
		    strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		if (nudge_buf_add(&b, chunk, n) == -1 || b.len > (16u << 20)) {
			fclose(fp);
			nudge_buf_free(&b);
			return nudge_errf(err, EX_DATAERR, "%s: too large", path);
		}
	}
	if (ferror(fp)) {
		rc = nudge_errf(err, EX_IOERR, "%s: %s", path, strerror(errno));
		fclose(fp);
		nudge_buf_free(&b);
		return rc;
	}
	fclose(fp);
	rc = nudge_yaml_parse(path, nudge_buf_str(&b), b.len, root, err);
	nudge_buf_free(&b);
	return rc;
}

static const nudge_ynode *
find_scalar(const nudge_ynode *n, long line, long col)
{
	const nudge_ynode *f;
	size_t i;

	if (n->kind == NUDGE_Y_SCALAR)
		return n->line == line && n->col + (n->plain ? 0 : 1) == col ?
		    n : NULL;
	for (i = 0; i < n->n; i++)
		if ((f = find_scalar(n->kids[i], line, col)) != NULL)
			return f;
	return NULL;
}

int
nudge_yaml_find_pos(const char *path, long line, long col, size_t off,
    long *oline, long *ocol)
{
	const nudge_ynode *n;
	nudge_ynode *root;
	nudge_err e;
	int rc = -1;

	if (path == NULL || nudge_yaml_load(path, &root, &e) != 0)
		return -1;
	if ((n = find_scalar(root, line, col)) != NULL) {
		nudge_yaml_pos(n, off, oline, ocol);
		rc = 0;
	}
	nudge_yaml_free(root);
	return rc;
}
