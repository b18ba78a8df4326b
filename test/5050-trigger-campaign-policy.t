#!/bin/sh
# A campaign's own policy: its exclusion segment and sunset rule replace
# the configuration's for its steps only, and send says why it skips.
. "$(dirname "$0")/lib.sh"
plan 6
. "$TESTDIR/trigger/fixture.sh"
cat >campaigns/careful.yaml <<'YAML'
name: careful
audience: list "newsletter"
policy:
  exclude: purchase within 2d
  sunset: 30d
steps:
  - {id: email, channel: email, template: templates/sale.txt}
YAML
printf 'policy:\n  exclude: list "vip"\n' >cfg.yaml
export NUDGE_CONFIG="$T/cfg.yaml"
now=2027-06-01T10:00:00Z
nudge event add --contact ann@example.com --type opened --channel email \
	--at 2027-05-20T10:00:00Z >/dev/null
nudge event add --contact bob@example.com --type purchase \
	--at 2027-05-31T10:00:00Z >/dev/null
nudge event add --contact bob@example.com --type clicked --channel email \
	--at 2027-05-31T10:00:00Z >/dev/null
ok "trigger | send" run $now campaigns/careful.yaml
is "Ann (VIP, but the campaign's exclude replaces the config's) is sent; Bob just bought; the rest did not engage in 30 days" \
	"$(cut -f1-3 .sent | sed 's/	sent	.*/	sent/')" \
"2	skipped	excluded by policy: purchase within 2d
3	skipped	sunset: no open or click in 30d
5	skipped	sunset: no open or click in 30d
7	skipped	sunset: no open or click in 30d
8	skipped	sunset: no open or click in 30d
1	sent"
is "send's summary counts the skips by reason" "$(grep skipped: .senderr)" \
	"nudge-send: skipped: 1 excluded by policy, 4 sunset"
is "the skipped are not claimed" "$(sql "SELECT contact_id FROM messages")" 1
ok "a campaign without overrides" run $now campaigns/lists-sms.yaml
is "keeps the config's exclusion" "$(cut -f1-3 .sent)" \
"1	skipped	excluded by policy: list \"vip\"
3	skipped	excluded by policy: list \"vip\""
done_testing
