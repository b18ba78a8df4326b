-- nudge report --format csv, all campaigns, last-touch, 7-day window, by
-- hand: per campaign its messages, contacts, converted, conversions and
-- revenue.  Each purchase is credited to the one sent message of any
-- campaign that came last before it within 7 days (a probe of the
-- contact's sends per purchase, through whichever index the planner
-- picks); messages and contacts by counting the sent events.
WITH cr AS (
  SELECT e.campaign_id AS cid, p.contact_id,
         CAST(p.props ->> 'total' AS REAL) AS val
  FROM (SELECT q.contact_id, q.props,
               (SELECT s.id FROM events s
                WHERE s.contact_id = q.contact_id AND s.type = 'sent'
                  AND s.at BETWEEN q.at - 604800 AND q.at
                  AND s.campaign_id IS NOT NULL
                ORDER BY s.at DESC, s.id DESC LIMIT 1) AS sid
        FROM events q WHERE q.type = 'purchase') p
  JOIN events e ON e.id = p.sid),
conv AS (SELECT cid, count(*) AS n, count(DISTINCT contact_id) AS k,
                coalesce(sum(val), 0) AS rev
         FROM cr GROUP BY cid),
sent AS (SELECT campaign_id AS cid, count(*) AS m,
                count(DISTINCT contact_id) AS c
         FROM events WHERE type = 'sent' AND campaign_id IS NOT NULL
         GROUP BY campaign_id)
SELECT c.name, sent.m, sent.c, coalesce(conv.k, 0), coalesce(conv.n, 0),
       round(coalesce(conv.rev, 0), 2)
FROM sent JOIN campaigns c ON c.id = sent.cid LEFT JOIN conv USING (cid)
ORDER BY c.name;
