#!/bin/sh
# send: an order confirmation through a real SMTP server (aiosmtpd) that
# shows the items and total of each contact's latest purchase ({{#each}},
# latest.purchase.*, :money in the purchase's currency or the config's,
# :date in the contact's time zone), an {{#if}} branch chosen per contact
# by a segment-language condition, and a Hebrew variant (order.he.txt,
# chosen by attrs.lang) whose HTML part gets dir="rtl".
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 15

B="$TESTDIR/send/blocks"
ok "contacts" nudge import-list "$B/contacts.csv"
exits "purchases with items" 0 nudge event import "$B/events.jsonl"
url="smtp://127.0.0.1:$SMTPD_PORT"

exits "the order confirmations" 0 sh -c "nudge segment 'list \"shop\"' |
	nudge send --config '$B/config.yaml' --now 2026-11-02T09:00:00Z \
	-c orders -t '$B/order.txt' --transport $url"
is "who got one" "$(cut -f1,2 .out | sort -n | tr '\t' ' ' | tr '\n' ';')" \
	"1 sent;2 sent;3 skipped;"
like "no purchase, no confirmation" "$(grep '^3	' .out)" \
	'latest.purchase.order'

msg() { /usr/bin/python3 "$B/body.py" \
	"$(grep -l "rcpt $1" "$SMTPD_DIR"/*.env | sed 's/env$/eml/')"; }
msg moshe@example.com >moshe.txt
msg dana@example.com >dana.txt
is "English: items, total in the config's currency, the date in New York, the small-order branch" \
	"$(cat moshe.txt)" "subject: Order B-2 confirmed
Hi Moshe,
Thank you for your order.
- Socks x3 \$14.00
Total: \$42.00 on 1 November 2026
--- html ---
<html><body>
<p>Hi Moshe,</p>
<ul>
<li>Socks x3 \$14.00</li>
</ul>
<p>Total: \$42.00</p>
</body></html>"
is "Hebrew: the latest purchase's items, escaped, in shekels, the date in Jerusalem" \
	"$(sed -n '1,6p' dana.txt)" "subject: הזמנה A-7 אושרה
שלום Dana,
- Tea <green> x2 ₪12.25
- Cup x1 ₪1,210.00
סה\"כ: ₪1,234.50 (2 November 2026)
--- html ---"
is "the Hebrew HTML part is right to left, its item names escaped" \
	"$(sed -n '7,$p' dana.txt)" "<html dir=\"rtl\"><body>
<p>שלום Dana</p>
<ul>
<li>Tea &lt;green&gt; x2 ₪12.25</li>
<li>Cup x1 ₪1,210.00</li>
</ul>
</body></html>"

# the big-order branch: the default template for a contact without lang
sql "UPDATE contacts SET attrs = json_set(attrs, '$.lang', 'fr') WHERE email = 'dana@example.com'"
rm -f "$SMTPD_DIR"/*.eml "$SMTPD_DIR"/*.env
echo 1 | nudge send --config "$B/config.yaml" --now 2026-11-02T09:00:00Z \
	-c orders2 -t "$B/order.txt" --transport "$url" >/dev/null 2>&1
msg dana@example.com >dana2.txt
is "no French variant: the default, with the #if branch for a big order" \
	"$(sed -n '2,3p' dana2.txt)" "Hi Dana,
Thank you for a big order!"

# mistakes are found when the template loads, with their place
printf 'Subject: x\n\n{{latest.purchse.total}}\n' >typo.txt
printf 'Subject: x\n\nhi\n  {{#if purchase total >> 5}}x{{/if}}\n' >bad.txt
printf 'Subject: x\n\nhi\n  {{#if opend within 5d}}x{{/if}}\n' >opend.txt
exits "an event type that is a typo" 65 sh -c "echo 1 | nudge send -n -c x -t typo.txt"
like "is named, with the closest type" "$(cat .err)" \
	'typo.txt:3:3: unknown field "latest.purchse.total": no event of type "purchse"; did you mean "purchase"\?'
echo 1 | nudge send -n -c x -t bad.txt >/dev/null 2>bad.err
like "a condition that does not parse: the file's line and column" \
	"$(cat bad.err)" 'bad.txt:4:25: in \{\{#if\}\}: expected a value after ">"'
echo 1 | nudge send -n -c x -t opend.txt >/dev/null 2>opend.err
like "a condition naming an unknown event type" "$(cat opend.err)" \
	'opend.txt:4:9: in \{\{#if\}\}: no event of type "opend"; did you mean "opened"\?'

mkdir -p camp
cp opend.txt camp/opend.txt
printf 'name: c\naudience: list "shop"\nsteps:\n  - id: one\n    channel: email\n    template: opend.txt\n' >camp/c.yaml
exits "trigger --check compiles a step template's conditions" 65 \
	nudge trigger --check camp/c.yaml
like "and names the unknown type in the same words" "$(tail -n 1 .err)" \
	'opend.txt:4:9: in \{\{#if\}\}: no event of type "opend"; did you mean "opened"\?$'
done_testing
