#!/bin/sh
# trigger | send over two weeks of the example campaigns (campaigns/*.yaml)
# on a hand-built store: the exact recipients of every step each day,
# fallbacks, a goal that ends a journey, an unsubscribe in the middle that
# stops one, and what the file transport received for each channel.
. "$(dirname "$0")/lib.sh"
plan 22
. "$TESTDIR/trigger/fixture.sh"

ok "every example campaign checks" nudge trigger --check campaigns/*.yaml

is "day 0: who is due, campaign by campaign, step by step (Cy has no push id: the waterfall passes its push over, its email is due at once)" "$(trig $DAY0)" \
"3	ads-or-calls	email
6	ads-or-calls	email
4	clicked-recent	email
6	clicked-recent	email
1	lists-sms	sms
3	lists-sms	sms
2	no-open-push	nudge@2026-11-05T00:00:00Z
5	no-open-push	nudge@2026-11-05T00:00:00Z
7	no-open-push	nudge@2026-11-05T00:00:00Z
8	no-open-push	nudge@2026-11-05T00:00:00Z
2	push-no-response	email
5	push-no-response	email
1	waterfall	push1
2	waterfall	push1
5	waterfall	push1
7	waterfall	push1
8	waterfall	push1
3	waterfall	email1
3	win-back	email1
6	win-back	email1"
is "the fourth field is the campaign file" \
	"$(nudge trigger --now $DAY0 campaigns/win-back.yaml | cut -f4 | uniq)" \
	"campaigns/win-back.yaml"
ok "day 0: trigger | send" run $DAY0
is "send sent them all" "$(cut -f2 .sent | sort | uniq -c | tr -s ' ')" " 20 sent"
is "the ledger holds (campaign, step, contact) with the step's channel" \
	"$(sql "SELECT k.name, m.step, m.channel, count(*) FROM messages m JOIN campaigns k ON k.id = m.campaign_id GROUP BY 1, 2, 3 ORDER BY 1, 2")" \
"ads-or-calls	email	email	2
clicked-recent	email	email	2
lists-sms	sms	sms	2
no-open-push	nudge@2026-11-05T00:00:00Z	push	4
push-no-response	email	email	2
waterfall	email1	email	1
waterfall	push1	push	5
win-back	email1	email	2"
is "sent events name the step" \
	"$(sql "SELECT count(*) FROM events e JOIN campaigns k ON k.id = e.campaign_id WHERE k.name = 'waterfall' AND e.type = 'sent' AND e.step = 'push1' AND e.channel = 'push'")" 5
f=$(grep -l 'To: +972521000003' out/new/* | head -1)
is "an SMS into the file transport: the phone and the rendered text" \
	"$(cat "$f")" "To: +972521000003
Channel: sms

Hi Cy, VIPs get 20% off today only. Reply STOP to opt out."
f=$(grep -l 'Title: The sale is on, Gil' out/new/*)
is "a push: the push id, the title and the text" "$(cat "$f")" "To: push-gil
Channel: push
Title: The sale is on, Gil

Everything 30% off until Friday."
is "running trigger again at once finds nothing due" "$(trig $DAY0)" ""

# Ann opens the push; Hal unsubscribes from email and SMS, the channels of
# the waterfall's steps to come, before his email step.
nudge event add --contact ann@example.com --type opened --channel push \
	--campaign waterfall --step push1 --at 2026-11-10T12:00:00Z >/dev/null
nudge event add --contact hal@example.com --type unsubscribed \
	--channel email --at 2026-11-11T12:00:00Z >/dev/null
nudge event add --contact hal@example.com --type unsubscribed \
	--channel sms --at 2026-11-11T12:00:00Z >/dev/null
is "day 1: nothing is due" "$(trig 2026-11-11T10:00:00Z)" ""
is "day 2: the weekly push's new round; the waterfall's email to those who did not open the push (not Ann) and are still subscribed (not Hal)" \
	"$(trig 2026-11-12T10:00:00Z)" \
"2	no-open-push	nudge@2026-11-12T00:00:00Z
5	no-open-push	nudge@2026-11-12T00:00:00Z
7	no-open-push	nudge@2026-11-12T00:00:00Z
8	no-open-push	nudge@2026-11-12T00:00:00Z
2	waterfall	email1
5	waterfall	email1
7	waterfall	email1"
ok "day 2: trigger | send" run 2026-11-12T10:00:00Z
is "all sent" "$(cut -f2 .sent | sort | uniq -c | tr -s ' ')" " 7 sent"

# Bob clicks the email; Eve and Fay buy.
nudge event add --contact bob@example.com --type clicked --channel email \
	--campaign waterfall --step email1 --at 2026-11-12T15:00:00Z >/dev/null
nudge event add --contact eve@example.com --type purchase \
	--at 2026-11-13T15:00:00Z >/dev/null
nudge event add --contact fay@example.com --type purchase \
	--at 2026-11-12T15:00:00Z >/dev/null
is "day 4: the SMS waits three days after the email; only Cy's, whose email went on day 0 (she has no push id), is due" \
	"$(trig 2026-11-14T10:00:00Z campaigns/waterfall.yaml)" "3	waterfall	sms1"
is "day 5: the SMS to Cy and Gil: Bob clicked, Eve bought (goal), Hal left; Dan's open is a week old now; Eve's and Fay's purchases each start a post-purchase journey" \
	"$(trig 2026-11-15T10:00:00Z)" \
"4	no-open-push	nudge@2026-11-12T00:00:00Z
5	post-purchase	thanks#53
6	post-purchase	thanks#54
3	waterfall	sms1
7	waterfall	sms1"
ok "day 5: trigger | send" run 2026-11-15T10:00:00Z
is "day 7: the win-back reminder to Cy; Fay bought (goal)" \
	"$(trig 2026-11-17T10:00:00Z)" "3	win-back	email2"
ok "day 7: trigger | send" run 2026-11-17T10:00:00Z
is "day 14: the win-back SMS to Cy; the weekly push's third round, Ann's open now old" \
	"$(trig 2026-11-24T10:00:00Z)" \
"1	no-open-push	nudge@2026-11-19T00:00:00Z
2	no-open-push	nudge@2026-11-19T00:00:00Z
4	no-open-push	nudge@2026-11-19T00:00:00Z
5	no-open-push	nudge@2026-11-19T00:00:00Z
7	no-open-push	nudge@2026-11-19T00:00:00Z
8	no-open-push	nudge@2026-11-19T00:00:00Z
3	win-back	sms1"
ok "day 14: trigger | send" run 2026-11-24T10:00:00Z
is "two weeks later the once-campaigns are over: only the weekly push, and the post-purchase journeys' next steps" \
	"$(trig 2026-12-08T10:00:00Z | cut -f2 | sort -u)" "no-open-push
post-purchase"
done_testing
