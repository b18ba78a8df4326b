-- list "vip" or list "newsletter"
-- Both ranges of the list_members primary key, merged by UNION (which
-- also removes contacts on both lists).
SELECT contact_id FROM list_members
WHERE list_id = (SELECT id FROM lists WHERE name = 'vip')
UNION
SELECT contact_id FROM list_members
WHERE list_id = (SELECT id FROM lists WHERE name = 'newsletter');
