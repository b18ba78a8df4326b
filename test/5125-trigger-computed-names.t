#!/bin/sh
# Computed fields join the known names: a near miss of one (not an attrs
# key any contact has) fails trigger --check with file:line:column and
# did-you-mean, and is a warning in segment; the field itself, and an
# attrs key no computed field is close to, pass.  The event types a
# computed field names are checked too (config.yaml declares purchase).
. "$(dirname "$0")/lib.sh"
plan 11
cat >config.yaml <<'YAML'
event_types: [purchase]
computed:
  total_spent: "sum of total over purchase"
YAML
export NUDGE_CONFIG="$T/config.yaml"
printf 'email,city\na@example.com,Haifa\n' >c.csv
nudge import-list --list newsletter c.csv 2>/dev/null
mkdir t
printf 'Subject: hi\n\nHi\n' >t/hi.txt
camp() { # camp NAME AUDIENCE
	{
		echo "audience: '$2'"
		echo "steps:"
		echo "  - {id: first, channel: email, template: t/hi.txt}"
	} >"$1.yaml"
}
camp typo 'list "newsletter" and totl_spent > 500'
exits "a near miss of a computed field fails --check" 65 \
	nudge trigger --check typo.yaml
is "at file:line:column, with the computed field it meant" "$(cat .err)" \
	'nudge-trigger: typo.yaml:1:34: audience: no computed field "totl_spent", nor an attrs key any contact has; did you mean "total_spent"?'
camp good 'list "newsletter" and total_spent > 500 and city = "Haifa"'
ok "the field itself and an attrs key pass" nudge trigger --check good.yaml
exits "segment: the typo is a warning" 0 nudge segment 'totl_spent > 500'
is "with the hint" "$(cat .err)" \
	'nudge-segment: warning: column 1: no computed field "totl_spent", nor an attrs key any contact has; did you mean "total_spent"?'
grep -v event_types config.yaml >undeclared.yaml
exits "an event type a computed field names is checked too" 65 \
	nudge trigger --config undeclared.yaml --check good.yaml
is "at the field that uses it" "$(cat .err)" \
	'nudge-trigger: good.yaml:1:34: audience: no event of type "purchase" (a type with no events yet can be declared in the config'"'"'s event_types)'
printf 'email,totl_spent\nb@example.com,7\n' >d.csv
nudge import-list d.csv 2>/dev/null
ok "an attrs key a contact has is no typo" nudge trigger --check typo.yaml
is "and segment says nothing" "$(nudge segment 'totl_spent > 5' 2>&1)" "2"
NUDGE_CONFIG=/dev/null
printf '' >empty.yaml
ok "without computed fields nothing is checked" \
	nudge trigger --config empty.yaml --check good.yaml
is "no warning" "$(nudge segment --config empty.yaml 'totl_spent > 5' 2>&1)" "2"
done_testing
