#!/bin/sh
# Text in a segment is data: bound as a parameter, never pasted into SQL.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/segment/fixture.sh"
plan 9

snapshot() { sql "SELECT count(*) FROM contacts; SELECT count(*) FROM events;
	SELECT count(*) FROM lists; SELECT group_concat(name) FROM sqlite_schema"; }
before=$(snapshot)

is "a list name with SQL in it is a name" \
	"$(seg -c "list \"x'); DROP TABLE contacts; --\"")" "0"
sql "INSERT INTO lists (id, name, created_at) VALUES
 (3, 'x''); DROP TABLE contacts; --', 0);
 INSERT INTO list_members VALUES (3, 5, 0)"
is "it matches the list of that very name" \
	"$(seg "list \"x'); DROP TABLE contacts; --\"")" "5"
is "a field value with SQL in it" \
	"$(seg -c "city = \"' OR 1=1 --\"")" "0"
is "a quoted \\\" inside a value" \
	"$(seg -c 'last_name = "Smith, \"Jr\""')" "1"
is "a campaign name with SQL in it" \
	"$(seg -c "clicked campaign \"promo') OR 1=1 --\"")" "0"
exits "a property name cannot hold a quote" 64 \
	seg -c 'ad_view source") OR 1=1 --x = "1"'
is "an attrs field with SQL in it is a key" \
	"$(seg -f tsv --fields 'id,email FROM contacts; DROP TABLE events; --' 'list "vip"')" \
	"1	
3	"
exits "a field with a double quote is refused" 64 \
	seg -f tsv --fields 'a"b' 'list "vip"'
sql "DELETE FROM list_members WHERE list_id = 3; DELETE FROM lists WHERE id = 3"
is "the store is unchanged" "$(snapshot)" "$before"
done_testing
