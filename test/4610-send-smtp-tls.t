#!/bin/sh
# send, TLS faults: a server that does not offer STARTTLS when TLS is
# required (require_tls) gets nothing in plaintext, not even the password;
# a self-signed certificate is refused, naming the problem, unless
# tls_ca_file trusts it; a certificate for another name is refused even
# then.  Every refused message is held: its claim given back, exit 69.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/faults/head.sh"
plan 22
cert srv
export SMTP_PW='s3cret pass'

# STARTTLS stripped (the server offers none): a loopback relay, which is
# plaintext unless require_tls says otherwise.
start_faults plain
cat >cfg.yaml <<EOT
channels:
  email:
    require_tls: true
    username: nudge
    password_env: SMTP_PW
EOT
blast p1 --config cfg.yaml --transport smtp://127.0.0.1:$FPORT
is "no STARTTLS: exit 69" "$rc" 69
is "every message held, the first says why" "$(sort -n p1.out)" \
"1	held	127.0.0.1:$FPORT: the server does not offer STARTTLS and TLS is required: nothing sent in plaintext (allow_plaintext sends without TLS)
2	held	not sent: TLS failed
3	held	not sent: TLS failed"
is "the summary says they are held for a rerun" "$(sed -n 2p p1.err)" \
	"nudge-send: 3 held: not sent, not claimed; a rerun sends them"
is "the error line" "$(tail -1 p1.err)" \
	"nudge-send: 127.0.0.1:$FPORT: the server does not offer STARTTLS and TLS is required: nothing sent in plaintext (allow_plaintext sends without TLS)"
is "no claim left: a rerun sends them" "$(ledger p1)" ""
is "the server got no message" "$(ls "$FDIR" | grep -c eml)" 0
is "and no AUTH: the password never went out in plaintext" \
	"$(cat "$FDIR/commands" 2>/dev/null)" ""
exits "require_tls and allow_plaintext together are refused" 65 nudge send \
	--config "$(printf 'channels:\n  email:\n    require_tls: true\n    allow_plaintext: true\n' >c2.yaml; echo c2.yaml)" \
	-c x -t "$F/hello.txt" --transport smtp://127.0.0.1:$FPORT </dev/null
like "saying so, with the place" "$(cat .err)" \
	'^nudge-send: .*c2\.yaml:4:22: channels: email: allow_plaintext: require_tls and allow_plaintext contradict each other$'

# a self-signed certificate, implicit TLS (smtps)
start_faults tls --tls srv.crt srv.key
blast t1 --transport smtps://localhost:$FPORT
is "self-signed: exit 69" "$rc" 69
is "held, naming the certificate problem" "$(sort -n t1.out | head -1)" \
	"1	held	localhost:$FPORT: the server's certificate is not trusted: SSL certificate problem: self-signed certificate (tls_ca_file trusts a private CA)"
is "the others held" "$(cut -f2 t1.out | sort | uniq -c | tr -s ' ')" " 3 held"
is "no claim left, nothing received" "$(ledger t1)/$(ls "$FDIR" | grep -c eml)" "/0"
printf 'channels:\n  email:\n    tls_ca_file: srv.crt\n' >ca.yaml
blast t1 --config ca.yaml --transport smtps://localhost:$FPORT
is "trusted with tls_ca_file: exit 0" "$rc" 0
is "all three sent" "$(ledger t1 | tr '\n' ';')" "1 sent 1;2 sent 1;3 sent 1;"
is "by 127.0.0.1 too (the certificate names it)" \
	"$(blast t2 --config ca.yaml --transport smtps://127.0.0.1:$FPORT; echo $rc; cut -f2 t2.out | sort -u)" "0
sent"

# the same over STARTTLS, a loopback host with require_tls
start_faults st --starttls srv.crt srv.key
printf 'channels:\n  email:\n    require_tls: true\n' >st.yaml
blast s1 --config st.yaml --transport smtp://localhost:$FPORT
is "STARTTLS with a self-signed certificate: exit 69, held" \
	"$rc $(cut -f2 s1.out | sort | uniq -c | tr -s ' ')" "69  3 held"
is "naming the problem" "$(tail -1 s1.err)" \
	"nudge-send: localhost:$FPORT: the server's certificate is not trusted: SSL certificate problem: self-signed certificate (tls_ca_file trusts a private CA)"
printf 'channels:\n  email:\n    require_tls: true\n    tls_ca_file: srv.crt\n    username: nudge\n    password_env: SMTP_PW\n' >st.yaml
blast s1 --config st.yaml --transport smtp://localhost:$FPORT
is "trusted: sent over STARTTLS, with AUTH" "$rc $(cut -f2 s1.out | sort | uniq -c | tr -s ' ')/$(sort -u "$FDIR/commands")" \
	"0  3 sent/AUTH"

# a certificate for another name: tls_ca_file trusts the issuer, not the name
cert other mail.other.test
start_faults other --tls other.crt other.key
printf 'channels:\n  email:\n    tls_ca_file: other.crt\n' >o.yaml
blast o1 --config o.yaml --transport smtps://localhost:$FPORT
is "another name: exit 69" "$rc" 69
like "the name mismatch named" "$(tail -1 o1.err)" \
	"^nudge-send: localhost:$FPORT: the server's certificate is not trusted: .*(subject|name).* \\(tls_ca_file trusts a private CA\\)$"
is "held, nothing received" "$(cut -f2 o1.out | sort -u)/$(ls "$FDIR" | grep -c eml)" "held/0"
done_testing
