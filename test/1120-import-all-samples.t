#!/bin/sh
# Every file in samples/exports/ through the importers into one store, as
# a shop moving to nudge would: the Mailchimp audience (subscribed,
# unsubscribed, cleaned), the Shopify customers, HubSpot, the Facebook
# leads, then the Shopify and WooCommerce orders.  Asserts each file's
# summary and rejects, and then the store as a whole: fields, lists,
# consent (a later Shopify subscribe does not undo a Mailchimp
# unsubscribe), purchases.  A sample added without a line here fails.
. "$(dirname "$0")/lib.sh"
plan 15

S="$TESTDIR/../samples/exports"
printf 'default_country: IL\n' >config.yaml
contacts="mailchimp-subscribed mailchimp-unsubscribed mailchimp-cleaned shopify-customers hubspot-contacts facebook-leads"
orders="shopify-orders woocommerce-orders"
is "every sample is imported below" \
    "$(cd "$S" && ls | sed 's/\.csv$//' | sort | tr '\n' ' ')" \
    "$(printf '%s\n' $contacts $orders | sort | tr '\n' ' ')"

for f in $contacts; do
	nudge import-list --config config.yaml -r "rej-$f.csv" "$S/$f.csv" 2>>err.txt
	echo "$f $?" >>exit.txt
done
for f in $orders; do
	nudge event import --config config.yaml -r "rej-$f.csv" "$S/$f.csv" 2>>err.txt
	echo "$f $?" >>exit.txt
done
is "exit statuses: 65 where a row was rejected" "$(cat exit.txt)" \
"mailchimp-subscribed 65
mailchimp-unsubscribed 0
mailchimp-cleaned 0
shopify-customers 0
hubspot-contacts 0
facebook-leads 65
shopify-orders 65
woocommerce-orders 65"
is "each recognised, with what it did" "$(sed "s|$S/||" err.txt)" \
"nudge-import-list: mailchimp-subscribed.csv:3: phone: wrong number of digits: \"(212) 555-0134\" (kept the contact without it)
nudge-import-list: mailchimp-subscribed.csv: recognised as a mailchimp export
nudge-import-list: mailchimp-subscribed.csv: read 4, inserted 3, updated 0, unchanged 0, rejected 1; 3 list memberships added
nudge-import-list: mailchimp-subscribed.csv: 1 row kept without a field that could not be read (shown above)
nudge-import-list: mailchimp-subscribed.csv: 3 consent records written
nudge-import-list: mailchimp-unsubscribed.csv: recognised as a mailchimp export
nudge-import-list: mailchimp-unsubscribed.csv: read 1, inserted 1, updated 0, unchanged 0, rejected 0; 1 list memberships added
nudge-import-list: mailchimp-unsubscribed.csv: 1 consent record written
nudge-import-list: mailchimp-cleaned.csv: recognised as a mailchimp export
nudge-import-list: mailchimp-cleaned.csv: read 1, inserted 1, updated 0, unchanged 0, rejected 0; 0 list memberships added
nudge-import-list: mailchimp-cleaned.csv: 1 consent record written
nudge-import-list: shopify-customers.csv:6: phone: wrong number of digits: \"12\" (kept the contact without it)
nudge-import-list: shopify-customers.csv: recognised as a shopify-customers export
nudge-import-list: shopify-customers.csv: read 5, inserted 3, updated 2, unchanged 0, rejected 0; 3 list memberships added
nudge-import-list: shopify-customers.csv: 1 row kept without a field that could not be read (shown above)
nudge-import-list: shopify-customers.csv: 6 consent records written
nudge-import-list: shopify-customers.csv: 1 subscribe not applied: unsubscribed later (mailchimp, 2026-10-02)
nudge-import-list: hubspot-contacts.csv: recognised as a hubspot export
nudge-import-list: hubspot-contacts.csv: read 2, inserted 2, updated 0, unchanged 0, rejected 0; 0 list memberships added
nudge-import-list: hubspot-contacts.csv: 1 consent record written
nudge-import-list: facebook-leads.csv: recognised as a facebook-leads export
nudge-import-list: facebook-leads.csv: read 3, inserted 0, updated 2, unchanged 0, rejected 1; 0 list memberships added; read as UTF-16LE, tab-separated
nudge-event: shopify-orders.csv: recognised as a shopify-orders export: one purchase event per order
nudge-event: shopify-orders.csv: read 5, recorded 3, rejected 1
nudge-event: woocommerce-orders.csv: recognised as a woocommerce export: one purchase event per order
nudge-event: woocommerce-orders.csv: read 5, recorded 2, rejected 2"
rej() { tail -n +2 "rej-$1.csv" | cut -d, -f1-2; }
is "mailchimp: the row with no address" "$(rej mailchimp-subscribed)" \
    '5,"email: not an address (no @): ""not-an-address"""'
