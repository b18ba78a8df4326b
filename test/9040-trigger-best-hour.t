#!/bin/sh
# send_at: best_hour: trigger holds a due message until the contact's best
# hour (nudge predict hours) inside the step's window and outside quiet
# hours; contacts with no opens get the list's; a fixed-time control share
# (the A/B variant hash) goes when due; send records the two groups as
# variants, and report compares them.
. "$(dirname "$0")/lib.sh"
plan 22
export NUDGE_FILE_NOSYNC=1

# 20 contacts: 8 open at 09:xx UTC, 5 at 15:xx, 3 at 03:xx (outside the
# window), 4 never; each 10 times over ten days
{
	echo "email,first_name,lists"
	for i in $(seq 1 20); do echo "c$i@hours.example,C$i,hours"; done
} >contacts.csv
ok "20 contacts" nudge import-list --create contacts.csv
{
	echo "email,type,at,proxy"
	for i in $(seq 1 16); do
		if [ "$i" -le 8 ]; then h=09
		elif [ "$i" -le 13 ]; then h=15
		else h=03; fi
		for d in 10 11 12 13 14 15 16 17 18 19; do
			echo "c$i@hours.example,opened,2026-11-${d}T$h:1$((i % 6)):00Z,none"
		done
		# an image proxy's fetch at 12:00 counts for nothing
		echo "c$i@hours.example,opened,2026-11-20T12:00:00Z,google"
	done
} >events.csv
ok "their opens" nudge event import events.csv
ok "nudge predict hours" nudge predict hours --now 2026-12-01
is "the list's best hour" "$(awk '$1 == "best_hour" { print $2 }' .out)" \
	"09:00"

mkdir -p campaigns
cat >campaigns/hello.txt <<'T'
Subject: Hello {{first_name}}
From: Shop <shop@example.com>

Hello.
T
cat >campaigns/best.yaml <<'Y'
name: best
audience: list "hours"
steps:
  - id: hello
    channel: email
    template: hello.txt
    send_at: best_hour
    within: "08:00-20:00"
    control: 40%
Y
sed -e 's/^name: best/name: quiet/' -e 's/^steps:/policy:\
  quiet_hours: {from: "14:00", to: "16:00"}\
steps:/' campaigns/best.yaml >campaigns/quiet.yaml

# the contacts due in campaign $2 at time $1, their numbers sorted
due() {
	nudge trigger --now "$1" "campaigns/$2.yaml" | cut -f1 |
		sed 's/^/SELECT substr(email, 2, instr(email, "@") - 2) FROM contacts WHERE id = /' |
		sed 's/$/;/' | sqlite3 "$NUDGE_DB" | sort -n | tr '\n' ' '
}
control=$(due 2026-12-02T21:30:00Z best)
diag "fixed-time control share: $control"
like "outside the window only the control share is due" "$control" "^[0-9 ]+$"
is "before 08:00 too" "$(due 2026-12-02T07:30:00Z best)" "$control"
# expected at an hour: the control and the contacts whose best hour it is
want() {
	for i in $(seq 1 20); do
		case " $control" in *" $i "*) echo "$i"; continue ;; esac
		case "$1" in
		09) if [ "$i" -le 8 ] || [ "$i" -gt 13 ]; then echo "$i"; fi ;;
		15) if [ "$i" -gt 8 ] && [ "$i" -le 13 ]; then echo "$i"; fi ;;
		esac
	done | sort -n | tr '\n' ' '
}
is "at 09:05: the 09:00 readers, the 03:00 ones (their best inside the window is the list's) and those with no opens" \
	"$(due 2026-12-02T09:05:00Z best)" "$(want 09)"
is "at 09:55 the same" "$(due 2026-12-02T09:55:00Z best)" "$(want 09)"
is "at 15:20: the 15:00 readers" "$(due 2026-12-02T15:20:00Z best)" \
	"$(want 15)"
is "at 12:00: only the control share" "$(due 2026-12-02T12:00:00Z best)" \
	"$control"
is "with quiet hours 14:00-16:00 the 15:00 readers wait for the list's 09:00" \
	"$(due 2026-12-02T09:05:00Z quiet)" \
	"$(echo $(want 09) $(want 15) | tr ' ' '\n' | sort -nu | tr '\n' ' ')"

# send: the groups are the ledger's variants
nudge trigger --now 2026-12-02T09:05:00Z campaigns/best.yaml |
	nudge send --now 2026-12-02T09:05:00Z --transport "file://$T/out" \
	>sent 2>senderr
is "sent at 09:05" "$(grep -c '	sent' sent)" "$(echo $(want 09) | wc -w)"
is "the control share is recorded as fixed-time, the rest best-hour" \
	"$(sql "SELECT variant, count(*) FROM messages GROUP BY 1 ORDER BY 1")" \
	"best-hour	$(($(echo $(want 09) | wc -w) - $(echo $control | wc -w)))
