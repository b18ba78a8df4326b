# test/crash/concurrent.sh: the body of test 5110 (make check: CONTACTS=1000)
# and test/torture/5110-trigger-concurrent.t (CONTACTS=5000), sourced after
# test/lib.sh.  What it asserts:
# Two, then four `nudge trigger | nudge send` pipelines started at once
# over one store, each a stream of email, sms and push (test/crash/mix.sh),
# while nudge track under lighttpd (FastCGI: as CGI, one process a request,
# it takes ~150 a second here) takes clicks at up to 1,000 a second:
# every pipeline exits 0 (no SQLITE_BUSY abort), every ledger key is
# accepted by a server exactly once and is `sent`, and every click
# answered 2xx or 3xx is a `clicked` event in the store.  Then three more
# and a fourth killed with SIGKILL and rerun: its claims end unknown,
# nothing is sent twice.
start_smtpd
start_emu
export NUDGE_TRACK_SECRET=test-tracking-secret
# As in test 7020: what is asserted is that no click is lost or refused
# while writers contend, not how long one waits for the lock; on a loaded
# machine (2 shared cores, sanitizers) the production wait of 2 s can run
# out now and then (1 click in ~4,000 under ASan), SQLite's lock not
# being fair to a waiter.
export NUDGE_TRACK_BUSY_MS=20000
export NUDGE_CONFIG="$T/cfg.yaml"
HTTPD_FASTCGI=1 start_lighttpd
plan 19

MIX_CFG="tracking:
  base_url: $HTTPD_URL
  secret_env: NUDGE_TRACK_SECRET"
. "$TESTDIR/crash/mix.sh"
ok "$CONTACTS contacts with an address on each channel" mix_contacts

# something to click: a message of campaign "promo" to 20 contacts
printf 'Subject: Hi\nFrom: shop@example.com\n\nhttps://shop.example/sale\n' >promo.txt
ok "a promo to 20 of them, for the clicks" sh -c "nudge segment \
    'list \"all\"' | head -n 20 | nudge send -c promo -t promo.txt \
    --transport file://$T/out"
for i in $(seq 1 20); do
	u=$(nudge track url click promo "$i" "https://shop.example/p$i")
	printf '%s\n' "${u#"$HTTPD_URL"}"
done >clicks
is "twenty click paths" "$(grep -c '^/c/' clicks)" 20
/usr/bin/python3 "$TESTDIR/crash/clicks.py" "$HTTPD_FURL" 1000 "$T/stop" \
    $(cat clicks) >clicks.out 2>clicks.err &
load=$!

