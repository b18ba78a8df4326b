#!/bin/sh
# nudge track's webhooks under lighttpd: Twilio status callbacks and
# inbound STOP/START (X-Twilio-Signature), Mailgun bounces and complaints
# (HMAC-SHA256 signature); bad signatures are 403 and record nothing.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
export NUDGE_TWILIO_AUTH_TOKEN=twilio-auth-token
export NUDGE_MAILGUN_SIGNING_KEY=mailgun-signing-key
plan 29

seed
# an SMS message of campaign "promo" step "s2", sent through Twilio
sql "INSERT INTO messages (campaign_id, step, contact_id, channel, status,
    attempts, provider_id, claimed_at, updated_at)
    VALUES (1, 's2', 1, 'sms', 'sent', 1, 'SM0123456789abcdef', 0, 0)"
track_setup

# twilio FIELD=VALUE...: POSTs the form to /hook/twilio signed as Twilio
# does (sig=bad: a wrong signature); prints the status.
twilio() {
	_sig=$(/usr/bin/python3 - "$HTTPD_URL/hook/twilio" "$@" <<'PY'
import base64, hashlib, hmac, os, sys
url, fields = sys.argv[1], sorted(a.split("=", 1) for a in sys.argv[2:])
s = url + "".join(k + v for k, v in fields)
key = os.environ["NUDGE_TWILIO_AUTH_TOKEN"].encode()
print(base64.b64encode(hmac.new(key, s.encode(), hashlib.sha1).digest()).decode())
PY
)
	[ -n "${BADSIG:-}" ] && _sig=$BADSIG
	_cnt=$#
	for _a; do set -- "$@" --data-urlencode "$_a"; done
	shift "$_cnt"
	hit POST /hook/twilio -H "X-Twilio-Signature: $_sig" "$@"
}

is "a delivered callback answers 200" "$(twilio MessageSid=SM0123456789abcdef \
    MessageStatus=delivered To=+972501234567 From=+15005550006 \
    AccountSid=AC1 ApiVersion=2010-04-01)" 200
is "with empty TwiML" "$(cat "$T/b")" \
    '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
is "records delivered on the ledger row by its provider id" \
    "$(sql "SELECT contact_id, type, channel, campaign_id, step, message_id
    FROM events ORDER BY id DESC LIMIT 1")" "1	delivered	sms	1	s2	2"
twilio MessageSid=SM0123456789abcdef MessageStatus=undelivered \
    ErrorCode=30005 To=+972501234567 >/dev/null
is "an unknown-number failure is a bounce" \
    "$(sql "SELECT type, props FROM events ORDER BY id DESC LIMIT 1")" \
    'bounced	{"error_code":30005,"reason":"userunknown","class":"hard"}'
is "which suppresses sms" "$(sql 'SELECT channel, status, source FROM consent_now')" \
    "sms	bounced	twilio"
twilio MessageSid=SM0123456789abcdef MessageStatus=failed ErrorCode=30008 >/dev/null
twilio MessageSid=SM0123456789abcdef MessageStatus=undelivered \
    ErrorCode=30007 To=+972501234567 >/dev/null
is "a carrier's spam filter is our fault, not the number's" \
    "$(sql "SELECT type, props FROM events ORDER BY id DESC LIMIT 1")" \
    'failed	{"error_code":30007,"reason":"spamdetected","class":"sender"}'
is "another failure is failed" \
    "$(sql "SELECT type FROM events ORDER BY id DESC LIMIT 1")" failed
n=$(events)
twilio MessageSid=SM0123456789abcdef MessageStatus=sent >/dev/null
twilio MessageSid=SMunknown MessageStatus=delivered >/dev/null
is "sent and unknown messages record nothing" "$(events)" "$n"
is "a bad signature is 403" "$(BADSIG=AAAAAAAAAAAAAAAAAAAAAAAAAAA= twilio \
    MessageSid=SM0123456789abcdef MessageStatus=delivered)" 403
is "no signature is 403" "$(hit POST /hook/twilio --data MessageStatus=delivered)" 403
is "and records nothing" "$(events)" "$n"
is "an inbound STOP answers 200" "$(twilio MessageSid=SM9 From=+972501234567 \
    To=+15005550006 Body='Stop ' SmsStatus=received)" 200
