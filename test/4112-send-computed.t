#!/bin/sh
# send: a template names computed fields of the config (nudge-config(5)
# computed:) as {{NAME}}; a real send into the file transport renders
# each contact's own values, a field with no value takes its default;
# blocks' {{#if}} and :money take them as any field; the run reads them
# with the contact, no query per field.
. "$(dirname "$0")/lib.sh"
plan 11

export NUDGE_FILE_NOSYNC=1
cat >config.yaml <<'YAML'
currency: USD
computed:
  total_spent: "sum of total over purchase"
  last_product: "latest items[0].name of purchase within 30d"
YAML
export NUDGE_CONFIG="$T/config.yaml"
printf '%s\n' email,first_name ann@example.com,Ann bob@example.com,Bob \
	cy@example.com,Cy >c.csv
ok "contacts" nudge import-list --list news c.csv
NOW=1796083200 # 2026-12-01T00:00:00Z
D=86400
# ann: 40 + 2.5 = 42.5, latest in 30d a mug; bob: 100 40d ago (outside
# the 30d of last_product); cy: nothing
sql "INSERT INTO events (contact_id, type, at, props) VALUES
 (1, 'purchase', $NOW - 2*$D, '{\"total\":40,\"items\":[{\"name\":\"mug\"}]}'),
 (1, 'purchase', $NOW - 3*$D, '{\"total\":2.5,\"items\":[{\"name\":\"pen\"}]}'),
 (2, 'purchase', $NOW - 40*$D, '{\"total\":100,\"items\":[{\"name\":\"tea\"}]}');" ||
	exit 1
printf 'Subject: {{first_name}}, {{total_spent}} so far\n\nYour last: {{last_product|nothing yet}}\n' >t.txt
exits "a send" 0 sh -c "printf '1\n2\n3\n' | nudge send --now 2026-12-01 \
	-c c1 -t t.txt --from shop@example.com --transport file://$T/out"
is "three sent" "$(grep -c '	sent	' .out)" 3
body() { # body EMAIL: subject and the "Your last" line of the message to EMAIL
	_f=$(grep -l "^To: .*$1" "$T"/out/new/*)
	grep -e '^Subject:' -e '^Your last' "$_f" | tr -d '\r' | paste -sd '|'
}
is "ann's sum and latest item" "$(body ann@)" "Subject: Ann, 42.5 so far|Your last: mug"
is "bob's older purchase: a sum, no latest within 30d" "$(body bob@)" \
	"Subject: Bob, 100 so far|Your last: nothing yet"
is "cy: a sum of nothing is 0" "$(body cy@)" "Subject: Cy, 0 so far|Your last: nothing yet"

printf 'Subject: {{#if total_spent > 50}}VIP{{else}}Hi{{/if}}\n\n{{total_spent:money}}\n' >if.txt
exits "a block condition and a filter over a computed field" 0 sh -c \
	"printf '1\n2\n' | nudge send --now 2026-12-01 -c c3 -t if.txt --from shop@example.com --transport file://$T/out3"
is "each contact's branch" "$(grep -h '^Subject:' "$T"/out3/new/* | tr -d '\r' | sort | tr '\n' ' ')" \
	"Subject: Hi Subject: VIP "
is "and amount" "$(grep -h '^[$0-9]' "$T"/out3/new/* | tr -d '\r' | sort | tr '\n' ' ')" \
	"\$100.00 \$42.50 "

printf 'Subject: Hi\n\n{{total_spnt}}\n' >typo.txt
exits "a typo in a computed field is an unknown field" 65 sh -c \
	"echo 1 | nudge send --now 2026-12-01 -c c2 -t typo.txt --from shop@example.com --transport file://$T/out"
like "named with file:line:column" "$(tail -n 1 .err)" \
	'^nudge-send: typo.txt:3:3: unknown field "total_spnt"'
done_testing
