#!/bin/sh
# The issue's "done means": a one-off blast from the terminal with no
# configuration at all — the sample contacts, a segment piped into send
# with the sample template, real MIME mail at a real SMTP server, and the
# report of the campaign.
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 8

exits "the sample contacts (three dirty rows rejected)" 65 nudge import-list --config "$TOP/samples/config.yaml" \
	"$TOP/samples/contacts.csv"
ok "one of them unsubscribed" nudge event add --contact sarah@example.org \
	--type unsubscribed --channel email --at 2026-11-01T08:00:00Z
exits "segment | send" 0 sh -c "nudge segment 'list \"newsletter\"' |
	nudge send --campaign test --template '$TOP/samples/templates/welcome.txt' \
	--transport smtp://127.0.0.1:$SMTPD_PORT --now 2026-11-02T09:00:00Z"
n=$(grep -c '	sent	' .out)
is "six of the seven newsletter readers were sent to" "$n" 6
is "the server holds six messages" "$(ls "$SMTPD_DIR"/*.eml | wc -l)" 6
f=$(grep -l 'rcpt dana@example.com' "$SMTPD_DIR"/*.env | sed 's/env$/eml/')
/usr/bin/python3 "$TESTDIR/send/parse.py" "$f" >dana.txt
is "a mail client reads Dana's: Hebrew subject, text and HTML" "$(cat dana.txt)" \
"from: Shop <news@shop.example>
to: Dana לוי <dana@example.com>
subject: Dana, ברוכים הבאים ל-Shop! 🎉
headers: Date From To Reply-To Subject Message-ID MIME-Version List-Unsubscribe Content-Type
types: multipart/alternative text/plain text/html
text: שלום Dana,"
is "with a List-Unsubscribe address" \
	"$(grep -c '^List-Unsubscribe: <mailto:news@shop.example?subject=unsubscribe>' "$f")" 1
nudge report --campaign test --format csv >report.csv
is "the report shows it (CSV, CRLF lines)" "$(tr -d '\r' <report.csv)" \
"campaign,messages,contacts,failed,bounced,opened,open_pct_contacts,clicked,click_pct_contacts,unsubscribed,complained,converted,conversion_pct_contacts,conversions,revenue,revenue_per_message,sms_segments,cost,revenue_per_cost
test,6,6,0,0,0,0.0,0,0.0,0,0,0,0.0,0,0.0,0.0,0,,"
done_testing
