#!/bin/sh
# send holds the store's write lock only while it writes, never while it
# waits for the network: with a message's outcome recorded and the next
# request stalled at the provider, another process can write the store at
# once.  (Found by test 5110's concurrent pipelines: the outcomes'
# transaction stayed open across network waits, and a third send
# starved past the busy timeout and exited 75, nudge track answered 503.)
. "$(dirname "$0")/lib.sh"
start_emu
plan 4

export SMS_TOKEN=tok
cat >cfg.yaml <<EOT
channels:
  sms:
    provider: $TOP/samples/providers/twilio.yaml
    url: http://127.0.0.1:$EMU_PORT
    user: AC1
    secret_env: SMS_TOKEN
    sender: {default: Shop}
    parallel: 1
EOT
export NUDGE_CONFIG="$T/cfg.yaml"
printf "email,phone\na@example.com,+972521000001\nb@example.com,+972521000002\n" >c.csv
ok "two contacts" nudge import-list c.csv
printf '\nhello\n' >t.sms
# the first request is answered at once, the second after 4 s
printf 'slow 0\nslow 4\n' >"$EMU_DIR/faults"
nudge segment 'phone is set' >ids
nudge send --channel sms -c lock -t t.sms <ids >send.out 2>send.err &
pid=$!
# the second request has reached the provider once its fault is taken
n=0
while grep -q 'slow 4' "$EMU_DIR/faults" && [ "$n" -lt 200 ]; do
	sleep 0.05
	n=$((n + 1))
done
sleep 0.5   # the first outcome is recorded meanwhile
ok "meanwhile another writer gets the lock within 1 s" \
    sqlite3 -cmd '.timeout 1000' "$NUDGE_DB" 'BEGIN IMMEDIATE; COMMIT;'
wait "$pid"
is "the send ended well" "$?" 0
is "both sent" "$(cut -f2 send.out | tr '\n' ' ')" "sent sent "
done_testing
