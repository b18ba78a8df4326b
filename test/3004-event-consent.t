#!/bin/sh
# Consent rows from unsubscribed, bounced, complained and subscribed events
# (channel, status, time, source, event), and campaigns.first_sent_at.
. "$(dirname "$0")/lib.sh"
plan 14

ok "unsubscribed without a channel" nudge event add --create \
	--contact a@example.com --type unsubscribed --at 2026-11-01T08:00:00Z \
	--source "web form"
is "one row per channel, with time, source and event" "$(sql 'SELECT
	id, contact_id, channel, status, at, source, event_id FROM consent')" \
"1	1	email	unsubscribed	1793520000	web form	1
2	1	sms	unsubscribed	1793520000	web form	1
3	1	push	unsubscribed	1793520000	web form	1"

ok "subscribed with a channel" nudge event add --contact a@example.com \
	--type subscribed --channel sms --at 2026-11-02
ok "subscribed without a channel" nudge event add --contact 1 \
	--type subscribed --at 2026-11-02
ok "bounced without a channel" nudge event add --contact 1 --type bounced \
	--at 2026-11-03
ok "complained on push" nudge event add --contact 1 --type complained \
	--channel push --at 2026-11-04
is "re-subscribe, bounce (email), complaint; the default source" \
	"$(sql 'SELECT id, channel, status, at, source, event_id FROM consent
	WHERE id > 3')" \
"4	sms	subscribed	1793577600	event add	2
5	email	bounced	1793664000	event add	4
6	push	complained	1793750400	event add	5"
is "earlier rows are never rewritten" "$(sql 'SELECT group_concat(status
	|| at || source, ",") FROM consent WHERE id <= 3')" \
	"unsubscribed1793520000web form,unsubscribed1793520000web form,unsubscribed1793520000web form"
is "consent_now: the latest row per channel" "$(sql 'SELECT channel,
	status FROM consent_now ORDER BY channel')" \
"email	bounced
push	complained
sms	subscribed"

printf '%s\n' 'email,type,channel,campaign,at' \
	'a@example.com,bounced,email,nov,2026-11-05' \
	'a@example.com,unsubscribed,sms,,2026-11-06' \
	'a@example.com,opened,email,nov,2026-11-06' >c.csv
ok "import consent events" nudge event import c.csv
is "source is import:FILE:LINE" "$(sql 'SELECT channel, status, at, source,
	event_id FROM consent WHERE id > 6')" \
"email	bounced	1793836800	import:c.csv:2	6
sms	unsubscribed	1793923200	import:c.csv:3	7"
ok "import with --source" nudge event import --source "esp webhook" c.csv
is "--source names every consent row" "$(sql 'SELECT DISTINCT source
	FROM consent WHERE id > 8')" "esp webhook"

# first_sent_at: the earliest sent event of the campaign, whatever the
# order of the rows; opens and campaign-less sends do not count
printf '%s\n' 'contact,type,channel,campaign,at' \
	'1,opened,email,spring,2026-03-01' \
	'1,sent,email,spring,2026-03-05' \
	'1,sent,email,spring,2026-03-02' \
	'1,sent,push,summer,2026-06-01' \
	'1,sent,email,,2026-01-01' >s.csv
nudge event import s.csv 2>/dev/null
is "first_sent_at kept by the event writer" "$(sql "SELECT name,
	quote(first_sent_at), quote(channel) FROM campaigns ORDER BY id")" \
"nov	NULL	NULL
spring	1772409600	'email'
summer	1780272000	'push'"
done_testing
