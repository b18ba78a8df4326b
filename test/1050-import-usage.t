#!/bin/sh
# import-list: usage, configuration and input errors, each with its exit
# code and a one-line message naming what is wrong.
. "$(dirname "$0")/lib.sh"
plan 22

exits "--help exits 0" 0 nudge import-list --help
like "--help prints the usage" "$(cat .out)" '^usage: nudge import-list '
exits "an unknown option is a usage error" 64 nudge import-list --bogus x.csv
exits "two files are a usage error" 64 nudge import-list a.csv b.csv
like "it says why" "$(head -n 1 .err)" 'one input file at most'
exits "a missing file is 66" 66 nudge import-list nosuch.csv
is "named in the message" "$(cat .err)" \
	"nudge-import-list: nosuch.csv: No such file or directory"
printf 'name,city\nx@example.com,y\n' >nokey.csv
exits "no email column is 65" 65 nudge import-list nokey.csv
is "it says how to fix it" "$(head -n 1 .err)" \
	"nudge-import-list: nokey.csv:1: header: no email column (name one with --map COLUMN=email); found 2 columns with comma as the separator (--delimiter sets another): \"name\", \"city\""
exits "--map names the column" 0 nudge import-list --map name=email nokey.csv
exits "--map to an unknown field is 64" 64 nudge import-list --map name=bogus nokey.csv
exits "--map of a missing column is 64" 64 nudge import-list --map nope=email nokey.csv
printf 'email,E-mail\na@example.com,b@example.com\n' >twice.csv
exits "two email columns are 65" 65 nudge import-list twice.csv
like "and named" "$(head -n 1 .err)" 'columns "email" and "E-mail" are both email'
exits "--key of something else is 64" 64 nudge import-list --key name nokey.csv
printf 'bogus: 1\n' >bad.yaml
exits "an unknown config key is 65" 65 nudge import-list --config bad.yaml nokey.csv
is "named with file:line:col" "$(cat .err)" \
	"nudge-import-list: bad.yaml:1:8: unknown setting \"bogus\""
printf 'db: other.db\ndefault_country: ZZ\n' >zz.yaml
exits "an unknown country is 65" 65 nudge import-list --config zz.yaml nokey.csv
printf 'not a database, just text, long enough to be a header.........' >text.db
exits "a file that is not a store is refused" 65 nudge import-list --db text.db --map name=email nokey.csv
is "and left alone" "$(head -c 14 text.db)" "not a database"
printf 'db: from-config.db\n' >db.yaml
env -u NUDGE_DB nudge import-list --config db.yaml --map name=email nokey.csv 2>/dev/null
ok "the config's db is relative to the config file" test -s from-config.db
env -u NUDGE_DB nudge import-list --map name=email nokey.csv 2>/dev/null
ok "the default store is under XDG_DATA_HOME" test -s "$XDG_DATA_HOME/nudge/nudge.db"
done_testing
