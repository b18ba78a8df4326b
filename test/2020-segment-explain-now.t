#!/bin/sh
# nudge segment --explain (the SQL and its parameters, nothing run) and
# --now (the clock that "within" counts back from).
. "$(dirname "$0")/lib.sh"
. "$TESTDIR/segment/fixture.sh"
plan 8

seg --explain 'not opened within 7d' >got
cat >want <<'EOT'
SELECT c.id FROM contacts c EXCEPT SELECT e.contact_id FROM events e WHERE e.type = ?1 AND e.at >= ?2 ORDER BY 1;
-- ?1 = 'opened'
-- ?2 = 1792886400 (2026-10-25T00:00:00Z)
EOT
cmp_file "--explain: the query and each bound parameter" want got

seg --explain 'list "newsletter" and not opened within 7d' >got
cat >want <<'EOT'
SELECT m.contact_id FROM list_members m WHERE m.list_id = (SELECT l.id FROM lists l WHERE l.name = ?1) EXCEPT SELECT e.contact_id FROM events e WHERE e.type = ?2 AND e.at >= ?3 ORDER BY 1;
-- ?1 = 'newsletter'
-- ?2 = 'opened'
-- ?3 = 1792886400 (2026-10-25T00:00:00Z)
EOT
cmp_file "--explain: set predicates only read no contacts table, \"and not\" as EXCEPT" want got

seg --explain --count -f csv --fields email,city 'list "vip" and city = "Haifa"' >got
cat >want <<'EOT'
SELECT count(*) FROM (SELECT c.id FROM contacts c WHERE c.id IN (SELECT m.contact_id FROM list_members m WHERE m.list_id = (SELECT l.id FROM lists l WHERE l.name = ?1)) AND (json_extract(c.attrs, ?2) IS NOT NULL AND CAST(json_extract(c.attrs, ?2) AS TEXT) = ?3) ORDER BY c.id);
-- ?1 = 'vip'
-- ?2 = '$."city"'
-- ?3 = 'Haifa'
EOT
cmp_file "--explain shows the --count query" want got

seg --explain -f tsv --fields email,city 'list "vip"' >got
cat >want <<'EOT'
SELECT c.email, json_extract(c.attrs, ?2) FROM contacts c WHERE c.id IN (SELECT m.contact_id FROM list_members m WHERE m.list_id = (SELECT l.id FROM lists l WHERE l.name = ?1)) ORDER BY c.id;
-- ?1 = 'vip'
-- ?2 = '$."city"'
EOT
cmp_file "--explain shows the --fields query" want got

# sales_call 3 is 2026-10-19, 4 is 2026-10-17
is "--now moves the window: later" \
	"$(nudge segment --now 2026-11-03 'sales_call within 14d')" ""
is "--now moves the window: earlier" \
	"$(nudge segment --now 2026-10-20T00:00:00Z 'sales_call within 14d' | tr '\n' ' ')" "3 4 "
is "--now with an offset" \
	"$(nudge segment --now '2026-10-31T02:00:00+02:00' --explain 'opened within 1d' | tail -1)" \
	"-- ?2 = 1793318400 (2026-10-30T00:00:00Z)"
exits "a bad --now is a usage error" 64 nudge segment --now yesterday 'opened'
done_testing
