#!/usr/bin/python3
"""flood.py URL N: POSTs N sign-ups to URL over one keep-alive connection,
every other one for the same address, the rest each for a new one;
prints how many answers had each status, then the requests per second."""
import http.client
import sys
import time
import urllib.parse

u = urllib.parse.urlsplit(sys.argv[1])
n = int(sys.argv[2])
c = http.client.HTTPConnection(u.hostname, u.port)
seen = {}
t0 = time.monotonic()
for i in range(n):
    email = "victim@example.com" if i % 2 == 0 else "bot%d@example.com" % i
    body = urllib.parse.urlencode({"email": email, "website": ""})
    c.request("POST", u.path, body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "flood"})
    r = c.getresponse()
    r.read()
    seen[r.status] = seen.get(r.status, 0) + 1
t = time.monotonic() - t0
for k in sorted(seen):
    print(k, seen[k])
print("%.0f" % (n / t), file=sys.stderr)
