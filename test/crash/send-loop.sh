# test/crash/send-loop.sh: the body of the send crash loops, sourced by
# test/4160-send-crash-loop.t (make check: CONTACTS=1000, KILLS=10) and
# test/torture/4160-send-crash-loop.t (make torture: 10,000 and 100) after
# test/lib.sh.
#
# A blast of CONTACTS messages over SMTP to a real server (aiosmtpd, which
# logs every message it accepts) is killed with SIGKILL at KILLS random
# points, restarted each time with the same command, then rerun until it
# exits 0, as a user would (no --resend-unknown: at most once).  Then the
# server's log and the ledger must agree: no contact got two messages,
# every accepted message has a row `sent` or `unknown` (never one saying
# it did not leave), every `sent` row was accepted, every contact ends
# sent, failed, bounced or unknown, and a kill leaves `unknown` at most
# the messages on the wire (one a connection, but a deferred one waiting
# for its retry), the outcomes it knew recorded and the others of its
# in-flight window given back (the journal).  NUDGE_SEED replays a run:
# the seed is printed.
start_smtpd
plan 15

SEED=${NUDGE_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "# seed $SEED (NUDGE_SEED=$SEED replays this run)"
# What a kill can leave unknown: the in-flight window, as send has it
# now: 64 messages a connection queued in the transport, and a batch of
# claims (64 for email) on top, all claimed before they leave.  One
# connection, so that the window leaves room for the kills.
PARALLEL=${PARALLEL:-1}
WINDOW=$((64 * PARALLEL + 64))

export NUDGE_FILE_NOSYNC=1
cat >cfg.yaml <<EOT
channels:
  email:
    url: smtp://127.0.0.1:$SMTPD_PORT
    parallel: $PARALLEL
    backoff_ms: 10
EOT
export NUDGE_CONFIG="$T/cfg.yaml"
# one address in 50 bounces (550 to RCPT TO), one in 70 is deferred
# (451) the first time the server sees it
awk -v n="$CONTACTS" 'BEGIN { print "email,first_name"
	for (i = 1; i <= n; i++) {
		p = i % 50 == 0 ? "bounce-" : i % 70 == 0 ? "tempfail1-" : ""
		printf "%su%d@example.com,U%d\n", p, i, i
	} }' >c.csv
ok "$CONTACTS contacts" nudge import-list c.csv
printf 'Subject: Hi {{first_name}}, ref blast//{{id}}\nFrom: shop@example.com\n\nHello {{first_name}}, ref blast//{{id}}.\n' >t.txt
nudge segment 'email contains "@"' >ids

ok "killed $KILLS times, then rerun until it exits 0" \
    /usr/bin/python3 "$TESTDIR/crash/loop.py" --seed "$SEED" \
    --kills "$KILLS" --total "$CONTACTS" --progress "$SMTPD_DIR/accepted" \
    --db "$NUDGE_DB" --stdin ids --dir runs -- nudge send -c blast -t t.txt
cp .out loop.out
diag "$(tail -n 3 loop.out)"
kills=$(sed -n 's/^kills \([0-9]*\) .*/\1/p' loop.out)
[ "${kills:-0}" -ge "$KILLS" ] ||
    diag "only $kills kills: every message was in the ledger before the last target"
# what each kill left claimed, then unknown
sed -n 's/.*, \([0-9]*\) claimed$/\1/p' loop.out >left
is "no kill left more claims than the window ($WINDOW)" \
    "$(awk -v w="$WINDOW" '$1 > w' left)" ""

/usr/bin/python3 "$TESTDIR/crash/check.py" "$NUDGE_DB" --smtpd "$SMTPD_DIR" \
    --chain blast "" >check.out
n() { sed -n "s/^$1 //p" check.out; }
grep -v '^[a-z-]* [0-9]*$' check.out | head -20 | while read -r l; do diag "$l"; done
diag "$(grep '^[a-z-]* [0-9]*$' check.out | tr '\n' ' ')"
is "no contact received two messages" "$(n twice)" 0
is "every accepted message has a ledger row" "$(n no-row)" 0
is "no accepted message has a row saying it did not leave" "$(n not-sent-row)" 0
is "each went to its contact's address" "$(n wrong-rcpt)" 0
is "every sent row was accepted by the server" "$(n lost-sent)" 0
is "every contact ends sent, failed, bounced or unknown (none left claimed)" \
    "$(($(n sent) + $(n failed) + $(n bounced) + $(n unknown)))/$(n missing)" "$CONTACTS/0"
is "the addresses that bounce end bounced or unknown, never sent" \
    "$(sql "SELECT count(*) FROM messages m JOIN contacts c ON c.id = m.contact_id
	WHERE c.email LIKE 'bounce-%' AND m.status NOT IN ('bounced', 'unknown')")" 0
is "the server accepted the sent ones, and at most the unknown ones more" \
    "$(test "$(n accepted)" -ge "$(n sent)" &&
       test "$(n accepted)" -le $(($(n sent) + $(n unknown))) && echo yes)" yes
# A kill leaves `unknown` only the claims its in-flight journal shows
# started; the others are given back and sent by the next run.  Started
# and not accepted: on the wire at the kill (PARALLEL), or answered with
# a bounce or a deferral whose outcome was not yet recorded.
u=$(n unknown)
is "unknown ($u) is at most what the $kills kills left claimed ($(awk '{ n += $1 } END { print n + 0 }' left))" \
    "$(test "$u" -le "$(awk '{ n += $1 } END { print n + 0 }' left)" && echo yes)" yes
o=$(sql "SELECT count(*) FROM messages m JOIN contacts c ON c.id = m.contact_id
	WHERE m.status = 'unknown' AND (c.email LIKE 'bounce-%' OR c.email LIKE 'tempfail1-%')")
diag "unknown $u: accepted by the server $(($(n accepted) - $(n sent))), not $(($u - $(n accepted) + $(n sent)))"
is "unknown is what the server accepted, and at most $PARALLEL a kill more (but bounces and deferrals)" \
    "$(test $(($u - $(n accepted) + $(n sent))) -le $((kills * PARALLEL + o)) && echo yes)" yes
# Each kill's: the recovery names the dead claimer in the row's error.
# A message the server accepted a moment before the kill has its outcome
# in the journal (written as soon as the reply was read) and is recorded
# sent: what stays unknown was on the wire, one a connection, or was
# deferred (451) and waited for its retry.
sql "SELECT count(*) FROM messages WHERE status = 'unknown' GROUP BY error" |
    sort -n >perkill
sql "SELECT count(*) FROM messages m JOIN contacts c ON c.id = m.contact_id
	WHERE m.status = 'unknown' AND c.email NOT LIKE 'tempfail1-%'
	GROUP BY m.error" >perkill.wire
diag "unknown left by one kill: at most $(tail -n 1 perkill | grep . || echo 0) ($kills kills, $u unknown, $(($(n accepted) - $(n sent))) of them accepted by the server)"
is "no kill left more unknown than its $PARALLEL connection(s) had on the wire (but deferred ones)" \
    "$(awk -v p="$PARALLEL" '$1 > p' perkill.wire)" ""
is "unknown that the server accepted ($(($(n accepted) - $(n sent)))) is at most $PARALLEL a kill" \
    "$(test $(($(n accepted) - $(n sent))) -le $((kills * PARALLEL)) && echo yes)" yes
done_testing
