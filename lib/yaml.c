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

struct pstate {
	yaml_parser_t p;
	const char *name;
	nudge_err *err;
	int depth;
};

static int
perr(struct pstate *ps, const yaml_mark_t *m, const char *what)
{
	return nudge_errf(ps->err, EX_DATAERR, "%s:%lu:%lu: %s", ps->name,
	    (unsigned long)m->line + 1, (unsigned long)m->column + 1, what);
}

static int
next_event(struct pstate *ps, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&ps->p, ev)) {
		char msg[512];

		snprintf(msg, sizeof msg, "%s%s%s",
		    ps->p.problem ? ps->p.problem : "syntax error",
		    ps->p.context ? " " : "",
		    ps->p.context ? ps->p.context : "");
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
	struct pstate ps = { .name = name, .err = err };
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
