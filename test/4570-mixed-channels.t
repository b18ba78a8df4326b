#!/bin/sh
# A mixed stream (trigger lines of email, SMS and push steps) is
# delivered concurrently: a slow SMS provider does not hold the email back
# -- the emails reach the SMTP server (aiosmtpd) while the SMS requests
# are still coming to the provider emulator -- and each message goes
# once.  A frequency cap counts what is in flight on another channel:
# with a cap of one a day, a contact in both an SMS and an email step of
# the same stream gets one of them, never both.
. "$(dirname "$0")/lib.sh"
start_smtpd
start_emu
plan 12
export SMS_TOKEN=tok NUDGE_FILE_NOSYNC=1
{
	echo "email,phone,push_id,first_name"
	for i in $(seq 1 20); do
		printf 'c%d@example.com,+9725210000%02d,push-%d,C%d\n' $i $i $i $i
	done
} >contacts.csv
nudge import-list contacts.csv 2>/dev/null
mkdir -p templates
printf 'Subject: Hello {{first_name}}\n\nThe sale is on.\n' >templates/a.txt
printf '\nSale today, {{first_name}}.\n' >templates/a.sms
printf 'Title: Sale\n\nSale today.\n' >templates/a.push
cat >mixed.yaml <<'EOT'
name: mixed
audience: all
steps:
  - {id: s1, channel: sms, template: templates/a.sms}
  - {id: e1, channel: email, template: templates/a.txt, after: 1d}
  - {id: p1, channel: push, template: templates/a.push, after: 1d}
EOT
sed 's/^name: mixed/name: capped/' mixed.yaml >capped.yaml
printf 'policy:\n  frequency_cap: {max: 1, per: 1d}\n' >>capped.yaml
cat >cfg.yaml <<EOT
channels:
  email:
    url: smtp://127.0.0.1:$SMTPD_PORT
    from: "Shop <shop@example.com>"
    parallel: 2
  sms:
    provider: $TOP/samples/providers/twilio.yaml
    url: http://127.0.0.1:$EMU_PORT
    user: AC1
    secret_env: SMS_TOKEN
    sender: {default: Shop}
    parallel: 1
  push:
    provider: $TOP/samples/providers/ntfy.yaml
    url: http://127.0.0.1:$EMU_PORT
EOT
export NUDGE_CONFIG="$T/cfg.yaml"
now=2026-11-10T10:00:00Z

# 20 SMS first (each answered after 0.3 s, one connection: 6 s in all),
# then 10 emails and 5 pushes
{
	for i in $(seq 1 20); do printf '%d\tmixed\ts1\tmixed.yaml\n' $i; done
	for i in $(seq 1 10); do printf '%d\tmixed\te1\tmixed.yaml\n' $i; done
	for i in $(seq 11 15); do printf '%d\tmixed\tp1\tmixed.yaml\n' $i; done
} >lines
echo 'slow 0.3*' >"$EMU_DIR/faults"
nudge send --now $now <lines >out 2>err; rc=$?; cat err >&2
is "the mixed stream is sent: exit 0" "$rc" 0
is "every line sent" "$(cut -f2 out | sort | uniq -c | sed 's/^ *//')" "35 sent"
is "the ledger: each step on its channel, each message once" \
	"$(sql "SELECT step, channel, status, count(*) FROM messages GROUP BY 1, 2, 3 ORDER BY 1")" \
"e1	email	sent	10
p1	push	sent	5
s1	sms	sent	20"
is "the SMTP server got the 10 emails, each once" \
	"$(cat "$SMTPD_DIR"/*.env | sed -n 's/^rcpt //p' | sort -u | wc -l)/$(ls "$SMTPD_DIR"/*.env | wc -l)" "10/10"
sms_last=$(/usr/bin/python3 -c 'import json,sys
print(max(json.loads(l)["t"] for l in open(sys.argv[1]) if "Messages" in json.loads(l)["path"]))' "$EMU_DIR/requests")
email_last=$(/usr/bin/python3 -c 'import os,sys,glob
print(max(os.stat(f).st_mtime for f in glob.glob(sys.argv[1] + "/*.eml")))' "$SMTPD_DIR")
ok "the emails were all in before the last SMS request came ($email_last < $sms_last)" \
	/usr/bin/python3 -c "import sys; sys.exit(0 if $email_last < $sms_last else 1)"
push_last=$(/usr/bin/python3 -c 'import json,sys
print(max(json.loads(l)["t"] for l in open(sys.argv[1]) if json.loads(l)["path"] == "/"))' "$EMU_DIR/requests")
ok "and the pushes too ($push_last < $sms_last)" \
	/usr/bin/python3 -c "import sys; sys.exit(0 if $push_last < $sms_last else 1)"
is "20 SMS requests, no more" \
	"$(grep -c Messages.json "$EMU_DIR/requests")" 20

# the cap: contacts 1-10 in the SMS step and in the email step
rm -f "$EMU_DIR/requests" "$SMTPD_DIR"/*.env
echo 'slow 0.1*' >"$EMU_DIR/faults"
{
	for i in $(seq 1 10); do printf '%d\tcapped\ts1\tcapped.yaml\n' $i; done
	for i in $(seq 1 10); do printf '%d\tcapped\te1\tcapped.yaml\n' $i; done
} | nudge send --now 2026-11-20T10:00:00Z >out 2>err
is "sent with a cap of one a day: exit 0" "$?" 0
is "each contact got one message, the first line's" \
	"$(sql "SELECT m.contact_id, m.channel FROM messages m JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'capped' ORDER BY 1" | cut -f2 | sort | uniq -c | sed 's/^ *//')" \
	"10 sms"
is "the email lines were skipped by the cap (counting the SMS in flight)" \
	"$(grep '	skipped	' out | cut -f3 | sort | uniq -c | sed 's/^ *//')" \
	"10 frequency cap: 1 in 1d"
is "no email reached the server" "$(ls "$SMTPD_DIR" | grep -c '\.env$')" 0
is "10 SMS requests" "$(grep -c Messages.json "$EMU_DIR/requests")" 10
done_testing
