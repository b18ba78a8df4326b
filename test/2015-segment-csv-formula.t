#!/bin/sh
# Every CSV nudge writes (segment, report, the rejects of import-list and
# event import) goes through one writer: a cell a spreadsheet would run
# (= + - @ tab CR) gets a leading ', plain numbers stay as they are, and
# reading CSV takes the mark off, so that what was written imports back
# as it was.
. "$(dirname "$0")/lib.sh"
plan 11

printf '%s\n' 'email,first_name,last_name,city,score,note' \
	'a@example.com,=HYPERLINK("http://evil.example"),@SUM(A1),-2+3,-5,'"''=x" \
	'b@example.com,+cmd,Levi,Haifa,3.5,O'"'"'Neill' \
	'bad@,=1+1,-x,Haifa,-7,x' >in.csv
exits "import, one row rejected" 65 nudge import-list -r rej.csv in.csv
is "stored as written, the mark of note taken off" \
	"$(sql "SELECT first_name, last_name, attrs FROM contacts ORDER BY id")" \
	'=HYPERLINK("http://evil.example")	@SUM(A1)	{"city":"-2+3","score":"-5","note":"'"'"'=x"}
+cmd	Levi	{"city":"Haifa","score":"3.5","note":"O'"'"'Neill"}'

F=id,email,first_name,last_name,city,score,note
ok "segment --format csv" nudge segment -f csv --fields $F 'id > 0'
printf '%s\r\n' "$F" \
	'1,a@example.com,"'"'"'=HYPERLINK(""http://evil.example"")",'"'"'@SUM(A1),'"'"'-2+3,-5,'"''=x" \
	'2,b@example.com,'"'"'+cmd,Levi,Haifa,3.5,O'"'"'Neill' >want.csv
cmp_file "formula cells marked with ', numbers and quotes inside as they are" \
	want.csv .out
cp .out seg.csv

ok "the segment's CSV imports into another store" \
	nudge import-list --db other.db -m id=- seg.csv
is "as the values it was written from" \
	"$(sqlite3 -separator '	' other.db "SELECT first_name, last_name, attrs FROM contacts ORDER BY id")" \
	"$(sql "SELECT first_name, last_name, attrs FROM contacts ORDER BY id")"

printf '%s\n' 'line,reason,email,first_name,last_name,city,score,note' \
	'4,"email: not an address (no domain): ""bad@""",bad@,'"'"'=1+1,'"'"'-x,Haifa,-7,x' >want.csv
cmp_file "the rejects file: the same writer" want.csv rej.csv
sed 's/,bad@,/,fixed@example.com,/' rej.csv >fixed.csv
ok "the rejects file, mended, imports" \
	nudge import-list -m line=- -m reason=- fixed.csv
is "as the row it came from" \
	"$(sql "SELECT first_name, last_name, attrs FROM contacts WHERE email = 'fixed@example.com'")" \
	'=1+1	-x	{"city":"Haifa","score":"-7","note":"x"}'

printf '%s\n' 'contact,type,at,total' \
	'1,purchase,2026-11-01T00:00:00Z,-3' \
	'9,purchase,2026-11-01T00:00:00Z,=cmd|x' >ev.csv
exits "event import with a row rejected" 65 nudge event import -r erej.csv ev.csv
printf '%s\n' 'line,reason,contact,type,at,total' \
	"3,contact: no such contact,9,purchase,2026-11-01T00:00:00Z,'=cmd|x" >want.csv
cmp_file "its rejects file: the same writer" want.csv erej.csv
done_testing
