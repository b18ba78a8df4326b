#!/bin/sh
# Done means: the waterfall campaign (campaigns/waterfall.yaml: a push,
# an email two days later, an SMS three days after that) runs through
# trigger | send across all three channels for real -- push to ntfy and
# SMS to Twilio (the provider emulator), email over SMTP (aiosmtpd) --
# each message once, with the step in the ledger and the idempotency key.
. "$(dirname "$0")/lib.sh"
start_smtpd
start_emu
plan 9
. "$TESTDIR/trigger/fixture.sh"
export SMS_TOKEN=tok
cat >cfg.yaml <<EOT
channels:
  email:
    url: smtp://127.0.0.1:$SMTPD_PORT
    from: "Shop <shop@example.com>"
  sms:
    provider: $TOP/samples/providers/twilio.yaml
    url: http://127.0.0.1:$EMU_PORT
    user: AC1
    secret_env: SMS_TOKEN
    sender: {default: Shop}
  push:
    provider: $TOP/samples/providers/ntfy.yaml
    url: http://127.0.0.1:$EMU_PORT
EOT
export NUDGE_CONFIG="$T/cfg.yaml"
W=campaigns/waterfall.yaml
cron() { nudge trigger --now "$1" $W | nudge send --now "$1" >"$T/.sent" 2>"$T/.senderr"; }
# paths: the emulator's requests as "path to", one a line, sorted
paths() {
	[ -f "$EMU_DIR/requests" ] || return 0
	/usr/bin/python3 -c 'import json,sys,urllib.parse as u
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["path"] == "/":
        to = json.loads(r["body"])["topic"]
    else:
        to = u.parse_qs(r["body"])["To"][0]
    print(r["path"], to)' "$EMU_DIR/requests" | sort
}
rcpts() { cat "$SMTPD_DIR"/*.env 2>/dev/null | sed -n 's/^rcpt //p' | sort | tr '\n' ' '; }

ok "day 0: the push step" cron $DAY0
is "pushes through ntfy to each push id" "$(paths)" \
"/ push-ann
/ push-bob
/ push-eve
/ push-gil
/ push-hal"
# Bob opens the push: no email for him
nudge event add --contact bob@example.com --type opened --channel push \
	--campaign waterfall --step push1 --at 2026-11-10T12:00:00Z >/dev/null
rm -f "$EMU_DIR/requests"
ok "day 2: the email step" cron 2026-11-12T10:00:00Z
is "over SMTP to those who did not open the push, and to Cy, who has no push id (the push passed over)" "$(rcpts)" \
	"ann@example.com cy@example.com eve@example.com gil@example.com hal@example.com "
is "nothing went to the providers that day" "$(paths)" ""
# Eve clicks the email: no SMS for her
nudge event add --contact eve@example.com --type clicked --channel email \
	--campaign waterfall --step email1 --at 2026-11-13T12:00:00Z >/dev/null
ok "day 5: the SMS step" cron 2026-11-15T10:00:00Z
is "through Twilio to the phones of those who clicked nothing" "$(paths)" \
"/2010-04-01/Accounts/AC1/Messages.json +972521000001
/2010-04-01/Accounts/AC1/Messages.json +972521000003
/2010-04-01/Accounts/AC1/Messages.json +972521000007
/2010-04-01/Accounts/AC1/Messages.json +972521000008"
is "the ledger: each step on its channel, each message sent once" \
	"$(sql "SELECT m.step, m.channel, m.status, count(*) FROM messages m JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'waterfall' GROUP BY 1, 2, 3 ORDER BY 1")" \
"email1	email	sent	5
push1	push	sent	5
sms1	sms	sent	4"
is "the SMS carried the step's key as its idempotency key" \
	"$(grep -o '"i-twilio-idempotency-token": "[^"]*"' "$EMU_DIR/requests" | sed 's/.*"nudge-[0-9]*-//; s/"$//' | sort | tr '\n' ' ')" \
	"sms1-1 sms1-3 sms1-7 sms1-8 "
done_testing