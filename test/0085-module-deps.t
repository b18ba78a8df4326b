#!/bin/sh
# The module graph has no cycles where HACKING says so: journal.c does
# not call ledger.c (recovery reads the journal through journal.h);
# links.c and dsn.c do not reach into track.c (the token URL is token.c's,
# a message found by its Message-ID is ledger.c's); only the transport
# files call libcurl (outcome.c reads its error codes, calls nothing).
. "$(dirname "$0")/lib.sh"
plan 5

L=$TOP/lib
# uses FILE HEADER PREFIX: FILE includes HEADER or calls a PREFIX function
uses() {
	grep -q "^#include \"$2\"" "$1" || grep -q "\b$3[a-z_]*(" "$1"
}
ok "journal.c does not use the ledger" eval '! uses "$L/journal.c" ledger.h nudge_ledger_'
ok "journal.h does not name the ledger's functions" eval '! grep -q nudge_ledger_ "$L/journal.h"'
# nudge_track_url keeps its name in token.c: the header tells
ok "links.c does not include track.h" eval '! grep -q "^#include \"track.h\"" "$L/links.c"'
ok "dsn.c does not include track.h" eval '! grep -q "^#include \"track.h\"" "$L/dsn.c"'
is "only the transport files call libcurl" \
    "$(cd "$L" && grep -l '\bcurl_[a-z_]*(' *.c | grep -v '^transport' | tr '\n' ' ')" ""
