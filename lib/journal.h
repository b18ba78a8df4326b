/* journal: the in-flight journal of a send — the ledger ids of the
 * messages whose first attempt started (a byte may have left), appended
 * by the transport's thread just before it starts one, so that recovery
 * after a kill can tell a claim that may have left (`unknown`) from one
 * that never started (given back, sent by the next run). */
#ifndef NUDGE_JOURNAL_H
#define NUDGE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct nudge_journal nudge_journal;

/* Creates (truncating) the journal of claimer (the ledger's claimed_by,
 * "pid@host:starttime") for the store at store_path:
 * "STORE.inflight/CLAIMER" (the directory made 0700 when missing; any
 * byte of claimer other than [A-Za-z0-9.:@_-] written '_'), its first
 * line this boot's id (/proc/sys/kernel/random/boot_id).  Nothing is
 * fsync'd: the journal has to outlive a killed process, not the OS, and
 * a reboot makes it untrusted (another boot id).
 * Errors: EX_CANTCREAT (directory or file), EX_IOERR, EX_OSERR. */
int nudge_journal_open(nudge_journal **out, const char *store_path,
    const char *claimer, nudge_err *err);

/* Appends the n ids with one write(2) to an O_APPEND file: safe from
 * any thread, and on the file when it returns.  Should the write fail, the
 * journal is removed (or, failing that, its boot id overwritten), so
 * that recovery trusts none of it and keeps every claim `unknown`: a
 * message missing from a trusted journal would be sent twice. */
void nudge_journal_add(nudge_journal *j, const int64_t *ids, size_t n);

/* Closes j; with clean set (every claim of the run has its outcome)
 * also removes the file, and the directory if it is then empty. */
void nudge_journal_close(nudge_journal *j, int clean);

/* Reads the journal of claimer for the store at store_path.  Returns 1
 * and sets *ids (sorted, to free) and *n when it exists and its boot id
 * is this boot's; 0 when there is none or it is not to be trusted
 * (another boot, unreadable, malformed); -1 when out of memory. */
int nudge_journal_load(const char *store_path, const char *claimer,
    int64_t **ids, size_t *n);

/* True when id is in ids[0..n) (sorted). */
int nudge_journal_has(const int64_t *ids, size_t n, int64_t id);

/* Removes the journal of claimer, and the directory if it is empty. */
void nudge_journal_remove(const char *store_path, const char *claimer);

/* Removes the journals of claimers known to be dead on this host
 * (nudge_ledger_claimer_alive() == 0): left by a run that was killed
 * after its recovery committed, or that ended with an error after every
 * outcome was recorded.  Only call after recovery has dealt with their
 * rows. */
void nudge_journal_sweep(const char *store_path);

#endif
