#!/bin/sh
# report: revenue and its attribution (last-touch by default, first-touch,
# any), the conversion's value prop and currency, what the messages cost,
# days in a time zone, and clicks per link.  The figures are checked
# against hand-computed constants on a small store, then against an
# independent computation in Python (from the events file, not the store)
# on a larger random one.
. "$(dirname "$0")/lib.sh"
plan 38

# x: spring (email) on Nov 1, flash (sms, 2 segments) on Nov 3, a 100.00
#    purchase on Nov 4: last-touch credits flash, first-touch spring, any
#    both;
# y: spring on Nov 1, a 40.50 purchase at the very second of the message
#    and a 9.50 one exactly 7 days later (both in the window), and one of
#    1000 in USD (counted as a conversion, left out of EUR revenue);
# z: flash (3 segments) on Nov 3, a purchase of 25 on Nov 20 (outside
#    the 7-day window: nobody's);
# w: bought on Oct 30, before any message: nobody's;
# x also ordered for 70 (an `order` with an `amount`) an hour after the
#    purchase: the conversion when the config says so.
cat >small.csv <<'CSV'
contact,type,channel,campaign,at,total,currency,segments,url,amount
x@example.com,sent,email,spring,2026-11-01T09:00:00Z,,,,,
y@example.com,sent,email,spring,2026-11-01T09:00:00Z,,,,,
x@example.com,clicked,email,spring,2026-11-01T10:00:00Z,,,,https://shop.example/sale,
y@example.com,clicked,email,spring,2026-11-01T10:00:00Z,,,,https://shop.example/sale,
y@example.com,clicked,email,spring,2026-11-01T10:05:00Z,,,,https://shop.example/sale,
y@example.com,clicked,email,spring,2026-11-01T10:06:00Z,,,,https://shop.example/shoes,
x@example.com,sent,sms,flash,2026-11-03T09:00:00Z,,,2,,
z@example.com,sent,sms,flash,2026-11-03T23:30:00Z,,,3,,
x@example.com,purchase,web,,2026-11-04T12:00:00Z,100.00,EUR,,,
y@example.com,purchase,web,,2026-11-01T09:00:00Z,40.50,,,,
y@example.com,purchase,web,,2026-11-08T09:00:00Z,9.50,eur,,,
y@example.com,purchase,web,,2026-11-02T09:00:00Z,1000,USD,,,
z@example.com,purchase,pos,,2026-11-20T12:00:00Z,25,,,,
w@example.com,purchase,pos,,2026-10-30T12:00:00Z,60,,,,
x@example.com,order,web,,2026-11-04T13:00:00Z,,,,,70
CSV
cat >nudge.yaml <<'YAML'
report:
  currency: eur
  price:
    sms: 0.05
    email: 0.001
YAML
export NUDGE_CONFIG="$T/nudge.yaml"
ok "a small store with known purchases" nudge event import --create small.csv

