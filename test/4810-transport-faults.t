#!/bin/sh
# lib/transport over SMTP: 4xx retried with backoff, 5xx to RCPT a bounce
# without retry, other 5xx a failure, a connection dropped after the data
# unknown and not retried (it may have arrived), a 4xx to the end or a
# refused connection not sent (the claim can be given back), a refused
# password not sent and stopping the run, the STARTTLS policy.
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 16
DRIVER="$TOP/test/unit/transport.t"
URL="smtp://127.0.0.1:$SMTPD_PORT"
printf 'Subject: faults\r\n\r\nbody\r\n' >m.eml

# Sent lines end on the queue id the server chose: mask it.
mask() { sed 's/queued as [0-9]*$/queued as N/' "$T/.out"; }

cat >list <<EOF2
a@s.test ok1@r.test m.eml
a@s.test tempfail1-x@r.test m.eml
a@s.test bounce-x@r.test m.eml
a@s.test reject-x@r.test m.eml
a@s.test drop1-x@r.test m.eml
a@s.test tempfail-x@r.test m.eml
- ok2@r.test m.eml
EOF2
exits "the driver runs to the end" 0 "$DRIVER" send -b 10 -r 2 "$URL" <list
is "each outcome as expected" "$(mask)" "$(printf '%s\t' \
    1 sent 250 1 '250 2.0.0 Ok: queued as N
2' sent 250 2 '250 2.0.0 Ok: queued as N
3' bounced 550 1 '550 5.1.1 No such user
4' failed 554 1 '554 5.7.1 Message refused
5' unknown 0 1 'the connection was lost after the end of data: the server may have accepted the message
6' not-sent 451 3 '451 4.3.0 Try again later
7' sent 250 1 '250 2.0.0 Ok: queued as N' | sed 's/\t$//')"
is "three messages arrived" "$(ls "$SMTPD_DIR" | grep -c '\.eml$')" 3
is "each arrived once" "$(cat "$SMTPD_DIR"/*.env | sort)" "from <>
from a@s.test
from a@s.test
rcpt ok1@r.test
rcpt ok2@r.test
rcpt tempfail1-x@r.test"

# With no retries a 451 is reported at once.
echo "a@s.test tempfail-y@r.test m.eml" >list
exits "no retries" 0 "$DRIVER" send -r 0 "$URL" <list
is "451 reported after one attempt" "$(cat "$T/.out")" \
    "$(printf '1\tnot-sent\t451\t1\t451 4.3.0 Try again later')"

# Nothing listening: a temporary failure once the retries are spent.
free=$(/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "a@s.test r@r.test m.eml" >list
exits "refused connection" 0 \
    "$DRIVER" send -b 10 -r 2 "smtp://127.0.0.1:$free" <list
is "not sent after 3 attempts, no reply code" "$(cut -f1-4 "$T/.out")" \
    "$(printf '1\tnot-sent\t0\t3')"
like "the reason names the connection" "$(cut -f5 "$T/.out")" \
    "^Failed to connect to 127\.0\.0\.1 port $free"

# Plaintext to a loopback name is allowed.
exits "smtp://localhost: plaintext to loopback" 0 \
    "$DRIVER" send "smtp://localhost:$SMTPD_PORT" <list
like "sent" "$(cat "$T/.out")" "^1	sent	250	1	250 2\.0\.0 Ok"

# SMTP AUTH: the right password sends; a wrong one is not sent and stops
# the run, not retried, and the password is never repeated.
exits "AUTH with the right password" 0 "$DRIVER" send -u nudge \
    -w 's3cret pass' "$URL" <list
like "sent" "$(cat "$T/.out")" "^1	sent	250	1	250 2\.0\.0 Ok"
exits "AUTH with a wrong password" 0 "$DRIVER" send -b 10 -u nudge \
    -w 'wr0ng-pw' "$URL" <list
is "not sent, stops the run, not retried, no password shown" \
    "$(cat "$T/.out" "$T/.err")" \
    "$(printf '1\tnot-sent\t535\t1\tthe server refused the user name or password (535 5.7.8 Authentication credentials invalid): nothing was sent, a rerun with the right password sends it (stops the run)')"

# A name that is not "localhost" or a loopback literal needs STARTTLS,
# which smtpd.py does not offer.  Only tried when this machine's own name
# resolves to a loopback address, so nothing leaves the machine.
h=$(hostname)
if getent hosts "$h" | grep -q '^127\.' &&
    ! getent hosts "$h" | grep -qv '^127\.'; then
	"$DRIVER" send "smtp://$h:$SMTPD_PORT" <list >"$T/.out" 2>&1
	is "STARTTLS required for $h: not sent, not retried, stops the run" \
	    "$(cat "$T/.out")" \
	    "$(printf '1\tnot-sent\t0\t1\t%s:%s: the server does not offer STARTTLS and TLS is required: nothing sent in plaintext (allow_plaintext sends without TLS) (stops the run)' "$h" "$SMTPD_PORT")"
else
	echo "ok 16 # SKIP $h does not resolve to loopback only"
	_n=$((_n + 1))
fi
done_testing
