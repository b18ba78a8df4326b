#!/bin/sh
# report --by FIELD: the report's rows grouped by a computed field of the
# configuration (each event in the group of its contact's value),
# conversions credited as in any grouping; a name that is neither a
# grouping nor a computed field is a usage error with did-you-mean.
. "$(dirname "$0")/lib.sh"
plan 6
cat >cfg.yaml <<'YAML'
event_types: [purchase]
computed:
  total_spent: "sum of total over purchase"
  buyer: "latest tier of purchase"
YAML
export NUDGE_CONFIG="$T/cfg.yaml" NUDGE_FILE_NOSYNC=1
printf 'email\na@example.com\nb@example.com\nc@example.com\nd@example.com\n' >c.csv
nudge import-list --list all c.csv 2>/dev/null
buy() { nudge event add --contact "$1@example.com" --type purchase --at "$2" --prop "total=$3" --prop "tier=$4" >/dev/null; }
buy a 2026-10-01T10:00:00Z 600 gold
buy b 2026-10-01T10:00:00Z 600 gold
buy c 2026-10-02T10:00:00Z 40 basic
printf 'Subject: hi\nFrom: shop@example.com\n\nhi\n' >m.txt
exits "a campaign to all four" 0 sh -c "nudge segment 'list \"all\"' |
	nudge send --now 2026-11-01T10:00:00Z -c nov -t m.txt --transport file://$T/out"
nudge event add --contact a@example.com --type opened --campaign nov --channel email --at 2026-11-01T11:00:00Z >/dev/null
buy c 2026-11-02T10:00:00Z 25 basic
exits "report --by total_spent" 0 nudge report --by total_spent --format tsv
is "a row per value (as of now: C's purchase after the message counts), in the order the groups started" \
	"$(cut -f1,2,3,6,12,15 .out)" "0	1	1	0	0	0.0
65	1	1	0	1	25.0
600	2	2	1	0	0.0"
is "--by a text field" "$(nudge report --by buyer --format csv | cut -d, -f1-3)" \
	"buyer,messages,contacts
,1,1
basic,1,1
gold,2,2"
exits "--by an unknown name" 64 nudge report --by totl_spent
like "names the closest" "$(head -n 1 .err)" \
	'--by: "totl_spent": expected campaign, step, channel, day, bounce, link, churn, variant or a computed field of the config; did you mean "total_spent"?'
done_testing
