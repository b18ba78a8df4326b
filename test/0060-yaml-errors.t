#!/bin/sh
# Errors a person reads once: a mistake inside a folded (>-) or multi-line
# plain audience is reported at its own line and column, not at the
# scalar's start plus an offset; libyaml's syntax errors come in
# nudge's words, at the place to look.
. "$(dirname "$0")/lib.sh"
plan 20

printf 'Subject: x\n\nhi\n' >t.txt
campaign() { # campaign FILE AUDIENCE-LINES...
	f=$1; shift
	{ echo "name: c"; printf '%s\n' "$@"
	  printf 'steps:\n  - id: first\n    channel: email\n    template: t.txt\n'; } >"$f"
}

campaign folded.yaml 'audience: >-' '  list "newsletter"' \
	'  and not opened within 7d' '  and purchase within 2x'
exits "a bad folded audience is 65" 65 nudge trigger --check folded.yaml
is "at the line and column of the mistake" "$(cat .err)" \
	'nudge-trigger: folded.yaml:5:23: audience: expected a duration such as 7d after "within", got "2x"'

campaign comment.yaml 'audience: >-  # who may enter' '    list "newsletter" and' '    purchase within 2x'
exits "a bad folded audience after a comment is 65" 65 nudge trigger --check comment.yaml
is "at its line and column" "$(cat .err)" \
	'nudge-trigger: comment.yaml:4:21: audience: expected a duration such as 7d after "within", got "2x"'

campaign plain.yaml 'audience: list "newsletter"' '  and purchase within 2x'
exits "a bad plain audience over two lines is 65" 65 nudge trigger --check plain.yaml
is "at its line and column" "$(cat .err)" \
	'nudge-trigger: plain.yaml:3:23: audience: expected a duration such as 7d after "within", got "2x"'

campaign quoted.yaml "audience: 'purchase within 2x'"
exits "a bad quoted audience is 65" 65 nudge trigger --check quoted.yaml
is "inside the quotes" "$(cat .err)" \
	'nudge-trigger: quoted.yaml:2:28: audience: expected a duration such as 7d after "within", got "2x"'

campaign hebrew.yaml 'audience: >-' '  list "לקוחות" and' '  list "חדשים" and purchase within 2x'
exits "after Hebrew names" 65 nudge trigger --check hebrew.yaml
is "columns count characters" "$(cat .err)" \
	'nudge-trigger: hebrew.yaml:4:36: audience: expected a duration such as 7d after "within", got "2x"'

# names checked after loading: a step and a list named in folded text
{ echo "name: c"; echo "audience: purchase"
  printf 'steps:\n  - id: first\n    channel: email\n    template: t.txt\n'
  printf '  - id: second\n    channel: email\n    template: t.txt\n'
  printf '    after: 1d\n    if: >-\n      not clicked\n      step "frist"\n'; } >step.yaml
exits "a mistyped step in a folded if: is 65" 65 nudge trigger --check step.yaml
is "at its line and column" "$(cat .err)" \
	'nudge-trigger: step.yaml:13:12: steps[2]: if: no step "frist" in this campaign; did you mean "first"?'
printf 'email,lists\na@example.com,news\n' >c.csv
nudge import-list c.csv >/dev/null 2>&1
nudge event add --contact 1 --type purchase >/dev/null 2>&1
campaign list.yaml 'audience: >-' '  purchase within 2d and' '  list "newz"'
exits "an unknown list in a folded audience is 65" 65 nudge trigger --check list.yaml
is "at its line and column" "$(cat .err)" \
	'nudge-trigger: list.yaml:4:8: audience: no list "newz"; did you mean "news"?'

# libyaml's syntax errors in nudge's words
printf 'name: c\naudience: opened: within 7d\n' >colon.yaml
exits "a colon in a value is 65" 65 nudge trigger --check colon.yaml
is "said in nudge's words" "$(cat .err)" \
	"nudge-trigger: colon.yaml:2:17: unexpected ':' here: a value with \": \" in it must be quoted, and a key must be indented like the keys beside it"
printf 'name: "c\naudience: opened\n' >quote.yaml
exits "an unclosed quote is 65" 65 nudge trigger --check quote.yaml
is "named where the quote starts" "$(cat .err)" \
	"nudge-trigger: quote.yaml:1:7: this quoted value is never closed"
printf 'name: c\n\taudience: opened\n' >tab.yaml
exits "a tab is 65" 65 nudge trigger --check tab.yaml
is "a tab in the indentation" "$(cat .err)" \
	"nudge-trigger: tab.yaml:2:1: a tab in the indentation: indent with spaces"
done_testing
