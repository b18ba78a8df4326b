#!/bin/sh
# send renders and builds messages on render threads (one per core) while
# its own thread reads contacts and writes the ledger: every message goes
# to its own contact with its own fields, a line a render thread skips is
# reported once and never claimed, and a template that must render on
# send's own thread (:date sets TZ) sends the same messages.
. "$(dirname "$0")/lib.sh"
plan 11

export NUDGE_FILE_NOSYNC=1
# 600 contacts (more than a batch of 64 many times over); the odd ones
# have a coupon, the even ones none: the template skips them
awk 'BEGIN { print "email,first_name,coupon,since,lists"
	for (i = 1; i <= 600; i++)
		printf "c%d@example.com,Name%d,%s,2026-0%d-15T12:00:00Z,news\n",
		    i, i, i % 2 ? "CODE" i : "", i % 9 + 1 }' >c.csv
ok "contacts" nudge import-list c.csv
nudge segment 'list "news"' >ids
now=2026-11-02T09:00:00Z
X="--now $now --from shop@example.com"

printf 'Subject: For {{email}}\n\nHello {{first_name}}, {{attrs.coupon}} is for {{email}}\n' >coupon.txt
nudge send $X -c threads -t coupon.txt --transport "file://$T/mail" <ids >res 2>err
is "sent: exit 0" "$?" 0
is "300 sent, 300 skipped, each line once" \
	"$(cut -f2 res | sort | uniq -c | tr -s ' ')" " 300 sent
 300 skipped"
# the contacts (email addresses) of the lines skipped: the even ones
awk 'BEGIN { for (i = 2; i <= 600; i += 2) print "c" i "@example.com" }' | sort >even
sql "SELECT email FROM contacts WHERE id IN ($(awk -F'\t' '$2 == "skipped" { printf "%s%s", n++ ? "," : "", $1 }' res))" | sort >skipped
cmp_file "the lines skipped are the contacts without a coupon" even skipped
is "each says why" "$(awk -F'\t' '$2 == "skipped" { print $3 }' res | sort -u)" \
	'no value for field "attrs.coupon" and no default'
is "the ledger: the 300 sent, nothing claimed for a skipped line" \
	"$(sql "SELECT status, count(*) FROM messages GROUP BY status") $(sql "SELECT count(*) FROM events WHERE type = 'sent'")" \
	"sent	300 300"
# every message: its To:, its Subject:, its body name one contact
for f in mail/new/*.eml; do
	tr -d '\r' <"$f" >m
	to=$(sed -n 's/^To: .*<\(.*\)>$/\1/p' m)
	subj=$(sed -n 's/^Subject: For //p' m)
	n=${to#c}
	n=${n%@example.com}
	if grep -qx "Hello Name$n, CODE$n is for $to" m && [ "$subj" = "$to" ]; then
		echo ok
	else
		echo "$f: $to $subj"
	fi
done | sort | uniq -c | tr -s ' ' >match
is "each message is its own contact's, fields and all" "$(cat match)" " 300 ok"

# :date renders on send's own thread: the same messages, the same ledger
printf 'Subject: For {{email}}\n\nHello {{first_name}}, {{attrs.coupon}} since {{attrs.since:date}}\n' >dated.txt
nudge send $X -c dated -t dated.txt --transport "file://$T/dated" <ids >dres 2>derr
is "with :date: exit 0" "$?" 0
is "the same lines sent and skipped" \
	"$(cut -f1,2 dres | sort)" "$(cut -f1,2 res | sort)"
like "the date is the contact's" "$(grep -l 'c7@example.com' dated/new/*.eml | xargs cat)" \
	'CODE7 since 15 August 2026'
is "its ledger" "$(sql "SELECT count(*) FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE c.name = 'dated' AND m.status = 'sent'")" 300
