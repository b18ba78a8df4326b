#!/bin/sh
# nudge track as a CGI program, one process per click under lighttpd:
# the store's write-ahead log stays short (it is checkpointed and
# truncated every 64 pages), because each process, the store's only
# connection, reads the whole log when it opens the store; every click is
# recorded, and a reader that holds a snapshot meanwhile neither blocks a
# click nor loses one.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
plan 6

seed
track_setup
c=$(path_of "$(nudge track url click promo 1 'https://shop.example/a')")
clicks() { sql "SELECT count(*) FROM events WHERE type = 'clicked'"; }
# the log's size in pages (4 KiB and a frame header each), or 0
wal_pages() {
	[ -f "$NUDGE_DB-wal" ] || { echo 0; return; }
	echo $(($(wc -c <"$NUDGE_DB-wal") / 4120))
}

i=0 max=0 codes=
while [ $i -lt 150 ]; do
	codes="$codes$(hit GET "$c")"
	n=$(wal_pages)
	[ "$n" -gt "$max" ] && max=$n
	i=$((i + 1))
done
is "150 clicks redirected" "$(echo "$codes" | sed 's/302//g')" ""
is "and recorded" "$(clicks)" 150
# a click writes some 4 pages: without the truncation the log held them
# all (600 pages), each click reading every one at its start
ok "the log never held much more than 64 pages (at most $max)" \
	test "$max" -le 80

# a reader holding a snapshot: the checkpoint copies what it can, the
# clicks go on and are recorded; the log is truncated once it is gone
rm -f "$T/reading"
/usr/bin/python3 -c '
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM events").fetchone()
open(sys.argv[2], "w").close()
while os.path.exists(sys.argv[2]):
    time.sleep(0.02)
c.execute("COMMIT")' "$NUDGE_DB" "$T/reading" &
reader=$!
until [ -f "$T/reading" ]; do sleep 0.02; done
i=0 codes=
while [ $i -lt 40 ]; do
	codes="$codes$(hit GET "$c")"
	i=$((i + 1))
done
rm -f "$T/reading"
wait $reader
is "with a reader: 40 more clicks redirected" "$(echo "$codes" | sed 's/302//g')" ""
i=0
while [ $i -lt 20 ]; do
	hit GET "$c" >/dev/null
	i=$((i + 1))
done
is "all recorded" "$(clicks)" 210
ok "the log is short again once the reader is gone ($(wal_pages) pages)" \
	test "$(wal_pages)" -le 80
