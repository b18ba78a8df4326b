# test/faults/head.sh: sourced by the 46xx protocol fault tests after
# lib.sh.  Imports three contacts on the list "all" (a@x.test, b@x.test,
# c@x.test: ids 1, 2, 3) and gives:
#   start_faults NAME [OPTIONS]  test/smtp-faults.py in $T/NAME with those
#       options (see the script); sets FDIR and FPORT to its directory and
#       port; stopped by PID at exit.
#   blast CAMPAIGN [send options]  the list by email with $F/hello.txt;
#       results in CAMPAIGN.out, stderr in CAMPAIGN.err, exit status in $rc
#   ledger CAMPAIGN  "contact status attempts" lines of its ledger rows
#   cert NAME [HOST]  a self-signed certificate NAME.crt, key NAME.key
#       for HOST (default: localhost and 127.0.0.1), by openssl req
F="$TESTDIR/faults"
now=2026-11-02T09:00:00Z
printf 'email,first_name,lists\na@x.test,A,all\nb@x.test,B,all\nc@x.test,C,all\n' \
    >contacts.csv
nudge import-list contacts.csv >/dev/null 2>&1
start_faults() {
	/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
		skip_all "python3-aiosmtpd is not installed"
	FDIR="$T/$1"
	shift
	mkdir -p "$FDIR"
	/usr/bin/python3 "$TESTDIR/smtp-faults.py" "$FDIR" "$@" \
	    2>"$FDIR.log" </dev/null &
	CLEANUP_PIDS="$CLEANUP_PIDS $!"
	_i=0
	while [ ! -s "$FDIR/port" ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 200 ] || ! kill -0 "$!" 2>/dev/null; then
			echo "Bail out! smtp-faults.py did not start: $(cat "$FDIR.log")"
			exit 1
		fi
		sleep 0.05
	done
	FPORT=$(cat "$FDIR/port")
}
blast() {
	_c=$1; shift
	nudge segment 'list "all"' | nudge send --now $now -c "$_c" \
	    -t "$F/hello.txt" "$@" >"$_c.out" 2>"$_c.err"
	rc=$?
}
ledger() {
	sql "SELECT m.contact_id, m.status, m.attempts FROM messages m
	    JOIN campaigns c ON c.id = m.campaign_id WHERE c.name = '$1'
	    ORDER BY m.contact_id" | tr '\t' ' '
}
cert() {
	command -v openssl >/dev/null || skip_all "openssl is not installed"
	_san=${2:+DNS:$2}
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	    -subj "/CN=${2:-localhost}" \
	    -addext "subjectAltName=${_san:-DNS:localhost,IP:127.0.0.1}" \
	    -keyout "$1.key" -out "$1.crt" >/dev/null 2>&1
}
