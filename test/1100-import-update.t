#!/bin/sh
# import-list --update: all (the default: the row's cells win), blanks (fill
# only what the store lacks), none (change no field; lists still apply).
. "$(dirname "$0")/lib.sh"
plan 14

printf 'default_country: IL\n' >config.yaml
printf 'email,first_name,last_name,phone,city\ndana@example.com,דנה,,,חיפה\n' >first.csv
printf 'email,first_name,last_name,phone,city,source\ndana@example.com,Dana,Levi,052-1234567,Haifa,lead form\n' >lead.csv
row() { sql "SELECT first_name, coalesce(last_name, '-'), coalesce(phone, '-'), attrs FROM contacts"; }

ok "a first import" nudge import-list --config config.yaml first.csv
exits "--update blanks" 0 nudge import-list --config config.yaml --update blanks lead.csv
is "counted as updated" "$(cat .err)" \
	"nudge-import-list: lead.csv: read 1, inserted 0, updated 1, unchanged 0, rejected 0; 0 list memberships added"
is "the name stays, blanks and new attrs keys are filled" "$(row)" \
	"דנה	Levi	+972521234567	{\"city\":\"חיפה\",\"source\":\"lead form\"}"
exits "again" 0 nudge import-list --config config.yaml --update blanks lead.csv
is "nothing left to fill: unchanged" "$(cat .err)" \
	"nudge-import-list: lead.csv: read 1, inserted 0, updated 0, unchanged 1, rejected 0; 0 list memberships added"
exits "--update none" 0 nudge import-list --config config.yaml --update none --list leads lead.csv
is "no field changes, the list is joined" "$(row; sql 'SELECT count(*) FROM list_members')" \
	"דנה	Levi	+972521234567	{\"city\":\"חיפה\",\"source\":\"lead form\"}
1"
exits "the default, all" 0 nudge import-list --config config.yaml lead.csv
is "the row's cells win" "$(row)" \
	"Dana	Levi	+972521234567	{\"city\":\"Haifa\",\"source\":\"lead form\"}"
exits "--update of something else" 64 nudge import-list --update some lead.csv
is "each field remembers the import it came from (* the creating one)" \
	"$(sql "SELECT k.key, json_extract(k.value, '\$[0]') FROM contacts, json_each(contacts.sources) k ORDER BY 1")" \
"*	import:first.csv
attrs	import:lead.csv
first_name	import:lead.csv
last_name	import:lead.csv
phone	import:lead.csv"
exits "a recognised export creating a contact" 0 nudge import-list --config config.yaml --update blanks \
	"$TESTDIR/../samples/exports/hubspot-contacts.csv"
is "is the source of what it gave" \
	"$(sql "SELECT json_extract(sources, '\$.\"*\"[0]'), json_extract(sources, '\$.\"*\"[1]') = updated_at FROM contacts WHERE email = 'tom@example.com'")" \
	"hubspot	1"
done_testing
