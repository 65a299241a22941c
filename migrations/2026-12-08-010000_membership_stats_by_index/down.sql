-- Back to the first definition (migration 2026-12-07-211500_membership_stats).
CREATE OR REPLACE VIEW membership_stats AS
SELECT m.id AS membership_id,
       m.client_id,
       g.min_term_sessions,
       g.absence_alert_threshold,
       (SELECT count(*)::int FROM sessions s
         WHERE s.group_id = m.group_id
           AND s.status = 'held'
           AND m.joined_on IS NOT NULL
           AND (s.scheduled_at AT TIME ZONE g.timezone)::date >= m.joined_on
           AND (m.exited_at IS NULL OR s.scheduled_at < m.exited_at)) AS sessions_held_since_join,
       p.sessions_attended,
       p.absence_streak,
       p.last_attended_on
FROM memberships m
JOIN groups g ON g.id = m.group_id
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE r.attended)::int AS sessions_attended,
           count(*) FILTER (WHERE r.status = 'unexcused_absence' AND r.attended_since = 0)::int
               AS absence_streak,
           (array_agg(r.local_date ORDER BY r.scheduled_at DESC, r.session_id DESC)
               FILTER (WHERE r.attended))[1] AS last_attended_on
    FROM (
        SELECT a.status,
               a.status IN ('present', 'late', 'left_early') AS attended,
               s.scheduled_at,
               s.id AS session_id,
               (s.scheduled_at AT TIME ZONE sg.timezone)::date AS local_date,
               count(*) FILTER (WHERE a.status IN ('present', 'late', 'left_early'))
                   OVER (ORDER BY s.scheduled_at DESC, s.id DESC
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS attended_since
        FROM attendance a
        JOIN sessions s ON s.id = a.session_id
        JOIN groups sg ON sg.id = s.group_id
        WHERE a.membership_id = m.id
    ) r
) p;
