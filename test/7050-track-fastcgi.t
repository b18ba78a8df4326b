#!/bin/sh
# nudge track as a FastCGI server under lighttpd (mod_fastcgi starts two
# of them once): the same answers as the CGI program, many requests on
# one process, a store kept open, and concurrent clicks with none lost.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
# What is asserted is that no event is lost and no request fails while
# writers contend, not how long one waits: on a loaded machine (2 shared
# cores, sanitizers) the production wait of 2 s for the lock could run out.
export NUDGE_TRACK_BUSY_MS=20000
export HTTPD_FASTCGI=1
plan 13

seed
track_setup
fpath() { printf '%s\n' "${1#"$HTTPD_URL"}"; }
fhit() { _m=$1 _p=$2; shift 2; HTTPD_URL=$HTTPD_FURL hit "$_m" "$_p" "$@"; }

c=$(fpath "$(nudge track url click promo 1 'https://shop.example/a?b=1')")
o=$(fpath "$(nudge track url open promo 1)")
u=$(fpath "$(nudge track url unsub promo 1)")
is "a click through FastCGI is 302" "$(fhit GET "$c?url=https://evil.example/")" 302
is "to the sealed URL" "$(grep '^Location' "$T/h")" "Location: https://shop.example/a?b=1"
is "the open pixel" "$(fhit GET "$o")" 200
printf 'GIF89a\001\000\001\000\200\000\000\377\377\377\000\000\000!\371\004\001\000\000\000\000,\000\000\000\000\001\000\001\000\000\002\002D\001\000;' >"$T/want.gif"
cmp_file "is the GIF" "$T/want.gif" "$T/b"
is "its headers" "$(cat "$T/h")" \
"HTTP/1.1 200 OK
Content-Type: image/gif
Content-Length: 43
Cache-Control: no-cache, no-store, must-revalidate, max-age=0
Pragma: no-cache
Expires: 0
Accept-Ranges: bytes"
n=$(events)
is "a forged token is 404" "$(fhit GET "/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")" 404
is "and records nothing" "$(events)" "$n"
is "one-click unsubscribe" "$(fhit POST "$u" \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-raw 'List-Unsubscribe=One-Click')" 200
is "lands in consent" "$(sql 'SELECT status, source FROM consent_now')" \
    "unsubscribed	track:one-click"
is "a big body is 413" "$(head -c 1100000 /dev/zero | tr '\0' a |
    fhit POST "$u" --data-binary @-)" 413
for i in $(seq 1 300); do echo "$c"; done |
    xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' "$HTTPD_FURL{}" >codes
is "300 clicks from 8 clients are all 302" "$(sort codes | uniq -c | sed 's/^ *//')" "300 302"
is "and all in the store" "$(sql "SELECT count(*) FROM events WHERE type = 'clicked'")" 301
if wrapped; then
	skip_wrapped "answered by two processes, not one per request"
else
	is "answered by two processes, not one per request" \
	    "$(pgrep -f "^$TOP/nudge-track" -P "$(cat "$T/lighttpd.pid")" | wc -l)" 2
fi
done_testing
