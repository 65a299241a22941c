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
use diesel::sql_types::{Integer, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use crate::domain::participation::at_risk as streak_at_risk;
use crate::schema::clients;

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

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub membership_id: Uuid,
    pub sessions_held_since_join: i32,
    pub min_term_sessions: i32,
    pub absence_alert_threshold: i32,
}

impl Progress {
    pub fn minimum_term_met(&self) -> bool {
        self.sessions_held_since_join >= self.min_term_sessions
    }
}

diesel::table! {
    /// The view `membership_stats` (migration `2026-12-08-010000_membership_stats_by_index`): a
    /// membership's term progress and participation, derived in SQL. Declared here because
    /// `schema.rs` is diesel's print-schema of the tables only.
    membership_stats (membership_id) {
        membership_id -> Uuid,
        client_id -> Uuid,
        min_term_sessions -> Int4,
        absence_alert_threshold -> Int4,
        sessions_held_since_join -> Int4,
        sessions_attended -> Int4,
        absence_streak -> Int4,
        last_attended_on -> Nullable<Date>,
    }
}

/// Term progress and participation of one membership, in one row of `membership_stats`.
#[derive(Debug, Clone, Copy, Queryable, Selectable)]
#[diesel(table_name = membership_stats)]
pub struct Stats {
    pub membership_id: Uuid,
    pub client_id: Uuid,
    pub min_term_sessions: i32,
    pub absence_alert_threshold: i32,
    pub sessions_held_since_join: i32,
    pub sessions_attended: i32,
    pub absence_streak: i32,
    pub last_attended_on: Option<NaiveDate>,
}

impl Stats {
    pub fn progress(&self) -> Progress {
        Progress {
            membership_id: self.membership_id,
            sessions_held_since_join: self.sessions_held_since_join,
            min_term_sessions: self.min_term_sessions,
            absence_alert_threshold: self.absence_alert_threshold,
        }
    }

    pub fn participation(&self) -> Participation {
        Participation {
            sessions_attended: self.sessions_attended,
            absence_streak: self.absence_streak,
            last_attended_on: self.last_attended_on,
        }
    }
}

/// Term progress and participation of the given memberships, in one statically typed query
/// (prepared once per connection): the rules of SPEC §2 are the view's, the same as
/// [`HELD_SINCE_JOIN_SQL`] and `domain::participation`'s (tests compare them).
pub fn stats(conn: &mut PgConnection, membership_ids: &[Uuid]) -> QueryResult<Vec<Stats>> {
    membership_stats::table
        .filter(membership_stats::membership_id.eq_any(membership_ids))
        .select(Stats::as_select())
        .load(conn)
}

diesel::joinable!(membership_stats -> clients (client_id));
diesel::allow_tables_to_appear_in_same_query!(membership_stats, clients);

/// [`stats`] with each membership's client, in one query (member lists).
pub fn stats_with_clients(
    conn: &mut PgConnection,
    membership_ids: &[Uuid],
) -> QueryResult<Vec<(Stats, crate::clients::model::ClientRow)>> {
    membership_stats::table
        .inner_join(clients::table)
        .filter(membership_stats::membership_id.eq_any(membership_ids))
        .select((
            Stats::as_select(),
            crate::clients::model::ClientRow::as_select(),
        ))
        .load(conn)
}

/// Term progress of the given memberships.
pub fn progress(conn: &mut PgConnection, membership_ids: &[Uuid]) -> QueryResult<Vec<Progress>> {
    Ok(stats(conn, membership_ids)?
        .iter()
        .map(Stats::progress)
        .collect())
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

/// Participation of the given memberships (one query; derived in SQL, see
/// [`membership_stats`]). A membership without records has none of either.
pub fn participation(
    conn: &mut PgConnection,
    membership_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Participation>> {
    Ok(stats(conn, membership_ids)?
        .iter()
        .map(|s| (s.membership_id, s.participation()))
        .collect())
}

/// `at_risk` (SPEC §2, v2): the absence streak has reached the group's
/// `absence_alert_threshold`.
pub fn at_risk(conn: &mut PgConnection, membership_ids: &[Uuid]) -> QueryResult<Vec<Risk>> {
    Ok(stats(conn, membership_ids)?
        .into_iter()
        .map(|s| Risk {
            membership_id: s.membership_id,
            at_risk: streak_at_risk(s.absence_streak, s.absence_alert_threshold),
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
