-- purchase and not purchase within 90d
-- The win-back audience: contacts who bought, but not in the last 90
-- days; one pass over the purchases in events_type_at, grouped by
-- contact, keeping those whose latest purchase is before the window.
SELECT e.contact_id FROM events e
WHERE e.type = 'purchase'
GROUP BY e.contact_id
HAVING max(e.at) < unixepoch('2026-11-01T00:00:00Z') - 90 * 86400
ORDER BY e.contact_id;
