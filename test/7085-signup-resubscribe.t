#!/bin/sh
# Signing up again after an unsubscribe: a person who confirmed, then
# unsubscribed with the one-click link of a campaign, and later signs up
# again through the form and confirms, is subscribed again (the
# confirmation and its proof are newer than the unsubscribe) and the next
# send over real SMTP reaches them; before the new confirmation, it skips
# them.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
start_smtpd
plan 14

track_setup
signup_config

printf 'email\nann@example.com\n' >known.csv
nudge import-list --list customers known.csv 2>/dev/null

form() { hit POST /s/news -A 'Mozilla/5.0 (test)' --data-raw "$1"; }
cron() { nudge trigger "$TOP/campaigns/signup-confirm.yaml" | nudge send; }
rcpts() { cat "$SMTPD_DIR"/*.env 2>/dev/null | sed -n 's/^rcpt //p' |
    sort | tr '\n' ' '; }
weekly() { nudge segment 'list "news"' |
    nudge send -c "weekly$1" -t weekly.txt 2>/dev/null | cut -f2,3 | sed 's/^sent	.*/sent/'; }
confirm() {
	_u=$(/usr/bin/python3 "$TESTDIR/signup/confirm-url.py" "$SMTPD_DIR" dana@example.com) &&
	hit POST "$_u" -A 'Phone/1.0' --data ''
}
printf 'Subject: Weekly news\nFrom: Shop <shop@example.com>\nX-Nudge-Track: no\n\nHello\nLeave: {{unsubscribe_url}}\n' >weekly.txt

is "Dana signs up" "$(form 'email=dana%40example.com')" 200
ok "cron sends the confirmation" cron
is "she confirms" "$(confirm)" 200
is "the first weekly reaches her" "$(weekly 1)" sent
u=$(/usr/bin/python3 -c 'import email, email.policy, glob, re, sys
f = sorted(glob.glob(sys.argv[1] + "/*.eml"))[-1]
m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
print(re.search(r"Leave: https?://[^/\s]+/t(/u/\S+)", m.get_body(("plain",)).get_content()).group(1))' "$SMTPD_DIR")
is "she unsubscribes with its one-click link" \
    "$(hit POST "$u" --data 'List-Unsubscribe=One-Click')" 200
like "the next weekly skips her" "$(weekly 2)" "^skipped	unsubscribed"

# Two days later she signs up again.
sql "UPDATE events SET at = at - 2 * 86400; UPDATE consent SET at = at - 2 * 86400"
is "she signs up again: the same page" "$(form 'email=dana%40example.com')" 200
like "still skipped before she confirms" "$(weekly 3)" "^skipped	unsubscribed"
ok "cron" cron
is "a second confirmation is sent" "$(rcpts | tr ' ' '\n' | grep -c dana)" 3
is "she confirms again" "$(confirm)" 200
is "subscribed again on email, from the form, newer than the unsubscribe" \
    "$(sql "SELECT status, source, proof IS NOT NULL OR event_id IS NOT NULL
    FROM consent_now WHERE channel = 'email'")" "subscribed	form:news	1"
is "the next weekly reaches her" "$(weekly 4)" sent
is "over SMTP" "$(rcpts | tr ' ' '\n' | grep -c dana)" 4
