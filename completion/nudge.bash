# bash completion for nudge(1): commands, options, and the names the store
# holds (lists, event types, campaigns, step ids) through `nudge complete`.
# Installed by `make install` into bash-completion's completions directory.

_nudge_commands="import-list event segment send trigger report predict track contact lists events help"

# _nudge_names WHAT [ARG]: names from the store of this command line
# (its --db and --config), one a line; nothing when there is no store.
_nudge_names()
{
	local i db= cfg=
	for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
		case ${COMP_WORDS[i]} in
		--db) db=${COMP_WORDS[i + 1]} ;;
		--db=*) db=${COMP_WORDS[i]#--db=} ;;
		--config) cfg=${COMP_WORDS[i + 1]} ;;
		--config=*) cfg=${COMP_WORDS[i]#--config=} ;;
		esac
	done
	nudge complete ${db:+--db "$db"} ${cfg:+--config "$cfg"} "$@" 2>/dev/null
}

# The value of option $1 (long or short spelling $2) on this command line.
_nudge_opt_value()
{
	local i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		"$1" | "$2") echo "${COMP_WORDS[i + 1]}"; return ;;
		"$1"=*) echo "${COMP_WORDS[i]#*=}"; return ;;
		esac
	done
}

_nudge()
{
	local cur prev cmd words
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W "$_nudge_commands --help --version" -- "$cur"))
		return
	fi
	cmd=${COMP_WORDS[1]}
	case $prev in
	--list | -l) words=$(_nudge_names lists) ;;
	--type | --conversion) words=$(_nudge_names types) ;;
	--campaign | -c)
		[ "$cmd" = segment ] && return
		words=$(_nudge_names campaigns) ;;
	--step) words=$(_nudge_names steps "$(_nudge_opt_value --campaign -c)") ;;
	--channel) words="email sms push" ;;
	--by | -b) words="campaign step channel day bounce" ;;
	--format | -f)
		case $cmd in
		report) words="table tsv csv json html" ;;
		predict) words="table tsv csv json" ;;
		event) words="csv json dsn sisimai" ;;
		*) words="ids tsv csv json table" ;;
		esac ;;
	--db | --config | --template | -t | --rejects | -r | --transport)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	esac
	if [ -n "${words+set}" ]; then
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return
	fi
	if ((COMP_CWORD == 2)); then
		case $cmd in
		help) COMPREPLY=($(compgen -W "$_nudge_commands" -- "$cur")); return ;;
		event) COMPREPLY=($(compgen -W "add import" -- "$cur")); return ;;
		contact) COMPREPLY=($(compgen -W "show find" -- "$cur")); return ;;
		events) COMPREPLY=($(compgen -W "types" -- "$cur")); return ;;
		esac
	fi
	case $cur in
	-*)
		# the command's own table of long options
		case $cmd in
		event | contact | events) words=$(nudge "$cmd" \
		    "${COMP_WORDS[2]}" --list-options 2>/dev/null) ;;
		*) words=$(nudge "$cmd" --list-options 2>/dev/null) ;;
		esac
		COMPREPLY=($(compgen -W "$words" -- "$cur")) ;;
	*)
		case $cmd in
		trigger) COMPREPLY=($(compgen -f -X '!*.y*ml' -- "$cur")
		    $(compgen -d -- "$cur")) ;;
		*) COMPREPLY=($(compgen -f -- "$cur")) ;;
		esac ;;
	esac
}
complete -F _nudge nudge
