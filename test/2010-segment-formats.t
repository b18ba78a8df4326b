#!/bin/sh
# nudge segment output: ids, tsv, csv, json, table, --fields (columns and
# attrs keys), Hebrew names, escaping, the default format.
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/segment/fixture.sh"
plan 14

seg -f ids 'id > 0' >got
printf '1\n2\n3\n4\n5\n6\n' >want
cmp_file "ids: one id per line, in id order" want got

seg 'id > 0' >got
cmp_file "ids is the default when stdout is not a terminal" want got

TAB=$(printf '\t')
seg -f tsv 'id > 0' >got
cat >want <<EOT
1	dana@example.com	+972521234567	דנה	כהן
2	avi@example.com		Avi	Levi
3	noa@example.com	+972501112222	נועה	ברק
4	bob@example.com		Bob	Smith, "Jr"
5		+12125550134	Eve	
6	zoe@example.com		Zoe\\tTab	a\\\\b
EOT
cmp_file "tsv: no header, empty for NULL, tab and backslash escaped" want got

seg --format csv 'id > 0' >got
printf '%s\r\n' 'id,email,phone,first_name,last_name' \
	'1,dana@example.com,+972521234567,דנה,כהן' \
	'2,avi@example.com,,Avi,Levi' \
	'3,noa@example.com,+972501112222,נועה,ברק' \
	'4,bob@example.com,,Bob,"Smith, ""Jr"""' \
	'5,,+12125550134,Eve,' \
	"6,zoe@example.com,,Zoe${TAB}Tab,a\\b" >want
cmp_file "csv: RFC 4180 header, CRLF, quoting" want got

seg -f json 'id > 0' >got
cat >want <<'EOT'
{"id":1,"email":"dana@example.com","phone":"+972521234567","first_name":"דנה","last_name":"כהן"}
{"id":2,"email":"avi@example.com","phone":null,"first_name":"Avi","last_name":"Levi"}
{"id":3,"email":"noa@example.com","phone":"+972501112222","first_name":"נועה","last_name":"ברק"}
{"id":4,"email":"bob@example.com","phone":null,"first_name":"Bob","last_name":"Smith, \"Jr\""}
{"id":5,"email":null,"phone":"+12125550134","first_name":"Eve","last_name":null}
{"id":6,"email":"zoe@example.com","phone":null,"first_name":"Zoe\tTab","last_name":"a\\b"}
EOT
cmp_file "json: one object per line, null, escapes, numbers bare" want got

seg -f table 'id > 0' >got
cat >want <<'EOT'
id  email             phone          first_name  last_name
--  ----------------  -------------  ----------  -----------
 1  dana@example.com  +972521234567  דנה         כהן
 2  avi@example.com                  Avi         Levi
 3  noa@example.com   +972501112222  נועה        ברק
 4  bob@example.com                  Bob         Smith, "Jr"
 5                    +12125550134   Eve
 6  zoe@example.com                  Zoe\tTab    a\b
EOT
cmp_file "table: aligned by characters, numbers right, no trailing blanks" \
	want got

seg -f table --fields id,city,age 'list "vip" or list "newsletter"' >got
cat >want <<'EOT'
id  city      age
--  --------  ---
 1  Haifa     34
 2  Tel Aviv  41
 3  Haifa
 4            n/a
EOT
cmp_file "--fields takes attrs keys" want got

seg --fields email,city 'list "vip"' >got
printf 'dana@example.com\tHaifa\nnoa@example.com\tHaifa\n' >want
cmp_file "--fields without --format off a terminal is tsv" want got

is "--fields with ids still prints ids" \
	"$(seg -f ids --fields email 'list "vip"')" "1
3"
is "json with an attrs key holding a number" \
	"$(seg -f json --fields id,age 'list "newsletter"')" \
	'{"id":2,"age":41}
{"id":3,"age":null}
{"id":4,"age":"n/a"}'
is "csv of no rows is the header alone" \
	"$(seg -f csv --fields id 'list "nope"' | tr -d '\r')" "id"
is "table of no rows is the header and rule" \
	"$(seg -f table --fields id,email 'list "nope"')" "id  email
--  -----"
exits "a bad --format is a usage error" 64 seg -f xml 'id > 0'
exits "an empty --fields name is a usage error" 64 \
	seg --fields 'id,,email' 'id > 0'
done_testing
