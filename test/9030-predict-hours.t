#!/bin/sh
# nudge predict hours: each contact's best hour and weekday from its human
# opens and clicks (image proxies' opens left out) blended with the list's
# pattern, as computed independently by test/predict/hours.py from the
# formula of nudge-predict(1), in a time zone; recorded, safe to run again;
# says in words when there is nothing to learn from.
. "$(dirname "$0")/lib.sh"
plan 19

nudge event import --create /dev/null 2>/dev/null
exits "no opens at all: 65" 65 nudge predict hours
is "says so in words" "$(cat .err)" \
	"nudge-predict: no human opens or clicks (image proxies' opens left out): nothing to learn the best hours from"
is "records nothing" "$(sql 'SELECT count(*) FROM send_hour_fits')" 0

/usr/bin/python3 "$TESTDIR/predict/hours.py" events 7 Asia/Jerusalem 5 \
	>events.csv
ok "opens and clicks of known hours" nudge event import --create events.csv
ok "nudge predict hours --timezone Asia/Jerusalem" nudge predict hours \
	--now 2026-12-01 --timezone Asia/Jerusalem --format tsv
is "the list's best hour and weekday" \
	"$(awk -F '\t' '$1 == "best_hour" || $1 == "best_weekday" { print $2 }' .out |
	paste - -)" "$(cat list.tsv)"
is "counted: the contacts with a human open or click and their events" \
	"$(awk -F '\t' '$1 == "contacts" || $1 == "events" { print $2 }' .out |
	paste - -)" \
	"$(wc -l <expected.tsv | tr -d ' ')	$(awk -F '\t' '{ n += $2 } END { print n }' expected.tsv)"
ok "--contacts" nudge predict hours --now 2026-12-01 \
	--timezone Asia/Jerusalem --contacts --format tsv
sql "SELECT id, email FROM contacts" | sort >ids
is "each contact's events, best hour and weekday as computed independently" \
	"$(sort .out | join -t '	' ids - | cut -f2-5 | sort)" \
	"$(cat expected.tsv)"
is "a contact whose opens all came from image proxies has none" \
	"$(grep -c proxied .out)" 0
is "stored per contact, in the same zone" \
	"$(sql "SELECT c.email, h.events, printf('%02d:00', h.best_hour)
	FROM send_hours h JOIN contacts c ON c.id = h.contact_id ORDER BY 1")" \
	"$(cut -f1-3 expected.tsv)"
id=$(sql "SELECT id FROM contacts WHERE email = '$(head -1 expected.tsv | cut -f1)'")
is "contact show tells the contact's best hour" \
	"$(nudge contact show "$id" | sed -n '/^best_hour:/,/^$/p' | sed -n 4p |
	awk '{ print $1, $2, $3, $4 }')" \
	"$(head -1 expected.tsv | awk -F '\t' '{ print $3, $4, $2 }') Asia/Jerusalem"
is "every fit is kept, the contacts' rows replaced" \
	"$(sql "SELECT count(*), group_concat(DISTINCT timezone) FROM send_hour_fits;
	SELECT count(*) FROM send_hours")" "2	Asia/Jerusalem
$(wc -l <expected.tsv | tr -d ' ')"
# the zone: the config's report timezone when --timezone is not given
printf 'report:\n  timezone: Asia/Jerusalem\n' >config.yaml
nudge predict hours --config config.yaml --now 2026-12-01 -c -f tsv >cfg \
	2>/dev/null
is "the config's report zone" \
	"$(sort cfg | join -t '	' ids - | cut -f2-5 | sort)" \
	"$(cat expected.tsv)"
nudge predict hours --now 2026-12-01 -c -f tsv >utc 2>/dev/null
is "else UTC, which moves the hours" \
	"$(cmp -s utc cfg && echo same || echo differs) $(sql 'SELECT timezone
	FROM send_hour_fits ORDER BY id DESC LIMIT 1')" "differs UTC"
# another prior weight: a contact with one event follows the list more
/usr/bin/python3 "$TESTDIR/predict/hours.py" events 7 Asia/Jerusalem 50 \
	>/dev/null
nudge predict hours --now 2026-12-01 --timezone Asia/Jerusalem --prior 50 \
	-c -f tsv >p50 2>/dev/null
is "--prior 50 as computed independently" \
	"$(sort p50 | join -t '	' ids - | cut -f2-5 | sort)" "$(cat expected.tsv)"
exits "--prior with the purchase models: 64" 64 nudge predict --prior 3
# the migration: from the store before it, and again on a store that has it
v=$(sql 'PRAGMA user_version')
sql "PRAGMA user_version = $((v - 1))"
ok "the newest migration runs again on a store that has it" \
	nudge predict hours --now 2026-12-01 --timezone Asia/Jerusalem
# 9 -> 10 makes the best hour's tables (lib/store.c)
sql "DROP TABLE send_hours; DROP TABLE send_hour_fits; PRAGMA user_version = 9"
is "and makes the tables on the store before it" \
	"$(nudge predict hours --now 2026-12-01 -f tsv >/dev/null 2>&1; sql "PRAGMA user_version;
	SELECT count(*) FROM send_hour_fits")" "$v
1"
done_testing