# pipelines K NOW: K pipelines started at once; their exit codes in
# pK.N.codes ("trigger send"), their output in pK.N.out and .err
pipelines() {
	_i=1
	while [ "$_i" -le "$1" ]; do
		(
			{ nudge trigger --now "$2" campaigns/*.yaml; echo $? >"p$1.$_i.trig"; } |
			    nudge send --now "$2" >"p$1.$_i.out" 2>"p$1.$_i.err"
			echo "$(cat "p$1.$_i.trig") $?" >"p$1.$_i.codes"
		) &
		_i=$((_i + 1))
	done
	wait_pipelines "$1"
}
# wait for the pipelines only, not the load client
wait_pipelines() {
	_i=1
	while [ "$_i" -le "$1" ]; do
		while [ ! -s "p$1.$_i.codes" ]; do sleep 0.05; done
		_i=$((_i + 1))
	done
}
codes() { cat p$1.*.codes | sort | uniq -c | sed 's/^ *//'; }

for k in 2 4; do
	[ "$k" = 2 ] && now=2026-11-10T10:00:00Z || now=2026-11-11T10:00:00Z
	due=$(nudge trigger --now "$now" campaigns/*.yaml | wc -l)
	pipelines "$k" "$now"
	is "$k pipelines at once ($due due): trigger and send all exit 0" \
	    "$(codes "$k")" "$k 0 0"
	is "$k pipelines: none was refused the store (busy, locked)" \
	    "$(cat p$k.*.err | grep -ci 'busy\|locked')" 0
	# (how many duplicates depends on when each trigger ran)
	is "$k pipelines: each due message sent by one of them, a duplicate to the others" \
	    "$(cat p$k.*.out | cut -f2 | grep -v '^duplicate$' | sort | uniq -c | sed 's/^ *//')" \
	    "$due sent"
done
# day 3: three pipelines, and a fourth killed with SIGKILL at a random
# point (within the first quarter of the messages: its share) and rerun
# until it exits 0 (test/crash/loop.py): the others go on,
# and the dead one's started messages become unknown, never sent twice;
# its claims that never started are given back and sent by a rerun
SEED=${NUDGE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "# seed $SEED (NUDGE_SEED=$SEED replays the kill)"
now=2026-11-12T10:00:00Z
due=$(nudge trigger --now "$now" campaigns/*.yaml | wc -l)
/usr/bin/python3 "$TESTDIR/crash/loop.py" --seed "$SEED" --kills 1 \
    --total $((due / 4)) --db "$NUDGE_DB" --progress "$SMTPD_DIR/accepted" \
    --progress "$EMU_DIR/requests" --dir killed -- nudge trigger --now "$now" \
    campaigns/mixa.yaml campaigns/mixb.yaml campaigns/mixc.yaml \| \
    nudge send --now "$now" >loop.out 2>loop.err &
lpid=$!
pipelines 3 "$now"
wait "$lpid"
lrc=$?
is "three pipelines and a fourth killed ($due due): they exit 0, it is rerun until it does" \
    "$(codes 3) $lrc" "3 0 0 0"
diag "$(cat loop.out)"
left=$(sed -n 's/.*, \([0-9]*\) claimed$/\1/p' loop.out)
: >"$T/stop"
wait "$load"
diag "clicks: $(tr '\n' ' ' <clicks.out)"

/usr/bin/python3 "$TESTDIR/crash/check.py" "$NUDGE_DB" --smtpd "$SMTPD_DIR" \
    --emu "$EMU_DIR" --chain mixa s1,s2,s3 --chain mixb s1,s2,s3 \
    --chain mixc s1,s2,s3 >check.out
n() { sed -n "s/^$1 //p" check.out; }
grep -v '^[a-z-]* [0-9]*$' check.out | head -20 | while read -r l; do diag "$l"; done
diag "$(grep '^[a-z-]* [0-9]*$' check.out | tr '\n' ' ')"
is "no key was accepted twice by a server" "$(n twice)" 0
is "every accepted message has its ledger row, sent" \
    "$(n no-row) $(n not-sent-row) $(n wrong-rcpt)" "0 0 0"
is "every sent row was accepted" "$(n lost-sent)" 0
is "every due key is in the ledger, and no other" "$(n missing) $(n extra)" "0 0"
is "all $((9 * CONTACTS)) sent, but for the kill's unknown (at most the claims it left: the journal gives back what never started)" \
    "$(($(n sent) + $(n unknown))) $(test "$(n unknown)" -le "${left:-0}" && echo le-left) $(n failed)" \
    "$((9 * CONTACTS)) le-left 0"
is "the servers accepted the sent ones, and at most the unknown ones more" \
    "$(test "$(n accepted)" -ge "$(n sent)" &&
       test "$(n accepted)" -le $(($(n sent) + $(n unknown))) && echo yes)" yes
is "the load client ran (answered, refused, errors)" \
    "$(test "$(sed -n 's/^answered //p' clicks.out)" -gt 0 && echo yes)" yes
is "every click was answered 2xx or 3xx" \
    "$(sed -n 's/^refused //p; s/^errors //p' clicks.out | tr '\n' ' ')" "0 0 "
is "every answered click is an event in the store" \
    "$(sql "SELECT count(*) FROM events WHERE type = 'clicked'")" \
    "$(sed -n 's/^answered //p' clicks.out)"
done_testing
