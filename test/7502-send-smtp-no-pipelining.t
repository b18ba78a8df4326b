#!/bin/sh
# nudge's own SMTP client against a server that does not offer
# PIPELINING (aiosmtpd as it comes): one command at a time, each sent
# only once the reply before it came; a refused RCPT TO is followed by
# RSET and the next message on the same connection; the server logs no
# error.
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 6
DRIVER="$TOP/test/unit/transport.t"

printf 'Subject: x\r\n\r\n.x\r\n' >m.eml
cat >list <<EOF2
a@s.test ok1@r.test m.eml
a@s.test tempfail-x@r.test m.eml
a@s.test ok2@r.test m.eml
a@s.test bounce-x@r.test m.eml
a@s.test ok3@r.test m.eml
EOF2
exits "five messages, one connection" 0 "$DRIVER" send -r 0 -p 1 \
    "smtp://127.0.0.1:$SMTPD_PORT" <list
is "each outcome" "$(cut -f1-4 "$T/.out" | tr '\t' ' ' | tr '\n' ';')" \
    "1 sent 250 1;2 not-sent 451 1;3 sent 250 1;4 bounced 550 1;5 sent 250 1;"
is "on one connection, the accepted ones received" \
    "$(wc -l <"$SMTPD_DIR/sessions")/$(cat "$SMTPD_DIR"/*.env | grep rcpt | sort | tr '\n' ' ')" \
    "1/rcpt ok1@r.test rcpt ok2@r.test rcpt ok3@r.test "
is "no command sent before the reply to the one before it" \
    "$(cut -d' ' -f2- "$SMTPD_DIR/pipeline" | sort | uniq -c | tr -s ' ' | tr '\n' ';')" \
    " 3 data end; 5 mail alone;"
is "the dot-stuffed line arrived as it was" "$(tail -1 "$SMTPD_DIR/000001.eml" | tr -d '\r')" ".x"
is "the log has no error" "$(grep -ci 'error\|exception' "$T/smtpd.log")" 0
done_testing
