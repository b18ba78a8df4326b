#!/bin/sh
# event.* in messages: a step of a journey started by an event renders
# with that entry event's props (items, total, order), end to end from
# trigger's line through send to a real SMTP server (aiosmtpd), each
# instance with its own event when a contact has two in one run; and a
# template naming event.* in a campaign with no entry event is refused by
# trigger --check and by send, naming file:line:column.
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 12
. "$TESTDIR/trigger/fixture.sh"
smtp_config
C=campaigns/abandoned-cart.yaml P=campaigns/post-purchase.yaml
# body RCPT SUBJECT-WORD: the text parts of the messages to RCPT whose
# subject has the word, in the order sent
body() {
	for f in $(ls -tr "$SMTPD_DIR"/*.env); do
		grep -q "rcpt $1" "$f" || continue
		/usr/bin/python3 -c 'import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"),
    policy=email.policy.default)
print("subject:", m["Subject"])
print(m.get_body(("plain",)).get_content().replace("\r\n", "\n"), end="")' \
			"${f%env}eml"
	done | awk -v w="$2" '/^subject:/ { on = index($0, w) > 0 } on'
}
cat >events.jsonl <<'EOF'
{"contact": "ann@example.com", "type": "cart_updated", "at": "2026-11-10T08:00:00Z", "order": "C-1", "total": 374.75, "currency": "ILS", "items": [{"name": "Linen dress", "quantity": 1, "price": 299.9}, {"name": "Cotton socks", "quantity": 3, "price": 24.95}]}
{"contact": "bob@example.com", "type": "purchase", "at": "2026-11-10T09:00:00Z", "order": "P-7", "total": 89, "currency": "USD", "items": [{"name": "Travel mug", "quantity": 1, "price": 89}]}
{"contact": "bob@example.com", "type": "purchase", "at": "2026-11-10T09:30:00Z", "order": "P-8", "total": 12.5, "currency": "EUR", "items": [{"name": "Tea", "quantity": 2, "price": 6.25}]}
EOF
exits "carts and purchases with items" 0 nudge event import events.jsonl

exits "the run four hours after the cart" 0 journeys 2026-11-10T12:30:00Z
is "Ann's reminder shows her cart's items and total, in its currency" \
	"$(body ann@example.com cart)" "subject: Ann, your cart is waiting
Hi Ann,

you left something in your cart. It is still there for you:
  * Linen dress x1  ₪299.90
  * Cotton socks x3  ₪24.95
Total: ₪374.75
https://shop.example.com/cart"
is "Bob's two purchases: two thank-yous, each with its own order" \
	"$(body bob@example.com Thank | grep -v '^$')" \
	"subject: Thank you for your order, Bob
Hi Bob,
thank you for your order P-7: we are packing it now.
  * Travel mug x1  \$89.00
Total: \$89.00
subject: Thank you for your order, Bob
Hi Bob,
thank you for your order P-8: we are packing it now.
  * Tea x2  €6.25
Total: €12.50"
is "keyed by their entry events" \
	"$(sql "SELECT m.step = 'thanks#' || e.id, json_extract(e.props, '$.order') FROM messages m JOIN events e ON e.id = m.entry_event WHERE m.step LIKE 'thanks#%' ORDER BY e.at")" \
	"1	P-7
1	P-8"
# an event with no props: the defaults, not a skip
nudge event add --contact cy@example.com --type cart_updated --at 2026-11-11T08:00:00Z >/dev/null
exits "a cart with no items" 0 journeys 2026-11-11T12:30:00Z
is "renders the defaults" "$(body cy@example.com cart | sed -n '4,5p')" \
	"you left something in your cart. It is still there for you:
Total: as in your cart"

# event.* where no event started the journey
cat >campaigns/plain.yaml <<'EOF'
name: plain
audience: list "vip"
steps:
  - id: one
    channel: email
    template: templates/thank-you.txt
EOF
exits "trigger --check refuses event.* in a campaign with no entry event" 65 \
	nudge trigger --check campaigns/plain.yaml
is "naming the template's file, line and column" "$(cat .err)" \
	"nudge-trigger: campaigns/templates/thank-you.txt:6:28: \"event.order\": event.* is the event that started a journey, and this message's campaign has no entry: on EVENT"
exits "and so does a send of it" 65 sh -c \
	"echo 1 | nudge send -n -c one-off -t campaigns/templates/thank-you.txt"
like "with the same words" "$(cat .err)" \
	"thank-you.txt:6:28: \"event.order\": event.* is the event"
exits "the journeys' own templates pass the check" 0 nudge trigger --check $C $P
done_testing
