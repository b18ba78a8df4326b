#!/bin/sh
# Policy on trigger lines: a frequency cap across campaigns spreads a
# catch-up over days instead of bursting; quiet hours hold messages (not
# claimed, offered again) until they end; a journey resumes after the
# machine was off, each step timed from the previous one's real send.
. "$(dirname "$0")/lib.sh"
plan 19
. "$TESTDIR/trigger/fixture.sh"
printf 'policy:\n  frequency_cap: {max: 1, per: 1d}\n' >cap.yaml
C="campaigns/ads-or-calls.yaml campaigns/clicked-recent.yaml campaigns/win-back.yaml"
capped() { NUDGE_CONFIG=$T/cap.yaml run "$@"; }

# --- a frequency cap of one message a day across three campaigns
is "day 0: Cy is due in two campaigns, Fay in three" "$(trig $DAY0 $C)" \
"3	ads-or-calls	email
6	ads-or-calls	email
4	clicked-recent	email
6	clicked-recent	email
3	win-back	email1
6	win-back	email1"
ok "day 0: trigger | send" capped $DAY0 $C
is "one message each; the others skipped by the cap" \
	"$(grep -v '	sent	' .sent; grep '	sent	' .sent | cut -f1,2)" \
"6	skipped	frequency cap: 1 in 1d	clicked-recent	email
3	skipped	frequency cap: 1 in 1d	win-back	email1
6	skipped	frequency cap: 1 in 1d	win-back	email1
3	sent
6	sent
4	sent"
is "a skip is not claimed: the next run offers them again" \
	"$(trig 2026-11-10T10:10:00Z $C)" \
"6	clicked-recent	email
3	win-back	email1
6	win-back	email1"
ok "day 0, ten minutes later" capped 2026-11-10T10:10:00Z $C
is "still capped: no burst" "$(cut -f2 .sent | sort | uniq -c | tr -s ' ')" \
	" 3 skipped"
ok "day 1" capped 2026-11-11T10:05:00Z $C
is "one more each" "$(cut -f1,2 .sent | sort)" "3	sent
6	sent
6	skipped"
ok "day 2" capped 2026-11-12T10:10:00Z $C
is "and the last one" "$(cut -f1,2 .sent)" "6	sent"

# --- quiet hours (waterfall.yaml: 21:00-08:00 Asia/Jerusalem, UTC+2)
W=campaigns/waterfall.yaml
ok "22:00 in Jerusalem: trigger | send" run 2026-11-10T20:00:00Z $W
is "every message is held, until 08:00 there (Cy, with no push id, has the email at once)" "$(sort -u -k2 .sent)" \
	"3	held	quiet hours 21:00-08:00 Asia/Jerusalem, until 2026-11-11T06:00:00Z	waterfall	email1
1	held	quiet hours 21:00-08:00 Asia/Jerusalem, until 2026-11-11T06:00:00Z	waterfall	push1"
is "held: nothing claimed" \
	"$(sql "SELECT count(*) FROM messages m JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'waterfall'")" 0
like "the summary says so" "$(cat .senderr)" "6 held for quiet hours"
ok "08:30 in Jerusalem" run 2026-11-11T06:30:00Z $W
is "the held messages go out" "$(cut -f1,2 .sent | tr '\n' ' ')" \
	"1	sent 2	sent 5	sent 7	sent 8	sent 3	sent "

# --- the machine was off for a week: each step at its own pace
is "a week later only the next step is due, not the whole journey" \
	"$(trig 2026-11-18T10:00:00Z $W)" \
"3	waterfall	sms1
1	waterfall	email1
2	waterfall	email1
5	waterfall	email1
7	waterfall	email1
8	waterfall	email1"
ok "sent" run 2026-11-18T10:00:00Z $W
is "the SMS waits three days from that email, not from the push (Bob has no phone)" \
	"$(trig 2026-11-18T10:10:00Z $W; echo -; trig 2026-11-21T10:00:00Z $W | cut -f1 | tr '\n' ' ')" \
	"-
1 5 7 8 "
done_testing
