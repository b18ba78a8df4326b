#!/bin/sh
# nudge track while another process holds the store's write lock longer
# than a request may wait (NUDGE_TRACK_BUSY_MS): every click redirects to
# its URL, the open pixel is served and a one-click unsubscribe is
# answered, at once; the events wait in the spool (STORE-spool) and go
# into the store exactly once when it is free: drained by the next track
# request (CGI or FastCGI), trigger or send, two drains at once or a
# drain killed after its commit recording nothing twice.  A trigger and a
# send that start after an unsubscribe was answered honour it.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
export NUDGE_TRACK_BUSY_MS=50 NUDGE_FILE_NOSYNC=1 HTTPD_FASTCGI=1
plan 38

seed
printf 'email\nann@example.com\nbob@example.com\n' >news.csv
ok "ann and bob are on the news list" nudge import-list --list news news.csv
track_setup
c=$(path_of "$(nudge track url click promo 1 'https://shop.example/a?b=1')")
o=$(path_of "$(nudge track url open promo 1)")
u1=$(path_of "$(nudge track url unsub promo 1)")
u2=$(path_of "$(nudge track url unsub promo 2)")
spool=$NUDGE_DB-spool
count() { sql "SELECT count(*) FROM events WHERE type = '$1'"; }
spooled() { ls "$spool" 2>/dev/null | grep -c '^e'; }
printf 'Subject: hi\nFrom: shop@example.com\n\nhello\n' >t.txt
printf 'name: later\naudience: list "news"\nsteps:\n  - {id: s1, channel: email, template: t.txt}\n' >later.yaml

# clicks N URL: N clicks, 8 at a time; prints "count status location"
clicks() {
	for i in $(seq 1 "$1"); do echo "$2"; done |
	    xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' "{}" |
	    sort | uniq -c | sed 's/^ *//'
}

# 1,000 clicks; under valgrind (a process a second) 100 tell as much
n=1000
wrapped && n=100
# the store's directory as a shared one would be: the spool gets its mode
chmod 2770 "$T"
store_lock
t0=$(date +%s)
is "$n clicks while the store is locked all redirect to the link" \
    "$(clicks $n "$HTTPD_URL$c")" "$n 302 https://shop.example/a?b=1"
t1=$(date +%s)
is "none is in the store yet" "$(count clicked)" 0
is "all are in the spool" "$(spooled)" $n
is "which has the mode of the store's directory" "$(stat -c %a "$spool")" 2770
is "the open pixel is served" "$(hit GET "$o")" 200
printf 'GIF89a\001\000\001\000\200\000\000\377\377\377\000\000\000!\371\004\001\000\000\000\000,\000\000\000\000\001\000\001\000\000\002\002D\001\000;' >"$T/want.gif"
cmp_file "the 43-byte GIF" "$T/want.gif" "$T/b"
is "a one-click unsubscribe is answered" "$(hit POST "$u1" \
    --data-raw 'List-Unsubscribe=One-Click')" 200
is "as usual" "$(cat "$T/b")" "unsubscribed"
like "the server log says where it went" "$(tail -n 1 "$T/lighttpd.out")" \
    "POST /u/.*: 200: spooled as $spool/e[0-9a-f]{16}-[0-9]+-0: $NUDGE_DB: begin: database is locked"
is "nothing of it is in the store" "$(sql 'SELECT count(*) FROM consent')" 0
store_unlock

is "a trigger that starts after the answer honours the unsubscribe" \
    "$(nudge trigger later.yaml | cut -f1-3)" "2	later	s1"
is "the spool is drained" "$(spooled)" 0
is "the store holds exactly $n clicks" "$(count clicked)" $n
is "on the message, with the link" \
    "$(sql "SELECT DISTINCT contact_id, channel, campaign_id, message_id, props ->> 'url' FROM events WHERE type = 'clicked'")" \
    "1	email	1	1	https://shop.example/a?b=1"
is "at the time of the request" \
    "$(sql "SELECT count(*) FROM events WHERE type = 'clicked' AND at BETWEEN $t0 AND $t1")" $n
is "the open" "$(count opened)" 1
is "the unsubscribe, with its source" \
    "$(sql 'SELECT contact_id, channel, status, source FROM consent_now')" \
    "1	email	unsubscribed	track:one-click"
