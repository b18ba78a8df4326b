#!/bin/sh
# Checks the Debian packages nudge builds and tests with.  As root it
# installs what is missing; otherwise it prints the exact apt-get line and
# fails, so `make demo` and `make check` work on a fresh Debian machine.
PKGS="gcc make pkg-config libsqlite3-dev libcurl4-openssl-dev libyaml-dev
libcsv-dev libssl-dev sqlite3 python3-aiosmtpd lighttpd mandoc curl"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq $missing; } >&2 || {
		echo "deps: apt-get install failed" >&2; exit 69; }
	exit 0
fi
echo "deps: missing Debian packages; run as root:" >&2
echo "  apt-get install -y$missing" >&2
exit 69
