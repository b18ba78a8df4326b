#!/bin/sh
# The waterfall (campaigns/waterfall.yaml: push, email after 2 days if the
# push was not opened, SMS 3 days later if nothing was clicked) for
# contacts who cannot get some of its channels: a step on a channel the
# contact has no address or no consent for is passed over, and the next
# one is due at once (at the time the passed-over one was due), so free
# channels come first and nobody is stuck behind a channel they cannot
# get.  The exact recipients of each step day by day, the ledger (the
# trace: no row for a step passed over), and that a pass-over is never
# undone when the contact later gets the channel.
. "$(dirname "$0")/lib.sh"
plan 17
. "$TESTDIR/trigger/fixture.sh"
W=campaigns/waterfall.yaml
# newsletter: Ann 1, Bob 2 (no phone), Cy 3 (no push id), Eve 5, Gil 7,
# Hal 8.  Before day 0 Gil turns push off and Hal unsubscribes from
# everything.
nudge event add --contact gil@example.com --type unsubscribed --channel push \
	--at 2026-11-09T10:00:00Z >/dev/null
nudge event add --contact hal@example.com --type unsubscribed \
	--at 2026-11-09T10:00:00Z >/dev/null

is "day 0: the push to those who can get it; the email at once to Cy (no push id) and Gil (push off); nothing for Hal" \
	"$(trig $DAY0 $W)" \
"1	waterfall	push1
2	waterfall	push1
5	waterfall	push1
3	waterfall	email1
7	waterfall	email1"
ok "day 0: trigger | send" run $DAY0 $W
is "all five sent" "$(cut -f1,2 .sent | tr '\n' ' ')" \
	"1	sent 2	sent 5	sent 3	sent 7	sent "
f=$(grep -l '^To: Cy <cy@example.com>' out/new/*)
is "Cy's is the email" "$(tr -d '\r' <"$f" | sed -n 's/^Subject: //p')" "The sale is on, Cy"
is "the same run again: nothing" "$(trig $DAY0 $W)" ""

# Ann opens the push; Ann and Eve unsubscribe from email; Cy installs the
# app.
nudge event add --contact ann@example.com --type opened --channel push \
	--campaign waterfall --step push1 --at 2026-11-10T12:00:00Z >/dev/null
nudge event add --contact eve@example.com --type unsubscribed \
	--channel email --at 2026-11-11T12:00:00Z >/dev/null
nudge event add --contact ann@example.com --type unsubscribed \
	--channel email --at 2026-11-11T12:00:00Z >/dev/null
printf 'email,push_id\ncy@example.com,push-cy\n' >cy.csv
nudge import-list cy.csv 2>/dev/null
is "Cy has a push id now" "$(sql "SELECT push_id FROM contacts WHERE id = 3")" "push-cy"
is "day 1: nothing is due: Cy's push was passed over for good" \
	"$(trig 2026-11-11T10:00:00Z $W)" ""
is "day 2: the email to Bob; Eve's email passed over, her SMS is due at once; not Ann's: she opened the push, so her email was not due (its if:), to be passed over" \
	"$(trig 2026-11-12T10:00:00Z $W)" \
"5	waterfall	sms1
2	waterfall	email1"
ok "day 2: trigger | send" run 2026-11-12T10:00:00Z $W
is "both sent" "$(cut -f1,2 .sent | tr '\n' ' ')" "5	sent 2	sent "
is "day 2, an hour later: nothing" "$(trig 2026-11-12T11:00:00Z $W)" ""
is "day 3: the SMS to Cy and Gil, three days after their email" \
	"$(trig 2026-11-13T10:00:00Z $W)" \
"3	waterfall	sms1
7	waterfall	sms1"
ok "day 3: trigger | send" run 2026-11-13T10:00:00Z $W
f=$(grep -l '^To: +972521000003' out/new/*)
is "Cy's SMS went to her phone" "$(sed -n 's/^Channel: //p' "$f")" "sms"
is "day 5: Bob's SMS would be due, but he has no phone and no step is left: his journey ends" \
	"$(trig 2026-11-15T10:00:00Z $W)" ""
is "the ledger: every contact's steps, none for a step passed over" \
	"$(sql "SELECT m.contact_id, group_concat(m.step || ':' || m.channel || ':' || m.status, ' ') FROM (SELECT * FROM messages ORDER BY contact_id, id) m GROUP BY 1")" \
"1	push1:push:sent
2	push1:push:sent email1:email:sent
3	email1:email:sent sms1:sms:sent
5	push1:push:sent sms1:sms:sent
7	email1:email:sent sms1:sms:sent"
is "two weeks later: nothing more" "$(trig 2026-11-24T10:00:00Z $W)" ""
done_testing
