#!/bin/sh
# nudge's own SMTP client (lib/transport_smtpwire.c, plaintext smtp://)
# pipelines when the server offers PIPELINING (RFC 2920): each message's
# MAIL FROM, RCPT TO and DATA leave together, and the next message's
# follow its end of data without waiting for the reply.  50 messages with
# lines starting with dots, bare LFs and 998-character lines arrive
# byte-equal (bare LFs as CRLF) over one connection; a refused RCPT TO is
# followed by RSET, so the next message goes on the same connection.
. "$(dirname "$0")/lib.sh"
start_smtpd --pipelining
plan 9
DRIVER="$TOP/test/unit/transport.t"

mkdir msg want
i=1
while [ "$i" -le 50 ]; do
	{
		printf 'From: a@sender.test\r\nTo: r%d@rcpt.test\r\n' "$i"
		printf 'Subject: pipelined %d\r\n\r\n' "$i"
		printf '.starts with a dot\r\n..two dots\r\n.\r\n'
		printf 'a bare LF line %d\n.a dot after a bare LF\n\n' "$i"
		awk -v i="$i" 'BEGIN { s = sprintf("%03d:", i)
			while (length(s) < 998) s = s "x"; printf "%s\r\n", s }'
		printf '.\n'
		printf 'the end of %d\r\n' "$i"
	} >"msg/$i.eml"
	# what must arrive: every line end CRLF
	sed 's/\r$//; s/$/\r/' "msg/$i.eml" >"want/$i.eml"
	echo "bounce-$i@sender.test r$i@rcpt.test msg/$i.eml"
	i=$((i + 1))
done >list

exits "50 messages over one connection" 0 \
    "$DRIVER" send -p 1 "smtp://127.0.0.1:$SMTPD_PORT" <list
i=1
while [ "$i" -le 50 ]; do printf '%d\tsent\t250\t1\n' "$i"; i=$((i + 1)); done >w
cut -f1-4 "$T/.out" >got
cmp_file "each sent at the first attempt" w got
bad=""
for f in "$SMTPD_DIR"/*.eml; do
	n=$(sed -n 's/^To: r\([0-9]*\)@rcpt.test\r$/\1/p' "$f")
	cmp -s "$f" "want/$n.eml" || bad="$bad $n"
done
is "50 arrived, each byte-equal (dots, bare LFs as CRLF, 998-character lines)" \
    "$(ls "$SMTPD_DIR" | grep -c '\.eml$')/$bad" "50/"
is "one SMTP session carried them" "$(wc -l <"$SMTPD_DIR/sessions")" 1
is "each MAIL FROM came with its RCPT TO and DATA behind it" \
    "$(grep -c ' mail grouped$' "$SMTPD_DIR/pipeline")/$(grep -c ' mail alone$' "$SMTPD_DIR/pipeline")" \
    "50/0"
is "each end of data but the last came with the next MAIL FROM behind it" \
    "$(grep -c ' data next$' "$SMTPD_DIR/pipeline")/$(grep -c ' data end$' "$SMTPD_DIR/pipeline")" \
    "49/1"

# A refused RCPT TO (451, then 550) between accepted messages: each
# settles as over one command at a time, and RSET closes the refused
# transaction so the next message passes on the same connection.
rm -f "$SMTPD_DIR"/*.eml "$SMTPD_DIR"/*.env "$SMTPD_DIR/sessions"
printf 'Subject: x\r\n\r\nx\r\n' >m.eml
cat >list <<EOF2
a@s.test ok1@r.test m.eml
a@s.test tempfail-x@r.test m.eml
a@s.test ok2@r.test m.eml
a@s.test bounce-x@r.test m.eml
a@s.test ok3@r.test m.eml
EOF2
exits "refusals between messages" 0 "$DRIVER" send -r 0 -p 1 \
    "smtp://127.0.0.1:$SMTPD_PORT" <list
is "each outcome as over one command at a time" \
    "$(cut -f1-4 "$T/.out" | tr '\t' ' ' | tr '\n' ';')" \
    "1 sent 250 1;2 not-sent 451 1;3 sent 250 1;4 bounced 550 1;5 sent 250 1;"
is "on one connection, the accepted ones received" \
    "$(wc -l <"$SMTPD_DIR/sessions")/$(cat "$SMTPD_DIR"/*.env | grep rcpt | sort | tr '\n' ' ')" \
    "1/rcpt ok1@r.test rcpt ok2@r.test rcpt ok3@r.test "
done_testing
