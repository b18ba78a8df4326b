#!/usr/bin/python3
"""clicks.py BASE RATE STOPFILE PATH...: a load client for nudge track.

GETs BASE + PATH (the paths taken in turn) at RATE requests a second in
all, from 32 threads on keep-alive connections, until STOPFILE exists
(and at least one second).  A request that gets no answer (refused,
reset, timed out after 30 s) is counted as an error, and its connection
is opened again.

Prints, one a line: "answered N" (2xx and 3xx), "refused N" (any other
status), "errors N", "seconds S", "rate R" (requests a second sent), then "status CODE N"
for each status refused.
"""
import http.client
import os
import sys
import threading
import time
from urllib.parse import urlsplit

THREADS = 32


def main():
    base, rate, stop, paths = (sys.argv[1], float(sys.argv[2]), sys.argv[3],
                               sys.argv[4:])
    u = urlsplit(base)
    lock = threading.Lock()
    st = {"next": 0, "answered": 0, "refused": 0, "errors": 0}
    t0 = time.monotonic()

    def worker():
        conn = None
        while True:
            with lock:
                i = st["next"]
                st["next"] += 1
            # request i leaves at t0 + i / rate: RATE a second in all
            due = t0 + i / rate
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            if os.path.exists(stop) and time.monotonic() - t0 >= 1:
                return
            path = u.path + paths[i % len(paths)]
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port,
                                                      timeout=30)
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                k = "answered" if 200 <= r.status < 400 else \
                    "status %d" % r.status
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                k = "errors"
                if conn is not None:
                    conn.close()
                conn = None
            with lock:
                if k.startswith("status"):
                    st[k] = st.get(k, 0) + 1
                    k = "refused"
                st[k] += 1

    ts = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    secs = time.monotonic() - t0
    sent = st["answered"] + st["refused"] + st["errors"]
    print("answered %d" % st["answered"])
    print("refused %d" % st["refused"])
    print("errors %d" % st["errors"])
    print("seconds %.1f" % secs)
    print("rate %.0f" % (sent / secs))
    for k in sorted(st):
        if k.startswith("status"):
            print("%s %d" % (k, st[k]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
