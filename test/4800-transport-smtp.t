#!/bin/sh
# lib/transport over SMTP into test/smtpd.py: 50 messages over 2 reused
# connections arrive byte-exact with the right envelope.
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 8
DRIVER="$TOP/test/unit/transport.t"

# 50 messages with what SMTP must carry untouched: a lone "." line, lines
# starting with dots, UTF-8, a blank line at the end, ~3 KB each.
mkdir msg
i=1
while [ "$i" -le 50 ]; do
	{
		printf 'From: a@sender.test\r\nTo: r%d@rcpt.test\r\n' "$i"
		printf 'Subject: =?UTF-8?B?16nXnNeV150=?= %d\r\n\r\n' "$i"
		printf 'line one of %d\r\n.\r\n..two dots\r\n.\r\n' "$i"
		printf 'שלום עולם %d\r\n' "$i"
		j=0
		while [ "$j" -lt 40 ]; do
			printf '%s %03d %03d\r\n' \
			    'The quick brown fox jumps over the lazy dog,' \
			    "$i" "$j"
			j=$((j + 1))
		done
		[ $((i % 2)) = 0 ] && printf '\r\n'
	} >"msg/$i.eml"
	echo "bounce-$i@sender.test r$i@rcpt.test msg/$i.eml"
	i=$((i + 1))
done >list

exits "50 messages over 2 connections" 0 \
    "$DRIVER" send -p 2 "smtp://127.0.0.1:$SMTPD_PORT" <list
cut -f1-4 "$T/.out" >got
i=1
while [ "$i" -le 50 ]; do printf '%d\tsent\t250\t1\n' "$i"; i=$((i + 1)); done >want
cmp_file "each reported sent at the first attempt" want got
like "the provider id is the server's reply" \
    "$(sed -n 1p "$T/.out" | cut -f5)" '^250 2\.0\.0 Ok: queued as [0-9]{6}$'

# Match what arrived to what was sent by the To: header; compare bytes.
bad=""
for f in "$SMTPD_DIR"/*.eml; do
	n=$(sed -n 's/^To: r\([0-9]*\)@rcpt.test\r$/\1/p' "$f")
	cmp -s "$f" "msg/$n.eml" || bad="$bad $n"
	env=$(cat "${f%.eml}.env")
	[ "$env" = "from bounce-$n@sender.test
rcpt r$n@rcpt.test" ] || bad="$bad env$n"
done
is "50 messages arrived" "$(ls "$SMTPD_DIR" | grep -c '\.eml$')" 50
is "each arrived byte-exact, envelope from and rcpt right" "$bad" ""
is "2 SMTP sessions carried them" "$(wc -l <"$SMTPD_DIR/sessions")" 2

# The rate limit holds messages back without losing any (its pace is for
# the benchmark to show, not a test).
head -n 20 list >list20
exits "20 more at 500/s over 3 connections" 0 \
    "$DRIVER" send -R 500 -p 3 "smtp://127.0.0.1:$SMTPD_PORT" <list20
is "all 20 sent" "$(cut -f2 "$T/.out" | sort | uniq -c | tr -s ' ')" " 20 sent"
done_testing
