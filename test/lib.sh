# test/lib.sh: sourced by every test/NNNN-*.t.  Prints TAP for prove.
#
#   . "$(dirname "$0")/lib.sh"
#   plan 3
#   ok   "imports the file"        nudge import-list a.csv
#   is   "prints the ids"          "$(nudge segment 'list "a"')" "1
#   2"
#   exits "bad input is 65"  65    nudge import-list bad.csv
#   cmp_file "rejects as expected" expected.txt got.txt
#
# Each test file runs in a fresh scratch directory ($T, also the cwd) that
# is removed at exit; NUDGE_DB points into it and no user configuration or
# store can leak in.  The built commands come first on PATH; with
# TEST_BIN_DIR set (`make check-valgrind`), that directory's wrappers
# come before them.

set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
# test/torture/*.t are one level deeper
[ -f "$TOP/Makefile" ] || TOP=$(cd "$TOP/.." && pwd)
TESTDIR="$TOP/test"
PATH="${TEST_BIN_DIR:+$TEST_BIN_DIR:}$TOP:$PATH"
# SLOW: a factor for the waits of tests that wait on a command (20 under
# valgrind: TEST_SLOW from `make check-valgrind`; the waits end early)
SLOW=${TEST_SLOW:-1}
T=$(mktemp -d "${TMPDIR:-/tmp}/nudge-test.XXXXXX")
trap 'cleanup_test' EXIT
cleanup_test() {
	# the children first (lighttpd's FastCGI servers), by their pids
	for p in $CLEANUP_PIDS; do
		for c in $(pgrep -P "$p" 2>/dev/null); do kill "$c" 2>/dev/null; done
	done
	for p in $CLEANUP_PIDS; do kill "$p" 2>/dev/null; done
	cd / && rm -rf "$T"
}
CLEANUP_PIDS=""
cd "$T" || exit 1
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_DATA_HOME="$T/home/.local/share"
export NUDGE_DB="$T/nudge.db"
unset NUDGE_CONFIG
export LC_ALL=C.UTF-8 TZ=UTC
mkdir -p "$HOME"

_n=0
_failed=0

plan() { echo "1..$1"; }

_result() { # _result OK DESC
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
	fi
}

# diag MSG: a comment line for a failing test
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# ok DESC CMD...: passes when CMD exits 0; shows its stderr otherwise.
ok() {
	_d=$1; shift
	if "$@" >"$T/.out" 2>"$T/.err"; then
		_result 0 "$_d"
	else
		_rc=$?
		_result 1 "$_d"
		diag "exit $_rc: $*" "$(cat "$T/.err")"
	fi
}

# exits DESC CODE CMD...: passes when CMD exits with CODE.  Its stdout and
# stderr are left in $T/.out and $T/.err for later checks.
exits() {
	_d=$1 _want=$2; shift 2
	"$@" >"$T/.out" 2>"$T/.err"
	_rc=$?
	if [ "$_rc" = "$_want" ]; then
		_result 0 "$_d"
	else
		_result 1 "$_d"
		diag "want exit $_want, got $_rc: $*" "$(cat "$T/.err")"
	fi
}

# is DESC GOT WANT: string equality, with a diff when they differ.
is() {
	if [ "$2" = "$3" ]; then
		_result 0 "$1"
	else
		_result 1 "$1"
		printf '%s\n' "$3" >"$T/.want"
		printf '%s\n' "$2" >"$T/.got"
		diag "$(diff -u "$T/.want" "$T/.got" | tail -n +3)"
	fi
}

# like DESC GOT PATTERN: GOT matches the grep -E pattern.
like() {
	if printf '%s\n' "$2" | grep -qE -- "$3"; then
		_result 0 "$1"
	else
		_result 1 "$1"
		diag "got: $2" "want match: $3"
	fi
}

# cmp_file DESC WANT_FILE GOT_FILE
cmp_file() {
	if cmp -s "$2" "$3"; then
		_result 0 "$1"
	else
		_result 1 "$1"
		diag "$(diff -u "$2" "$3" | tail -n +3)"
	fi
}

