#!/bin/sh
# send, SMTP protocol faults: a 421 that closes the session mid-way is
# retried on a new connection per max_retries/backoff_ms, or, once the
# retries are spent, given back (tempfail, exit 75) for a rerun; replies
# written one byte at a time (also over STARTTLS, with AUTH) change
# nothing.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/faults/head.sh"
plan 15

# 421 to the first RCPT TO of the run, connection closed: retried on a
# new connection.
start_faults r421 --rcpt-421 1
printf 'channels:\n  email:\n    backoff_ms: 20\n' >cfg.yaml
blast r1 --config cfg.yaml --transport smtp://127.0.0.1:$FPORT --parallel 1
is "421 to RCPT: exit 0" "$rc" 0
is "all sent; the first on its second attempt" "$(ledger r1 | tr '\n' ';')" \
	"1 sent 2;2 sent 1;3 sent 1;"
is "each received once" "$(cat "$FDIR"/*.env | grep rcpt | sort | tr '\n' ' ')" \
	"rcpt a@x.test rcpt b@x.test rcpt c@x.test "
is "over two sessions" "$(wc -l <"$FDIR/sessions")" 2

# 421 to MAIL FROM after one message per session; no retries: the
# refused one is given back, exit 75, and the rerun sends it.
start_faults m421 --mail-421 1
printf 'channels:\n  email:\n    max_retries: 0\n' >cfg0.yaml
blast m1 --config cfg0.yaml --transport smtp://127.0.0.1:$FPORT --parallel 1
is "retries spent: exit 75" "$rc" 75
is "the second refused, given back" "$(sort -n m1.out)" \
"1	sent	250 2.0.0 Ok: queued as 000001
2	tempfail	refused 1 times, last: 421 4.3.2 Service shutting down; not sent, a rerun sends it
3	sent	250 2.0.0 Ok: queued as 000002"
is "no claim for it" "$(ledger m1 | tr '\n' ';')" "1 sent 1;3 sent 1;"
blast m1 --config cfg0.yaml --transport smtp://127.0.0.1:$FPORT --parallel 1
is "the rerun sends it: exit 0" "$rc $(sort -n m1.out | cut -f2 | tr '\n' ' ')" \
	"0 duplicate sent duplicate "
is "each received once" "$(cat "$FDIR"/*.env | grep rcpt | sort | tr '\n' ' ')" \
	"rcpt a@x.test rcpt b@x.test rcpt c@x.test "

# with retries, the same server: every message gets through
start_faults m421b --mail-421 1
blast m2 --config cfg.yaml --transport smtp://127.0.0.1:$FPORT --parallel 1
is "with retries: exit 0, all sent" "$rc $(cut -f2 m2.out | sort | uniq -c | tr -s ' ')" \
	"0  3 sent"
is "each received once" "$(cat "$FDIR"/*.env | grep rcpt | sort | tr '\n' ' ')" \
	"rcpt a@x.test rcpt b@x.test rcpt c@x.test "

# every reply one byte a write, plaintext
start_faults bytes --bytewise
blast b1 --transport smtp://127.0.0.1:$FPORT --parallel 2
is "byte by byte: exit 0" "$rc" 0
is "each sent with the server's id" "$(sort -n b1.out | cut -f2,3 | sed 's/[0-9]*$/N/' | uniq -c | tr -s ' ')" \
	" 3 sent	250 2.0.0 Ok: queued as N"
# the same over STARTTLS, with AUTH (multi-line EHLO, 334 challenges)
cert srv
start_faults bytes2 --bytewise --starttls srv.crt srv.key
export SMTP_PW='s3cret pass'
printf 'channels:\n  email:\n    require_tls: true\n    tls_ca_file: srv.crt\n    username: nudge\n    password_env: SMTP_PW\n    timeout_ms: 5000\n    max_retries: 0\n' >tls.yaml
blast b2 --config tls.yaml --transport smtp://localhost:$FPORT
is "byte by byte over STARTTLS with AUTH: all sent" \
	"$rc $(cut -f2 b2.out | sort | uniq -c | tr -s ' ')" "0  3 sent"
f=$(grep -l 'rcpt b@x.test' "$FDIR"/*.env </dev/null | sed 's/env$/eml/')
f=${f:-/dev/null}
is "the message arrived whole" \
	"$(grep '^Subject:' "$f" | tr -d '\r')/$(tail -2 "$f" | tr -d '\r\n')" "Subject: Hello B/Hi B."
done_testing
