#!/bin/sh
# send through nudge's own SMTP client, pipelined, against servers that
# misbehave: an answer to an end of data that never comes (the next
# message's commands already out behind it), a 421 that closes the
# session, replies written a byte at a time, and reply lines longer than
# the client's buffer; AUTH LOGIN when PLAIN is not offered, and a
# server that offers neither.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/faults/head.sh"
plan 13

# The first answer stalls past timeout_ms: that message may have
# arrived (unknown, not retried); the one behind it had not reached its
# end of data, so it is retried, on a new connection, and sent.
start_faults stall --pipelining --stall-after-data 1
printf 'channels:\n  email:\n    backoff_ms: 20\n    timeout_ms: 1500\n' >cfg.yaml
blast s1 --config cfg.yaml --transport smtp://127.0.0.1:$FPORT --parallel 1
is "a stall: exit 0" "$rc" 0
is "unknown, then retried and sent, then sent" "$(sort -n s1.out | cut -f1-3 | sed 's/queued as [0-9]*$/queued as N/')" \
"1	unknown	no answer in time after the end of data: the server may have accepted the message; not sent again unless --resend-unknown
2	sent	250 2.0.0 Ok: queued as N
3	sent	250 2.0.0 Ok: queued as N"
is "the ledger: the second on its second attempt" "$(ledger s1 | tr '\n' ';')" \
	"1 unknown 1;2 sent 2;3 sent 1;"

# 421 to MAIL FROM after one message a session, with retries: all get
# through, each once.
start_faults m421 --pipelining --mail-421 1
printf 'channels:\n  email:\n    backoff_ms: 20\n' >cfg2.yaml
blast m1 --config cfg2.yaml --transport smtp://127.0.0.1:$FPORT --parallel 1
is "421 closing the session: exit 0, all sent" "$rc $(cut -f2 m1.out | sort | uniq -c | tr -s ' ')" \
	"0  3 sent"
is "each received once" "$(cat "$FDIR"/*.env | grep rcpt | sort | tr '\n' ' ')" \
	"rcpt a@x.test rcpt b@x.test rcpt c@x.test "

# every reply one byte a write
start_faults bytes --pipelining --bytewise
blast b1 --transport smtp://127.0.0.1:$FPORT --parallel 2
is "byte by byte: exit 0, each sent with the server's id" \
	"$rc $(sort -n b1.out | cut -f2,3 | sed 's/[0-9]*$/N/' | uniq -c | tr -s ' ')" \
	"0  3 sent	250 2.0.0 Ok: queued as N"

# a 6000-character EHLO line and end-of-data reply: the head is kept
start_faults long --pipelining --long-lines
blast l1 --transport smtp://127.0.0.1:$FPORT --parallel 1
is "long reply lines: exit 0, all sent" "$rc $(cut -f2 l1.out | sort | uniq -c | tr -s ' ')" \
	"0  3 sent"
is "the id is the reply's head, cut" \
	"$(sort -n l1.out | head -1 | cut -f3 | cut -c1-34)/$(sort -n l1.out | head -1 | cut -f3 | tr -d y | wc -c)/$(sort -n l1.out | head -1 | cut -f3 | wc -c)" \
	"250 2.0.0 Ok: queued as 000001 yyy/32/256"
is "one session carried them" "$(wc -l <"$FDIR/sessions")" 1
# AUTH: LOGIN when the server offers only LOGIN; a wrong password stops
# the run; a server that offers no AUTH PLAIN or LOGIN gets nothing.
export SMTP_PW='s3cret pass'
printf 'channels:\n  email:\n    username: nudge\n    password_env: SMTP_PW\n    max_retries: 0\n' >auth.yaml
start_faults login --pipelining --auth-only LOGIN
blast a1 --config auth.yaml --transport smtp://127.0.0.1:$FPORT
is "AUTH LOGIN: exit 0, all sent, the server did authenticate" \
	"$rc $(cut -f2 a1.out | sort | uniq -c | tr -s ' ')/$(sort -u "$FDIR/commands")" \
	"0  3 sent/AUTH"
SMTP_PW='wr0ng' blast a2 --config auth.yaml --transport smtp://127.0.0.1:$FPORT
is "AUTH LOGIN, a wrong password: exit 69, nothing more arrived" \
	"$rc $(ls "$FDIR" | grep -c '\.eml$')" "69 3"
like "it says so" "$(cat a2.out a2.err)" "refused the user name or password \(535"
start_faults noauth --auth-only none
blast a3 --config auth.yaml --transport smtp://127.0.0.1:$FPORT
like "no AUTH offered: exit 69, said why" "$rc $(cat a3.out a3.err)" \
	"^69 .*127\.0\.0\.1:[0-9]*: the server offers no AUTH PLAIN or LOGIN, which a configured username needs: nothing sent"
done_testing
