#!/bin/sh
# nudge(1) runs nudge-NAME; the data commands link no libcurl; every
# command has --help and a lint-clean man page.
. "$(dirname "$0")/lib.sh"

cmds=$(cd "$TOP/cmd" && ls *.c | sed 's/\.c$//' | grep -v '^nudge$')
n=$(echo "$cmds" | wc -l)
plan $((6 + 5 * n))

exits "nudge with no command is a usage error" 64 nudge
exits "nudge --help" 0 nudge --help
exits "an unknown command is 64" 64 nudge frobnicate
is "and says so" "$(cat .err)" "nudge: 'frobnicate' is not a nudge command; see 'nudge --help'"
if command -v mandoc >/dev/null; then
	ok "man pages are mandoc -Tlint clean" sh -c \
		"out=\$(mandoc -Tlint -Wwarning '$TOP'/man/*.[0-9] 2>&1); [ -z \"\$out\" ] || { echo \"\$out\" >&2; false; }"
else
	_result 0 "# SKIP mandoc is not installed"
fi
ok "make install DESTDIR=... PREFIX=/usr" \
	make -s -C "$TOP" install DESTDIR="$T/inst" PREFIX=/usr
is "installs every command and man page" \
	"$(cd "$T/inst/usr" && find . -type f | sort | sed -n '/nudge-import-list\|bin\/nudge$\|nudge-config.5\|man1\/nudge.1/p')" \
"./bin/nudge
./bin/nudge-import-list
./share/man/man1/nudge-import-list.1
./share/man/man1/nudge.1
./share/man/man5/nudge-config.5"
for c in $cmds; do
	exits "nudge $c --help exits 0" 0 nudge "$c" --help
	like "nudge $c --help prints its usage" "$(cat .out)" "^usage: nudge $c"
	ok "nudge-$c has a man page" test -f "$TOP/man/nudge-$c.1"
	case $c in
	send) _result 0 "nudge-send may link libcurl" ;;
	*) ok "nudge-$c does not link libcurl" sh -c \
		"! ldd '$TOP/nudge-$c' | grep -q libcurl" ;;
	esac
	# SHA-256 and HMAC are lib/sha.c's: loading libcrypto cost a
	# tracking request most of its time (send has it through libcurl)
	[ "$c" = send ] ||
	    ok "nudge-$c does not link libcrypto" sh -c \
	    "! ldd '$TOP/nudge-$c' | grep -q libcrypto"
done
done_testing