is "facebook: the lead with neither address" "$(rej facebook-leads)" \
    "4,no address: email and phone missing"
is "shopify orders: the unpaid one" "$(rej shopify-orders)" \
    "5,Paid at: missing: the order is not paid"
is "woocommerce: the unknown buyer and the order on hold" "$(rej woocommerce-orders)" \
"5,contact: no such contact
6,status: the order is not paid"
is "no rejects from the others" \
    "$(for f in mailchimp-unsubscribed mailchimp-cleaned shopify-customers hubspot-contacts; do rej $f; done)" ""

is "the contacts, merged across files" \
    "$(sql 'SELECT email, phone, first_name, last_name FROM contacts ORDER BY id')" \
"dana@example.com	+972521234567	דנה	לוי
moshe@example.com		Moshe	Cohen
noa@example.com	+972501112233	נועה	בר לב
yael@example.com	+972545551212	Yael	Mizrahi
gone@example.com		Old	Address
	+972501234567	Avi	Levi
john@example.com	+12125550134	John	Smith
bad-phone@example.com		Bad	Phone
rivka@example.com	+97235551234	Rivka	Katz
tom@example.com	+14155550100	Tom	Baker"
is "tags became lists, each tool's separator" \
    "$(sql "SELECT coalesce(c.email, c.phone), l.name FROM list_members m JOIN lists l ON l.id = m.list_id JOIN contacts c ON c.id = m.contact_id ORDER BY c.id, l.name")" \
"dana@example.com	Newsletter
dana@example.com	VIP
moshe@example.com	Newsletter
yael@example.com	Newsletter
+972501234567	SMS
john@example.com	VIP
john@example.com	Wholesale"
is "consent now, per contact and channel, with its source" \
    "$(sql "SELECT coalesce(c.email, c.phone), n.channel, n.status, n.source FROM consent_now n JOIN contacts c ON c.id = n.contact_id ORDER BY c.id, n.channel")" \
"dana@example.com	email	subscribed	mailchimp
dana@example.com	sms	subscribed	shopify
moshe@example.com	email	subscribed	mailchimp
noa@example.com	email	subscribed	mailchimp
yael@example.com	email	unsubscribed	mailchimp
yael@example.com	sms	unsubscribed	shopify
gone@example.com	email	bounced	mailchimp
+972501234567	sms	subscribed	shopify
john@example.com	email	unsubscribed	shopify
john@example.com	sms	unsubscribed	shopify
bad-phone@example.com	email	subscribed	shopify
tom@example.com	email	unsubscribed	hubspot"
is "the Mailchimp unsubscribe stands against Shopify's older subscribe" \
    "$(nudge segment --config config.yaml -f ids 'subscribed email' | tr '\n' ' ')" \
    "$(sql "SELECT id FROM contacts WHERE email IN ('dana@example.com', 'moshe@example.com', 'noa@example.com', 'rivka@example.com', 'bad-phone@example.com') ORDER BY id" | tr '\n' ' ')"
is "the proof of a Mailchimp opt-in kept" \
    "$(sql "SELECT proof IS NOT NULL FROM consent_now n JOIN contacts c ON c.id = n.contact_id WHERE c.email = 'dana@example.com' AND n.channel = 'email'")" 1
is "one purchase per paid order, from both shops" \
    "$(sql "SELECT coalesce(c.email, c.phone), e.props ->> 'order', e.props ->> 'total', e.props ->> 'currency', json_array_length(e.props -> 'items') FROM events e JOIN contacts c ON c.id = e.contact_id WHERE e.type = 'purchase' ORDER BY e.at")" \
"noa@example.com	2001	90.0	ILS	1
rivka@example.com	2002	210.0	ILS	2
dana@example.com	#1001	400.0	ILS	2
john@example.com	#1002	1200.0	USD	1
+972501234567	#1004	15.0	ILS	1"
is "attributes keep their columns' names" \
    "$(sql "SELECT name FROM attr_names WHERE key = 'default_address_city'")" "Default Address City"
