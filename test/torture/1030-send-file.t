#!/bin/sh
# torture: `nudge send` of four messages to the file transport (a
# maildir) with the N-th allocation failing, then the N-th write or sync
# of the store, for every N: see send.sh for what is checked after each.
. "$(dirname "$0")/../lib.sh"
. "$TESTDIR/torture/fail.sh"
plan 12
export NUDGE_FILE_NOSYNC=1
TRANSPORT="file://$T/out" TRANSPORT_NAME=file
got() { cat "$T"/out/new/* 2>/dev/null | grep -c "^To: .*<$1>"; }
got_total() { ls "$T/out/new" 2>/dev/null | wc -l; }
clear_got() { rm -rf "$T/out"; }
. "$TESTDIR/torture/send.sh"
done_testing
