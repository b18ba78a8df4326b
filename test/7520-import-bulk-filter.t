#!/bin/sh
# import-list: past its hash tables (NUDGE_IMPORT_BULK_WINDOW rows, 1.5M
# unless told) the bulk path finds duplicates with a filter and puts off
# every row the filter may have seen a key of until the indexes are built
# again.  Across that hand-over, with duplicates on both sides of it, it
# must store what the row-by-row path stores: the same contacts, lists and
# rejects (only the ids of contacts first inserted by a row put off may come
# later).  A filter of one block (NUDGE_IMPORT_FILTER_BLOCKS=1) says "seen"
# for nearly every key, so nearly every row after the hand-over is put off.
. "$(dirname "$0")/lib.sh"
plan 14

printf 'default_country: IL\n' >config.yaml
# duplicates in other case on both sides of row 1000, phones shared between
# contacts, a contact changing its phone after the hand-over and another
# then taking the old one, lists, a row whose email belongs to somebody
# else, rows with only a phone.
awk 'BEGIN {
	print "email,phone,first_name,city,lists"
	for (i = 0; i < 3000; i++) {
		e = sprintf("user%d@example.com", (i * 7) % 2600)
		if (i % 7 == 0) e = toupper(e)
		if (i % 13 == 0) e = ""
		p = (i % 5 == 0) ? "" : sprintf("05%08d", (i * 37) % 2900)
		c = (i % 3 == 0) ? "" : sprintf("City %d", i % 17)
		printf "%s,%s,Name %d,%s,l%d;l%d\n", e, p, i, c, i % 3, i % 11
	}
	print "move@example.com,0599999999,Move,,"
	print "user5@example.com,0599999999,Clash,,"
	print "move@example.com,0599999998,Moved,,"
	print "take@example.com,0599999999,Take,,"
	print "late@example.com,0599999998,Late,,"
	print ",0599999997,PhoneOnly,,l1"
	print "phone@example.com,0599999997,Named,,l2"
}' >mix.csv

state() { sqlite3 "$1" "SELECT email, phone, first_name, last_name, attrs
	FROM contacts ORDER BY email, phone;
	SELECT l.name, c.email, c.phone FROM list_members m
	JOIN lists l ON l.id = m.list_id JOIN contacts c ON c.id = m.contact_id
	ORDER BY 1, 2, 3"; }

run() { # run NAME ENV...: imports mix.csv into NAME.db
	name=$1
	shift
	env "$@" nudge import-list --config config.yaml --db "$name.db" \
		--rejects "$name.rej" mix.csv 2>"$name.err"
	echo $? >"$name.rc"
	state "$name.db" >"$name.state"
	# the id a conflict names is that of a contact that may come later
	sed 's/belongs to contact [0-9]*/belongs to contact N/' "$name.rej" |
		sort >"$name.rejs"
}

run rows NUDGE_IMPORT_NO_BULK=1
run hand NUDGE_IMPORT_BULK_WINDOW=1000
run all NUDGE_IMPORT_BULK_WINDOW=1000 NUDGE_IMPORT_FILTER_BLOCKS=1
run one NUDGE_IMPORT_BULK_WINDOW=1000 NUDGE_IMPORT_FILTER_BLOCKS=1 \
	NUDGE_IMPORT_NO_THREAD=1
run end NUDGE_IMPORT_BULK_WINDOW=1000 NUDGE_IMPORT_FILTER_BLOCKS=1 \
	NUDGE_IMPORT_BULK_MAX=2000

is "row by row: exit 65 for the rejects" "$(cat rows.rc)" 65
like "some rows were rejected" "$(wc -l <rows.rej)" '^ *[1-9][0-9]*$'
is "past the hash tables: exit 65" "$(cat hand.rc)" 65
cmp_file "the filter with duplicates found after row 1000 stores what row by row stores" \
	rows.state hand.state
cmp_file "so does a filter that puts off nearly every row" rows.state all.state
cmp_file "and one thread" rows.state one.state
cmp_file "and the bulk path ending halfway through the rows put off" \
	rows.state end.state
cmp_file "the same rejects (filter)" rows.rejs hand.rejs
cmp_file "the same rejects (rows put off)" rows.rejs all.rejs
cmp_file "the same summary" rows.err all.err
cmp_file "the same summary (bulk path ending)" rows.err end.err
is "a phone given up is free for another; one in use is not" \
	"$(sqlite3 all.db "SELECT email, phone FROM contacts WHERE email IN ('move@example.com', 'take@example.com', 'late@example.com', 'user5@example.com') ORDER BY email")" \
"move@example.com|+972599999998
take@example.com|+972599999999
user5@example.com|"
is "an email row whose phone a phone-only contact has is rejected" \
	"$(sqlite3 all.db "SELECT email, first_name FROM contacts WHERE phone = '+972599999997'")
$(grep -c '^3008,phone: +972599999997 belongs to another contact,phone@' all.rej)" \
	"|PhoneOnly
1"
is "the indexes are back, unique" \
	"$(sqlite3 all.db "SELECT name, \"unique\" FROM pragma_index_list('contacts') ORDER BY name")" \
"contacts_email|1
contacts_phone|1
contacts_push|0"
done_testing
