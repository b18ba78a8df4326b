#!/bin/sh
# torture: `nudge send` of four messages to a real SMTP server (aiosmtpd)
# with the N-th allocation failing, then the N-th write or sync of the
# store, for every N: see send.sh for what is checked after each.
. "$(dirname "$0")/../lib.sh"
. "$TESTDIR/torture/fail.sh"
start_smtpd
plan 12
TRANSPORT="smtp://127.0.0.1:$SMTPD_PORT" TRANSPORT_NAME=SMTP
got() { cat "$SMTPD_DIR"/*.env 2>/dev/null | grep -c "^rcpt $1\$"; }
got_total() { ls "$SMTPD_DIR" | grep -c '\.env$'; }
clear_got() { rm -f "$SMTPD_DIR"/*.env "$SMTPD_DIR"/*.eml; }
. "$TESTDIR/torture/send.sh"
done_testing
