#!/bin/sh
# import-list: one transaction. A kill -9 halfway, a fatal error late in
# the file and --dry-run all leave the store exactly as it was.
. "$(dirname "$0")/lib.sh"
plan 10

printf 'email,first_name\nkeep@example.com,Keep\n' >seed.csv
ok "seed the store" nudge import-list seed.csv
sql '.dump' >before

awk 'BEGIN { print "email,first_name,lists"
	for (i = 0; i < 400000; i++) printf "user%d@example.com,User %d,big\n", i, i }' >big.csv
nudge import-list big.csv 2>/dev/null &
pid=$!
# kill it once it is well into the file: the WAL has grown past 1 MB
kill_past "$NUDGE_DB-wal" 1000000 "$pid"
rc=$?
is "the import was killed (not finished)" "$rc" 137
is "the store is intact" "$(sql 'PRAGMA integrity_check')" ok
sql '.dump' >after
cmp_file "after kill -9: nothing of the import is in the store" before after

{ head -n 1000 big.csv; printf 'late@example.com,"no closing quote\n'; } >fatal.csv
exits "an unreadable record late in the file is fatal" 65 \
	nudge import-list fatal.csv
is "it says where, and that nothing was imported" "$(cat .err)" \
"nudge-import-list: fatal.csv:1001: a quoted field is not closed at the end of the file
nudge-import-list: fatal.csv: nothing imported"
sql '.dump' >after2
cmp_file "after a fatal error: store unchanged" before after2

head -n 101 big.csv >small.csv
exits "--dry-run validates and counts" 0 nudge import-list --dry-run small.csv
is "its summary says so" "$(cat .err)" \
"nudge-import-list: small.csv: read 100, inserted 100, updated 0, unchanged 0, rejected 0; 100 list memberships added (dry run: nothing written)"
sql '.dump' >after3
cmp_file "after --dry-run: store unchanged" before after3
done_testing
