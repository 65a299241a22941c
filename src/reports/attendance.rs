//! `GET /reports/attendance` (SPEC §5): one row per attendance record of a held session in
//! the window, as CSV (streamed) or JSON (paged, with a per-member summary on the first page).

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::pseudonym::Pseudonymizer;
use super::{check_window, literal, stream, Format};
use crate::auth::{Action, Staff};
use crate::error::AppResult;
use crate::http::pagination::{self, decode_cursor, encode_cursor};
use crate::http::Query;
use crate::roster::SEATED_SQL;
use crate::state::AppState;

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttendanceQuery {
    /// First session date (in the group's time zone), inclusive; default: no lower bound.
    pub from: Option<NaiveDate>,
    /// Last session date, inclusive; default: no upper bound.
    pub to: Option<NaiveDate>,
    pub group_id: Option<Uuid>,
    #[param(inline)]
    pub format: Option<Format>,
    /// No names; `client_id` replaced by a stable pseudonym.
    pub deidentified: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, QueryableByName)]
pub struct Row {
    #[diesel(sql_type = SqlUuid)]
    group_id: Uuid,
    #[diesel(sql_type = Text)]
    group_name: String,
    #[diesel(sql_type = SqlUuid)]
    session_id: Uuid,
    #[diesel(sql_type = Integer)]
    session_sequence: i32,
    #[diesel(sql_type = Date)]
    session_date: NaiveDate,
    #[diesel(sql_type = SqlUuid)]
    client_id: Uuid,
    #[diesel(sql_type = Text)]
    client_name: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Integer>)]
    minutes_late: Option<i32>,
    #[diesel(sql_type = SqlUuid)]
    membership_id: Uuid,
}

/// A row as exported. With `deidentified`, `client_id` is the pseudonym and no name is given.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceRow {
    pub group_id: Uuid,
    pub group_name: String,
    pub session_id: Uuid,
    pub session_sequence: i32,
    pub session_date: NaiveDate,
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    pub status: String,
    pub minutes_late: Option<i32>,
}

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

/// One member's attendance over the window.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberSummary {
    pub group_id: Uuid,
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
    /// (present + late + left_early) / sessions_held; null when no session was held.
    pub attendance_rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceReport {
    pub items: Vec<AttendanceRow>,
    pub next_cursor: Option<String>,
    /// Per-member summary over the whole window; on the first page only (null on later pages).
    pub summary: Option<Vec<MemberSummary>>,
}

const HEADER: [&str; 9] = [
    "group_id",
    "group_name",
    "session_id",
    "session_sequence",
    "session_date",
    "client_id",
    "client_name",
    "status",
    "minutes_late",
];

/// The window and group filter over sessions `s` of groups `g`.
fn window_sql(q: &AttendanceQuery) -> String {
    format!(
        "s.status = 'held' \
         AND ({from} IS NULL OR (s.scheduled_at AT TIME ZONE g.timezone)::date >= {from}) \
         AND ({to} IS NULL OR (s.scheduled_at AT TIME ZONE g.timezone)::date <= {to}) \
         AND ({group} IS NULL OR s.group_id = {group})",
        from = literal(q.from, "date"),
        to = literal(q.to, "date"),
        group = literal(q.group_id, "uuid"),
    )
}

fn rows_sql(q: &AttendanceQuery, after: Option<(Uuid, i32, Uuid)>, limit: Option<i64>) -> String {
    let keyset = match after {
        Some((g, seq, m)) => format!(
            "AND (s.group_id, s.sequence, a.membership_id) > ('{g}'::uuid, {seq}, '{m}'::uuid)"
        ),
        None => String::new(),
    };
    format!(
        "SELECT g.id AS group_id, g.name AS group_name, s.id AS session_id, s.sequence AS session_sequence, \
                (s.scheduled_at AT TIME ZONE g.timezone)::date AS session_date, c.id AS client_id, \
                c.first_name || ' ' || c.last_name AS client_name, a.status, a.minutes_late, a.membership_id \
         FROM sessions s JOIN groups g ON g.id = s.group_id \
         JOIN attendance a ON a.session_id = s.id \
         JOIN memberships m ON m.id = a.membership_id JOIN clients c ON c.id = m.client_id \
         WHERE {} {keyset} ORDER BY s.group_id, s.sequence, a.membership_id{}",
        window_sql(q),
        limit.map(|l| format!(" LIMIT {l}")).unwrap_or_default()
    )
}

fn summary_sql(q: &AttendanceQuery) -> String {
    format!(
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
         WHERE {} \
         GROUP BY m.id, m.group_id, c.id ORDER BY m.group_id, client_name, c.id",
        window_sql(q)
    )
}

