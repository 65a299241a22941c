//! `GET /reports/attendance` (SPEC §5): one row per attendance record of a held session in
//! the window, as CSV (streamed from a cursor) or JSON (keyset pages, with the per-member
//! summary over the whole window on the first page).

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::pseudonym::Pseudonymizer;
use super::rows::{rows_sql, AttendanceRow, Batch, Filter, Key, Row, HEADER};
use super::summary::{self, MemberSummary};
use super::{check_window, filename, stream, Format};
use crate::auth::Staff;
use crate::error::AppResult;
use crate::http::pagination::{self, ListCursor};
use crate::http::Query;
use crate::state::AppState;

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttendanceQuery {
    /// First session date (in the group's time zone), inclusive; default: no lower bound.
    pub from: Option<NaiveDate>,
    /// Last session date, inclusive; default: no upper bound.
    pub to: Option<NaiveDate>,
    /// Only this group's sessions.
    pub group_id: Option<Uuid>,
    #[param(inline)]
    pub format: Option<Format>,
    /// No names; `client_id` replaced by a stable pseudonym.
    pub deidentified: Option<bool>,
    /// JSON only: rows per page, 1–200 (default 50).
    pub limit: Option<i64>,
    /// JSON only: `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceReport {
    pub items: Vec<AttendanceRow>,
    pub next_cursor: Option<String>,
    /// Per-member summary over the whole window; on the first page only (null on later pages).
    pub summary: Option<Vec<MemberSummary>>,
}

/// Attendance rows over a window, as JSON pages or a streamed CSV attachment.
///
/// Rows are the attendance records of held sessions whose local date lies in
/// [`from`, `to`], ordered by group, session and membership. JSON pages carry, on the first
/// page, a summary per member over the whole window. Admins and supervisors only; every
/// request is an audit event (`report.attendance`) naming its filters.
#[utoipa::path(tag = "reports", params(AttendanceQuery),
    responses((status = 200, description = "JSON, or text/csv with format=csv",
               content((AttendanceReport = "application/json"), (String = "text/csv"))),
              (status = 403, description = "not an admin or supervisor"),
              (status = 422, description = "bad filter")))]
#[get("/reports/attendance")]
pub async fn attendance_report(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<AttendanceQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    check_window(q.from, q.to)?;
    let limit = pagination::limit(q.limit)?;
    let after: Option<Key> = cursor.open()?;
    let format = q.format.unwrap_or_default();
    let deidentified = q.deidentified.unwrap_or(false);
    let filter = Filter {
        from: q.from,
        to: q.to,
        group_id: q.group_id,
    };
    let pseudonyms =
        deidentified.then(|| Pseudonymizer::from_master(&state.settings.pseudonym_key));
    let audit = staff.audit();
    let details = json!({"from": q.from, "to": q.to, "group_id": q.group_id,
                         "format": format.as_str(), "deidentified": deidentified,
                         "cursor": q.cursor.is_some()});
    // The audit event on the primary; the rows from `reports_db` (perhaps a replica).
    state
        .db
        .tx(move |conn| audit.allowed(conn, "report.attendance", "report", None, details))
        .await?;

    if format == Format::Csv {
        let header: Vec<&str> = HEADER
            .iter()
            .copied()
            .filter(|h| !(deidentified && *h == "client_name"))
            .collect();
        let fetch_sql = stream::fetch_sql();
        return Ok(stream::csv_response(
            state.reports_db.checkout().await?,
            &filename("attendance", q.from, q.to),
            &header,
            rows_sql(&filter, None, None),
            move |conn| {
                let rows: Vec<Row> = diesel::sql_query(&fetch_sql).load(conn)?;
                if rows.is_empty() {
                    return Ok(None);
                }
                Batch::load(conn, rows).map(Some)
            },
            move |batch: Batch, out| batch.write_csv(pseudonyms.as_ref(), out),
        ));
    }

    let report = state
        .reports_db
        .read(move |conn| {
            let mut rows: Vec<Row> =
                diesel::sql_query(rows_sql(&filter, after, Some(limit + 1))).load(conn)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let next_cursor = if more {
                rows.last().map(|r| cursor.seal(&r.key()))
            } else {
                None
            };
            let p = pseudonyms.as_ref();
            let summary = match after {
                None => Some(summary::load(conn, &filter, p)?),
                Some(_) => None,
            };
            Ok(AttendanceReport {
                items: Batch::load(conn, rows)?.items(p),
                next_cursor,
                summary,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
