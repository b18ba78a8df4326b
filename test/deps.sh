#!/bin/sh
# Checks the Debian packages nudge builds and tests with.  As root it
# installs what is missing; otherwise it prints the exact apt-get line and
# fails, so `make demo` and `make check` work on a fresh Debian machine.
PKGS="gcc make pkg-config libsqlite3-dev libcurl4-openssl-dev libyaml-dev
libcsv-dev sqlite3 python3-aiosmtpd lighttpd mandoc tzdata curl
openssl libsisimai-perl chromium jq zsh"
# `deps.sh bench`: also the peers and sinks of `make bench` (Postfix for
# its smtp-sink, installed with no mail configuration at all)
if [ "${1:-}" = bench ]; then
	PKGS="$PKGS postfix hyperfine wrk nginx-light curl"
fi
# `deps.sh fuzz`: clang and its libFuzzer for `make fuzz`, AFL++ for
# `make fuzz-afl`
if [ "${1:-}" = fuzz ]; then
	PKGS="$PKGS clang libclang-rt-14-dev afl++"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	case $missing in
	*postfix*) echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections ;;
	esac
	{ apt-get update -qq && apt-get install -y -qq $missing; } >&2 || {
		echo "deps: apt-get install failed" >&2; exit 69; }
	exit 0
fi
echo "deps: missing Debian packages; run as root:" >&2
echo "  apt-get install -y$missing" >&2
exit 69
