#!/bin/sh
# The whole loop: send (file transport) rewrites links, adds the pixel and
# List-Unsubscribe; the open, a click and a one-click unsubscribe go
# through lighttpd into the store; segment and report see them.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
plan 21

export NUDGE_FILE_NOSYNC=1
printf 'email,first_name\nann@example.com,Ann\nbob@example.com,Bob\n' >c.csv
ok "contacts" nudge import-list --list news c.csv
track_setup
# The links say https://t.example.com/t (List-Unsubscribe-Post needs
# https); lighttpd serves the same paths at $HTTPD_URL.
printf 'tracking:\n  base_url: https://t.example.com/t/\n  secret_env: NUDGE_TRACK_SECRET\n' \
    >"$NUDGE_CONFIG"
ok "send" sh -c "echo 1 | nudge send -c promo -t '$TESTDIR/track/promo.txt' \
    --transport file://$T/out"
f=$(ls "$T"/out/new/*)
is "links are tracked, the pixel added, List-Unsubscribe points at /u/" \
    "$(/usr/bin/python3 "$TESTDIR/track/show.py" $f)" \
"List-Unsubscribe: <mailto:shop@example.com?subject=unsubscribe>, <https://t.example.com/t/u/TOKEN>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
--- text/plain
Sale: https://t.example.com/t/c/TOKEN. Our terms (https://t.example.com/t/c/TOKEN)
mail help@example.com, unsubscribe: https://t.example.com/t/u/TOKEN
--- text/html
<html><body>
<p><a href=\"https://t.example.com/t/c/TOKEN\">Sale</a>
<a class=\"btn\" href=\"https://shop.example/plain\">plain</a>
<a href=\"mailto:help@example.com\">mail</a>
<a href='#top'>top</a>
<!-- <a href=\"https://shop.example/commented\">x</a> -->
<a href=\"https://t.example.com/t/u/TOKEN\">Unsubscribe</a></p>
<img src=\"https://t.example.com/t/o/TOKEN\" width=\"1\" height=\"1\" alt=\"\" style=\"border:0;width:1px;height:1px\"></body></html>"

/usr/bin/python3 - "$f" >links <<'PY'
import email, re, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
html = m.get_body(("html",)).get_content()
for k in "ocu":
    print(re.search(r"https://t\.example\.com/t(/%s/[A-Za-z0-9_-]+)" % k, html).group(1))
PY
o=$(sed -n 1p links) c=$(sed -n 2p links) u=$(sed -n 3p links)
is "the open pixel through lighttpd" "$(hit GET "$o")" 200
is "the click through lighttpd" "$(hit GET "$c")" 302
is "goes where the HTML said, references decoded" "$(grep ^Location "$T/h")" \
    "Location: https://shop.example/sale?x=1&y=2"
is "the click is in the store, on the message's ledger row" \
    "$(sql "SELECT e.type, e.channel, c.name, e.message_id = m.id, e.props
    FROM events e JOIN campaigns c ON c.id = e.campaign_id
    JOIN messages m ON m.contact_id = e.contact_id
    WHERE e.type = 'clicked'")" \
    'clicked	email	promo	1	{"url":"https://shop.example/sale?x=1&y=2"}'
is "segment finds who clicked" "$(nudge segment -f ids 'clicked campaign "promo"')" 1
is "and who has not" "$(nudge segment -f ids 'list "news" and not clicked campaign "promo"')" 2
lu=$(/usr/bin/python3 -c 'import email, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
print(re.search(r"<https://t\.example\.com/t(/u/[^>]+)>", m["List-Unsubscribe"]).group(1))' "$f")
is "List-Unsubscribe and the unsubscribe link are one token" "$lu" "$u"
is "one-click unsubscribe through lighttpd" "$(hit POST "$lu" \
    -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-raw 'List-Unsubscribe=One-Click')" 200
is "report shows the whole loop" "$(nudge report -f tsv | cut -f1,3-10)" \
    "promo	1	0	0	1	100.0	1	100.0	1"
is "and the next send skips the unsubscribed contact" \
    "$(echo 1 | nudge send -c promo2 -t "$TESTDIR/track/promo.txt" \
    --transport file://$T/out 2>/dev/null | cut -f2)" "skipped"

# X-Nudge-Track: no
ok "send a template that says X-Nudge-Track: no" sh -c "echo 2 |
    nudge send -c receipt -t '$TESTDIR/track/notrack.txt' --transport file://$T/out2"
is "its links are as written, no pixel; unsubscribe still works" \
    "$(/usr/bin/python3 "$TESTDIR/track/show.py" "$T"/out2/new/*)" \
"List-Unsubscribe: <mailto:shop@example.com?subject=unsubscribe>, <https://t.example.com/t/u/TOKEN>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
--- text/plain
Your receipt: https://shop.example/r/1
Unsubscribe: https://t.example.com/t/u/TOKEN
--- text/html
<p><a href=\"https://shop.example/r/1\">receipt</a></p>"

# No tracking in the config: nothing rewritten, unsubscribe_url missing
: >"$NUDGE_CONFIG"
exits "send with no tracking configured: every contact skipped, 65" 65 sh -c "printf '2\n' |
    nudge send -c plain -t '$TESTDIR/track/notrack.txt' --transport file://$T/out3 >out3.txt"
is "a template that needs {{unsubscribe_url}} skips the contact then" \
    "$(cut -f2,3 out3.txt)" 'skipped	no value for field "unsubscribe_url" and no default'
printf 'Subject: s\nFrom: shop@example.com\n\nhttps://shop.example/x\n' >plain.txt
ok "send a plain template" sh -c "echo 2 | nudge send -c plain -t plain.txt --transport file://$T/out4"
is "its link is untouched and List-Unsubscribe is mailto only" \
    "$(/usr/bin/python3 "$TESTDIR/track/show.py" "$T"/out4/new/*)" \
"List-Unsubscribe: <mailto:shop@example.com?subject=unsubscribe>
--- text/plain
https://shop.example/x"
printf 'tracking:\n  base_url: https://t.example.com/\n' >"$NUDGE_CONFIG"
exits "a tracking base_url without a secret is a usage error" 64 sh -c \
    "echo 2 | nudge send -c p3 -t plain.txt --transport file://$T/out5"
is "which says so" "$(grep tracking .err)" \
    "nudge-send: tracking: base_url needs a secret (secret_env, secret_file or secret)"
done_testing
