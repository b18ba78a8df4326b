#!/bin/sh
# An import's batch is one transaction: a fatal error or a kill -9 before
# the first commit, an import from a pipe (one batch) or a dry run leave
# the store as it was (a large file killed mid-way, and its rerun: test
# 3020); a locked store is exit 75.
. "$(dirname "$0")/lib.sh"
plan 10

: >empty.csv
nudge event import --create empty.csv 2>/dev/null
sql "INSERT INTO contacts (email, created_at, updated_at) VALUES
	('a@example.com', 0, 0)"
nudge event add --contact 1 --type signup --at 2026-01-01 >/dev/null
sqlite3 "$NUDGE_DB" .dump >before.sql

# A quote left open at the end is fatal: the good rows before it go too.
{
	echo 'contact,type,campaign'
	echo '1,sent,c1'
	echo 'new@example.com,unsubscribed,c2'
	echo '1,opened,"open'
} >fatal.csv
exits "a fatal error late in the file is 65" 65 nudge event import --create \
	fatal.csv
is "it says so" "$(cat .err)" \
'nudge-event: fatal.csv:4: a quoted field is not closed at the end of the file
nudge-event: fatal.csv: nothing recorded'
sqlite3 "$NUDGE_DB" .dump >after.sql
cmp_file "the store is unchanged: no event, campaign, contact or consent" \
	before.sql after.sql

# kill -9 while the importer holds an open transaction: it has read rows
# from a pipe that is still open, so it is certainly in the middle.  The
# pipe is opened read-write so that nothing blocks if the importer fails,
# and what is written fits in its buffer.
mkfifo fifo
nudge event import --create fifo 2>/dev/null &
pid=$!
exec 3<>fifo
i=0
while [ $i -lt 500 ]; do
	[ $i = 0 ] && echo 'contact,type,channel,campaign'
	echo "u$i@example.com,unsubscribed,,c$((i % 7))"
	i=$((i + 1))
done >&3
sleep 1
kill -9 $pid
wait $pid 2>/dev/null
exec 3>&-
sqlite3 "$NUDGE_DB" .dump >after.sql
cmp_file "kill -9 mid-import (pipe) leaves the store unchanged" \
	before.sql after.sql

# --dry-run of good rows
printf 'contact,type\n1,opened\n1,clicked\n' >good.csv
ok "a dry run of good rows exits 0" nudge event import --dry-run good.csv
is "it counts" "$(cat .err)" \
	"nudge-event: good.csv: read 2, recorded 2, rejected 0 (dry run: nothing stored)"
sqlite3 "$NUDGE_DB" .dump >after.sql
cmp_file "and stores nothing" before.sql after.sql

# Another writer holds the lock past the 5 s busy timeout: exit 75.
store_lock
exits "a locked store is 75 for import" 75 nudge event import good.csv
like "it says locked" "$(head -n 1 .err)" 'database is locked'
exits "and for add" 75 nudge event add --contact 1 --type opened
store_unlock
done_testing
