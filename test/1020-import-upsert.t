#!/bin/sh
# import-list: upsert by key, idempotent re-import, blank cells keep values,
# lists only added (or replaced on request), consent never touched.
. "$(dirname "$0")/lib.sh"
plan 14

printf 'default_country: IL\n' >config.yaml
printf 'email,phone,first_name,city,lists\na@example.com,0521234567,Ann,Haifa,news\nb@example.com,,Ben,,news;vip\n' >v1.csv
ok "first import" nudge import-list --config config.yaml v1.csv
sql '.dump' >dump1
exits "the same file again" 0 nudge import-list --config config.yaml v1.csv
is "nothing inserted or updated" "$(cat .err)" \
	"nudge-import-list: v1.csv: read 2, inserted 0, updated 0, unchanged 2, rejected 0; 0 list memberships added"
sql '.dump' >dump2
cmp_file "re-import leaves the store byte-identical" dump1 dump2

printf 'Email,first_name,city,lists\nA@EXAMPLE.COM,,Tel Aviv,leads\n  b@Example.com ,Benny,,\n' >v2.csv
exits "an update keyed on the email in another case" 0 \
	nudge import-list --config config.yaml v2.csv
is "two updated" "$(cat .err)" \
	"nudge-import-list: v2.csv: read 2, inserted 0, updated 2, unchanged 0, rejected 0; 1 list memberships added"
is "blank cells keep the stored value, attrs merge" \
	"$(sql 'SELECT email, phone, first_name, attrs FROM contacts ORDER BY id')" \
"a@example.com	+972521234567	Ann	{\"city\":\"Tel Aviv\"}
b@example.com		Benny	{}"
is "memberships only added" \
	"$(sql 'SELECT c.email, l.name FROM list_members m JOIN lists l ON l.id = m.list_id JOIN contacts c ON c.id = m.contact_id ORDER BY 1, 2')" \
"a@example.com	leads
a@example.com	news
b@example.com	news
b@example.com	vip"
ok "--replace-lists makes the file's lists the only ones" \
	nudge import-list --config config.yaml --replace-lists v2.csv
is "a keeps leads only, b (no lists in the file) has none" \
	"$(sql 'SELECT c.email, l.name FROM list_members m JOIN lists l ON l.id = m.list_id JOIN contacts c ON c.id = m.contact_id ORDER BY 1, 2')" \
"a@example.com	leads"

sql "INSERT INTO consent (contact_id, channel, status, at, source) VALUES (1, 'email', 'unsubscribed', 1700000000, 'test')"
ok "re-import after an unsubscribe" nudge import-list --config config.yaml v1.csv
is "an unsubscribed contact stays unsubscribed" \
	"$(sql 'SELECT contact_id, channel, status, source FROM consent_now')" \
	"1	email	unsubscribed	test"

printf 'phone,first_name\n+972 52-123-4567,Anna\n054-7654321,Dov\n' >p.csv
exits "--key phone upserts by phone" 0 \
	nudge import-list --config config.yaml --key phone p.csv
is "the existing phone updated, a new phone-only contact" \
	"$(sql "SELECT id, coalesce(email, '-'), phone, first_name FROM contacts ORDER BY id")" \
"1	a@example.com	+972521234567	Anna
2	b@example.com		Ben
3	-	+972547654321	Dov"
done_testing
