#!/bin/sh
# nudge predict on the CDNOW sample recovers the published estimates, to
# three significant figures: BG/NBD from Fader, Hardie and Lee, "Counting
# Your Customers the Easy Way", Marketing Science 24(2) 2005, section 4
# (r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4), and
# Gamma-Gamma from Fader and Hardie, "The Gamma-Gamma Model of Monetary
# Value" (2013), whose estimates for CDNOW's 946 repeat buyers are
# p = 6.25, q = 3.74, gamma = 15.44 (the note's text, also the reference
# values of CLVTools' test_correctness_gg.R).  The data as the paper
# prepares them: purchases on the same day are one, time in weeks, the
# calibration period the 39 weeks from 1997-01-01, the hold-out the 39
# after.  Data: test/predict/README.
. "$(dirname "$0")/lib.sh"
plan 15

awk 'BEGIN { print "email,type,at,total" }
{ printf "c%s@cdnow.example,purchase,%s-%s-%s,%s\n", $1,
    substr($3, 1, 4), substr($3, 5, 2), substr($3, 7, 2), $5 }' \
	"$TESTDIR/predict/CDNOW_sample.txt" >cdnow.csv
ok "the 6,919 transactions import as purchase events" \
	nudge event import --create cdnow.csv
is "of 2,357 customers" "$(cat .err)" \
	"nudge-event: cdnow.csv: read 6919, recorded 6919, rejected 0, created 2357"

ok "nudge predict fits, holding out weeks 40 to 78" \
	nudge predict --now 1998-07-01 --holdout 39w --format tsv
cp .out fit.tsv
fig() { awk -F '\t' -v k="$1" '$1 == k { print $2 }' fit.tsv; }
sig3() { awk -v v="$1" 'BEGIN { printf "%.3g\n", v }'; }

is "the calibration period ends after 39 weeks" "$(fig calibration_end)" \
	1997-10-01T00:00:00Z
is "2,357 customers, 946 of them bought again within it" \
	"$(fig customers) $(fig repeat_buyers)" "2357 946"
diag "figure  nudge  published"
for pair in r=0.243 alpha=4.414 a=0.793 b=2.426 log_likelihood=-9582.4 \
    p=6.25 q=3.74 gamma=15.44; do
	k=${pair%%=*} want=${pair#*=}
	got=$(fig "$k")
	diag "$k  $got  $want"
	is "$k = $want to three significant figures" "$(sig3 "$got")" \
		"$(sig3 "$want")"
done
is "the log-likelihood to its published decimal" "$(fig log_likelihood)" \
	-9582.4
diag "hold-out repeat purchases: predicted $(fig holdout_predicted), actual $(fig holdout_actual)"
is "the hold-out: 39 weeks, the actual repeat purchases in them" \
	"$(fig holdout_weeks) $(fig holdout_actual)" "39 1882"
done_testing
