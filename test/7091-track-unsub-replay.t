#!/bin/sh
# Replaying an unsubscribe (RFC 8058 one-click POST, or the page's
# button) with the same token records nothing new and answers the same:
# one after another, eight at once, and through the spool.  A subscribe
# since makes the same link unsubscribe again; another message's link
# records its own unsubscribe.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
export NUDGE_TRACK_BUSY_MS=50
plan 16

seed
track_setup
u=$(path_of "$(nudge track url unsub promo 1)")
u2=$(path_of "$(nudge track url --step s2 unsub promo 1)")
rows() {
	echo "$(sql "SELECT count(*) FROM events WHERE type = 'unsubscribed'") $(sql 'SELECT count(*) FROM consent')"
}
oneclick() { hit POST "$1" --data-raw 'List-Unsubscribe=One-Click'; }

is "a one-click unsubscribe answers 200" "$(oneclick "$u")" 200
cp "$T/b" first.b
is "records an event and a consent row" "$(rows)" "1 1"
is "the same POST again answers the same" "$(oneclick "$u")" 200
cmp_file "with the same body" first.b "$T/b"
is "and records nothing new" "$(rows)" "1 1"
is "the page's button with the same token answers 200" \
    "$(hit POST "$u" --data-raw 'confirm=yes')" 200
like "with its page" "$(cat "$T/b")" '<h1>Unsubscribed</h1>'
is "and records nothing new" "$(rows)" "1 1"
for i in 1 2 3 4 5 6 7 8; do echo "$HTTPD_URL$u"; done |
    xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    --data-raw 'List-Unsubscribe=One-Click' "{}" >codes
is "eight replays at once all answer 200" "$(sort codes | uniq -c | sed 's/^ *//')" "8 200"
is "and record nothing new" "$(rows)" "1 1"

# Replays that wait in the spool while the store is locked (after a
# drain of what a slow machine may have spooled of the eight)
drain() {
	nudge send -c other -t "$TESTDIR/track/promo.txt" \
	    --transport "file://$T/out" </dev/null >/dev/null 2>&1
}
drain
mkfifo "$T/lockin"
sqlite3 "$NUDGE_DB" <"$T/lockin" >"$T/lockout" 2>&1 &
lockpid=$!
CLEANUP_PIDS="$CLEANUP_PIDS $lockpid"
exec 3>"$T/lockin"
echo "BEGIN IMMEDIATE; SELECT 'locked';" >&3
while ! grep -q locked "$T/lockout" 2>/dev/null; do sleep 0.05; done
codes=$(oneclick "$u"; echo; oneclick "$u")
echo "ROLLBACK;" >&3
exec 3>&-
wait "$lockpid"
is "two replays into the spool answer 200" "$codes $(ls "$NUDGE_DB-spool" | grep -c '^e')" "200
200 2"
drain
is "a send drains them" "$(ls "$NUDGE_DB-spool" | grep -c '^e')" 0
is "and they record nothing new" "$(rows)" "1 1"

nudge event add --contact 1 --type subscribed --channel email >/dev/null
is "after a subscribe, the same link unsubscribes again" "$(oneclick "$u"; echo; rows)" "200
2 3"
oneclick "$u2" >/dev/null
is "another message's link records its own unsubscribe" "$(rows)" "3 4"
is "each on its step" \
    "$(sql "SELECT coalesce(step, '-'), count(*) FROM events WHERE type = 'unsubscribed' GROUP BY 1")" \
    "-	2
s2	1"
done_testing
