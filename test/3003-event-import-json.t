#!/bin/sh
# nudge event import, JSON lines: exact rows with typed props, each reject
# with its line number, the tab-separated rejects file.
. "$(dirname "$0")/lib.sh"
plan 13

: >empty.jsonl
ok "--create and an empty file create the store" \
	nudge event import --create empty.jsonl
sql "INSERT INTO contacts (email, phone, created_at, updated_at) VALUES
	('a@example.com', NULL, 0, 0), (NULL, '+972521234567', 0, 0)"

cat >events.jsonl <<'EOT'
{"contact":"a@example.com","type":"purchase","channel":"web","at":"2026-11-01T12:00:00Z","amount":12.5,"items":["shirt","hat"],"gift":true,"coupon":null,"note":"שלום \"חבר\""}

{"email":"A@EXAMPLE.COM","type":"sent","channel":"email","campaign":"promo","step":"s1","at":1793491200}
{"phone":"+972 52-123-4567","type":"ad_view","source":"facebook","n":2}
{"contact":2,"type":"clicked","campaign":"promo","at":"2026-11-02"}
{"contact":"a@example.com","type":"opened"
[1,2]
{"contact":"nobody@example.com","type":"opened"}
{"contact":"a@example.com","type":"Opened"}
{"contact":"a@example.com","type":"opened","at":"tomorrow"}
{"contact":"a@example.com","type":"opened","channel":"e-mail!"}
{"contact":"a@example.com","type":["opened"]}
{"type":"opened"}
EOT
printf '{"contact":"a@example.com","type":"opened","x":"caf\351"}\n' >>events.jsonl

exits "rejects make the exit 65" 65 nudge event import events.jsonl
is "each reject with its physical line" "$(cat .err)" \
'nudge-event: events.jsonl:6: not valid JSON
nudge-event: events.jsonl:7: not a JSON object
nudge-event: events.jsonl:8: contact: no such contact: "nobody@example.com"
nudge-event: events.jsonl:9: type: not a name: "Opened"
nudge-event: events.jsonl:10: at: not a time: "tomorrow"
nudge-event: events.jsonl:11: channel: not a name: "e-mail!"
nudge-event: events.jsonl:12: type: not a string
nudge-event: events.jsonl:13: contact: missing
nudge-event: events.jsonl:14: not valid UTF-8
nudge-event: events.jsonl: read 13, recorded 4, rejected 9'
is "the rows, props keeping their JSON types" "$(sql 'SELECT id,
	contact_id, type, quote(channel), quote(campaign_id), quote(step), at,
	quote(props) FROM events ORDER BY id')" \
"1	1	purchase	'web'	NULL	NULL	1793534400	'{\"amount\":12.5,\"items\":[\"shirt\",\"hat\"],\"gift\":true,\"coupon\":null,\"note\":\"שלום \\\"חבר\\\"\"}'
2	1	sent	'email'	1	's1'	1793491200	NULL
3	2	ad_view	NULL	NULL	NULL	$(sql 'SELECT at FROM events WHERE id = 3')	'{\"source\":\"facebook\",\"n\":2}'
4	2	clicked	NULL	1	NULL	1793577600	NULL"
is "props read back with json_extract" "$(sql "SELECT
	json_extract(props, '\$.items[1]'), json_extract(props, '\$.gift'),
	json_extract(props, '\$.note') FROM events WHERE id = 1")" \
	'hat	1	שלום "חבר"'
is "sent set the campaign's first_sent_at" \
	"$(sql 'SELECT name, first_sent_at, channel FROM campaigns')" \
	"promo	1793491200	email"

sql 'DELETE FROM events; DELETE FROM campaigns; DELETE FROM event_imports'
exits "with --rejects" 65 nudge event import -r rej.tsv events.jsonl
is "stderr has the summary only" "$(cat .err)" \
	"nudge-event: events.jsonl: read 13, recorded 4, rejected 9"
{
	printf '6\tnot valid JSON\t{"contact":"a@example.com","type":"opened"\n'
	printf '7\tnot a JSON object\t[1,2]\n'
	printf '8\tcontact: no such contact\t{"contact":"nobody@example.com","type":"opened"}\n'
	printf '9\ttype: not a name\t{"contact":"a@example.com","type":"Opened"}\n'
	printf '10\tat: not a time\t{"contact":"a@example.com","type":"opened","at":"tomorrow"}\n'
	printf '11\tchannel: not a name\t{"contact":"a@example.com","type":"opened","channel":"e-mail!"}\n'
	printf '12\ttype: not a string\t{"contact":"a@example.com","type":["opened"]}\n'
	printf '13\tcontact: missing\t{"type":"opened"}\n'
	printf '14\tnot valid UTF-8\t{"contact":"a@example.com","type":"opened","x":"caf\351"}\n'
} >want.tsv
cmp_file "rejects: line, reason, the original line" want.tsv rej.tsv

exits "--create with JSON" 65 nudge event import --create \
	--format json - <events.jsonl
is "summary names the created contact" "$(tail -n 1 .err)" \
	"nudge-event: (stdin): read 13, recorded 5, rejected 8, created 1"
is "stdin is named (stdin)" "$(head -n 1 .err)" \
	"nudge-event: (stdin):6: not valid JSON"
is "created by email" "$(sql "SELECT id FROM contacts
	WHERE email = 'nobody@example.com'")" 3
done_testing
