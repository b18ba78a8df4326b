#!/bin/sh
# send: a blast to a real SMTP server (aiosmtpd): MIME as a mail client
# reads it, Hebrew subjects, no header injection from contact data, a 451
# retried, a 550 bounce that suppresses the address, concurrent sends.
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 13

S="$TESTDIR/send"
ok "contacts" nudge import-list "$S/contacts.csv"
now=2026-11-02T09:00:00Z
url="smtp://127.0.0.1:$SMTPD_PORT"

exits "a blast over 2 connections" 0 sh -c "nudge segment 'list \"news\"' |
	nudge send --now $now -c nov -t '$S/hello.txt' --transport $url --parallel 2"
is "every contact's outcome" "$(cut -f1,2 .out | sort -n | tr '\t' ' ' | tr '\n' ';')" \
	"1 sent;2 sent;3 sent;4 bounced;5 sent;6 sent;"
is "the server's reply is the provider id" \
	"$(grep -c '	sent	250 2.0.0 Ok: queued as [0-9]*$' .out)" 5
is "the 550 is a bounce" "$(grep '^4	' .out | cut -f3 | cut -c1-3)" 550
is "five messages reached the server" "$(ls "$SMTPD_DIR"/*.eml | wc -l)" 5
is "the 451 was retried once" \
	"$(sql "SELECT attempts FROM messages m JOIN contacts c ON c.id = m.contact_id WHERE c.email LIKE 'tempfail%'")" 2
f=$(grep -l 'rcpt dana@example.com' "$SMTPD_DIR"/*.env | sed 's/env$/eml/')
/usr/bin/python3 "$S/parse.py" "$f" >dana.txt
is "a mail client reads it" "$(cat dana.txt)" \
"from: Shop <shop@example.com>
to: דנה לוי <dana@example.com>
subject: Hello דנה from Tel Aviv
headers: Date From To Subject Message-ID MIME-Version List-Unsubscribe Content-Type
types: multipart/alternative text/plain text/html
text: Hi דנה,"
f=$(grep -l 'rcpt evil@example.com' "$SMTPD_DIR"/*.env | sed 's/env$/eml/')
/usr/bin/python3 "$S/parse.py" "$f" >evil.txt
like "a newline in a name makes no header" "$(grep '^headers:' evil.txt)" \
	'^headers: Date From To Subject Message-ID MIME-Version List-Unsubscribe Content-Type$'
is "and no extra recipient" "$(cat "${f%eml}env" | grep -c '^rcpt')" 1
is "the bounce suppressed the address" \
	"$(sql "SELECT status FROM consent_now c JOIN contacts k ON k.id = c.contact_id WHERE k.email LIKE 'bounce%'")" bounced

# two sends of one stream at once: every contact gets one message
rm -f "$SMTPD_DIR"/*.eml
nudge segment 'list "news"' >ids
nudge send --now $now -c twice -t "$S/hello.txt" --transport "$url" <ids >a.out 2>/dev/null &
pid=$!
nudge send --now $now -c twice -t "$S/hello.txt" --transport "$url" <ids >b.out 2>/dev/null
wait "$pid"
is "two sends at once: each message once" \
	"$(cat a.out b.out | grep -c '	sent	')/$(ls "$SMTPD_DIR"/*.eml | wc -l)" "5/5"
is "the other found them in the ledger; both skip the bounced address" \
	"$(cat a.out b.out | grep -c '	duplicate	')/$(cat a.out b.out | grep -c '	skipped	bounced')" "5/2"
done_testing
