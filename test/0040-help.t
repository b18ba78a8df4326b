#!/bin/sh
# Three ways to a command's help (--help, nudge help, man), --version on
# every command, and did-you-mean for a mistyped command or option.
. "$(dirname "$0")/lib.sh"

cmds=$(cd "$TOP/cmd" && ls *.c | sed 's/\.c$//' | grep -v '^nudge$')
n=$(echo "$cmds" | wc -l)
plan $((18 + 2 * n))

for c in $cmds; do
	exits "nudge $c --version exits 0" 0 nudge "$c" --version
	is "and names the command and version" "$(cat .out)" "nudge-$c 0.1"
done

# nudge help NAME: the command's --help when stdout is not a terminal
exits "nudge help segment exits 0" 0 nudge help segment
is "and prints segment's usage" "$(cat .out)" "$(nudge segment --help)"
exits "nudge help with no command is the general usage" 0 nudge help
like "which says how to get a command's help" "$(cat .out)" "nudge help COMMAND"
exits "nudge help of an unknown command is 64" 64 nudge help segmnt
is "with the closest command" "$(cat .err)" \
	"nudge: 'segmnt' is not a nudge command; did you mean 'segment'?"
# on a terminal: man nudge-NAME (a stand-in man records its arguments)
mkdir bin
printf '#!/bin/sh\necho "man $*" >"%s/man.args"\n' "$T" >bin/man
chmod +x bin/man
PATH="$T/bin:$PATH" TERM=dumb script -qec "nudge help report" /dev/null \
	>/dev/null 2>&1
like "on a terminal, nudge help runs man on the command's page" \
	"$(cat man.args 2>/dev/null)" "^man (nudge-report|-l .*/man/nudge-report\.1)$"

# a mistyped command
exits "a mistyped command is 64" 64 nudge segmnet
is "and suggests the closest" "$(cat .err)" \
	"nudge: 'segmnet' is not a nudge command; did you mean 'segment'?"

# a mistyped option: one line naming it and the closest, then the usage
exits "a mistyped long option is 64" 64 nudge segment --formt json 'list "a"'
is "and suggests the closest option" "$(head -1 .err)" \
	"nudge-segment: unknown option --formt; did you mean --format?"
like "then the usage" "$(sed -n 2p .err)" "^usage: nudge segment"
exits "event add -n is 64" 64 nudge event add -n --contact 1 --type x
is "and names the option and the subcommand" "$(head -1 .err)" \
	"nudge-event: add: unknown option -n"
exits "a missing value is 64" 64 nudge report --by
is "and says which option lacks it" "$(head -1 .err)" \
	"nudge-report: option --by needs a value"

# a missing config file says it is the config
exits "a missing --config is 66" 66 nudge segment --config /x/y.yaml 'list "a"'
is "and says it is the config file" "$(cat .err)" \
	"nudge-segment: config file /x/y.yaml: No such file or directory"
done_testing
