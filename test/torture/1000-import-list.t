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
FAIL_SUMMARY=': nothing imported$'
fail_once_whole nudge-import-list c.csv
fail_loop malloc whole_prep whole_check nudge-import-list c.csv
fail_report "import-list, malloc"
fail_loop io whole_prep whole_check nudge-import-list c.csv
fail_report "import-list, store I/O"
done_testing