like "each spooled event names its spool entry" \
    "$(sql "SELECT props FROM events WHERE type = 'opened'")" \
    '^\{"proxy":"none","spool":"e[0-9a-f]{16}-[0-9]+-[0-9]+"\}$'

store_lock
is "an unsubscribe by bob while locked" "$(hit POST "$u2" --data-raw 'confirm=yes')" 200
store_unlock
is "a send that starts after the answer honours it" \
    "$(echo 2 | nudge send -c later2 -t t.txt --transport "file://$T/out" 2>/dev/null | cut -f1,2)" \
    "2	skipped"
is "bob is unsubscribed" "$(sql 'SELECT count(*) FROM consent_now WHERE contact_id = 2')" 1

# Two drains at once, and a drain killed between its commit and the
# removal of its entries (the entries put back)
store_lock
is "100 more clicks while locked" "$(clicks 100 "$HTTPD_URL$c")" "100 302 https://shop.example/a?b=1"
store_unlock
cp -R "$spool" saved
nudge send -c d1 -t t.txt --transport "file://$T/out" </dev/null >/dev/null 2>&1 &
d1=$!
nudge trigger later.yaml >/dev/null 2>&1 &
d2=$!
wait "$d1" "$d2"
is "two drains at once record each click once" "$(count clicked)" $((n + 100))
cp saved/e* "$spool"/
nudge trigger later.yaml >/dev/null
is "entries a killed drain left after its commit are not recorded again" \
    "$(count clicked)" $((n + 100))
is "but removed" "$(spooled)" 0
store_lock
clicks 100 "$HTTPD_URL$c" >/dev/null
store_unlock
for i in 1 2 3 4 5 6; do
	nudge trigger later.yaml >/dev/null 2>&1 &
	p=$!
	sleep "0.0$i"
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
nudge trigger later.yaml >/dev/null
is "drains killed at any point lose and double nothing" "$(count clicked)" $((n + 200))

# FastCGI: the same, and each request that writes drains 100 entries
store_lock
is "clicks through FastCGI while locked redirect too" \
    "$(clicks 150 "$HTTPD_FURL$c")" "150 302 https://shop.example/a?b=1"
is "into the spool" "$(spooled)" 150
store_unlock
fclick() { curl -s -o /dev/null -w '%{http_code}' "$HTTPD_FURL$c"; }
is "the next click is recorded at once, and drains 100 of the spool" \
    "$(fclick) $(spooled)" "302 50"
is "the one after it the rest" "$(fclick) $(spooled)" "302 0"
is "the store holds every click" "$(count clicked)" $((n + 352))
# A migration another process runs holds the lock too: a request that
# finds the store older than itself does not wait its turn to migrate
# (the newest migration again: it must be safe to run on a store that
# has it, as the newest ones here are)
v=$(sql 'PRAGMA user_version')
sql "PRAGMA user_version = $((v - 1))"
store_lock
is "a click while another process migrates the store redirects at once" \
    "$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$HTTPD_URL$c" |
    awk -v slow="$SLOW" '{ print $1, ($2 < 2.5 * slow ? "fast" : "slow " $2) }')" "302 fast"
is "into the spool" "$(spooled)" 1
store_unlock
is "the next click migrates the store and drains the spool" \
    "$(hit GET "$c") $(sql 'PRAGMA user_version') $(spooled) $(count clicked)" \
    "302 $v 0 $((n + 354))"
# What is not a spool entry is put aside, not recorded, and stops nothing;
# a file a killed writer left half-written goes when it is an hour old
echo 'not an entry' >"$spool/e0000000000000000-1-0"
: >"$spool/.t-e0000000000000001-1-0"
touch -d '2 hours ago' "$spool/.t-e0000000000000001-1-0"
: >"$spool/.t-e0000000000000002-1-0"
ok "a trigger with a bad entry in the spool runs" nudge trigger later.yaml
is "the bad entry is renamed, the old half-written file removed" \
    "$(ls -A "$spool" | sort)" ".bad-e0000000000000000-1-0
.t-e0000000000000002-1-0"
is "no request lost its event" "$(grep -c 'not recorded\|internal error' "$T/lighttpd.out")" 0
done_testing
