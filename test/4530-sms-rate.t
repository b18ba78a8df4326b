#!/bin/sh
# sms over HTTP: the token bucket holds the rate (counted per second at
# the provider: no second gets more than rate + burst), connections are
# kept alive and reused, and a 429's Retry-After pauses every connection.
. "$(dirname "$0")/lib.sh"
start_emu
plan 6
N_CONTACTS=60
. "$TESTDIR/sms/head.sh"

cfg "parallel: 4" "rate: 20/s" "burst: 5"
blast r1
is "all sent" "$(grep -c '	sent	' r1.out)" 60
set -- $(/usr/bin/python3 "$S/rate.py" "$EMU_DIR/requests")
ok "no second held more than 20 + 5 requests (the most: $1)" test "$1" -le 25
is "60 requests" "$2" 60
is "over at most 4 connections, kept alive" \
	"$(/usr/bin/python3 -c 'import json,sys
print(len({json.loads(l)["port"] for l in open(sys.argv[1])}) <= 4)' "$EMU_DIR/requests")" True

# --rate overrides the config
rm -f "$EMU_DIR/requests"
blast r2 --rate 10
set -- $(/usr/bin/python3 "$S/rate.py" "$EMU_DIR/requests")
ok "--rate 10: no second held more than 10 + 5 (the most: $1)" test "$1" -le 15

# a 429 with Retry-After: 1 holds all four connections for a second
rm -f "$EMU_DIR/requests"
printf '429 1\n' >"$EMU_DIR/faults"
cfg "parallel: 4"
IDS="1 2 3 4 5 6" blast r3
ok "no request started within the second after the 429" /usr/bin/python3 -c '
import json,sys
r = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda x: x["n"])
t429 = [x["t"] for x in r if x["status"] == 429][0]
later = [x["t"] for x in r if x["t"] > t429]
# requests already in flight when the 429 came may land just after it
sys.exit(0 if len([t for t in later if t - t429 < 1.0]) <= 3 else 1)' "$EMU_DIR/requests"
done_testing
