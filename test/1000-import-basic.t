#!/bin/sh
# import-list: header mapping, BOM, CRLF, quoted newlines, UTF-8, lists.
. "$(dirname "$0")/lib.sh"
plan 9

printf 'default_country: IL\n' >config.yaml
exits "imports a clean file" 0 \
	nudge import-list --config config.yaml "$TESTDIR/import/basic.csv"
is "summary on stderr" "$(cat .err)" \
"nudge-import-list: $TESTDIR/import/basic.csv: read 3, inserted 3, updated 0, unchanged 0, rejected 0; 3 list memberships added"
is "nothing on stdout" "$(cat .out)" ""
is "contacts stored normalised, attrs as JSON under normalised keys" \
	"$(sql 'SELECT id, email, phone, first_name, last_name, attrs FROM contacts ORDER BY id')" \
"1	dana@example.com	+972521234567	דנה	לוי	{\"city\":\"Tel Aviv\\r\\nYafo\"}
2	moshe@example.com	+12125550134	Moshe	Cohen, Jr.	{\"city\":\"Haifa\"}
3	olga@example.org		Ольга	Smirnova \"Olya\"	{}"
is "lists created from the lists column, trimmed, no empties" \
	"$(sql 'SELECT name FROM lists ORDER BY id')" "newsletter
vip"
is "memberships" \
	"$(sql 'SELECT l.name, m.contact_id FROM list_members m JOIN lists l ON l.id = m.list_id ORDER BY 1, 2')" \
"newsletter	1
newsletter	2
vip	1"
exits "--list adds every row to a list, from stdin" 0 \
	sh -c "nudge import-list --config config.yaml --list webinar < '$TESTDIR/import/basic.csv'"
is "stdin is named (stdin); existing rows unchanged" "$(cat .err)" \
"nudge-import-list: (stdin): read 3, inserted 0, updated 0, unchanged 3, rejected 0; 3 list memberships added"
is "store is WAL with a schema version" \
	"$(sql 'PRAGMA journal_mode; PRAGMA user_version; PRAGMA application_id')" "wal
13
1853187175"
done_testing
