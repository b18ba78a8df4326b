#!/bin/sh
# The figures of nudge predict in templates: {{p_alive}}, {{churn_risk}},
# {{expected_purchases_90d}}, {{expected_order_value}}, {{clv_365d:money}}
# read in send's one contact query from the predictions table; a contact
# without a prediction gets the field's default; a misspelt one is refused;
# report --by churn groups the messages by the contacts' churn_risk band.
. "$(dirname "$0")/lib.sh"
plan 8
export NUDGE_FILE_NOSYNC=1

/usr/bin/python3 "$TESTDIR/predict/simulate.py" 400 7 0.8 6 0.6 3 5 4 20 \
	>sim.csv
ok "400 simulated customers" nudge event import --create sim.csv
ok "nudge predict" nudge predict --now 2026-01-05
printf 'email\nnobody@x.example\n' >new.csv
ok "a contact who never bought" nudge import-list new.csv
cat >t.txt <<'T'
Subject: For you
From: Shop <shop@example.com>

{{p_alive|none}} {{churn_risk|-}} {{expected_purchases_90d|-}} {{expected_order_value|-}} {{clv_365d:money|-}}
T
{ sql "SELECT contact_id FROM predictions ORDER BY p_alive LIMIT 3"
  sql "SELECT id FROM contacts WHERE email = 'nobody@x.example'"; } >ids
ok "send renders them" nudge send --campaign x --template t.txt \
	--transport "file://$T/out" --now 2026-01-05 <ids
got=$(for f in out/new/*; do tr -d '\r' <"$f" | grep -v '^$' | tail -1; done | sort)
is "each contact's figures, probabilities to 4 decimals, money to 2" "$got" \
	"$( { sql "SELECT printf('%.4f %.4f %.4f %.2f %.2f', p_alive, churn_risk,
	expected_purchases_90d, expected_order_value, clv_365d)
	FROM predictions ORDER BY p_alive LIMIT 3"
	echo "none - - - -"; } | sort)"
is "report --by churn: the messages by the contacts' churn_risk band" \
	"$(nudge report --campaign x --by churn -f tsv | cut -f1-3)" \
	"gone (70% and more)	3	3
no prediction	1	1"
printf 'Subject: x\nFrom: a@b.example\n\n{{p_alvie}}\n' >bad.txt
exits "a misspelt figure: 65" 65 nudge send --campaign y --template bad.txt \
	--transport "file://$T/out" --now 2026-01-05 <ids
like "names it" "$(cat .err)" 'unknown field "p_alvie"'
done_testing
