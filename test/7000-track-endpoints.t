#!/bin/sh
# nudge track under a real lighttpd (mod_cgi): the open pixel, clicks,
# the unsubscribe page and RFC 8058 one-click, bad and expired tokens,
# open-redirect attempts, wrong methods and a locked store.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
export NUDGE_TRACK_BUSY_MS=200
plan 50

seed
track_setup

# The open pixel
o=$(path_of "$(nudge track url open promo 1)")
like "an open URL is base/o/TOKEN" "$o" '^/o/[A-Za-z0-9_-]{20,40}$'
is "GET /o/ answers 200" "$(hit GET "$o" -A 'Mozilla/5.0 (X11; Linux) Thunderbird/115')" 200
is "with a GIF and no-cache headers" "$(cat "$T/h")" \
"HTTP/1.1 200 OK
Content-Type: image/gif
Content-Length: 43
Cache-Control: no-cache, no-store, must-revalidate, max-age=0
Pragma: no-cache
Expires: 0
Accept-Ranges: bytes"
printf 'GIF89a\001\000\001\000\200\000\000\377\377\377\000\000\000!\371\004\001\000\000\000\000,\000\000\000\000\001\000\001\000\000\002\002D\001\000;' >"$T/want.gif"
cmp_file "the body is the 43-byte transparent GIF" "$T/want.gif" "$T/b"
is "records opened, on the message's ledger row" \
    "$(sql "SELECT contact_id, type, channel, campaign_id, quote(step),
    message_id, quote(props) FROM events WHERE id = 3")" \
    "1	opened	email	1	NULL	1	'{\"proxy\":\"none\"}'"
hit GET "$o" -A 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)' >/dev/null
hit GET "$o" -A 'Mozilla/5.0' >/dev/null
is "Gmail's and Apple's proxies are flagged in props" \
    "$(sql "SELECT props FROM events WHERE id > 3")" \
'{"proxy":"google"}
{"proxy":"apple"}'
hit GET "$o" >/dev/null
is "a repeated open is recorded again" "$(sql "SELECT count(*) FROM events WHERE type = 'opened'")" 4
is "report counts the message opened once" \
    "$(nudge report -f tsv | cut -f1,3,6)" "promo	1	1"

# Clicks
c=$(path_of "$(nudge track url click promo 1 'https://shop.example/sale?a=1&b=%20x')")
is "GET /c/ answers 302" "$(hit GET "$c")" 302
is "to the URL sealed in the token" "$(grep '^Location' "$T/h")" \
    "Location: https://shop.example/sale?a=1&b=%20x"
is "records clicked with the link" \
    "$(sql "SELECT type, message_id, props FROM events ORDER BY id DESC LIMIT 1")" \
    'clicked	1	{"url":"https://shop.example/sale?a=1&b=%20x"}'
n=$(events)
is "a URL in the query string is ignored" \
    "$(hit GET "$c?url=https://evil.example/&next=https://evil.example/"; echo; grep '^Location' "$T/h")" \
    "302
