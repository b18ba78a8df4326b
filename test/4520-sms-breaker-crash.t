#!/bin/sh
# sms over HTTP: a provider that is down opens the circuit breaker and
# stops the run with exit 75 instead of burning the list; the messages
# never tried are left for a rerun, which sends each once.  A send killed
# mid-run and rerun sends nothing twice, and --resend-unknown resends the
# lost ones with the same idempotency key, which the provider drops.
. "$(dirname "$0")/lib.sh"
start_emu
plan 12
N_CONTACTS=30
. "$TESTDIR/sms/head.sh"

# keys: "KEY delivered-count" of the non-repeated 2xx answers, per key
delivered() {
	/usr/bin/python3 -c 'import json,sys,collections
c = collections.Counter()
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["status"] == 201 and not r.get("repeat"):
        c[r["headers"]["i-twilio-idempotency-token"]] += 1
print(len(c), max(c.values()) if c else 0)' "$EMU_DIR/requests"
}

cfg "parallel: 2" "breaker: 5" "max_retries: 1"
printf '500*\n' >"$EMU_DIR/faults"
blast down
is "the provider is down: exit 75" "$rc" 75
like "it says so" "$(tail -1 down.err)" \
	'^nudge-send: twilio: the provider is down \(HTTP 500: internal error \(circuit breaker: 5 failures in a row\)\); the messages not sent are left for a rerun$'
n=$(wc -l <"$EMU_DIR/requests")
ok "it stopped after 5 failures (+1 in flight): $n requests" test "$n" -le 6
held=$(grep -c '	held	' down.out)
ok "the rest are held: $held" test "$held" -ge 24
is "held messages have no ledger row" \
	"$(sql "SELECT count(*) FROM messages WHERE campaign_id = (SELECT id FROM campaigns WHERE name = 'down')")" \
	"$(grep -c '	tempfail	' down.out)"
rm -f "$EMU_DIR/faults"
blast down
is "the provider is back: a rerun sends the held ones" \
	"$(grep -c '	sent	' down.out)" "$held"
is "and no message twice" "$(delivered)" "$held 1"

# a send killed while requests are in flight
rm -f "$EMU_DIR/requests"
printf 'slow 0.5*\n' >"$EMU_DIR/faults"
nudge segment 'list "all"' >ids
nudge send --config cfg.yaml --channel sms --now $now -c crash \
    -t "$S/short.sms" --parallel 4 <ids >crash1.out 2>&1 &
pid=$!
wait_requests 6
kill -9 "$pid"
wait "$pid" 2>/dev/null
rm -f "$EMU_DIR/faults"
sleep 0.6 # the in-flight requests are answered and recorded
blast crash
is "the rerun exits 0" "$rc" 0
lost=$(grep -c '	unknown	' crash.out)
ok "the claims in flight at the kill are unknown: $lost" test "$lost" -ge 1
is "nothing was delivered twice; sent + unknown = 30" \
	"$(delivered | cut -d' ' -f2)/$(($(sql "SELECT count(*) FROM messages WHERE status = 'sent' AND campaign_id = (SELECT id FROM campaigns WHERE name = 'crash')") + lost))" \
	"1/30"
blast crash --resend-unknown
is "--resend-unknown sends the lost ones again" "$(grep -c '	sent	' crash.out)" "$lost"
is "with the same keys: the provider drops what it had; each once" \
	"$(delivered)" "30 1"
done_testing
