/* yaml: a YAML file (libyaml) as a small tree of maps, sequences and
 * scalars, each node carrying its line and column, so that config,
 * campaign and provider readers can name file:line:col in every error.
 * Aliases are refused (no billion laughs), and so are duplicate keys. */
#ifndef NUDGE_YAML_H
#define NUDGE_YAML_H

#include <stddef.h>

#include "util.h"

typedef enum { NUDGE_Y_SCALAR, NUDGE_Y_MAP, NUDGE_Y_SEQ } nudge_ykind;

typedef struct nudge_ynode {
	nudge_ykind kind;
	char *key;     /* the key, for an entry of a map; else NULL */
	char *value;   /* a scalar's text; else NULL */
	int plain;     /* a scalar written without quotes */
	long line, col; /* 1-based position of the node (of the key, for a
			   map entry's value: of the value itself) */
	size_t n;      /* children of a map or sequence */
	struct nudge_ynode **kids;
	/* A scalar that is quoted or spans lines: where in the file each of
	 * its source lines starts in value (see nudge_yaml_pos). */
	struct nudge_ypos { size_t off; long line, col; } *pos;
	size_t npos;
} nudge_ynode;

/* Reads the file at path.  An empty file gives an empty map.
 * Errors: EX_NOINPUT (cannot open), EX_DATAERR ("path:line:col: why"). */
int nudge_yaml_load(const char *path, nudge_ynode **root, nudge_err *err);
/* The same over a buffer; name is used in error messages. */
int nudge_yaml_parse(const char *name, const char *text, size_t len,
    nudge_ynode **root, nudge_err *err);
void nudge_yaml_free(nudge_ynode *node);
/* Where byte off of scalar n's value is in the file: its 1-based line
 * and column (in characters, as libyaml counts them).  Right for a plain,
 * quoted, literal (|) or folded (>) scalar over several lines too, where
 * libyaml gives only the start (for a block scalar, its | or >).  Past a
 * quoted scalar's first escape sequence the column may be off by the
 * escapes' lengths. */
void nudge_yaml_pos(const nudge_ynode *n, size_t off, long *line, long *col);

/* nudge_yaml_pos for the scalar of file path whose value starts at line,
 * col as readers record it (the node's column, plus one when quoted),
 * read again: for an error found after the tree is gone, such as an
 * unknown name in a folded audience.  Returns 0, or -1 when the file no
 * longer reads or has no such scalar (the caller keeps its own guess). */
int nudge_yaml_find_pos(const char *path, long line, long col, size_t off,
    long *oline, long *ocol);

/* The entry called key in a map, or NULL. */
const nudge_ynode *nudge_yaml_get(const nudge_ynode *map, const char *key);

#endif
