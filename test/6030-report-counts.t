#!/bin/sh
# report per campaign over all time reads the counts the store keeps
# (campaign_counts, campaign_channels): they equal the figures computed
# here from the events by hand, and the report from them equals the one
# computed from the events (--since before every event takes that way),
# after inserts one by one and by import, after a contact's
# events are deleted (by cascade) and after the migration runs again;
# an update that would make them drift is refused.
. "$(dirname "$0")/lib.sh"
plan 12

# campaign, type, events, distinct contacts: by hand from the events
want_counts() {
	sql "SELECT c.name, e.type, count(*), count(DISTINCT e.contact_id)
	    FROM events e JOIN campaigns c ON c.id = e.campaign_id
	    WHERE e.type IN ('sent', 'failed', 'bounced', 'opened', 'clicked',
	    'unsubscribed', 'complained') GROUP BY 1, 2 ORDER BY 1, 2"
	sql "SELECT c.name, coalesce(e.channel, ''), sum(CASE WHEN e.channel =
	    'sms' THEN coalesce(json_extract(e.props, '\$.segments'), 1) ELSE 1
	    END) FROM events e JOIN campaigns c ON c.id = e.campaign_id
	    WHERE e.type = 'sent' GROUP BY 1, 2 ORDER BY 1, 2"
}
got_counts() {
	sql "SELECT c.name, n.type, n.events, n.contacts FROM campaign_counts n
	    JOIN campaigns c ON c.id = n.campaign_id WHERE n.events > 0
	    ORDER BY 1, 2"
	sql "SELECT c.name, h.channel, h.parts FROM campaign_channels h
	    JOIN campaigns c ON c.id = h.campaign_id WHERE h.parts <> 0
	    ORDER BY 1, 2"
}
# the report from the counts, and from the events
same_report() {
	nudge report --format csv >counted.csv 2>&1
	nudge report --format csv --since 1970-01-02 >scanned.csv 2>&1
	cmp_file "$1" scanned.csv counted.csv
}

nudge event import --create "$TESTDIR/report/events.csv" 2>/dev/null
# an SMS in three parts, a second one in one, a repeat open
nudge event add --contact c@example.com --type sent --channel sms \
	--campaign nov --step text --at 2026-11-06T09:00:00Z --prop segments=3 >/dev/null
nudge event add --contact d@example.com --type sent --channel sms \
	--campaign nov --step text --at 2026-11-06T09:00:00Z >/dev/null
nudge event add --contact b@example.com --type opened --channel email \
	--campaign nov --step welcome --at 2026-11-06T10:00:00Z >/dev/null
want_counts >want.txt
got_counts >got.txt
cmp_file "events one by one: the counts are the events'" want.txt got.txt
same_report "and the report from them is the one from the events"
is "the SMS parts in the report" \
	"$(grep '^nov,' counted.csv | cut -d, -f2,3,17)" "8,4,4"

# an import (a big one drops the triggers with the indexes and
# recomputes the counts: test/unit/event.c): 40 contacts, each sent
# twice, half of them opened
{
	echo contact,type,channel,campaign,step,at
	i=1
	while [ $i -le 40 ]; do
		echo "bulk$i@example.com,sent,email,bulk,one,2026-11-07T09:00:00Z"
		echo "bulk$i@example.com,sent,email,bulk,two,2026-11-08T09:00:00Z"
		[ $((i % 2)) = 0 ] &&
			echo "bulk$i@example.com,opened,email,bulk,one,2026-11-07T10:00:00Z"
		i=$((i + 1))
	done
} >bulk.csv
nudge event import --create bulk.csv 2>/dev/null
want_counts >want.txt
got_counts >got.txt
cmp_file "after an import: the counts are the events'" want.txt got.txt
is "bulk: 80 messages to 40 contacts, 20 opened" \
	"$(nudge report --campaign bulk --format tsv | cut -f2,3,6)" "80	40	20"
is "the triggers are back" \
	"$(sql "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'events' ORDER BY name)")" \
	"events_count_delete events_count_insert events_count_update"

# a contact deleted: its events go by cascade, and its counts with them
sqlite3 "$NUDGE_DB" "PRAGMA foreign_keys = ON; DELETE FROM contacts WHERE email IN ('a@example.com', 'c@example.com', 'bulk2@example.com')"
want_counts >want.txt
got_counts >got.txt
cmp_file "after a delete: the counts are the events'" want.txt got.txt
same_report "and the report from them is still the one from the events"
is "nov lost a's and c's messages" \
	"$(grep '^nov,' counted.csv | cut -d, -f2,3,17)" "4,2,1"

like "an update that would make the counts drift is refused" \
	"$(sqlite3 "$NUDGE_DB" "UPDATE events SET campaign_id = NULL WHERE type = 'opened' AND campaign_id IS NOT NULL" 2>&1)" \
	"cannot change"
ok "a bounce's props may change (dsn.c re-classifies)" \
	sqlite3 "$NUDGE_DB" "UPDATE events SET props = '{\"class\":\"soft\"}' WHERE type = 'bounced'"

# the migration again (test 7090 needs the newest one safe to re-run)
v=$(sql 'PRAGMA user_version')
sqlite3 "$NUDGE_DB" "UPDATE campaign_counts SET events = 99; PRAGMA user_version = $((v - 1))"
nudge report --format csv >/dev/null 2>&1
got_counts >got.txt
cmp_file "the migration run again recomputes the counts" want.txt got.txt
done_testing
