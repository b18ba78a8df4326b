#!/bin/sh
# Step references: `EVENT campaign "NAME" step "ID"` anywhere; `step "ID"`
# alone only inside a campaign file (nudge-campaign(5)), where it means a
# step of that campaign.
. "$(dirname "$0")/lib.sh"
plan 5
printf 'email\na@example.com\nb@example.com\nc@example.com\n' >c.csv
nudge import-list c.csv 2>/dev/null
cat >ev.csv <<'CSV'
contact,type,channel,campaign,step,at
a@example.com,opened,push,wf,push1,2026-11-10T12:00:00Z
b@example.com,opened,email,wf,email1,2026-11-10T12:00:00Z
c@example.com,opened,push,other,push1,2026-11-10T12:00:00Z
CSV
nudge event import ev.csv 2>/dev/null
is "opened campaign \"wf\" step \"push1\"" \
	"$(nudge segment 'opened campaign "wf" step "push1"')" 1
is "not opened campaign \"wf\" step \"push1\"" \
	"$(nudge segment 'not opened campaign "wf" step "push1"')" "2
3"
is "step before campaign is the same" \
	"$(nudge segment 'opened step "email1" campaign "wf"')" 2
exits "step alone outside a campaign file" 64 nudge segment 'opened step "push1"'
is "says what it needs" "$(head -1 .err)" \
	'nudge-segment: column 8: "step" outside a campaign file needs campaign "NAME" before it'
done_testing