fn present(row: &Row, p: Option<&Pseudonymizer>) -> AttendanceRow {
    AttendanceRow {
        group_id: row.group_id,
        group_name: row.group_name.clone(),
        session_id: row.session_id,
        session_sequence: row.session_sequence,
        session_date: row.session_date,
        client_id: p.map_or_else(|| row.client_id.to_string(), |p| p.pseudonym(row.client_id)),
        client_name: if p.is_some() {
            None
        } else {
            Some(row.client_name.clone())
        },
        status: row.status.clone(),
        minutes_late: row.minutes_late,
    }
}

/// Attendance rows over a window, as JSON pages or a streamed CSV attachment.
#[utoipa::path(tag = "reports", params(AttendanceQuery),
    responses((status = 200, body = AttendanceReport, description = "JSON, or text/csv with format=csv"), (status = 403)))]
#[get("/reports/attendance")]
pub async fn attendance_report(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<AttendanceQuery>,
) -> AppResult<HttpResponse> {
    staff.require(Action::ExportReports)?;
    let q = q.into_inner();
    check_window(q.from, q.to)?;
    let limit = pagination::limit(q.limit)?;
    let after: Option<(Uuid, i32, Uuid)> = decode_cursor(q.cursor.as_deref())?;
    let format = q.format.unwrap_or_default();
    let deidentified = q.deidentified.unwrap_or(false);
    let pseudonyms = deidentified.then(|| Pseudonymizer::from_master(&state.settings.notes_key));
    let audit = staff.audit();
    let details = json!({"from": q.from, "to": q.to, "group_id": q.group_id, "format": if format == Format::Csv { "csv" } else { "json" },
                         "deidentified": deidentified});
    state
        .db
        .tx(move |conn| audit.allowed(conn, "report.attendance", "report", None, details))
        .await?;

    if format == Format::Csv {
        let mut header: Vec<&'static str> = HEADER.to_vec();
        if deidentified {
            header.retain(|h| *h != "client_name");
        }
        return Ok(stream::csv_response(
            state.db.pool().clone(),
            "attendance.csv",
            header,
            rows_sql(&q, None, None),
            move |r: &Row| {
                let row = present(r, pseudonyms.as_ref());
                let mut cells = vec![
                    row.group_id.to_string(),
                    row.group_name,
                    row.session_id.to_string(),
                    row.session_sequence.to_string(),
                    row.session_date.to_string(),
                    row.client_id,
                ];
                if let Some(name) = row.client_name {
                    cells.push(name);
                }
                cells.push(row.status);
                cells.push(row.minutes_late.map(|m| m.to_string()).unwrap_or_default());
                cells
            },
        ));
    }

    let first_page = after.is_none();
    let (rows, summary) = state
        .db
        .run(move |conn| {
            let rows: Vec<Row> =
                diesel::sql_query(rows_sql(&q, after, Some(limit + 1))).load(conn)?;
            let summary: Option<Vec<SummaryRow>> = if first_page {
                Some(diesel::sql_query(summary_sql(&q)).load(conn)?)
            } else {
                None
            };
            Ok((rows, summary))
        })
        .await?;
    let more = rows.len() as i64 > limit;
    let rows = &rows[..rows.len().min(limit as usize)];
    let next_cursor = if more {
        rows.last()
            .map(|r| encode_cursor(&(r.group_id, r.session_sequence, r.membership_id)))
    } else {
        None
    };
    let p = pseudonyms.as_ref();
    let report = AttendanceReport {
        items: rows.iter().map(|r| present(r, p)).collect(),
        next_cursor,
        summary: summary.map(|s| {
            s.into_iter()
                .map(|m| {
                    let attended = m.present + m.late + m.left_early;
                    MemberSummary {
                        group_id: m.group_id,
                        client_id: p
                            .map_or_else(|| m.client_id.to_string(), |p| p.pseudonym(m.client_id)),
                        client_name: if p.is_some() {
                            None
                        } else {
                            Some(m.client_name)
                        },
                        attendance_rate: (m.sessions_held > 0).then(|| {
                            (attended as f64 / m.sessions_held as f64 * 10_000.0).round() / 10_000.0
                        }),
                        sessions_held: m.sessions_held,
                        present: m.present,
                        late: m.late,
                        left_early: m.left_early,
                        excused_absence: m.excused_absence,
                        unexcused_absence: m.unexcused_absence,
                    }
                })
                .collect()
        }),
    };
    Ok(HttpResponse::Ok().json(report))
}
