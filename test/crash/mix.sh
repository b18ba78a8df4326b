# test/crash/mix.sh: sourced after start_smtpd and start_emu by the tests
# of trigger | send over three channels at once (test/crash/trigger-loop.sh,
# test/5110-trigger-concurrent.t): the config (email to aiosmtpd, sms
# through Twilio's API and push through ntfy's to the provider emulator,
# one connection each, and $MIX_CFG appended), mix_contacts (imports
# $CONTACTS contacts, each with an email, a phone and a push id, in list
# "all"), and three campaigns of three steps a day apart, each on the
# three channels in another order: mixa email, sms, push; mixb sms, push,
# email; mixc push, email, sms.  Every message says "ref CAMPAIGN/STEP/ID"
# (test/crash/check.py reads it).
export NUDGE_FILE_NOSYNC=1 SMS_TOKEN=tok
cat >cfg.yaml <<EOT
channels:
  email:
    url: smtp://127.0.0.1:$SMTPD_PORT
    from: "Shop <shop@example.com>"
    parallel: 1
  sms:
    provider: $TOP/samples/providers/twilio.yaml
    url: http://127.0.0.1:$EMU_PORT
    user: AC1
    secret_env: SMS_TOKEN
    sender: {default: Shop}
    parallel: 1
    rate: 100000/s
    burst: 1000
  push:
    provider: $TOP/samples/providers/ntfy.yaml
    url: http://127.0.0.1:$EMU_PORT
    parallel: 1
${MIX_CFG:-}
EOT
export NUDGE_CONFIG="$T/cfg.yaml"
mix_contacts() {
	awk -v n="$CONTACTS" 'BEGIN { print "email,phone,push_id,first_name,lists"
		for (i = 1; i <= n; i++)
			printf "u%d@example.com,+97252%07d,push-%d,U%d,all\n", i, i, i, i }' >c.csv
	nudge import-list c.csv
}
mkdir -p campaigns/t
# campaign NAME CHANNEL1 CHANNEL2 CHANNEL3
campaign() {
	_c=$1; shift
	{
		printf 'name: %s\naudience: list "all"\nsteps:\n' "$_c"
		_s=1
		for ch; do
			case $ch in
			email) printf 'Subject: %s, ref %s/s%d/{{id}}\n\nHello, ref %s/s%d/{{id}}.\n' \
			    "$_c" "$_c" $_s "$_c" $_s ;;
			sms) printf '\nref %s/s%d/{{id}}\n' "$_c" $_s ;;
			push) printf 'Title: %s\n\nref %s/s%d/{{id}}\n' "$_c" "$_c" $_s ;;
			esac >"campaigns/t/$_c-s$_s"
			printf '  - {id: s%d, channel: %s, template: t/%s-s%d' $_s "$ch" "$_c" $_s
			[ $_s = 1 ] && echo '}' || echo ', after: 1d}'
			_s=$((_s + 1))
		done
	} >"campaigns/$_c.yaml"
}
campaign mixa email sms push
campaign mixb sms push email
campaign mixc push email sms
