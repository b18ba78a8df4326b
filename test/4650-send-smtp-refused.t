#!/bin/sh
# send, SMTP server down: with nothing listening on the port, no message
# can have left.  The run exits 75 and gives every claim back (no ledger
# row, no event); once the server is up, the same command sends them all.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/faults/head.sh"
start_smtpd
plan 8

free=$(/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'channels:\n  email:\n    max_retries: 1\n    backoff_ms: 10\n' >cfg.yaml

blast r1 --config cfg.yaml --transport "smtp://127.0.0.1:$free"
is "the server is down: exit 75, so cron runs it again" "$rc" 75
is "every line says it was not sent and a rerun sends it" \
	"$(cut -f1,2 r1.out | sort -n | tr '\t' ' ' | tr '\n' ';')" \
	"1 tempfail;2 tempfail;3 tempfail;"
like "naming the refused connection" "$(sed -n 1p r1.out | cut -f3)" \
	"^refused 2 times, last: Failed to connect to 127\.0\.0\.1 port $free.*; not sent, a rerun sends it$"
is "the claims are given back: no ledger row" "$(ledger r1)" ""
is "no sent or failed event" "$(sql "SELECT count(*) FROM events WHERE type IN ('sent', 'failed')")" 0

blast r1 --config cfg.yaml --transport "smtp://127.0.0.1:$SMTPD_PORT"
is "the server is up: the same command exits 0" "$rc" 0
is "and sends all three" "$(ledger r1)" "1 sent 1
2 sent 1
3 sent 1"
is "the server has each once" \
	"$(cat "$SMTPD_DIR"/*.env | grep rcpt | sort | tr '\n' ' ')" \
	"rcpt a@x.test rcpt b@x.test rcpt c@x.test "
done_testing
