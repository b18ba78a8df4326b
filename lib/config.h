/* config: finding and reading nudge's configuration (nudge-config(5)) and
 * resolving which store to open. */
#ifndef NUDGE_CONFIG_H
#define NUDGE_CONFIG_H

#include "store.h"
#include "util.h"

typedef struct nudge_config {
	char *path;               /* the file read, or NULL if none was */
	char *db;                 /* `db:`, resolved against the file's
				     directory; NULL if not set */
	char default_country[3];  /* `default_country:` (ISO 3166 alpha-2,
				     upper case), or "" */
} nudge_config;

/* Reads path, else $NUDGE_CONFIG, else $XDG_CONFIG_HOME/nudge/config.yaml
 * (~/.config/...).  A missing default file is no error (all defaults);
 * a named file that is missing is.  Unknown keys are errors naming
 * file:line:col.  Errors: EX_NOINPUT, EX_DATAERR, EX_IOERR. */
int nudge_config_load(nudge_config *cfg, const char *path, nudge_err *err);
void nudge_config_free(nudge_config *cfg);

/* Opens the store: db_opt (--db), else $NUDGE_DB, else the config's db,
 * else $XDG_DATA_HOME/nudge/nudge.db (~/.local/share/...), whose
 * directory is created when flags has NUDGE_STORE_CREATE.  Errors as
 * nudge_store_open. */
int nudge_config_open_store(const nudge_config *cfg, const char *db_opt,
    int flags, nudge_store **st, nudge_err *err);

#endif