cols=campaign,messages,contacts,converted,conversions,revenue,revenue_per_message,sms_segments,cost,revenue_per_cost
pick() { /usr/bin/python3 -c 'import csv, sys
cols = sys.argv[1].split(",")
for r in csv.DictReader(open(".out", newline="")):
    print(",".join(r[c] for c in cols))' "$cols"; }

exits "last-touch by default" 0 nudge report --format csv
is "flash has x's 100; spring y's 40.50 and 9.50 (the USD one is a conversion without revenue)" "$(pick)" \
"spring,2,2,1,3,50.0,25.0,0,0.002,25000.0
flash,2,2,1,1,100.0,50.0,5,0.25,400.0"

exits "first-touch" 0 nudge report --attribution first-touch --format csv
is "x's purchase goes to spring, which reached x first" "$(pick)" \
"spring,2,2,2,4,150.0,75.0,0,0.002,75000.0
flash,2,2,0,0,0.0,0.0,5,0.25,0.0"

exits "any" 0 nudge report --attribution any --format csv
is "x's purchase counts for both" "$(pick)" \
"spring,2,2,2,4,150.0,75.0,0,0.002,75000.0
flash,2,2,1,1,100.0,50.0,5,0.25,400.0"
like "and says that totals may count a purchase twice" "$(cat .err)" \
	'attribution any: .* more than once'
is "last-touch says nothing on stderr" \
	"$(nudge report --format csv 2>&1 >/dev/null)" ""

exits "--campaign spring" 0 nudge report --campaign spring --format csv
is "a campaign alone keeps its last-touch credits, not x's" "$(pick)" \
"spring,2,2,1,3,50.0,25.0,0,0.002,25000.0"

exits "--window 30d" 0 nudge report --window 30d --format csv
is "z's late purchase now goes to flash" "$(pick)" \
"spring,2,2,1,3,50.0,25.0,0,0.002,25000.0
flash,2,2,2,2,125.0,62.5,5,0.25,500.0"

exits "by channel" 0 nudge report --by channel --format csv
cols=channel,messages,contacts,conversions,revenue,cost
is "per channel, the same credits" "$(pick)" \
"email,2,2,3,50.0,0.002
sms,2,2,1,100.0,0.25"

exits "revenue from another prop" 0 env NUDGE_CONFIG=/dev/null \
	nudge report --format csv
cols=campaign,conversions,revenue,cost
is "with no report: config every currency counts and there is no cost" \
	"$(pick)" "spring,3,1050.0,
flash,1,100.0,"

# days: z's sms went out at 23:30 UTC, 01:30 on Nov 4 in Jerusalem
cols=day,messages,sms_segments
exits "--by day is UTC by default" 0 nudge report --by day --format csv
is "z's sms on Nov 3" "$(pick)" "2026-11-01,2,0
2026-11-03,2,5"
exits "--tz Asia/Jerusalem" 0 nudge report --by day --tz Asia/Jerusalem \
	--format csv
is "z's sms on Nov 4" "$(pick)" "2026-11-01,2,0
2026-11-03,1,2
2026-11-04,1,3"
cat >tz.yaml <<'YAML'
policy:
  quiet_hours: { from: "21:00", to: "08:00", timezone: Asia/Jerusalem }
YAML
exits "the quiet hours' zone is the default" 0 env NUDGE_CONFIG="$T/tz.yaml" \
	nudge report --by day --format csv
is "z's sms on Nov 4 again" "$(pick)" "2026-11-01,2,0
2026-11-03,1,2
2026-11-04,1,3"
exits "an unknown zone is a usage error" 64 nudge report --by day --tz Mars/Olympus
like "naming it" "$(cat .err)" 'tz: unknown time zone "Mars/Olympus"'

cat >conv.yaml <<'YAML'
report:
  timezone: Asia/Jerusalem
  conversion: order
  value: amount
YAML
cols=campaign,conversions,revenue
exits "report: conversion and value" 0 env NUDGE_CONFIG="$T/conv.yaml" \
	nudge report --format csv
is "x's order of 70 goes to flash, the last message before it" "$(pick)" \
"spring,0,0.0
flash,1,70.0"
cols=day,messages
exits "report: timezone" 0 env NUDGE_CONFIG="$T/conv.yaml" \
	nudge report --by day --format csv
is "z's sms on Nov 4 in the config's zone" "$(pick)" "2026-11-01,2
2026-11-03,1
2026-11-04,1"

exits "--by link" 0 nudge report --by link --format csv
is "clicks and contacts per URL, the most clicked first" "$(cat .out | tr -d '\r')" \
"campaign,url,clicks,contacts,click_pct_contacts
spring,https://shop.example/sale,3,2,100.0
spring,https://shop.example/shoes,1,1,50.0"

printf 'report:\n  price:\n    sms: cheap\n' >bad.yaml
exits "a bad price is bad data" 65 env NUDGE_CONFIG="$T/bad.yaml" nudge report
like "naming file, line and field" "$(cat .err)" \
	'bad.yaml:3:[0-9]+: report: price: sms: expected a price'

# A larger random store: 60 contacts, 4 campaigns on 3 channels, 400
# messages and 150 purchases over 30 days; every figure recomputed in
# Python from the CSV.
/usr/bin/python3 - <<'PY'
import random
rnd = random.Random(17)
camps = [("c-mail", "email"), ("c-sms", "sms"), ("c-push", "push"), ("c-mail2", "email")]
t0 = 1793491200  # 2026-11-01T00:00:00Z
rows, seen = [], set()
def iso(t):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
for i in range(400):
    k = rnd.randrange(60); c, ch = rnd.choice(camps)
    t = t0 + rnd.randrange(30 * 86400) // 60 * 60
    if (k, t) in seen: continue
    seen.add((k, t))
    seg = str(rnd.randint(1, 3)) if ch == "sms" else ""
    rows.append((f"k{k}@example.com", "sent", ch, c, iso(t), "", "", seg))
for i in range(150):
    k = rnd.randrange(60)
    t = t0 + rnd.randrange(35 * 86400)
    cur = rnd.choice(["", "", "EUR", "USD"])
    total = "" if rnd.random() < 0.05 else f"{rnd.randrange(100, 50000) / 100:.2f}"
    rows.append((f"k{k}@example.com", "purchase", "web", "", iso(t), total, cur, ""))
with open("big.csv", "w") as f:
    f.write("contact,type,channel,campaign,at,total,currency,segments\n")
    for r in rows: f.write(",".join(r) + "\n")
PY
ok "a random store" sh -c 'rm -f "$NUDGE_DB" && nudge event import --create big.csv'

cat >check.py <<'PY'
import csv, sys, calendar, time
from decimal import Decimal
attr = sys.argv[1]
W = 7 * 86400
price = {"sms": Decimal("0.05"), "email": Decimal("0.001")}
def ts(s): return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))
sent, buys = [], []
for i, r in enumerate(csv.DictReader(open("big.csv"))):
    if r["type"] == "sent":
        sent.append((r["contact"], ts(r["at"]), i, r["campaign"], r["channel"], int(r["segments"] or 1)))
    else:
        v = Decimal(r["total"]) if r["total"] and r["currency"] in ("", "EUR") else Decimal(0)
        buys.append((r["contact"], ts(r["at"]), i, v))
