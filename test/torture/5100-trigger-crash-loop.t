#!/bin/sh
# trigger | send over email, sms and push at once, killed with SIGKILL at
# 100 random points over three days of three 3-step campaigns (about
# 10,000 messages) and rerun until it exits 0: the servers' logs and the
# ledger agree (test/crash/trigger-loop.sh).
. "$(dirname "$0")/../lib.sh"
CONTACTS=1112 KILLS=100
. "$TESTDIR/crash/trigger-loop.sh"
