#!/bin/sh
# Two, then four `nudge trigger | nudge send` pipelines started at once
# over one store, each a stream of email, sms and push (test/crash/mix.sh),
# while nudge track under lighttpd (FastCGI: as CGI, one process a request,
# it takes ~150 a second here) takes clicks at up to 1,000 a second:
# every pipeline exits 0 (no SQLITE_BUSY abort), every ledger key is
# accepted by a server exactly once and is `sent`, and every click
# answered 2xx or 3xx is a `clicked` event in the store.
. "$(dirname "$0")/lib.sh"
CONTACTS=${CONTACTS:-1000}
. "$TESTDIR/crash/concurrent.sh"
