#!/bin/sh
# nudge event import, CSV: exact rows stored, every reject reason with its
# physical line number, the rejects file, --create, --dry-run, exit codes.
. "$(dirname "$0")/lib.sh"
plan 31

: >empty.csv
exits "no store and no --create is 66" 66 nudge event import empty.csv
ok "--create and an empty file: the store, nothing recorded" \
	nudge event import --create empty.csv
is "summary for nothing" "$(cat .err)" \
	"nudge-event: empty.csv: read 0, recorded 0, rejected 0, created 0"
sql "INSERT INTO contacts (email, created_at, updated_at) VALUES
	('a@example.com', 0, 0), ('b@example.com', 0, 0)"

# Line 2-3 hold one record (a quoted newline), so every later record
# starts one physical line after its record number.
printf '%s\n' \
	'contact,type,channel,campaign,step,at,note' \
	'a@example.com,sent,email,promo,1,2026-11-01T09:00:00Z,"two' \
	'lines"' \
	'A@Example.COM,opened,email,promo,1,2026-11-01T10:00:00+01:00,' \
	"2,purchase,web,,,2026-11-01,\"x'); DROP TABLE events;--\"" \
	'nobody@example.com,opened,email,promo,1,2026-11-01,' \
	'a@example.com,,email,,,2026-11-01,' \
	'a@example.com,Opened,email,,,2026-11-01,' \
	'a@example.com,opened,e mail,,,2026-11-01,' \
	'a@example.com,opened,email,,,11/01/2026,' \
	'foo@,opened,email,,,2026-11-01,' \
	'a@example.com,opened' >events.csv
printf 'a@example.com,opened,email,,,2026-11-01,caf\351\n' >>events.csv
printf ',opened,email,,,,\n' >>events.csv

