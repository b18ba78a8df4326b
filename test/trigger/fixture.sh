# test/trigger/fixture.sh: sourced by test/5xxx-*.t after test/lib.sh.
# The hand-built store of the campaign tests (contacts.csv, events.csv:
# eight contacts, four email campaigns c1..c4, a push campaign "promo",
# ad views, sales calls, purchases, an old cart) and the example campaigns copied
# into ./campaigns.  Day 0 is 2026-11-10T10:00:00Z.
export NUDGE_FILE_NOSYNC=1
nudge import-list "$TESTDIR/trigger/contacts.csv" 2>/dev/null || exit 1
nudge event import "$TESTDIR/trigger/events.csv" 2>/dev/null || exit 1
cp -R "$TOP/campaigns" campaigns
# the VIP campaign names the computed field total_spent, which the
# configurations of these tests do not define (5180 runs it)
rm campaigns/vip.yaml
DAY0=2026-11-10T10:00:00Z
# trig TIME [FILES...]: the due lines, without the file field
trig() {
	_at=$1; shift
	[ $# -gt 0 ] || set -- campaigns/*.yaml
	nudge trigger --now "$_at" "$@" | cut -f1-3
}
# run TIME [FILES...]: trigger piped into send into ./out; send's result
# lines (contact, status, reason) in .sent
run() {
	_at=$1; shift
	[ $# -gt 0 ] || set -- campaigns/*.yaml
	nudge trigger --now "$_at" "$@" |
		nudge send --now "$_at" --transport "file://$T/out" \
		    >"$T/.sent" 2>"$T/.senderr"
}
# smtp_config: NUDGE_CONFIG is ./cfg.yaml, email to the test's aiosmtpd
# (start_smtpd first)
smtp_config() {
	printf 'channels:\n  email:\n    url: smtp://127.0.0.1:%s\n' "$SMTPD_PORT" >cfg.yaml
	export NUDGE_CONFIG="$T/cfg.yaml"
}
# journeys TIME: a cron run of the example journeys, abandoned-cart and
# post-purchase, trigger into send
journeys() {
	nudge trigger --now "$1" campaigns/abandoned-cart.yaml \
	    campaigns/post-purchase.yaml | nudge send --now "$1" >/dev/null 2>&1
}
