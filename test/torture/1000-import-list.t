#!/bin/sh
# torture: `nudge import-list` of a small CSV (two new contacts, one
# updated, lists) into a store, with the N-th allocation failing, then the
# N-th write or sync of the store, for every N.  Besides fail.sh's checks
# for each N: the import is all or nothing (a failing run leaves the store
# as it was, a clean exit leaves it all imported) and a rerun without
# failures then imports the file in full.
# on tmpfs when there is one: the loop fsyncs thousands of times
[ -w /dev/shm ] && TMPDIR=/dev/shm && export TMPDIR
. "$(dirname "$0")/../lib.sh"
. "$TESTDIR/torture/fail.sh"
plan 12

cat >c.csv <<'CSV'
email,first_name,city,lists
dana@example.com,Dana,Tel Aviv,news;vip
moshe@example.com,Moshe,,news
olga@example.org,Olga,Haifa,
CSV
state() {
	sqlite3 -batch "$NUDGE_DB" "SELECT email, first_name, attrs FROM contacts
	    ORDER BY email; SELECT l.name, c.email FROM list_members m
	    JOIN lists l ON l.id = m.list_id JOIN contacts c ON c.id = m.contact_id
	    ORDER BY 1, 2" 2>&1
}
printf 'email,first_name,lists\nmoshe@example.com,Moses,old\n' >old.csv
nudge-import-list old.csv 2>/dev/null
cp "$NUDGE_DB" base.db
FAIL_BASE=base.db
before=$(state)
nudge-import-list c.csv 2>/dev/null
want=$(state)
prep() { rm -f "$NUDGE_DB"-*; cp base.db "$NUDGE_DB"; }
FAIL_SUMMARY=': nothing imported$'
check() { # N RC
	[ "$FAIL_SAME" = 1 ] && [ "$2" != 0 ] && return # as it was: no rerun
	if [ "$2" = 0 ]; then
		[ "$(state)" = "$want" ] || fail_bad own "exit 0 but the store holds: $(state | tr '\n' ' ')"
		return
	fi
	[ "$(state)" = "$before" ] || fail_bad own "exit $2 but the store changed: $(state | tr '\n' ' ')"
	nudge-import-list c.csv >/dev/null 2>"$T/rerun.err" ||
		fail_bad own "the rerun failed: $(cat "$T/rerun.err")"
	[ "$(state)" = "$want" ] || fail_bad own "after the rerun: $(state | tr '\n' ' ')"
}
fail_loop malloc prep check nudge-import-list c.csv
fail_report "import-list, malloc"
fail_loop io prep check nudge-import-list c.csv
fail_report "import-list, store I/O"
done_testing
