#!/bin/sh
# Secrets (SMTP password, provider API key, tracking secret) never show:
# not in nudge-send's /proc/PID/cmdline while it runs, not on its
# standard output or error, not in the store, not in the argv of an exec:
# child, not in --dry-run or nudge trigger --explain output, not in an
# error about a wrong one, not in nudge track's answers or log (tracking
# secret, webhook keys); the servers did get them.  A password in
# --transport is refused at once, before any input is read.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/faults/head.sh"
start_emu
plan 25
export SMTP_PW='s3cret pass' TRACK_SECRET='Trk-S3cr3t-QQ' \
    NUDGE_TWILIO_AUTH_TOKEN='TwHook-S3cr3t' NUDGE_MAILGUN_SIGNING_KEY='Mg-S3cr3t'
printf 'TwilioTok3n-XYZ\n' >twilio.key
chmod 600 twilio.key
sql "UPDATE contacts SET phone = '+97250000000' || id"
# no_secret DESC FILE...: none of the secrets in the files
no_secret() {
	_d=$1; shift
	if cat "$@" | grep -a -q -i -e 's3cret' -e 'TwilioTok3n'; then
		_result 1 "$_d"
		diag "$(cat "$@" | grep -a -i -e 's3cret' -e 'TwilioTok3n')"
	else
		_result 0 "$_d"
	fi
}

start_faults slow --slow 0.1
cat >cfg.yaml <<EOT
channels:
  email:
    url: smtp://127.0.0.1:$FPORT
    username: nudge
    password_env: SMTP_PW
    parallel: 1
  sms:
    provider: $TOP/samples/providers/twilio.yaml
    url: http://127.0.0.1:$EMU_PORT
    user: AC1
    secret_file: twilio.key
    sender: {default: Shop}
tracking:
  base_url: https://t.example.com/t
  secret_env: TRACK_SECRET
EOT
printf 'From: shop@example.com\nSubject: Hi\n\nSee https://example.com/sale\n' >link.txt