Location: https://shop.example/sale?a=1&b=%20x"
is "a URL in the path is not found" "$(hit GET "/c/https://evil.example/")" 404
is "nor a URL after the token" "$(hit GET "$c/https://evil.example/")" 404
is "an open token is no click token" "$(hit GET "/c/${o#/o/}")" 404
is "nor an unsubscribe token" \
    "$(hit GET "/c/$(path_of "$(nudge track url unsub promo 1)" | sed 's|^/u/||')")" 404
is "and no Location comes with a 404" "$(grep -c '^Location' "$T/h")" 0
is "a sealed javascript: URL is no redirect either" \
    "$(hit GET "$(path_of "$(nudge track url click promo 1 'javascript:alert(1)')")")" 404

# Bad tokens: 404, nothing recorded
tok=${c#/c/}
n=$(events)
flip=$(printf '%s' "$tok" | sed 's/^\(..........\)\(.\)/\1X/')
[ "$flip" = "$tok" ] && flip=$(printf '%s' "$tok" | sed 's/^\(..........\)\(.\)/\1Y/')
is "a forged token is 404" "$(hit GET "/c/$flip")" 404
is "with a short body" "$(cat "$T/b")" "not found"
is "a truncated token is 404" "$(hit GET "/c/$(printf '%s' "$tok" | cut -c1-40)")" 404
is "a token with a byte added is 404" "$(hit GET "/c/${tok}A")" 404
is "a token signed with another secret is 404" \
    "$(hit GET "$(path_of "$(NUDGE_TRACK_SECRET=other nudge track url click promo 1 https://evil.example/)")")" 404
old=$(path_of "$(nudge track url --now 2020-01-01T00:00:00Z click promo 1 https://shop.example/)")
is "an expired click token is 404" "$(hit GET "$old")" 404
oldo=$(path_of "$(nudge track url --now 2020-01-01T00:00:00Z open promo 1)")
is "an expired open token is 404" "$(hit GET "$oldo")" 404
is "an empty token is 404" "$(hit GET "/o/")" 404
is "an unknown path is 404" "$(hit GET "/x/$tok")" 404
is "nothing was recorded for any of them" "$(events)" "$n"
is "POST /c/ is 405" "$(hit POST "$c" --data x=y)" 405

# Unsubscribe
u=$(path_of "$(nudge track url unsub promo 1)")
is "GET /u/ answers 200" "$(hit GET "$u")" 200
like "with a page that asks to confirm" "$(cat "$T/b")" \
    '<form method="post"><input type="hidden" name="confirm" value="yes"><button type="submit">Unsubscribe</button></form>'
is "and unsubscribes nobody" "$(sql 'SELECT count(*) FROM consent')" 0
# RFC 8058 section 3.2, as Gmail sends it
is "the one-click POST answers 200" "$(hit POST "$u" \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    -A 'Mozilla/5.0 (compatible; Google-List-Unsubscribe)' \
    --data-raw 'List-Unsubscribe=One-Click')" 200
is "with a short body and no page" "$(cat "$T/b")" "unsubscribed"
is "the contact is unsubscribed from email, at once" \
    "$(sql 'SELECT contact_id, channel, status, source FROM consent_now')" \
    "1	email	unsubscribed	track:one-click"
is "an unsubscribed event on the message" \
    "$(sql "SELECT type, channel, message_id FROM events ORDER BY id DESC LIMIT 1")" \
    "unsubscribed	email	1"
is "one-click as multipart/form-data works too" "$(hit POST "$u" \
    -F 'List-Unsubscribe=One-Click')" 200
# another message's link: the same one's would be a replay (7091)
is "the confirm button's POST answers 200" \
    "$(hit POST "$(path_of "$(nudge track url --step s2 unsub promo 1)")" \
    --data-raw 'confirm=yes')" 200
like "with a page" "$(cat "$T/b")" '<h1>Unsubscribed</h1>'
is "from the page" "$(sql 'SELECT source FROM consent ORDER BY id DESC LIMIT 1')" \
    "track:page"
n=$(events)
is "a POST with another body is 400" "$(hit POST "$u" --data-raw 'List-Unsubscribe=Yes')" 400
is "an empty POST is 400" "$(hit POST "$u" --data-raw '')" 400
is "and records nothing" "$(events)" "$n"
is "a forged unsubscribe token is 404" "$(hit POST "/u/${flip}" \
    --data-raw 'List-Unsubscribe=One-Click')" 404

# A locked store: the click redirects all the same and waits in the
# spool, which the next request that writes drains (7090)
mkfifo "$T/lockin"
sqlite3 "$NUDGE_DB" <"$T/lockin" >"$T/lockout" 2>&1 &
lockpid=$!
CLEANUP_PIDS="$CLEANUP_PIDS $lockpid"
exec 3>"$T/lockin"
echo "BEGIN IMMEDIATE; INSERT INTO lists (name, created_at) VALUES ('x', 0); SELECT 'locked';" >&3
while ! grep -q locked "$T/lockout" 2>/dev/null; do sleep 0.05; done
n=$(sqlite3 "$NUDGE_DB" 'SELECT count(*) FROM events')
is "a click while the store is locked is 302" "$(hit GET "$c")" 302
is "to the link" "$(grep '^Location' "$T/h")" "Location: https://shop.example/sale?a=1&b=%20x"
is "into the spool" "$(ls "$NUDGE_DB-spool" | grep -c '^e')" 1
echo "ROLLBACK;" >&3
exec 3>&-
wait "$lockpid"
is "nothing was recorded yet" "$(events)" "$n"
is "once free, the click goes through" "$(hit GET "$c")" 302
is "with the one spooled" "$(events)" "$((n + 2))"
done_testing
