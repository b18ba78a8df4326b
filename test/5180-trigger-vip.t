#!/bin/sh
# The VIP example (campaigns/vip.yaml): driven by the computed field
# total_spent of the configuration (as samples/config.yaml defines it):
# only a contact whose purchase of the last day takes their total over
# 500 gets the thank-you, which shows that total; the SMS a week later
# only if they did not buy again since.
. "$(dirname "$0")/lib.sh"
plan 9
. "$TESTDIR/trigger/fixture.sh"
cp "$TOP/campaigns/vip.yaml" campaigns/
cat >cfg.yaml <<'YAML'
currency: USD
event_types: [purchase]
computed:
  total_spent: "sum of total over purchase"
YAML
export NUDGE_CONFIG="$T/cfg.yaml"
V=campaigns/vip.yaml
buy() { nudge event add --contact "$1@example.com" --type purchase --at "$2" --prop "total=$3" >/dev/null; }
# Ann: 300, then 250 today; Bob: 400 today; Eve: 900 in the summer only;
# Cy: 700 today
buy ann 2026-11-01T10:00:00Z 300
buy ann 2026-11-10T08:00:00Z 250
buy bob 2026-11-10T08:00:00Z 400
buy eve 2026-08-01T10:00:00Z 900
buy cy 2026-11-10T09:00:00Z 700
exits "trigger --check with the config's computed field" 0 nudge trigger --check $V
exits "day 0" 0 run $DAY0 $V
is "the VIPs by today's purchases: Ann (550), Cy (700)" \
	"$(cut -f1,2,4,5 .sent | sort)" "1	sent	vip	vip-thanks
3	sent	vip	vip-thanks"
is "the thank-you shows the contact's total" \
	"$(grep -h 'bought' out/new/* | tr -d '\r' | sort)" \
	"you have bought \$550.00 from us so far: thank you.
you have bought \$700.00 from us so far: thank you."
# Cy buys again on day 3: no SMS for her
buy cy 2026-11-13T10:00:00Z 50
exits "a week later" 0 run 2026-11-17T10:05:00Z $V
is "the SMS to Ann only" "$(cut -f1,2,4,5 .sent)" "1	sent	vip	vip-sms"
grep -v '^computed\|total_spent' cfg.yaml >nocomp.yaml
exits "without the computed field the campaign is refused" 65 \
	nudge trigger --config nocomp.yaml --check $V
like "naming the field where its template uses it" "$(cat .err)" \
	'campaigns/templates/vip-thanks.txt:6:19: unknown field "total_spent"'
exits "samples/config.yaml defines it" 0 nudge trigger --config "$TOP/samples/config.yaml" --check $V
done_testing
