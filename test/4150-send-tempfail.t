#!/bin/sh
# send: a message the SMTP server kept refusing with 4xx is given back to
# the next run (exit 75, cron retries) — it surely did not get through —
# while one whose connection dropped after the data is not retried, is
# left `unknown` and never sent again (it may have arrived).  channels: email: max_retries and
# backoff_ms set the retries.
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 13

cat >cfg.yaml <<YAML
channels:
  email:
    url: smtp://127.0.0.1:$SMTPD_PORT
    from: shop@example.com
    max_retries: 1
    backoff_ms: 10
YAML
printf 'email,first_name\nok@example.com,Ok\ntempfail3-a@example.com,Tem\ndrop-b@example.com,Dro\n' >c.csv
ok "contacts" nudge import-list c.csv
printf 'Subject: Hi {{first_name}}\n\nHello {{first_name}}.\n' >t.txt
run() { printf '1\n2\n3\n' |
	nudge send --config cfg.yaml --now 2026-11-02T09:00:00Z -c c1 -t t.txt; }

exits "refused to the end: exit 75, so cron runs it again" 75 run
is "each contact's outcome" "$(cut -f1,2 .out | sort -n | tr '\t' ' ' | tr '\n' ';')" \
	"1 sent;2 tempfail;3 unknown;"
is "the refused one says it was not sent" "$(grep '^2	' .out | cut -f3)" \
	"refused 2 times, last: 451 4.3.0 Try again later; not sent, a rerun sends it"
is "its claim was given back; the dropped one is unknown, tried once" \
	"$(sql "SELECT contact_id, status, attempts FROM messages ORDER BY 1")" "1	sent	1
3	unknown	1"
is "no sent or failed event for the refused one" \
	"$(sql "SELECT count(*) FROM events WHERE contact_id = 2")" 0
is "the server got the one message" "$(cat "$SMTPD_DIR"/*.env | grep -c 'rcpt')" 1

exits "the next run" 0 run
is "sends the refused one (the server takes it now), nothing else again" \
	"$(cut -f1,2 .out | sort -n | tr '\t' ' ' | tr '\n' ';')" "1 duplicate;2 sent;3 unknown;"
is "in the ledger, sent" "$(sql "SELECT status FROM messages WHERE contact_id = 2")" sent
is "the server has it once" "$(cat "$SMTPD_DIR"/*.env | grep -c 'rcpt tempfail3-a@')" 1
exits "a third run" 0 run
is "sends nothing" "$(cut -f2 .out | sort -u | tr '\n' ' ')" "duplicate unknown "
done_testing
