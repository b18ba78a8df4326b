#!/bin/sh
# An event import killed at any point, then run again until it ends,
# records every good row exactly once (and its consent row once), reports
# every bad row, and a rerun of a finished import records nothing; a bulk
# import killed with its indexes dropped gets them back from its rerun; a
# re-exported orders file records only its new orders.
. "$(dirname "$0")/lib.sh"
plan 17

awk 'BEGIN { print "email"; for (i = 0; i < 1000; i++)
	printf "u%d@example.com\n", i }' >c.csv
nudge import-list c.csv 2>/dev/null

# 200,000 rows: every 1,000th an unknown contact, every other 100th an
# unsubscribe (a consent row each); n makes each row's props unique.
awk 'BEGIN { print "contact,type,channel,at,n";
	for (i = 1; i <= 200000; i++) {
		c = i % 1000 == 0 ? "ghost@example.com" : "u" (i % 1000) "@example.com"
		t = i % 100 == 0 ? "unsubscribed" : "opened"
		printf "%s,%s,email,2026-01-01T00:00:00Z,%d\n", c, t, i
	}
}' >ev.csv
good=199800

# Kill the import three times, each once a batch past the previous kill has
# committed (the journal's line), then let it run to its end.
lastline=0
kills=0
while [ $kills -lt 3 ]; do
	nudge event import --batch 2000 -r rej.csv ev.csv 2>/dev/null &
	pid=$!
	n=0
	while [ $n -lt $((600 * SLOW)) ]; do
		l=$(sql "SELECT coalesce(max(line), 0) FROM event_imports" \
		    2>/dev/null || echo 0)
		[ "${l:-0}" -gt "$lastline" ] && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
		n=$((n + 1))
	done
	kill -9 $pid 2>/dev/null && kills=$((kills + 1))
	wait $pid 2>/dev/null
	lastline=$(sql "SELECT max(line) FROM event_imports")
	[ "$lastline" -ge 200000 ] && break
done
is "three kills, each after a committed batch" "$kills" 3
got=$(sql "SELECT count(*) FROM events")
ok "the kills left part of the file recorded" \
	test "$got" -gt 0 -a "$got" -lt $good
exits "the same import again completes it (65: rejects)" 65 \
	nudge event import --batch 2000 -r rej.csv ev.csv
like "it skipped what the killed runs recorded" "$(cat .err)" \
	"skipped $got rows the store holds already"
is "every good row once" "$(sql "SELECT count(*), count(DISTINCT
	json_extract(props, '\$.n')) FROM events")" "$good	$good"
is "every unsubscribe's consent row once" \
	"$(sql "SELECT count(*), count(DISTINCT event_id) FROM consent")" \
	"1800	1800"
is "every bad row reported by the run that completed it" \
	"$(tail -n +2 rej.csv | wc -l)" 200
is "the journal says done" \
	"$(sql "SELECT name, done FROM event_imports")" "ev.csv	1"

exits "a finished import again: still 65" 65 nudge event import ev.csv
like "it records nothing" "$(cat .err)" \
	"read 200000, recorded 0, rejected 200"
is "still every row once" "$(sql "SELECT count(*) FROM events")" $good

# A bulk import (a file over 32 MiB, more rows than the events table)
# drops the events indexes and the triggers that keep the report's
# counts; killed after its first commit it leaves them dropped and listed
# (4 indexes, 3 triggers and the recount of the counts), and its rerun
# builds them again.
awk 'BEGIN { print "contact,type,at,n";
	for (i = 1; i <= 1200000; i++)
		printf "u%d@example.com,ad_view,2026-02-01T00:00:00Z,%d\n",
		    i % 999 + 1, i
}' >big.csv
nudge event import big.csv 2>/dev/null &
pid=$!
n=0
while [ $n -lt $((1200 * SLOW)) ]; do
	l=$(sql "SELECT line FROM event_imports WHERE name = 'big.csv'" \
	    2>/dev/null)
	[ "${l:-0}" -gt 0 ] && break
	sleep 0.05
	n=$((n + 1))
done
kill -9 $pid
wait $pid 2>/dev/null
is "killed mid-way, the indexes are dropped and listed" \
	"$(sql "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND
	tbl_name = 'events'; SELECT count(*) FROM dropped_indexes")" "0
8"
ok "the rerun completes it" nudge event import big.csv
is "the indexes are back" "$(sql "SELECT name FROM sqlite_schema WHERE
	type = 'index' AND tbl_name = 'events' ORDER BY name;
	SELECT count(*) FROM dropped_indexes")" "events_campaign
events_contact
events_type_at
events_type_contact
0"
is "the triggers are back" "$(sql "SELECT name FROM sqlite_schema WHERE
	type = 'trigger' AND tbl_name = 'events' ORDER BY name")" \
	"events_count_delete
events_count_insert
events_count_update"
is "every row of it once" "$(sql "SELECT count(*), count(DISTINCT
	json_extract(props, '\$.n')) FROM events WHERE type = 'ad_view'")" \
	"1200000	1200000"

# The shop's orders exported again a week later, with one new order: only
# that one is recorded.
S="$TESTDIR/../samples/exports"
printf 'default_country: IL\n' >config.yaml
for f in shopify-customers mailchimp-subscribed hubspot-contacts; do
	nudge import-list --config config.yaml "$S/$f.csv" 2>/dev/null
done
nudge event import --config config.yaml "$S/shopify-orders.csv" 2>/dev/null
before=$(sql "SELECT count(*) FROM events WHERE type = 'purchase'")
{ cat "$S/shopify-orders.csv"; grep '^#1002' "$S/shopify-orders.csv" |
	sed 's/#1002/#1005/'; } >again.csv
nudge event import --config config.yaml again.csv 2>/dev/null
is "a re-export adds only its new order" \
	"$before $(sql "SELECT count(*) FROM events WHERE type = 'purchase'")
$(sql "SELECT json_extract(props, '\$.order') FROM events WHERE
	type = 'purchase' ORDER BY id DESC LIMIT 1")" "$before $((before + 1))
#1005"
done_testing
