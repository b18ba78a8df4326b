#!/bin/sh
# report: messages and unique contacts, rates over contacts, per campaign,
# step, channel and day, conversions within the window, filters, and CSV
# safe for spreadsheets.
. "$(dirname "$0")/lib.sh"
plan 13

ok "a hand-built store" nudge event import --create "$TESTDIR/report/events.csv"

exits "report by campaign as CSV" 0 nudge report --format csv
# nov: 6 messages (a b c d by email, a b by push) to 4 contacts; failed e; bounced f; opened a (twice) b = 2;
# clicked a (email) and b (push) = 2; unsubscribed c; complained d;
# a bought 2 days after a sent message (in the 7-day window), b 19 days
# after (not); a's purchase came before the sms, so it does not count for
# it.  The sms campaign's formula-like name is neutralised; the open
# without a campaign counts nowhere.
sed 's/$/\r/' >want.csv <<'CSV'
campaign,messages,contacts,failed,bounced,opened,open_pct_contacts,clicked,click_pct_contacts,unsubscribed,complained,converted,conversion_pct_contacts,conversions,revenue,revenue_per_message,sms_segments,cost,revenue_per_cost
nov,6,4,1,1,2,50.0,2,50.0,1,1,1,25.0,1,0.0,0.0,0,,
"'=HYPERLINK(""http://evil.example"")",1,1,0,0,0,0.0,0,0.0,0,0,0,0.0,0,0.0,0.0,1,,
CSV
cmp_file "the figures, formula neutralised" want.csv .out

exits "by step" 0 nudge report --by step --format csv
sed 's/$/\r/' >want.csv <<'CSV'
campaign,step,messages,contacts,failed,bounced,opened,open_pct_contacts,clicked,click_pct_contacts,unsubscribed,complained,converted,conversion_pct_contacts,conversions,revenue,revenue_per_message,sms_segments,cost,revenue_per_cost
nov,welcome,4,4,1,1,2,50.0,1,25.0,1,1,1,25.0,1,0.0,0.0,0,,
nov,nudge,2,2,0,0,0,0.0,1,50.0,0,0,0,0.0,0,0.0,0.0,0,,
"'=HYPERLINK(""http://evil.example"")",,1,1,0,0,0,0.0,0,0.0,0,0,0,0.0,0,0.0,0.0,1,,
CSV
cmp_file "steps in the order they started" want.csv .out

exits "--window 30d takes b's late purchase" 0 \
	nudge report --campaign nov --window 30d --format json
is "as JSON" "$(cat .out)" \
'{"campaign":"nov","messages":6,"contacts":4,"failed":1,"bounced":1,"opened":2,"open_pct_contacts":50.0,"clicked":2,"click_pct_contacts":50.0,"unsubscribed":1,"complained":1,"converted":2,"conversion_pct_contacts":50.0,"conversions":2,"revenue":0.0,"revenue_per_message":0.0,"sms_segments":0,"cost":null,"revenue_per_cost":null}'

exits "by channel since Nov 4" 0 \
	nudge report --by channel --since 2026-11-04 --format tsv
is "only the later events" "$(cat .out)" "push	2	2	0	0	0	0.0	1	50.0	0	0	0	0.0	0	0.0	0.0	0		
sms	1	1	0	0	0	0.0	0	0.0	0	0	0	0.0	0	0.0	0.0	1		"

exits "a table by default" 0 nudge report --campaign nov --by day
is "aligned, a line per day" "$(cat .out)" \
"day         messages  contacts  failed  bounced  opened  open_pct_contacts  clicked  click_pct_contacts  unsubscribed  complained  converted  conversion_pct_contacts  conversions  revenue  revenue_per_message  sms_segments  cost  revenue_per_cost
----------  --------  --------  ------  -------  ------  -----------------  -------  ------------------  ------------  ----------  ---------  -----------------------  -----------  -------  -------------------  ------------  ----  ----------------
2026-11-01         4         4       1        1       1               25.0        1                25.0             1           1          1                     25.0            1      0.0                  0.0             0
2026-11-02         0         0       0        0       1                           0                                 0           0          0                                     0      0.0                                  0
2026-11-04         2         2       0        0       0                0.0        1                50.0             0           0          0                      0.0            0      0.0                  0.0             0"

exits "--by something else is 64" 64 nudge report --by week
exits "a missing store is 66" 66 nudge report --db "$T/none.db"
done_testing
