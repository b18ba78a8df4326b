#!/bin/sh
# make demo: the samples import, and every seed segment gives the answer
# worked out by hand from samples/contacts.csv and samples/events.csv.
. "$(dirname "$0")/lib.sh"
plan 14

NUDGE_DEMO_DIR="$T/demo" sh "$TOP/samples/demo.sh" >demo.out 2>demo.err
is "the demo runs to the end" "$?" 0
is "one sample row is rejected, with its reason; 15 and 18 keep their good address" \
	"$(cut -d, -f1 "$T/demo/rejects.csv" | tr '\n' ' ')" "line 17 "
like "the unknown contact's event is rejected" "$(cat demo.err)" \
	'events.csv:41: contact: no such contact: "ghost@example.com"'
# the ids of each table, in order
ids() {
	awk -v want="$1" '
		/^\$ nudge segment/ { n++; next }
		n == want && $1 ~ /^[0-9]+$/ { printf "%s ", $1 }' demo.out |
	    sed 's/\x1b\[[0-9;]*m//g'
}
sed 's/\x1b\[[0-9;]*m//g' demo.out >plain.out && mv plain.out demo.out
is "not opened within 7d" "$(ids 1)" "2 4 5 6 7 8 10 11 12 13 14 "
is "list vip or list newsletter" "$(ids 2)" "1 2 3 5 7 9 11 12 13 "
is "clicked in last 3 email campaigns" "$(ids 3)" "2 3 "
is "received push promo and not clicked it" "$(ids 4)" "1 7 9 "
is "facebook ad seen twice in 30 days" "$(ids 5)" "1 6 "
is "sales call within 14 days" "$(ids 6)" "4 "
is "not received in a day and not bought in two" "$(ids 7)" \
	"1 3 4 5 6 7 8 9 11 12 13 14 "
like "and the report: oct-news-4: 3 messages reached 3 contacts, all opened" "$(cat demo.out)" \
	'^oct-news-4 +3 +3 +0 +0 +3 +100\.0 '
is "the welcome campaign reached the 7 newsletter contacts" \
	"$(ls "$T/demo/outbox/new" | wc -l)" 7
like "too few purchases to predict from, in words" "$(cat demo.err)" \
	'nudge-predict: too few customers to predict from: 1 of 4 bought twice'
like "the best hour from the sample opens, and that it is a rough guess" \
	"$(grep '^best_hour ' demo.out) $(grep 'rough guess' demo.err)" \
	'^best_hour +08:00 nudge-predict: only 10 human opens and clicks: the best hours are a rough guess'
done_testing
