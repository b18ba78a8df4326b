#!/bin/sh
# the exec: transport: each message piped to a command run with fork and
# execvp (words split at blanks, no shell), the recipient in NUDGE_TO and
# the rest in NUDGE_FROM, NUDGE_TITLE, NUDGE_KEY, NUDGE_CHANNEL; its first
# line of output is the id; exit 75 is a temporary failure (not sent: the
# claim given back), another status a failure, a command that cannot run
# stops the send.
. "$(dirname "$0")/lib.sh"
plan 17
now=2026-11-02T09:00:00Z

cat >c.csv <<'EOT'
email,phone,push_id,first_name,lists
a@example.com,+972521111111,dev-a,"$(touch pwned); touch pwned2 `touch pwned3`",all
b@example.com,+15552222222,dev-b,Bob,all
EOT
ok "contacts" nudge import-list c.csv
mkdir out
cat >sink.sh <<'EOT'
#!/bin/sh
# sink.sh DIR [fail]: keeps each message and its environment in DIR
d=$1
n=$(ls "$d" | wc -l)
{
	echo "argv: $*"
	env | grep '^NUDGE_' | grep -v '^NUDGE_DB=' | sort
	echo "--"
	cat
} >"$d/$n.msg"
case "$NUDGE_TO" in
*2222*) [ "${2:-}" = tempfail ] && exit 75; [ "${2:-}" = fail ] && exit 3 ;;
esac
echo "sink-$n"
EOT
chmod +x sink.sh
printf '\nHi {{first_name}}!\n' >t.sms
nudge segment 'list "all"' | nudge send --channel sms --now $now -c e1 \
    -t t.sms --transport "exec:$T/sink.sh $T/out  extra" --from Shop >e1.out 2>e1.err
is "exit 0" "$?" 0
is "the first line of output is the id" "$(cut -f2,3 e1.out)" \
	"sent	sink-0 (1 segment, UCS-2)
sent	sink-1 (1 segment, GSM-7)"
is "argv split at blanks, the environment, the text on stdin" "$(cat out/0.msg)" \
"argv: $T/out extra
NUDGE_CHANNEL=sms
NUDGE_FROM=Shop
NUDGE_KEY=nudge-1--1
NUDGE_TO=+972521111111
--
Hi \$(touch pwned); touch pwned2 \`touch pwned3\`!"
is "nothing in a contact's data ran" "$(ls pwned* 2>/dev/null | wc -l)" 0

printf 'Title: Hello\n\nPush {{first_name}}\n' >t.push
echo 2 | nudge send --channel push --now $now -c e2 -t t.push \
    --transport "exec:$T/sink.sh $T/out" >e2.out 2>&1
is "push: the push id and NUDGE_TITLE" "$(grep '^NUDGE_T' out/2.msg)" \
	"NUDGE_TITLE=Hello
NUDGE_TO=dev-b"

printf 'Subject: Hi\nFrom: shop@example.com\n\nMail {{first_name}}\n' >t.txt
echo 2 | nudge send --now $now -c e3 -t t.txt \
    --transport "exec:$T/sink.sh $T/out" >e3.out 2>&1
is "email: the whole message on stdin, the address in NUDGE_TO" \
	"$(grep -c -e '^NUDGE_TO=b@example.com$' -e '^Subject: Hi' -e '^MIME-Version: 1.0' out/3.msg)" 3

nudge segment 'list "all"' | nudge send --channel sms --now $now -c e4 \
    -t t.sms --transport "exec:$T/sink.sh $T/out tempfail" >e4.out 2>&1
is "exit 75 is a temporary failure: the send exits 75" "$?" 75
is "for that message" "$(grep '^2	' e4.out | cut -f2,3)" \
	"tempfail	refused 1 times, last: $T/sink.sh: exit 75; not sent, a rerun sends it"
is "its claim is given back: a rerun sends it" \
	"$(sql "SELECT count(*) FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE c.name = 'e4' AND m.contact_id = 2")" 0
nudge segment 'list "all"' | nudge send --channel sms --now $now -c e5 \
    -t t.sms --transport "exec:$T/sink.sh $T/out fail" >e5.out 2>&1
is "another status is a failure" "$(grep '^2	' e5.out | cut -f2,3)" \
	"failed	$T/sink.sh: exit 3"
exits "a command that cannot run stops the send" 69 sh -c \
	"nudge segment 'list \"all\"' | nudge send --channel sms --now $now -c e6 -t t.sms --transport 'exec:$T/nonesuch'"
is "after the first message; both are held" "$(grep -c "	held	$T/nonesuch: exit 127 (no such command)" .out)/$(grep -c "	held	not sent: the run stopped" .out)" 1/1
is "and left for a rerun: no ledger row" "$(sql "SELECT count(*) FROM messages WHERE campaign_id = 6")" 0

# file:// for sms: each message a file, its envelope lines first
echo 2 | nudge send --channel sms --now $now -c f1 -t t.sms --from Shop \
    --transport "file://$T/smsdir" >f1.out 2>f1.err
is "file:// takes sms" "$(cut -f2 f1.out)" sent
is "To:, Channel:, From: and the text" "$(cat "$T"/smsdir/new/*)" "To: +15552222222
Channel: sms
From: Shop

Hi Bob!"
exits "sms cannot go over SMTP" 64 sh -c \
	"echo 2 | nudge send --channel sms -c f2 -t t.sms --transport smtp://127.0.0.1:25"
done_testing
