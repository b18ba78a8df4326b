#!/bin/sh
# The support desk's views: a contact's story (fields, lists, consent with
# its proof, events and messages, newest first) as a table and as JSON;
# contact find; lists with their consent breakdown; event types.
. "$(dirname "$0")/lib.sh"
plan 24

cat >c.csv <<'CSV'
email,phone,first_name,last_name,city,lists
dana@example.com,+972521234567,Dana,Levi,Haifa,news;vip
moshe@example.com,,Moshe,Cohen,,news
rina@example.org,,Rina,,,
CSV
ok "import" nudge import-list c.csv
printf 'Subject: Hi {{first_name}}\nFrom: shop@example.com\n\nHello\n' >t.txt
ok "dana subscribes, with proof" nudge event add --contact 1 \
	--type subscribed --channel email --at 2026-11-01T08:00:00Z \
	--source "signup form" --prop ip=192.0.2.7
ok "a message is sent to her" sh -c "echo 1 | NUDGE_FILE_NOSYNC=1 \
	nudge send --now 2026-11-02T09:00:00Z --campaign promo \
	--template t.txt --transport file://$T/out"
ok "she buys" nudge event add --contact dana@example.com --type purchase \
	--at 2026-11-02T10:00:00Z --prop total=120
ok "then unsubscribes" nudge event add --contact 1 --type unsubscribed \
	--channel email --at 2026-11-03T08:00:00Z --source "unsubscribe link"
# a message that failed: the ledger keeps why
sql "INSERT INTO campaigns (name, created_at) VALUES ('winback', 0);
INSERT INTO messages (campaign_id, step, contact_id, channel, status,
  attempts, error, claimed_at, updated_at) VALUES ((SELECT id FROM campaigns
  WHERE name = 'winback'), 'second', 1, 'sms', 'failed', 3,
  '21610: unsubscribed recipient', 1793700000, 1793700000)"

nudge contact show dana@example.com >show.out 2>show.err
is "show exits 0" "$?" 0
# the times nudge itself stamped (import, ledger) vary: masked
# and so does the file transport's message id: the provider_id column
# (the last) is cut off
is "the story, newest first" "$(sed -e '/^created_at\|^updated_at/d' \
	-e 's/^\(news\|vip\)\( *\)20[-0-9T:]*Z/\1\2TIME/' show.out |
	awk '/^messages:/ { m = 1 } m && /provider_id/ { cut = index($0, "provider_id") }
	    { line = cut ? substr($0, 1, cut - 1) : $0; sub(/ +$/, "", line); print line }')" \
"contact 1:
field       value
----------  --------------------
id          1
email       dana@example.com
phone       +972521234567
first_name  Dana
last_name   Levi
city        Haifa

lists:
list  added_at
----  --------------------
news  TIME
vip   TIME

