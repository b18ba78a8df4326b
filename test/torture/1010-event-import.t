#!/bin/sh
# torture: `nudge event import` of a small CSV (opens, a purchase, an
# unsubscribe that changes consent) with the N-th allocation failing, then
# the N-th write or sync of the store, for every N.  Besides fail.sh's
# checks for each N: the import is one transaction (a failing run leaves
# events, consent and campaigns as they were; a clean exit records them
# all) and a rerun without failures then records the file in full.
# on tmpfs when there is one: the loop fsyncs thousands of times
[ -w /dev/shm ] && TMPDIR=/dev/shm && export TMPDIR
. "$(dirname "$0")/../lib.sh"
. "$TESTDIR/torture/fail.sh"
plan 12

printf 'email,first_name\na@example.com,A\nb@example.com,B\n' >c.csv
nudge-import-list c.csv 2>/dev/null
cat >ev.csv <<'CSV'
contact,type,channel,campaign,step,at,note
a@example.com,opened,email,promo,1,2026-11-01T09:00:00Z,
b@example.com,purchase,web,,,2026-11-01T10:00:00Z,"order 17"
b@example.com,unsubscribed,email,,,2026-11-01T11:00:00Z,
CSV
state() {
	sqlite3 -batch "$NUDGE_DB" "SELECT contact_id, type, channel,
	    campaign_id, step, at, props FROM events ORDER BY id;
	    SELECT contact_id, channel, status, at FROM consent ORDER BY id;
	    SELECT id, name FROM campaigns ORDER BY id" 2>&1
}
cp "$NUDGE_DB" base.db
FAIL_BASE=base.db
before=$(state)
nudge-event import ev.csv 2>/dev/null
want=$(state)
prep() { rm -f "$NUDGE_DB"-*; cp base.db "$NUDGE_DB"; }
FAIL_SUMMARY=': nothing recorded$'
check() { # N RC
	[ "$FAIL_SAME" = 1 ] && [ "$2" != 0 ] && return # as it was: no rerun
	if [ "$2" = 0 ]; then
		[ "$(state)" = "$want" ] || fail_bad own "exit 0 but the store holds: $(state | tr '\n' ' ')"
		return
	fi
	[ "$(state)" = "$before" ] || fail_bad own "exit $2 but the store changed: $(state | tr '\n' ' ')"
	nudge-event import ev.csv >/dev/null 2>"$T/rerun.err" ||
		fail_bad own "the rerun failed: $(cat "$T/rerun.err")"
	[ "$(state)" = "$want" ] || fail_bad own "after the rerun: $(state | tr '\n' ' ')"
}
fail_loop malloc prep check nudge-event import ev.csv
fail_report "event import, malloc"
fail_loop io prep check nudge-event import ev.csv
fail_report "event import, store I/O"
done_testing
