#!/bin/sh
# trigger | send sends nothing twice: run again, replay the same lines, or
# run two pipelines at once — the ledger claim decides.
. "$(dirname "$0")/lib.sh"
plan 9
. "$TESTDIR/trigger/fixture.sh"

nudge trigger --now $DAY0 campaigns/*.yaml >due
is "20 steps are due" "$(wc -l <due)" 20
# two cron runs at once
( nudge trigger --now $DAY0 campaigns/*.yaml |
	nudge send --now $DAY0 --transport "file://$T/out" >a 2>/dev/null ) &
pa=$!
( nudge trigger --now $DAY0 campaigns/*.yaml |
	nudge send --now $DAY0 --transport "file://$T/out" >b 2>/dev/null ) &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
is "both pipelines succeed" "$ra $rb" "0 0"
is "between them every due step was sent exactly once" \
	"$(cat a b | grep -c '	sent	')" 20
is "the rest were duplicates, not sends" \
	"$(cat a b | grep -v '	sent	' | cut -f2 | sort -u)" \
	"$(cat a b | grep -qv '	sent	' && echo duplicate)"
is "20 messages in the outbox" "$(ls out/new | wc -l)" 20
is "20 ledger rows, all sent" \
	"$(sql "SELECT status, count(*) FROM messages GROUP BY 1")" "sent	20"
is "trigger again: nothing is due" \
	"$(nudge trigger --now $DAY0 campaigns/*.yaml)" ""
exits "replaying the old lines into send" 0 sh -c \
	"nudge send --now $DAY0 --transport file://$T/out <due"
is "sends nothing: every line is a duplicate" \
	"$(cut -f2 .out | sort | uniq -c | tr -s ' ') $(ls out/new | wc -l)" \
	" 20 duplicate 20"
done_testing
