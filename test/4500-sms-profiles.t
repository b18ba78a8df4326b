#!/bin/sh
# sms, push: the exact request each shipped provider profile makes
# (method, path, auth, headers, form or JSON body), with quotes, a
# newline and Hebrew in the contact's name escaped for the body; the
# provider's id read from its answer; profile errors name file:line.
. "$(dirname "$0")/lib.sh"
start_emu
plan 28

S="$TESTDIR/sms"
P="$TOP/samples/providers"
ok "contacts" nudge import-list "$S/contacts.csv"
now=2026-11-02T09:00:00Z
export SMS_TOKEN='s3cr3t' PUSH_TOKEN='pt0k'

# conf CHANNEL PROFILE USER: a config sending CHANNEL through PROFILE
conf() {
	cat >"$1-$2.yaml" <<-EOT
	channels:
	  $1:
	    provider: $P/$2.yaml
	    url: http://127.0.0.1:$EMU_PORT
	    user: $3
	    secret_env: $(echo "$1" | tr a-z A-Z)_TOKEN
	    parallel: 1
	    sender: {default: Shop, US: "+15550001111"}
	EOT
	[ "$1" = push ] && sed -i '/sender:/d' "$1-$2.yaml"
}

# profile CHANNEL NAME USER: sends the list by NAME; leaves the requests
# in NAME.got and the results in NAME.out
profile() {
	conf "$1" "$2" "$3"
	rm -f "$EMU_DIR/requests"
	nudge segment 'list "vip"' |
	    nudge send --config "$1-$2.yaml" --channel "$1" --now $now -c "c-$2" \
	    -t "$S/cart.$1" >"$2.out" 2>"$2.err"
	echo "exit $?" >>"$2.out"
	/usr/bin/python3 "$S/requests.py" "$EMU_DIR/requests" ua >"$2.got"
}

profile sms twilio AC0001
cat >want <<'EOT'
POST /2010-04-01/Accounts/AC0001/Messages.json -> 201
accept: application/json
authorization: Basic QUMwMDAxOnMzY3IzdA==
content-type: application/x-www-form-urlencoded
i-twilio-idempotency-token: nudge-1--1
To=%2B972521234567&From=Shop&Body=Hi+%D7%93%D7%A0%D7%94+%D7%9C%D7%95%D7%99%2C+your+cart+in+Tel+Aviv+waits.
--
POST /2010-04-01/Accounts/AC0001/Messages.json -> 201
accept: application/json
authorization: Basic QUMwMDAxOnMzY3IzdA==
content-type: application/x-www-form-urlencoded
i-twilio-idempotency-token: nudge-1--2
To=%2B15551234567&From=%2B15550001111&Body=Hi+Mo+%22the%22+Q+Co%0Ahen%2C+your+cart+in+NYC+waits.
--
EOT
cmp_file "twilio: form body, basic auth, idempotency token" want twilio.got
is "twilio: the sid is the provider id" "$(cat twilio.out)" "1	sent	SM000001 (1 segment, UCS-2)
2	sent	SM000002 (1 segment, GSM-7)
exit 0"
is "twilio: ledger and events" \
	"$(sql "SELECT m.status || ' ' || m.provider_id || ' ' || e.type || ' ' || e.channel || ' ' || e.props FROM messages m JOIN events e ON e.message_id = m.id ORDER BY m.id")" \
	"sent SM000001 sent sms {\"segments\":1,\"encoding\":\"UCS-2\"}
