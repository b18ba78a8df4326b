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
FAIL_SUMMARY=': nothing recorded$'
fail_once_whole nudge-event import ev.csv
fail_loop malloc whole_prep whole_check nudge-event import ev.csv
fail_report "event import, malloc"
fail_loop io whole_prep whole_check nudge-event import ev.csv
fail_report "event import, store I/O"
done_testing
