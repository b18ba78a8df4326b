#!/bin/sh
# The journey of DESIGN.md: trigger | send mails step s1 with tracked
# links; one contact clicks through lighttpd; a day later trigger picks
# the next step (if: clicked step "s1") for that contact only; report
# shows both steps.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
plan 9

export NUDGE_FILE_NOSYNC=1
printf 'email,first_name\nann@example.com,Ann\nbob@example.com,Bob\n' >c.csv
ok "contacts" nudge import-list --list news c.csv
track_setup
printf 'tracking:\n  base_url: https://t.example.com/t\n  secret_env: NUDGE_TRACK_SECRET\n' \
    >"$NUDGE_CONFIG"
mkdir -p j/t
cp "$TESTDIR/track/promo.txt" j/t/promo.txt
printf 'Subject: thanks\nFrom: shop@example.com\n\nThanks for looking, {{first_name}}.\n' >j/t/thanks.txt
cat >j/journey.yaml <<'YAML'
name: journey
audience: list "news"
steps:
  - {id: s1, channel: email, template: t/promo.txt}
  - {id: s2, channel: email, template: t/thanks.txt, after: 1d, if: clicked step "s1"}
YAML
# now, and a day and a minute later: the click happens at the wall clock
d0=$(date -u +%Y-%m-%dT%H:%M:%SZ)
d1=$(date -u -d "@$(($(date +%s) + 86460))" +%Y-%m-%dT%H:%M:%SZ)

ok "day 0: trigger | send" sh -c "nudge trigger --now $d0 j/journey.yaml |
    nudge send --now $d0 --transport file://$T/out >sent0"
is "both got step s1" "$(cut -f2,4 sent0)" "sent	journey
sent	journey"
f=$(grep -l 'To: Ann' "$T"/out/new/*)
c=$(/usr/bin/python3 - "$f" <<'PY'
import email, re, sys
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
print(re.search(r"https://t\.example\.com/t(/c/[A-Za-z0-9_-]+)", m.get_body(("html",)).get_content()).group(1))
PY
)
is "Ann clicks through lighttpd" "$(hit GET "$c")" 302
is "the click is on step s1 of the journey" \
    "$(sql "SELECT e.contact_id, k.name, e.step FROM events e JOIN campaigns k ON k.id = e.campaign_id WHERE e.type = 'clicked'")" \
    "1	journey	s1"
is "a day later, trigger picks step s2 for Ann only" \
    "$(nudge trigger --now "$d1" j/journey.yaml | cut -f1-3)" "1	journey	s2"
ok "day 1: trigger | send" sh -c "nudge trigger --now $d1 j/journey.yaml |
    nudge send --now $d1 --transport file://$T/out >sent1"
is "sent" "$(cut -f2 sent1)" "sent"
is "report by step shows the click and the next step" \
    "$(nudge report -b step -f tsv | cut -f1,2,4,9)" \
"journey	s1	2	1
journey	s2	1	0"
done_testing
