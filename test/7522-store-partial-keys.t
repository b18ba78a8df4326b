#!/bin/sh
# store: the contacts' unique keys (contacts_email, contacts_phone) leave
# out the contacts without one (schema 14).  A store made before has them
# rebuilt at its next open, contacts kept; an email or a phone is still
# one contact's, any number of contacts still have none, and a lookup by
# either still goes through its index.  The first import into an empty
# store builds the same indexes.
. "$(dirname "$0")/lib.sh"
plan 9

printf 'default_country: IL\n' >config.yaml
printf 'email,phone\na@example.com,0501234567\nb@example.com,\n,0507654321\nc@example.com,\n' >c.csv
nudge import-list --config config.yaml c.csv 2>/dev/null
keys() { sql "SELECT name, sql FROM sqlite_master WHERE name IN ('contacts_email', 'contacts_phone') ORDER BY name"; }
keys >new.keys

# the store as schema 13 had it: keys over every contact
sql "DROP INDEX contacts_email; DROP INDEX contacts_phone;
	CREATE UNIQUE INDEX contacts_email ON contacts (email);
	CREATE UNIQUE INDEX contacts_phone ON contacts (phone);
	PRAGMA user_version = 13"
like "a schema 13 store has keys over every contact" "$(keys)" \
	'contacts_email.*\(email\)$'
exits "a reader's open upgrades it" 0 nudge lists
is "to schema 14" "$(sql 'PRAGMA user_version')" 14
is "its keys leave out the contacts without one" "$(keys)" \
"contacts_email	CREATE UNIQUE INDEX contacts_email ON contacts (email) WHERE email IS NOT NULL
contacts_phone	CREATE UNIQUE INDEX contacts_phone ON contacts (phone) WHERE phone IS NOT NULL"
cmp_file "the first import into an empty store builds the same ones" new.keys \
	"$(keys >up.keys; echo up.keys)"
is "every contact kept" "$(sql 'SELECT count(*), count(email), count(phone) FROM contacts')" \
	"4	3	2"
like "an email is still one contact's" \
	"$(sql "UPDATE contacts SET email = 'a@example.com' WHERE email = 'b@example.com'" 2>&1)" \
	'UNIQUE constraint failed: contacts.email'
ok "any number of contacts have no phone" \
	sql "UPDATE contacts SET phone = NULL WHERE email = 'a@example.com'"
is "a lookup by email or phone goes through its index" \
	"$(sql "EXPLAIN QUERY PLAN SELECT id FROM contacts WHERE email = 'a@example.com';
		EXPLAIN QUERY PLAN SELECT id FROM contacts WHERE phone = '+972507654321'" |
		sed -n 's/^`--//p')" \
"SEARCH contacts USING COVERING INDEX contacts_email (email=?)
SEARCH contacts USING COVERING INDEX contacts_phone (phone=?)"
