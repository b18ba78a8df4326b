#!/bin/sh
# send: a template field that no contact can have (not a column, not an
# attrs key any contact has) is an error before anything is sent — with
# or without a default — naming file:line:column and the closest field;
# a run in which every contact was skipped for one reason exits 65 and
# says so in one line; the policy's own skips do not count.
. "$(dirname "$0")/lib.sh"
plan 28

export NUDGE_FILE_NOSYNC=1
printf '%s\n' 'email,first_name,city,coupon,lists' \
	'ann@example.com,Ann,Haifa,,news' 'bob@example.com,Bob,,,news' \
	'cy@example.com,Cy,,SAVE10,vip' >c.csv
ok "contacts" nudge import-list c.csv
now=2026-11-02T09:00:00Z
X="--now $now --from shop@example.com --transport file://$T/out"
sendt() { # sendt TEMPLATE [send options]: list "news" through send
	_t=$1; shift
	nudge segment 'list "news"' >ids
	nudge send $X -c c1 -t "$_t" "$@" <ids
}

printf 'Subject: Hi\n\nHello {{frist_name}},\nbye\n' >typo.txt
exits "a typo in a field name" 65 sendt typo.txt
is "names file:line:column and the field it meant" "$(tail -n 1 .err)" \
	'nudge-send: typo.txt:3:9: unknown field "frist_name": not a contact column, nor an attrs key any contact has; did you mean "first_name"?'
is "nothing sent, nothing claimed" \
	"$(ls out 2>/dev/null | wc -l) $(sql 'SELECT count(*) FROM messages') $(cat .out)" "0 0 "

printf 'Subject: Hi {{frist_name|friend}}\n\nHello\n' >typo-def.txt
exits "with a default as well" 65 sendt typo-def.txt
like "the header's column" "$(tail -n 1 .err)" \
	'^nudge-send: typo-def.txt:1:15: unknown field "frist_name"'
exits "in a dry run as well" 65 sendt typo-def.txt -n
is "a dry run renders nothing" "$(cat .out)" ""

printf 'Subject: Hi\n\n{{attrs.citty|x}}\n' >attr.txt
exits "an attrs key no contact has" 65 sendt attr.txt
like "the attrs key it meant" "$(tail -n 1 .err)" \
	'attr.txt:3:3: unknown field "attrs.citty": .*; did you mean "attrs.city"\?$'
printf 'Subject: Hi\n\n<p>{{city}}</p>\n' >bare.txt
exits "an attrs key without attrs." 65 sendt bare.txt
like "is shown with it" "$(tail -n 1 .err)" \
	'bare.txt:3:6: unknown field "city": .*; did you mean "attrs.city"\?$'
printf 'Subject: Hi\n\nHi\n' >sib.txt
printf '<p>{{nosuchfieldatall}}</p>\n' >sib.html
exits "a sibling HTML file" 65 sendt sib.txt
like "is named too, with no hint when nothing is close" "$(tail -n 1 .err)" \
	'sib.txt \(HTML\):1:6: unknown field "nosuchfieldatall": not a contact column, nor an attrs key any contact has$'

printf 'Subject: Your coupon {{attrs.coupon}}\n\n{{id}} {{email}} {{unsubscribe_url|}}\n' >coupon.txt
exits "a known attrs key that the audience lacks: every contact skipped" 65 \
	sendt coupon.txt
is "each says why" "$(cut -f2,3 .out | sort -u)" \
	'skipped	no value for field "attrs.coupon" and no default'
is "and the run in one line" "$(tail -n 1 .err)" \
	'nudge-send: every contact skipped (2), all for one reason: template: no value for field "attrs.coupon" and no default'
exits "one contact who has it: sent, the rest skipped, exit 0" 0 sh -c \
	"printf '3\n1\n' | nudge send $X -c c2 -t coupon.txt"

printf 'Subject: Hi {{first_name}}\n\nHi\n' >ok.txt
nudge event add --contact ann@example.com --type unsubscribed --channel email \
	--at 2026-11-01T00:00:00Z >/dev/null
nudge event add --contact bob@example.com --type unsubscribed --channel email \
	--at 2026-11-01T00:00:00Z >/dev/null
exits "everyone unsubscribed: the policy's doing, exit 0" 0 sendt ok.txt
is "both skipped" "$(cut -f2 .out | sort | uniq -c | tr -s ' ')" " 2 skipped"

is "import-list keeps the attrs keys contacts have, not a blank column" \
	"$(nudge import-list c.csv >/dev/null 2>&1; printf 'email,blank\nann@example.com,\n' |
	    nudge import-list - 2>/dev/null; sql 'SELECT key FROM attr_keys' | tr '\n' ' ')" \
	"city coupon "
sql "DROP TABLE attr_keys; ALTER TABLE consent DROP COLUMN proof; ALTER TABLE contacts DROP COLUMN sources; PRAGMA user_version = 3"
exits "a version 3 store: migrated, its keys found in the contacts" 0 sh -c \
	"echo 3 | nudge send $X -c c3 -t coupon.txt"
is "into attr_keys" "$(sql 'SELECT key FROM attr_keys' | tr '\n' ' ')" "city coupon "
sql "DELETE FROM attr_keys WHERE key = 'coupon'"
exits "a key missing from attr_keys that a contact has: still known" 0 sh -c \
	"echo 3 | nudge send $X -c c4 -t coupon.txt"

mkdir -p camp/templates
printf 'Subject: Hi\n\nHi {{first_nam}}\n' >camp/templates/t.txt
printf 'name: typo\naudience: list "news"\nsteps:\n  - id: one\n    channel: email\n    template: templates/t.txt\n' >camp/typo.yaml
exits "a trigger line's step template with a typo" 65 sh -c \
	"printf '1\ttypo\tone\n' | nudge send $X --campaigns camp"
like "is refused the same way" "$(tail -n 1 .err)" \
	'camp/templates/t.txt:3:6: unknown field "first_nam": .*did you mean "first_name"\?$'
exits "trigger --check refuses it too, with the store" 65 \
	nudge trigger --check camp/typo.yaml
is "in the same words" "$(tail -n 1 .err)" \
	'nudge-trigger: camp/templates/t.txt:3:6: unknown field "first_nam": not a contact column, nor an attrs key any contact has; did you mean "first_name"?'
done_testing
