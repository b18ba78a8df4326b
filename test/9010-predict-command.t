#!/bin/sh
# nudge predict: recovers the parameters of purchases simulated from the
# models themselves (test/predict/simulate.py), records every fit and the
# customers' predictions, prints them per contact in every format, says
# "too few" instead of numbers (65), and its usage errors (64).
. "$(dirname "$0")/lib.sh"
plan 32

exits "no store is 66" 66 nudge predict
sql "SELECT 1" >/dev/null
nudge event import --create /dev/null 2>/dev/null

# -- too little data: no numbers, nothing recorded
printf 'email,type,at,total\n' >few.csv
for i in 1 2 3 4 5 6 7 8 9 10; do
	printf 'f%s@x.example,purchase,2025-03-0%s,10\n' "$i" "$((i % 9 + 1))"
	printf 'f%s@x.example,purchase,2025-06-0%s,12\n' "$i" "$((i % 9 + 1))"
done >>few.csv
ok "ten customers who bought twice" nudge event import --create few.csv
exits "too few to fit: 65" 65 nudge predict --now 2026-01-01
is "says so, in words" "$(cat .err)" \
	'nudge-predict: too few customers to predict from: 10 of 10 bought twice ("purchase" events), at least 50 needed'
is "prints no numbers" "$(cat .out)" ""
is "records nothing" "$(sql 'SELECT count(*) FROM predict_fits')" 0
exits "another type with no events at all: 65" 65 nudge predict -t signup
like "says so" "$(cat .err)" "0 of 0 bought twice .\"signup\" events."

# -- purchases simulated from the models with known parameters
/usr/bin/python3 "$TESTDIR/predict/simulate.py" 4000 7 0.8 6 0.6 3 5 4 20 \
	>sim.csv
ok "4,000 simulated customers import" nudge event import --create sim.csv
ok "nudge predict fits them" nudge predict --now 2026-01-05 --format tsv
cp .out fit.tsv
fig() { awk -F '\t' -v k="$1" '$1 == k { print $2 }' fit.tsv; }
# within 20%: 4,000 customers estimate b and gamma to about 10%
near() { awk -v g="$1" -v w="$2" 'BEGIN { exit !(g > 0.8 * w && g < 1.2 * w) }'; }
diag "figure  fitted  simulated"
for pair in r=0.8 alpha=6 a=0.6 b=3 p=5 q=4 gamma=20; do
	k=${pair%%=*} want=${pair#*=}
	diag "$k  $(fig "$k")  $want"
	ok "$k recovered within 20% of $want" near "$(fig "$k")" "$want"
done
is "the fit is recorded with its data" "$(sql 'SELECT type,
	datetime(calibration_end, "unixepoch"), customers, holdout_end IS NULL,
	round(r, 4) FROM predict_fits')" \
	"purchase	2026-01-05 00:00:00	4010	1	$(fig r)"
is "one prediction per customer, churn_risk = 1 - p_alive" \
	"$(sql 'SELECT count(*), sum(abs(p_alive + churn_risk - 1) < 1e-12),
	sum(p_alive BETWEEN 0 AND 1), sum(clv_365d >= 0) FROM predictions')" \
	"4010	4010	4010	4010"

# -- per contact
ok "--contacts --format csv" nudge predict --now 2026-01-05 --contacts \
	--format csv --horizon 30d
is "a header naming the horizon" "$(head -1 .out | tr -d '\r')" \
	"contact,purchases,p_alive,churn_risk,expected_purchases_30d,expected_order_value,clv_365d"
is "a row per customer" "$(($(wc -l <.out) - 1))" 4010
like "a summary on stderr" "$(cat .err)" \
	"^nudge-predict: 4010 customers, [0-9]* bought twice; log-likelihood -"
id=$(sql "SELECT id FROM contacts WHERE email = 's00000@sim.example'")
is "the same figures as the store's" \
	"$(nudge predict --now 2026-01-05 -c -f tsv --horizon 90d 2>/dev/null |
	   awk -F '\t' -v id="$id" '$1 == id { print $3, $4, $5 }')" \
	"$(sql "SELECT printf('%.4f %.4f %.3f', p_alive, churn_risk,
	   expected_purchases_90d) FROM predictions WHERE contact_id = $id")"
ok "json lines" nudge predict --now 2026-01-05 -c -f json
like "with numbers as numbers" "$(head -1 .out)" \
	'^{"contact":[0-9]*,"purchases":[0-9]*,"p_alive":0\.[0-9]*,'

# -- hold-out: compared, predictions kept
n=$(sql 'SELECT count(*) FROM predictions')
ok "--holdout 13w" nudge predict --now 2026-01-05 --holdout 13w -f tsv
is "reports predicted against actual" \
	"$(awk -F '\t' '/^holdout_/ { print $1 }' .out | tr '\n' ' ')" \
	"holdout_weeks holdout_predicted holdout_actual "
is "and leaves the predictions as they were" \
	"$(sql 'SELECT count(*), max(fit_id) FROM predictions')" "$n	4"

# -- usage
exits "--holdout 0s is a usage error" 64 nudge predict --holdout 0s
exits "--discount abc is a usage error" 64 nudge predict --discount abc
exits "--contacts with --holdout is a usage error" 64 \
	nudge predict -c --holdout 4w
done_testing