is "and unsubscribes the sender from sms" \
    "$(sql "SELECT channel, status, source FROM consent ORDER BY id DESC LIMIT 1")" \
    "sms	unsubscribed	twilio:STOP"
twilio MessageSid=SM10 From=+972501234567 Body=START >/dev/null
is "START subscribes again" \
    "$(sql "SELECT channel, status, source FROM consent ORDER BY id DESC LIMIT 1")" \
    "sms	subscribed	twilio:START"
twilio MessageSid=SM11 From=+972501234567 Body='what time do you open?' >/dev/null
is "any other text is a reply" \
    "$(sql "SELECT type, channel, props FROM events ORDER BY id DESC LIMIT 1")" \
    'replied	sms	{"body":"what time do you open?"}'
n=$(events)
twilio MessageSid=SM12 From=+15550000000 Body=STOP >/dev/null
is "a STOP from an unknown number records nothing" "$(events)" "$n"
is "GET /hook/twilio is 405" "$(hit GET /hook/twilio)" 405

# mailgun EVENT SEVERITY RECIPIENT MESSAGE-ID [TIMESTAMP [KEY]]: POSTs a
# Mailgun webhook; prints the status.
mailgun() {
	/usr/bin/python3 - "$@" >"$T/mg.json" <<'PY'
import hashlib, hmac, json, os, sys, time
ev, sev, rcpt, mid = sys.argv[1:5]
ts = sys.argv[5] if len(sys.argv) > 5 else str(int(time.time()))
key = sys.argv[6] if len(sys.argv) > 6 else os.environ["NUDGE_MAILGUN_SIGNING_KEY"]
tok = "a" * 50
sig = hmac.new(key.encode(), (ts + tok).encode(), hashlib.sha256).hexdigest()
d = {"event": ev, "recipient": rcpt, "timestamp": float(ts),
     "message": {"headers": {"message-id": mid}},
     "delivery-status": {"code": 550, "message": os.environ.get("MG_TEXT", "No such user")}}
if sev:
    d["severity"] = sev
print(json.dumps({"signature": {"timestamp": ts, "token": tok, "signature": sig},
                  "event-data": d}))
PY
	hit POST /hook/mailgun -H 'Content-Type: application/json' \
	    --data-binary @"$T/mg.json"
}
mid=$(/usr/bin/python3 -c 'import hashlib
print(hashlib.sha256(b"nudge-1--1").hexdigest()[:32] + ".nudge@example.com")')
is "a permanent failure answers 200" \
    "$(mailgun failed permanent Ann@Example.com "$mid")" 200
is "records bounced on the message found by its Message-ID" \
    "$(sql "SELECT contact_id, type, channel, campaign_id, quote(step), message_id, props
    FROM events ORDER BY id DESC LIMIT 1")" \
    '1	bounced	email	1	NULL	1	{"code":550,"reason":"userunknown","class":"hard"}'
is "and suppresses email" \
    "$(sql "SELECT status, source FROM consent_now WHERE channel = 'email'")" \
    "bounced	mailgun"
mailgun complained "" ann@example.com "<$mid>" >/dev/null
is "a complaint is complained" \
    "$(sql "SELECT status FROM consent_now WHERE channel = 'email'")" complained
n=$(events)
mailgun failed temporary ann@example.com "$mid" >/dev/null
is "a temporary failure records nothing" "$(events)" "$n"
is "a wrong key is 403" \
    "$(mailgun failed permanent ann@example.com "$mid" "$(date +%s)" wrong)" 403
is "a stale timestamp is 403 (a replay)" \
    "$(mailgun failed permanent ann@example.com "$mid" 1500000000)" 403
is "not JSON is 400" "$(hit POST /hook/mailgun --data-binary 'nope')" 400
is "and none of them recorded anything" "$(events)" "$n"
is "an unknown provider is 404" "$(hit POST /hook/acme --data x=1)" 404
MG_TEXT="Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org" \
    mailgun failed permanent bob@example.com "<x@example.com>" >/dev/null
is "a permanent failure for our blocklisted IP is a sender-side bounce" \
    "$(sql "SELECT type, props FROM events ORDER BY id DESC LIMIT 1")" \
    'bounced	{"code":550,"reason":"blocked","class":"sender"}'
is "which never suppresses the recipient" \
    "$(sql "SELECT count(*) FROM consent WHERE contact_id = 2 AND channel = 'email'")" 0
done_testing
