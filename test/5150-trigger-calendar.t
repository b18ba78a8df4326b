#!/bin/sh
# Calendar entries in the campaign's time zone: a weekly campaign (every
# week on monday at 10:00, Asia/Jerusalem, 08:00Z in November) run by a
# daily cron against a real SMTP server sends on Mondays only, each
# Monday's round once; `every day at 09:30` and `on the 1st of every
# month` name their rounds by their local times; a bad calendar entry
# is one clear error.
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 12
. "$TESTDIR/trigger/fixture.sh"
smtp_config
cat >weekly.yaml <<'Y'
name: weekly
audience: list "vip"
entry: every week on monday at 10:00
timezone: Asia/Jerusalem
steps:
  - id: digest
    channel: email
    template: campaigns/templates/sale.txt
Y
days=""
for d in 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24; do
	n=$(nudge trigger --now 2026-11-${d}T09:00:00Z weekly.yaml |
		nudge send --now 2026-11-${d}T09:00:00Z 2>/dev/null | wc -l)
	[ "$n" -gt 0 ] && days="$days $(date -u -d 2026-11-$d +%a):$n"
done
is "a daily cron sends on Mondays only, to the three on the list" "$days" \
	" Mon:3 Mon:3"
is "two rounds, each started at 10:00 in Jerusalem" \
	"$(sql "SELECT DISTINCT step FROM messages ORDER BY 1")" \
"digest@2026-11-16T08:00:00Z
digest@2026-11-23T08:00:00Z"
is "six messages reached the server" "$(ls "$SMTPD_DIR"/*.eml | wc -l)" 6
is "before 10:00 on a Monday the round is last week's: nothing due" \
	"$(nudge trigger --now 2026-11-30T07:59:00Z weekly.yaml | wc -l)" 0
is "at 10:00 the new round" \
	"$(nudge trigger --now 2026-11-30T08:00:00Z weekly.yaml | cut -f3 | sort -u)" \
	"digest@2026-11-30T08:00:00Z"
sed 's/^entry:.*/entry: every day at 09:30/; /^timezone/d' weekly.yaml >daily.yaml
is "every day at 09:30 (UTC): before it, yesterday's round" \
	"$(nudge trigger --now 2026-12-02T09:29:00Z daily.yaml | cut -f3 | sort -u)" \
	"digest@2026-12-01T09:30:00Z"
is "from it, today's" \
	"$(nudge trigger --now 2026-12-02T09:30:00Z daily.yaml | cut -f3 | sort -u)" \
	"digest@2026-12-02T09:30:00Z"
sed 's/^entry:.*/entry: on the 1st of every month at 09:00/' weekly.yaml >monthly.yaml
is "on the 1st of every month: entered on the 1st" \
	"$(nudge trigger --now 2026-12-01T08:00:00Z monthly.yaml | cut -f3 | sort -u)" \
	"digest@2026-12-01T07:00:00Z"
is "and on no later day of the month" \
	"$(nudge trigger --now 2026-12-09T08:00:00Z monthly.yaml | wc -l)" 0
sed 's/^entry:.*/entry: every week on mondy at 10:00/' weekly.yaml >bad.yaml
exits "a misspelt day" 65 nudge trigger --check bad.yaml
like "names the file, line and field" "$(cat .err)" \
	"bad.yaml:3:8: entry: expected once, every DURATION"
sed 's/^timezone:.*/timezone: Mars\/Olympus/' weekly.yaml >badtz.yaml
exits "an unknown time zone" 65 nudge trigger --check badtz.yaml
done_testing
