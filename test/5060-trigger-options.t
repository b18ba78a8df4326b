#!/bin/sh
# nudge trigger's options: --explain shows each step's SQL and parameters
# without running it, --dry-run only counts, --now is required to be a
# time, and usage errors are 64.
. "$(dirname "$0")/lib.sh"
plan 19
. "$TESTDIR/trigger/fixture.sh"
W=campaigns/win-back.yaml

exits "--explain" 0 nudge trigger --explain --now $DAY0 $W
is "one block per step, last step first, then the entry's" \
	"$(grep '^-- campaigns' .out)" \
"-- campaigns/win-back.yaml: campaign win-back, step sms1
-- campaigns/win-back.yaml: campaign win-back, step email2
-- campaigns/win-back.yaml: campaign win-back, step email1
-- campaigns/win-back.yaml: campaign win-back, step sms1"
like "the entry: the audience less the ledger of every step, then who can get a channel of the campaign" \
	"$(grep -A2 'campaign win-back, step email1$' .out | tail -1)" \
	'^WITH t\(id\) AS \(SELECT e.contact_id FROM events e .* EXCEPT SELECT x.contact_id FROM messages x WHERE .* AND x.step = \?5 EXCEPT .* AND x.step = \?6 EXCEPT .* AND x.step = \?7 ORDER BY 1\) SELECT t.id FROM t WHERE \(coalesce\(\(SELECT n.status FROM consent n WHERE n.contact_id = t.id .* AND EXISTS \(SELECT 1 FROM contacts a WHERE a.id = t.id AND coalesce\(a.email, .*\) OR \(.*coalesce\(a.phone, .*\);$'
like "then of those, the first step's due" \
	"$(grep -A1 '^-- then those of them due' .out | tail -1)" \
	"^SELECT c.id FROM contacts c WHERE c.id IN \(SELECT j.value FROM json_each\(\?1\) j\) AND \(coalesce\(\(SELECT n.status FROM consent n WHERE n.contact_id = c.id AND n.channel = \?2 .* AND coalesce\(c.email, ''\) != ''\) ORDER BY c.id;$"
like "and the SMS's, the emails passed over, for those who can get no email" \
	"$(grep -A1 '^-- or, on entry, email1, email2 passed over' .out | tail -1)" \
	"AND coalesce\(c.phone, ''\) != ''\) AND NOT \(coalesce\(\(SELECT n.status .* AND coalesce\(c.email, ''\) != ''\) AND"
like "after email1, the SMS, email2 passed over, after email2's wait" \
	"$(grep -A1 '^-- or, email2 passed over, after email1' .out | tail -1)" \
	"m.step = \?2 AND m.status IN \('sent', 'held-out'\) AND m.updated_at <= \?3 AND c.id NOT IN \(SELECT x.contact_id FROM messages x WHERE .* AND x.step IN \(\?7, \?8\)\)"
nudge trigger --explain --now $DAY0 campaigns/clicked-recent.yaml >.out
is "a campaign on one channel, no if: on its first step: the entry query is all" \
	"$(grep -c '^SELECT\|^WITH' .out) $(grep '^-- the due' .out)" \
	"1 -- the due: the audience less the ledger, reachable on the channel"
nudge trigger --explain --now $DAY0 $W >.out
like "a later step by the previous step's ledger rows, after its wait" \
	"$(grep -A1 'step email2' .out | tail -1)" \
	"FROM messages m JOIN contacts c .* AND m.step = \?[0-9]+ AND m.status IN \('sent', 'held-out'\) AND m.updated_at <= \?[0-9]+"
like "parameters are shown, times also in ISO 8601" "$(cat .out)" \
	"-- \?[0-9]+ = 1793700000 \(2026-11-03T10:00:00Z\)"
# an if: on the first step: the candidates are checked by a second query
cat >campaigns/first-if.yaml <<'EOT'
name: first-if
audience: list "newsletter"
steps:
  - {id: e1, channel: email, template: templates/sale.txt, if: list "vip"}
EOT
nudge trigger --explain --now $DAY0 campaigns/first-if.yaml >.out
like "an if: on the first step: the candidates, then a query of those" \
	"$(grep -A1 '^-- then those' .out | tail -1)" \
	'^SELECT c.id FROM contacts c WHERE c.id IN \(SELECT j.value FROM json_each\(\?[0-9]+\) j\) AND \(coalesce.* AND coalesce\(c.email, .*\) AND \(c.id IN \(SELECT m.contact_id FROM list_members m '
is "which holds the if:" "$(trig $DAY0 campaigns/first-if.yaml)" \
"1	first-if	e1
3	first-if	e1"
exits "--dry-run" 0 nudge trigger -n --now $DAY0 campaigns/win-back.yaml campaigns/lists-sms.yaml
is "prints nothing on stdout, the counts on stderr" "$(cat .out; cat .err)" \
"nudge-trigger: win-back: 2 due
nudge-trigger: lists-sms: 2 due"
nudge trigger --now $DAY0 campaigns/*.yaml >all
nudge trigger -j 1 --now $DAY0 campaigns/*.yaml >one
nudge trigger --jobs 2 --now $DAY0 campaigns/*.yaml >two
ok "campaigns side by side print what one after the other does, in the files' order" \
	sh -c 'test -s all && cmp all one && cmp all two'
is "file by file" "$(cut -f4 all | uniq | tr '\n' ' ')" \
	"$(for f in campaigns/*.yaml; do grep -q "	$f\$" all && printf '%s ' "$f"; done)"
exits "-j 0" 64 nudge trigger -j 0 --now $DAY0 $W
exits "no campaign file" 64 nudge trigger --now $DAY0
exits "a bad --now" 64 nudge trigger --now yesterday $W
is "says what it wants" "$(head -1 .err)" \
	'nudge-trigger: --now: not a time: "yesterday" (ISO 8601, such as 2026-11-01 or 2026-11-01T09:00:00Z)'
done_testing
