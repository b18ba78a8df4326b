#!/bin/sh
# Bounces read the way a postmaster reads them (issue 22): Sisimai's public
# corpus (test/bounce/set-of-emails, 629 real messages) read by
# `nudge event import --format dsn` with Sisimai installed and with nudge's
# own reader, against Sisimai's own verdicts on the same files, run here by
# the test: hard bounces suppressed, sender-side ones never, soft ones
# counted; a re-read corrects earlier verdicts and gives addresses back;
# the soft-bounce limit; the fallback when Sisimai is missing.
. "$(dirname "$0")/lib.sh"
C="$TESTDIR/bounce/set-of-emails/maildir/bsd"
perl -MSisimai -e 1 2>/dev/null ||
	skip_all "Sisimai (libsisimai-perl) is not installed: make deps"
plan 33

# the reference: Sisimai's reading of the corpus, by Sisimai itself
perl -MSisimai -e 'print Sisimai->dump($ARGV[0], delivered => 0)' "$C" \
    >sis.json
perl "$TESTDIR/bounce/contacts.pl" sis.json >rcpts.csv

# figures: the store's suppressed addresses against Sisimai's verdicts
figures() {
	sql "SELECT lower(c.email) FROM consent_now n JOIN contacts c
	    ON c.id = n.contact_id WHERE n.channel = 'email'
	    AND n.status = 'bounced'" >sup.txt
	sql "SELECT lower(email) FROM contacts" >known.txt
	perl "$TESTDIR/bounce/verdicts.pl" sis.json sup.txt known.txt
}
# at_least GOT WANT DESC: GOT >= WANT (integers)
at_least() { _result "$([ "$1" -ge "$2" ] && echo 0 || echo 1)" "$3"; [ "$1" -ge "$2" ] || diag "got $1, want at least $2"; }
at_most() { _result "$([ "$1" -le "$2" ] && echo 0 || echo 1)" "$3"; [ "$1" -le "$2" ] || diag "got $1, want at most $2"; }
# checks PREFIX: hard recall >= 95%, sender-only suppressed <= 2%
checks() {
	set -- $(figures) "$1"
	diag "$7: of $2 recipients Sisimai calls hard bounces, $3 suppressed; of $5 that only sender-side reasons name, $6 suppressed"
	at_least "$(($3 * 100))" "$(($2 * 95))" "$7: at least 95% of Sisimai's hard bounces suppressed ($3 of $2)"
	at_most "$(($6 * 100))" "$(($5 * 2))" "$7: at most 2% of the sender-side-only recipients suppressed ($6 of $5)"
}

exits "a contact for each recipient (two addresses nudge refuses)" 65 \
    nudge import-list rcpts.csv
like "... 250 of them" "$(cat .err)" "inserted 250, .* rejected 2;"

exits "the corpus, read as a new user would" 0 \
    nudge event import --format dsn "$C"
like "read by Sisimai, said in the summary" "$(cat .err)" \
    "read 6[0-9][0-9], bounced [0-9]+ \(hard [0-9]+, soft [0-9]+, sender-side [0-9]+\).*read by Sisimai 4\.[0-9.]+"
checks "Sisimai"
is "no soft or sender-side bounce suppressed anybody by itself" \
    "$(sql "SELECT count(*) FROM consent n JOIN events e ON e.id = n.event_id
    WHERE n.status = 'bounced' AND json_extract(e.props, '$.class') = 'sender'")" 0
is "every suppression names its reason and the message it came in" \
    "$(sql "SELECT count(*) FROM consent n JOIN events e ON e.id = n.event_id
    WHERE n.status = 'bounced' AND (json_extract(e.props, '$.reason') IS NULL
    OR json_extract(e.props, '$.report') IS NULL)")" 0
ok "each bounce carries Sisimai's reason: more than ten blocked, sender-side" \
    test "$(sql "SELECT count(*) FROM events WHERE type = 'bounced'
    AND json_extract(props, '$.parser') = 'sisimai'
    AND json_extract(props, '$.reason') = 'blocked'
    AND json_extract(props, '$.class') = 'sender'")" -gt 10

