# test/crash/trigger-loop.sh: the body of the trigger | send crash loops,
# sourced by test/5100-trigger-crash-loop.t (make check: CONTACTS=112,
# KILLS=10, about 1,000 messages) and test/torture/5100-trigger-crash-loop.t
# (make torture: 1,112 contacts, about 10,000 messages, 100 kills) after
# test/lib.sh.
#
# Three campaigns of three steps each, a day apart, every one of them on
# all three channels in a different order (mixa: email, sms, push; mixb:
# sms, push, email; mixc: push, email, sms), so that each day's
# `nudge trigger | nudge send` is a stream mixing the three: email to a
# real SMTP server (aiosmtpd), sms (Twilio's API) and push (ntfy's) to the
# provider emulator, both of which log what they accepted.  Each day the
# pipeline is killed with SIGKILL (send, or now and then trigger) at
# random points, restarted, then rerun until both exit 0, as cron would;
# at the end the servers' logs and the ledger must agree as in
# send-loop.sh, each later step going exactly to those whose previous one
# is `sent`.  NUDGE_SEED replays a run.
start_smtpd
start_emu
plan 18

SEED=${NUDGE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "# seed $SEED (NUDGE_SEED=$SEED replays this run)"
# the in-flight window of each channel as send has it now (64 messages a
# connection, and a batch of claims: 64 for email, 256 for sms and push);
# a kill can leave at most the sum unknown, should the channels run at once
WINDOW=$(( (64 + 64) + 2 * (64 + 256) ))

. "$TESTDIR/crash/mix.sh"
ok "$CONTACTS contacts with an address on each channel" mix_contacts
ok "the campaigns check" nudge trigger --check campaigns/*.yaml

# progress: what the servers accepted so far, one line each
touch "$SMTPD_DIR/accepted" "$EMU_DIR/requests"
day=0
for now in 2026-11-10T10:00:00Z 2026-11-11T10:00:00Z 2026-11-12T10:00:00Z; do
	day=$((day + 1))
	due=$(nudge trigger --now "$now" campaigns/*.yaml | wc -l)
	ok "day $day: $due due, killed $((KILLS / 3 + (day == 1 ? KILLS % 3 : 0))) times, then rerun until trigger and send exit 0" \
	    /usr/bin/python3 "$TESTDIR/crash/loop.py" --seed "$((SEED + day))" \
	    --kills $((KILLS / 3 + (day == 1 ? KILLS % 3 : 0))) \
	    --total "$due" --db "$NUDGE_DB" \
	    --progress "$SMTPD_DIR/accepted" --progress "$EMU_DIR/requests" \
	    --dir "runs$day" -- nudge trigger --now "$now" campaigns/mixa.yaml \
	    campaigns/mixb.yaml campaigns/mixc.yaml \| nudge send --now "$now"
	cat .out >>loop.out
	diag "day $day: $(grep -c killed .out) kills, $(tail -n 1 .out)"
done
is "then nothing is due any more: everything due is in the ledger" \
    "$(nudge trigger --now 2026-11-12T10:00:00Z campaigns/*.yaml | wc -l)" 0
sed -n 's/.*, \([0-9]*\) claimed$/\1/p' loop.out >left
kills=$(wc -l <left)
is "no kill left more claims than the windows of the three channels ($WINDOW)" \
    "$(awk -v w="$WINDOW" '$1 > w' left)" ""

/usr/bin/python3 "$TESTDIR/crash/check.py" "$NUDGE_DB" --smtpd "$SMTPD_DIR" \
    --emu "$EMU_DIR" --chain mixa s1,s2,s3 --chain mixb s1,s2,s3 \
    --chain mixc s1,s2,s3 >check.out
n() { sed -n "s/^$1 //p" check.out; }
grep -v '^[a-z-]* [0-9]*$' check.out | head -20 | while read -r l; do diag "$l"; done
diag "$(grep '^[a-z-]* [0-9]*$' check.out | tr '\n' ' ')"
is "no contact received a message twice (email, sms or push)" "$(n twice)" 0
is "every accepted message has a ledger row" "$(n no-row)" 0
is "no accepted message has a row saying it did not leave" "$(n not-sent-row)" 0
is "each went to its contact's address on its step's channel" "$(n wrong-rcpt)" 0
is "every sent row was accepted by a server" "$(n lost-sent)" 0
is "every due message ends sent, failed or unknown (none missing or claimed)" \
    "$(n missing)" 0
is "no message for a step whose previous one was not sent" "$(n extra)" 0
is "the servers accepted the sent ones, and at most the unknown ones more" \
    "$(test "$(n accepted)" -ge "$(n sent)" &&
       test "$(n accepted)" -le $(($(n sent) + $(n unknown))) && echo yes)" yes
# only what the in-flight journals show started stays `unknown`: what
# the servers accepted, and at most one message a channel on the wire at
# each kill (one connection each, no faults)
u=$(n unknown)
is "unknown ($u) is at most what the $kills kills left claimed ($(awk '{ n += $1 } END { print n + 0 }' left))" \
    "$(test "$u" -le "$(awk '{ n += $1 } END { print n + 0 }' left)" && echo yes)" yes
diag "unknown $u: accepted by a server $(($(n accepted) - $(n sent))), not $(($u - $(n accepted) + $(n sent)))"
is "unknown is what the servers accepted, and at most 3 a kill more" \
    "$(test $(($u - $(n accepted) + $(n sent))) -le $((kills * 3)) && echo yes)" yes
is "a provider never saw an idempotency key again" \
    "$(grep -c '"repeat": true' "$EMU_DIR/requests")" 0
done_testing
