#!/bin/sh
# A recurring campaign (entry: every 7d): each round has its own ledger
# keys (step@round), a contact enters again each round, a journey that
# entered late in a round finishes in the next, and step references mean
# this round's steps.
. "$(dirname "$0")/lib.sh"
plan 8
. "$TESTDIR/trigger/fixture.sh"
cat >campaigns/digest.yaml <<'YAML'
name: digest
audience: list "newsletter"
entry: every 7d
steps:
  - {id: email1, channel: email, template: templates/sale.txt}
  - {id: email2, channel: email, template: templates/sale.txt, after: 2d, if: not opened step "email1"}
YAML
D=campaigns/digest.yaml
is "Tuesday: the round that began on Thursday 2026-11-05" "$(trig $DAY0 $D)" \
"1	digest	email1@2026-11-05T00:00:00Z
2	digest	email1@2026-11-05T00:00:00Z
3	digest	email1@2026-11-05T00:00:00Z
5	digest	email1@2026-11-05T00:00:00Z
7	digest	email1@2026-11-05T00:00:00Z
8	digest	email1@2026-11-05T00:00:00Z"
ok "sent" run $DAY0 $D
nudge event add --contact ann@example.com --type opened --channel email \
	--campaign digest --step email1@2026-11-05T00:00:00Z \
	--at 2026-11-10T12:00:00Z >/dev/null
is "Thursday: the last round's follow-up (not to Ann, who opened it) and the new round's first email" \
	"$(trig 2026-11-12T10:00:00Z $D)" \
"2	digest	email2@2026-11-05T00:00:00Z
3	digest	email2@2026-11-05T00:00:00Z
5	digest	email2@2026-11-05T00:00:00Z
7	digest	email2@2026-11-05T00:00:00Z
8	digest	email2@2026-11-05T00:00:00Z
1	digest	email1@2026-11-12T00:00:00Z
2	digest	email1@2026-11-12T00:00:00Z
3	digest	email1@2026-11-12T00:00:00Z
5	digest	email1@2026-11-12T00:00:00Z
7	digest	email1@2026-11-12T00:00:00Z
8	digest	email1@2026-11-12T00:00:00Z"
ok "sent" run 2026-11-12T10:00:00Z $D
is "ten minutes later nothing more" "$(trig 2026-11-12T10:10:00Z $D)" ""
is "the ledger keeps each round apart" \
	"$(sql "SELECT step, count(*) FROM messages GROUP BY 1 ORDER BY 1")" \
"email1@2026-11-05T00:00:00Z	6
email1@2026-11-12T00:00:00Z	6
email2@2026-11-05T00:00:00Z	5"
sed 's/after: 2d/after: 7d/' $D >campaigns/long.yaml
exits "waits as long as a round are refused" 65 nudge trigger --check campaigns/long.yaml
is "saying why" "$(cat .err)" \
	"nudge-trigger: campaigns/long.yaml:5:3: steps: the waits add up to a round or more (entry: every ...): a journey must end within its round's length"
done_testing
