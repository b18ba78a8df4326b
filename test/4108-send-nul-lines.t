#!/bin/sh
# send's input lines: a line holding a NUL byte is no contact line, whatever
# comes before the NUL ("3<NUL>garbage" is not contact 3): skipped, with
# its line number, shown quoted; junk after an id without a tab is no id.
. "$(dirname "$0")/lib.sh"
plan 8

S="$TESTDIR/send"
export NUDGE_FILE_NOSYNC=1
ok "contacts" nudge import-list "$S/contacts.csv"
now=2026-11-02T09:00:00Z

printf '1\n3\000garbage\n4\n' >nul.txt
exits "a blast with a NUL in its second line" 0 sh -c \
	"nudge send --now $now -c nul -t '$S/hello.txt' --transport file://$T/out <nul.txt"
is "the NUL line is skipped with its line number, its bytes quoted" \
	"$(grep skipped .out)" \
	'3\x00garbage	skipped	a NUL byte in the line (line 2): "3\x00garbage"'
is "contact 3 got nothing" \
	"$(sql "SELECT contact_id FROM messages ORDER BY 1" | tr '\n' ' ')" "1 4 "
is "two messages left" "$(ls "$T/out/new" | wc -l)" 2

printf '5\tnul\000x\tsms\tnosuch.yaml\n' >trig.txt
printf '6\000\n' >>trig.txt
exits "trigger lines with NULs: not cut there; all skipped, so 65" 65 sh -c \
	"nudge send --now $now --format json --transport file://$T/out <trig.txt"
is "both lines skipped, each with its line" \
	"$(grep -o '"line":[0-9]*,"input":"[^"]*"' .out | tr '\n' ' ')" \
	'"line":1,"input":"5\\tnul\\x00x\\tsms\\tnosuch.yaml" "line":2,"input":"6\\x00" '

printf '5 garbage\n' >space.txt
is "an id with junk after a space is no id" \
	"$(nudge send -n --now $now -c nul -t "$S/hello.txt" <space.txt 2>/dev/null)" \
	'5 garbage	skipped	not a contact id, email or phone (not a phone number): "5 garbage"'
done_testing
