#!/usr/bin/python3
"""requests.py FILE [FIELDS]: the emulator's recorded requests, in order,
as text a test compares exactly: the request line, the headers (sorted,
names lower-cased; user-agent left out unless FIELDS says "ua"), the body
and the status answered."""
import json
import os
import sys

ua = len(sys.argv) > 2 and "ua" in sys.argv[2]
if not os.path.exists(sys.argv[1]):
    sys.exit(0)
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    print("%s %s -> %s" % (r["method"], r["path"], r["status"]))
    for k, v in r["headers"].items():
        if k == "user-agent" and not ua:
            continue
        print("%s: %s" % (k, v))
    print(r["body"])
    print("--")
