/* trigline: the trigger line, the one format between nudge trigger, which
 * writes it, and nudge send, which reads it:
 *
 *     CONTACT<TAB>CAMPAIGN<TAB>STEP[<TAB>FILE]
 *
 * CONTACT a contact id (send also takes an email address or phone),
 * CAMPAIGN the campaign's name, STEP its step (with "@ROUND" for a
 * recurring round, "#EVENT" for the instance of a journey started by an
 * event: the entry event's id, a column of the ledger key), FILE the
 * campaign file that defines them.  A line of
 * one or two fields is a bare contact line, sent as send's options say. */
#ifndef NUDGE_TRIGLINE_H
#define NUDGE_TRIGLINE_H

#include <stdint.h>
#include <stdio.h>

/* The form, for error messages. */
#define NUDGE_TRIGLINE_FORM "CONTACT<TAB>CAMPAIGN<TAB>STEP[<TAB>FILE]"

typedef struct nudge_trigline {
	char *contact;               /* the first field */
	char *campaign, *step, *file; /* NULL when the line has none */
	int64_t entry_event;         /* STEP's "#EVENT", else 0 */
} nudge_trigline;

/* Writes one trigger line to fp (step with its "@ROUND" or "#EVENT"); returns 0, or -1 when the write failed
 * (errno set). */
int nudge_trigline_write(FILE *fp, int64_t contact_id, const char *campaign,
    const char *step, const char *file);

/* Splits line (no newline) in place into t.  Returns how many fields
 * count: 1 for a bare line (one or two fields; anything after the second
 * tab of a two-field line is the user's), 3 or 4 for a trigger line (a
 * FILE field that is empty counts as absent, and any fields after it are
 * ignored), or -1 for a trigger line whose CAMPAIGN or STEP is empty;
 * t->contact is set in every case. */
int nudge_trigline_split(char *line, nudge_trigline *t);

#endif
