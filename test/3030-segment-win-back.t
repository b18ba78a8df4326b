#!/bin/sh
# "E and not E within D" (the win-back audience) on the hand-built store
# of test/segment/fixture.sh: the contacts whose latest E is before the
# window, the bound itself inside it; alone it is compiled to one pass
# over E's events grouped by contact (HAVING max(at)), beside other
# predicates to E's events before the window; the same answers either way.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/segment/fixture.sh"
plan 7

ids() { seg "$@" | tr '\n' ' '; }

# opened: 1 (2d), 2 (29d), 4 (7d exactly: within 7d, so not won back)
is "opened and not opened within 7d" \
	"$(ids 'opened and not opened within 7d')" "2 "
like "alone: one pass grouped by contact" \
	"$(seg --explain 'opened and not opened within 7d')" \
	'GROUP BY e.contact_id HAVING max\(e.at\) < \?[0-9]+ ORDER BY'
# ad_view: 1 (3d, 40d), 2 (5d, 6d), 3 (1d, 2d), 6 (1d, 2d, 3d)
is "ad_view and not ad_view within 4d" \
	"$(ids 'ad_view and not ad_view within 4d')" "2 "
is "within 41d: nobody" "$(ids 'ad_view and not ad_view within 41d')" ""
# facebook views: 1 (3d, 40d), 2 (5d, 6d), 3 (2d), 6 (1d, 2d, 3d)
is "with a prop filter on both" \
	"$(ids 'ad_view source = "facebook" and not ad_view source = "facebook" within 4d')" \
	"2 "
is "a different filter is not the same predicate" \
	"$(ids 'ad_view source = "facebook" and not ad_view source = "google" within 4d')" \
	"1 2 6 "
# beside a list: 2 and 4 are on the newsletter list
is "beside another predicate" \
	"$(ids 'list "newsletter" and opened and not opened within 7d')" "2 "
done_testing
