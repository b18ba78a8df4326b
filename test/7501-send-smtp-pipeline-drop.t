#!/bin/sh
# send over a pipelining server (nudge's own SMTP client): the connection
# drops right after a message's end of data, while the next message's
# MAIL FROM, RCPT TO and DATA are already out behind it.  The one past
# its end of data may have arrived: unknown, never resent unless
# --resend-unknown.  The one behind it had not reached its end of data:
# given back (no retries here), and the next run sends it.  The one after
# them goes on a new connection.
. "$(dirname "$0")/lib.sh"
start_smtpd --pipelining
plan 11

cat >cfg.yaml <<YAML
channels:
  email:
    url: smtp://127.0.0.1:$SMTPD_PORT
    from: shop@example.com
    parallel: 1
    max_retries: 0
YAML
printf 'email,first_name\na@example.com,A\ndrop1-b@example.com,B\nc@example.com,C\nd@example.com,D\n' >c.csv
ok "contacts" nudge import-list c.csv
printf 'Subject: Hi {{first_name}}\n\nHello {{first_name}}.\n' >t.txt
run() { printf '1\n2\n3\n4\n' |
	nudge send --config cfg.yaml --now 2026-11-02T09:00:00Z -c p1 -t t.txt "$@"; }

exits "one given back: exit 75" 75 run
is "sent, unknown past its end of data, given back behind it, sent" \
    "$(cut -f1,2 .out | sort -n | tr '\t' ' ' | tr '\n' ';')" \
    "1 sent;2 unknown;3 tempfail;4 sent;"
is "what each says" "$(sort -n .out | cut -f3 | sed -n '2,3p')" \
"the connection was lost after the end of data: the server may have accepted the message; not sent again unless --resend-unknown
refused 1 times, last: the server closed the connection; not sent, a rerun sends it"
is "the ledger: no claim kept for the one given back" \
    "$(sql "SELECT contact_id, status, attempts FROM messages ORDER BY 1" | tr '\t' ' ' | tr '\n' ';')" \
    "1 sent 1;2 unknown 1;4 sent 1;"
is "the server's pipeline: the dropped end of data had the next MAIL FROM behind it" \
    "$(cut -d' ' -f2- "$SMTPD_DIR/pipeline" | sed -n '1,4p' | tr '\n' ';')" \
    "mail grouped;data next;mail grouped;data next;"
is "two sessions" "$(wc -l <"$SMTPD_DIR/sessions")" 2

exits "the next run" 0 run
is "sends the one given back, not the unknown one" \
    "$(cut -f1,2 .out | sort -n | tr '\t' ' ' | tr '\n' ';')" \
    "1 duplicate;2 unknown;3 sent;4 duplicate;"
is "the server has 1, 3 and 4 once each" \
    "$(cat "$SMTPD_DIR"/*.env | grep rcpt | sort | tr '\n' ' ')" \
    "rcpt a@example.com rcpt c@example.com rcpt d@example.com "
is "no sent event for the unknown one" \
    "$(sql "SELECT count(*) FROM events WHERE contact_id = 2 AND type = 'sent'")" 0
done_testing
