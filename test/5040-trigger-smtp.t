#!/bin/sh
# The win-back journey over a real SMTP server (aiosmtpd) from cron-like
# runs: each email step reaches the right recipients with its own
# template, a purchase ends one journey, and an SMS step with no SMS
# transport yet is skipped (not claimed) while the email steps go out.
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 10
. "$TESTDIR/trigger/fixture.sh"
printf 'channels:\n  email:\n    url: smtp://127.0.0.1:%s\n' "$SMTPD_PORT" >cfg.yaml
export NUDGE_CONFIG="$T/cfg.yaml"
W=campaigns/win-back.yaml
cron() { nudge trigger --now "$1" $W | nudge send --now "$1"; }
rcpts() { cat "$SMTPD_DIR"/*.env 2>/dev/null | sed -n 's/^rcpt //p' | sort | tr '\n' ' '; }
subjects() {
	for f in "$SMTPD_DIR"/*.eml; do
		/usr/bin/python3 "$TESTDIR/send/parse.py" "$f" | sed -n 's/^subject: //p'
	done | sort | uniq -c | tr -s ' '
}

exits "day 0" 0 cron $DAY0
is "the first email to Cy and Fay, over SMTP" "$(rcpts)" \
	"cy@example.com fay@example.com "
nudge event add --contact fay@example.com --type purchase \
	--at 2026-11-12T15:00:00Z >/dev/null
exits "day 7" 0 cron 2026-11-17T10:00:00Z
is "the reminder only to Cy: Fay bought" "$(rcpts)" \
	"cy@example.com cy@example.com fay@example.com "
is "each step with its own template" "$(subjects)" \
" 1 We miss you, Cy
 1 We miss you, Fay
 1 Your 15% off is waiting, Cy"
exits "day 14" 0 cron 2026-11-24T10:00:00Z
is "the SMS step has no transport yet: skipped, saying so" "$(cat .out)" \
	"3	skipped	no transport for sms yet (only --transport file://)	win-back	sms1"
is "and not claimed" \
	"$(sql "SELECT step, count(*) FROM messages GROUP BY 1 ORDER BY 1")" \
"email1	2
email2	1"
is "so the next run offers it again" "$(trig 2026-11-24T10:10:00Z $W)" \
	"3	win-back	sms1"
is "three messages reached the server in all" "$(ls "$SMTPD_DIR"/*.eml | wc -l)" 3
done_testing
