"""Opens and clicks of known hours, and the best hours nudge predict hours
must find in them, computed here from the formula of nudge-predict(1)
rather than from nudge's code.

usage: hours.py events SEED ZONE K  > events.csv  (and expected.tsv)
Writes events.csv on stdout and expected.tsv (contact email, events, best
hour, best weekday) and list.tsv (the list's best hour and weekday).
"""
import random
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

seed, zone, k = int(sys.argv[2]), ZoneInfo(sys.argv[3]), float(sys.argv[4])
rng = random.Random(seed)
start = datetime(2026, 9, 1, tzinfo=timezone.utc)
rows = []
# 60 contacts, each with a favourite hour; some with few events, some with
# many; every open also sometimes fetched again by an image proxy at
# another hour (left out by nudge)
for c in range(60):
    fav = rng.randrange(24)
    n = rng.choice([0, 1, 1, 2, 3, 5, 8, 20])
    email = "h%02d@hours.example" % c
    for _ in range(n):
        day = start + timedelta(days=rng.randrange(80))
        hour = fav if rng.random() < 0.6 else rng.randrange(24)
        local = datetime(day.year, day.month, day.day, hour,
                         rng.randrange(60), tzinfo=zone)
        t = local.astimezone(timezone.utc)
        typ = rng.choice(["opened", "opened", "clicked"])
        proxy = "none" if typ == "opened" else ""
        rows.append((email, typ, t, proxy))
    for _ in range(rng.choice([0, 0, 2, 6])):
        t = start + timedelta(days=rng.randrange(80), hours=rng.randrange(24))
        rows.append((email, "opened", t,
                     rng.choice(["apple", "google", "yahoo"])))
# a contact whose opens are all proxies: no human event, no row
rows.append(("proxied@hours.example", "opened", start, "apple"))
rows.sort(key=lambda r: r[2])
print("email,type,at,proxy")
for e, typ, t, p in rows:
    print("%s,%s,%s,%s" % (e, typ, t.strftime("%Y-%m-%dT%H:%M:%SZ"), p))

human = [(e, t.astimezone(zone)) for e, typ, t, p in rows
         if typ == "clicked" or p == "none"]
C = len(human)
Lh = [(sum(1 for _, t in human if t.hour == h) + 1) / (C + 24)
      for h in range(24)]
# Python's weekday() is Monday 0; nudge's Sunday 0
wd = lambda t: (t.weekday() + 1) % 7
Lw = [(sum(1 for _, t in human if wd(t) == d) + 1) / (C + 7)
      for d in range(7)]


def best(shares, tie):
    return max(range(len(shares)),
               key=lambda i: (round(shares[i], 12), round(tie[i], 12), -i))


days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
        "Saturday"]
with open("expected.tsv", "w") as out:
    for e in sorted(set(e for e, _ in human)):
        ts = [t for x, t in human if x == e]
        n = len(ts)
        sh = [(sum(1 for t in ts if t.hour == h) + k * Lh[h]) / (n + k)
              for h in range(24)]
        sw = [(sum(1 for t in ts if wd(t) == d) + k * Lw[d]) / (n + k)
              for d in range(7)]
        out.write("%s\t%d\t%02d:00\t%s\n" % (e, n, best(sh, Lh),
                                              days[best(sw, Lw)]))
with open("list.tsv", "w") as out:
    out.write("%02d:00\t%s\n" % (best(Lh, Lh), days[best(Lw, Lw)]))
