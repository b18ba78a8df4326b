#!/bin/sh
# consent per channel: the config's opt-in/opt-out, honoured by segments
# (`subscribed sms`, `subscribed sms since DATE`, `consent email source
# "mailchimp"`) after importing exports that carry consent.
. "$(dirname "$0")/lib.sh"
plan 25

S="$TESTDIR/../samples/exports"
printf 'default_country: IL\n' >optout.yaml
printf 'default_country: IL\nconsent: {email: opt-out, sms: opt-in, push: opt-in}\n' >optin.yaml
nudge import-list --config optin.yaml "$S/mailchimp-subscribed.csv" 2>/dev/null
nudge import-list --config optin.yaml "$S/mailchimp-unsubscribed.csv" 2>/dev/null
nudge import-list --config optin.yaml "$S/shopify-customers.csv" 2>/dev/null
who() { sed 1d .out | cut -d, -f2,3 | tr '\n' ' '; }
seg() { cfg=$1; shift; nudge segment --config "$cfg" --format csv "$@"; }

exits "subscribed sms, sms opt-in" 0 seg optin.yaml 'subscribed sms'
is "only those with an sms subscribe (noa has a phone and no record)" "$(who)" \
	"dana@example.com,+972521234567 ,+972501234567 "
exits "subscribed sms, sms opt-out" 0 seg optout.yaml 'subscribed sms'
is "no record counts as yes; yael's sms no does not" "$(who)" \
	"dana@example.com,+972521234567 noa@example.com,+972529876543 ,+972501234567 "
exits "subscribed email since a date" 0 \
	seg optin.yaml 'subscribed email since 2026-04-01 and not consent email source "shopify"'
is "subscribes from that date on" "$(who)" \
	"moshe@example.com, noa@example.com,+972529876543 "
exits "consent email source \"mailchimp\"" 0 \
	seg optin.yaml 'consent email source "mailchimp"'
is "the latest email record from mailchimp, whatever it says" "$(who)" \
	"dana@example.com,+972521234567 moshe@example.com, noa@example.com,+972529876543 yael@example.com,+972545551212 "
exits "consent ... since" 0 \
	seg optin.yaml 'consent email source "mailchimp" since "2026-06-01"'
is "bounds the record's time" "$(who)" \
	"noa@example.com,+972529876543 yael@example.com,+972545551212 "
exits "subscribed channel \"sms\" reads as a user would guess" 0 \
	seg optin.yaml 'subscribed channel "sms"'
is "the same as subscribed sms" "$(who)" \
	"dana@example.com,+972521234567 ,+972501234567 "
exits "and subscribed \"sms\"" 0 seg optin.yaml 'subscribed "sms"'
is "too" "$(who)" "dana@example.com,+972521234567 ,+972501234567 "
exits "a channel misspelt" 64 seg optin.yaml 'subscribed texts'
is "the error gives the right spelling" "$(head -n 1 .err)" \
	'nudge-segment: column 12: expected a channel (email, sms or push) after "subscribed", got "texts"'
exits "consent without source" 64 seg optin.yaml 'consent email "mailchimp"'
is "says how" "$(head -n 1 .err)" \
	'nudge-segment: column 15: expected "source" after the channel, as in consent email source "mailchimp", got "\"mailchimp\""'
printf 'consent: {sms: maybe}\n' >bad.yaml
exits "a bad consent mode" 65 nudge segment --config bad.yaml 'subscribed sms'
is "named with file:line:col" "$(cat .err)" \
	'nudge-segment: bad.yaml:1:16: consent: sms: expected opt-in (no consent record means no) or opt-out (it means yes)'
printf 'consent: {fax: opt-in}\n' >bad.yaml
exits "an unknown channel" 65 nudge segment --config bad.yaml 'subscribed sms'
is "named" "$(cat .err)" \
	'nudge-segment: bad.yaml:1:16: consent: fax: not a channel (email, sms or push)'

# send honours it: email opt-in, mailchimp's subscribers and one contact
# with no record
printf 'consent: {email: opt-in}\n' >email-in.yaml
printf 'email\nplain@example.com\n' >plain.csv
ok "a contact with no consent record" nudge import-list --config email-in.yaml plain.csv
mkdir out
printf 'Subject: Hello {{first_name|friend}}\nFrom: Shop <shop@example.com>\n\nHi {{first_name|there}}.\n' >hi.txt
nudge segment --config email-in.yaml 'email is set and not consent email source "shopify"' |
	nudge send --config email-in.yaml -c c1 -t hi.txt \
	--transport "file://$PWD/out" >res 2>err
ok "send runs" [ $? -eq 0 ]
is "the subscribed are sent to, the one with no record is not" \
	"$(sort -n res | cut -f1-3 | sed 's/\t[0-9]*\.M.*eml$//' | tr '\t' ' ')" \
"1 sent
2 sent
3 sent
4 skipped unsubscribed (email, 2026-10-02, mailchimp)
8 skipped no consent (email is opt-in)"
done_testing
