#!/bin/sh
# make demo: a fresh store in demo/, the sample contacts and events
# imported, every seed segment of nudge-segment(7) run on them as of
# 2026-11-01 (the samples' "now"), a welcome campaign sent to the
# newsletter into the file transport (demo/outbox), and the report.  NUDGE_DEMO_DIR puts the store
# elsewhere (test/0020-demo.t does).
cd "$(dirname "$0")/.." || exit 1
top=$PWD
PATH="$top:$PATH"
dir=${NUDGE_DEMO_DIR:-$top/demo}
export NUDGE_CONFIG="$top/samples/config.yaml" NUDGE_DB="$dir/nudge.db"
rm -rf "$dir" && mkdir -p "$dir" || exit 73
now=2026-11-01T00:00:00Z

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step nudge import-list --rejects demo/rejects.csv samples/contacts.csv
nudge import-list --rejects "$dir/rejects.csv" samples/contacts.csv
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 65 ] || exit "$rc"
step cat demo/rejects.csv
cat "$dir/rejects.csv"

step nudge event import samples/events.csv
nudge event import samples/events.csv
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 65 ] || exit "$rc"

while IFS= read -r expr; do
	step nudge segment --now $now --format table --fields id,email,first_name "'$expr'"
	nudge segment --now $now --format table --fields id,email,first_name "$expr" ||
		exit $?
done <<'SEGMENTS'
not opened within 7d
list "vip" or list "newsletter"
clicked in last 3 email campaigns
received channel push campaign "promo" and not clicked campaign "promo"
ad_view source = "facebook" at least 2 times within 30d
sales_call within 14d
not received within 1d and not purchase within 2d
SEGMENTS
step "nudge segment 'list \"newsletter\"' | nudge send --campaign welcome --template samples/templates/welcome.txt --transport file://demo/outbox"
nudge segment 'list "newsletter"' |
	NUDGE_FILE_NOSYNC=1 nudge send --now $now --campaign welcome \
	    --template samples/templates/welcome.txt \
	    --transport "file://$dir/outbox" || exit $?
step ls demo/outbox/new
ls "$dir/outbox/new"

# the shop's carts and orders of the last day (items, totals), and the
# coupon codes the abandoned-cart SMS quotes: after the seed segments,
# which count purchases as of the samples' "now"
step nudge import-list samples/coupons.csv
nudge import-list samples/coupons.csv || exit $?
step nudge event import samples/carts.jsonl
nudge event import samples/carts.jsonl || exit $?

step "nudge trigger campaigns/*.yaml | nudge send --transport file://demo/campaigns"
nudge trigger --now $now campaigns/*.yaml |
	NUDGE_FILE_NOSYNC=1 nudge send --now $now \
	    --transport "file://$dir/campaigns" || exit $?

step nudge report
nudge report || exit $?

# Two purchases are too few to predict from: predict says so (65).
step nudge predict
nudge predict --now $now
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 65 ] || exit "$rc"
# The opens and clicks so far: each contact's best hour to send, for
# campaigns/win-back-predicted.yaml (send_at: best_hour).
step nudge predict hours
nudge predict hours --now $now || exit $?
printf '\nThe store is demo/nudge.db; try: NUDGE_CONFIG=samples/config.yaml ./nudge segment --count %s\n' \
	"'subscribed email'"
