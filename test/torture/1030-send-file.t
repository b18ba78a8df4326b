#!/bin/sh
# torture: `nudge send` of four messages to the file transport (a
# maildir) with the N-th allocation failing, then the N-th write or sync
# of the store, for every N: see send.sh for what is checked after each.
# on tmpfs when there is one: the loop fsyncs thousands of times
[ -w /dev/shm ] && TMPDIR=/dev/shm && export TMPDIR
. "$(dirname "$0")/../lib.sh"
. "$TESTDIR/torture/fail.sh"
plan 12
export NUDGE_FILE_NOSYNC=1
TRANSPORT="file://$T/out" TRANSPORT_NAME=file
got_all() { cat "$T"/out/new/* 2>/dev/null | sed -n 's/^To: .*<\(.*\)>.*/\1/p'; }
clear_got() { rm -rf "$T/out"; }
. "$TESTDIR/torture/send.sh"
done_testing
