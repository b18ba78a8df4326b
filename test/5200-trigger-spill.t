#!/bin/sh
# trigger keeps a bounded number of due steps of each campaign in memory
# and puts the rest in a temporary file until the campaign's turn to
# print (NUDGE_TRIGGER_SPILL_AT, a test knob, makes the bound small): the
# output is the same, in the same order, with one thread or several; a
# temporary file that cannot be made is an error naming it.
. "$(dirname "$0")/lib.sh"
plan 7
. "$TESTDIR/trigger/fixture.sh"

nudge trigger --now $DAY0 -j 1 campaigns/*.yaml >mem
is "20 steps are due" "$(wc -l <mem)" 20
NUDGE_TRIGGER_SPILL_AT=3 nudge trigger --now $DAY0 -j 1 \
	campaigns/*.yaml >spill1
cmp_file "spilled past 3 steps, one thread: the same lines in the same order" \
	spill1 mem
NUDGE_TRIGGER_SPILL_AT=2 nudge trigger --now $DAY0 -j 4 \
	campaigns/*.yaml >spill4
cmp_file "spilled past 2 steps, four threads: the same lines" spill4 mem
NUDGE_TRIGGER_SPILL_AT=1 nudge trigger --now $DAY0 -j 2 \
	campaigns/*.yaml >spill2
cmp_file "spilled at every step: the same lines" spill2 mem
TMPDIR=$T/nowhere NUDGE_TRIGGER_SPILL_AT=2 nudge trigger --now $DAY0 \
	campaigns/*.yaml >out 2>err
is "no temporary file: exit 73 (EX_CANTCREAT)" "$?" 73
like "the error names the file it could not make" "$(cat err)" \
	"$T/nowhere/nudge-trigger\.......: No such file"
head -n "$(wc -l <out)" mem >head
cmp_file "what it printed is the campaigns before, whole, as a run stopped by any campaign's error" \
	out head
done_testing
