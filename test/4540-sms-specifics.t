#!/bin/sh
# sms specifics: GSM-7 vs UCS-2 and concatenated segments (153/67)
# reported by --dry-run and in the results and events; the sender id per
# country; STOP wording appended to marketing texts only; an inbound
# STOP imported with `nudge event` unsubscribes the sms channel only.
# And one segment sent by email, sms and push, one command each.
. "$(dirname "$0")/lib.sh"
start_emu
plan 16
N_CONTACTS=0
. "$TESTDIR/sms/head.sh"

cat >c.csv <<'EOT'
email,phone,push_id,first_name,lists,city
a@example.com,+972521111111,dev-a,Dana,all,
b@example.com,+15552222222,dev-b,Bob,all,
c@example.com,+447700900333,dev-c,Cara,all,חיפה
EOT
ok "contacts" nudge import-list c.csv
cfg "parallel: 1" "stop_text: \"Reply STOP to opt out\"" \
	"sender: {default: Shop, IL: \"+972500000000\", US: \"+15550000000\"}"
sed -i '/^    sender: {default: Shop}$/d' cfg.yaml

text() { # text NAME BODY: a template with BODY as its text
	printf '\n%s\n' "$2" >"$1.sms"
}
a153=$(printf 'a%.0s' $(seq 139))
text g1 "$a153"                # 139 + 22 = 161 septets: 2 segments
text g2 "x"                    # 1 + 22 = 23 septets
text u1 "שלום {{first_name}}"  # Hebrew: UCS-2
text e1 "{€} x"                # { } and € take two septets each
send_n() { # send_n TEMPLATE [opts]: a dry run of contact 1
	_t=$1; shift
	echo 1 | nudge send -n --config cfg.yaml --channel sms --now $now \
	    -c dry -t "$_t.sms" "$@" 2>/dev/null | cut -f3
}
is "dry run: 161 septets are 2 segments" "$(send_n g1)" "2 segments (GSM-7, 161 septets)"
is "23 septets, 1 segment" "$(send_n g2)" "1 segment (GSM-7, 23 septets)"
is "Hebrew is UCS-2" "$(send_n u1)" "1 segment (UCS-2, 31 UTF-16 units)"
is "{, } and the euro sign are two septets" "$(send_n e1)" "1 segment (GSM-7, 30 septets)"
is "a transactional text has no STOP wording" "$(send_n g1 --transactional)" \
	"1 segment (GSM-7, 139 septets)"
text long "$(printf 'שלום עולם %.0s' $(seq 7))"
is "70 + 22 UTF-16 units: 2 segments of 67" "$(send_n long)" \
	"2 segments (UCS-2, 92 UTF-16 units)"

nudge segment 'list "all"' | nudge send --config cfg.yaml --channel sms \
    --now $now -c s1 -t g2.sms >s1.out 2>s1.err
/usr/bin/python3 "$S/requests.py" "$EMU_DIR/requests" | grep '^To=' >bodies
is "the sender id of each country, else the default; STOP appended" \
	"$(cat bodies)" \
	"To=%2B972521111111&From=%2B972500000000&Body=x%0AReply+STOP+to+opt+out
To=%2B15552222222&From=%2B15550000000&Body=x%0AReply+STOP+to+opt+out
To=%2B447700900333&From=Shop&Body=x%0AReply+STOP+to+opt+out"
is "segments in the results" "$(cut -f3 s1.out | sed 's/^SM[0-9]* //' | sort -u)" \
	"(1 segment, GSM-7)"
is "and in the events, for the report's cost" \
	"$(sql "SELECT sum(json_extract(props, '$.segments')) FROM events WHERE type = 'sent' AND channel = 'sms'")" 3

# an inbound STOP, as a provider's webhook gives it
printf '{"contact":"+1 555 222 2222","type":"inbound","channel":"sms","at":"2026-11-02T08:00:00Z","text":" stop "}\n{"contact":"+972521111111","type":"inbound","channel":"sms","text":"when is the sale?"}\n' >inbound.json
ok "inbound messages imported" nudge event import --format json inbound.json
is "STOP unsubscribed sms only" \
	"$(sql "SELECT contact_id, channel, status FROM consent_now ORDER BY 1, 2")" \
	"2	sms	unsubscribed"
nudge segment 'list "all"' | nudge send --config cfg.yaml --channel sms \
    --now $now -c s2 -t g2.sms >s2.out 2>&1
is "the next sms blast skips Bob" "$(grep '^2	' s2.out | cut -f2,3)" \
	"skipped	unsubscribed (sms, 2026-11-02, import:inbound.json:1)"
nudge segment 'list "all"' | nudge send --config cfg.yaml --channel sms \
    --now $now -c s3 -t g1.sms >s3.out 2>&1
is "the report's cost: two messages of 2 segments" \
	"$(nudge report -c s3 -f csv | tr -d '\r' | cut -d, -f2,17 | tail -n 1)" "2,4"

# one segment by email, sms and push, one command each (a campaign is one
# message per contact in the ledger: one campaign per channel)
cat >>cfg.yaml <<EOT
  push:
    provider: $P/ntfy.yaml
    url: http://127.0.0.1:$EMU_PORT
EOT
printf 'Subject: Hi {{first_name}}\nFrom: Shop <shop@example.com>\n\nYour cart waits.\n' >cart.txt
nudge segment 'list "all"' | nudge send --config cfg.yaml --now $now \
    -c all3-email -t cart.txt --transport "file://$T/mail" >e.out 2>&1
nudge segment 'list "all"' | nudge send --config cfg.yaml --channel sms \
    --now $now -c all3-sms -t g2.sms >s.out 2>&1
nudge segment 'list "all"' | nudge send --config cfg.yaml --channel push \
    --now $now -c all3-push -t "$TOP/samples/templates/cart.push" >p.out 2>&1
is "email, sms and push: the ledger" \
	"$(sql "SELECT channel, status, count(*) FROM messages WHERE campaign_id IN (SELECT id FROM campaigns WHERE name LIKE 'all3-%') GROUP BY 1, 2")" \
	"email	sent	3
push	sent	3
sms	sent	2"
is "the push carried the sample's Hebrew title" \
	"$(grep -c -F 'title\": \"Dana, העגלה שלך מחכה\"' "$EMU_DIR/requests")" 1
done_testing