consent:
channel  status        at                    source            event         proof
-------  ------------  --------------------  ----------------  ------------  ------------------
email    unsubscribed  2026-11-03T08:00:00Z  unsubscribe link  unsubscribed
email    subscribed    2026-11-01T08:00:00Z  signup form       subscribed    {\"ip\":\"192.0.2.7\"}

events:
at                    type          channel  campaign  step  props
--------------------  ------------  -------  --------  ----  ------------------
2026-11-03T08:00:00Z  unsubscribed  email
2026-11-02T10:00:00Z  purchase                               {\"total\":120}
2026-11-02T09:00:00Z  sent          email    promo
2026-11-01T08:00:00Z  subscribed    email                    {\"ip\":\"192.0.2.7\"}

messages:
at                    campaign  step    channel  status  attempts  error
--------------------  --------  ------  -------  ------  --------  -----------------------------
2026-11-03T10:00:00Z  winback   second  sms      failed         3  21610: unsubscribed recipient
2026-11-02T09:00:00Z  promo             email    sent           1

predictions: none

best_hour: none

marketing now (the send policy):
  email  unsubscribed (email, 2026-11-03, unsubscribe link)
  sms    may be sent
  push   no push id"

json=$(nudge contact show --format json 1)
is "json: one line" "$(printf '%s\n' "$json" | wc -l)" 1
if command -v jq >/dev/null; then
	is "json: fields, attrs and each section" "$(printf '%s' "$json" | jq -c \
		'[.id, .email, .attrs.city, [.lists[].list], [.consent[].status],
		[.events[].type], .events[1].props.total,
		[.messages[] | [.campaign, .status, .error]]]')" \
		'[1,"dana@example.com","Haifa",["news","vip"],["unsubscribed","subscribed"],["unsubscribed","purchase","sent","subscribed"],120,[["winback","failed","21610: unsubscribed recipient"],["promo","sent",null]]]'
else
	_result 0 "# SKIP jq is not installed"
fi
printf 'consent: {sms: opt-in}\n' >optin.yaml
is "why not, per channel: the policy now, from the config (sms opt-in)" \
	"$(nudge contact show --config optin.yaml -f json 1 | /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin)["policy_now"])')" \
	"[{'channel': 'email', 'may_send': False, 'why_not': 'unsubscribed (email, 2026-11-03, unsubscribe link)'}, {'channel': 'sms', 'may_send': False, 'why_not': 'no consent (sms is opt-in)'}, {'channel': 'push', 'may_send': False, 'why_not': 'no push id'}]"
is "a contact nothing holds back" "$(nudge contact show rina@example.org | sed -n '/^marketing now/,$p')" \
"marketing now (the send policy):
  email  may be sent
  sms    no phone number
  push   no push id"
printf 'computed:\n  total_spent: "sum of total over purchase"\n  orders: "count of purchase"\n' >comp.yaml
is "her computed fields, from the config" \
	"$(nudge contact show --config comp.yaml dana@example.com | sed -n '/^computed fields:/,/^$/p')" \
"computed fields:
  total_spent              120
  orders                   1"
is "... in JSON too" "$(nudge contact show --config comp.yaml -f json 1 | /usr/bin/python3 -c 'import json, sys
print(json.load(sys.stdin)["computed"])')" "{'total_spent': 120, 'orders': 1}"
exits "an unknown contact is 65" 65 nudge contact show nobody@example.com
is "and says so" "$(cat .err)" \
	"nudge-contact: no such contact: nobody@example.com"
is "a contact with nothing says none" "$(nudge contact show 3 | sed -n '/^lists\|^consent\|^events\|^messages/p')" \
"lists: none
consent: none
events: none
messages: none"

# find
is "find by part of a name" "$(nudge contact find -f tsv coh)" \
"2	moshe@example.com		Moshe Cohen"
is "find by part of an email or phone, in any case" \
	"$(nudge contact find -f ids EXAMPLE.)" "1
2
3"
is "find by a phone's digits" "$(nudge contact find -f ids 2123)" 1
printf 'default_country: IL\n' >il.yaml
is "find by a phone as people type it" \
	"$(nudge contact find --config il.yaml -f ids '052-123 4567')" 1
exits "finding nobody is 1" 1 nudge contact find zzz
is "% is not a wildcard" "$(nudge contact find -f ids '%')" ""

# lists: members and the latest email consent of each
is "lists with their consent breakdown" "$(nudge lists)" \
"list  members  subscribed  unsubscribed  bounced  complained  no_record
----  -------  ----------  ------------  -------  ----------  ---------
news        2           0             1        0           0          1
vip         1           0             1        0           0          0"

# event types: counts and the last time seen
is "event types" "$(nudge events types -f tsv)" \
"purchase	1	2026-11-02T10:00:00Z
sent	1	2026-11-02T09:00:00Z
subscribed	1	2026-11-01T08:00:00Z
unsubscribed	1	2026-11-03T08:00:00Z"
done_testing
