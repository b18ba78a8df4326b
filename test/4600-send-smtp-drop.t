#!/bin/sh
# send, SMTP protocol faults: a connection lost after the end of data, or
# an answer that never comes, leaves the message `unknown`: not retried,
# not resent by a rerun (it may have arrived), only by --resend-unknown.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/faults/head.sh"
plan 18

# The first message: the body arrives, the server closes before its 250.
start_faults drop --drop-after-data 1
url=smtp://127.0.0.1:$FPORT
printf 'channels:\n  email:\n    backoff_ms: 20\n' >cfg.yaml
blast d1 --config cfg.yaml --transport "$url" --parallel 1
is "exit 0: every message has its outcome" "$rc" 0
is "the first is unknown, the others sent" "$(sort -n d1.out)" \
"1	unknown	the connection was lost after the end of data: the server may have accepted the message; not sent again unless --resend-unknown
2	sent	250 2.0.0 Ok: queued as 000002
3	sent	250 2.0.0 Ok: queued as 000003"
is "the ledger: unknown after one attempt (no retry)" "$(ledger d1)" \
"1 unknown 1
2 sent 1
3 sent 1"
is "the server had each message once" \
	"$(cat "$FDIR"/*.env | grep rcpt | sort | tr '\n' ' ')" \
	"rcpt a@x.test rcpt b@x.test rcpt c@x.test "
is "the summary counts it" "$(tail -1 d1.err)" \
	"nudge-send: d1: read 3, sent 2, skipped 0, duplicate 0, bounced 0, failed 0, tempfail 0, unknown 1" 
is "no sent or failed event for it" \
	"$(sql "SELECT count(*) FROM events WHERE contact_id = 1")" 0

blast d1 --config cfg.yaml --transport "$url"
is "a rerun: exit 0" "$rc" 0
is "it resends nothing" "$(sort -n d1.out)" \
"1	unknown	an earlier send lost its outcome (it may have arrived); --resend-unknown sends it again
2	duplicate	already in the ledger
3	duplicate	already in the ledger"
is "the server still has three messages" "$(ls "$FDIR"/*.eml | wc -l)" 3

blast d1 --config cfg.yaml --transport "$url" --resend-unknown
is "--resend-unknown sends it again" "$(sort -n d1.out | cut -f1,2 | tr '\n' ' ')" \
	"1	sent 2	duplicate 3	duplicate "
is "the ledger: sent, two attempts" "$(ledger d1 | head -1)" "1 sent 2"
is "a@x.test got it twice, as asked" "$(grep -c 'rcpt a@x.test' "$FDIR"/*.env | grep -c ':1$')" 2

# The first message: the body arrives, the answer never comes; the
# per-message timeout (timeout_ms) ends the wait.  One connection: the
# next message must not reuse the one whose answer is still due (it would
# take the late 250 for its own), so it goes on a new one, first time.
start_faults stall --stall-after-data 1
printf 'channels:\n  email:\n    backoff_ms: 20\n    timeout_ms: 1500\n' >cfg.yaml
blast s1 --config cfg.yaml --transport smtp://127.0.0.1:$FPORT --parallel 1
is "a stall: exit 0" "$rc" 0
is "unknown once the timeout passed, the others sent" "$(sort -n s1.out | cut -f1-3)" \
"1	unknown	no answer in time after the end of data: the server may have accepted the message; not sent again unless --resend-unknown
2	sent	250 2.0.0 Ok: queued as 000002
3	sent	250 2.0.0 Ok: queued as 000003"
is "not retried; the next ones sent at the first attempt" "$(ledger s1)" "1 unknown 1
2 sent 1
3 sent 1"
blast s1 --config cfg.yaml --transport smtp://127.0.0.1:$FPORT
is "a rerun resends nothing" "$(cut -f2 s1.out | sort | uniq -c | tr -s ' ' | tr '\n' ';')" \
	" 2 duplicate; 1 unknown;"
is "the server has each once" "$(cat "$FDIR"/*.env | grep -c rcpt)" 3

# Every message dropped: none retried, all unknown, the server had each once.
start_faults drop2 --drop-after-data -1
blast d2 --config cfg.yaml --transport smtp://127.0.0.1:$FPORT --parallel 2
is "all dropped: each unknown after one attempt" "$(ledger d2 | tr '\n' ';')" \
	"1 unknown 1;2 unknown 1;3 unknown 1;"
done_testing