# a slow server (every reply 0.1 s late): the process is looked at while
# it talks to it
printf '1\n2\n3\n' >ids
nudge send --config cfg.yaml --now $now -c e1 -t link.txt <ids >e1.out 2>e1.err &
pid=$!
i=0
until [ -s "$FDIR/commands" ] || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
tr '\0' ' ' </proc/$pid/cmdline >cmdline 2>/dev/null
for task in /proc/$pid/task/*; do
	tr '\0' ' ' <"$task/cmdline" >>tasks 2>/dev/null; echo >>tasks
done
wait $pid
is "sent over a slow server with AUTH: exit 0" "$? $(cut -f2 e1.out | sort | uniq -c | tr -s ' ')" "0  3 sent"
# its threads: the caller's, the network's and a render thread per core
ncpu=$(getconf _NPROCESSORS_ONLN)
[ "$ncpu" -gt 16 ] && ncpu=16
if wrapped; then
	skip_wrapped "seen while running: its command line, the same in each of its threads"
else
	is "seen while running: its command line, the same in each of its threads" \
	    "$(cat cmdline)/$(sort tasks | uniq -c | tr -s ' ')" \
	    "nudge-send --config cfg.yaml --now $now -c e1 -t link.txt / $((2 + ncpu)) nudge-send --config cfg.yaml --now $now -c e1 -t link.txt "
fi
no_secret "no secret in /proc/PID/cmdline (process and threads)" cmdline tasks
no_secret "none on standard output or error" e1.out e1.err
is "the server did authenticate it" "$(sort -u "$FDIR/commands")" AUTH
like "the links are tracked (the tracking secret was used)" \
	"$(cat "$FDIR"/000001.eml)" "https://t\\.example\\.com/t/c/"
no_secret "no secret in the messages" "$FDIR"/*.eml

# sms through the provider, the key from a 0600 file
printf '1\n2\n' | nudge send --config cfg.yaml --now $now -c s1 --channel sms \
	-t "$TESTDIR/sms/short.sms" >s1.out 2>s1.err
is "sms sent: exit 0" "$? $(cut -f2 s1.out | sort | uniq -c | tr -s ' ')" "0  2 sent"
is "the provider got the key (basic auth)" \
	"$(/usr/bin/python3 -c 'import json,sys,base64
r = [json.loads(l) for l in open(sys.argv[1])]
print(sorted({base64.b64decode(x["headers"]["authorization"].split()[1]).decode() for x in r}))' "$EMU_DIR/requests")" \
	"['AC1:TwilioTok3n-XYZ']"
no_secret "none on standard output or error" s1.out s1.err

# a wrong password and a wrong key: the errors do not repeat them
SMTP_PW='WrongPw-s3cret' nudge send --config cfg.yaml --now $now -c e2 -t link.txt <ids >e2.out 2>e2.err
is "a wrong SMTP password: exit 69" "$?" 69
no_secret "the error does not show it" e2.out e2.err
printf '401*\n' >"$EMU_DIR/faults"
printf '1\n' | nudge send --config cfg.yaml --now $now -c s2 --channel sms \
	-t "$TESTDIR/sms/short.sms" >s2.out 2>s2.err
is "a wrong provider key: exit 69" "$?" 69
no_secret "the error does not show it" s2.out s2.err
rm -f "$EMU_DIR/faults"

# --dry-run, trigger --explain
printf '1\n2\n' | nudge send --config cfg.yaml -n -c e3 -t link.txt >n.out 2>n.err
printf '1\n' | nudge send --config cfg.yaml -n -c s3 --channel sms \
	-t "$TESTDIR/sms/short.sms" >>n.out 2>>n.err
is "dry runs: each rendered" "$(cut -f2 n.out | tr '\n' ' ')" "rendered rendered rendered "
no_secret "--dry-run shows no secret" n.out n.err
cp link.txt c.txt
printf 'name: sec\naudience: list "all"\nsteps:\n  - {id: s1, channel: email, template: c.txt}\n' >sec.yaml
nudge trigger --config cfg.yaml --explain --now $now sec.yaml >x.out 2>x.err
is "trigger --explain runs" "$?" 0
no_secret "and shows no secret" x.out x.err

# exec: the child's argv and standard input
cat >child.sh <<'EOS'
#!/bin/sh
tr '\0' ' ' </proc/$$/cmdline >>child.argv; echo >>child.argv
cat >>child.stdin
echo id-$NUDGE_TO
EOS
chmod +x child.sh
printf '1\n2\n' | nudge send --config cfg.yaml --now $now -c x1 -t link.txt \
	--transport "exec:$T/child.sh --flag" >x1.out 2>x1.err
is "exec: sent" "$? $(cut -f2 x1.out | tr '\n' ' ')" "0 sent sent "
if wrapped; then
	skip_wrapped "the child's argv is the command's words only"
else
	is "the child's argv is the command's words only" "$(sort -u child.argv)" "/bin/sh $T/child.sh --flag "
fi
no_secret "no secret in its argv, its input, the output" child.argv child.stdin x1.out x1.err

# nudge track (CGI): a bad token, webhooks with bad signatures
cgi() { # METHOD PATH [BODY]
	_b=${3:-}
	printf '%s' "$_b" | GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=$1 \
	    PATH_INFO=$2 SCRIPT_NAME=/t SERVER_NAME=t.example.com \
	    CONTENT_TYPE=application/x-www-form-urlencoded \
	    CONTENT_LENGTH=${#_b} HTTP_X_TWILIO_SIGNATURE=bad \
	    NUDGE_CONFIG=cfg.yaml nudge-track
}
{
	cgi GET /c/AAAAAAAAAAAAAAAAAAAAAAAAAAAA
	cgi POST /u/AAAAAAAAAAAAAAAAAAAAAAAAAAAA List-Unsubscribe=One-Click
	cgi POST /hook/twilio 'MessageSid=SM1&MessageStatus=delivered'
	cgi POST /hook/mailgun '{"signature": {"timestamp": "1", "token": "x", "signature": "bad"}, "event-data": {"event": "opened"}}'
} >track.out 2>track.err
is "track refuses them all" "$(grep '^Status:' track.out | tr -d '\r' | tr '\n' ' ')" \
	"Status: 404 Not Found Status: 404 Not Found Status: 403 Forbidden Status: 403 Forbidden "
no_secret "its answers and log show no secret" track.out track.err

# the store keeps none of them
sqlite3 "$NUDGE_DB" .dump >dump.sql
no_secret "the store (sqlite3 .dump) holds no secret" dump.sql

# a password in --transport: refused before any input is read
: | nudge send -c e4 -t link.txt --transport 'smtp://nudge:s3cret@mail.example.com:587' >t.out 2>t.err
is "a password in --transport: exit 64 at once, the URL not repeated" "$?/$(cat t.out t.err)" \
	"64/nudge-send: --transport: no user name or password in the URL, where ps(1) shows it: give username and password_env (or password_file) under channels: email: in the configuration, nudge-config(5)"
done_testing
