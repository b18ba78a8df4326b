#!/bin/sh
# nudge report --format html, looked at in a real browser: Debian's
# chromium, headless, renders the page of a store with known events; the
# test asserts from the DOM chromium built that each chart has as many
# bars and points as the report has rows, that the figures in each table
# equal the CSV report's, that a Hebrew campaign name is laid out right
# to left, that nothing in the page reaches the network or runs a script,
# and that 200 campaigns stay under 500 KB.  A screenshot is taken too.
. "$(dirname "$0")/lib.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser) ||
	skip_all "chromium is not installed: make deps"
plan 22

cat >events.csv <<'CSV'
contact,type,channel,campaign,at,total,segments
dana@example.com,sent,email,nov-news,2026-11-02T09:00:00Z,,
moshe@example.com,sent,email,nov-news,2026-11-02T09:00:00Z,,
noa@example.com,sent,email,nov-news,2026-11-02T09:00:00Z,,
dana@example.com,opened,email,nov-news,2026-11-02T10:00:00Z,,
moshe@example.com,opened,email,nov-news,2026-11-02T11:00:00Z,,
dana@example.com,clicked,email,nov-news,2026-11-02T10:01:00Z,,
dana@example.com,purchase,,,2026-11-03T12:00:00Z,120,
+972521234567,sent,sms,מבצע חנוכה,2026-11-04T08:00:00Z,,2
+972527654321,sent,sms,מבצע חנוכה,2026-11-04T08:00:00Z,,2
+972527654321,clicked,sms,מבצע חנוכה,2026-11-04T08:30:00Z,,
+972527654321,purchase,,,2026-11-05T12:00:00Z,80,
noa@example.com,sent,email,nov-news,2026-10-20T09:00:00Z,,
CSV
ok "a store with known events" nudge event import --create events.csv
ok "the page" sh -c 'nudge report --format html --since 2026-11-01 --until 2026-11-08 >r.html'
ok "the same period as CSV" sh -c 'nudge report --format csv --since 2026-11-01 --until 2026-11-08 >r.csv'
ok "per day as CSV" sh -c 'nudge report --by day --format csv --since 2026-11-01 --until 2026-11-08 >day.csv'
ok "per channel as CSV" sh -c 'nudge report --by channel --format csv --since 2026-11-01 --until 2026-11-08 >chan.csv'

# chromium: the DOM it built, and a screenshot
"$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$T/chr" \
    --dump-dom "file://$T/r.html" >dom.html 2>chr.err
ok "chromium renders it" test -s dom.html
"$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$T/chr" \
    --hide-scrollbars --window-size=1200,1800 --screenshot="$T/r.png" \
    "file://$T/r.html" >/dev/null 2>>chr.err
ok "and a screenshot of it" /usr/bin/python3 -c 'import sys
sys.exit(open("r.png", "rb").read(8) != b"\x89PNG\r\n\x1a\n")'

/usr/bin/python3 - >checks.txt <<'PY'
import csv, html.parser
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.stack=[]; s.funnels=[]; s.bars={}; s.points={}
        s.tables={}; s.cur=None; s.row=None; s.cell=None; s.scripts=0
        s.ext=0; s.cap=None; s.captions=[]; s.tiles={}
    def handle_starttag(s, tag, a):
        a=dict(a)
        for k,v in a.items():
            if v and (v.startswith("http://") or v.startswith("https://")): s.ext+=1
        if tag=="script": s.scripts+=1
        if tag=="figure" and "funnel" in (a.get("class") or ""): s.funnels.append(0)
        if tag=="figcaption": s.cap=[a.get("dir"),""]
        if a.get("data-figure"): s.tiles[a["data-figure"]]=(a["data-value"],a["data-previous"])
        if tag=="rect" and "bar" in (a.get("class") or "").split():
            if a.get("data-step"): s.funnels[-1]+=1
            else:
                p=[x for x in s.stack if x[0]=="svg"][-1][1].get("id")
                s.bars[p]=s.bars.get(p,0)+1
        if tag=="circle" and "point" in (a.get("class") or ""):
            s.points[a["data-series"]]=s.points.get(a["data-series"],0)+1
        if tag=="table": s.cur=a.get("id"); s.tables[s.cur]=[]
        if tag=="tr" and s.cur: s.row=[]
        if tag in("td","th") and s.row is not None: s.cell=""
        s.stack.append((tag,a))
    def handle_endtag(s, tag):
        while s.stack and s.stack[-1][0]!=tag: s.stack.pop()
        if s.stack: s.stack.pop()
        if tag in("td","th") and s.row is not None: s.row.append(s.cell); s.cell=None
        if tag=="tr" and s.row is not None: s.tables[s.cur].append(s.row); s.row=None
        if tag=="table": s.cur=None
        if tag=="figcaption": s.captions.append(tuple(s.cap)); s.cap=None
    def handle_data(s, d):
        if s.cell is not None: s.cell+=d
        if s.cap is not None: s.cap[1]+=d
