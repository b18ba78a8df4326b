#!/bin/sh
# A/B tests and holdouts over simulated days through a real SMTP server
# (aiosmtpd): the test share gets the variants first, the rest wait for
# the test's wait, then get the winner exactly once; with no significant
# difference the first variant goes; a holdout's contacts get a held-out
# ledger row and never reach the server, and the report's uplift interval
# equals one computed here by hand (python3, the textbook formula).
. "$(dirname "$0")/lib.sh"
start_smtpd
plan 21
export NUDGE_FILE_NOSYNC=1
printf 'channels:\n  email:\n    url: smtp://127.0.0.1:%s\n' "$SMTPD_PORT" >cfg.yaml
export NUDGE_CONFIG="$T/cfg.yaml"
{
	echo email,first_name,lists
	i=1
	while [ $i -le 200 ]; do
		if [ $i -le 20 ]; then echo "c$i@example.com,C$i,all;vip"
		else echo "c$i@example.com,C$i,all"; fi
		i=$((i + 1))
	done
} >contacts.csv
nudge import-list contacts.csv 2>/dev/null
printf 'Subject: Subject A\nFrom: Shop <shop@example.com>\n\nHello {{first_name}}\n' >a.txt
for n in launch tie; do
cat >$n.yaml <<EOF
name: $n
audience: list "all"
steps:
  - id: mail
    channel: email
    template: a.txt
    variants:
      - template: a.txt
      - subject: Subject B
    test: {share: 20%, wait: 4h, metric: clicked}
