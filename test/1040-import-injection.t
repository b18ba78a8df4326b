#!/bin/sh
# import-list: hostile CSV data is stored as data, never run as SQL.
. "$(dirname "$0")/lib.sh"
plan 5

cat >evil.csv <<'CSV'
email,first_name,last_name,lists,"x'); DROP TABLE contacts; --"
a@example.com,"Robert'); DROP TABLE contacts;--",'; DELETE FROM lists; --,"vip'); DROP TABLE list_members; --","1 OR 1=1"
CSV
ok "imports hostile values" nudge import-list evil.csv
is "names stored verbatim" "$(sql 'SELECT first_name, last_name FROM contacts')" \
	"Robert'); DROP TABLE contacts;--	'; DELETE FROM lists; --"
is "a hostile column name becomes a plain attrs key (normalised)" \
	"$(sql 'SELECT attrs FROM contacts')" \
	"{\"x_drop_table_contacts\":\"1 OR 1=1\"}"
is "hostile list names are just lists (split on ;)" \
	"$(sql 'SELECT name FROM lists ORDER BY id')" "vip')
DROP TABLE list_members
--"
is "every table is still there" \
	"$(sql "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('contacts', 'lists', 'list_members')")" 3
done_testing