p=P(); p.feed(open("dom.html",encoding="utf-8").read())
camp=list(csv.reader(open("r.csv",encoding="utf-8")))
day=list(csv.reader(open("day.csv",encoding="utf-8")))
chan=list(csv.reader(open("chan.csv",encoding="utf-8")))
print("funnels", len(p.funnels), len(camp)-1)
print("funnel bars", sorted(set(p.funnels)))
print("campaign table equals the CSV", p.tables.get("table-campaign")==camp)
print("day table equals the CSV", p.tables.get("table-day")==day)
print("channel table equals the CSV", p.tables.get("table-channel")==chan)
print("points", p.points.get("messages"), p.points.get("clicked"), p.points.get("conversions"), len(day)-1)
print("channel bars", p.bars.get("chart-channel"), len(chan)-1)
print("revenue bars", p.bars.get("chart-revenue"), len(camp)-1, [r[camp[0].index("revenue")] for r in camp[1:]])
print("scripts", p.scripts, "external", p.ext)
print("hebrew caption", [c for c in p.captions if "חנוכה" in c[1]])
print("tiles", *[f"{k}={p.tiles[k][0]}/{p.tiles[k][1]}" for k in ("messages","contacts","opened","clicked","conversions","revenue","sms_segments")])
PY
is "a funnel per campaign of the CSV report" "$(grep '^funnels' checks.txt)" "funnels 2 2"
is "each funnel has its four bars" "$(grep '^funnel bars' checks.txt)" "funnel bars [4]"
is "the campaign table equals the CSV report" "$(grep '^campaign table' checks.txt)" "campaign table equals the CSV True"
is "the day table equals the CSV report by day" "$(grep '^day table' checks.txt)" "day table equals the CSV True"
is "the channel table equals the CSV report by channel" "$(grep '^channel table' checks.txt)" "channel table equals the CSV True"
is "a point a day for each of the three lines" "$(grep '^points' checks.txt)" "points 2 2 2 2"
is "a bar a channel" "$(grep '^channel bars' checks.txt)" "channel bars 2 2"
is "a revenue bar a campaign, last-touch" "$(grep '^revenue bars' checks.txt)" "revenue bars 2 2 ['120.0', '80.0']"
is "no script, nothing from the network" "$(grep '^scripts' checks.txt)" "scripts 0 external 0"
is "the Hebrew name is laid out by its own direction" "$(grep '^hebrew' checks.txt)" "hebrew caption [('auto', 'מבצע חנוכה')]"

is "headline figures, this period / the one before" "$(grep '^tiles' checks.txt)" \
    "tiles messages=5.00/0.00 contacts=5.00/0.00 opened=2.00/0.00 clicked=2.00/0.00 conversions=2.00/0.00 revenue=200.00/0.00 sms_segments=4.00/0.00"

printf 'report:\n  price: { sms: 0.05 }\n' >price.yaml
nudge report --config price.yaml --format html --since 2026-11-01 --until 2026-11-08 >priced.html
is "SMS cost: the segments times the configured price" \
    "$(grep -o 'data-figure="sms_cost" data-value="[0-9.]*"' priced.html)" \
    'data-figure="sms_cost" data-value="0.20"'
like "without a price, the tile says where to set one" "$(cat r.html)" \
    'data-figure="sms_cost".*no price: report: price: sms:'

# 200 campaigns, a sent event each a day for 30 days
/usr/bin/python3 - >big.csv <<'PY'
print("contact,type,channel,campaign,at")
for c in range(200):
    for d in range(1, 31):
        print(f"c{c % 50}@example.com,sent,email,campaign-{c:03d},2026-11-{d:02d}T09:00:00Z")
PY
ok "200 campaigns over 30 days" nudge event import --create big.csv
nudge report --format html --since 2026-11-01 --until 2026-12-01 >big.html
ok "are under 500 KB on one page" test "$(wc -c <big.html)" -lt 512000
diag "200 campaigns: $(wc -c <big.html) bytes"
done_testing
