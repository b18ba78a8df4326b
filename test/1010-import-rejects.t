#!/bin/sh
# import-list: every rejected-row reason, with its physical line number,
# into the rejects file and never into the store; a phone that cannot be
# read costs only the phone, and a row with a phone and no email is kept.
. "$(dirname "$0")/lib.sh"
plan 12

printf 'default_country: IL\n' >config.yaml
in="$TESTDIR/import/rejects.csv"
exits "rejected rows make exit 65" 65 \
	nudge import-list --config config.yaml --rejects rej.csv "$in"
is "summary counts" "$(grep -v kept .err)" \
"nudge-import-list: $in: read 16, inserted 5, updated 0, unchanged 0, rejected 11; 0 list memberships added"
printf '%s\n' \
'line,reason,email,phone,first_name,city' \
'3,"email: not an address (no domain): ""bad@""",bad@,,B,x' \
'4,"email: not an address (character not allowed before the @): ""dana levi@example.com""",dana levi@example.com,,C,x' \
'5,"email: not an address (no @): ""no-at.example.com""",no-at.example.com,,D,x' \
'9,"wrong number of fields: 3, the header has 4",ragged@example.com,,H' \
'10,"wrong number of fields: 5, the header has 4",extra@example.com,,I,x,y' >want.csv
printf '11,first_name: not valid UTF-8,utf@example.com,,\377\376,x\n' >>want.csv
printf '%s\n' \
'12,"email: not an address (character not allowed before the @): ""quoted\nnewline@example.com""","quoted' \
'newline@example.com",,J,x' \
'14,phone: +972521111111 belongs to another contact,ok4@example.com,052-1111111,K,x' \
'15,phone: +972521111111 belongs to another contact,ok5@example.com,0521111111,L,x' \
'16,"email: not an address (non-ASCII before the @): ""hebrewד@example.com""",hebrewד@example.com,,M,x' \
'17,"email: not an address (domain has no dot): ""local@localhost""",local@localhost,,N,x' >>want.csv
cmp_file "rejects file: line, reason, the row as it came" want.csv rej.csv
is "good rows stored, bad phones left out, the phone-only row kept (it wins the phone from ok4)" \
	"$(sql 'SELECT email, phone, first_name FROM contacts ORDER BY id')" \
"ok1@example.com		A
ok2@example.com		E
ok3@example.com		F
	+972521111111	G
ok6@example.com		O"
is "the phones left out are listed with their line, and counted" "$(grep kept .err)" \
"nudge-import-list: $in:6: phone: wrong number of digits: \"052\" (kept the contact without it)
nudge-import-list: $in:7: phone: not a phone number: \"call me\" (kept the contact without it)
nudge-import-list: $in: 2 rows kept without a field that could not be read (shown above)"
exits "a second import of the same file" 65 \
	nudge import-list --config config.yaml --rejects rej2.csv "$in"
cmp_file "rejects the same rows again" want.csv rej2.csv
exits "without --rejects: reasons on stderr" 65 \
	nudge import-list --config config.yaml "$in"
is "the first 10 reasons, then a count" "$(grep -v kept .err | sed -n '1p;10,12p')" \
"nudge-import-list: $in:3: email: not an address (no domain): \"bad@\"
nudge-import-list: $in:16: email: not an address (non-ASCII before the @): \"hebrewד@example.com\"
nudge-import-list: $in: 1 more rejected rows not shown (--rejects FILE keeps them all)
nudge-import-list: $in: read 16, inserted 0, updated 0, unchanged 5, rejected 11; 0 list memberships added"
is "the store still has 5 contacts" "$(sql 'SELECT count(*) FROM contacts')" 5
printf 'email,phone\n,bad\nx@,\n' >noaddr.csv
exits "a row with no usable address at all is rejected" 65 \
	nudge import-list --config config.yaml --rejects rej3.csv noaddr.csv
is "with the reasons of both" "$(cat rej3.csv)" 'line,reason,email,phone
2,"phone: not a phone number: ""bad""",,bad
3,"email: not an address (no domain): ""x@""",x@,'
done_testing
