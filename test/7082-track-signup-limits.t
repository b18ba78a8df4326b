#!/bin/sh
# The limits of a sign-up form, kept in the store: per address (email) a
# day, per IP address an hour, and the cap on pending requests; each
# dropped request gets the same page as a recorded one.  nudge-track runs
# as a CGI program, with the meta-variables a web server would set.
. "$(dirname "$0")/lib.sh"
plan 11

export NUDGE_TRACK_SECRET=s
cat >cfg.yaml <<'EOF2'
tracking:
  base_url: https://t.example.com/t
  secret_env: NUDGE_TRACK_SECRET
forms:
  news:
    agree_text: "News by email."
    rate_ip: 4
    rate_email: 2
    max_pending: 6
EOF2
export NUDGE_CONFIG="$T/cfg.yaml"
printf 'email\nann@example.com\n' >c.csv
nudge import-list c.csv 2>/dev/null

post() { # post IP BODY: one sign-up; prints the status line and the body's h1
	printf '%s' "$2" | GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST \
	    PATH_INFO=/s/news CONTENT_LENGTH=${#2} REMOTE_ADDR=$1 \
	    CONTENT_TYPE=application/x-www-form-urlencoded nudge-track 2>>log |
	    sed -n '1p; /<h1>/p' | tr -d '\r'
}
pending() { sql "SELECT count(*) FROM events WHERE type = 'signup_pending' ${1:-}"; }
page='Status: 200 OK
<h1>Check your mail</h1>'

for i in 1 2 3; do post 192.0.2.$i 'email=ann%40example.com' >out.$i; done
is "the third request for one address in a day: the same page" "$(cat out.3)" "$page"
is "but only rate_email (2) recorded" "$(pending "AND contact_id = 1")" 2
like "the log says why" "$(cat log)" 'signup: news: more than 2 requests for one address in a day: ignored'

for i in 1 2 3 4 5 6; do post 198.51.100.1 "email=ip$i%40example.com" >out.ip$i; done
is "a sixth sign-up from one IP in an hour: the same page" "$(cat out.ip6)" "$page"
is "but only rate_ip (4) recorded from it" \
    "$(pending "AND props ->> 'ip' = '198.51.100.1'")" 4
is "and no contact made for the dropped ones" \
    "$(sql "SELECT count(*) FROM contacts WHERE email IN ('ip5@example.com', 'ip6@example.com')")" 0

for i in 1 2 3; do post 203.0.113.$i "email=cap$i%40example.com" >out.cap$i; done
is "past max_pending (6): the same page" "$(cat out.cap3)" "$page"
is "and nothing more recorded" "$(pending)" 6
like "the log says why" "$(cat log)" 'signup: news: 6 requests pending \(max_pending\): ignored'

# A form's own pages replace the built-in ones; a broken one does not.
mkdir pages
printf '<!DOCTYPE html>\n<html lang="fr"><body><h1>Merci, {{title}}</h1></body></html>\n' >pages/check.en.html
printf '<!DOCTYPE html>\n<html><body><h1>{{oops</h1></body></html>\n' >pages/error.en.html
printf '    pages: pages\n    title: "<Shop>"\n' >>cfg.yaml
is "the business's own page, its values escaped" \
    "$(post 192.0.2.99 'email=new%40example.com')" "Status: 200 OK
<html lang=\"fr\"><body><h1>Merci, &lt;Shop&gt;</h1></body></html>"
is "a page that does not parse: the built-in one" \
    "$(post 192.0.2.98 'email=new%40')" "Status: 400 Bad Request
<h1>Please check the form</h1>"