sent SM000002 sent sms {\"segments\":1,\"encoding\":\"GSM-7\"}"

profile sms plivo MA0002
cat >want <<'EOT'
POST /v1/Account/MA0002/Message/ -> 202
accept: */*
authorization: Basic TUEwMDAyOnMzY3IzdA==
content-type: application/json
{"src": "Shop", "dst": "+972521234567", "text": "Hi דנה לוי, your cart in Tel Aviv waits."}

--
POST /v1/Account/MA0002/Message/ -> 202
accept: */*
authorization: Basic TUEwMDAyOnMzY3IzdA==
content-type: application/json
{"src": "+15550001111", "dst": "+15551234567", "text": "Hi Mo \"the\" Q Co\nhen, your cart in NYC waits."}

--
EOT
cmp_file "plivo: JSON body escaped, basic auth" want plivo.got
is "plivo: the message uuid is the id" "$(cut -f3 plivo.out | head -1)" \
	"plivo-000003 (1 segment, UCS-2)"

profile sms webhook hookuser
cat >want <<'EOT'
POST /nudge -> 200
accept: */*
authorization: Bearer s3cr3t
content-type: application/json
idempotency-key: nudge-3--1
user-agent: nudge
{"to": "+972521234567", "from": "Shop", "title": "", "text": "Hi דנה לוי, your cart in Tel Aviv waits.",
  "key": "nudge-3--1"}

--
POST /nudge -> 200
accept: */*
authorization: Bearer s3cr3t
content-type: application/json
idempotency-key: nudge-3--2
user-agent: nudge
{"to": "+15551234567", "from": "+15550001111", "title": "", "text": "Hi Mo \"the\" Q Co\nhen, your cart in NYC waits.",
  "key": "nudge-3--2"}

--
EOT
cmp_file "webhook: bearer auth, headers, Idempotency-Key" want webhook.got

profile push pushwoosh APP-01
cat >want <<'EOT'
POST /json/1.3/createMessage -> 200
accept: */*
content-type: application/json
{"request": {"application": "APP-01", "auth": "pt0k",
  "notifications": [{"send_date": "now", "content": "Hi דנה לוי, your cart in Tel Aviv waits.",
    "ios_title": "דנה, your cart", "android_header": "דנה, your cart",
    "devices": ["dev-aaa"], "transactionId": "9f1ba1b4-7a4b-5ab4-9a3a-4a2c8c0e9e2c"}]}}

--
EOT
head -7 pushwoosh.got >got1
is "pushwoosh: token in the body, title, device" \
	"$(sed 's/"transactionId": "[^"]*"/"transactionId": UUID/' got1)" \
	"$(head -7 want | sed 's/"transactionId": "[^"]*"/"transactionId": UUID/')"
like "pushwoosh: transactionId is a UUID v5 of the key" \
	"$(grep -o '"transactionId": "[^"]*"' pushwoosh.got | head -1)" \
	'"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"'
is "pushwoosh: the message code is the id" "$(cut -f2,3 pushwoosh.out)" \
	"sent	PW000007
sent	PW000008
exit 0"

profile push onesignal app-uuid
like "onesignal: Authorization: Key" "$(grep -c '^authorization: Key pt0k$' onesignal.got)" '^2$'
like "onesignal: JSON with headings, contents, subscription id" \
	"$(grep -F '"app_id"' onesignal.got | tail -1)" \
	'^\{"app_id": "app-uuid", "include_subscription_ids": \["dev-bbb"\],$'
like "onesignal: the name's quotes and newline escaped" \
	"$(grep -F '"headings"' onesignal.got | tail -1)" \
	'^  "headings": \{"en": "Mo \\"the\\" Q, your cart"\}, "contents": \{"en": "Hi Mo \\"the\\" Q Co\\nhen, your cart in NYC waits."\},$'

profile push ntfy unused
cat >want <<'EOT'
POST / -> 200
accept: */*
content-type: application/json
{"topic": "dev-aaa", "title": "דנה, your cart", "message": "Hi דנה לוי, your cart in Tel Aviv waits."}

--
EOT
head -6 ntfy.got >got1
cmp_file "ntfy: topic, title and message, no auth" want got1

# a second run of a campaign sends nothing again
profile push ntfy unused
is "a rerun finds both in the ledger" "$(cut -f2 ntfy.out | tr '\n' ' ')" \
	"duplicate duplicate exit 0 "
is "and makes no request" "$(wc -l <ntfy.got)" 0

# profile errors name the file and line
cat >bad.yaml <<'EOT'
name: bad
channel: sms
url: https://x.example.com/
json: |
  {"to": "{{to}}"}
EOT
sed "s|$P/twilio.yaml|$T/bad.yaml|" sms-twilio.yaml >bad-cfg.yaml
exits "a quoted placeholder in JSON is refused" 65 sh -c \
	"echo 1 | nudge send --config bad-cfg.yaml --channel sms -c x -t '$S/cart.sms'"
is "naming file:line:col" "$(tail -1 .err)" \
	"nudge-send: $T/bad.yaml:4:7: json: not JSON once each placeholder is a string (write {{text}}, not \"{{text}}\")"
printf 'channel: sms\nurl: https://x.example.com/{{phone}}\n' >bad.yaml
exits "an unknown placeholder is refused" 65 sh -c \
	"echo 1 | nudge send --config bad-cfg.yaml --channel sms -c x -t '$S/cart.sms'"
is "naming it" "$(tail -1 .err)" \
	"nudge-send: $T/bad.yaml:2:6: url: unknown placeholder \"{{phone}}\"; expected to, from, text, title, key, key_uuid, user or secret"
unset SMS_TOKEN
exits "a missing secret stops the send before anything" 65 sh -c \
	"echo 1 | nudge send --config sms-twilio.yaml --channel sms -c y -t '$S/cart.sms'"
is "naming the variable, not a value" "$(tail -1 .err)" \
	"nudge-send: secret_env: the environment variable SMS_TOKEN is not set"
sed '/user:/d' sms-twilio.yaml >nouser.yaml
export SMS_TOKEN=s3cr3t
exits "twilio without a user is refused before anything is sent" 64 sh -c \
	"echo 1 | nudge send --config nouser.yaml --channel sms -c nu -t '$S/cart.sms'"
is "saying what it needs" "$(tail -1 .err)" \
	"nudge-send: provider twilio: needs a user: give user: and secret_env: (or secret_file:) under channels: sms: in the config"

# a secret from a file only its owner can read
printf 's3cr3t\n' >tok
chmod 644 tok
sed "s|secret_env: SMS_TOKEN|secret_file: $T/tok|" sms-twilio.yaml >file-cfg.yaml
exits "a secret file others can read is refused" 65 sh -c \
	"echo 1 | nudge send --config file-cfg.yaml --channel sms -c z -t '$S/cart.sms'"
is "saying why" "$(tail -1 .err)" \
	"nudge-send: secret_file $T/tok: refused: readable or writable by group or others (mode 0644); chmod 600 it"
chmod 600 tok
rm -f "$EMU_DIR/requests"
exits "chmod 600: sent" 0 sh -c \
	"echo 1 | nudge send --config file-cfg.yaml --channel sms -c z -t '$S/cart.sms'"
is "with the file's secret" "$(grep -c -F '"authorization": "Basic QUMwMDAxOnMzY3IzdA=="' "$EMU_DIR/requests")" 1
done_testing
