#!/bin/sh
# The README tour's last step runs as shown: each "$ " line of its
# block (from the import of samples/launch/contacts.csv to the end of the
# block) runs here in turn, and what it prints on stdout must be the
# lines the README shows after it, so that the README cannot drift.  The
# report shows revenue, the A/B test's winner and the holdout's uplift.
. "$(dirname "$0")/lib.sh"
plan 4
export NUDGE_FILE_NOSYNC=1
ln -s "$TOP/samples" samples
awk '/^    \$ nudge import-list samples\/launch\/contacts.csv$/ { on = 1 }
	on && !/^    / { exit }
	on' "$TOP/README.md" >want.txt
ok "the README has the block" test -s want.txt
sed -n 's/^    \$ //p' want.txt >cmds.txt
while IFS= read -r c; do
	printf '    $ %s\n' "$c"
	sh -c "$c" 2>>stderr.txt </dev/null | sed 's/^/    /'
done <cmds.txt >got.txt
cmp_file "every command prints what the README shows" want.txt got.txt
like "the report has revenue" "$(grep '^    launch ' got.txt)" \
	"^    launch +533 +533 .* 91 +6005\\.0 +11\\.27 "
like "a winner and an uplift" "$(grep -E '^    (winner|uplift):' got.txt)" \
	"winner: launch: step mail: .*significant at 95%: sending b to the rest
    uplift: \\+[0-9.]+ points \\(95% interval"
done_testing
