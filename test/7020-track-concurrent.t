#!/bin/sh
# Clicks and opens through lighttpd from 8 clients at once while a send
# writes its ledger and events to the same store: every request is
# answered 302/200 (no 500, no 503) and every one is in the store.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
# What is asserted is that no event is lost and no request fails while
# writers contend, not how long one waits: on a loaded machine (2 shared
# cores, sanitizers) the production wait of 2 s for the lock could run out.
export NUDGE_TRACK_BUSY_MS=20000
plan 7

export NUDGE_FILE_NOSYNC=1
seed
/usr/bin/python3 -c 'print("email")
for i in range(3000): print("c%d@example.com" % i)' >many.csv
ok "3000 contacts" nudge import-list --list many many.csv
track_setup
c=$(path_of "$(nudge track url click promo 1 https://shop.example/x)")
o=$(path_of "$(nudge track url open promo 1)")
printf 'Subject: hi\nFrom: shop@example.com\n\nhttps://shop.example/y\n' >t.txt

nudge segment -f ids 'list "many"' |
    nudge send -c blast -t t.txt --transport "file://$T/out" >send.out 2>send.err &
sendpid=$!
# 400 requests, 8 at a time
for i in $(seq 1 200); do echo "$c"; echo "$o"; done |
    xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' "$HTTPD_URL{}" >codes
wait "$sendpid"
is "the send finished" "$?" 0
is "it sent them all" "$(grep -c '	sent	' send.out)" 3000
is "every request was answered 302 or 200" "$(sort codes | uniq -c | sed 's/^ *//')" \
"200 200
200 302"
is "every click is in the store" \
    "$(sql "SELECT count(*) FROM events WHERE type = 'clicked'")" 200
is "every open too" "$(sql "SELECT count(*) FROM events WHERE type = 'opened'")" 200
is "and the send's events" "$(sql "SELECT count(*) FROM events WHERE type = 'sent'")" 3001
done_testing
