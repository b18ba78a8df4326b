#!/bin/sh
# nudge track form prints a form's snippet; forms: in the config is
# checked, each error naming file, line and field.
. "$(dirname "$0")/lib.sh"
plan 10

export NUDGE_TRACK_SECRET=s
cat >cfg.yaml <<'EOF2'
tracking:
  base_url: https://t.example.com/t/
  secret_env: NUDGE_TRACK_SECRET
forms:
  news:
    lists: [news]
    fields: [email, phone]
    agree_text: "Weekly news, <b>no</b> spam & no sharing."
EOF2
export NUDGE_CONFIG="$T/cfg.yaml"
exits "nudge track form news" 0 nudge track form news
is "the snippet: email, phone, no list choice for one list, the honeypot, the text escaped" \
    "$(cat .out)" \
'<form method="post" action="https://t.example.com/t/s/news" accept-charset="utf-8">
  <p><label>Email <input type="email" name="email" required autocomplete="email"></label></p>
  <p><label>Phone <input type="tel" name="phone" autocomplete="tel"></label></p>
  <p style="position:absolute;left:-9999px" aria-hidden="true"><label>Leave this empty <input name="website" tabindex="-1" autocomplete="off"></label></p>
  <p>Weekly news, &lt;b&gt;no&lt;/b&gt; spam &amp; no sharing.</p>
  <p><button type="submit">Sign up</button></p>
</form>'
exits "in Hebrew" 0 nudge track form --lang he news
like "right to left" "$(head -1 .out)" 'dir="rtl" lang="he">$'
exits "an unknown form: 65" 65 nudge track form nwes
is "naming it" "$(cat .err)" "nudge-track: form: no such form in $T/cfg.yaml: \"nwes\""
exits "a bad --lang: 64" 64 nudge track form --lang fr news

printf 'forms:\n  news:\n    lists: [news]\n' >bad1.yaml
exits "a form without agree_text: 65" 65 nudge track --config bad1.yaml form news
is "says where and why" "$(cat .err)" \
    "nudge-track: bad1.yaml:3:5: forms: news: agree_text: missing: the text a person agrees to is the proof of consent"
printf 'forms:\n  news:\n    agree_text: ok\n    fields: [email, fax]\n' >bad2.yaml
nudge track --config bad2.yaml form news 2>&1 >/dev/null | grep -q 'bad2.yaml:4:21: forms: news: fields: expected email, phone or name, got "fax"' &&
    _result 0 "an unknown field is named with its place" ||
    { _result 1 "an unknown field is named with its place"; diag "$(nudge track --config bad2.yaml form news 2>&1)"; }
done_testing
