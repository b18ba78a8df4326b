#!/bin/sh
# import-list: files as spreadsheets and ad tools write them: the separator
# sniffed (comma, semicolon, tab) or --delimiter; UTF-8 with a BOM and
# UTF-16 LE/BE with a BOM; Excel's leading apostrophe; "p:" phones; a
# full_name split; column names turned into attrs keys a segment can name;
# the default country taken from the time zone; a missing address column
# explained.
. "$(dirname "$0")/lib.sh"
plan 21

printf 'default_country: IL\n' >config.yaml
printf 'Email;Phone;First Name;Last Name;Default Address City\r\n' >semi.csv
printf 'dana@example.com;'"'"'+972521234567;דנה;לוי;"Haifa; north"\r\n' >>semi.csv
printf 'moshe@example.com;'"'"'0527654321;Moshe;Cohen;Tel Aviv\r\n' >>semi.csv
exits "a semicolon file from a European or Israeli Excel" 0 \
	nudge import-list --config config.yaml semi.csv
is "the summary says how it was read" "$(cat .err)" \
"nudge-import-list: semi.csv: read 2, inserted 2, updated 0, unchanged 0, rejected 0; 0 list memberships added; read as UTF-8, semicolon-separated"
is "fields, phones without the apostrophe, attrs keys normalised" \
	"$(sql 'SELECT email, phone, first_name, last_name, attrs FROM contacts ORDER BY id')" \
"dana@example.com	+972521234567	דנה	לוי	{\"default_address_city\":\"Haifa; north\"}
moshe@example.com	+972527654321	Moshe	Cohen	{\"default_address_city\":\"Tel Aviv\"}"
exits "a segment names the normalised key" 0 \
	nudge segment --config config.yaml --format csv 'default_address_city = "Tel Aviv"'
is "and finds the contact" "$(sed -n 2p .out | cut -d, -f2)" "moshe@example.com"

# Facebook lead ads: UTF-16LE with a BOM, tab-separated, p: phones, full_name
{ printf '\377\376'; printf 'id\tcreated_time\tfull_name\temail\tphone_number\tcity\r\nl:1\t2026-11-24T14:03:12+02:00\tנועה בר לב\tnoa@example.com\tp:+972501112233\tחיפה\r\nl:2\t2026-11-24T15:00:00+02:00\tJohn Smith\tjohn@example.com\tp:+12125550134\tNYC\r\n' |
	iconv -f UTF-8 -t UTF-16LE; } >leads.csv
exits "a UTF-16LE tab-separated lead ads file" 0 \
	nudge import-list --config config.yaml leads.csv
is "read as UTF-16LE, tab-separated" "$(cat .err)" \
"nudge-import-list: leads.csv: read 2, inserted 2, updated 0, unchanged 0, rejected 0; 0 list memberships added; read as UTF-16LE, tab-separated"
is "full_name split, p: dropped, attrs kept" \
	"$(sql "SELECT phone, first_name, last_name, json_extract(attrs, '\$.city') FROM contacts WHERE id > 2 ORDER BY id")" \
"+972501112233	נועה	בר לב	חיפה
+12125550134	John	Smith	NYC"
{ printf '\376\377'; printf 'email,first_name\nbe@example.com,Ørjan\n' |
	iconv -f UTF-8 -t UTF-16BE; } >be.csv
exits "UTF-16BE with a BOM" 0 nudge import-list --config config.yaml be.csv
is "transcoded" "$(sql "SELECT first_name FROM contacts WHERE email = 'be@example.com'")" "Ørjan"
{ printf '\377\376'; printf 'email\n' | iconv -f UTF-8 -t UTF-16LE; printf 'x\000\000\334'; } >broken.csv
exits "broken UTF-16 is a data error" 65 nudge import-list --config config.yaml broken.csv
like "naming the byte" "$(cat .err)" "broken.csv: byte 16: not valid UTF-16LE"

printf 'email|phone\na@example.com|1\n' >pipe.csv
exits "no address column" 65 nudge import-list --config config.yaml pipe.csv
is "says which columns it found and which separator it used" "$(head -n 1 .err)" \
"nudge-import-list: pipe.csv:1: header: no email column (name one with --map COLUMN=email); found 1 column with comma as the separator (--delimiter sets another): \"email|phone\""
printf 'email,note;a;b\nforced@example.com,x;y;z\n' >forced.csv
exits "--delimiter , overrides the sniffing (which would take ;)" 0 \
	nudge import-list --config config.yaml --delimiter , forced.csv
is "the semicolons are data then" "$(sql "SELECT attrs FROM contacts WHERE email = 'forced@example.com'")" '{"note_a_b":"x;y;z"}'
exits "--delimiter of something else is a usage error" 64 \
	nudge import-list --config config.yaml --delimiter '|' forced.csv

printf 'policy:\n  quiet_hours: {from: "21:00", to: "08:00", timezone: Asia/Jerusalem}\n' >tz.yaml
printf 'email,phone\ntz@example.com,052-3334444\n' >local.csv
exits "no default_country: taken from the time zone" 0 \
	nudge import-list --config tz.yaml local.csv
is "and said so" "$(tail -n 1 .err)" \
"nudge-import-list: local.csv: default_country not set: took IL from the time zone Asia/Jerusalem"
: >none.yaml
printf 'email,phone\nil1@example.com,052-1110001\nil2@example.com,054-1110002\n' >il.csv
exits "no default_country and no time zone: the contacts are kept" 0 \
	nudge import-list --config none.yaml il.csv
is "without their phones, with a hint" "$(tail -n 2 .err)" \
"nudge-import-list: il.csv: 2 rows kept without a field that could not be read (shown above)
nudge-import-list: il.csv: 2 phones without a country code kept out: set default_country in the config (the file looks Israeli: 100% start with 05)"
done_testing
