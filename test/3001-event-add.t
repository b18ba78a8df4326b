#!/bin/sh
# nudge event add: every option, the exact row stored, errors and exit codes.
. "$(dirname "$0")/lib.sh"
plan 35

# a typo in --db must not make an empty store that answers "no such
# contact": only --create (or import-list) makes a store
exits "no store and no --create is 66" 66 \
	nudge event add --db shpo.db --contact a@example.com --type sent
is "it names the path" "$(cat .err)" \
	'nudge-event: shpo.db: No such file or directory (nudge import-list or --create makes a store)'
ok "and makes none" test ! -e shpo.db
exits "nor with \$NUDGE_DB" 66 \
	nudge event add --contact a@example.com --type sent
ok "which stays missing" test ! -e "$NUDGE_DB"
printf 'email\n' | nudge import-list 2>/dev/null
exits "unknown contact without --create is 65" 65 \
	nudge event add --contact a@example.com --type sent
is "it says which contact" "$(cat .err)" \
	'nudge-event: contact: no such contact: "a@example.com"'

before=$(date +%s)
ok "add with every option" nudge event add --contact A@Example.com \
	--type purchase --channel web --campaign "Nov promo" --step s1 \
	--at 2026-11-01T10:30:00+02:00 --prop amount=12.50 \
	--prop item="חולצה כחולה" --prop zip=02134 --prop note='a,"b"' \
	--prop n=-3 --source crm --create
after=$(date +%s)
is "prints the event id" "$(cat .out)" 1
is "the event row" "$(sql 'SELECT id, contact_id, type, channel,
	campaign_id, step, quote(message_id), at, props FROM events')" \
"1	1	purchase	web	1	s1	NULL	1793521800	{\"amount\":12.50,\"item\":\"חולצה כחולה\",\"zip\":\"02134\",\"note\":\"a,\\\"b\\\"\",\"n\":-3}"
is "the contact was created, lower-cased" \
	"$(sql 'SELECT id, email, quote(phone) FROM contacts')" \
	"1	a@example.com	NULL"
is "the campaign row" "$(sql "SELECT id, name, quote(channel),
	quote(first_sent_at), created_at BETWEEN $before AND $after
	FROM campaigns")" "1	Nov promo	NULL	NULL	1"
is "a purchase writes no consent" "$(sql 'SELECT count(*) FROM consent')" 0
is "props are valid JSON" \
	"$(sql "SELECT json_extract(props, '\$.item') FROM events")" \
	"חולצה כחולה"

before=$(date +%s)
ok "add by id, at defaults to now" nudge event add --contact 1 --type opened
after=$(date +%s)
is "the second row" "$(sql "SELECT id, contact_id, type, quote(channel),
	quote(campaign_id), quote(step), at BETWEEN $before AND $after,
	quote(props) FROM events WHERE id = 2")" \
	"2	1	opened	NULL	NULL	NULL	1	NULL"

ok "a campaign name is reused" nudge event add --contact a@example.com \
	--type sent --channel email --campaign "Nov promo" --at 2026-11-02
is "one campaign, first_sent_at and channel from the sent event" \
	"$(sql 'SELECT count(*), max(first_sent_at), max(channel) FROM campaigns')" \
	"1	1793577600	email"

printf 'default_country: IL\n' >c.yaml
ok "phone reference with the config's default country" nudge event add \
	--config c.yaml --contact "052-123 4567" --type sales_call --create
is "phone contact stored in E.164" \
	"$(sql "SELECT id, phone FROM contacts WHERE phone IS NOT NULL")" \
	"2	+972521234567"
ok "found by another spelling" nudge event add --config c.yaml \
	--contact +972-52-1234567 --type sales_call
is "no second contact" "$(sql 'SELECT count(*) FROM contacts')" 2

ok "--db names another store" nudge event add --db other.db \
	--contact x@example.com --type ad_view --create
is "the other store has it" \
	"$(sqlite3 other.db 'SELECT type FROM events')" "ad_view"

exits "type not a name is 65" 65 nudge event add --contact 1 --type Sent
is "its message" "$(cat .err)" 'nudge-event: type: not a name: "Sent"'
exits "bad channel is 65" 65 nudge event add --contact 1 --type sent \
	--channel "e mail"
exits "bad time is 65" 65 nudge event add --contact 1 --type sent \
	--at yesterday
is "its message" "$(cat .err)" 'nudge-event: at: not a time: "yesterday"'
exits "bad contact reference is 65" 65 nudge event add --contact 'foo@' \
	--type sent
exits "--create cannot make a contact from an id" 65 nudge event add \
	--contact 99 --type sent --create
exits "--prop without = is 64" 64 nudge event add --contact 1 --type x \
	--prop novalue
exits "a missing --type is 64" 64 nudge event add --contact 1
exits "an import option is 64 for add" 64 nudge event add --contact 1 \
	--type x --dry-run
is "nothing stored by the failures" "$(sql 'SELECT count(*) FROM events')" 5
done_testing
