#!/bin/sh
# Journeys started by events (entry: on EVENT) over simulated days from
# cron-like runs against a real SMTP server: the abandoned-cart email
# four hours after the cart, not to one who bought since (exit:), at most
# one journey a day however often the cart changes (limit:); the
# post-purchase journey once per purchase, a second purchase starting a
# second instance, each step timed from its instance.
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 19
. "$TESTDIR/trigger/fixture.sh"
smtp_config
C=campaigns/abandoned-cart.yaml P=campaigns/post-purchase.yaml
subjects() {
	for f in "$SMTPD_DIR"/*.eml; do
		[ -e "$f" ] || continue
		/usr/bin/python3 "$TESTDIR/send/parse.py" "$f" |
			sed -n 's/^subject: //p'
	done | sort | uniq -c | tr -s ' '
}
ev() { nudge event add --contact "$1@example.com" --type "$2" --at "$3" >/dev/null; }

# day 0: Ann and Bob fill carts; Ann's shop reports her cart three times
ev ann cart_updated 2026-11-10T08:00:00Z
ev ann cart_updated 2026-11-10T08:30:00Z
ev ann cart_updated 2026-11-10T09:00:00Z
ev bob cart_updated 2026-11-10T08:00:00Z
exits "before four hours nothing is due" 0 journeys 2026-11-10T11:00:00Z
is "no message yet" "$(subjects)" ""
# Bob buys at 11:30: his cart journey ends, his post-purchase one starts
ev bob purchase 2026-11-10T11:30:00Z
exits "four hours on" 0 journeys 2026-11-10T13:00:00Z
is "the cart reminder to Ann only (Bob bought), the thank-you to Bob" \
	"$(subjects)" \
" 1 Ann, your cart is waiting
 1 Thank you for your order, Bob"
exits "an hour later" 0 journeys 2026-11-10T14:00:00Z
is "the limit holds: one cart journey for Ann's three carts" \
	"$(sql "SELECT count(*) FROM messages m JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'abandoned-cart'")" 1
is "and it is keyed by her first cart event" \
	"$(sql "SELECT e.at FROM messages m JOIN events e ON e.id = m.entry_event WHERE m.step LIKE 'cart-email#%'")" \
	"$(sql "SELECT min(at) FROM events WHERE type = 'cart_updated' AND contact_id = 1 AND at >= strftime('%s', '2026-11-10')")"
# day 3: Bob buys again: a second post-purchase instance
ev bob purchase 2026-11-13T10:00:00Z
exits "day 3" 0 journeys 2026-11-13T10:05:00Z
is "a second thank-you for the second purchase" \
	"$(subjects | grep Thank)" " 2 Thank you for your order, Bob"
is "two instances of the post-purchase journey" \
	"$(sql "SELECT count(DISTINCT entry_event) FROM messages WHERE step LIKE 'thanks#%'")" 2
# day 14 and day 17: each instance's review request, 14 days after its
# own thank-you
exits "day 14" 0 journeys 2026-11-24T14:00:00Z
is "the first instance's review request" "$(subjects | grep 'How do')" \
	" 1 How do you like it, Bob?"
exits "day 17" 0 journeys 2026-11-27T12:00:00Z
is "then the second's" "$(subjects | grep 'How do')" \
	" 2 How do you like it, Bob?"
# exit with a condition: only a purchase of the same order ends it
sed 's/^exit:.*/exit: on purchase where order = entry.order/; s/^name:.*/name: same-order/' \
	$C >campaigns/same.yaml
nudge event add --contact cy@example.com --type cart_updated --at 2026-12-01T08:00:00Z --prop order=O1 >/dev/null
nudge event add --contact cy@example.com --type purchase --at 2026-12-01T09:00:00Z --prop order=O2 >/dev/null
nudge event add --contact eve@example.com --type cart_updated --at 2026-12-01T08:00:00Z --prop order=O3 >/dev/null
nudge event add --contact eve@example.com --type purchase --at 2026-12-01T09:00:00Z --prop order=O3 >/dev/null
exits "exit: on purchase where order = entry.order" 0 nudge trigger --now 2026-12-01T13:00:00Z campaigns/same.yaml
is "Cy bought another order: her cart journey goes on; Eve bought hers: it ended" \
	"$(cut -f1,3 .out | sed 's/#.*//')" "3	cart-email"
sed 's/^exit:.*/exit: on purchase where order = entry.total/' $C >campaigns/bad.yaml
like "a condition other than the same prop is one clear error" \
	"$(nudge trigger --check campaigns/bad.yaml 2>&1)" \
	"campaigns/bad.yaml:10:7: exit: expected where order = entry.order"
# the entry event is a known name, as an expression's are
sed 's/^entry: on cart_updated/entry: on cart_upated/' $C >campaigns/typo.yaml
exits "an unknown entry event fails the run" 65 nudge trigger --now 2026-12-01T13:00:00Z campaigns/typo.yaml
is "with the file, line, field and a hint" "$(cat .err)" \
	"nudge-trigger: campaigns/typo.yaml:9:8: entry: no event of type \"cart_upated\"; did you mean \"cart_updated\"?"
done_testing