exits "the same mailbox again" 0 nudge event import --format dsn "$C"
like "records nothing twice" "$(cat .err)" "bounced 0 .*complained 0, duplicate [0-9]+"
exits "Sisimai's JSON on stdin" 0 nudge event import --format sisimai - <sis.json
like "is the same reports: duplicates" "$(cat .err)" \
    "bounced 0 .*complained 0, duplicate [0-9]+.*read by Sisimai's JSON"

# nudge's own reader, then the same mailbox re-read by Sisimai
rm -f "$NUDGE_DB"*
exits "a fresh store" 65 nudge import-list rcpts.csv
exits "nudge's own reader" 0 nudge event import --format dsn --parser builtin "$C"
like "says so" "$(cat .err)" "read by nudge's RFC 3464/5965 reader$"
set -- $(figures)
diag "nudge's reader: of $2 hard-bounce recipients, $3 suppressed; of $5 sender-side only, $6 suppressed"
is "nudge's reader never suppresses a sender-side-only recipient" "$6" 0
is "nor for a sender-side reason of its own" \
    "$(sql "SELECT count(*) FROM consent n JOIN events e ON e.id = n.event_id
    WHERE n.status = 'bounced' AND json_extract(e.props, '$.class') <> 'hard'
    AND n.source NOT LIKE '%soft bounces within%'")" 0
exits "the mailbox re-read by Sisimai" 0 nudge event import --format dsn "$C"
like "re-classifies and restores, and counts both" "$(cat .err)" \
    "re-classified [1-9][0-9]*, restored [1-9][0-9]*;"
like "a restoration is a consent row that says why" \
    "$(sql "SELECT source FROM consent WHERE status = 'subscribed' LIMIT 1")" \
    "re-read as [a-z]+ \((soft|sender)\), not a dead address"
checks "after the re-read"

# the soft-bounce limit
rm -f "$NUDGE_DB"*
printf 'bounces:\n  soft_limit: 3\n  soft_within: 30d\n' >cfg.yaml
mkdir soft
for i in 1 2 3 4; do
	sed "s/@ID@/$i/" >"soft/$i.eml" <<'MAIL'
From: MAILER-DAEMON@mx.example.net
Message-ID: <bounce-@ID@@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; dana@example.org
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full

--b--
MAIL
done
ok "a contact" nudge event add --create --contact dana@example.org --type signup
mkdir s12 s3 s4; mv soft/1.eml soft/2.eml s12; mv soft/3.eml s3; mv soft/4.eml s4
exits "two soft bounces" 0 nudge event import --config cfg.yaml --format dsn --parser builtin s12
is "are counted, not suppressed" "$(sql "SELECT count(*) FROM consent"):$(sql "SELECT count(*) FROM events WHERE type = 'bounced'")" "0:2"
nudge event add --contact dana@example.org --type opened --channel email >/dev/null
exits "an open, then a third" 0 nudge event import --config cfg.yaml --format dsn --parser builtin s3
is "the open started the count again" "$(sql "SELECT count(*) FROM consent")" 0
sql "UPDATE events SET at = at - 30 WHERE type = 'opened'"
sql "UPDATE events SET at = at - 20 WHERE type = 'bounced'"
exits "with the open before all of them, the fourth" 0 nudge event import --config cfg.yaml --format dsn --parser builtin s4
is "suppresses, with a consent row that says why" \
    "$(sql "SELECT status, source FROM consent_now" | sed 's/dsn:[^:]*: //')" \
    "bounced	4 soft bounces within 30 days"

exits "report --by bounce" 0 nudge report --by bounce --format tsv
is "shows each class per campaign and receiving domain" "$(cat .out)" \
"	example.org	0	1	0	0	mailboxfull 4"

# Sisimai missing
mkdir bin
printf '#!/bin/sh\necho "Can'"'"'t locate Sisimai.pm in @INC" >&2\nexit 2\n' >bin/perl
chmod +x bin/perl
exits "--parser sisimai without Sisimai is 69" 69 env PATH="$T/bin:$PATH" nudge event import --format dsn --parser sisimai s4
done_testing
