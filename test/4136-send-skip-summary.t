#!/bin/sh
# send's summary of trigger lines counts the skips by class (policy's
# enum), not by the words of each reason: two lines that name no contact
# in different ways are one class, each class once, in a fixed order.
. "$(dirname "$0")/lib.sh"
plan 3
. "$TESTDIR/trigger/fixture.sh"
S="--now $DAY0 --transport file://$T/out --campaigns campaigns"

printf 'x@@bad\tlists-sms\tsms\n+1\tlists-sms\tsms\n999\tlists-sms\tsms\n' >lines
exits "lines that name no contact are skipped: exit 0" 0 sh -c "nudge send $S <lines"
is "each says why in its own words" "$(cut -f2,3 .out | cut -c1-40)" \
"skipped	not an email address (more than 
skipped	not a contact id, email or phone
skipped	no such contact"
is "the summary counts two classes" "$(grep 'skipped:' .err)" \
	"nudge-send: skipped: 1 no such contact, 2 not a contact"
done_testing
