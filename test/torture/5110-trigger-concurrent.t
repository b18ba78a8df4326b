#!/bin/sh
# test 5110 at 5,000 contacts (30,000 messages over two rounds): two, then
# four trigger | send pipelines at once while nudge track takes clicks
# (test/crash/concurrent.sh).
. "$(dirname "$0")/../lib.sh"
CONTACTS=5000
. "$TESTDIR/crash/concurrent.sh"
