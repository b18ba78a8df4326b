# test/track.sh: sourced by the 7xxx tests after lib.sh: a store with
# one contact, a campaign, its ledger row, a config with tracking, and
# lighttpd serving nudge-track.

# Fixed contents, so that expected outputs are exact.
export NUDGE_TRACK_SECRET=test-tracking-secret
export NUDGE_CONFIG="$T/config.yaml"
: >"$NUDGE_CONFIG"

# track_setup: starts lighttpd and writes the config with its base URL.
track_setup() {
	start_lighttpd
	printf 'tracking:\n  base_url: %s\n  secret_env: NUDGE_TRACK_SECRET\n' \
	    "$HTTPD_URL" >"$NUDGE_CONFIG"
}

# seed: contact 1 (ann@example.com, +972501234567) with a sent message
# of campaign "promo" (ledger row 1); contact 2 without messages.
seed() {
	nudge event add --contact ann@example.com --type sent --channel email \
	    --campaign promo --create >/dev/null &&
	nudge event add --contact bob@example.com --type purchase \
	    --create >/dev/null &&
	sql "UPDATE contacts SET phone = '+972501234567' WHERE id = 1;
	    INSERT INTO messages (campaign_id, step, contact_id, channel,
	    status, attempts, provider_id, claimed_at, updated_at)
	    VALUES (1, '', 1, 'email', 'sent', 1, NULL, 0, 0);
	    UPDATE events SET message_id = 1 WHERE id = 1"
}

# hit METHOD PATH [curl options...]: requests $HTTPD_URL$PATH; prints the
# status; the headers (without Date and Server, CRs dropped) are left in
# $T/h and the body in $T/b.
hit() {
	_m=$1 _p=$2; shift 2
	curl -s -X "$_m" -o "$T/b" -D "$T/h.raw" -w '%{http_code}' "$@" \
	    "$HTTPD_URL$_p"
	tr -d '\r' <"$T/h.raw" | grep -v '^Date: \|^Server: \|^$' >"$T/h"
}

# path_of URL: the part of a tracking URL after the base.
path_of() { printf '%s\n' "${1#"$HTTPD_URL"}"; }

events() { sql 'SELECT count(*) FROM events'; }

# signup_config [KEY: VALUE...]: appends to the config an email channel on
# the test's SMTP server and a form "news" adding to the list news, with
# the extra lines given (as "consent: {email: opt-out}").
signup_config() {
	for _l in "$@"; do printf '%s\n' "$_l"; done >>"$NUDGE_CONFIG"
	printf 'channels:\n  email:\n    url: smtp://127.0.0.1:%s\n' \
	    "$SMTPD_PORT" >>"$NUDGE_CONFIG"
	printf 'forms:\n  news:\n    lists: [news]\n    agree_text: "I agree to get the weekly news by email."\n' \
	    >>"$NUDGE_CONFIG"
}
