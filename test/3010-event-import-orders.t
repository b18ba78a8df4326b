#!/bin/sh
# event import: orders exports (Shopify, WooCommerce; one row per line item)
# become one purchase event per order at its paid time, with order, total,
# currency and items; any other CSV goes in with --type and --map; times
# with UTC offsets and spreadsheet dates, --date-order for the ambiguous.
# The samples follow the real layouts column for column: Shopify admin's
# "Export orders" CSV (79 columns, Name ... Payment References, as a
# 2025 export shows them: docs.xbp.app/docs/development/integrations/
# shopify/order-format), and the WooCommerce Customer/Order/Coupon Export
# plugin's "Default - One Row per Item" format (56 columns, order_id ...
# download_permissions_granted: its CSV_Export_Format_Definition::
# get_predefined_formats), CRLF as that plugin writes by default.
. "$(dirname "$0")/lib.sh"
plan 24

S="$TESTDIR/../samples/exports"
printf 'default_country: IL\n' >config.yaml
nudge import-list --config config.yaml "$S/shopify-customers.csv" 2>/dev/null
nudge import-list --config config.yaml "$S/mailchimp-subscribed.csv" 2>/dev/null
nudge import-list --config config.yaml "$S/hubspot-contacts.csv" 2>/dev/null
ev() { sql "SELECT coalesce(c.email, c.phone), e.type, datetime(e.at, 'unixepoch'), e.props FROM events e JOIN contacts c ON c.id = e.contact_id WHERE $1 ORDER BY e.id"; }

exits "shopify orders (an unpaid order, CRLF)" 65 \
	nudge event import --config config.yaml -r rej.csv "$S/shopify-orders.csv"
is "recognised, rows read, orders recorded" "$(sed "s|$S/||" .err)" \
"nudge-event: shopify-orders.csv: recognised as a shopify-orders export: one purchase event per order
nudge-event: shopify-orders.csv: read 5, recorded 3, rejected 1"
is "one purchase per order, not per line item, at Paid at (UTC)" \
	"$(ev "e.type = 'purchase'")" \
"dana@example.com	purchase	2026-11-24 12:03:12	{\"order\":\"#1001\",\"total\":400.00,\"currency\":\"ILS\",\"items\":[{\"name\":\"כוס קרמיקה\",\"sku\":\"MUG-01\",\"quantity\":2,\"price\":100.00},{\"name\":\"Teapot\",\"sku\":\"POT-02\",\"quantity\":1,\"price\":180.00}]}
john@example.com	purchase	2026-11-25 15:00:00	{\"order\":\"#1002\",\"total\":1200.00,\"currency\":\"USD\",\"items\":[{\"name\":\"Teapot\",\"sku\":\"POT-02\",\"quantity\":12,\"price\":100.00}]}
+972501234567	purchase	2026-11-26 10:00:00	{\"order\":\"#1004\",\"total\":15.00,\"currency\":\"ILS\",\"items\":[{\"name\":\"Coaster\",\"sku\":\"CST-03\",\"quantity\":1,\"price\":15.00}]}"
is "the unpaid order is rejected with its first row" "$(cut -d, -f1-3 rej.csv | tail -n 1)" \
	"5,Paid at: missing: the order is not paid,#1003"
exits "a segment of buyers" 0 \
	nudge segment --config config.yaml 'purchase within 3650d'
is "three contacts bought" "$(wc -l <.out | tr -d ' ')" 3

exits "woocommerce orders (one contact unknown, one order on hold)" 65 \
	nudge event import --config config.yaml "$S/woocommerce-orders.csv"
like "recognised" "$(cat .err)" "recognised as a woocommerce export"
like "the unknown contact named with its row" "$(cat .err)" \
	'woocommerce-orders.csv:5: contact: no such contact: "ghost@example.com"'
like "an order whose status is not processing or completed is not a purchase" \
	"$(cat .err)" 'woocommerce-orders.csv:6: status: the order is not paid: "on-hold"'
is "at the order's date, unit prices from the line totals, order as text" \
	"$(ev "json_extract(e.props, '\$.order') IN ('2001', '2002', '2004')")" \
"noa@example.com	purchase	2026-11-20 10:15:00	{\"order\":\"2001\",\"total\":90.00,\"currency\":\"ILS\",\"items\":[{\"name\":\"Coaster\",\"sku\":\"CST-03\",\"quantity\":3,\"price\":30.00}]}
rivka@example.com	purchase	2026-11-21 18:00:00	{\"order\":\"2002\",\"total\":210.00,\"currency\":\"ILS\",\"items\":[{\"name\":\"Mug\",\"sku\":\"MUG-01\",\"quantity\":2,\"price\":100.00},{\"name\":\"Gift wrap\",\"quantity\":1,\"price\":0.00}]}"

# any other CSV
printf 'Email,When,Page,Junk\ndana@example.com,2026-11-24T14:03:12+02:00,/sale,x\nmoshe@example.com,24/11/2026 14:03,/home,y\njohn@example.com,11/24/2026 09:00,/,z\n' >visits.csv
exits "no type column and no --type" 65 nudge event import --config config.yaml visits.csv
is "says how to give one" "$(head -n 1 .err)" \
	"nudge-event: visits.csv:1: header: no type column (give --type TYPE, or --map COLUMN=type)"
exits "--map of a missing column" 64 \
	nudge event import --config config.yaml --type visit --map Nope=at visits.csv
exits "--map to an unknown field" 64 \
	nudge event import --config config.yaml --type visit --map When=time visits.csv
exits "--type and --map: days over 12 read either way" 0 \
	nudge event import --config config.yaml --type page_view \
	--map When=at --map Page=props.path --map Junk=- visits.csv
is "the times, offsets applied" "$(ev "e.type = 'page_view'")" \
"dana@example.com	page_view	2026-11-24 12:03:12	{\"path\":\"/sale\"}
moshe@example.com	page_view	2026-11-24 14:03:00	{\"path\":\"/home\"}
john@example.com	page_view	2026-11-24 09:00:00	{\"path\":\"/\"}"
printf 'Customer,When\ndana@example.com,03/04/2026 10:00\n' >amb.csv
exits "an ambiguous date without --date-order" 65 \
	nudge event import --config config.yaml --type visit --map Customer=contact \
	--map When=at amb.csv
is "is an error naming the row" "$(head -n 1 .err)" \
	'nudge-event: amb.csv:2: When: ambiguous date: day/month or month/day? (give --date-order dmy or mdy): "03/04/2026 10:00"'
exits "--date-order dmy" 0 nudge event import --config config.yaml --type visit \
	--map Customer=contact --map When=at --date-order dmy amb.csv
is "3 April" "$(ev "e.type = 'visit'" | cut -f3)" "2026-04-03 10:00:00"
exits "--date-order mdy" 0 nudge event import --config config.yaml --type visit2 \
	--map Customer=contact --map When=at --date-order mdy amb.csv
is "4 March" "$(ev "e.type = 'visit2'" | cut -f3)" "2026-03-04 10:00:00"
exits "--date-order of something else" 64 nudge event import --date-order ymd amb.csv
done_testing
