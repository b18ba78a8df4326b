#!/bin/sh
# send, the in-flight journal: a send killed with SIGKILL leaves `unknown`
# only the messages whose first attempt had started (their ids are in
# NUDGE_DB.inflight/CLAIMER, written before the first byte goes out); the
# claims it made for messages that never left are given back, and the
# next run sends them.  A journal of another boot is not trusted: then
# every claim left is `unknown`, as without one.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/faults/head.sh"
plan 23

# 30 contacts on the list "j" (ids 4 to 33, after head.sh's three)
awk 'BEGIN { print "email,first_name,lists"
	for (i = 1; i <= 30; i++) printf "j%d@x.test,J%d,j\n", i, i }' >j.csv
nudge import-list j.csv >/dev/null 2>&1
printf 'channels:\n  email:\n    backoff_ms: 20\n' >cfg.yaml
export NUDGE_CONFIG="$T/cfg.yaml"
nudge segment 'list "j"' >ids
# send_j CAMPAIGN PORT: the list "j" to the server at PORT, one
# connection; bg_send_j: the same in the background, its pid in $pid
# (nudge-send's own: nudge execs it)
send_j() {
	nudge send --now $now -c "$1" -t "$F/hello.txt" \
	    --transport "smtp://127.0.0.1:$2" --parallel 1 <ids >"$1.out" \
	    2>"$1.err"
}
bg_send_j() {
	nudge send --now $now -c "$1" -t "$F/hello.txt" \
	    --transport "smtp://127.0.0.1:$2" --parallel 1 <ids >"$1.out" \
	    2>"$1.err" &
	pid=$!
}
# until: wait (200 x 0.05 s at most) for a condition, then go on anyway:
# the checks that follow say what was not reached
until_() {
	_i=0
	while ! eval "$1" && [ "$_i" -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}
st() {
	sql "SELECT m.status, count(*) FROM messages m JOIN campaigns c ON
	    c.id = m.campaign_id WHERE c.name = '$1' GROUP BY 1 ORDER BY 1" |
	    tr '\t\n' '  '
}

# A server that accepts five messages, then takes the sixth and never
# answers: send is killed with the sixth on the wire and 24 claims
# queued behind it that never started.
start_faults hang --stall-from 6
bg_send_j j1 "$FPORT"
until_ '[ "$(ls "$FDIR"/*.eml 2>/dev/null | wc -l)" -ge 6 ]'
# send keeps outcomes in memory for a moment, and writes them when it
# waits on the network for longer (200 ms): a second later, the five
# accepted are recorded sent
sleep 1
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
is "the first send was killed" "$?" 137
is "the server had six messages" "$(ls "$FDIR"/*.eml | wc -l)" 6
s0=$(sql "SELECT count(*) FROM messages WHERE status = 'sent'")
sql "SELECT c.email FROM messages m JOIN contacts c ON c.id = m.contact_id
	WHERE m.status = 'sent'" >sent0
is "the ledger: the five accepted written sent while send waited, 25 claimed" \
	"$(st j1)" "claimed 25 sent 5 "
jf=$(ls nudge.db.inflight/)
is "the journal is NUDGE_DB.inflight/CLAIMER" \
	"$(sql "SELECT DISTINCT claimed_by FROM messages WHERE status = 'claimed'")" "$jf"
is "its first line is the boot id" "$(head -n 1 "nudge.db.inflight/$jf")" \
	"$(cat /proc/sys/kernel/random/boot_id)"
is "then the six messages started, in order" \
	"$(tail -n +2 "nudge.db.inflight/$jf" | tr '\n' ' ')" \
	"$(sql "SELECT id FROM messages ORDER BY id LIMIT 6" | tr '\n' ' ')"
stalled=$(sed -n 's/^rcpt //p' "$FDIR/000006.env")

start_faults ok
PORT_OK=$FPORT
exits "the rerun to a server that answers" 0 send_j j1 "$FPORT"
is "it says what was given back and what is unknown" "$(head -n 2 j1.err)" \
"nudge-send: 24 messages of an earlier send that died had not left: given back, sent when their lines come
nudge-send: $((6 - s0)) messages of an earlier send that died are now unknown (not resent; --resend-unknown sends them)"
is "the summary" "$(tail -n 1 j1.err)" \
	"nudge-send: j1: read 30, sent 24, skipped 0, duplicate $s0, bounced 0, failed 0, tempfail 0, unknown $((6 - s0))"
is "unknown: the one on the wire at the kill, and the accepted ones whose outcome was not written" \
	"$( (cat sent0; sql "SELECT c.email FROM messages m JOIN contacts c ON
	c.id = m.contact_id WHERE m.status = 'unknown'") | sort | tr '\n' ' ')" \
	"$(sed -n 's/^rcpt //p' "$T"/hang/*.env | sort | tr '\n' ' ')"
is "the stalled one is unknown" "$(sql "SELECT m.status FROM messages m JOIN
	contacts c ON c.id = m.contact_id WHERE c.email = '$stalled'")" unknown
is "the ledger: 24 more sent, the six the server had sent or unknown" \
	"$(st j1)" "sent $((24 + s0)) unknown $((6 - s0)) "
is "the second server got the 24 given back" "$(ls "$FDIR"/*.eml | wc -l)" 24
is "no contact got two messages" \
	"$(cat "$T"/hang/*.env "$T"/ok/*.env | grep -c '^rcpt ')/$(cat "$T"/hang/*.env "$T"/ok/*.env | grep '^rcpt ' | sort -u | wc -l)" \
	"30/30"
is "none of the first server's six went again" \
	"$(cat "$T"/hang/*.env "$FDIR"/*.env | grep '^rcpt ' | sort | uniq -d)" ""
is "the journals are gone" "$(ls -A nudge.db.inflight 2>&1 | sed 's/.*No such file.*/none/')" none

# Another boot: the journal may have lost its last lines (no fsync), so
# it is not trusted and every claim left is unknown.
start_faults hang2 --stall-from 1
bg_send_j j2 "$FPORT"
until_ '[ "$(ls "$FDIR"/*.eml 2>/dev/null | wc -l)" -ge 1 ]'
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
is "the send to a server that never answers was killed" "$?" 137
is "its 30 claims are left" "$(st j2)" "claimed 30 "
jf=$(ls nudge.db.inflight/)
is "its journal names the one message started" \
	"$(tail -n +2 "nudge.db.inflight/$jf" | wc -l)" 1
sed '1s/.*/00000000-0000-0000-0000-000000000000/' "nudge.db.inflight/$jf" >x &&
	cat x >"nudge.db.inflight/$jf"
exits "a rerun after the boot id changed" 0 send_j j2 "$PORT_OK"
is "nothing is given back: all 30 unknown" "$(head -n 1 j2.err)" \
	"nudge-send: 30 messages of an earlier send that died are now unknown (not resent; --resend-unknown sends them)"
is "the ledger: 30 unknown" "$(st j2)" "unknown 30 "
is "the journal is gone" "$(ls -A nudge.db.inflight 2>&1 | sed 's/.*No such file.*/none/')" none
done_testing
