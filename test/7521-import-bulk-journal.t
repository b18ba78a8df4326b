#!/bin/sh
# import-list: the first import into an empty store runs with a rollback
# journal instead of the WAL (no page written twice) and puts the store back
# in WAL mode at the end.  Killed halfway, it leaves the store as it was,
# empty: the next open, a reader's too, rolls the journal back and returns to
# WAL, and a rerun stores what a clean import stores.  With another
# connection open on the store it cannot leave WAL and goes on in it,
# saying nothing.  Its memberships (540,000: two sorted runs moved to a
# temporary file, merged at the end with the rest) are those that writing
# each as its row comes gives.
. "$(dirname "$0")/lib.sh"
plan 16

printf 'default_country: IL\n' >config.yaml
printf 'email\n' >header.csv
awk 'BEGIN { print "email,phone,first_name,city,lists"
	for (i = 0; i < 300000; i++)
		printf "user%d@example.com,05%08d,User %d,City %d,l%d;l%d\n",
			i, i, i, i % 17, i % 3, i % 5 }' >big.csv

state() { sqlite3 "$1" "SELECT email, phone, first_name, attrs
	FROM contacts ORDER BY email;
	SELECT l.name, c.email FROM list_members m
	JOIN lists l ON l.id = m.list_id JOIN contacts c ON c.id = m.contact_id
	ORDER BY 1, 2"; }

# the reference: in WAL mode, each membership written as its row comes
NUDGE_IMPORT_WAL=1 NUDGE_IMPORT_MEMBERS_NOW=1 nudge import-list --config config.yaml --db wal.db \
	big.csv 2>wal.err
state wal.db >wal.state
nudge import-list --config config.yaml --db clean.db big.csv 2>clean.err
is "a clean import into an empty store" "$(cat clean.err)" \
	"nudge-import-list: big.csv: read 300000, inserted 300000, updated 0, unchanged 0, rejected 0; 540000 list memberships added"
state clean.db >clean.state
cmp_file "it stores what an import in WAL mode, memberships one by one, stores" \
	wal.state clean.state
is "the store is back in WAL mode" \
	"$(sqlite3 clean.db 'PRAGMA journal_mode')" wal

nudge import-list --config config.yaml header.csv 2>/dev/null # empty
nudge import-list --config config.yaml big.csv 2>/dev/null &
pid=$!
# kill it once it is well into the file: the store has grown past 2 MB
kill_past "$NUDGE_DB" 2000000 "$pid" 400
rc=$?
is "the import was killed (not finished)" "$rc" 137
ok "it left a rollback journal" test -f "$NUDGE_DB-journal"
exits "a reader opens the store after it" 0 nudge lists
is "and finds no lists" "$(wc -l <.out)" 2
ok "the journal is rolled back" test ! -f "$NUDGE_DB-journal"
is "the store is back in WAL mode" "$(sql 'PRAGMA journal_mode')" wal
is "the store is empty, as it was" \
	"$(sql 'SELECT count(*) FROM contacts; SELECT count(*) FROM list_members')" \
	"0
0"
is "the store is intact" "$(sql 'PRAGMA integrity_check')" ok
exits "a rerun completes" 0 nudge import-list --config config.yaml big.csv
state "$NUDGE_DB" >rerun.state
cmp_file "and stores what a clean import stores" clean.state rerun.state

# another connection holds held.db open: the import stays in WAL mode
nudge import-list --config config.yaml --db held.db header.csv 2>/dev/null
mkfifo fifo
/usr/bin/python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("SELECT count(*) FROM contacts").fetchall()
open("ready", "w").close()
sys.stdin.readline()
' held.db <fifo &
py=$!
exec 3>fifo
n=0
while [ ! -f ready ] && [ "$n" -lt 400 ]; do
	sleep 0.05
	n=$((n + 1))
done
nudge import-list --config config.yaml --db held.db big.csv 2>held.err
is "with another connection open it imports all the same" \
	"$(cat held.err)" "$(cat clean.err)"
ok "in WAL mode: the WAL holds the import" test -s held.db-wal
exec 3>&-
wait "$py"
state held.db >held.state
cmp_file "and stores what a clean import stores" clean.state held.state
done_testing
