#!/bin/sh
# send: the policy of the config on every send, against a real SMTP server
# — a frequency cap counted across channels and campaigns, transactional
# messages outside it, an exclusion segment, and consent per channel.
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 20

S="$TESTDIR/send"
url="smtp://127.0.0.1:$SMTPD_PORT"
cat >config.yaml <<YAML
policy:
  frequency_cap: {max: 2, per: 1d}
  exclude: purchase within 2d
YAML
printf 'email,first_name,lists,city\nann@example.com,Ann,news,Haifa\nbob@example.com,Bob,news,\ncyd@example.com,Cyd,news,\ndee@example.com,Dee,news,\n' >c.csv
ok "contacts" nudge import-list c.csv
ok "bob got a push two hours ago" nudge event add --contact bob@example.com \
	--type sent --channel push --campaign app-promo --at 2026-11-02T07:00:00Z
ok "cyd bought yesterday" nudge event add --contact cyd@example.com \
	--type purchase --at 2026-11-01T10:00:00Z
ok "dee unsubscribed from sms only" nudge event add --contact dee@example.com \
	--type unsubscribed --channel sms --at 2026-11-01T10:00:00Z

# blast CAMPAIGN NOW [ARGS]: sends hello.txt to the list; .out has the
# result lines sorted by contact id as "id status reason;".
blast() {
	_c=$1 _when=$2
	shift 2
	nudge segment 'list "news"' | nudge send --config config.yaml --now "$_when" \
	    -c "$_c" -t "$S/hello.txt" --transport "$url" "$@" >res 2>err
	_rc=$?
	sort -n res | cut -f1-3 | tr '\t' ' ' | tr '\n' ';' >.out
	return $_rc
}
received() { grep -l "^rcpt $1" "$SMTPD_DIR"/*.env 2>/dev/null | wc -l; }

ok "the first campaign" blast c1 2026-11-02T09:00:00Z
is "cyd is excluded by the segment; dee's email consent stands" "$(cat .out)" \
	"1 sent 250 2.0.0 Ok: queued as 000001;2 sent 250 2.0.0 Ok: queued as 000002;3 skipped excluded by policy: purchase within 2d;4 sent 250 2.0.0 Ok: queued as 000003;"

ok "a second campaign an hour later" blast c2 2026-11-02T10:00:00Z
is "bob is capped: his push counts against the email cap" \
	"$(cut -d';' -f2 .out)" "2 skipped frequency cap: 2 in 1d"
is "ann and dee get their second message" "$(grep -o '^1 sent\|;4 sent' .out | tr -d '\n')" "1 sent;4 sent"

ok "a third campaign the same day" blast c3 2026-11-02T11:00:00Z
is "ann and dee are capped now too" "$(cut -d';' -f1,2,4 .out)" \
	"1 skipped frequency cap: 2 in 1d;2 skipped frequency cap: 2 in 1d;4 skipped frequency cap: 2 in 1d"

ok "a transactional message that hour" blast receipt 2026-11-02T11:30:00Z --transactional
is "is not held back by the cap (nor by the exclusion)" "$(tr ';' '\n' <.out | cut -d' ' -f1,2 | tr '\n' ';')" \
	"1 sent;2 sent;3 sent;4 sent;"
is "its sent events say so, and the cap does not count them" \
	"$(sql "SELECT count(*) FROM events WHERE type = 'sent' AND props ->> 'transactional'")" 4
ok "nor does a later campaign the next morning" blast c3b 2026-11-03T09:30:00Z
is "ann: c2 is her one counted send in the last day, the receipt is not" \
	"$(cut -d';' -f1 .out | cut -d' ' -f1,2)" "1 sent"

ok "two days later" blast c4 2026-11-04T12:00:00Z
is "the window has passed; cyd's purchase is over 2 days old" "$(tr ';' '\n' <.out | cut -d' ' -f1,2 | tr '\n' ';')" \
	"1 sent;2 sent;3 sent;4 sent;"

is "what the server received per contact" \
	"$(for a in ann bob cyd dee; do printf '%s=%s ' $a "$(received $a@example.com)"; done)" \
	"ann=5 bob=4 cyd=2 dee=5 "
is "the skips are in the summary" "$(grep -c 'skipped' err)" 1
done_testing
