#!/bin/sh
# bash completion (completion/nudge.bash): commands, options from each
# command's usage, and names from the store through nudge complete; the
# zsh script parses; make install puts both in place.
. "$(dirname "$0")/lib.sh"
command -v bash >/dev/null || skip_all "bash is not installed"
plan 22

cat >c.csv <<'CSV'
email,lists
a@example.com,newsletter;vip
b@example.com,customers
CSV
ok "import" nudge import-list c.csv
ok "an event" nudge event add --contact 1 --type purchase --at 2026-11-01
ok "another" nudge event add --contact 2 --type ad_view --at 2026-11-01
sql "INSERT INTO campaigns (name, created_at) VALUES ('promo', 0), ('welcome', 0);
INSERT INTO messages (campaign_id, step, contact_id, channel, status,
  claimed_at, updated_at) VALUES (1, 'email1', 1, 'email', 'sent', 0, 0),
  (1, 'sms2', 1, 'sms', 'sent', 0, 0), (1, 'email1', 2, 'email', 'sent', 0, 0)"

# comp LINE: what bash completion offers for LINE (the last word, possibly
# empty, is the one being completed), sorted, space-separated
comp() {
	bash -c '. "$1/completion/nudge.bash"; read -ra COMP_WORDS <<<"$2"
		[ "${2% }" != "$2" ] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _nudge
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"' \
		sh "$TOP" "$1"
}

is "commands" "$(comp 'nudge se')" "segment send"
is "help's commands" "$(comp 'nudge help tr')" "track trigger"
is "a command's options" "$(comp 'nudge report --c')" \
	"--campaign --config --conversion --create"
is "a subcommand's options" "$(comp 'nudge event import --p')" "--parser"
is "every command lists its long options" "$(nudge segment --list-options | tr '\n' ' ')" \
	"--config --count --create --db --explain --fields --format --help --now --original-names --save --version "
is "list names from the store" "$(comp 'nudge import-list --list ')" \
	"customers newsletter vip"
is "event types" "$(comp 'nudge event add --type ')" "ad_view purchase"
is "campaign names" "$(comp 'nudge report --campaign ')" "promo welcome"
is "step ids of the campaign on the line" \
	"$(comp 'nudge event add --campaign promo --step ')" "email1 sms2"
is "a store named by --db" "$(comp "nudge import-list --db $T/none.db -l ")" ""
is "subcommands" "$(comp 'nudge contact ')" "find show"
is "nudge complete lists one a line" "$(nudge complete lists)" "customers
newsletter
vip"
is "steps of a campaign file" "$(nudge complete steps "$TOP/campaigns/win-back.yaml")" \
"email1
email2
sms1"
# zcomp CURRENT WORDS...: what the zsh function offers (compadd stubbed:
# the real one filters by the prefix typed)
zcomp() {
	zsh -c 'compadd() { [[ $1 == -- ]] && shift; print -r -- "$@"; }
		_files() { print files; }
		CURRENT=$1; shift; words=("$@"); . "$TOP/completion/_nudge"' \
		zcomp "$@"
}
if command -v zsh >/dev/null; then
	export TOP
	ok "the zsh script parses" zsh -n "$TOP/completion/_nudge"
	is "zsh: list names from the store" \
		"$(zcomp 4 nudge import-list --list '')" "customers newsletter vip"
	is "zsh: step ids of the campaign on the line" \
		"$(zcomp 7 nudge event add --campaign promo --step '')" "email1 sms2"
	is "zsh: a subcommand's options" "$(zcomp 4 nudge contact show -)" \
		"--config --db --format --help --version"
else
	for i in 1 2 3 4; do _result 0 "# SKIP zsh is not installed"; done
fi
ok "make install" make -s -C "$TOP" install DESTDIR="$T/inst" PREFIX=/usr
is "installs both scripts" "$(cd "$T/inst/usr/share" && ls bash-completion/completions/nudge zsh/site-functions/_nudge)" \
"bash-completion/completions/nudge
zsh/site-functions/_nudge"
done_testing
