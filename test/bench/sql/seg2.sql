-- list "vip" or list "newsletter"
-- The larger list as one range of the list_members primary key, then the
-- members of the smaller one that are not on it, one key probe each: no
-- sort and no temporary index, which UNION or DISTINCT would build.
SELECT n.contact_id FROM list_members n
WHERE n.list_id = (SELECT id FROM lists WHERE name = 'newsletter')
UNION ALL
SELECT v.contact_id FROM list_members v
WHERE v.list_id = (SELECT id FROM lists WHERE name = 'vip')
  AND NOT EXISTS (
    SELECT 1 FROM list_members m
    WHERE m.list_id = (SELECT id FROM lists WHERE name = 'newsletter')
      AND m.contact_id = v.contact_id);
