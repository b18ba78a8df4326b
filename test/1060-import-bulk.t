#!/bin/sh
# import-list: the first import into an empty store takes the bulk path
# (indexes dropped and rebuilt, duplicates found by hashing).  It must
# store exactly what the row-by-row path stores, also when it hands over
# to the row-by-row path halfway (NUDGE_IMPORT_BULK_MAX), and whether the
# rows are read by a thread of their own or not (NUDGE_IMPORT_NO_THREAD),
# and when the memberships it keeps go to a temporary file in sorted runs
# of 7, to be merged at the end (NUDGE_IMPORT_MBUF), the same membership
# in several runs too.
. "$(dirname "$0")/lib.sh"
plan 16

printf 'default_country: IL\n' >config.yaml
# duplicates in other case, phones shared between contacts, a contact
# changing its phone and then another contact taking the old one, lists.
awk 'BEGIN {
	print "email,phone,first_name,lists"
	for (i = 0; i < 3000; i++) {
		e = sprintf("user%d@example.com", i % 2500)
		if (i % 7 == 0) e = toupper(e)
		p = (i % 5 == 0) ? "" : sprintf("05%08d", (i * 37) % 2800)
		printf "%s,%s,Name %d,l%d;l%d\n", e, p, i, i % 3, i % 11
	}
	print "move@example.com,0599999999,Move,"
	print "move@example.com,0599999998,Moved,"
	print "take@example.com,0599999999,Take,"
	print "late@example.com,0599999998,Late,"
}' >mix.csv

state() { sqlite3 "$1" "SELECT id, email, phone, first_name, attrs FROM contacts ORDER BY id;
	SELECT list_id, contact_id FROM list_members ORDER BY 1, 2;
	SELECT id, name FROM lists ORDER BY id"; }

NUDGE_IMPORT_NO_BULK=1 nudge import-list --config config.yaml --db rows.db \
	--rejects rows.rej mix.csv 2>rows.err
is "row by row: exit 65 for the rejects" "$?" 65
nudge import-list --config config.yaml --db bulk.db --rejects bulk.rej \
	mix.csv 2>bulk.err
is "bulk: exit 65 for the rejects" "$?" 65
NUDGE_IMPORT_BULK_MAX=1000 nudge import-list --config config.yaml \
	--db half.db --rejects half.rej mix.csv 2>half.err
is "bulk then row by row: exit 65" "$?" 65
NUDGE_IMPORT_NO_THREAD=1 nudge import-list --config config.yaml --db one.db \
	--rejects one.rej mix.csv 2>one.err
NUDGE_IMPORT_MBUF=7 nudge import-list --config config.yaml --db runs.db \
	--rejects runs.rej mix.csv 2>runs.err
is "bulk with runs of 7 memberships: exit 65" "$?" 65
state runs.db >runs.state
state one.db >one.state
state rows.db >rows.state
state bulk.db >bulk.state
state half.db >half.state
cmp_file "bulk stores what row by row stores" rows.state bulk.state
cmp_file "so does the hand-over at row 1000" rows.state half.state
cmp_file "one thread stores what the reader thread and writer store" \
	rows.state one.state
cmp_file "the same rejects (one thread)" rows.rej one.rej
cmp_file "the same rejects (bulk)" rows.rej bulk.rej
cmp_file "the same rejects (hand-over)" rows.rej half.rej
cmp_file "the same summary" rows.err bulk.err
cmp_file "memberships merged from runs: what row by row stores" \
	rows.state runs.state
cmp_file "and the same summary (memberships counted once)" rows.err runs.err
is "a phone given up is free for another; one in use is not" \
	"$(sqlite3 bulk.db "SELECT email, phone FROM contacts WHERE email IN ('move@example.com', 'take@example.com', 'late@example.com') ORDER BY id")" \
"move@example.com|+972599999998
take@example.com|+972599999999"
like "phone conflicts were among the rejects" "$(grep -c 'belongs to' bulk.rej)" '^[1-9][0-9]*$'
is "the indexes are back, unique" \
	"$(sqlite3 bulk.db "SELECT name, \"unique\" FROM pragma_index_list('contacts') ORDER BY name")" \
"contacts_email|1
contacts_phone|1
contacts_push|0"
done_testing
