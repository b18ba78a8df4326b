#!/bin/sh
# sms over HTTP, protocol faults: an answer that stalls midway (ended by
# timeout_ms), a reset connection, a closed one, an answer that is not
# HTTP.  The request went out, so the provider may have the message: with
# a profile that sends the ledger key (twilio's idempotency header) it is
# retried and sent; with one that does not (plivo) it is `unknown`, not
# retried, not resent by a rerun.  A 2xx that is not JSON (a web
# server's page) is unknown too; a huge answer is read up to a bound.
# Each result line names the provider and what happened.  An https
# provider with a self-signed certificate gets nothing: exit 69, held.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip_all "openssl is not installed"
start_emu
N_CONTACTS=2
. "$TESTDIR/sms/head.sh"
plan 29
plivo() {
	cat >cfg.yaml <<-EOT
	channels:
	  sms:
	    provider: $P/plivo.yaml
	    url: http://127.0.0.1:$EMU_PORT
	    user: MA1
	    secret_env: SMS_TOKEN
	    sender: {default: Shop}
	    backoff_ms: 50
	    timeout_ms: 1000
	EOT
}
# fault F PROFILE CAMPAIGN: contact 1 by sms, the emulator's first answer
# being F; the requests it saw are then in $(statuses)
fault() {
	rm -f "$EMU_DIR/requests"
	echo "$1" >"$EMU_DIR/faults"
	if [ "$2" = plivo ]; then plivo; else cfg "timeout_ms: 1000"; fi
	IDS=1 blast "$3"
}
tail="it may have arrived, and the profile sends no idempotency key; not sent again unless --resend-unknown"

fault stall plivo ps
is "plivo, a stalled answer: exit 0, unknown, ended by the timeout" \
	"$rc $(sed 's/after [0-9]* milli/after N milli/' ps.out)" \
"0 1	unknown	plivo: no answer in time after the request (Operation timed out after N milliseconds with 11 out of 64 bytes received): $tail"
is "one request, not retried" "$(statuses)" stall
is "the ledger: unknown" "$(sql "SELECT status, attempts FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE c.name = 'ps'")" "unknown	1"
rm -f "$EMU_DIR/requests"
IDS=1 blast ps
is "a rerun does not resend it" "$rc $(cut -f2 ps.out)/$(cat "$EMU_DIR/requests" 2>/dev/null | wc -l)" "0 unknown/0"

fault stall twilio ts
is "twilio, a stalled answer: retried with the same key, sent" "$rc $(cat ts.out)" \
	"0 1	sent	SM000003 (1 segment, GSM-7)"
is "the emulator saw the stall, then the retry" "$(statuses)" "stall 201"
ok "both with the same idempotency token" /usr/bin/python3 -c 'import json,sys
r = [json.loads(l) for l in open(sys.argv[1])]
k = {x["headers"]["i-twilio-idempotency-token"] for x in r}
sys.exit(0 if len(r) == 2 and len(k) == 1 else 1)' "$EMU_DIR/requests"

fault reset plivo pr
is "plivo, a reset: unknown" "$(cat pr.out)" \
	"1	unknown	plivo: the connection failed after the request (Recv failure: Connection reset by peer): $tail"
is "not retried" "$(statuses)" reset
fault reset twilio tr
is "twilio, a reset: retried, sent" "$(cut -f2 tr.out)/$(statuses)" "sent/reset 201"

fault drop plivo pd
is "plivo, closed with no answer: unknown" "$(cat pd.out)" \
	"1	unknown	plivo: the connection closed with no answer after the request (Empty reply from server): $tail"
is "not retried" "$(statuses)" drop
fault drop twilio td
is "twilio, closed: retried, sent" "$(cut -f2 td.out)/$(statuses)" "sent/drop 201"

fault garbage plivo pg
is "plivo, an answer that is not HTTP: unknown" "$(cat pg.out)" \
	"1	unknown	plivo: an answer that is not HTTP after the request (Received HTTP/0.9 when not allowed): $tail"
is "not retried" "$(statuses)" garbage
fault garbage twilio tg
is "twilio, not HTTP: retried, sent" "$(cut -f2 tg.out)/$(statuses)" "sent/garbage 201"

fault "html 200" twilio th
is "a 200 with an HTML page: unknown, even with a key (no retry)" "$rc $(cat th.out)" \
	"0 1	unknown	twilio: HTTP 200 but the answer is not JSON (text/html): is the URL the provider's API?; not sent again unless --resend-unknown"
is "one request" "$(statuses)" 200
fault "html 503" twilio th5
is "a 503 with an HTML page: retried as any 503, sent" "$(cut -f2 th5.out)/$(statuses)" "sent/503 201"

fault "huge 200" plivo pu
is "a 2 MB JSON answer: sent (2xx), its id past the bound not read" "$rc $(cat pu.out)" \
	"0 1	sent	 (1 segment, GSM-7)"
is "one request" "$(statuses)" 200
fault "huge 500" twilio tu
is "a 2 MB error page with a 500: retried, sent" "$(cut -f2 tu.out)/$(statuses)" "sent/500 201"

# the circuit breaker counts these failures too: three unknowns in a row
# stop the run, the rest held for a rerun
rm -f "$EMU_DIR/requests"
printf 'reset*\n' >"$EMU_DIR/faults"
plivo
printf '    breaker: 2\n    parallel: 1\n' >>cfg.yaml
N=2 blast pb
is "breaker after two resets: exit 75" "$rc" 75
is "two unknown, none held (two contacts)" "$(cut -f2 pb.out | sort | uniq -c | tr -s ' ' | tr '\n' ';')" " 2 unknown;"
like "the error names the provider" "$(tail -1 pb.err)" "^nudge-send: plivo: the provider is down \\(plivo: the connection failed after the request"

# an https provider with a self-signed certificate: nothing goes out, the
# error names the provider and the certificate problem, exit 69, held
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost" -keyout emu.key -out emu.crt \
	>/dev/null 2>&1
mkdir emu2
/usr/bin/python3 "$TESTDIR/provider-emu.py" "$T/emu2" emu.crt emu.key \
	2>"$T/emu2.log" </dev/null &
CLEANUP_PIDS="$CLEANUP_PIDS $!"
i=0
until [ -s emu2/port ] || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
cfg "parallel: 1"
sed -i "s|url: http://127.0.0.1:$EMU_PORT|url: https://localhost:$(cat emu2/port)|" cfg.yaml
IDS="1 2" blast tls
is "self-signed: exit 69" "$rc" 69
is "held, the first naming the provider and the problem" "$(sort -n tls.out)" \
"1	held	twilio: SSL certificate problem: self-signed certificate
2	held	not sent: the provider cannot be reached safely"
is "the error line" "$(tail -1 tls.err)" \
	"nudge-send: twilio: SSL certificate problem: self-signed certificate"
is "no claim left, no request received" \
	"$(sql "SELECT count(*) FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE c.name = 'tls'")/$(cat emu2/requests 2>/dev/null | wc -l)" "0/0"
done_testing
