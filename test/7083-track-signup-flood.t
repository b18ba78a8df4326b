#!/bin/sh
# A flood of 10,000 sign-ups from one IP address through lighttpd and
# nudge-track's FastCGI server, half of them for one address (the
# victim's) and half for new ones: every answer is the same 200 page, at
# most rate_ip requests are recorded, and cron sends at most one
# confirmation per address however often it runs that day.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
start_smtpd
plan 6

HTTPD_FASTCGI=1 track_setup
cat >>"$NUDGE_CONFIG" <<EOF2
channels:
  email:
    url: smtp://127.0.0.1:$SMTPD_PORT
forms:
  news:
    lists: [news]
    agree_text: "News by email."
EOF2
printf 'email\nann@example.com\n' >c.csv
nudge import-list c.csv 2>/dev/null
N=${NUDGE_FLOOD:-10000}
# under valgrind (make check-valgrind) a few hundred say the same
wrapped && N=300

is "$N sign-ups: every answer is 200" \
    "$(/usr/bin/python3 "$TESTDIR/signup/flood.py" "$HTTPD_FURL/s/news" "$N" 2>rate)" \
    "200 $N"
diag "$(cat rate) sign-ups a second"
is "at most rate_ip (5) recorded" \
    "$(sql "SELECT count(*) FROM events WHERE type = 'signup_pending'")" 5
is "the victim's address at most rate_email (3) times" \
    "$(sql "SELECT count(*) FROM events e JOIN contacts c ON c.id = e.contact_id
    WHERE e.type = 'signup_pending' AND c.email = 'victim@example.com'")" 3
cron() { nudge trigger "$TOP/campaigns/signup-confirm.yaml" |
    nudge send --transactional >/dev/null 2>&1; }
ok "cron" cron
ok "cron again" cron
is "one confirmation per address: the victim gets one" \
    "$(cat "$SMTPD_DIR"/*.env | sed -n 's/^rcpt //p' | sort | uniq -c | tr -s ' ')" \
    " 1 bot1@example.com
 1 bot3@example.com
 1 victim@example.com"