EOF
done
# the contacts a variant needs to tell 3% from 3.6% (95%, power 80%)
NEED=$(/usr/bin/python3 -c 'import math
p1, p2 = 0.03, 0.036; pm = (p1 + p2) / 2
n = (1.959963984540054 * math.sqrt(2 * pm * (1 - pm)) + 0.8416212335729143 * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p2 - p1) ** 2
print(math.ceil(n))')
is "--check says up front the test is too small, and exits 0" \
	"$(nudge trigger --check launch.yaml 2>&1; echo "exit $?")" \
	"nudge-trigger: launch.yaml:4:5: steps[1]: test: too small: its smallest variant gets about 20 of the 200 contacts in the audience now, and telling a 20% relative difference in clicked from a base rate of 3% (95%, power 80%) needs $NEED a variant
exit 0"
D0=2026-11-10T10:00:00Z
cron() { nudge trigger --now "$1" "$2" 2>>trig.err | nudge send --now "$1" >/dev/null 2>&1; }
count() { cat "$SMTPD_DIR"/*.env 2>/dev/null | grep -c '^rcpt ' ; }
subj() { grep -h '^Subject:' "$SMTPD_DIR"/*.eml | sort | uniq -c | tr -s ' '; }

cron $D0 launch.yaml
N=$(sql "SELECT count(*) FROM messages")
is "day 0: the test share's messages reached the server" "$(count)" "$N"
ok "about 20% of the audience is the test share ($N)" test "$N" -ge 25 -a "$N" -le 60
is "every test message has its variant in the ledger" \
	"$(sql "SELECT count(*) FROM messages WHERE variant IN ('a', 'b')")" "$N"
# half of variant b's contacts click, none of a's
sql "SELECT c.email || ',clicked,email,launch,mail,2026-11-10T11:00:00Z' FROM messages m JOIN contacts c ON c.id = m.contact_id WHERE m.variant = 'b' AND m.id % 2 = 0" >clicks.body
{ echo contact,type,channel,campaign,step,at; cat clicks.body; } >clicks.csv
nudge event import clicks.csv >/dev/null 2>&1
cron 2026-11-10T12:00:00Z launch.yaml
is "before the wait the rest wait" "$(count)" "$N"
cron 2026-11-10T15:00:00Z launch.yaml
is "after the wait the rest get a message each" "$(count)" 200
like "the winner and why on stderr" "$(cat trig.err)" \
	"launch: step mail: clicked per variant: a 0/[0-9]+ .*; b against a: z = [0-9.]+, significant at 95%: sending b to the rest"
is "and in the store" "$(sql "SELECT winner, significant FROM ab_results WHERE campaign = 'launch'")" "b	1"
is "the rest all got b" \
	"$(sql "SELECT count(*) FROM messages WHERE variant = 'b'")" \
	"$((200 - $(sql "SELECT count(*) FROM messages WHERE variant = 'a'")))"
cron 2026-11-11T15:00:00Z launch.yaml
is "a later run sends nothing again" "$(count)" 200
like "report --by variant shows the decision" "$(nudge report --by variant -f tsv 2>&1)" \
	"^launch	mail	b	.*	winner: launch: step mail"

# a tie: nobody clicks, the first variant goes to the rest
: >trig.err
rm -f "$SMTPD_DIR"/*.eml "$SMTPD_DIR"/*.env
cron $D0 tie.yaml
cron 2026-11-10T15:00:00Z tie.yaml
like "a tie says so" "$(cat trig.err)" \
	"no significant difference: sending the first variant \\(a\\) to the rest"
is "and the rest got a" "$(sql "SELECT count(*) FROM messages m JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'tie' AND m.variant = 'a'")" \
	"$((200 - $(sql "SELECT count(*) FROM messages m JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'tie' AND m.variant = 'b'")))"

# a holdout
rm -f "$SMTPD_DIR"/*.eml "$SMTPD_DIR"/*.env
cat >hold.yaml <<EOF
name: hold
audience: list "all"
holdout: 30%
steps:
  - id: mail
    channel: email
    template: a.txt
EOF
cron $D0 hold.yaml
H=$(sql "SELECT count(*) FROM messages m JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'hold' AND m.status = 'held-out'")
ok "a share of the audience is held out ($H)" test "$H" -ge 35 -a "$H" -le 85
is "the others reached the server" "$(count)" "$((200 - H))"
sql "SELECT c.email FROM messages m JOIN contacts c ON c.id = m.contact_id JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'hold' AND m.status = 'held-out'" | sort >held.txt
cat "$SMTPD_DIR"/*.env | sed -n 's/^rcpt //p' | sort >got.txt
is "no held-out contact reached the server" "$(comm -12 held.txt got.txt | wc -l)" 0
cat >hold2.yaml <<EOF
name: hold2
audience: list "all"
holdout: 30%
steps:
  - id: one
    channel: email
    template: a.txt
  - id: two
    channel: email
    template: a.txt
    after: 1d
EOF
cron $D0 hold2.yaml
cron 2026-11-11T11:00:00Z hold2.yaml
is "a held-out row times the next step as a sent one does: held out again" \
	"$(sql "SELECT step, status FROM messages m JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'hold2' GROUP BY 1, 2 ORDER BY 1, 2" | tr '\t\n' '  ')" \
	"one held-out one sent two held-out two sent "
is "the same contacts held out of both steps" \
	"$(sql "SELECT count(*) FROM messages a JOIN messages b ON a.contact_id = b.contact_id AND a.campaign_id = b.campaign_id WHERE a.step = 'one' AND b.step = 'two' AND a.status != b.status")" 0
cat >hold3.yaml <<EOF
name: hold3
audience: list "all"
holdout: 50%
policy:
  exclude: list "vip"
steps:
  - id: mail
    channel: email
    template: a.txt
EOF
cron $D0 hold3.yaml
is "the policy comes first: an excluded contact is neither held out nor sent" \
	"$(sql "SELECT count(*) FROM messages m JOIN campaigns k ON k.id = m.campaign_id JOIN contacts c ON c.id = m.contact_id WHERE k.name = 'hold3' AND c.id IN (SELECT contact_id FROM list_members WHERE list_id = (SELECT id FROM lists WHERE name = 'vip'))") $(sql "SELECT count(*) FROM messages m JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'hold3'")" \
	"0 180"
# purchases: every 3rd treated contact and every 5th held-out one
sql "SELECT c.email, m.status, c.id FROM messages m JOIN contacts c ON c.id = m.contact_id JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'hold'" |
while IFS='	' read -r e st id; do
	if { [ "$st" = sent ] && [ $((id % 3)) -eq 0 ]; } ||
	    { [ "$st" = held-out ] && [ $((id % 5)) -eq 0 ]; }; then
		echo "$e,purchase,,,,2026-11-11T10:00:00Z,$((id % 7 * 10 + 5))"
	fi
done >buys.body
{ echo contact,type,channel,campaign,step,at,total; cat buys.body; } >buys.csv
nudge event import buys.csv >/dev/null 2>&1
nudge report --campaign hold 2>&1 | sed -n '/^holdout of/,$p' >uplift.txt
sql "SELECT m.status, EXISTS (SELECT 1 FROM events e WHERE e.contact_id = m.contact_id AND e.type = 'purchase'), coalesce((SELECT sum(json_extract(e.props, '\$.total')) FROM events e WHERE e.contact_id = m.contact_id AND e.type = 'purchase'), 0) FROM messages m JOIN campaigns k ON k.id = m.campaign_id WHERE k.name = 'hold'" >groups.tsv
/usr/bin/python3 - groups.tsv >want.txt <<'EOF'
import sys, math
g = {"sent": [], "held-out": []}
for l in open(sys.argv[1]):
    s, c, r = l.rstrip("\n").split("\t")
    g[s].append((int(c), float(r)))
def st(v):
    n = len(v); p = sum(c for c, _ in v) / n
    m = sum(r for _, r in v) / n
    var = sum((r - m) ** 2 for _, r in v) / (n - 1)
    return n, sum(c for c, _ in v), p, m, var
nt, kt, pt, mt, vt = st(g["sent"]); nh, kh, ph, mh, vh = st(g["held-out"])
z = 1.959963984540054
d = pt - ph; se = math.sqrt(pt * (1 - pt) / nt + ph * (1 - ph) / nh)
lo, hi = d - z * se, d + z * se
dm = mt - mh; sm = math.sqrt(vt / nt + vh / nh)
print("holdout of hold: %d contacts treated, %d held out" % (nt, nh))
print("conversion rate: treated %.2f%% (%d/%d), held out %.2f%% (%d/%d)" % (100 * pt, kt, nt, 100 * ph, kh, nh))
print("uplift: %+.2f points (95%% interval %+.2f to %+.2f), relative %+.1f%% (95%% interval %+.1f%% to %+.1f%%)" % (100 * d, 100 * lo, 100 * hi, 100 * d / ph, 100 * lo / ph, 100 * hi / ph))
print("revenue per contact: treated %.2f, held out %.2f, uplift %+.2f (95%% interval %+.2f to %+.2f)" % (mt, mh, dm, dm - z * sm, dm + z * sm))
print("the conversion interval includes zero: these groups are too small to tell whether the campaign made a difference" if lo <= 0 <= hi else "the campaign %s conversion: 95 times in 100, an interval drawn this way holds the true uplift" % ("raised" if d > 0 else "lowered"))
EOF
cmp_file "the uplift and its interval as computed by hand" want.txt uplift.txt
nudge report --format html --since 2026-10-01 --until 2026-12-31 >r.html
/usr/bin/python3 - r.html want.txt >html.txt <<'PY'
import html, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<section id="holdouts"><h2>[^<]*</h2><pre dir="auto">(.*?)</pre>', page, re.S)
want = open(sys.argv[2]).read()
print("holdout in the HTML report:", m is not None and want in html.unescape(m.group(1)))
print("variants in the HTML report:", re.search(r'<section id="variants">.*launch', page, re.S) is not None)
PY
is "the HTML report shows the A/B test and the holdout's uplift in words" "$(cat html.txt)" \
"holdout in the HTML report: True
variants in the HTML report: True"
done_testing
