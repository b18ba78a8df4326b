#!/bin/sh
# nudge track as the CGI program the Makefile builds for speed: linked
# statically when lib/link-static names it (STATIC_CMDS), dynamically
# otherwise; either way it answers clicks and opens through lighttpd and
# records them on their ledger row.  A click commits without flushing
# (synchronous=NORMAL in WAL mode, as nudge-track(1) says): no fsync until
# the log crosses 64 pages, when the checkpoint flushes it and the
# database and truncates the log.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
plan 10

seed
track_setup
bin=$TOP/nudge-track

# the link the stamp asks for is the link made
if command -v readelf >/dev/null; then
	if grep -qw nudge-track "$TOP/lib/link-static" 2>/dev/null; then
		ok "linked statically, as lib/link-static says" \
		    sh -c "! readelf -l '$bin' | grep -q INTERP"
		ok "and position-independent (the kernel places it at random)" \
		    sh -c "readelf -h '$bin' | grep -q 'DYN'"
	else
		ok "linked dynamically, as lib/link-static says" \
		    sh -c "readelf -l '$bin' | grep -q INTERP"
		ok "with SQLite as a shared library" \
		    sh -c "ldd '$bin' | grep -q libsqlite3"
	fi
else
	_result 0 "the link # SKIP readelf (binutils) is not installed"
	_result 0 "the link # SKIP readelf (binutils) is not installed"
fi

c=$(path_of "$(nudge track url click promo 1 'https://shop.example/x?a=1')")
o=$(path_of "$(nudge track url open promo 1)")
codes=
i=0
while [ $i -lt 20 ]; do
	codes="$codes$(hit GET "$c")"
	i=$((i + 1))
done
is "20 clicks through lighttpd answered 302" "$(echo "$codes" | sed 's/302//g')" ""
is "to the link" "$(grep '^Location' "$T/h")" "Location: https://shop.example/x?a=1"
is "all recorded on the message's ledger row and campaign" \
    "$(sql "SELECT count(*), min(message_id), max(message_id), min(campaign_id),
    max(campaign_id), min(props) FROM events WHERE type = 'clicked'")" \
    '20	1	1	1	1	{"url":"https://shop.example/x?a=1"}'
is "an open answers the pixel" "$(hit GET "$o")" 200
is "and is recorded" \
    "$(sql "SELECT message_id, campaign_id FROM events WHERE type = 'opened'")" \
    "1	1"
is "nothing spooled" "$(ls "$NUDGE_DB-spool" 2>/dev/null | wc -l)" 0

# one click run by hand, as the web server runs it, under strace
click() {
	GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET PATH_INFO=$c \
	    QUERY_STRING= REMOTE_ADDR=127.0.0.1 "$@" >/dev/null 2>>log
}
syncs() { grep -c 'fsync\|fdatasync' "$T/st" || :; }
if ! command -v strace >/dev/null; then
	_result 0 "the syncs # SKIP strace is not installed"
	_result 0 "the syncs # SKIP strace is not installed"
elif wrapped; then
	skip_wrapped "a click commits without an fsync"
	skip_wrapped "the checkpoint at 64 pages flushes and truncates the log"
else
	# from a short log (the first commit to an empty one syncs its
	# header): clicks of some 6 pages each stay below 64
	sqlite3 "$NUDGE_DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	click "$bin"
	click strace -f -o "$T/st" -e trace=fsync,fdatasync "$bin"
	is "a click commits without an fsync (synchronous=NORMAL)" "$(syncs)" 0
	i=0
	while [ "$(stat -c %s "$NUDGE_DB-wal")" -gt 0 ] && [ $i -lt 30 ]; do
		click strace -f -o "$T/st" -e trace=fsync,fdatasync "$bin"
		i=$((i + 1))
	done
	ok "the click whose log crossed 64 pages flushed it and truncated it ($(syncs) syncs after $i clicks)" \
	    test "$(syncs)" -ge 2 -a "$(stat -c %s "$NUDGE_DB-wal")" = 0
fi
