#!/bin/sh
# import-list: every rejected-row reason, with its physical line number,
# into the rejects file and never into the store.
. "$(dirname "$0")/lib.sh"
plan 9

printf 'default_country: IL\n' >config.yaml
in="$TESTDIR/import/rejects.csv"
exits "rejected rows make exit 65" 65 \
	nudge import-list --config config.yaml --rejects rej.csv "$in"
is "summary counts" "$(cat .err)" \
"nudge-import-list: $in: read 16, inserted 3, updated 0, unchanged 0, rejected 13; 0 list memberships added"
printf '%s\n' \
'line,reason,email,phone,first_name,city' \
'3,"email: not an address (no domain): ""bad@""",bad@,,B,x' \
'4,"email: not an address (character not allowed before the @): ""dana levi@example.com""",dana levi@example.com,,C,x' \
'5,"email: not an address (no @): ""no-at.example.com""",no-at.example.com,,D,x' \
'6,"phone: wrong number of digits: ""052""",ok2@example.com,052,E,x' \
'7,"phone: not a phone number: ""call me""",ok3@example.com,call me,F,x' \
'8,email: missing,,0521111111,G,x' \
'9,"wrong number of fields: 3, the header has 4",ragged@example.com,,H' \
'10,"wrong number of fields: 5, the header has 4",extra@example.com,,I,x,y' >want.csv
printf '11,first_name: not valid UTF-8,utf@example.com,,\377\376,x\n' >>want.csv
printf '%s\n' \
'12,"email: not an address (character not allowed before the @): ""quoted\nnewline@example.com""","quoted' \
'newline@example.com",,J,x' \
'15,phone: +972521111111 belongs to another contact,ok5@example.com,0521111111,L,x' \
'16,"email: not an address (non-ASCII before the @): ""hebrewד@example.com""",hebrewד@example.com,,M,x' \
'17,"email: not an address (domain has no dot): ""local@localhost""",local@localhost,,N,x' >>want.csv
cmp_file "rejects file: line, reason, the row as it came" want.csv rej.csv
is "only the good rows are stored; ok5 lost the phone race to ok4" \
	"$(sql 'SELECT email, phone FROM contacts ORDER BY id')" \
"ok1@example.com	
ok4@example.com	+972521111111
ok6@example.com	"
exits "a second import of the same file" 65 \
	nudge import-list --config config.yaml --rejects rej2.csv "$in"
cmp_file "rejects the same rows again" want.csv rej2.csv
exits "without --rejects: reasons on stderr" 65 \
	nudge import-list --config config.yaml "$in"
is "the first 10 reasons, then a count" "$(sed -n '1p;10,12p' .err)" \
"nudge-import-list: $in:3: email: not an address (no domain): \"bad@\"
nudge-import-list: $in:12: email: not an address (character not allowed before the @): \"quoted\\nnewline@example.com\"
nudge-import-list: $in: 3 more rejected rows not shown (--rejects FILE keeps them all)
nudge-import-list: $in: read 16, inserted 0, updated 0, unchanged 3, rejected 13; 0 list memberships added"
is "the store still has 3 contacts" "$(sql 'SELECT count(*) FROM contacts')" 3
done_testing
