#!/bin/sh
# What every command does the same way (lib/cli.c): --help prints its
# usage and exits 0, an unknown option is one line naming it (with the
# closest known one when there is one) then the usage, exit 64; a bad
# --now, or a bad event type, is said in one wording by every command
# that takes it.
. "$(dirname "$0")/lib.sh"

cmds=$(cd "$TOP/cmd" && ls *.c | sed 's/\.c$//' | grep -v '^nudge$')
now_cmds=0

# the words before the options: a command with subcommands takes them
# after its first one
first_sub() {
	case $1 in
	contact) echo show ;;
	event) echo add ;;
	events) echo types ;;
	esac
}

for c in $cmds; do
	sub=$(first_sub "$c")
	exits "nudge $c --help exits 0" 0 nudge "$c" --help
	like "and prints its usage on stdout" "$(head -1 .out)" "^usage: nudge $c"
	exits "nudge $c $sub --help exits 0" 0 nudge "$c" $sub --help
	is "and prints the same usage" "$(cat .out)" "$(nudge "$c" --help)"

	exits "nudge $c $sub --zzzzzz exits 64" 64 nudge "$c" $sub --zzzzzz
	is "one line naming the option" "$(head -1 .err)" \
		"nudge-$c: ${sub:+$sub: }unknown option --zzzzzz"
	like "then the usage" "$(sed -n 2p .err)" "^usage: nudge $c"
	exits "nudge $c $sub -Z exits 64" 64 nudge "$c" $sub -Z
	is "one line naming it" "$(head -1 .err)" \
		"nudge-$c: ${sub:+$sub: }unknown option -Z"
	exits "nudge $c $sub --confg exits 64" 64 nudge "$c" $sub --confg x
	is "and says the closest option" "$(head -1 .err)" \
		"nudge-$c: ${sub:+$sub: }unknown option --confg; did you mean --config?"

	# --now, where the command takes it: the same words everywhere
	if nudge "$c" $sub --list-options | grep -qx -- --now; then
		now_cmds=$((now_cmds + 1))
		exits "nudge $c --now yesterday exits 64" 64 \
			nudge "$c" $sub --now yesterday
		is "in the one wording" "$(head -1 .err)" \
			"nudge-$c: --now: not a time: \"yesterday\" (ISO 8601, such as 2026-11-01 or 2026-11-01T09:00:00Z)"
	fi
done
ok "five commands take --now (predict, segment, send, track, trigger)" \
	test "$now_cmds" = 5

# an option naming an event type: one check, one wording
want="expected an event type such as purchase ([a-z][a-z0-9_]*)"
exits "predict --type with a capital is 64" 64 nudge predict --type Buy
is "and says what an event type is" "$(head -1 .err)" "nudge-predict: --type: $want"
exits "predict --type with a hyphen is 64 (no event has it)" 64 \
	nudge predict --type re-order
exits "report --conversion with a capital is 64" 64 \
	nudge report --conversion Buy
is "in the same words" "$(head -1 .err)" "nudge-report: --conversion: $want"
# one input file or standard input: the same words for both importers
for c in import-list "event import"; do
	exits "$c with two files is 64" 64 nudge $c e.csv e.csv
	is "and says one file at most" "$(head -1 .err)" \
		"nudge-${c%% *}: one input file at most"
done

printf 'contact,type\n' >e.csv
exits "event import --type with a capital is 64" 64 \
	nudge event import --create --type Buy e.csv
is "in the same words" "$(head -1 .err)" "nudge-event: --type: $want"
plan "$_n"
done_testing
