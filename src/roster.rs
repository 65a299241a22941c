//! Who holds a seat at a session, and what a membership has accrued: the shared definitions
//! that attendance, notes and reports all rely on (SPEC §2).
//!
//! A membership is **seated at a session** when it belongs to the session's group, its
//! contract was signed no later than the session's end (`signed_at`, a late entry, may lie in
//! the past), and it had not exited before the session began (`exited_at` is null or after
//! `scheduled_at`). Pending memberships (not signed) are never seated. A phased exit sets
//! `exited_at` to the end of its planned last session (when that session's attendance is
//! recorded), so the member stays on that session's roster and no later one; a discharge sets
//! it to the moment of discharge.
//!
//! **Sessions held since join** are the group's `held` sessions whose local date (in the
//! group's timezone) is on or after `joined_on`, and (once exited) that began before
//! `exited_at`. `minimum_term_met` is `sessions_held_since_join >= min_term_sessions`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Date, Integer, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use crate::domain::attendance::AttendanceStatus;
use crate::domain::participation::{absence_streak, at_risk as streak_at_risk};

/// SQL condition (over aliases `m` = memberships, `s` = sessions) for "m is seated at s".
pub const SEATED_SQL: &str = "m.group_id = s.group_id \
     AND m.signed_at IS NOT NULL \
     AND m.signed_at <= s.scheduled_at + make_interval(mins => s.duration_minutes) \
     AND (m.exited_at IS NULL OR m.exited_at > s.scheduled_at)";

/// SQL condition (over `m`, `s`, `g` = groups) for "s counts toward m's term".
pub const HELD_SINCE_JOIN_SQL: &str = "s.group_id = m.group_id \
     AND s.status = 'held' \
     AND m.joined_on IS NOT NULL \
     AND (s.scheduled_at AT TIME ZONE g.timezone)::date >= m.joined_on \
     AND (m.exited_at IS NULL OR s.scheduled_at < m.exited_at)";

/// The same rule as [`HELD_SINCE_JOIN_SQL`] for set-based queries over many memberships, where
/// `s` is a derived session row that already carries `s.local_date` (its date in the group's
/// time zone), computed once per session rather than once per (membership, session) pair.
/// Used by the retention report; a test checks both forms count alike.
pub const HELD_SINCE_JOIN_LOCAL_SQL: &str = "s.group_id = m.group_id \
     AND s.status = 'held' \
     AND m.joined_on IS NOT NULL \
     AND s.local_date >= m.joined_on \
     AND (m.exited_at IS NULL OR s.scheduled_at < m.exited_at)";

/// A session's date in its group's time zone (over `s` = sessions, `g` = groups).
pub const SESSION_LOCAL_DATE_SQL: &str = "(s.scheduled_at AT TIME ZONE g.timezone)::date";

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// Memberships seated at `session_id`, in admission order.
pub fn seated_at_session(conn: &mut PgConnection, session_id: Uuid) -> QueryResult<Vec<Uuid>> {
    let rows: Vec<IdRow> = diesel::sql_query(format!(
        "SELECT m.id FROM memberships m JOIN sessions s ON s.id = $1 WHERE {SEATED_SQL} ORDER BY m.created_at, m.id"
    ))
    .bind::<SqlUuid, _>(session_id)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// True when `membership_id` is seated at `session_id`.
pub fn is_seated(
    conn: &mut PgConnection,
    membership_id: Uuid,
    session_id: Uuid,
) -> QueryResult<bool> {
    Ok(seated_at_session(conn, session_id)?.contains(&membership_id))
}

#[derive(QueryableByName, Debug, Clone, Copy)]
pub struct Progress {
    #[diesel(sql_type = SqlUuid)]
    pub membership_id: Uuid,
    #[diesel(sql_type = Integer)]
    pub sessions_held_since_join: i32,
    #[diesel(sql_type = Integer)]
    pub min_term_sessions: i32,
    #[diesel(sql_type = Integer)]
    pub absence_alert_threshold: i32,
}

impl Progress {
    pub fn minimum_term_met(&self) -> bool {
        self.sessions_held_since_join >= self.min_term_sessions
    }
}

/// Term progress of the given memberships.
pub fn progress(conn: &mut PgConnection, membership_ids: &[Uuid]) -> QueryResult<Vec<Progress>> {
    diesel::sql_query(format!(
        "SELECT m.id AS membership_id, g.min_term_sessions, g.absence_alert_threshold, \
                (SELECT count(*)::int FROM sessions s WHERE {HELD_SINCE_JOIN_SQL}) AS sessions_held_since_join \
         FROM memberships m JOIN groups g ON g.id = m.group_id \
         WHERE m.id = ANY($1)"
    ))
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(membership_ids)
    .load(conn)
}

/// Progress of one membership as if it exited at `at` (used when deciding `completed` vs
/// `early_exit`).
pub fn held_before(
    conn: &mut PgConnection,
    membership_id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<i32> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = Integer)]
        n: i32,
    }
    let row: N = diesel::sql_query(
        "SELECT count(*)::int AS n FROM memberships m JOIN groups g ON g.id = m.group_id \
         JOIN sessions s ON s.group_id = m.group_id \
         WHERE m.id = $1 AND s.status = 'held' AND m.joined_on IS NOT NULL \
           AND (s.scheduled_at AT TIME ZONE g.timezone)::date >= m.joined_on AND s.scheduled_at <= $2",
    )
    .bind::<SqlUuid, _>(membership_id)
    .bind::<Timestamptz, _>(at)
    .get_result(conn)?;
    Ok(row.n)
}

