#!/bin/sh
# config: nudge-config(5) as the commands see it — the full sample loads,
# unknown keys anywhere name file:line:col, a readable file holding a
# secret is refused with the reason, and no message shows a secret.
. "$(dirname "$0")/lib.sh"
plan 15

ok "a store to read" nudge segment --create --save all 'list "x"'

cp "$TOP/samples/config-full.yaml" full.yaml
chmod 644 full.yaml
exits "samples/config-full.yaml, every setting, loads" 0 \
	nudge segment --config full.yaml 'id > 0'
is "with nothing on stderr" "$(cat .err)" ""

cat >nested.yaml <<'YAML'
channels:
  email:
    url: smtp://localhost:2525
    port: 25
YAML
exits "an unknown nested key is 65" 65 nudge segment --config nested.yaml @all
is "naming file:line:col and the key" "$(cat .err)" \
"nudge-segment: nested.yaml:4:11: channels: email: unknown setting \"port\""

mkdir -p "$XDG_CONFIG_HOME/nudge"
printf 'policy:\n  frequency_cap: {max: 3, per: 7d, burst: 2}\n' \
	>"$XDG_CONFIG_HOME/nudge/config.yaml"
exits "the default config file is read" 65 nudge segment @all
is "and its errors name it" "$(cat .err)" \
"nudge-segment: $XDG_CONFIG_HOME/nudge/config.yaml:2:43: policy: frequency_cap: unknown setting \"burst\""
rm "$XDG_CONFIG_HOME/nudge/config.yaml"

cat >secret.yaml <<'YAML'
channels:
  email:
    url: smtps://mail.example.com:465
    username: shop
    password: Tr0ub4dor-and-3
YAML
chmod 644 secret.yaml
exits "an inline password in a world-readable file is 65" 65 \
	env NUDGE_CONFIG=secret.yaml nudge segment @all
is "with the reason and the way out" "$(cat .err)" \
"nudge-segment: secret.yaml:5:15: channels: email: password: refused: the file holds a secret but is readable or writable by group or others (mode 0644); chmod 600 it, or use password_env or password_file"
chmod 640 secret.yaml
exits "group-readable is refused too" 65 nudge segment --config secret.yaml @all
chmod 600 secret.yaml
exits "the same file at mode 0600 loads" 0 nudge segment --config secret.yaml @all

printf 'channels:\n  email:\n    password: {Tr0ub4dor-and-3: 1}\n' >bad.yaml
chmod 600 bad.yaml
exits "a password of the wrong shape is 65" 65 nudge segment --config bad.yaml @all
is "and the message does not show it" "$(grep -c Tr0ub4dor .err)" 0

printf 'channels:\n  email:\n    password_file: pw.txt\n' >pwfile.yaml
exits "password_file is not read by commands that do not send" 0 \
	nudge segment --config pwfile.yaml @all

if command -v mandoc >/dev/null 2>&1; then
	is "nudge-config(5) is mandoc -Tlint clean" \
		"$(mandoc -Tlint -Wwarning "$TOP/man/nudge-config.5" 2>&1)" ""
else
	echo "ok 15 # SKIP mandoc not installed"; _n=15
fi
done_testing
