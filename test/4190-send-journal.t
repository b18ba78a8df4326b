#!/bin/sh
# send, the in-flight journal: a send killed with SIGKILL leaves `unknown`
# only the messages that were on the wire: their ids are in
# NUDGE_DB.inflight/CLAIMER, written before the first byte goes out, and
# so is each outcome as soon as it comes, which the next run records as
# the dead one would have (a message the server accepted a moment before
# the kill is `sent`, with its event); the claims it made for messages
# that never left are given back, and the next run sends them.  A
# journal of another boot is not trusted: then every claim left is
# `unknown`, as without one.
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
# answers: send is killed the moment the sixth is on the wire, with 24
# claims queued behind it that never started.
start_faults hang --stall-from 6
bg_send_j j1 "$FPORT"
until_ '[ "$(ls "$FDIR"/*.eml 2>/dev/null | wc -l)" -ge 6 ]'
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
is "the first send was killed" "$?" 137
is "the server had six messages" "$(ls "$FDIR"/*.eml | wc -l)" 6
# send keeps outcomes in memory for a moment before it writes them to
# the store: some of the five accepted may be recorded sent already
s0=$(sql "SELECT count(*) FROM messages WHERE status = 'sent'")
is "the ledger: $s0 of the five accepted written sent, the other claims left" \
	"$(st j1)" "claimed $((30 - s0)) $(test "$s0" -gt 0 && echo "sent $s0 ")"
jf=$(ls nudge.db.inflight/)
is "the journal is NUDGE_DB.inflight/CLAIMER" \
	"$(sql "SELECT DISTINCT claimed_by FROM messages WHERE status = 'claimed'")" "$jf"
is "its first line is the boot id" "$(head -n 1 "nudge.db.inflight/$jf")" \
	"$(cat /proc/sys/kernel/random/boot_id)"
is "then each of the six as it started, and each of the first five's outcome as it came" \
	"$(tail -n +2 "nudge.db.inflight/$jf")" \
	"$(sql "SELECT id FROM messages ORDER BY id LIMIT 6" | awk '{
		print $1
		if (NR < 6)
			printf "%s sent 1 - 250 2.0.0 Ok: queued as %06d\n", $1, NR
	}')"
stalled=$(sed -n 's/^rcpt //p' "$FDIR/000006.env")

start_faults ok
PORT_OK=$FPORT
exits "the rerun to a server that answers" 0 send_j j1 "$FPORT"
want="nudge-send: 24 messages of an earlier send that died had not left: given back, sent when their lines come
"
[ "$s0" -lt 5 ] && want="${want}nudge-send: $((5 - s0)) outcomes of an earlier send that died were in its journal: recorded
"
is "it says what was given back, what the journal had and what is unknown" \
	"$(grep -v ': j1: read' j1.err)" \
	"${want}nudge-send: 1 messages of an earlier send that died are now unknown (not resent; --resend-unknown sends them)"
is "the summary" "$(tail -n 1 j1.err)" \
	"nudge-send: j1: read 30, sent 24, skipped 0, duplicate 5, bounced 0, failed 0, tempfail 0, unknown 1"
is "unknown: only the one on the wire at the kill" \
	"$(sql "SELECT c.email FROM messages m JOIN contacts c ON
	c.id = m.contact_id WHERE m.status = 'unknown'")" "$stalled"
is "the five the server accepted are sent, each with its provider id and one sent event" \
	"$(sql "SELECT c.email, m.provider_id, m.attempts, (SELECT count(*)
	FROM events e WHERE e.message_id = m.id AND e.type = 'sent' AND
	e.contact_id = m.contact_id AND e.channel = 'email' AND e.step IS NULL)
	FROM messages m JOIN contacts c ON c.id = m.contact_id
	ORDER BY m.id LIMIT 5" | tr '\t' ' ')" \
	"$(for i in 1 2 3 4 5; do
		printf '%s 250 2.0.0 Ok: queued as %06d 1 1\n' \
		    "$(sed -n 's/^rcpt //p' "$T/hang/00000$i.env")" "$i"
	done)"
is "the ledger: 24 more sent, the five accepted sent, the stalled one unknown" \
	"$(st j1)" "sent 29 unknown 1 "
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
