#!/bin/sh
# Unknown names in campaign files (issue 13 item 9): an event type, list,
# campaign, step or channel that nudge does not define, the config does
# not declare and the store does not hold fails trigger --check and every
# trigger run: exit 65, file:line:column, the closest known name.  A step
# reference to a missing step, or in a step's condition to the step
# itself, is refused whether or not there is a store.
. "$(dirname "$0")/lib.sh"
plan 33
printf 'email\na@example.com\nb@example.com\n' >c.csv
nudge import-list --list newsletter c.csv 2>/dev/null
cat >ev.csv <<'CSV'
contact,type,channel,campaign,step,at
a@example.com,opened,email,promo,email1,2026-10-30T12:00:00Z
b@example.com,clicked,email,promo,email1,2026-10-30T12:00:00Z
CSV
nudge event import ev.csv 2>/dev/null
mkdir t
printf 'Subject: hi\n\nHi\n' >t/hi.txt
# camp NAME AUDIENCE [IF]: a campaign file NAME.yaml of two steps, the
# second with IF as its if:
camp() {
	{
		echo "audience: '$2'"
		echo "steps:"
		echo "  - {id: first, channel: email, template: t/hi.txt}"
		echo "  - id: second"
		echo "    channel: email"
		echo "    template: t/hi.txt"
		[ -n "${3:-}" ] && echo "    if: '$3'"
	} >"$1.yaml"
}
N='--now 2026-11-01T00:00:00Z'

camp opend 'not opend within 7d'
exits "not opend within 7d fails --check" 65 nudge trigger --check opend.yaml
is "at file:line:column, with the closest event type" "$(cat .err)" \
	'nudge-trigger: opend.yaml:1:16: audience: no event of type "opend"; did you mean "opened"?'
exits "and a trigger run" 65 nudge trigger $N opend.yaml
is "the same error" "$(cat .err)" \
	'nudge-trigger: opend.yaml:1:16: audience: no event of type "opend"; did you mean "opened"?'
is "before anything is due" "$(cat .out)" ""

camp list 'list "Newsletter"'
exits "list \"Newsletter\" fails" 65 nudge trigger --check list.yaml
is "lists compare as stored, and the hint says so" "$(cat .err)" \
	'nudge-trigger: list.yaml:1:17: audience: list "Newsletter" is unknown; there is "newsletter" (list names are case-sensitive)'

camp nope 'list "newsletter"' 'not clicked campaign "promo" step "nope"'
exits "a step campaign \"promo\" never had fails" 65 nudge trigger --check nope.yaml
is "named in the step's if:" "$(cat .err)" \
	'nudge-trigger: nope.yaml:7:44: steps[2]: if: campaign "promo" has no step "nope"'

camp typocamp 'clicked campaign "typo"'
exits "campaign \"typo\" fails" 65 nudge trigger --check typocamp.yaml
is "no campaign \"typo\"" "$(cat .err)" \
	'nudge-trigger: typocamp.yaml:1:29: audience: no campaign "typo"'

camp chan 'opened channel emial'
exits "an unknown channel fails" 65 nudge trigger --check chan.yaml
is "with the hint" "$(cat .err)" \
	'nudge-trigger: chan.yaml:1:27: audience: no channel "emial"; did you mean "email"?'

camp self 'list "newsletter"' 'not clicked step "second"'
exits "a step whose if: names itself fails" 65 nudge trigger --check self.yaml
is "and says why" "$(cat .err)" \
	'nudge-trigger: self.yaml:7:27: steps[2]: if: step "second" names itself: its events cannot exist before it is sent'

camp missing 'list "newsletter"' 'not clicked step "frist"'
exits "a step that does not exist fails" 65 nudge trigger --check missing.yaml
is "with the closest step of the campaign" "$(cat .err)" \
	'nudge-trigger: missing.yaml:7:27: steps[2]: if: no step "frist" in this campaign; did you mean "first"?'

camp good 'list "newsletter" and not clicked campaign "good"' \
	'not opened step "first" and not clicked campaign "promo" step "email1" and not clicked campaign "other" step "second"'
camp other 'list "newsletter"'
exits "known names pass, those of the campaigns given before their first send among them" 0 \
	nudge trigger --check good.yaml other.yaml
exits "and run" 0 nudge trigger $N good.yaml other.yaml
is "what is due" "$(cut -f1-3 .out)" "1	good	first
2	good	first
1	other	first
2	other	first"

camp decl 'ad_click within 7d or not purchase within 2d'
exits "a business event type with no event yet fails" 65 nudge trigger --check decl.yaml
is "and says how to declare it" "$(cat .err)" \
	"nudge-trigger: decl.yaml:1:12: audience: no event of type \"ad_click\" (a type with no events yet can be declared in the config's event_types)"
printf 'event_types: [ad_click, purchase]\n' >cfg.yaml
exits "declared in the config, it is known with no event in the store" 0 \
	nudge trigger --config cfg.yaml --check decl.yaml
exits "for a run too" 0 nudge trigger --config cfg.yaml $N decl.yaml

camp excl 'list "newsletter"'
printf 'policy:\n  exclude: purchse within 2d\n' >>excl.yaml
exits "a typo in a campaign's exclusion segment, which would exclude nobody, fails" 65 \
	nudge trigger --config cfg.yaml --check excl.yaml
is "at its place" "$(cat .err)" \
	'nudge-trigger: excl.yaml:8:12: policy: exclude: no event of type "purchse"; did you mean "purchase"?'
printf 'policy:\n  exclude: "clicked campaign \\"prommo\\""\n' >>cfg.yaml
exits "so does one in the config's" 65 nudge trigger --config cfg.yaml $N decl.yaml
is "naming the config file" "$(cat .err)" \
	'nudge-trigger: cfg.yaml:3:30: policy: exclude: no campaign "prommo"; did you mean "promo"?'

# without a store --check can still catch what needs none
export NUDGE_DB="$T/none.db"
exits "no store: a missing step still fails" 65 nudge trigger --check missing.yaml
exits "a near miss of an event type nudge defines too" 65 nudge trigger --check opend.yaml
exits "a list only a store could know passes" 0 nudge trigger --check list.yaml
is "with a note that it was not checked" "$(cat .err)" \
	"nudge-trigger: note: no store ($T/none.db: No such file or directory): 1 name only a store could know (lists, campaigns, event types) not checked"
ok "and no store is made" test ! -e "$T/none.db"
done_testing
