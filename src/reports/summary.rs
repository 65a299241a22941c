//! The attendance report's per-member summary (SPEC §5): for each membership seated at one or
//! more held sessions in the window, the sessions held while seated, each status's count, and
//! `attendance_rate` = (present + late + left_early) / sessions held.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::literal;
use super::pseudonym::Pseudonymizer;
use super::rows::Filter;
use crate::domain::retention::attendance_rate;
use crate::roster::{SEATED_SQL, SESSION_LOCAL_DATE_SQL};

#[derive(Debug, QueryableByName)]
struct SummaryRow {
    #[diesel(sql_type = SqlUuid)]
    group_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    client_id: Uuid,
    #[diesel(sql_type = Text)]
    client_name: String,
    #[diesel(sql_type = BigInt)]
    sessions_held: i64,
    #[diesel(sql_type = BigInt)]
    present: i64,
    #[diesel(sql_type = BigInt)]
    late: i64,
    #[diesel(sql_type = BigInt)]
    left_early: i64,
    #[diesel(sql_type = BigInt)]
    excused_absence: i64,
    #[diesel(sql_type = BigInt)]
    unexcused_absence: i64,
}

/// One member's attendance over the whole window.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberSummary {
    pub group_id: Uuid,
    /// The client's id, or their pseudonym when de-identified.
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// Held sessions in the window at which the member held a seat.
    pub sessions_held: i64,
    pub present: i64,
    pub late: i64,
    pub left_early: i64,
    pub excused_absence: i64,
    pub unexcused_absence: i64,
    /// (present + late + left_early) / sessions_held, rounded to 4 decimals; null when 0.
    pub attendance_rate: Option<f64>,
}

/// The summary over the window (one entry per membership), by group then client name.
pub fn load(
    conn: &mut PgConnection,
    f: &Filter,
    p: Option<&Pseudonymizer>,
) -> QueryResult<Vec<MemberSummary>> {
    let group = literal(f.group_id, "uuid");
    let from = literal(f.from, "date");
    let to = literal(f.to, "date");
    let rows: Vec<SummaryRow> = diesel::sql_query(format!(
        "SELECT m.group_id, c.id AS client_id, c.first_name || ' ' || c.last_name AS client_name, \
                count(*) AS sessions_held, \
                count(*) FILTER (WHERE a.status = 'present') AS present, \
                count(*) FILTER (WHERE a.status = 'late') AS late, \
                count(*) FILTER (WHERE a.status = 'left_early') AS left_early, \
                count(*) FILTER (WHERE a.status = 'excused_absence') AS excused_absence, \
                count(*) FILTER (WHERE a.status = 'unexcused_absence') AS unexcused_absence \
         FROM sessions s JOIN groups g ON g.id = s.group_id \
         JOIN memberships m ON {SEATED_SQL} \
         JOIN clients c ON c.id = m.client_id \
         LEFT JOIN attendance a ON a.session_id = s.id AND a.membership_id = m.id \
         WHERE s.status = 'held' AND ({group} IS NULL OR s.group_id = {group}) \
           AND ({from} IS NULL OR {SESSION_LOCAL_DATE_SQL} >= {from}) \
           AND ({to} IS NULL OR {SESSION_LOCAL_DATE_SQL} <= {to}) \
         GROUP BY m.id, m.group_id, c.id ORDER BY m.group_id, client_name, c.id, m.id"
    ))
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|m| MemberSummary {
            group_id: m.group_id,
            client_id: p.map_or_else(|| m.client_id.to_string(), |p| p.pseudonym(m.client_id)),
            client_name: p.is_none().then_some(m.client_name),
            attendance_rate: attendance_rate(m.present, m.late, m.left_early, m.sessions_held),
            sessions_held: m.sessions_held,
            present: m.present,
            late: m.late,
            left_early: m.left_early,
            excused_absence: m.excused_absence,
            unexcused_absence: m.unexcused_absence,
        })
        .collect())
}
