#!/bin/sh
# Unknown names in a segment (issue 13 item 9): an event type, list,
# campaign, step or channel that nudge does not define, the config does
# not declare and the store does not hold is a typo that would select
# nobody (or everybody after `not`).  segment warns on stderr with the
# closest known name, and still prints what it selects and exits 0.
. "$(dirname "$0")/lib.sh"
plan 24
printf 'email\na@example.com\nb@example.com\nc@example.com\n' >c.csv
nudge import-list --list newsletter c.csv 2>/dev/null
cat >ev.csv <<'CSV'
contact,type,channel,campaign,step,at
a@example.com,opened,email,promo,email1,2026-10-30T12:00:00Z
b@example.com,clicked,email,promo,email1,2026-10-30T12:00:00Z
b@example.com,ad_view,,,,2026-10-30T12:00:00Z
CSV
nudge event import ev.csv 2>/dev/null
N='--now 2026-11-01T00:00:00Z'

exits "not opend within 7d exits 0, as before" 0 nudge segment $N 'not opend within 7d'
is "and selects every contact, as the expression says" "$(cat .out)" "1
2
3"
is "with a warning and the closest event type" "$(cat .err)" \
	'nudge-segment: warning: column 5: no event of type "opend"; did you mean "opened"?'

exits "list \"Newsletter\" exits 0" 0 nudge segment 'list "Newsletter"'
is "selects nobody" "$(cat .out)" ""
is "lists compare as stored: the hint says so" "$(cat .err)" \
	'nudge-segment: warning: column 6: list "Newsletter" is unknown; there is "newsletter" (list names are case-sensitive)'

exits "a step the campaign never had" 0 nudge segment 'clicked campaign "promo" step "nope"'
is "is named with its campaign" "$(cat .err)" \
	'nudge-segment: warning: column 31: campaign "promo" has no step "nope"'
nudge segment 'clicked campaign "promo" step "emial1"' >/dev/null 2>.err
is "a near miss gets a hint" "$(cat .err)" \
	'nudge-segment: warning: column 31: campaign "promo" has no step "emial1"; did you mean "email1"?'

exits "campaign \"typo\"" 0 nudge segment 'opened campaign "typo"'
is "is unknown" "$(cat .err)" \
	'nudge-segment: warning: column 17: no campaign "typo"'
nudge segment 'opened campaign "prommo"' >/dev/null 2>.err
is "campaign \"prommo\": did you mean" "$(cat .err)" \
	'nudge-segment: warning: column 17: no campaign "prommo"; did you mean "promo"?'

nudge segment 'opened channel emial' >/dev/null 2>.err
is "a channel" "$(cat .err)" \
	'nudge-segment: warning: column 16: no channel "emial"; did you mean "email"?'

nudge segment 'clicked in last 2 sms campaigns or clicked in last 2 smss campaigns' >/dev/null 2>.err
is "the channel of in last N CHANNEL campaigns" "$(cat .err)" \
	'nudge-segment: warning: column 54: no channel "smss"; did you mean "sms"?'

nudge segment 'opend or opend within 2d or purchse' >/dev/null 2>.err
is "each unknown name once, in the order written" "$(cat .err)" \
	'nudge-segment: warning: column 1: no event of type "opend"; did you mean "opened"?
nudge-segment: warning: column 29: no event of type "purchse" (a type with no events yet can be declared in the config'"'"'s event_types)'

exits "known names" 0 nudge segment \
	'opened campaign "promo" step "email1" or list "newsletter" or ad_view channel email or received or unsubscribed'
is "warn about nothing" "$(cat .err)" ""

cat >cfg.yaml <<'YAML'
event_types: [purchase, ad_click]
YAML
nudge segment --config cfg.yaml 'purchase within 2d or ad_clik' >/dev/null 2>.err
is "event types the config declares are known, and hinted" "$(cat .err)" \
	'nudge-segment: warning: column 23: no event of type "ad_clik"; did you mean "ad_click"?'

nudge segment 'ad_view channel facebook' >/dev/null 2>.err
is "a channel beyond nudge's" "$(cat .err)" \
	"nudge-segment: warning: column 17: no channel \"facebook\" (nudge's own: email, sms or push; others can be declared in the config's event_channels)"
printf 'event_channels: [facebook, web]\n' >>cfg.yaml
exits "is known when the config declares it" 0 nudge segment --config cfg.yaml 'ad_view channel facebook'
is "no warning" "$(cat .err)" ""

ok "a saved segment with a typo is saved" nudge segment --save typo 'opend within 7d'
nudge segment 'list "newsletter" and @typo' >/dev/null 2>.err
is "and its names are checked where it is used, at the @name" "$(cat .err)" \
	'nudge-segment: warning: column 23: no event of type "opend"; did you mean "opened"?'

# distinct event types come from a skip-scan of events_type_at: one seek
# a type, not a read of every event
sql "EXPLAIN QUERY PLAN WITH RECURSIVE t(x) AS (
 SELECT (SELECT type FROM events ORDER BY type LIMIT 1) UNION ALL
 SELECT (SELECT type FROM events WHERE type > t.x ORDER BY type LIMIT 1)
 FROM t WHERE t.x IS NOT NULL) SELECT x FROM t WHERE x IS NOT NULL" >plan
like "the hint's event types read the type index" "$(cat plan)" \
	'SEARCH events USING COVERING INDEX events_type_at \(type>\?\)'
done_testing
