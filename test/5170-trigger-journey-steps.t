#!/bin/sh
# Conditions on steps inside journeys started by events: `unless: clicked
# step "x"` and `fallback` name the step of the same instance (its
# messages' events have step "x#EVENT"), so a click in the reminder of
# one cart stops that cart's journey only, and an open of one instance's
# message does not stop another's fallback.
. "$(dirname "$0")/lib.sh"
plan 7
. "$TESTDIR/trigger/fixture.sh"
cat >campaigns/carts.yaml <<'YAML'
name: carts
entry: on cart_updated
steps:
  - id: mail
    channel: email
    template: templates/cart-reminder.txt
  - id: again
    channel: email
    template: templates/cart-reminder.txt
    after: 1d
    unless: clicked step "mail"
  - id: last
    channel: email
    template: templates/cart-reminder.txt
    after: 1d
    fallback: true
YAML
C=campaigns/carts.yaml
ev() { nudge event add --contact "$1@example.com" --type cart_updated --at "$2" >/dev/null; }
# ev_of CONTACT AT: the id of that cart event
ev_of() { sql "SELECT e.id FROM events e JOIN contacts c ON c.id = e.contact_id WHERE c.email = '$1@example.com' AND e.type = 'cart_updated' AND e.at = strftime('%s', '$2')"; }
steps() { sql "SELECT c.first_name, m.step FROM messages m JOIN contacts c ON c.id = m.contact_id JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'carts' AND m.step LIKE '$1#%' ORDER BY c.id, m.entry_event" | sed 's/#.*//'; }

# Ann fills two carts, Bob one
ev ann 2026-11-10T08:00:00Z
ev ann 2026-11-10T09:00:00Z
ev bob 2026-11-10T08:30:00Z
E1=$(ev_of ann 2026-11-10T08:00:00Z) E2=$(ev_of ann 2026-11-10T09:00:00Z)
exits "day 0" 0 run 2026-11-10T10:00:00Z $C
is "a reminder per cart" "$(steps mail)" "Ann	mail
Ann	mail
Bob	mail"
# Ann clicks the reminder of her first cart only
nudge event add --contact ann@example.com --type clicked --channel email \
	--campaign carts --step "mail#$E1" --at 2026-11-10T12:00:00Z >/dev/null
exits "day 1" 0 run 2026-11-11T10:00:00Z $C
is "unless: clicked step \"mail\": the first cart's journey stops, the second's goes on" \
	"$(sql "SELECT entry_event FROM messages WHERE step LIKE 'again#%' AND contact_id = 1")" "$E2"
is "Bob's too" "$(steps again)" "Ann	again
Bob	again"
# Ann opens the second cart's second reminder, Bob does not
nudge event add --contact ann@example.com --type opened --channel email \
	--campaign carts --step "again#$E2" --at 2026-11-11T12:00:00Z >/dev/null
exits "day 2" 0 run 2026-11-12T10:00:00Z $C
is "fallback: only Bob, who opened nothing of his instance, gets the last" \
	"$(steps last)" "Bob	last"
done_testing
