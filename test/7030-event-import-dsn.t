#!/bin/sh
# nudge event import --format dsn --parser builtin: RFC 3464 bounces and RFC 5965 (ARF)
# complaints from single messages, an mbox, a maildir and stdin, matched
# to contacts and, by Message-ID, to the ledger; read by nudge's own reader
# (--parser builtin: what runs where Sisimai is not installed; test 7070
# reads the same files with Sisimai).
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
D="$TESTDIR/track/dsn"
plan 22

seed
exits "a hard bounce" 0 nudge event import --format dsn --parser builtin "$D/hard.eml"
is "one line per report" "$(cat .out)" "$D/hard.eml	bounced	Ann@Example.com	5.1.1 userunknown hard"
is "a summary" "$(cat .err)" \
    "nudge-event: $D/hard.eml: read 1, bounced 1 (hard 1, soft 0, sender-side 0), complained 0, duplicate 0, unmatched 0, ignored 0; suppressed after soft bounces 0, re-classified 0, restored 0; read by nudge's RFC 3464/5965 reader"
is "a bounced event on the ledger row its Message-ID names" \
    "$(sql "SELECT contact_id, type, channel, campaign_id, message_id, props
    FROM events ORDER BY id DESC LIMIT 1")" '1	bounced	email	1	1	{"status":"5.1.1","reason":"userunknown","class":"hard","parser":"nudge","diagnostic":"smtp; 550 5.1.1 <ann@example.com>: Recipient address rejected: User unknown","sender_domain":"example.com","report":"hard.eml 59e722a678826c20878560747a63d964.nudge@example.com ann@example.com"}'
is "the address is suppressed" \
    "$(sql "SELECT contact_id, channel, status, source FROM consent_now")" \
    "1	email	bounced	dsn:$D/hard.eml"
is "the ledger row is bounced" "$(sql "SELECT status, error FROM messages")" \
    "bounced	5.1.1"
exits "the same bounce again" 0 nudge event import --format dsn --parser builtin "$D/hard.eml"
is "is a duplicate, not recorded twice" "$(cut -f2 .out; sql "SELECT count(*) FROM events WHERE type = 'bounced'")" \
    "duplicate
1"
exits "a delay" 0 nudge event import --format dsn --parser builtin "$D/soft.eml"
is "is ignored" "$(cat .out)" "$D/soft.eml	ignored	bob@example.com	a temporary failure"
exits "a CRLF report with a base64 delivery-status" 0 \
    nudge event import --format dsn --parser builtin "$D/crlf-base64.eml"
is "is read" "$(cat .out)" "$D/crlf-base64.eml	bounced	bob@example.com	5.2.1 suspend soft"
is "a soft bounce does not suppress bob" \
    "$(sql "SELECT count(*) FROM consent WHERE contact_id = 2")" 0
is "bob has no message: an event with no ledger row" \
    "$(sql "SELECT contact_id, type, quote(campaign_id), quote(message_id) FROM events ORDER BY id DESC LIMIT 1")" \
    "2	bounced	NULL	NULL"
exits "an ARF complaint" 0 nudge event import --format dsn --parser builtin "$D/arf.eml"
is "is complained, for the To: of the returned message" "$(cat .out)" \
    "$D/arf.eml	complained	bob@example.com	abuse"
is "which suppresses bob" \
    "$(sql "SELECT status FROM consent_now WHERE contact_id = 2")" complained
sql "DELETE FROM consent; DELETE FROM events WHERE type IN ('bounced', 'complained'); UPDATE messages SET status = 'sent', error = NULL"
exits "an mbox" 0 nudge event import --format dsn --parser builtin "$D/bounces.mbox"
is "each message of it" "$(cat .out)" \
"$D/bounces.mbox:1	ignored	bob@example.com	a temporary failure
$D/bounces.mbox:2	ignored		not a delivery status notification or feedback report
$D/bounces.mbox:3	bounced	Ann@Example.com	5.1.1 userunknown hard"
sql "DELETE FROM consent; DELETE FROM events WHERE type IN ('bounced', 'complained'); UPDATE messages SET status = 'sent', error = NULL"
exits "a maildir, new/ then cur/" 0 nudge event import --format dsn --parser builtin "$D/maildir"
is "every message of it" "$(sed "s|$D/maildir/||" .out)" \
"new/1793613600.M2P2.mx	complained	bob@example.com	abuse
new/1793613700.M3P3.mx	ignored		not a delivery status notification or feedback report
cur/1793610005.M1P1.mx:2,S	bounced	Ann@Example.com	5.1.1 userunknown hard"
is "from stdin, dry run: nothing stored" \
    "$(nudge event import -n --format dsn --parser builtin - <"$D/hard.eml" 2>&1 >/dev/null)" \
    "nudge-event: (stdin): read 1, bounced 0 (hard 0, soft 0, sender-side 0), complained 0, duplicate 1, unmatched 0, ignored 0; suppressed after soft bounces 0, re-classified 0, restored 0; read by nudge's RFC 3464/5965 reader (dry run: nothing stored)"
done_testing
