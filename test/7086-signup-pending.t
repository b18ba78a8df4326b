#!/bin/sh
# An unconfirmed sign-up is not consent: a contact a form created and
# nobody confirmed has a `pending` consent row on email, so no marketing
# reaches it even though email is opt-out in the config and the
# campaign's audience names no list: trigger passes it over, send skips
# it saying why, `subscribed email` leaves it out.  Its confirmation
# still goes (transactional: requested), and once confirmed it is
# reached.  An address already known keeps its consent when it signs up.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/track.sh"
start_smtpd
plan 15

track_setup
signup_config 'consent: {email: opt-out, sms: opt-in}' 'event_types: [purchase]'
printf 'email\nann@example.com\n' >known.csv
ok "a store with a customer who never said anything about consent" \
    nudge import-list known.csv
mkdir -p camp/templates
printf 'Subject: Hello\nFrom: Shop <shop@example.com>\nX-Nudge-Track: no\n\nHello\n' >camp/templates/hello.txt
cat >camp/hello.yaml <<'EOF2'
name: hello
audience: not purchase within 1d
steps:
  - id: one
    channel: email
    template: templates/hello.txt
EOF2
form() { hit POST /s/news -A 'Mozilla/5.0 (test)' --data-raw "$1"; }
id() { sql "SELECT id FROM contacts WHERE email = '$1'"; }

is "Ann (known) and Dana (new) sign up" \
    "$(form 'email=ann%40example.com') $(form 'email=dana%40example.com')" "200 200"
is "Dana is pending on email, Ann has no consent row" \
    "$(sql "SELECT c.email, n.status FROM consent_now n JOIN contacts c ON c.id = n.contact_id WHERE n.channel = 'email'")" \
    "dana@example.com	pending"
is "subscribed email leaves the pending contact out" \
    "$(nudge segment -f ids 'subscribed email')" "$(id ann@example.com)"
is "a campaign naming no list: trigger offers only Ann" \
    "$(nudge trigger camp/hello.yaml | grep '	hello	' | cut -f1)" "$(id ann@example.com)"
is "send given Dana anyway skips her, saying why" \
    "$(id dana@example.com | nudge send -c hello2 -t camp/templates/hello.txt 2>/dev/null | cut -f2,3 | sed 's/, 20[-0-9]*,/, DAY,/')" \
    "skipped	pending (email, DAY, form:news)"
ok "the confirmations go out" sh -c \
    "nudge trigger '$TOP/campaigns/signup-confirm.yaml' | nudge send"
is "to both, over SMTP" \
    "$(cat "$SMTPD_DIR"/*.env | sed -n 's/^rcpt //p' | sort | tr '\n' ' ')" \
    "ann@example.com dana@example.com "
u=$(/usr/bin/python3 "$TESTDIR/signup/confirm-url.py" "$SMTPD_DIR" dana@example.com)
is "Dana confirms" "$(hit POST "$u" --data '')" 200
is "subscribed now" "$(sql "SELECT status FROM consent_now WHERE contact_id = $(id dana@example.com)")" subscribed
is "the campaign now offers both" \
    "$(nudge trigger camp/hello.yaml | grep '	hello	' | cut -f1 | sort | tr '\n' ' ')" \
    "$(id ann@example.com) $(id dana@example.com) "
ok "and sends" sh -c "nudge trigger camp/hello.yaml | nudge send"
is "reaching Dana" \
    "$(cat "$SMTPD_DIR"/*.env | sed -n 's/^rcpt //p' | grep -c dana)" 2

# A store from before the consent migration (10 -> 11: consent's CHECK without
# pending, no attr_names) migrates, its consent rows kept with their ids.
v=$(sql 'PRAGMA user_version')
sql "DROP VIEW consent_now; DROP TABLE attr_names;
    CREATE TABLE consent_v9 AS SELECT * FROM consent WHERE status <> 'pending';
    DROP TABLE consent;
    CREATE TABLE consent (id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL
      REFERENCES contacts (id) ON DELETE CASCADE, channel TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status = 'subscribed' OR status =
      'unsubscribed' OR status = 'bounced' OR status = 'complained'),
      at INTEGER NOT NULL, source TEXT NOT NULL, event_id INTEGER, proof TEXT);
    INSERT INTO consent SELECT * FROM consent_v9; DROP TABLE consent_v9;
    CREATE INDEX consent_contact ON consent (contact_id, channel, at, id);
    CREATE VIEW consent_now AS SELECT c.* FROM consent c WHERE NOT EXISTS (
      SELECT 1 FROM consent d WHERE d.contact_id = c.contact_id AND
      d.channel = c.channel AND (d.at > c.at OR (d.at = c.at AND d.id > c.id)));
    PRAGMA user_version = 10"
before=$(sql "SELECT id, contact_id, channel, status, source FROM consent ORDER BY id")
is "a sign-up on the older store migrates it first" \
    "$(form 'email=zoe%40example.com') $(sql 'PRAGMA user_version') $(sql "SELECT count(*) FROM sqlite_master WHERE name = 'attr_names'")" "200 $v 1"
is "the old consent rows kept, the new one pending" \
    "$(sql "SELECT id, contact_id, channel, status, source FROM consent ORDER BY id")" \
    "$before
$(($(echo "$before" | tail -n 1 | cut -f1) + 1))	$(id zoe@example.com)	email	pending	form:news"
