#!/bin/sh
# send: a blast into the file transport — results per contact, skip
# reasons, the ledger and events, a re-run that sends nothing twice, a dry
# run that writes nothing.
. "$(dirname "$0")/lib.sh"
plan 19

S="$TESTDIR/send"
export NUDGE_FILE_NOSYNC=1
ok "contacts" nudge import-list "$S/contacts.csv"
printf 'phone\n+972521234567\n' >phone.csv
ok "a contact with a phone only" nudge import-list --key phone --list news phone.csv
ok "one unsubscribed" nudge event add --contact unsub@example.com \
	--type unsubscribed --channel email --at 2026-11-01T08:00:00Z
now=2026-11-02T09:00:00Z

sql '.dump' >before
exits "--dry-run renders" 0 sh -c "nudge segment 'list \"news\"' |
	nudge send --dry-run --now $now -c nov -t '$S/hello.txt' --transport file://$T/out"
is "every contact rendered or skipped, with the reason" \
	"$(cut -f1,2 .out | tr '\t' ' ' | tr '\n' ';')" \
	"1 rendered;2 rendered;3 rendered;4 rendered;5 rendered;6 skipped;7 skipped;"
sql '.dump' >after
cmp_file "a dry run writes nothing to the store" before after
ok "and nothing to the transport" test ! -e "$T/out"

exits "a blast" 0 sh -c "{ nudge segment 'list \"news\"'; echo nobody@example.com; } |
	nudge send --now $now -c nov -t '$S/hello.txt' --transport file://$T/out"
is "skips say why" "$(grep -v '	sent	' .out)" \
"6	skipped	unsubscribed (email, 2026-11-01, event add)
7	skipped	no email address
nobody@example.com	skipped	no such contact"
is "five sent, each with its file name" "$(grep -c '	sent	[0-9]*\..*\.eml$' .out)" 5
is "five messages in the maildir" "$(ls "$T/out/new" | wc -l)" 5
is "the ledger has them sent" \
	"$(sql "SELECT status, count(*) FROM messages GROUP BY 1")" "sent	5"
is "and a sent event each, tied to its ledger row" \
	"$(sql "SELECT count(*) FROM events e JOIN messages m ON m.id = e.message_id WHERE e.type = 'sent' AND e.channel = 'email'")" 5

exits "the same blast again" 0 sh -c "nudge segment 'list \"news\"' |
	nudge send --now $now -c nov -t '$S/hello.txt' --transport file://$T/out"
is "sends nothing twice" "$(grep -c '	duplicate	' .out) $(ls "$T/out/new" | wc -l)" "5 5"

printf 'email,coupon\nmoshe@example.com,SAVE10\n' >coupon.csv
nudge import-list coupon.csv 2>/dev/null
exits "a field with no default skips the contact" 0 sh -c "printf '1\n2\n' |
	nudge send --now $now -c coupon --from shop@example.com -t '$S/strict.txt' --transport file://$T/out"
is "and names the field" "$(grep skipped .out)" \
	"1	skipped	no value for field \"attrs.coupon\" and no default"
# the progress line: on a terminal's stderr only (script(1) gives one)
nudge segment 'list "news"' >ids
script -qec "nudge send --dry-run --now $now -c prog -t '$S/hello.txt' <ids >/dev/null" /dev/null >tty.txt 2>&1
like "on a terminal, a progress bar with the counts" "$(tr '\r' '\n' <tty.txt | grep -a 'done:' | tail -n 1)" \
	'^\[####################\] 100% 7 done: 5 rendered, 2 skipped, 0 failed, 0 bounced'
nudge send --dry-run --now $now -c prog -t "$S/hello.txt" <ids >/dev/null 2>notty.txt
is "not when stderr is a file: the summary alone" "$(cat notty.txt)" \
	"nudge-send: prog: read 7, rendered 5, skipped 2 (dry run: nothing sent or stored)"
done_testing
