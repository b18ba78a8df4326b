-- received channel push campaign "2026-10-28-push-new-arrivals" and not
-- clicked campaign "2026-10-28-push-new-arrivals"
-- Both sides are ranges of events_campaign (campaign_id, type, contact_id).
SELECT DISTINCT e.contact_id FROM events e
WHERE e.campaign_id = (SELECT id FROM campaigns
                       WHERE name = '2026-10-28-push-new-arrivals')
  AND e.type = 'sent' AND e.channel = 'push'
  AND e.contact_id NOT IN (
    SELECT c.contact_id FROM events c
    WHERE c.campaign_id = (SELECT id FROM campaigns
                           WHERE name = '2026-10-28-push-new-arrivals')
      AND c.type = 'clicked');
