#!/bin/sh
# The confirmation journey is built in: with forms in the config,
# `nudge trigger | nudge send` sends each sign-up request its confirmation
# over SMTP with no campaign file given (the shipped
# campaigns/signup-confirm.yaml is found beside the program, or installed);
# beside other campaigns it runs once; a campaign named signup-confirm
# given on the line takes its place; without forms nothing is added.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
start_smtpd
plan 11

track_setup
cp "$NUDGE_CONFIG" noforms.yaml
signup_config
printf 'email\nann@example.com\n' >known.csv
nudge import-list --list customers known.csv 2>/dev/null
mkdir -p camp
printf 'Subject: Hi\nFrom: Shop <shop@example.com>\n\nHi\n' >camp/hi.txt
printf 'name: hello\naudience: list "customers" and not list "customers"\nsteps:\n  - {id: one, channel: email, template: hi.txt}\n' >camp/hello.yaml
rcpts() { cat "$SMTPD_DIR"/*.env 2>/dev/null | sed -n 's/^rcpt //p' |
    sort | tr '\n' ' '; }

is "a sign-up" "$(hit POST /s/news --data-raw 'email=dana%40example.com')" 200
exits "trigger --check with forms and no campaign file" 0 nudge trigger --check
exits "trigger with no campaign file and no forms is a usage error" 64 \
    nudge trigger --config noforms.yaml
is "trigger alone offers the confirmation" \
    "$(nudge trigger | cut -f1,2,4 | sed 's/#[0-9]*//')" \
    "$(sql "SELECT id FROM contacts WHERE email = 'dana@example.com'")	signup-confirm	$TOP/campaigns/signup-confirm.yaml"
ok "trigger | send" sh -c 'nudge trigger | nudge send'
is "the confirmation reached her over SMTP" "$(rcpts)" "dana@example.com "
like "with its link" "$(/usr/bin/python3 "$TESTDIR/signup/confirm-url.py" "$SMTPD_DIR" dana@example.com)" \
    '^/s/confirm/[A-Za-z0-9_-]+$'
is "beside other campaigns, once" \
    "$(nudge trigger camp/hello.yaml "$TOP/campaigns/signup-confirm.yaml" 2>&1; echo "exit $?")" "exit 0"
is "a second request, other campaigns named: the journey runs with them" \
    "$(hit POST /s/news --data-raw 'email=eve%40example.com') $(nudge trigger camp/hello.yaml | cut -f2 | sort -u)" \
    "200 signup-confirm"
printf 'name: signup-confirm\nentry: on signup_pending\ntransactional: requested\nsteps:\n  - {id: mine, channel: email, template: hi.txt}\n' >camp/mine.yaml
is "a campaign named signup-confirm given replaces the shipped one" \
    "$(nudge trigger camp/mine.yaml | cut -f2,3 | sed 's/#[0-9]*//' | sort -u)" "signup-confirm	mine"
is "without forms, only what is named" \
    "$(nudge trigger --config noforms.yaml camp/hello.yaml | wc -l | tr -d ' ')" 0
