-- clicked in last 3 email campaigns
-- The last 3 campaigns come from campaigns.first_sent_at (kept by a
-- trigger), then events_campaign (campaign_id, type, contact_id) covers
-- the clicks.
SELECT DISTINCT e.contact_id FROM events e
WHERE e.type = 'clicked'
  AND e.campaign_id IN (
    SELECT id FROM campaigns WHERE channel = 'email'
      AND first_sent_at IS NOT NULL
    ORDER BY first_sent_at DESC LIMIT 3);
