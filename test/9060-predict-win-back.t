#!/bin/sh
# campaigns/win-back-predicted.yaml over a store like the demo's with a
# purchase history (simulated from the models): nobody before nudge
# predict; after it, exactly the customers whose predictions say gone
# and worth it, at their best hour, the fixed-time share at once.
. "$(dirname "$0")/lib.sh"
plan 10
export NUDGE_FILE_NOSYNC=1
export NUDGE_CONFIG="$TOP/samples/config.yaml"
cp -R "$TOP/campaigns" campaigns

exits "the sample contacts (with their bad rows: 65)" 65 nudge import-list "$TOP/samples/contacts.csv"
exits "and their events (one of a stranger: 65)" 65 nudge event import "$TOP/samples/events.csv"
/usr/bin/python3 "$TESTDIR/predict/simulate.py" 600 11 0.8 6 0.6 3 5 4 20 \
	>sim.csv
ok "600 customers' purchases" nudge event import --create sim.csv
is "before nudge predict nobody is due" \
	"$(nudge trigger --now 2026-01-05T09:10:00Z campaigns/win-back-predicted.yaml)" ""
ok "trigger --check" nudge trigger --check campaigns/win-back-predicted.yaml
is "says the best hours have not been learnt" "$(cat .err)" \
	"nudge-trigger: campaigns/win-back-predicted.yaml: step email1 sends at each contact's best hour, but nudge predict hours has not run: every contact would get the window's first hour"
ok "nudge predict" nudge predict --now 2026-01-05
# consent: whether no record means yes is the config's; trigger says who
# can get email: the predictions decide who of them is in
want=$(sql "SELECT p.contact_id FROM predictions p JOIN contacts c ON
	c.id = p.contact_id WHERE p.p_alive < 0.3 AND p.expected_order_value > 50
	AND c.email IS NOT NULL ORDER BY 1")
diag "$(echo "$want" | wc -l) customers gone and worth it"
nudge trigger --now 2026-01-05T09:10:00Z campaigns/win-back-predicted.yaml \
	>due
is "at 09:10 (no best hours learnt: the window's first hour) they are due" \
	"$(cut -f1 due | sort -n)" "$want"
is "for the first step" "$(cut -f2,3 due | sort -u)" \
	"win-back-predicted	email1"
is "at 08:00, before the window, only the fixed-time tenth" \
	"$(nudge trigger --now 2026-01-05T08:00:00Z campaigns/win-back-predicted.yaml |
	wc -l | tr -d ' ')" \
	"$(nudge trigger --now 2026-01-05T21:00:00Z campaigns/win-back-predicted.yaml |
	wc -l | tr -d ' ')"
done_testing
