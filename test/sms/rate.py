#!/usr/bin/python3
"""rate.py FILE: the most requests the emulator received in one
1-second bucket (floor of the Unix time), and the count of requests."""
import collections
import json
import sys

c = collections.Counter()
n = 0
for line in open(sys.argv[1]):
    c[int(json.loads(line)["t"])] += 1
    n += 1
print(max(c.values()) if c else 0, n)