camps = {}
for k, t, i, c, ch, seg in sent:
    g = camps.setdefault(c, {"first": (t, c), "msgs": 0, "contacts": set(), "seg": 0, "cost": Decimal(0), "conv": set(), "buyers": set(), "rev": Decimal(0)})
    g["first"] = min(g["first"], (t, c)); g["msgs"] += 1; g["contacts"].add(k)
    g["seg"] += seg if ch == "sms" else 0
    g["cost"] += price.get(ch, 0) * (seg if ch == "sms" else 1)
total_conv = 0
for k, t, i, v in buys:
    ms = [s for s in sent if s[0] == k and t - W <= s[1] <= t]
    if not ms: continue
    total_conv += 1
    if attr == "last-touch": ms = [max(ms, key=lambda s: (s[1], s[2]))]
    elif attr == "first-touch": ms = [min(ms, key=lambda s: (s[1], s[2]))]
    for c in {s[3] for s in ms}:
        g = camps[c]
        if (k, t, i) not in g["conv"]:
            g["conv"].add((k, t, i)); g["buyers"].add(k); g["rev"] += v
def f(x): return f"{float(x):.2f}"
for c, g in sorted(camps.items(), key=lambda x: x[1]["first"]):
    n = len(g["contacts"])
    print(c, g["msgs"], n, len(g["buyers"]), f"{100 * len(g['buyers']) / n:.1f}", len(g["conv"]), f(g["rev"]),
          f(g["rev"] / g["msgs"]), g["seg"], f"{float(g['cost']):.4f}", f(g["rev"] / g["cost"]) if g["cost"] else "none")
print("total", total_conv)
PY
cat >got.py <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
def f(x): return f"{float(x):.2f}"
for r in rows:
    print(r["campaign"], r["messages"], r["contacts"], r["converted"], r["conversion_pct_contacts"], r["conversions"],
          f(r["revenue"]), f(r["revenue_per_message"]), r["sms_segments"], f"{float(r['cost']):.4f}", f(r["revenue_per_cost"]) if r["revenue_per_cost"] else "none")
if sys.argv[2] != "any": print("total", sum(int(r["conversions"]) for r in rows))
PY
for a in last-touch first-touch any; do
	nudge report --attribution $a --format csv >"$a.csv" 2>/dev/null
	/usr/bin/python3 check.py $a >"$a.want"
	[ $a = any ] && sed -i '/^total/d' "$a.want"
	/usr/bin/python3 got.py "$a.csv" $a >"$a.got"
	cmp_file "$a: every figure equals Python's" "$a.want" "$a.got"
done
like "last-touch: the campaigns' conversions add up to the purchases that had a message before them, none twice" \
	"$(cat last-touch.got)" "^total $(sed -n 's/^total //p' last-touch.want)\$"
diag "last-touch: $(grep -c . last-touch.want) lines; $(grep total last-touch.want)"
done_testing
