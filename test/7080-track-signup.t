#!/bin/sh
# A sign-up form end to end through lighttpd and a real SMTP server: the
# form's POST, the confirmation mail sent by cron (trigger | send), the
# confirm link followed and its button pressed, the subscription with its
# proof in the store, the lists joined, and a campaign to the list that
# reaches the person.  The same page whether or not the address is known;
# the honeypot; the per-IP limit; expiry; Hebrew pages.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
start_smtpd
plan 31

HTTPD_FASTCGI=1 track_setup
cat >>"$NUDGE_CONFIG" <<EOF2
channels:
  email:
    url: smtp://127.0.0.1:$SMTPD_PORT
forms:
  news:
    lists: [news, offers]
    fields: [email, name]
    agree_text: "I agree to get the weekly news & offers by email."
    title: Shop & Co
    rate_ip: 5
EOF2
printf 'email\nann@example.com\n' >known.csv
ok "a store with a known customer" nudge import-list --list customers known.csv

form() { # form BODY [curl options]: POSTs BODY to the form news
	_b=$1; shift
	hit POST /s/news -H 'Content-Type: application/x-www-form-urlencoded' \
	    -A 'Mozilla/5.0 (test)' --data-raw "$_b" "$@"
}
pending() { sql "SELECT c.email FROM events e JOIN contacts c ON c.id =
    e.contact_id WHERE e.type = 'signup_pending' ORDER BY e.id" | tr '\n' ' '; }
cron() { nudge trigger "$TOP/campaigns/signup-confirm.yaml" |
    nudge send --transactional; }
rcpts() { cat "$SMTPD_DIR"/*.env 2>/dev/null | sed -n 's/^rcpt //p' |
    sort | tr '\n' ' '; }

# The snippet on a page of the business's site, served by lighttpd.
{ echo '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Join</title></head><body>'
  nudge track form news; echo '</body></html>'; } >"$T/www/join.html"
is "the site's page has the form, posting to nudge track" \
    "$(/usr/bin/python3 "$TESTDIR/signup/formfields.py" "http://127.0.0.1:$HTTPD_PORT/join.html")" \
"post $HTTPD_URL/s/news
input email email
input name 
input list checkbox
input list checkbox
input website 
button  submit"
is "a new address signs up: 200" "$(form 'email=Dana%40Example.COM&name=Dana&website=')" 200
cp b new.html
like "a check-your-mail page" "$(cat b)" '<h1>Check your mail</h1>'
is "a known address: the same answer, byte for byte" \
    "$(form 'email=ann%40example.com&name=Dana&website=')$(cmp b new.html && echo same)" "200same"
is "the honeypot filled: the same answer" \
    "$(form 'email=bot%40example.com&name=Dana&website=http%3A%2F%2Fspam')$(cmp b new.html && echo same)" "200same"
is "and nothing recorded for it" "$(pending)" "dana@example.com ann@example.com "
is "not an address: 400" "$(form 'email=dana%40&website=')" 400
like "naming the field" "$(cat b)" 'That is not an email address'
is "a list the form does not offer: 400" "$(form 'email=eve%40example.com&list=vip')" 400
is "the pending request holds the proof" \
    "$(sql "SELECT e.channel, e.props ->> 'form', e.props ->> 'ip',
    e.props ->> 'user_agent', e.props ->> 'agree_text', e.props ->> 'lists',
    e.props ->> 'name' FROM events e WHERE e.type = 'signup_pending' AND
    e.contact_id = (SELECT id FROM contacts WHERE email = 'dana@example.com')")" \
    "email	news	127.0.0.1	Mozilla/5.0 (test)	I agree to get the weekly news & offers by email.	news,offers	Dana"
is "before the confirmation: the new address pending, the known one untouched, no list" \
    "$(sql "SELECT c.email, n.channel, n.status, n.source FROM consent n JOIN contacts c ON c.id = n.contact_id") $(sql "SELECT count(*) FROM list_members m JOIN lists l ON l.id = m.list_id WHERE l.name <> 'customers'")" \
    "dana@example.com	email	pending	form:news 0"

ok "cron sends the confirmations" cron
is "one to each pending address, over SMTP" "$(rcpts)" \
    "ann@example.com dana@example.com "
u=$(/usr/bin/python3 "$TESTDIR/signup/confirm-url.py" "$SMTPD_DIR" dana@example.com)
is "the confirm link shows a page" "$(hit GET "$u")" 200
like "with a button that posts back to the link, no script" \
    "$(tr -d '\n' <b)" "<form method=\"post\" action=\"$HTTPD_URL$u\"><button type=\"submit\">Confirm</button></form>"
is "following the link records nothing" "$(sql "SELECT count(*) FROM consent")" 1
is "the button: 200" "$(hit POST "$u" -A 'Phone/1.0' --data '')" 200
like "a thank-you page" "$(cat b)" '<h1>Thank you</h1>'
is "subscribed on email, from the form, with the proof" \
    "$(sql "SELECT n.status, n.source, e.props ->> 'agree_text',
    e.props ->> 'ip', e.props ->> 'user_agent', e.props ->> 'confirmed_user_agent',
    e.props ->> 'requested_at' IS NOT NULL
    FROM consent_now n JOIN events e ON e.id = n.event_id
    JOIN contacts c ON c.id = n.contact_id WHERE c.email = 'dana@example.com'")" \
    "subscribed	form:news	I agree to get the weekly news & offers by email.	127.0.0.1	Mozilla/5.0 (test)	Phone/1.0	1"
is "in both lists of the form" \
    "$(nudge segment -f ids 'list "news" and list "offers"')" \
    "$(sql "SELECT id FROM contacts WHERE email = 'dana@example.com'")"
is "pressing again: still thanks, recorded once" \
    "$(hit POST "$u" --data '')$(sql "SELECT count(*) FROM events WHERE type = 'subscribed'")" "2001"

ok "cron again the same day" cron
is "no second confirmation: Dana confirmed, Ann had hers today" "$(rcpts)" \
    "ann@example.com dana@example.com "
printf 'Subject: Weekly news\nFrom: Shop <shop@example.com>\n\nHello {{first_name|there}}\n' >weekly.txt
ok "a campaign to the list" sh -c "nudge segment 'list \"news\"' |
    nudge send -c weekly -t weekly.txt"
is "reaches the person who signed up" "$(rcpts)" \
    "ann@example.com dana@example.com dana@example.com "

# Ann never confirmed; her request is three days old now: expired.
sql "UPDATE events SET at = at - 3 * 86400 WHERE type = 'signup_pending'
    AND contact_id = (SELECT id FROM contacts WHERE email = 'ann@example.com')"
ua=$(/usr/bin/python3 "$TESTDIR/signup/confirm-url.py" "$SMTPD_DIR" ann@example.com)
is "an expired request: 410" "$(hit POST "$ua" --data '')" 410

# A burst from one address: at most rate_ip (5) in the hour.
i=0; while [ $i -lt 12 ]; do form "email=burst$i%40example.com" >/dev/null; i=$((i + 1)); done
is "a burst leaves at most the per-IP limit pending" \
    "$(sql "SELECT count(*) FROM events WHERE type = 'signup_pending' AND props ->> 'ip' = '127.0.0.1' AND at > unixepoch() - 3600")" 5

is "Hebrew pages for a Hebrew browser" \
    "$(form 'email=noa%40example.com' -H 'Accept-Language: he-IL,he;q=0.9')$(grep -c '<html lang="he" dir="rtl">' b)" "2001"

# FastCGI (one process for many requests) answers the same way.
is "the form through FastCGI" "$(curl -s -o fb -w '%{http_code}' \
    -A 'Mozilla/5.0 (test)' \
    --data-raw 'email=fcgi%40example.com' "$HTTPD_FURL/s/news")" 200
is "with the same page; the per-IP limit holds there too" \
    "$(cmp fb new.html && echo same) $(sql "SELECT count(*) FROM contacts WHERE email = 'fcgi@example.com'")" "same 0"
