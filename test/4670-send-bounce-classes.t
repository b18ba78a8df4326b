#!/bin/sh
# send: a 5xx reply read for its reason (issue 22): a dead address (550
# 5.1.1) bounces and is suppressed; a full mailbox (552 5.2.2) and our own
# IP on a blocklist (554 5.7.1 ... Spamhaus) fail the message and suppress
# nobody; past bounces: max_sender_side of sender-side refusals the channel
# stops, exit 75, the cause named, the rest given back for a rerun.
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 15

S="$TESTDIR/send"
now=2026-11-02T09:00:00Z
url="smtp://127.0.0.1:$SMTPD_PORT"
cat >c.csv <<'CSV'
email,first_name,city
ann@example.com,Ann,Haifa
bounce1@example.com,Dead,
full1@example.com,Full,
blocked1@example.com,Blocked,
CSV
ok "contacts" nudge import-list c.csv
exits "a send meeting each class of refusal" 0 sh -c "nudge segment 'subscribed email' |
	nudge send --now $now -c nov -t '$S/hello.txt' --transport $url"
is "the dead address bounced, the others failed" \
	"$(cut -f1,2 .out | sort -n | tr '\t' ' ' | tr '\n' ';')" \
	"1 sent;2 bounced;3 failed;4 failed;"
is "each event says why and whose fault" \
	"$(sql "SELECT c.email, e.type, e.props FROM events e JOIN contacts c
	    ON c.id = e.contact_id WHERE e.type <> 'sent' ORDER BY c.id")" \
'bounce1@example.com	bounced	{"reason":"userunknown","class":"hard"}
full1@example.com	failed	{"reason":"mailboxfull","class":"soft"}
blocked1@example.com	failed	{"reason":"blocked","class":"sender"}'
is "only the dead address is suppressed" \
	"$(sql "SELECT c.email, n.status FROM consent_now n JOIN contacts c ON c.id = n.contact_id")" \
	"bounce1@example.com	bounced"
exits "the full mailbox and our blocked IP stay in the audience" 0 \
	nudge segment --count 'subscribed email'
is "... three of four" "$(cat .out)" 3

# many refusals for our own fault stop the channel
/usr/bin/python3 - >many.csv <<'PY'
print("email")
for i in range(6):
    print(f"blocked{i + 10}@example.com")
for i in range(30):
    print(f"fine{i}@example.com")
PY
ok "36 more contacts, the first six refused for our blocklisted IP" \
	nudge import-list --list many many.csv
exits "the send stops at the fifth sender-side refusal, exit 75" 75 \
	sh -c "nudge segment 'list \"many\"' |
	nudge send --now $now -c dec -t '$S/hello.txt' --transport $url --parallel 1"
like "and names the cause" "$(cat .err)" \
	"email: 5 of 5 messages refused for a sender-side reason, more than bounces: max_sender_side 2.0% \(last: blocked: 554 5.7.1 .*spamhaus.*\): the fault is ours"
is "nothing after it reached the server" \
	"$(cat "$SMTPD_DIR/accepted" 2>/dev/null | grep -c 'fine')" 0
is "what was not tried is not claimed: a rerun sends it" \
	"$(sql "SELECT count(*) FROM messages m JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'dec'")" 5
printf 'bounces:\n  max_sender_side: 50%%\n' >cfg.yaml
exits "with the line at 50%, the same send goes on" 0 \
	sh -c "nudge segment 'list \"many\"' |
	NUDGE_CONFIG=cfg.yaml nudge send --now $now -c dec -t '$S/hello.txt' --transport $url --parallel 1"
is "and the 30 others arrive" "$(grep -c 'fine' "$SMTPD_DIR/accepted")" 30
exits "a share that is no share is refused" 65 \
	sh -c "printf 'bounces:\n  max_sender_side: lots\n' >bad.yaml; NUDGE_CONFIG=bad.yaml nudge segment --count 'subscribed email'"
done_testing
