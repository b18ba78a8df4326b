#!/bin/sh
# send during the policy's quiet hours: a dry run renders every message
# and marks those that would be held (it used to answer `held` for all,
# showing nothing); a one-off blast (-c) is held and says truly what
# happens next: nothing sends it but the same command run again after
# the quiet hours, which exit 75 asks cron to do.  With --now, and at
# the real time with quiet hours around it.
. "$(dirname "$0")/lib.sh"
plan 20
export NUDGE_FILE_NOSYNC=1
printf 'email,first_name,lists\nann@example.com,Ann,news\nbob@example.com,Bob,news\ncyd@example.com,Cyd,news\n' >c.csv
ok "contacts" nudge import-list c.csv
ok "cyd unsubscribed" nudge event add --contact cyd@example.com \
	--type unsubscribed --channel email --at 2026-11-01T10:00:00Z
printf 'Subject: Hi {{first_name}}\nFrom: Shop <shop@example.com>\n\nHello {{first_name}}\n' >hello.txt
# quiet hours 21:00-08:00 in Jerusalem (UTC+2 in November)
printf 'policy:\n  quiet_hours: {from: "21:00", to: "08:00", timezone: Asia/Jerusalem}\n' >quiet.yaml
night=2026-11-10T20:00:00Z
Q="quiet hours 21:00-08:00 Asia/Jerusalem, until 2026-11-11T06:00:00Z"
blast() { # blast CONFIG [send options]: the list "news", into out/
	_cfg=$1; shift
	nudge segment 'list "news"' | nudge send --config "$_cfg" \
	    -c promo -t hello.txt --transport "file://$T/out" "$@"
}

exits "a dry run at 22:00 in Jerusalem" 0 blast quiet.yaml -n --now $night
is "renders every message, each marked as one that would be held; the policy still skips" \
	"$(cat .out)" \
	"1	rendered	365 bytes; would be held: $Q
2	rendered	365 bytes; would be held: $Q
3	skipped	unsubscribed (email, 2026-11-01, event add)"
is "the summary counts them" "$(cat .err)" \
	"nudge-send: promo: read 3, rendered 2, skipped 1; 2 of them would be held now ($Q; dry run: nothing sent or stored)"
is "nothing claimed, nothing written" \
	"$(sql 'SELECT count(*) FROM messages'; ls out/new 2>/dev/null | wc -l)" "0
0"

exits "the blast itself at 22:00: exit 75, try again later" 75 \
	blast quiet.yaml --now $night
is "every message held" "$(cut -f2 .out | tr '\n' ' ')" "held held skipped "
like "the summary says when they may go and that only this command sends them" \
	"$(cat .err)" "^nudge-send: 2 held, not sent and not claimed: $Q; they may be sent from then on, and nothing sends them but this command run again then\$"
is "and no trigger is promised" "$(grep -c 'next nudge trigger' .err)" 0
exits "the same command at 08:30 there" 0 blast quiet.yaml --now 2026-11-11T06:30:00Z
is "sends them" "$(cut -f1,2 .out | sort | tr '\n' ' ')" "1	sent 2	sent 3	skipped "

# trigger lines: the campaign's own quiet hours
cat >night.yaml <<'YAML'
name: night
audience: list "news"
policy:
  quiet_hours: {from: "21:00", to: "08:00", timezone: Asia/Jerusalem}
steps:
  - {id: s1, channel: email, template: hello.txt}
YAML
exits "trigger lines, a dry run at 22:00" 0 sh -c "nudge trigger --now $night night.yaml |
    nudge send -n --now $night --transport file://$T/out"
is "renders them, marked, with their campaign and step" "$(sort .out)" \
	"1	rendered	365 bytes; would be held: $Q	night	s1
2	rendered	365 bytes; would be held: $Q	night	s1"
exits "trigger lines for real: held, exit 0, the next trigger offers them" 0 \
	sh -c "nudge trigger --now $night night.yaml |
    nudge send --now $night --transport file://$T/out"
is "as the summary says" "$(tail -n 1 .err)" \
	"nudge-send: 2 held for quiet hours: not sent, offered again by the next nudge trigger"

# the real clock: quiet hours (UTC) from the hour before this one to two
# hours after it
h=$(date -u +%H | sed 's/^0//')
printf 'policy:\n  quiet_hours: {from: "%02d:00", to: "%02d:00"}\n' \
	$(((h + 23) % 24)) $(((h + 2) % 24)) >now.yaml
exits "a dry run now, in quiet hours now" 0 blast now.yaml -n -c promo2
is "renders every message, marked" \
	"$(cut -f2 .out | tr '\n' ' '; grep -c 'bytes; would be held: quiet hours' .out)" \
	"rendered rendered skipped 2"
exits "the blast now: held, exit 75" 75 blast now.yaml -c promo2
is "held, and nothing claimed" \
	"$(cut -f2 .out | tr '\n' ' '; sql "SELECT count(*) FROM messages m JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'promo2'")" \
	"held held skipped 0"
done_testing
