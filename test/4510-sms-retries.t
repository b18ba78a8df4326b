#!/bin/sh
# sms over HTTP: 429 with Retry-After, 500, a dropped connection and a
# timed-out answer retried until sent; a 400 failed at once; retries end
# at max_retries and at the run's retry budget; a 401 stops the run and
# leaves the messages for a rerun.
. "$(dirname "$0")/lib.sh"
start_emu
plan 20
. "$TESTDIR/sms/head.sh"

cfg "parallel: 1" "timeout_ms: 700" "max_retries: 4"
printf '429 1\n500\nslow 2\ndrop\n' >"$EMU_DIR/faults"
IDS=1 blast c1
wait_requests 5
is "sent after four retries: exit 0" "$rc" 0
is "the provider saw 429, 500, an answer too late, a drop, then a 201" \
	"$(statuses)" "429 500 201 drop 201"
is "five attempts in the ledger" \
	"$(sql "SELECT status, attempts FROM messages WHERE contact_id = 1")" "sent	5"
is "the id is the last answer's" "$(cut -f2,3 c1.out)" "sent	SM000005 (1 segment, GSM-7)"
ok "Retry-After: 1 was honoured" /usr/bin/python3 -c 'import json,sys
r=[json.loads(l) for l in open(sys.argv[1])]
r.sort(key=lambda x: x["n"])
sys.exit(0 if r[1]["t"] - r[0]["t"] >= 1.0 else 1)' "$EMU_DIR/requests"

# Retry-After as an HTTP date, 2 s ahead (whole seconds: at least 1 s)
rm -f "$EMU_DIR/requests"
printf '429 date+2\n' >"$EMU_DIR/faults"
IDS=3 blast c1
is "a Retry-After date: sent on the retry" "$(statuses)" "429 201"
ok "and the date was honoured" /usr/bin/python3 -c 'import json,sys
r=sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda x: x["n"])
sys.exit(0 if r[1]["t"] - r[0]["t"] >= 1.0 else 1)' "$EMU_DIR/requests"

rm -f "$EMU_DIR/requests"
printf '400\n' >"$EMU_DIR/faults"
IDS=2 blast c1
is "a 400 is failed at once, with the provider's error" "$(cut -f2,3 c1.out)" \
	"failed	HTTP 400: invalid number"
is "and not retried" "$(statuses)" 400

# max_retries: 2 -> three attempts, then a temporary failure
rm -f "$EMU_DIR/requests"
cfg "parallel: 1" "max_retries: 2"
printf '500\n500\n500\n' >"$EMU_DIR/faults"
IDS=1 blast c2
is "a temporary failure left: exit 75" "$rc" 75
is "three attempts" "$(statuses)" "500 500 500"
is "reported as tempfail" "$(cut -f2,3 c2.out)" \
	"tempfail	temporary failure after 3 attempts: HTTP 500: internal error"

# the retry budget: two retries for the whole run
rm -f "$EMU_DIR/requests"
cfg "parallel: 1" "retry_budget: 2"
printf '503\n503\n503\n503\n503\n' >"$EMU_DIR/faults"
blast c3
is "two retries only" "$(statuses)" "503 503 503 503 503 201 201 201"
is "so three messages end as tempfail" "$(grep -c '	tempfail	' c3.out)" 3

# wrong credentials: no message can pass, the run stops
rm -f "$EMU_DIR/requests"
cfg "parallel: 1"
printf '401*\n' >"$EMU_DIR/faults"
blast c4
is "401 stops the run: exit 69" "$rc" 69
is "after the first request" "$(statuses)" 401
is "saying why" "$(tail -1 c4.err)" "nudge-send: HTTP 401: authenticate"
is "the messages are held, their claims given back" \
	"$(cut -f2 c4.out | sort | uniq -c | tr -s ' ')/$(sql "SELECT count(*) FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE c.name = 'c4'")" \
	" 6 held/0"
rm -f "$EMU_DIR/faults"
blast c4
is "with the credentials right, a rerun sends all six" "$(grep -c '	sent	' c4.out)" 6
is "each once" "$(statuses | tr ' ' '\n' | sort | uniq -c | tr -s ' ' | tr '\n' ';')" \
	" 6 201; 1 401;"
done_testing
