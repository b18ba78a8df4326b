/* journal: the in-flight journal of a send — the ledger ids of the
 * messages whose first attempt started (a byte may have left), appended
 * by the transport's thread just before it starts one, and the outcome
 * of each as soon as the transport knows it, so that recovery after a
 * kill can tell a claim that never started (given back, sent by the next
 * run) from one whose outcome came (recorded as it came) and from one
 * that was on the wire (`unknown`). */
#ifndef NUDGE_JOURNAL_H
#define NUDGE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "util.h"

typedef struct nudge_journal nudge_journal;

/* A message's outcome, as the journal keeps it: what the sender records
 * in the ledger (and the event it adds) when the outcome comes. */
typedef struct nudge_journal_outcome {
	int64_t id;             /* the ledger row */
	int back;               /* surely not sent: the claim is given back */
	enum nudge_outcome out; /* else the row's new status */
	int attempts;           /* 1 + the retries made */
	const char *props;      /* the event's props (JSON, no blank), or
				   NULL */
	const char *detail;     /* the provider's id (sent), or the error */
} nudge_journal_outcome;

/* What a journal holds, as nudge_journal_load read it. */
typedef struct nudge_journal_data {
	int64_t *ids;           /* the messages started, sorted */
	size_t n;
	nudge_journal_outcome *outs; /* their outcomes, sorted by id */
	size_t nouts;
} nudge_journal_data;

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

/* Appends the n ids with one write(2) to an O_APPEND file (more than 64
 * in several): safe from any thread, and on the file when it returns.
 * Returns 0, or -1 when they could not all be written (a full disk):
 * then the file is cut back to what it held before (a message missing
 * from a trusted journal would be sent twice; one in it that never
 * started only ends `unknown`), the journal is failed
 * (nudge_journal_error) and every later add returns -1 at once: none of
 * those messages may start. */
int nudge_journal_add(nudge_journal *j, const int64_t *ids, size_t n);

/* Appends outcome o, one line in one write(2), safe from any thread: a
 * kill after it leaves the recovery the outcome to record, not
 * `unknown`.  Not fsync'd, as the rest.  A write that fails is cut back
 * and fails the journal, as for nudge_journal_add; the outcome then
 * lives in memory only, as it did before the journal kept outcomes. */
void nudge_journal_done(nudge_journal *j, const nudge_journal_outcome *o);

/* NULL, or why the journal failed ("PATH: No space left on device"). */
const char *nudge_journal_error(nudge_journal *j);

/* Closes j; with clean set (every claim of the run has its outcome)
 * also removes the file, and the directory if it is then empty. */
void nudge_journal_close(nudge_journal *j, int clean);

/* Reads the journal of claimer for the store at store_path into *d (to
 * free with nudge_journal_data_free).  Returns 1 when it exists and its
 * boot id is this boot's; 0 (d empty) when there is none or it is not
 * to be trusted (another boot, unreadable, malformed); -1 when out of
 * memory.  A last line cut by the kill (no newline) is left out: its
 * write had not returned. */
int nudge_journal_load(const char *store_path, const char *claimer,
    nudge_journal_data *d);
void nudge_journal_data_free(nudge_journal_data *d);

/* True when message id is in d's started ones. */
int nudge_journal_has(const nudge_journal_data *d, int64_t id);

/* The outcome of message id in d, or NULL. */
const nudge_journal_outcome *nudge_journal_outcome_of(
    const nudge_journal_data *d, int64_t id);

/* Removes the journal of claimer, and the directory if it is empty. */
void nudge_journal_remove(const char *store_path, const char *claimer);

/* Removes the journals of claimers known to be dead on this host
 * (alive(claimer) == 0: the ledger, owner of claims, tells, so that
 * this module does not call it): left by a run that was killed
 * after its recovery committed, or that ended with an error after every
 * outcome was recorded.  Only call after recovery has dealt with their
 * rows. */
void nudge_journal_sweep(const char *store_path,
    int (*alive)(const char *claimer));

#endif
