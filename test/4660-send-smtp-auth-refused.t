#!/bin/sh
# send, SMTP AUTH refused (535): nothing can have left.  The run stops at
# once with exit 69, says the password was refused and nothing was sent,
# and gives every claim back; with the right password the same command
# sends them all.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/faults/head.sh"
start_smtpd
plan 9

cat >cfg.yaml <<EOT
channels:
  email:
    url: smtp://127.0.0.1:$SMTPD_PORT
    username: nudge
    password_env: SMTP_PW
    backoff_ms: 10
EOT

SMTP_PW=wr0ng-pw blast a1 --config cfg.yaml
is "a refused password stops the run: exit 69" "$rc" 69
like "saying the password was refused and nothing was sent" \
	"$(tail -1 a1.err)" "^nudge-send: the server refused the user name or password \(535 .*\): nothing was sent"
is "no password shown" "$(grep -c wr0ng a1.out a1.err | tr '\n' ' ')" "a1.out:0 a1.err:0 "
is "every line is held" "$(cut -f1,2 a1.out | sort -n | tr '\t' ' ' | tr '\n' ';')" \
	"1 held;2 held;3 held;"
is "the claims are given back: no ledger row" "$(ledger a1)" ""
is "no event" "$(sql "SELECT count(*) FROM events WHERE type IN ('sent', 'failed')")" 0

SMTP_PW='s3cret pass' blast a1 --config cfg.yaml
is "with the right password the same command exits 0" "$rc" 0
is "and sends all three" "$(ledger a1)" "1 sent 1
2 sent 1
3 sent 1"
is "the server has each once" \
	"$(cat "$SMTPD_DIR"/*.env | grep rcpt | sort | tr '\n' ' ')" \
	"rcpt a@x.test rcpt b@x.test rcpt c@x.test "
done_testing
