#!/bin/sh
# sms and link tracking: a tracked link is longer than the link written,
# and may turn a 2-segment text into 3.  The dry run and the summary give
# the count after rewriting and what tracking added, the count agrees with
# Twilio's rules on the text that left (GSM-7: 160 septets, else parts of
# 153; UCS-2: 70 UTF-16 units, else parts of 67), and tracking: sms_links:
# no keeps the links of SMS texts as written.
. "$(dirname "$0")/lib.sh"
plan 18
export NUDGE_FILE_NOSYNC=1 SECRET=0123456789abcdef0123456789abcdef
now=2026-11-02T09:00:00Z
printf 'phone,first_name,lists\n+972500000001,Dana,all\n' >c.csv
ok "a contact" nudge import-list -k phone c.csv
tracked() { printf 'tracking:\n  base_url: https://t.example.com/t/\n  secret_env: SECRET\n%s' "$1" >cfg.yaml; }
tracked ""
# 250 + 1 + 25 = 276 septets: 2 segments as written
a=$(printf 'a%.0s' $(seq 250))
printf '\n%s https://shop.example/sale\n' "$a" >g.sms
# 30 Hebrew letters + 26: 56 UTF-16 units, 1 segment as written
h=$(printf 'ש%.0s' $(seq 30))
printf '\n%s https://shop.example/sale\n' "$h" >u.sms
mkdir out
send() { # send CAMPAIGN TEMPLATE [opts]: contact 1 by sms into out/CAMPAIGN
	_c=$1 _t=$2; shift 2
	echo 1 | nudge send --config cfg.yaml --channel sms --now $now \
	    -c "$_c" -t "$_t" --transport "file://$T/out/$_c" "$@"
}
# twilio FILE: what the text that left (after the blank line of the file
# transport's message) costs by Twilio's rules: "SEGMENTS ENCODING UNITS"
twilio() {
	/usr/bin/python3 - "$1" <<'PY'
import sys
body = open(sys.argv[1], encoding="utf-8").read().split("\n\n", 1)[1]
body = body[:-1] if body.endswith("\n") else body
# the texts here hold only GSM-7 basic characters or Hebrew
gsm = all(c.isascii() for c in body)
n = len(body) if gsm else len(body.encode("utf-16-le")) // 2
one, part = (160, 153) if gsm else (70, 67)
print(1 if n <= one else -(-n // part), "GSM-7" if gsm else "UCS-2", n)
PY
}

exits "a dry run" 0 send g1 g.sms -n
dry=$(cut -f3 .out)
exits "the same text sent" 0 send g1 g.sms
set -- $(twilio out/g1/new/*)
is "the text that left is 3 segments by Twilio's rules" "$1 $2" "3 GSM-7"
is "which the dry run said, and that it was 2 without tracking" "$dry" \
	"3 segments (GSM-7, $3 septets; 2 without link tracking)"
is "the sent line gives the count after tracking" \
	"$(cut -f3 .out | sed 's/^[^ ]* //')" "(3 segments, GSM-7)"
is "the summary says what tracking added and how to keep links as written" \
	"$(grep sms: .err)" \
	"nudge-send: sms: 3 segments sent; link tracking added 1 of them (tracking: sms_links: no in the configuration keeps the links as written)"
is "and the sent event keeps the count for the report" \
	"$(sql "SELECT props ->> 'segments' FROM events WHERE type = 'sent'")" 3

exits "Hebrew: a dry run" 0 send u1 u.sms -n
dry=$(cut -f3 .out)
like "which says the segments rendered" "$(grep sms: .err)" \
	"^nudge-send: sms: 2 segments rendered; link tracking added 1 of them"
exits "sent" 0 send u1 u.sms
set -- $(twilio out/u1/new/*)
is "UCS-2, 2 segments of 67 by Twilio's rules, as the dry run said" \
	"$1 $2/$dry" "2 UCS-2/2 segments (UCS-2, $3 UTF-16 units; 1 without link tracking)"

tracked "  sms_links: no
"
exits "sms_links: no: a dry run" 0 send g2 g.sms -n
is "2 segments, and no word of tracking" "$(cut -f3 .out; grep sms: .err)" \
	"2 segments (GSM-7, 276 septets)
nudge-send: sms: 2 segments rendered"
exits "sent" 0 send g2 g.sms
is "the link left as written" "$(grep -o 'https://[^ ]*' out/g2/new/*)" \
	"https://shop.example/sale"

tracked "  sms_links: maybe
"
exits "sms_links takes yes or no" 65 send g3 g.sms -n
is "and the error says where" "$(cat .err)" \
	"nudge-send: cfg.yaml:4:14: tracking: sms_links: expected true or false, not \"maybe\""
done_testing
