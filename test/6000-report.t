#!/bin/sh
# report: unique contacts and rates per campaign, step, channel and day,
# conversions within the window, filters, and CSV safe for spreadsheets.
. "$(dirname "$0")/lib.sh"
plan 13

ok "a hand-built store" nudge event import --create "$TESTDIR/report/events.csv"

exits "report by campaign as CSV" 0 nudge report --format csv
# nov: sent a b c d (4); failed e; bounced f; opened a (twice) b = 2;
# clicked a (email) and b (push) = 2; unsubscribed c; complained d;
# a bought 2 days after a sent message (in the 7-day window), b 19 days
# after (not); a's purchase came before the sms, so it does not count for
# it.  The sms campaign's formula-like name is neutralised; the open
# without a campaign counts nowhere.
sed 's/$/\r/' >want.csv <<'CSV'
campaign,sent,failed,bounced,opened,open_pct,clicked,click_pct,unsubscribed,complained,conversions,conversion_pct,sms_segments
nov,4,1,1,2,50.0,2,50.0,1,1,1,25.0,0
"'=HYPERLINK(""http://evil.example"")",1,0,0,0,0.0,0,0.0,0,0,0,0.0,1
CSV
cmp_file "the figures, formula neutralised" want.csv .out

exits "by step" 0 nudge report --by step --format csv
sed 's/$/\r/' >want.csv <<'CSV'
campaign,step,sent,failed,bounced,opened,open_pct,clicked,click_pct,unsubscribed,complained,conversions,conversion_pct,sms_segments
nov,welcome,4,1,1,2,50.0,1,25.0,1,1,1,25.0,0
nov,nudge,2,0,0,0,0.0,1,50.0,0,0,0,0.0,0
"'=HYPERLINK(""http://evil.example"")",,1,0,0,0,0.0,0,0.0,0,0,0,0.0,1
CSV
cmp_file "steps in the order they started" want.csv .out

exits "--window 30d takes b's late purchase" 0 \
	nudge report --campaign nov --window 30d --format json
is "as JSON" "$(cat .out)" \
'{"campaign":"nov","sent":4,"failed":1,"bounced":1,"opened":2,"open_pct":50.0,"clicked":2,"click_pct":50.0,"unsubscribed":1,"complained":1,"conversions":2,"conversion_pct":50.0,"sms_segments":0}'

exits "by channel since Nov 4" 0 \
	nudge report --by channel --since 2026-11-04 --format tsv
is "only the later events" "$(cat .out)" "push	2	0	0	0	0.0	1	50.0	0	0	0	0.0	0
sms	1	0	0	0	0.0	0	0.0	0	0	0	0.0	1"

exits "a table by default" 0 nudge report --campaign nov --by day
is "aligned, a line per day" "$(cat .out)" \
"day         sent  failed  bounced  opened  open_pct  clicked  click_pct  unsubscribed  complained  conversions  conversion_pct  sms_segments
----------  ----  ------  -------  ------  --------  -------  ---------  ------------  ----------  -----------  --------------  ------------
2026-11-01     4       1        1       1      25.0        1       25.0             1           1            1            25.0             0
2026-11-02     0       0        0       1                  0                        0           0            0                             0
2026-11-04     2       0        0       0       0.0        1       50.0             0           0            0             0.0             0"

exits "--by something else is 64" 64 nudge report --by week
exits "a missing store is 66" 66 nudge report --db "$T/none.db"
done_testing
