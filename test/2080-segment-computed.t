#!/bin/sh
# segment: computed fields defined in the config (nudge-config(5)
# computed:) over a store of known purchases, the values worked out by
# hand below; in expressions, in --fields, and sums and averages of a
# prop in an event predicate; a bad aggregate is the config's error;
# computed: may name a file of them.
. "$(dirname "$0")/lib.sh"
plan 29

cat >config.yaml <<'YAML'
computed:
  total_spent: "sum of total over purchase"
  orders_90d: "count of purchase within 90d"
  last_order_at: "latest at of purchase"
  last_product: "latest items[0].name of purchase"
  favourite_category: "most common category over product_view within 30d"
  avg_order: "average of total over purchase"
YAML
export NUDGE_CONFIG="$T/config.yaml"
printf '%s\n' email ann@example.com bob@example.com cy@example.com \
	dee@example.com >c.csv
ok "contacts" nudge import-list --list all c.csv
NOW=1796083200 # 2026-12-01T00:00:00Z
D=86400
# ann: 300 (10d ago, a mug) + 250.5 (200d ago, a pen) = 550.5, 1 in 90d
# bob: 100 (5d ago, tea); views books 3d, books 2d, toys 1d, toys 40d
#      (outside 30d): books
# cy:  no purchase (sum 0, count 0, no latest); views toys 1d
# dee: 600 (100d ago, no items): 600, none in 90d
sql "INSERT INTO events (contact_id, type, at, props) VALUES
 (1, 'purchase', $NOW - 10*$D, '{\"total\":300,\"items\":[{\"name\":\"mug\"}]}'),
 (1, 'purchase', $NOW - 200*$D, '{\"total\":250.5,\"items\":[{\"name\":\"pen\"}]}'),
 (2, 'purchase', $NOW - 5*$D, '{\"total\":100,\"items\":[{\"name\":\"tea\"},{\"name\":\"cup\"}]}'),
 (2, 'product_view', $NOW - 3*$D, '{\"category\":\"books\"}'),
 (2, 'product_view', $NOW - 2*$D, '{\"category\":\"books\"}'),
 (2, 'product_view', $NOW - 1*$D, '{\"category\":\"toys\"}'),
 (2, 'product_view', $NOW - 40*$D, '{\"category\":\"toys\"}'),
 (2, 'product_view', $NOW - 41*$D, '{\"category\":\"toys\"}'),
 (3, 'product_view', $NOW - 1*$D, '{\"category\":\"toys\"}'),
 (4, 'purchase', $NOW - 100*$D, '{\"total\":600}');" || exit 1

seg() { # seg NAME EXPR IDS: the ids the expression selects
	ok "$1 runs" nudge segment --now 2026-12-01 "$2"
	is "$1" "$(tr '\n' ' ' <"$T/.out")" "$3"
}
seg "sum and count together" 'total_spent > 500 and orders_90d = 0' "4 "
seg "a sum over all time" 'total_spent > 500' "1 4 "
seg "not a count" 'not orders_90d = 0' "1 2 "
seg "latest of a path into items" 'last_product = "mug"' "1 "
seg "most common within 30d" 'favourite_category = "toys"' "3 "
seg "latest at compares with a date" 'last_order_at > "2026-11-01"' "1 2 "
seg "is not set: no value" 'not last_product is set' "3 4 "
seg "an average" 'avg_order > 200' "1 4 "
seg "a sum in an event predicate" 'purchase total sum >= 100 within 90d' "1 2 "
seg "an average in an event predicate" 'purchase total avg < 200' "2 "

ok "--fields with computed fields" nudge segment --now 2026-12-01 -f tsv \
	--fields email,total_spent,orders_90d,last_order_at,last_product,favourite_category \
	'list "all"'
is "their values per contact" "$(cat .out)" "ann@example.com	550.5	1	1795219200	mug	
bob@example.com	100	1	1795651200	tea	books
cy@example.com	0	0			toys
dee@example.com	600	0	1787443200		"

cat >bad.yaml <<'YAML'
computed:
  ok_field: "count of purchase"
  total_spent: "sum of total purchase"
YAML
exits "a bad aggregate is the config's error" 65 \
	nudge segment --config bad.yaml 'total_spent > 1'
is "naming file, line and field" "$(cat .err)" \
	"nudge-segment: bad.yaml:3:16: computed: total_spent: column 14: expected \"over\" and an event type, got \"purchase\""
mkdir sub
printf 'computed:  fields.yaml\n' >sub/named.yaml
printf 'big: "sum of total over purchase within 90d"\n' >sub/fields.yaml
ok "computed: names a file beside the config" \
	nudge segment --config sub/named.yaml --now 2026-12-01 'big >= 300'
is "its fields work as the inline ones" "$(tr '\n' ' ' <.out)" "1 "
printf 'big: "sum of total over"\n' >sub/fields.yaml
exits "an error in that file" 65 nudge segment --config sub/named.yaml 'big > 1'
is "names that file" "$(cat .err)" \
	"nudge-segment: sub/fields.yaml:1:6: computed: big: column 18: expected an event type such as purchase, got the end of the expression"
done_testing
