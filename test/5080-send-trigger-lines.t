#!/bin/sh
# send reads trigger lines: the campaign file from the line's fourth field
# or from --campaigns DIR; bad lines stop it with the line named; with
# --campaign every line is a plain contact line, whatever follows its id.
. "$(dirname "$0")/lib.sh"
plan 11
. "$TESTDIR/trigger/fixture.sh"
S="--now $DAY0 --transport file://$T/out"

printf '3\tlists-sms\tsms\n' >noffile
exits "a line without the file field, with --campaigns" 0 \
	sh -c "nudge send $S --campaigns campaigns <noffile"
is "is sent as that campaign's step" "$(cut -f1,2,4,5 .out)" \
	"3	sent	lists-sms	sms"
is "into the ledger under (campaign, step, contact)" \
	"$(sql "SELECT k.name, m.step, m.contact_id, m.channel FROM messages m JOIN campaigns k ON k.id = m.campaign_id")" \
	"lists-sms	sms	3	sms"
printf '1\tlists-sms\tsms\n' >noffile
exits "without --campaigns" 64 sh -c "nudge send $S <noffile"
like "says what is missing" "$(cat .err)" \
	"line 1: a trigger line without its campaign file: give --campaigns DIR"
printf '1\tlists-sms\tnosuch\tcampaigns/lists-sms.yaml\n' >badstep
exits "a step the campaign does not have" 65 sh -c "nudge send $S <badstep"
like "names it" "$(cat .err)" 'line 1: campaigns/lists-sms.yaml has no step "nosuch"'
printf '1\tother\tsms\tcampaigns/lists-sms.yaml\n' >badname
exits "a campaign name the file does not have" 65 sh -c "nudge send $S <badname"
like "names both" "$(cat .err)" \
	'line 1: campaign "other", but campaigns/lists-sms.yaml is campaign "lists-sms"'
nudge segment --format tsv --fields id,email,first_name 'list "vip"' >tsv
exits "with --campaign, extra fields are the user's" 0 sh -c \
	"nudge send $S -c plain -t campaigns/templates/sale.txt <tsv"
is "every line a contact of the one campaign" "$(cut -f1,2 .out)" "1	sent
3	sent
4	sent"
done_testing
