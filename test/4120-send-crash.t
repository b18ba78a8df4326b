#!/bin/sh
# send: kill -9 in the middle of a blast, then run it again: no contact
# gets a message twice, the outcomes the in-flight journal kept are
# recorded, the messages whose outcome died with the process (the one
# being written) are `unknown` and are not resent unless the journal
# shows they never started (given back and sent), and everyone else is
# sent.
. "$(dirname "$0")/lib.sh"
plan 10

export NUDGE_FILE_NOSYNC=1
awk 'BEGIN { print "email,first_name"
	for (i = 1; i <= 3000; i++) printf "u%d@example.com,U%d\n", i, i }' >c.csv
ok "3000 contacts" nudge import-list c.csv
printf 'Subject: Hi {{first_name}}\nFrom: shop@example.com\n\nHello.\n' >t.txt
nudge segment 'email contains "@"' >ids

nudge send -c crash -t t.txt --transport "file://$T/out" <ids >run1.out 2>/dev/null &
pid=$!
# kill it once some messages are out
n=0
while [ "$(ls "$T/out/new" 2>/dev/null | wc -l)" -lt 300 ] && [ "$n" -lt 400 ]; do
	sleep 0.01
	n=$((n + 1))
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
is "the first send was killed" "$?" 137
# the claims whose outcome died with it; of those, the ones the
# in-flight journal says were started (the others never left), and of
# those the ones whose outcome it has (written as soon as it came)
k=$(sql "SELECT count(*) FROM messages WHERE status = 'claimed'")
tail -n +2 "$T"/nudge.db.inflight/* 2>/dev/null >journal
claimed_in() {
	sql "SELECT count(*) FROM messages WHERE status = 'claimed' AND id IN
	    ($(grep -E "$1" journal | cut -d' ' -f1 | paste -sd, - | sed 's/^$/0/'))"
}
s=$(claimed_in '^[0-9]+$')
o=$(claimed_in '^[0-9]+ (sent|failed|bounced|unknown) ')
j=$((s - o))

exits "the same send again" 0 sh -c "nudge send -c crash -t t.txt \
	--transport file://$T/out <ids >run2.out"
if [ "$j" -gt 0 ]; then
	like "it says which outcomes were lost" "$(cat .err)" \
		"nudge-send: $j messages of an earlier send that died are now unknown"
else
	# the kill came between two messages: nothing was lost, nothing said
	is "no outcome was lost, so none is reported" \
		"$(grep -c 'earlier send that died are now unknown' .err)" 0
fi
is "a kill leaves unknown at most the one message being written ($j)" \
	"$(test "$j" -le 1 && echo yes)" yes
g=$(sed -n 's/^nudge-send: \([0-9]*\) messages of an earlier send that died had not left.*/\1/p' .err)
r=$(sed -n 's/^nudge-send: \([0-9]*\) outcomes of an earlier send that died were in its journal.*/\1/p' .err)
is "the started ones are unknown, not resent; the journalled outcomes recorded; the others given back" \
	"$(sql "SELECT count(*) FROM messages WHERE status = 'unknown'") ${r:-0} ${g:-0}" \
	"$j $o $((k - s))"
is "every sent row has one sent event, a recorded one as the others" \
	"$(sql "SELECT count(*) FROM messages m WHERE status = 'sent' AND
	    (SELECT count(*) FROM events e WHERE e.message_id = m.id AND
	    e.type = 'sent' AND e.campaign_id = m.campaign_id AND
	    e.contact_id = m.contact_id AND e.channel = 'email') != 1")" 0
is "no contact got two messages" \
	"$(grep -h '^To: ' "$T"/out/new/*.eml | sort | uniq -d | wc -l)" 0
is "every contact ends sent or unknown" \
	"$(sql "SELECT count(*) FROM messages WHERE status IN ('sent', 'unknown')")" 3000
is "every sent one has its message, and no more files than claims" \
	"$(test "$(ls "$T/out/new" | wc -l)" -ge "$(sql "SELECT count(*) FROM messages WHERE status = 'sent'")" &&
	   test "$(ls "$T/out/new" | wc -l)" -le 3000 && echo yes)" yes
done_testing
