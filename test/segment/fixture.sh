# test/segment/fixture.sh: sourced by test/2*-segment-*.t after lib.sh.
# Builds the store every segment test reads: six contacts, two lists, six
# campaigns and the events below, with now = 2026-11-01T00:00:00Z
# (1793491200).  The store is created by saving a segment with --create
# (no command but import-list makes a store without it), then that
# segment is dropped and the rows go in with sqlite3 into the real schema, with
# campaigns.first_sent_at as nudge event would have set it.
#
#   id  name         lists           events (d = days before now)
#   1   דנה כהן      vip             sent e4 email 5d, clicked e4 4d, opened 2d,
#                                    sent promo push 1h, ad_view facebook 3d, 40d
#   2   Avi Levi     newsletter      sent e1 email 30d, opened 29d, clicked e1 29d,
#                                    sent promo push 6d, clicked promo 6d,
#                                    purchase 1d, ad_view facebook 5d, 6d
#   3   נועה ברק     vip newsletter  sent e2 email 20d, clicked e2 19d,
#                                    sent promo push 6d, sales_call 13d,
#                                    ad_view google 1d, ad_view facebook 2d
#   4   Bob Smith    newsletter      sent promo email 6d, opened 7d (exactly),
#                                    sent p1 push 3d, sales_call 15d, purchase 3d
#   5   Eve          -               none
#   6   Zoe          -               sent e3 email 10d, ad_view facebook 1d 2d 3d
NOW=1793491200
D=86400
nudge segment --create --save fixture 'list "x"' || exit 1
sql "DELETE FROM segments;
INSERT INTO contacts (id, email, phone, push_id, first_name, last_name, attrs,
  created_at, updated_at) VALUES
 (1, 'dana@example.com', '+972521234567', 'push-1', 'דנה', 'כהן',
  '{\"city\":\"Haifa\",\"age\":\"34\"}', $NOW - 100*$D, $NOW - 100*$D),
 (2, 'avi@example.com', NULL, NULL, 'Avi', 'Levi',
  '{\"city\":\"Tel Aviv\",\"age\":41}', $NOW - 90*$D, $NOW - 90*$D),
 (3, 'noa@example.com', '+972501112222', 'push-3', 'נועה', 'ברק',
  '{\"city\":\"Haifa\"}', $NOW - 50*$D, $NOW - 50*$D),
 (4, 'bob@example.com', NULL, 'push-4', 'Bob', 'Smith, \"Jr\"',
  '{\"age\":\"n/a\",\"city\":\"\"}', $NOW - 10*$D, $NOW - 10*$D),
 (5, NULL, '+12125550134', NULL, 'Eve', NULL, '{}', $NOW - 5*$D, $NOW - 5*$D),
 (6, 'zoe@example.com', NULL, NULL, 'Zoe' || char(9) || 'Tab', 'a\\b',
  '{\"city\":\"Eilat\"}', $NOW - 1*$D, $NOW - 1*$D);
INSERT INTO lists (id, name, created_at) VALUES (1, 'vip', 0),
 (2, 'newsletter', 0);
INSERT INTO list_members (list_id, contact_id, added_at) VALUES
 (1, 1, 0), (1, 3, 0), (2, 2, 0), (2, 3, 0), (2, 4, 0);
INSERT INTO campaigns (id, name, channel, created_at) VALUES
 (1, 'promo', 'push', 0), (2, 'e1', 'email', 0), (3, 'e2', 'email', 0),
 (4, 'e3', 'email', 0), (5, 'e4', 'email', 0), (6, 'p1', 'push', 0);
INSERT INTO events (contact_id, type, channel, campaign_id, at, props) VALUES
 (1, 'sent', 'email', 5, $NOW - 5*$D, NULL),
 (1, 'clicked', 'email', 5, $NOW - 4*$D, NULL),
 (1, 'opened', 'email', 5, $NOW - 2*$D, NULL),
 (1, 'sent', 'push', 1, $NOW - 3600, NULL),
 (1, 'ad_view', NULL, NULL, $NOW - 3*$D, '{\"source\":\"facebook\"}'),
 (1, 'ad_view', NULL, NULL, $NOW - 40*$D, '{\"source\":\"facebook\"}'),
 (2, 'sent', 'email', 2, $NOW - 30*$D, NULL),
 (2, 'opened', 'email', 2, $NOW - 29*$D, NULL),
 (2, 'clicked', 'email', 2, $NOW - 29*$D, NULL),
 (2, 'sent', 'push', 1, $NOW - 6*$D, NULL),
 (2, 'clicked', 'push', 1, $NOW - 6*$D, NULL),
 (2, 'purchase', NULL, NULL, $NOW - 1*$D, '{\"amount\":120}'),
 (2, 'ad_view', NULL, NULL, $NOW - 5*$D, '{\"source\":\"facebook\"}'),
 (2, 'ad_view', NULL, NULL, $NOW - 6*$D, '{\"source\":\"facebook\"}'),
 (3, 'sent', 'email', 3, $NOW - 20*$D, NULL),
 (3, 'clicked', 'email', 3, $NOW - 19*$D, NULL),
 (3, 'sent', 'push', 1, $NOW - 6*$D, NULL),
 (3, 'sales_call', NULL, NULL, $NOW - 13*$D, NULL),
 (3, 'ad_view', NULL, NULL, $NOW - 1*$D, '{\"source\":\"google\"}'),
 (3, 'ad_view', NULL, NULL, $NOW - 2*$D, '{\"source\":\"facebook\"}'),
 (4, 'sent', 'email', 1, $NOW - 6*$D, NULL),
 (4, 'opened', 'email', 1, $NOW - 7*$D, NULL),
 (4, 'sent', 'push', 6, $NOW - 3*$D, NULL),
 (4, 'sales_call', NULL, NULL, $NOW - 15*$D, NULL),
 (4, 'purchase', NULL, NULL, $NOW - 3*$D, '{\"amount\":30}'),
 (6, 'sent', 'email', 4, $NOW - 10*$D, NULL),
 (6, 'ad_view', NULL, NULL, $NOW - 1*$D, '{\"source\":\"facebook\"}'),
 (6, 'ad_view', NULL, NULL, $NOW - 2*$D, '{\"source\":\"facebook\"}'),
 (6, 'ad_view', NULL, NULL, $NOW - 3*$D, '{\"source\":\"facebook\"}');
-- what nudge's event writer keeps for the sent events it writes
UPDATE campaigns SET first_sent_at = (SELECT min(at) FROM events e
  WHERE e.campaign_id = campaigns.id AND e.type = 'sent');" || exit 1
# seg EXPR...: nudge segment at the fixture's now
seg() { nudge segment --now 2026-11-01 "$@"; }