#[derive(QueryableByName, Debug, Clone, Copy)]
pub struct Risk {
    #[diesel(sql_type = SqlUuid)]
    pub membership_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub at_risk: bool,
}

/// What a membership's attendance records add up to (SPEC §2, v2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Participation {
    /// Records `present`, `late` or `left_early`.
    pub sessions_attended: i32,
    /// Consecutive unexcused absences, newest first (excused ones skipped).
    pub absence_streak: i32,
    /// The local date (group's time zone) of the last session attended.
    pub last_attended_on: Option<NaiveDate>,
}

#[derive(QueryableByName)]
struct Record {
    #[diesel(sql_type = SqlUuid)]
    membership_id: Uuid,
    #[diesel(sql_type = Text)]
    status: AttendanceStatus,
    #[diesel(sql_type = Date)]
    local_date: NaiveDate,
}

/// Participation of the given memberships, from their attendance records (one query; a
/// membership's records are tens, not thousands). The rules are `domain::participation`'s.
pub fn participation(
    conn: &mut PgConnection,
    membership_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Participation>> {
    let rows: Vec<Record> = diesel::sql_query(format!(
        "SELECT a.membership_id, a.status, {SESSION_LOCAL_DATE_SQL} AS local_date \
         FROM attendance a JOIN sessions s ON s.id = a.session_id JOIN groups g ON g.id = s.group_id \
         WHERE a.membership_id = ANY($1) \
         ORDER BY a.membership_id, s.scheduled_at DESC, s.id DESC"
    ))
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(membership_ids)
    .load(conn)?;
    let mut by_member: HashMap<Uuid, Vec<(AttendanceStatus, NaiveDate)>> = HashMap::new();
    for r in rows {
        by_member
            .entry(r.membership_id)
            .or_default()
            .push((r.status, r.local_date));
    }
    Ok(membership_ids
        .iter()
        .map(|id| {
            let recs = by_member.get(id).map(Vec::as_slice).unwrap_or(&[]);
            let p = Participation {
                sessions_attended: recs.iter().filter(|(s, _)| s.attended()).count() as i32,
                absence_streak: absence_streak(recs.iter().map(|(s, _)| *s)),
                last_attended_on: recs.iter().find(|(s, _)| s.attended()).map(|(_, d)| *d),
            };
            (*id, p)
        })
        .collect())
}

/// `at_risk` (SPEC §2, v2): the absence streak has reached the group's
/// `absence_alert_threshold`.
pub fn at_risk(conn: &mut PgConnection, membership_ids: &[Uuid]) -> QueryResult<Vec<Risk>> {
    let part = participation(conn, membership_ids)?;
    Ok(progress(conn, membership_ids)?
        .into_iter()
        .map(|p| Risk {
            membership_id: p.membership_id,
            at_risk: streak_at_risk(
                part.get(&p.membership_id).map_or(0, |x| x.absence_streak),
                p.absence_alert_threshold,
            ),
        })
        .collect())
}

/// Attended sessions of one membership scheduled no later than `at` (for deciding
/// `completed`).
pub fn attended_before(
    conn: &mut PgConnection,
    membership_id: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<i32> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = Integer)]
        n: i32,
    }
    let row: N = diesel::sql_query(
        "SELECT count(*)::int AS n FROM attendance a JOIN sessions s ON s.id = a.session_id \
         WHERE a.membership_id = $1 AND s.scheduled_at <= $2 \
           AND a.status IN ('present', 'late', 'left_early')",
    )
    .bind::<SqlUuid, _>(membership_id)
    .bind::<Timestamptz, _>(at)
    .get_result(conn)?;
    Ok(row.n)
}
