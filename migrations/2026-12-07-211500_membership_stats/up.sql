-- Issue 18: what a membership's sessions and attendance add up to (SPEC §2), derived in SQL in
-- one statement instead of loading every attendance record of a group into the service.
-- A view, so that the service reads it with a statically typed (prepared, cached) query and
-- a filter on `membership_id` is pushed down into it.
--
--   sessions_held_since_join: the rule of `roster::HELD_SINCE_JOIN_SQL`;
--   sessions_attended:        records present, late or left early;
--   absence_streak:           unexcused absences newer than the newest attended record
--                             (excused ones neither break nor extend it): each record counts
--                             the attended records at or after it, newest first, and the
--                             streak is the unexcused records with none;
--   last_attended_on:         the local date (the session's group's time zone) of the newest
--                             attended session.
CREATE VIEW membership_stats AS
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

-- The serving role reads it (default privileges cover it too; explicit for a role made by hand).
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'groupwork_app') THEN
        GRANT SELECT ON membership_stats TO groupwork_app;
    END IF;
END
$$;
