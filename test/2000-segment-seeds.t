#!/bin/sh
# The seed segments of DESIGN.md on the hand-built store of
# test/segment/fixture.sh; each answer is worked out by hand there.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/segment/fixture.sh"
plan 20

ids() { seg "$@" | tr '\n' ' '; }

# opened within 7d: 1 (2d ago) and 4 (exactly 7d ago: the bound is in)
is "not opened within 7d" "$(ids 'not opened within 7d')" "2 3 5 6 "
is "list or list" "$(ids 'list "vip" or list "newsletter"')" "1 2 3 4 "
# the last 3 email campaigns are e4, e3, e2; 2 clicked e1 only
is "clicked in last 3 email campaigns" \
	"$(ids 'clicked in last 3 email campaigns')" "1 3 "
# 4 got promo by email, 2 clicked it
is "received push promo and not clicked promo" \
	"$(ids 'received channel push campaign "promo" and not clicked campaign "promo"')" "1 3 "
# 1 has one facebook view in 30 days (the other is 40 days old), 3 one
is "ad_view source at least 2 times within 30d" \
	"$(ids 'ad_view source = "facebook" at least 2 times within 30d')" "2 6 "
is "sales_call within 14d" "$(ids 'sales_call within 14d')" "3 "
is "not received within 1d and not purchase within 2d" \
	"$(ids 'not received within 1d and not purchase within 2d')" "3 4 5 6 "

is "--count of a seed" "$(seg --count 'not opened within 7d')" "4"
is "--count of nobody" "$(seg -c 'sales_call within 1d')" "0"
is "not negates the whole predicate (no events at all)" \
	"$(ids 'not sales_call')" "1 2 5 6 "
is "not not" "$(ids 'not not sales_call')" "3 4 "
is "De Morgan through parentheses" \
	"$(ids 'not (list "vip" or sales_call)')" "2 5 6 "
is "and binds tighter than or" \
	"$(ids 'sales_call within 14d or list "vip" and opened')" "1 3 "
is "since DATE" "$(ids 'clicked since 2026-10-13')" "1 2 3 "
is "in last 1 campaigns (any channel)" \
	"$(ids 'received in last 1 campaigns')" "4 "
is "field on a column and an attrs key" \
	"$(ids 'list "vip" and city = "Haifa" and first_name = "נועה"')" "3 "
is "numeric attrs compare (not numbers never match)" \
	"$(ids 'age > 35')" "2 "
is "unknown list matches nobody" "$(ids 'list "nope"')" ""
is "subscribed email" "$(ids 'subscribed email')" "1 2 3 4 6 "
sql "INSERT INTO consent (contact_id, channel, status, at, source)
 VALUES (2, 'email', 'unsubscribed', 1, 'test'),
        (3, 'email', 'unsubscribed', 1, 'test'),
        (3, 'email', 'subscribed', 2, 'test'),
        (6, 'email', 'bounced', 1, 'test')"
is "subscribed email follows the latest consent" \
	"$(ids 'subscribed email')" "1 3 4 "
done_testing
