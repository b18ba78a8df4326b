#!/bin/sh
# import-list: exports recognised by their header (samples/exports/, written
# by hand from the tools' documented layouts): fields, tags to lists with
# the tool's separator, consent with its source, time and proof, rejects;
# a subscribe never overrides a later unsubscribe.
. "$(dirname "$0")/lib.sh"
plan 30

S="$TESTDIR/../samples/exports"
printf 'default_country: IL\n' >config.yaml
imp() { nudge import-list --config config.yaml "$@"; }

exits "--formats lists the formats" 0 nudge import-list --formats
is "one a line with what it is" "$(cut -d' ' -f1 .out | tr '\n' ' ')" \
	"mailchimp shopify-customers hubspot facebook-leads csv "
exits "--format of an unknown name is a usage error" 64 \
	nudge import-list --format mailchimps "$S/hubspot-contacts.csv"

exits "mailchimp subscribed export (one row with no address)" 65 \
	imp --rejects rej.csv "$S/mailchimp-subscribed.csv"
is "named in the summary; a bad phone costs only the phone" "$(sed "s|$S/||" .err)" \
"nudge-import-list: mailchimp-subscribed.csv:3: phone: wrong number of digits: \"(212) 555-0134\" (kept the contact without it)
nudge-import-list: mailchimp-subscribed.csv: recognised as a mailchimp export
nudge-import-list: mailchimp-subscribed.csv: read 4, inserted 3, updated 0, unchanged 0, rejected 1; 3 list memberships added
nudge-import-list: mailchimp-subscribed.csv: 1 row kept without a field that could not be read (shown above)
nudge-import-list: mailchimp-subscribed.csv: 3 consent records written"
is "the reject" "$(cut -d, -f1-2 rej.csv | tail -n 1)" \
	'5,"email: not an address (no @): ""not-an-address"""'
is "fields" "$(sql 'SELECT email, phone, first_name, last_name FROM contacts ORDER BY id')" \
"dana@example.com	+972521234567	דנה	לוי
moshe@example.com		Moshe	Cohen
noa@example.com	+972529876543	נועה	בר"
is "TAGS (\"VIP\",\"Newsletter\") become lists" \
	"$(sql 'SELECT l.name, group_concat(m.contact_id) FROM list_members m JOIN lists l ON l.id = m.list_id GROUP BY 1 ORDER BY 1')" \
"Newsletter	1,2
VIP	1"
is "consent: subscribed at CONFIRM_TIME, CONFIRM_IP as proof, source mailchimp" \
	"$(sql "SELECT contact_id, channel, status, datetime(at, 'unixepoch'), source, proof FROM consent ORDER BY id")" \
"1	email	subscribed	2026-03-01 09:16:40	mailchimp	confirm_ip 198.51.100.7
2	email	subscribed	2026-05-10 12:01:30	mailchimp	confirm_ip 203.0.113.5
3	email	subscribed	2026-06-01 08:02:00	mailchimp	confirm_ip 192.0.2.44"
is "other columns are attrs under typable keys" \
	"$(sql "SELECT json_extract(attrs, '\$.member_rating'), json_extract(attrs, '\$.address') FROM contacts WHERE id = 1")" \
	"4	הרצל 1 חיפה"
exits "a second import" 65 imp "$S/mailchimp-subscribed.csv"
is "writes no consent again" "$(sql 'SELECT count(*) FROM consent')" 3

exits "mailchimp unsubscribed export" 0 imp "$S/mailchimp-unsubscribed.csv"
exits "mailchimp cleaned export" 0 imp "$S/mailchimp-cleaned.csv"
is "unsubscribed at UNSUB_TIME, cleaned as bounced at CLEAN_TIME" \
	"$(sql "SELECT c.email, n.status, datetime(n.at, 'unixepoch'), coalesce(n.proof, '-') FROM consent_now n JOIN contacts c ON c.id = n.contact_id WHERE c.id > 3 ORDER BY c.id")" \
