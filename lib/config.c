/* config: nudge-config(5). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contact.h"
#include "yaml.h"

/* $VAR/suffix, else $HOME/fallback/suffix; NULL when neither is set. */
static char *
xdg_path(const char *var, const char *fallback, const char *suffix)
{
	const char *base = getenv(var), *home = getenv("HOME");
	char *p;

	if (base != NULL && *base == '/') {
		if (asprintf(&p, "%s/%s", base, suffix) == -1)
			return NULL;
	} else if (home != NULL && *home != '\0') {
		if (asprintf(&p, "%s/%s/%s", home, fallback, suffix) == -1)
			return NULL;
	} else {
		return NULL;
	}
	return p;
}

/* Resolves a path written in the config file: ~/ is $HOME, and a
 * relative path is relative to the config file's directory. */
static char *
resolve(const char *cfgpath, const char *p)
{
	const char *home = getenv("HOME"), *slash;
	char *out;
	int n;

	if (p[0] == '~' && p[1] == '/' && home != NULL)
		n = asprintf(&out, "%s%s", home, p + 1);
	else if (p[0] == '/' || (slash = strrchr(cfgpath, '/')) == NULL)
		n = asprintf(&out, "%s", p);
	else
		n = asprintf(&out, "%.*s/%s", (int)(slash - cfgpath), cfgpath,
		    p);
	return n == -1 ? NULL : out;
}

static int
bad(const char *path, const nudge_ynode *n, nudge_err *err, const char *fmt,
    const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof msg, fmt, arg);
	return nudge_errf(err, EX_DATAERR, "%s:%ld:%ld: %s", path, n->line,
	    n->col, msg);
}

static int
scalar(const char *path, const nudge_ynode *n, nudge_err *err)
{
	if (n->kind != NUDGE_Y_SCALAR)
		return bad(path, n, err, "%s: expected a single value", n->key);
	return 0;
}

int
nudge_config_load(nudge_config *cfg, const char *path, nudge_err *err)
{
	nudge_ynode *root = NULL;
	char *found = NULL;
	size_t i;
	int rc;

	memset(cfg, 0, sizeof *cfg);
	if (path == NULL && (path = getenv("NUDGE_CONFIG")) != NULL &&
	    *path == '\0')
		path = NULL;
	if (path == NULL) {
		if ((found = xdg_path("XDG_CONFIG_HOME", ".config",
		    "nudge/config.yaml")) == NULL || access(found, F_OK) != 0) {
			free(found);
			return 0;
		}
		path = found;
	}
	if ((cfg->path = strdup(path)) == NULL) {
		free(found);
		return nudge_errf(err, EX_OSERR, "out of memory");
	}
	free(found);
	if ((rc = nudge_yaml_load(cfg->path, &root, err)) != 0)
		goto fail;
	if (root->kind != NUDGE_Y_MAP) {
		rc = nudge_errf(err, EX_DATAERR, "%s:%ld:%ld: expected a map of "
		    "settings", cfg->path, root->line, root->col);
		goto fail;
	}
	for (i = 0; i < root->n; i++) {
		const nudge_ynode *n = root->kids[i];

		if (strcmp(n->key, "db") == 0) {
			if ((rc = scalar(cfg->path, n, err)) != 0)
				goto fail;
			free(cfg->db);
			if ((cfg->db = resolve(cfg->path, n->value)) == NULL) {
				rc = nudge_errf(err, EX_OSERR, "out of memory");
				goto fail;
			}
		} else if (strcmp(n->key, "default_country") == 0) {
			const char *v = n->value;

			if ((rc = scalar(cfg->path, n, err)) != 0)
				goto fail;
			if (strlen(v) != 2 || !isalpha((unsigned char)v[0]) ||
			    !isalpha((unsigned char)v[1])) {
				rc = bad(cfg->path, n, err, "default_country: "
				    "expected a two-letter country code such as "
				    "IL or US, not \"%.40s\"", v);
				goto fail;
			}
			cfg->default_country[0] = (char)toupper((unsigned char)v[0]);
			cfg->default_country[1] = (char)toupper((unsigned char)v[1]);
			cfg->default_country[2] = '\0';
			if (!nudge_phone_country_known(cfg->default_country)) {
				rc = bad(cfg->path, n, err, "default_country: "
				    "nudge does not know the phone numbering of "
				    "\"%.40s\"", v);
				goto fail;
			}
		} else {
			rc = bad(cfg->path, n, err, "unknown setting \"%.100s\"",
			    n->key);
			goto fail;
		}
	}
	nudge_yaml_free(root);
	return 0;
fail:
	nudge_yaml_free(root);
	nudge_config_free(cfg);
	return rc;
}

void
nudge_config_free(nudge_config *cfg)
{
	free(cfg->path);
	free(cfg->db);
	memset(cfg, 0, sizeof *cfg);
}

int
nudge_config_open_store(const nudge_config *cfg, const char *db_opt,
    int flags, nudge_store **st, nudge_err *err)
{
	const char *path = db_opt;
	char *dflt = NULL;
	int rc;

	if (path == NULL || *path == '\0')
		path = getenv("NUDGE_DB");
	if (path == NULL || *path == '\0')
		path = cfg != NULL ? cfg->db : NULL;
	if (path == NULL) {
		if ((dflt = xdg_path("XDG_DATA_HOME", ".local/share",
		    "nudge/nudge.db")) == NULL)
			return nudge_errf(err, EX_USAGE, "no store: give --db "
			    "FILE or set NUDGE_DB (HOME is not set)");
		path = dflt;
		if (flags & NUDGE_STORE_CREATE)
			flags |= NUDGE_STORE_MKDIR;
	}
	rc = nudge_store_open(st, path, flags, err);
	free(dflt);
	return rc;
}
