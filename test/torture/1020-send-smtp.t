#!/bin/sh
# torture: `nudge send` of four messages to a real SMTP server (aiosmtpd)
# with the N-th allocation failing, then the N-th write or sync of the
# store, for every N: see send.sh for what is checked after each.
# on tmpfs when there is one: the loop fsyncs thousands of times
[ -w /dev/shm ] && TMPDIR=/dev/shm && export TMPDIR
. "$(dirname "$0")/../lib.sh"
. "$TESTDIR/torture/fail.sh"
start_smtpd
plan 12
TRANSPORT="smtp://127.0.0.1:$SMTPD_PORT" TRANSPORT_NAME=SMTP
got_all() { cat "$SMTPD_DIR"/*.env 2>/dev/null | sed -n 's/^rcpt //p'; }
clear_got() { rm -f "$SMTPD_DIR"/*.env "$SMTPD_DIR"/*.eml; }
. "$TESTDIR/torture/send.sh"
done_testing
