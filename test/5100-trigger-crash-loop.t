#!/bin/sh
# trigger | send over email, sms and push at once, killed with SIGKILL at
# 10 random points over three days of three 3-step campaigns (about 1,000
# messages) and rerun until it exits 0: the servers' logs and the ledger
# agree (test/crash/trigger-loop.sh; make torture runs 10,000 and 100).
. "$(dirname "$0")/lib.sh"
CONTACTS=400 KILLS=10
. "$TESTDIR/crash/trigger-loop.sh"
