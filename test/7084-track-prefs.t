#!/bin/sh
# The preference center through lighttpd: {{preferences_url}} in a
# message leads to a page with a checkbox per topic (config topics:) and
# per channel; the choices are recorded with proof, and segments honour
# them (subscribed email topic "NAME").
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
plan 18

export NUDGE_FILE_NOSYNC=1
track_setup
printf 'topics: [news, offers]\n' >>"$NUDGE_CONFIG"
printf 'email,phone,first_name\nann@example.com,+972501234567,Ann\nbob@example.com,,Bob\n' >c.csv
nudge import-list --list news c.csv 2>/dev/null
nudge import-list --list offers c.csv 2>/dev/null
printf 'Subject: News\nFrom: Shop <shop@example.com>\nX-Nudge-Track: no\n\nYour choices: {{preferences_url}}\n' >news.txt
ok "send a message naming {{preferences_url}}" sh -c \
    "echo 1 | nudge send -c weekly -t news.txt --transport file://$T/out"
p=$(/usr/bin/python3 -c 'import email, email.policy, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(re.search(r"Your choices: https?://[^/]+/t(\S+)", m.get_body(("plain",)).get_content()).group(1))' "$T"/out/new/*)
like "the link is the preference page" "$p" '^/s/prefs/[A-Za-z0-9_-]+$'
is "the page" "$(hit GET "$p")" 200
is "a box per topic and per channel the contact has, all ticked" \
    "$(grep '<input' b)" \
'<p><label><input type="checkbox" name="topic" value="news" checked> news</label></p>
<p><label><input type="checkbox" name="topic" value="offers" checked> offers</label></p>
<p><label><input type="checkbox" name="channel" value="email" checked> email</label></p>
<p><label><input type="checkbox" name="channel" value="sms" checked> sms</label></p>'
is "looking changes nothing" "$(sql "SELECT count(*) FROM consent")" 0
is "keep news and email, leave offers and sms" \
    "$(hit POST "$p" -A 'Phone/2' --data 'topic=news&channel=email&save=1')" 200
like "saved" "$(cat b)" '<h1>Your choices are saved</h1>'
is "a consent row for each change, from the page" \
    "$(sql "SELECT channel, status, source FROM consent ORDER BY id")" \
    "topic:offers	unsubscribed	prefs
sms	unsubscribed	prefs"
is "the preferences event holds the choices and the proof" \
    "$(sql "SELECT props ->> 'kept', props ->> 'left', props ->> 'ip', props ->> 'user_agent'
    FROM events WHERE type = 'preferences'")" \
    "topic:news,email	topic:offers,sms	127.0.0.1	Phone/2"
is "segments honour the topic left" \
    "$(nudge segment -f ids 'list "offers" and subscribed email topic "offers"')" 2
is "and the one kept" \
    "$(nudge segment -f ids 'list "news" and subscribed email topic "news"')" "1
2"
is "and the channel left" "$(nudge segment -f ids 'subscribed sms')" ""
is "a send to the topic skips who left it, saying why" \
    "$(printf '1\n2\n' | nudge send -c offer1 -t news.txt --topic offers \
    --transport file://$T/out2 2>/dev/null | cut -f1-3 | sed 's/	[0-9].*eml$//')" \
    "1	skipped	left the topic offers
2	sent"
is "a send to the topic kept reaches her" \
    "$(echo 1 | nudge send -c news1 -t news.txt --topic news \
    --transport file://$T/out3 2>/dev/null | cut -f2)" "sent"
hit GET "$p" >/dev/null
is "the page shows the choices made" "$(grep -c 'checked>' b)" 2
is "leave everything" "$(hit POST "$p" --data 'leave=all')" 200
is "every topic and channel left" \
    "$(sql "SELECT channel, status FROM consent_now WHERE contact_id = 1 ORDER BY channel")" \
    "email	unsubscribed
sms	unsubscribed
topic:news	unsubscribed
topic:offers	unsubscribed"
is "a Hebrew page for a Hebrew browser" \
    "$(hit GET "$p" -H 'Accept-Language: he')$(grep -c 'dir="rtl"' b)" "2001"
