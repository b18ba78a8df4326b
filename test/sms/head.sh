# test/sms/head.sh: sourced by the 45xx tests after lib.sh and start_emu.
# Imports N_CONTACTS (default 6) contacts with phones +97250000000N, list
# "all"; writes cfg.yaml sending sms through the twilio profile to the
# emulator; $EXTRA (lines of YAML) goes under channels: sms:.
S="$TESTDIR/sms"
P="$TOP/samples/providers"
now=2026-11-02T09:00:00Z
export SMS_TOKEN=tok
{
	echo "phone,first_name,lists"
	i=1
	while [ "$i" -le "${N_CONTACTS:-6}" ]; do
		printf '+972500%06d,N%d,all\n' "$i" "$i"
		i=$((i + 1))
	done
} >contacts.csv
nudge import-list -k phone contacts.csv >/dev/null 2>&1
# cfg [EXTRA-YAML]: (re)writes cfg.yaml
cfg() {
	cat >cfg.yaml <<-EOT
	channels:
	  sms:
	    provider: $P/twilio.yaml
	    url: http://127.0.0.1:$EMU_PORT
	    user: AC1
	    secret_env: SMS_TOKEN
	    sender: {default: Shop}
	    backoff_ms: 50
	EOT
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/    /' >>cfg.yaml
	return 0
}
# blast CAMPAIGN [send options]: the list "all" (or the ids in $IDS) by
# sms; results in CAMPAIGN.out, stderr in CAMPAIGN.err, exit status in $rc
blast() {
	_c=$1; shift
	if [ -n "${IDS:-}" ]; then printf '%s\n' $IDS; else
	    nudge segment 'list "all"'; fi | nudge send --config cfg.yaml --channel sms \
	    --now $now -c "$_c" -t "$S/short.sms" "$@" >"$_c.out" 2>"$_c.err"
	rc=$?
}
# statuses: the emulator's answers, in the order the requests came, on
# one line
statuses() {
	/usr/bin/python3 -c 'import json,sys
r = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda r: r["n"])
print(" ".join(str(x["status"]) for x in r))' "$EMU_DIR/requests"
}
# wait_requests N: until the emulator has recorded N requests (a slow
# answer is recorded when it is written, after the client gave up on it)
wait_requests() {
	_i=0
	while [ "$(cat "$EMU_DIR/requests" 2>/dev/null | wc -l)" -lt "$1" ] &&
	    [ "$_i" -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}