# sql QUERY: runs a query on the test store and prints the rows.
sql() { sqlite3 -batch -separator '	' "$NUDGE_DB" "$@"; }

# skip_all REASON: for a missing optional tool only, never a failure.
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

# wrapped: true under `make check-valgrind`, where every command runs as
# valgrind (its /proc cmdline, its process name, the argv it gives an
# exec: child are valgrind's).  A test of those says so with
# skip_wrapped DESC instead of checking: TAP's skip, counted in the plan.
wrapped() { [ -n "${TEST_BIN_DIR:-}" ]; }
skip_wrapped() {
	_n=$((_n + 1))
	echo "ok $_n - $1 # SKIP under valgrind: the process is valgrind's"
}

# store_lock: another process takes the store's write lock (BEGIN
# IMMEDIATE) and keeps it until store_unlock, however long that is.
store_lock() {
	rm -f "$T/locked"
	/usr/bin/python3 -c '
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
while os.path.exists(sys.argv[2]):
    time.sleep(0.02)
c.execute("ROLLBACK")' "$NUDGE_DB" "$T/locked" &
	lockpid=$!
	CLEANUP_PIDS="$CLEANUP_PIDS $lockpid"
	while [ ! -e "$T/locked" ]; do sleep 0.02; done
}
store_unlock() { rm -f "$T/locked"; wait "$lockpid"; }

# kill_past FILE BYTES PID [TRIES]: kill -9 the background process PID
# once FILE has grown past BYTES (or after TRIES waits of 0.05 s, 200 by
# default), and wait for it; returns its status (137: the kill ended it).
kill_past() {
	_kp=0
	while [ "$_kp" -lt "${4:-200}" ]; do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt "$2" ] && break
		sleep 0.05
		_kp=$((_kp + 1))
	done
	kill -9 "$3" 2>/dev/null
	wait "$3" 2>/dev/null
}

done_testing() {
	[ "$_failed" = 0 ]
}

# start_smtpd [--pipelining]: starts test/smtpd.py (a real SMTP server,
# python3-aiosmtpd; the option offers PIPELINING)
# on a free loopback port, waits until it listens and exports SMTPD_PORT
# and SMTPD_DIR (where each received message is saved as NNNNNN.eml with
# its envelope in NNNNNN.env).  It is stopped by PID at exit.  Skips the
# whole test file when python3-aiosmtpd is missing.
start_smtpd() {
	/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
		skip_all "python3-aiosmtpd is not installed"
	SMTPD_DIR="$T/smtpd"
	mkdir -p "$SMTPD_DIR"
	/usr/bin/python3 "$TESTDIR/smtpd.py" "$SMTPD_DIR" "$@" \
	    2>"$T/smtpd.log" </dev/null &
	CLEANUP_PIDS="$CLEANUP_PIDS $!"
	_i=0
	while [ ! -s "$SMTPD_DIR/port" ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 200 ] || ! kill -0 "$!" 2>/dev/null; then
			echo "Bail out! smtpd.py did not start: $(cat "$T/smtpd.log")"
			exit 1
		fi
		sleep 0.05
	done
	SMTPD_PORT=$(cat "$SMTPD_DIR/port")
	export SMTPD_PORT SMTPD_DIR
}

