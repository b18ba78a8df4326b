#!/bin/sh
# Double opt-in by SMS through lighttpd and the SMS provider emulator: a
# form asking for a phone and no email (confirm: sms) answers with a page
# asking for a code; cron (trigger | send, the built-in journey
# signup-confirm-sms) texts the code; POST /s/confirm with the phone and
# the code subscribes the number on sms with the proof and adds the list,
# and an SMS campaign to the list then reaches it.  A wrong code is
# counted; after 5 a request takes no more; an expired request takes none;
# an unknown number gets the wrong-code answer.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
start_emu
plan 25

export SMS_TOKEN=s3cr3t
track_setup
cat >>"$NUDGE_CONFIG" <<EOF2
default_country: IL
consent: {email: opt-out, sms: opt-in}
channels:
  sms:
    provider: $TOP/samples/providers/twilio.yaml
    url: http://127.0.0.1:$EMU_PORT
    user: AC0001
    secret_env: SMS_TOKEN
    sender: {default: Shop}
forms:
  club:
    lists: [club]
    fields: [phone]
    agree_text: "I agree to get offers by text message."
EOF2
printf 'email\nann@example.com\n' >known.csv
nudge import-list known.csv 2>/dev/null
join() { hit POST /s/club -A 'Phone/3' --data-raw "phone=$1"; }
code() { hit POST /s/confirm -A 'Phone/3' --data-raw "phone=$1&code=$2"; }
cron() { nudge trigger | nudge send >/dev/null 2>&1; }
# texted NUMBER: the code in the last text the emulator got for NUMBER
texted() {
	/usr/bin/python3 - "$EMU_DIR/requests" "$1" <<'PY'
import json, re, sys, urllib.parse
code = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    f = urllib.parse.parse_qs(r["body"])
    if f.get("To") == [sys.argv[2]]:
        m = re.search(r"\b(\d{6})\b", f["Body"][0])
        code = m.group(1) if m else "none"
print(code)
PY
}
id() { sql "SELECT id FROM contacts WHERE phone = '$1'"; }
# other CODE: CODE with its last digit changed
other() { _l=${1#?????}; printf '%s%d' "${1%?}" $(( (_l + 1) % 10 )); }

is "the snippet asks for a phone, required, and no email" \
    "$(nudge track form club | grep -o '<input [^>]*>' | grep -v 'name="website"')" \
    '<input type="tel" name="phone" required autocomplete="tel">'
is "a number signs up: 200" "$(join 052-1234567)" 200
like "a page asking for the code, posting to /s/confirm, no script" \
    "$(tr -d '\n' <b)" "<h1>Enter your code</h1>.*<form method=\"post\" action=\"$HTTPD_URL/s/confirm\"><p><label>Phone <input type=\"tel\" name=\"phone\" required></label></p><p><label>Code <input name=\"code\""
is "no script on it" "$(grep -c '<script' b)" 0
cp b code.html
is "the number is pending on sms, the request on sms" \
    "$(sql "SELECT c.phone, n.channel, n.status, n.source, e.channel FROM consent_now n JOIN contacts c ON c.id = n.contact_id JOIN events e ON e.id = n.event_id")" \
    "+972521234567	sms	pending	form:club	sms"
is "not a number: 400" "$(join 12)" 400
is "the code page in Hebrew for a Hebrew browser, right to left" \
    "$(hit GET /s/confirm -H 'Accept-Language: he')$(grep -c '<html lang="he" dir="rtl">' b)$(grep -c '<h1>הקלידו את הקוד</h1>' b)" "20011"
ok "cron texts the code" cron
c1=$(texted +972521234567)
like "a six-digit code" "$c1" '^[0-9]{6}$'
ok "cron again: no second text the same day" cron
is "one text" "$(grep -c '"path": "/2010-04-01/Accounts/AC0001/Messages.json"' "$EMU_DIR/requests")" 1
is "the code page by GET" "$(hit GET /s/confirm)" 200
is "the same page" "$(cmp b code.html && echo same)" same
wrong=$(other "$c1")
is "a wrong code: 400" "$(code 052-1234567 "$wrong")" 400
like "saying so" "$(cat b)" 'That code is not right, or not for this number.'
cp b wrong.html
is "an unknown number: the same answer" \
    "$(code 053-0000000 "$c1")$(cmp b wrong.html && echo same)" "400same"
is "the right code: 200" "$(code '%2B972%2052-123-4567' "$c1")" 200
like "thanks" "$(cat b)" '<h1>Thank you</h1>'
is "subscribed on sms, from the form, with the proof" \
    "$(sql "SELECT n.status, n.source, e.props ->> 'agree_text', e.props ->> 'ip', e.props ->> 'confirmed_user_agent' FROM consent_now n JOIN events e ON e.id = n.event_id WHERE n.contact_id = $(id +972521234567) AND n.channel = 'sms'")" \
    "subscribed	form:club	I agree to get offers by text message.	127.0.0.1	Phone/3"
is "in the list; subscribed sms selects it" \
    "$(nudge segment -f ids 'list "club" and subscribed sms')" "$(id +972521234567)"
printf '\nClub offer: 20%% off today. Reply STOP to opt out.\n' >offer.sms
is "an SMS campaign to the list reaches the number" \
    "$(nudge segment 'list "club"' | nudge send -c offer --channel sms -t offer.sms 2>/dev/null | cut -f2)" sent

# Five wrong codes use a request up.
join 054-7654321 >/dev/null
cron
c2=$(texted +972547654321)
w2=$(other "$c2")
for i in 1 2 3 4 5; do code 054-7654321 "$w2" >/dev/null; done
is "five wrong codes recorded" \
    "$(sql "SELECT count(*) FROM events WHERE type = 'signup_code_failed' AND contact_id = $(id +972547654321)")" 5
is "then even the right code is refused: 429" "$(code 054-7654321 "$c2")" 429
like "saying why" "$(cat b)" 'Too many wrong codes: please sign up again.'

# An expired request takes no code.
join 050-5550000 >/dev/null
cron
c3=$(texted +972505550000)
sql "UPDATE events SET at = at - 3 * 86400 WHERE type = 'signup_pending' AND contact_id = $(id +972505550000)"
is "an expired request: the wrong-code answer, nothing recorded" \
    "$(code 050-5550000 "$c3") $(sql "SELECT status FROM consent_now WHERE contact_id = $(id +972505550000)")" "400 pending"