"yael@example.com	unsubscribed	2026-10-02 07:30:00	-
gone@example.com	bounced	2026-09-15 03:00:00	-"

exits "shopify customers export (CRLF, apostrophes, a phone-only row)" 0 \
	imp "$S/shopify-customers.csv"
is "summary: the stale subscribe refused and reported" "$(sed "s|$S/||" .err)" \
"nudge-import-list: shopify-customers.csv:6: phone: wrong number of digits: \"12\" (kept the contact without it)
nudge-import-list: shopify-customers.csv: recognised as a shopify-customers export
nudge-import-list: shopify-customers.csv: read 5, inserted 3, updated 2, unchanged 0, rejected 0; 3 list memberships added
nudge-import-list: shopify-customers.csv: 1 row kept without a field that could not be read (shown above)
nudge-import-list: shopify-customers.csv: 6 consent records written
nudge-import-list: shopify-customers.csv: 1 subscribe not applied: unsubscribed later (mailchimp, 2026-10-02)"
is "yael stays unsubscribed from email" \
	"$(sql "SELECT n.status, n.source FROM consent_now n JOIN contacts c ON c.id = n.contact_id WHERE c.email = 'yael@example.com' AND n.channel = 'email'")" \
	"unsubscribed	mailchimp"
is "Accepts Email/SMS Marketing become consent, not attrs" \
	"$(sql "SELECT coalesce(c.email, c.phone), n.channel, n.status, n.source FROM consent_now n JOIN contacts c ON c.id = n.contact_id WHERE n.source = 'shopify' ORDER BY c.id, n.channel")" \
"dana@example.com	sms	subscribed	shopify
yael@example.com	sms	unsubscribed	shopify
+972501234567	sms	subscribed	shopify
john@example.com	email	unsubscribed	shopify
john@example.com	sms	unsubscribed	shopify
bad-phone@example.com	email	subscribed	shopify"
is "no accepts_* attrs" "$(sql "SELECT count(*) FROM contacts WHERE attrs LIKE '%accepts%'")" 0
is "Tags split on commas" \
	"$(sql "SELECT l.name, group_concat(coalesce(c.email, c.phone)) FROM list_members m JOIN lists l ON l.id = m.list_id JOIN contacts c ON c.id = m.contact_id WHERE l.name IN ('SMS', 'VIP', 'Wholesale') GROUP BY 1 ORDER BY 1")" \
"SMS	+972501234567
VIP	dana@example.com,john@example.com
Wholesale	john@example.com"
is "the phone-only customer, apostrophe dropped" \
	"$(sql "SELECT first_name, phone, json_extract(attrs, '\$.total_spent') FROM contacts WHERE email IS NULL")" \
	"Avi	+972501234567	15.00"

exits "hubspot contacts export" 0 imp "$S/hubspot-contacts.csv"
like "recognised" "$(cat .err)" "recognised as a hubspot export"
is "Unsubscribed from all email: true is an unsubscribe, false says nothing" \
	"$(sql "SELECT c.email, n.status, n.source FROM consent n JOIN contacts c ON c.id = n.contact_id WHERE n.source = 'hubspot'")" \
	"tom@example.com	unsubscribed	hubspot"

exits "facebook lead ads download (UTF-16, tabs; one lead without address)" 65 \
	imp --rejects rej.csv "$S/facebook-leads.csv"
like "recognised and read as UTF-16LE" "$(cat .err)" \
	"recognised as a facebook-leads export"
is "full_name split, p: phones (and, by default, they replace what mailchimp gave)" \
	"$(sql "SELECT first_name, last_name, phone FROM contacts WHERE json_extract(attrs, '\$.form_id') = '150001' ORDER BY id")" \
"נועה	בר לב	+972501112233
John	Smith	+12125550134"
is "the lead with no address is rejected" "$(cut -d, -f1-2 rej.csv | tail -n 1)" \
	"4,no address: email and phone missing"
exits "--format csv takes a recognised file as generic CSV" 0 \
	imp -n --format csv "$S/hubspot-contacts.csv"
done_testing
