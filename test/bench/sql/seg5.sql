-- ad_view source = "facebook" at least 2 times within 30d
-- events_type_at (type, at, contact_id) gives the month's ad views; the
-- source is in the props JSON.
SELECT e.contact_id FROM events e
WHERE e.type = 'ad_view'
  AND e.at >= unixepoch('2026-11-01T00:00:00Z') - 30 * 86400
  AND e.props ->> '$.source' = 'facebook'
GROUP BY e.contact_id HAVING count(*) >= 2;
