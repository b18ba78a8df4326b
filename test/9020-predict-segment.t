#!/bin/sh
# The figures of nudge predict are segment fields: compared as numbers,
# a contact without a prediction fails the comparison and passes its not,
# a string to compare with is an error naming the field.
. "$(dirname "$0")/lib.sh"
plan 8

nudge event import --create /dev/null 2>/dev/null
sql "INSERT INTO contacts (id, email, created_at, updated_at) VALUES
	(1, 'a@x.example', 0, 0), (2, 'b@x.example', 0, 0),
	(3, 'c@x.example', 0, 0), (4, 'd@x.example', 0, 0);
INSERT INTO predict_fits (id, fitted_at, type, calibration_end, customers,
	repeat_buyers, purchases, r, alpha, a, b, ll)
	VALUES (1, 0, 'purchase', 0, 3, 2, 6, 0.2, 4, 0.8, 2.4, -10);
INSERT INTO predictions VALUES (1, 1, 0.12, 0.88, 0.05, 40, 8.5),
	(2, 1, 0.95, 0.05, 1.4, 25, 120), (3, 1, 0.29, 0.71, 0.2, NULL, NULL);
INSERT INTO events (contact_id, type, at) VALUES (1, 'purchase', 0),
	(2, 'purchase', 0), (3, 'purchase', 0), (1, 'opened', 0)"

is "p_alive < 0.3" "$(nudge segment 'p_alive < 0.3' | tr '\n' ' ')" "1 3 "
is "not p_alive < 0.3: the unpredicted contact too" \
	"$(nudge segment 'not p_alive < 0.3' | tr '\n' ' ')" "2 4 "
is "churn_risk >= 0.7 and clv_365d > 5" \
	"$(nudge segment 'churn_risk >= 0.7 and clv_365d > 5' | tr '\n' ' ')" "1 "
is "a missing order value fails" \
	"$(nudge segment 'expected_order_value < 1000' | tr '\n' ' ')" "1 2 "
is "with an event predicate" \
	"$(nudge segment 'p_alive < 0.5 and opened' | tr '\n' ' ')" "1 "
is "expected_purchases_90d >= 1" \
	"$(nudge segment 'expected_purchases_90d >= 1')" 2
exits "a string is a usage error" 64 nudge segment 'p_alive < "low"'
is "naming the field" "$(head -1 .err)" \
	'nudge-segment: column 11: expected a number to compare p_alive with, got "\"low\""'
done_testing
