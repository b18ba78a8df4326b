-- not received within 1d and not purchase within 2d
-- Every contact but those with a send in the last day or a purchase in
-- the last two: each exclusion is read once from events_type_at.
SELECT c.id FROM contacts c
WHERE c.id NOT IN (
    SELECT e.contact_id FROM events e
    WHERE e.type = 'sent'
      AND e.at >= unixepoch('2026-11-01T00:00:00Z') - 86400)
  AND c.id NOT IN (
    SELECT e.contact_id FROM events e
    WHERE e.type = 'purchase'
      AND e.at >= unixepoch('2026-11-01T00:00:00Z') - 2 * 86400);
