#!/bin/sh
# Malformed campaign files: every error names file:line:column and what
# was expected (test/trigger/bad/*.yaml, the errors in errors.want);
# --check reads the store only when there is one (and never makes one);
# a bad file stops trigger before it reads one.
. "$(dirname "$0")/lib.sh"
plan 11
B="$TESTDIR/trigger/bad"
cp -R "$B" bad
cd bad || exit 1
for f in *.yaml; do
	nudge trigger --check "$f" 2>&1
	echo "exit $?"
done >got
nudge trigger --check nofile.yaml >>got 2>&1
echo "exit $?" >>got
cmp_file "each malformed file gets its one error line" "$B/errors.want" got
cd "$T" || exit 1

exits "--check of the good examples" 0 nudge trigger --check "$TOP"/campaigns/*.yaml
ok "reads no store" test ! -e "$NUDGE_DB"
exits "trigger with a bad file among good ones is 65" 65 \
	nudge trigger "$TOP/campaigns/waterfall.yaml" bad/channel.yaml
is "names it" "$(cat .err)" \
	'nudge-trigger: bad/channel.yaml:4:14: steps[1]: channel: expected email, sms or push, got "fax"'
is "and prints nothing" "$(cat .out)" ""
cat >saved.yaml <<'YAML'
audience: "@nosuch"
steps:
  - {id: a, channel: email, template: bad/t/ok.txt}
YAML
exits "an unknown saved segment passes --check (it lives in the store)" 0 \
	nudge trigger --check saved.yaml
printf 'email\na@example.com\n' | nudge import-list - 2>/dev/null
exits "but not a run" 64 nudge trigger saved.yaml
is "which names the file" "$(cat .err)" \
	"nudge-trigger: saved.yaml: audience: column 1: no saved segment @nosuch"
cp -R "$TOP/campaigns" c
sed 's/^name: waterfall/name: win-back/' c/waterfall.yaml >c/twin.yaml
exits "two files with one campaign name" 65 nudge trigger --check c/win-back.yaml c/twin.yaml
is "are refused: they would share a ledger" "$(cat .err)" \
	'nudge-trigger: c/twin.yaml: campaign "win-back" is also c/win-back.yaml'
done_testing
