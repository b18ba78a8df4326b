#!/bin/sh
# send turns its connection's triggers off and its event writer does the
# counting trigger's work (store.h nudge_store_own_counts): after sends of
# sent and failed events, SMS in several parts and a repeat contact, mixed
# with events other writers added before and after (their triggers
# count), campaign_counts and campaign_channels are what the events say,
# first_at included, and the triggers are still in the store and count.
. "$(dirname "$0")/lib.sh"
plan 9
now=2026-11-02T09:00:00Z

# campaign, type, events, distinct contacts, first at: from the events
want_counts() {
	sql "SELECT c.name, e.type, count(*), count(DISTINCT e.contact_id),
	    min(e.at) FROM events e JOIN campaigns c ON c.id = e.campaign_id
	    WHERE e.type IN ('sent', 'failed', 'bounced', 'opened', 'clicked',
	    'unsubscribed', 'complained') GROUP BY 1, 2 ORDER BY 1, 2"
	sql "SELECT c.name, coalesce(e.channel, ''), sum(CASE WHEN e.channel =
	    'sms' THEN coalesce(json_extract(e.props, '\$.segments'), 1) ELSE 1
	    END) FROM events e JOIN campaigns c ON c.id = e.campaign_id
	    WHERE e.type = 'sent' GROUP BY 1, 2 ORDER BY 1, 2"
}
got_counts() {
	sql "SELECT c.name, n.type, n.events, n.contacts, n.first_at
	    FROM campaign_counts n JOIN campaigns c ON c.id = n.campaign_id
	    WHERE n.events > 0 ORDER BY 1, 2"
	sql "SELECT c.name, h.channel, h.parts FROM campaign_channels h
	    JOIN campaigns c ON c.id = h.campaign_id WHERE h.parts <> 0
	    ORDER BY 1, 2"
}

long=$(awk 'BEGIN { while (length(s) < 200) s = s "Long"; print s }')
cat >c.csv <<EOT
email,phone,first_name,lists
a@example.com,+972521111111,Ann,all
b@example.com,+15552222222,$long,all
c@example.com,+15553333333,Cy,all
EOT
ok "contacts" nudge import-list c.csv
cat >sink.sh <<'EOT'
#!/bin/sh
# sink.sh: takes a message; NUDGE_TO +15553333333 fails
cat >/dev/null
[ "$NUDGE_TO" = +15553333333 ] && exit 3
echo "id-$NUDGE_KEY"
EOT
chmod +x sink.sh
printf '\nHi {{first_name}}!\n' >t.sms
printf 'Subject: Hi\nFrom: shop@example.com\n\nMail {{first_name}}\n' >t.txt

# another writer first: a's sent event of campaign k, a day earlier
nudge event add --contact a@example.com --type sent --channel email \
	--campaign k --step before --at 2026-11-01T09:00:00Z >/dev/null
nudge segment 'list "all"' | nudge send --channel sms --now $now -c k \
    -t t.sms --transport "exec:$T/sink.sh" >s1.out 2>s1.err
is "sms: two sent (1 and 2 parts), one failed" \
	"$(cut -f2,3 s1.out | sed 's/id-[^ ]* //')" \
	"sent	(1 segment, GSM-7)
sent	(2 segments, GSM-7)
failed	$T/sink.sh: exit 3"
# another writer after: an open, and a sent of a new campaign
nudge event add --contact b@example.com --type opened --channel email \
	--campaign k --at 2026-11-03T10:00:00Z >/dev/null
nudge segment 'list "all"' | nudge send --now $now -c k2 \
    -t t.txt --transport "exec:$T/sink.sh" >s3.out 2>&1
nudge event add --contact c@example.com --type sent --channel sms \
	--campaign k2 --step later --at 2026-11-01T08:00:00Z --prop segments=3 >/dev/null
want_counts >want.txt
got_counts >got.txt
cmp_file "the counts are the events'" want.txt got.txt
is "k: 3 sent events to 2 contacts (a twice), first the other writer's" \
	"$(grep '^k	sent' got.txt)" "k	sent	3	2	1793523600"
is "k2: 4 sent events to 3 contacts, first the other writer's" \
	"$(grep '^k2	sent' got.txt)" "k2	sent	4	3	1793520000"
is "k: failed once, opened once" \
	"$(grep -E '^k	(failed|opened)' got.txt | cut -f2-4)" "failed	1	1
opened	1	1"
is "parts per channel: k's email 1 and SMS 1 + 2, k2's email 3 and SMS 3" \
	"$(grep -E '^k2?	(email|sms)	' got.txt)" "k	email	1
k	sms	3
k2	email	3
k2	sms	3"
is "the triggers are still in the store" \
	"$(sql "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'events' ORDER BY name)")" \
	"events_count_delete events_count_insert events_count_update"
like "and guard it: a counted event's change is refused" \
	"$(sqlite3 "$NUDGE_DB" "UPDATE events SET campaign_id = NULL WHERE type = 'failed'" 2>&1)" \
	"cannot change"
done_testing