exits "rejects make the exit 65" 65 nudge event import events.csv
is "each reject on stderr with its line, field and value" "$(cat .err)" \
'nudge-event: events.csv:6: contact: no such contact: "nobody@example.com"
nudge-event: events.csv:7: type: missing
nudge-event: events.csv:8: type: not a name: "Opened"
nudge-event: events.csv:9: channel: not a name: "e mail"
nudge-event: events.csv:10: at: ambiguous date: day/month or month/day? (give --date-order dmy or mdy): "11/01/2026"
nudge-event: events.csv:11: contact: not an email address (no domain): "foo@"
nudge-event: events.csv:12: expected 7 fields, got 2
nudge-event: events.csv:13: note: not valid UTF-8
nudge-event: events.csv:14: contact: missing
nudge-event: events.csv: read 12, recorded 3, rejected 9'
is "the good rows are recorded exactly" "$(sql 'SELECT id, contact_id,
	type, quote(channel), quote(campaign_id), quote(step), at,
	quote(props) FROM events ORDER BY id')" \
"1	1	sent	'email'	1	'1'	1793523600	'{\"note\":\"two\\nlines\"}'
2	1	opened	'email'	1	'1'	1793523600	NULL
3	2	purchase	'web'	NULL	NULL	1793491200	'{\"note\":\"x''); DROP TABLE events;--\"}'"
is "one campaign" "$(sql 'SELECT id, name FROM campaigns')" "1	promo"
is "no contact created without --create" \
	"$(sql 'SELECT count(*) FROM contacts')" 2

sql 'DELETE FROM events; DELETE FROM campaigns; DELETE FROM event_imports'
exits "with --rejects: still 65" 65 nudge event import --rejects rej.csv \
	events.csv
is "with --rejects stderr has only the summary" "$(cat .err)" \
	"nudge-event: events.csv: read 12, recorded 3, rejected 9"
cat >want.csv <<'EOT'
line,reason,contact,type,channel,campaign,step,at,note
6,contact: no such contact,nobody@example.com,opened,email,promo,1,2026-11-01,
7,type: missing,a@example.com,,email,,,2026-11-01,
8,type: not a name,a@example.com,Opened,email,,,2026-11-01,
9,channel: not a name,a@example.com,opened,e mail,,,2026-11-01,
10,at: ambiguous date: day/month or month/day? (give --date-order dmy or mdy),a@example.com,opened,email,,,11/01/2026,
11,contact: not an email address (no domain),foo@,opened,email,,,2026-11-01,
12,"expected 7 fields, got 2",a@example.com,opened
EOT
printf '13,note: not valid UTF-8,a@example.com,opened,email,,,2026-11-01,caf\351\n' >>want.csv
printf '14,contact: missing,,opened,email,,,,\n' >>want.csv
cmp_file "the rejects file: line, reason, the original fields" want.csv rej.csv

sql 'DELETE FROM events; DELETE FROM campaigns'
exits "--create makes the unknown contact" 65 nudge event import --create \
	events.csv
is "summary counts it" "$(tail -n 1 .err)" \
	"nudge-event: events.csv: read 12, recorded 4, rejected 8, created 1"
is "the new contact" "$(sql "SELECT id, email, created_at > 0 FROM contacts
	WHERE id = 3")" "3	nobody@example.com	1"
is "its event" "$(sql 'SELECT type, campaign_id FROM events
	WHERE contact_id = 3')" "opened	1"
is "the store is intact" "$(sql "SELECT count(*) FROM sqlite_schema
	WHERE name IN ('events', 'contacts', 'campaigns', 'consent')")" 4

# --dry-run: counts, then rolls back
sql 'DELETE FROM events; DELETE FROM campaigns; DELETE FROM contacts
	WHERE id = 3'
sqlite3 "$NUDGE_DB" .dump >before.sql
exits "--dry-run validates and exits like a real run" 65 nudge event import \
	--dry-run --create events.csv
is "dry-run summary" "$(tail -n 1 .err)" \
	"nudge-event: events.csv: read 12, recorded 4, rejected 8, created 1 (dry run: nothing stored)"
sqlite3 "$NUDGE_DB" .dump >after.sql
cmp_file "--dry-run leaves the store as it was" before.sql after.sql

# all good rows: exit 0; email column as the contact; extra columns are
# props (numbers as numbers), Hebrew kept; stdin is read as "stdin"
printf '%s\n' 'email,type,at,מוצר,amount,zip' \
	'b@example.com,purchase,@1700000000,שמלה אדומה,99.90,02134' >heb.csv
ok "an all-good import exits 0" nudge event import - <heb.csv
is "summary" "$(cat .err)" "nudge-event: (stdin): read 1, recorded 1, rejected 0"
is "Hebrew header and value in props" "$(sql 'SELECT contact_id, type, at,
	props FROM events')" \
	'2	purchase	1700000000	{"מוצר":"שמלה אדומה","amount":99.90,"zip":"02134"}'

# more than ten rejects: ten shown, then how many more
{ echo 'contact,type'; i=0; while [ $i -lt 15 ]; do echo "a@example.com,Bad$i"; i=$((i + 1)); done; } >many.csv
exits "fifteen rejects" 65 nudge event import many.csv
is "ten shown" "$(grep -c 'type: not a name' .err)" 10
is "then the rest counted" "$(tail -n 2 .err)" \
"nudge-event: many.csv: 5 more rejected rows not shown (--rejects FILE keeps them all)
nudge-event: many.csv: read 15, recorded 0, rejected 15"

printf 'email,channel\na@example.com,email\n' >notype.csv
exits "a header without type is 65" 65 nudge event import notype.csv
is "it says so" "$(head -n 1 .err)" "nudge-event: notype.csv:1: header: no type column (give --type TYPE, or --map COLUMN=type)"
exits "a missing input is 66" 66 nudge event import nosuch.csv
exits "a bad --format is 64" 64 nudge event import --format xml empty.csv
exits "an unknown subcommand is 64" 64 nudge event frob
nudge event --help >help.txt
is "--help prints the usage" "$(cat help.txt)" \
"usage: nudge event add --contact ref --type type [--channel channel]
           [--campaign name] [--step step] [--at time] [--prop key=value ...]
           [--source text] [--create] [--db file] [--config file]
       nudge event import [-n] [-r rejects] [--batch rows]
           [--format csv | json | dsn | sisimai] [--parser auto | sisimai | builtin]
           [--type type] [--map column=field ...] [--date-order dmy | mdy]
           [--create] [--source text] [--db file] [--config file] [file | -]"
done_testing