# start_lighttpd: starts a real lighttpd (mod_cgi) on a free loopback
# port, serving nudge-track as the CGI program at /t, so that
# $HTTPD_URL/c/TOKEN reaches it with PATH_INFO=/c/TOKEN.  The CGI gets
# every NUDGE_* variable set when it starts (NUDGE_DB, NUDGE_CONFIG, the
# webhook secrets), and ASAN_OPTIONS and UBSAN_OPTIONS (set log_path to
# see what a sanitizer build of nudge-track reports).  With HTTPD_FASTCGI=1,
# lighttpd also runs nudge-track as a FastCGI server (mod_fastcgi, two
# processes) at /f: $HTTPD_FURL.  Exports HTTPD_PORT and HTTPD_URL; the error log (the
# CGI's stderr) is $T/lighttpd.err.  Stopped by PID at exit.  Skips the
# whole test file when lighttpd is missing.
start_lighttpd() {
	_lh=$(command -v lighttpd || echo /usr/sbin/lighttpd)
	[ -x "$_lh" ] || skip_all "lighttpd is not installed"
	mkdir -p "$T/www"
	ln -sf "${TEST_BIN_DIR:-$TOP}/nudge-track" "$T/www/t"
	HTTPD_PORT=$(/usr/bin/python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	{
		echo 'server.modules = ( "mod_setenv", "mod_cgi" )'
		echo "server.document-root = \"$T/www\""
		echo 'server.bind = "127.0.0.1"'
		echo "server.port = $HTTPD_PORT"
		echo "server.errorlog = \"$T/lighttpd.err\""
		echo "server.pid-file = \"$T/lighttpd.pid\""
		echo 'server.max-worker = 0'
		echo '$HTTP["url"] =~ "^/t(/|$)" { cgi.assign = ( "" => "" ) }'
		if [ "${HTTPD_FASTCGI:-0}" = 1 ]; then
			echo 'server.modules += ( "mod_fastcgi" )'
			printf 'fastcgi.server = ( "/f" => (( "socket" => "%s", "bin-path" => "%s", "max-procs" => 2, "check-local" => "disable", "bin-environment" => (' \
			    "$T/fcgi.sock" "${TEST_BIN_DIR:-$TOP}/nudge-track"
			env | grep '^NUDGE_\|^ASAN_OPTIONS=\|^UBSAN_OPTIONS=' | sed 's/\\/\\\\/g; s/"/\\"/g;
			    s/^\([^=]*\)=\(.*\)$/ "\1" => "\2",/' | tr -d '\n'
			echo ' "LC_ALL" => "C.UTF-8" ) )) )'
		fi
		printf 'setenv.add-environment = ('
		env | grep '^NUDGE_\|^ASAN_OPTIONS=\|^UBSAN_OPTIONS=' | sed 's/\\/\\\\/g; s/"/\\"/g;
		    s/^\([^=]*\)=\(.*\)$/ "\1" => "\2",/' | tr -d '\n'
		echo ' "LC_ALL" => "C.UTF-8" )'
	} >"$T/lighttpd.conf"
	"$_lh" -D -f "$T/lighttpd.conf" >"$T/lighttpd.out" 2>&1 </dev/null &
	CLEANUP_PIDS="$CLEANUP_PIDS $!"
	_i=0
	until curl -s -o /dev/null "http://127.0.0.1:$HTTPD_PORT/"; do
		_i=$((_i + 1))
		if [ "$_i" -gt 200 ] || ! kill -0 "$!" 2>/dev/null; then
			echo "Bail out! lighttpd did not start: $(cat "$T/lighttpd.out" "$T/lighttpd.err" 2>/dev/null)"
			exit 1
		fi
		sleep 0.05
	done
	HTTPD_URL="http://127.0.0.1:$HTTPD_PORT/t"
	HTTPD_FURL="http://127.0.0.1:$HTTPD_PORT/f"
	export HTTPD_PORT HTTPD_URL HTTPD_FURL
}

# start_emu: starts test/provider-emu.py (an emulator of the HTTP APIs of
# samples/providers/) on a free loopback port and exports EMU_PORT and
# EMU_DIR (EMU_DIR/requests: one JSON line a request; EMU_DIR/faults:
# faults to inject, see the script).  It is stopped by PID at exit.
start_emu() {
	EMU_DIR="$T/emu"
	mkdir -p "$EMU_DIR"
	/usr/bin/python3 "$TESTDIR/provider-emu.py" "$EMU_DIR" \
	    2>"$T/emu.log" </dev/null &
	CLEANUP_PIDS="$CLEANUP_PIDS $!"
	_i=0
	while [ ! -s "$EMU_DIR/port" ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 200 ] || ! kill -0 "$!" 2>/dev/null; then
			echo "Bail out! provider-emu.py did not start: $(cat "$T/emu.log")"
			exit 1
		fi
		sleep 0.05
	done
	EMU_PORT=$(cat "$EMU_DIR/port")
	export EMU_PORT EMU_DIR
}
