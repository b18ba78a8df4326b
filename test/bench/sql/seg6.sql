-- sales_call within 14d
-- A covering range of events_type_at (type, at, contact_id).
SELECT DISTINCT e.contact_id FROM events e
WHERE e.type = 'sales_call'
  AND e.at >= unixepoch('2026-11-01T00:00:00Z') - 14 * 86400;
