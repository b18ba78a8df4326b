/* sendtrig: send's input stream when it may hold trigger lines
 * (CONTACT<TAB>CAMPAIGN<TAB>STEP[<TAB>FILE]): each step a lane of one
 * send run (send.h), with that step's channel and template and the
 * campaign's policy; all channels deliver at once. */
#ifndef NUDGE_SENDTRIG_H
#define NUDGE_SENDTRIG_H

#include <stdio.h>

#include "send.h"

/*
 * Reads in line by line.  Without o->campaign, a line of three or more
 * tab-separated fields is a trigger line: its campaign file is the fourth field (as nudge trigger
 * writes it), else DIR/CAMPAIGN.yaml with dir (--campaigns) not NULL; the
 * campaign's name must be the line's; the step (a round suffix "@..."
 * kept in the ledger key) names the channel and template, and the
 * campaign's policy overrides o->cfg's.  With o->campaign, every line is
 * sent as o says (o->campaign, o->template_path, o->channel), whatever
 * fields follow the first.  Every step met is a lane of one
 * nudge_sender; o->on_result hears of every line with its line number
 * in the stream.
 * Errors: those of nudge_sender_*, and EX_DATAERR for a trigger line
 * whose campaign file is bad, names another campaign or has no such step,
 * EX_NOINPUT for a missing campaign file, EX_USAGE for a trigger line with
 * no file and no dir.
 */
int nudge_send_stream(nudge_store *st, FILE *in, const nudge_send_opts *o,
    const char *dir, nudge_send_stats *stats, nudge_err *err);

#endif
