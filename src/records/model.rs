//! What a client record export reads: the client's memberships, their attendance, and the
//! names to redact from their notes.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::attendance::AttendanceStatus;
use crate::domain::membership::{ExitReason, MembershipStatus};
use crate::schema::{attendance, clients, groups, memberships, sessions};

/// One of the client's seats (the group's name, never its other members).
#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct RecordMembership {
    pub id: Uuid,
    pub group_id: Uuid,
    pub group_name: String,
    pub status: MembershipStatus,
    pub joined_on: Option<NaiveDate>,
    pub exit_reason: Option<ExitReason>,
    pub exited_at: Option<DateTime<Utc>>,
}

/// One attendance record of the client.
#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct RecordAttendance {
    pub membership_id: Uuid,
    pub session_id: Uuid,
    pub session_sequence: i32,
    pub scheduled_at: DateTime<Utc>,
    pub status: AttendanceStatus,
    pub minutes_late: Option<i32>,
}

/// The client's memberships, oldest first; only in `groups` when given (a therapist's).
pub fn memberships_of(
    conn: &mut PgConnection,
    client_id: Uuid,
    groups: Option<&[Uuid]>,
) -> QueryResult<Vec<RecordMembership>> {
    let mut q = memberships::table
        .inner_join(groups::table)
        .filter(memberships::client_id.eq(client_id))
        .order((memberships::created_at.asc(), memberships::id.asc()))
        .select((
            memberships::id,
            memberships::group_id,
            groups::name,
            memberships::status,
            memberships::joined_on,
            memberships::exit_reason,
            memberships::exited_at,
        ))
        .into_boxed();
    if let Some(ids) = groups {
        q = q.filter(memberships::group_id.eq_any(ids));
    }
    q.load(conn)
}

/// Attendance of these memberships, in session order.
pub fn attendance_of(
    conn: &mut PgConnection,
    membership_ids: &[Uuid],
) -> QueryResult<Vec<RecordAttendance>> {
    attendance::table
        .inner_join(sessions::table)
        .filter(attendance::membership_id.eq_any(membership_ids))
        .order((sessions::scheduled_at.asc(), sessions::id.asc()))
        .select((
            attendance::membership_id,
            sessions::id,
            sessions::sequence,
            sessions::scheduled_at,
            attendance::status,
            attendance::minutes_late,
        ))
        .load(conn)
}

/// First, last and preferred names of everyone else who held a seat in any group the client
/// was ever in (whichever of those groups the caller may see).
pub fn fellow_names(conn: &mut PgConnection, client_id: Uuid) -> QueryResult<Vec<String>> {
    let client_groups: Vec<Uuid> = memberships::table
        .filter(memberships::client_id.eq(client_id))
        .select(memberships::group_id)
        .load(conn)?;
    let rows: Vec<(String, String, Option<String>)> = memberships::table
        .inner_join(clients::table)
        .filter(memberships::group_id.eq_any(&client_groups))
        .filter(memberships::client_id.ne(client_id))
        .select((
            clients::first_name,
            clients::last_name,
            clients::preferred_name,
        ))
        .distinct()
        .load(conn)?;
    Ok(rows
        .into_iter()
        .flat_map(|(f, l, p)| [Some(f), Some(l), p])
        .flatten()
        .collect())
}

/// Client and membership ids of everyone else who held a seat in any group the client was
/// ever in: a note may quote one, and the export must not (SPEC §2).
pub fn fellow_ids(conn: &mut PgConnection, client_id: Uuid) -> QueryResult<Vec<Uuid>> {
    let client_groups: Vec<Uuid> = memberships::table
        .filter(memberships::client_id.eq(client_id))
        .select(memberships::group_id)
        .load(conn)?;
    let rows: Vec<(Uuid, Uuid)> = memberships::table
        .filter(memberships::group_id.eq_any(&client_groups))
        .filter(memberships::client_id.ne(client_id))
        .select((memberships::id, memberships::client_id))
        .load(conn)?;
    let mut ids: Vec<Uuid> = rows.into_iter().flat_map(|(m, c)| [m, c]).collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}
