#!/bin/sh
# send: the claims of a send that died become `unknown`, and are reported,
# at the start of the next run even when it reads no line -- as
# `nudge trigger | nudge send` does once every due key, the dead run's
# claims included, is in the ledger.  (Found by test 5100: the claims
# stayed `claimed` for good.)
. "$(dirname "$0")/lib.sh"
plan 6

export NUDGE_FILE_NOSYNC=1
printf 'email\nann@example.com\nbob@example.com\n' >c.csv
ok "two contacts" nudge import-list c.csv
printf 'Subject: Hi\nFrom: shop@example.com\n\nHello.\n' >t.txt
ok "a campaign" sh -c "nudge segment 'email contains \"@\"' | head -n 1 |
	nudge send -c promo -t t.txt --transport file://$T/out"
# a claim of a process that is gone: pid 2^31-2 never exists
sql "INSERT INTO messages (campaign_id, step, contact_id, channel, status,
	attempts, claimed_at, updated_at, claimed_by) VALUES (1, 's1', 2,
	'email', 'claimed', 1, 0, 0, '2147483646@$(uname -n):1')"

exits "trigger mode, no line: exit 0" 0 sh -c "nudge send \
	--transport file://$T/out </dev/null"
is "the dead claim is unknown now" \
    "$(sql "SELECT status FROM messages WHERE step = 's1'")" unknown
like "and the run says so" "$(cat .err)" \
    "^nudge-send: 1 messages of an earlier send that died are now unknown"
is "the live rows are untouched" \
    "$(sql "SELECT status FROM messages WHERE step = ''")" sent
done_testing