fixed-time	$(echo $control | wc -w)"
is "at 15:20 the 15:00 readers" "$(due 2026-12-02T15:20:00Z best)" \
	"$(want 15 | tr ' ' '\n' | grep . | while read -r i; do
		case " $control" in *" $i "*) ;; *) echo "$i" ;; esac
	done | tr '\n' ' ')"

nudge trigger --now 2026-12-02T15:20:00Z campaigns/best.yaml |
	nudge send --now 2026-12-02T15:20:00Z --transport "file://$T/out" \
	>/dev/null 2>&1
# every best-hour message opened and half of them clicked, no fixed-time one
{
	echo "contact,type,channel,campaign,step,at,proxy"
	sql "SELECT c.email || ',opened,email,best,hello,2026-12-03T10:00:00Z,none'
	FROM messages m JOIN contacts c ON c.id = m.contact_id
	WHERE m.variant = 'best-hour'"
	sql "SELECT c.email || ',clicked,email,best,hello,2026-12-03T10:00:00Z,'
	FROM messages m JOIN contacts c ON c.id = m.contact_id
	WHERE m.variant = 'best-hour' AND m.contact_id % 2 = 0"
	# an image proxy's open of a fixed-time message is no open
	sql "SELECT c.email || ',opened,email,best,hello,2026-12-03T10:00:00Z,apple'
	FROM messages m JOIN contacts c ON c.id = m.contact_id
	WHERE m.variant = 'fixed-time'"
} >opens.csv
ok "their opens and clicks" nudge event import opens.csv
ok "nudge report --campaign best" nudge report --campaign best
nb=$(sql "SELECT count(*) FROM messages WHERE variant = 'best-hour'")
nc=$(sql "SELECT count(*) FROM messages WHERE variant = 'fixed-time'")
is "compares the best hour with the fixed-time control, with 95% intervals" \
	"$(sed -n '/^best hour of/,$p' .out | sed 's/interval [-+0-9. ]*to [-+0-9.]*/interval/')" \
	"best hour of best: $nb messages sent at the contact's best hour, $nc at the fixed time
opened: best hour 100.00% ($nb/$nb), fixed time 0.00% (0/$nc), difference +100.00 points (95% interval)
clicked: best hour $(awk -v k="$(sql "SELECT count(*) FROM messages WHERE variant = 'best-hour' AND contact_id % 2 = 0")" -v n="$nb" 'BEGIN { printf "%.2f%% (%d/%d)", 100 * k / n, k, n }'), fixed time 0.00% (0/$nc), difference $(awk -v k="$(sql "SELECT count(*) FROM messages WHERE variant = 'best-hour' AND contact_id % 2 = 0")" -v n="$nb" 'BEGIN { printf "%+.2f", 100 * k / n }') points (95% interval)
converted: best hour 0.00% (0/$nb), fixed time 0.00% (0/$nc), difference +0.00 points (95% interval)
the best hour raised the clicked rate: 95 times in 100, an interval drawn this way holds the true difference"

# a journey started by an event waits for the best hour too
cat >campaigns/journey.yaml <<'Y'
name: journey
entry: on purchase
steps:
  - id: thanks
    channel: email
    template: hello.txt
    send_at: best_hour
    within: "08:00-20:00"
    control: 40%
Y
{
	echo "email,type,at"
	for i in $(seq 1 13); do echo "c$i@hours.example,purchase,2026-12-02T11:00:00Z"; done
} >buy.csv
ok "purchases of the 09:00 and 15:00 readers" nudge event import buy.csv
jdue() {
	nudge trigger --now "$1" campaigns/journey.yaml | cut -f1 | while read -r id; do
		sql "SELECT substr(email, 2, instr(email, '@') - 2) FROM contacts WHERE id = $id"
	done | sort -n | tr '\n' ' '
}
jcontrol=$(jdue 2026-12-02T21:30:00Z)
diag "the journey's control share: $jcontrol"
is "at 12:00 only the journey's control share is due" \
	"$(jdue 2026-12-02T12:00:00Z)" "$jcontrol"
is "at 15:20 the 15:00 readers' thanks too, the 09:00 readers' waits" \
	"$(jdue 2026-12-02T15:20:00Z)" \
	"$(echo $jcontrol 9 10 11 12 13 | tr ' ' '\n' | sort -nu | tr '\n' ' ')"

# a step without send_at: within: and control: are refused
sed -e '/send_at:/d' campaigns/best.yaml >campaigns/bad.yaml
exits "within: without send_at: best_hour: 65" 65 nudge trigger \
	--now 2026-12-02T09:05:00Z campaigns/bad.yaml
like "says where" "$(cat .err)" "bad.yaml:7:[0-9]*: steps.1.: within: only with send_at: best_hour"
done_testing
