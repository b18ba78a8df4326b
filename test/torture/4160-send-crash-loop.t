#!/bin/sh
# send: a 10,000-message SMTP blast killed with SIGKILL at 100 random
# points and rerun until it exits 0: the server's log and the ledger
# agree (test/crash/send-loop.sh).
. "$(dirname "$0")/../lib.sh"
CONTACTS=10000 KILLS=100
. "$TESTDIR/crash/send-loop.sh"
