#!/bin/sh
# send: a 1,000-message SMTP blast killed with SIGKILL at 10 random
# points and rerun until it exits 0: the server's log and the ledger
# agree (test/crash/send-loop.sh; make torture runs 10,000 and 100).
. "$(dirname "$0")/lib.sh"
CONTACTS=1000 KILLS=10
. "$TESTDIR/crash/send-loop.sh"
