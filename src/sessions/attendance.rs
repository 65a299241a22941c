//! `GET/PUT /sessions/{id}/attendance` (SPEC §2): one record per member seated at the session;
//! recording makes the session `held`, completes planned exits, and corrections are audited
//! with the previous values.
//!
//! (SPEC §7) A sheet carries an `ETag` (a digest of the sheet as served, so any change to it —
//! a record, a correction, the roster — gives a new tag), and `PUT` honours `If-Match`: a
//! submission made from a stale sheet answers 412 `precondition_failed` and changes nothing.

use std::collections::HashMap;

use actix_web::{get, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{self, Session};
use crate::auth::{scope, Staff};
use crate::clients::model::{summaries, ClientSummary};
use crate::domain::attendance::{roster_problems, AttendanceStatus};
use crate::error::{AppError, AppResult, ErrorCode, Validations};
use crate::exits::plan::complete_planned_exits;
use crate::groups::model as groups;
use crate::http::etag::{content_etag, IfMatch};
use crate::http::Json;
use crate::roster::seated_at_session;
use crate::schema::{attendance, memberships, sessions};
use crate::sessions::model::SessionStatus;
use crate::state::AppState;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RecordIn {
    pub membership_id: Uuid,
    pub status: AttendanceStatus,
    /// Only with `late`; 0–600.
    pub minutes_late: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AttendanceIn {
    pub records: Vec<RecordIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordOut {
    pub membership_id: Uuid,
    pub client: ClientSummary,
    /// Null while nothing is recorded for this member.
    pub status: Option<AttendanceStatus>,
    pub minutes_late: Option<i32>,
    pub recorded_by: Option<Uuid>,
    pub recorded_at: Option<DateTime<Utc>>,
}

/// The session and one row per member seated at it (recorded or not yet).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceSheet {
    pub session: Session,
    pub records: Vec<RecordOut>,
}

impl AttendanceSheet {
    /// The sheet as served, and its ETag.
    fn tagged(&self) -> AppResult<(Vec<u8>, String)> {
        let bytes = serde_json::to_vec(self).map_err(|e| AppError::Internal(e.into()))?;
        let tag = content_etag(&bytes);
        Ok((bytes, tag))
    }
}

fn with_etag(sheet: &AttendanceSheet) -> AppResult<HttpResponse> {
    let (bytes, tag) = sheet.tagged()?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, tag))
        .content_type("application/json")
        .body(bytes))
}

type Recorded = (Uuid, AttendanceStatus, Option<i32>, Uuid, DateTime<Utc>);

fn sheet(conn: &mut PgConnection, session_id: Uuid) -> AppResult<AttendanceSheet> {
    let session = model::find(conn, session_id)?.ok_or(AppError::NotFound)?;
    let seated = seated_at_session(conn, session_id)?;
    let recorded: Vec<Recorded> = attendance::table
        .filter(attendance::session_id.eq(session_id))
        .select((
            attendance::membership_id,
            attendance::status,
            attendance::minutes_late,
            attendance::recorded_by,
            attendance::recorded_at,
        ))
        .load(conn)?;
    let by_member: HashMap<Uuid, &Recorded> = recorded.iter().map(|r| (r.0, r)).collect();
    // Recorded members first in roster order; anyone recorded but no longer seated stays listed.
    let mut ids = seated.clone();
    ids.extend(
        recorded
            .iter()
            .map(|r| r.0)
            .filter(|id| !seated.contains(id)),
    );
    let client_of: HashMap<Uuid, Uuid> = memberships::table
        .filter(memberships::id.eq_any(&ids))
        .select((memberships::id, memberships::client_id))
        .load::<(Uuid, Uuid)>(conn)?
        .into_iter()
        .collect();
    let clients = summaries(conn, &client_of.values().copied().collect::<Vec<_>>())?;
    let records = ids
        .into_iter()
        .filter_map(|id| {
            let r = by_member.get(&id);
            Some(RecordOut {
                membership_id: id,
                client: clients.get(client_of.get(&id)?)?.clone(),
                status: r.map(|r| r.1),
                minutes_late: r.and_then(|r| r.2),
                recorded_by: r.map(|r| r.3),
                recorded_at: r.map(|r| r.4),
            })
        })
        .collect();
    Ok(AttendanceSheet {
        session: session.into(),
        records,
    })
}

fn ensure_session_scope(
    conn: &mut PgConnection,
    staff: &Staff,
    session_id: Uuid,
) -> AppResult<Uuid> {
    let group_id = model::find(conn, session_id)?
        .ok_or(AppError::NotFound)?
        .group_id;
    scope::ensure_group(conn, staff, group_id)?;
    Ok(group_id)
}

/// The attendance sheet of a session, with its `ETag`.
#[utoipa::path(tag = "sessions", responses(
    (status = 200, body = AttendanceSheet, headers(("ETag" = String, description = "The sheet's version; send it back in `If-Match` with `PUT`."))),
    (status = 404)))]
#[get("/sessions/{id}/attendance")]
pub async fn get_attendance(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let sheet = state
        .db
        .tx(move |conn| {
            ensure_session_scope(conn, &staff, id)?;
            let sheet = sheet(conn, id)?;
            let shown = sheet.records.iter().map(|r| r.client.id);
            crate::audit::bulk::list_read(
                &staff.audit(),
                conn,
                "attendance.read",
                "session",
                Some(id),
                shown,
            )?;
            Ok(sheet)
        })
        .await?;
    with_etag(&sheet)
}

/// Records (or corrects) the attendance of every member seated at the session; the submission
/// replaces the session's sheet. The roster must be exactly those members (422
/// `roster_mismatch`); the session must have begun (409 `session_not_started`) and not be
/// cancelled (409 `session_cancelled`). With `If-Match`, only when the sheet is still the one
/// that tag names (412 `precondition_failed` otherwise).
#[utoipa::path(tag = "sessions", request_body = AttendanceIn,
    params(("If-Match" = Option<String>, Header, description = "The `ETag` of the sheet this submission was made from; `*` matches any.")),
    responses(
        (status = 200, body = AttendanceSheet, headers(("ETag" = String, description = "The new sheet's version."))),
        (status = 409), (status = 412), (status = 422)))]
#[put("/sessions/{id}/attendance")]
pub async fn put_attendance(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<AttendanceIn>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let records = body.into_inner().records;
    let mut v = Validations::new();
    for (i, r) in records.iter().enumerate() {
        match (r.status, r.minutes_late) {
            (_, Some(m)) if !(0..=600).contains(&m) => v.add(
                format!("records[{i}].minutes_late"),
                "must be between 0 and 600",
            ),
            (s, Some(_)) if s != AttendanceStatus::Late => {
                v.add(format!("records[{i}].minutes_late"), "only for status late")
            }
            _ => {}
        }
    }
    v.finish()?;
    let audit = staff.audit();
    let recorder = staff.id;
    let sheet = state
        .db
        .tx(move |conn| {
            let group_id = ensure_session_scope(conn, &staff, id)?;
            let group = groups::lock(conn, group_id)?;
            let session = model::lock(conn, id)?;
            // Under the group's and the session's locks nobody else changes the sheet now.
            if if_match.is_present() {
                if_match.check_tag(&sheet(conn, id)?.tagged()?.1)?;
            }
            match session.status {
                SessionStatus::Cancelled => {
                    return Err(AppError::conflict(
                        ErrorCode::SessionCancelled,
                        "The session was cancelled.",
                    ))
                }
                _ if Utc::now() < session.scheduled_at => {
                    return Err(AppError::conflict(
                        ErrorCode::SessionNotStarted,
                        "The session has not begun yet.",
                    ))
                }
                _ => {}
            }
            let seated = seated_at_session(conn, id)?;
            let submitted: Vec<Uuid> = records.iter().map(|r| r.membership_id).collect();
            let problems = roster_problems(&submitted, &seated);
            if !problems.is_empty() {
                let detail = problems
                    .iter()
                    .map(|p| p.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(AppError::unprocessable(
                    ErrorCode::RosterMismatch,
                    detail,
                    problems,
                ));
            }
            let previous: HashMap<Uuid, AttendanceStatus> = attendance::table
                .filter(attendance::session_id.eq(id))
                .select((attendance::membership_id, attendance::status))
                .load::<(Uuid, AttendanceStatus)>(conn)?
                .into_iter()
                .collect();
            let now = Utc::now();
            let mut changes = serde_json::Map::new();
            for r in &records {
                let before = previous.get(&r.membership_id);
                if before != Some(&r.status) {
                    changes.insert(
                        r.membership_id.to_string(),
                        json!({"from": before.map(|s| s.as_str()), "to": r.status.as_str()}),
                    );
                }
                diesel::insert_into(attendance::table)
                    .values((
                        attendance::session_id.eq(id),
                        attendance::membership_id.eq(r.membership_id),
                        attendance::status.eq(r.status),
                        attendance::minutes_late.eq(r.minutes_late),
                        attendance::recorded_by.eq(recorder),
                        attendance::recorded_at.eq(now),
                    ))
                    .on_conflict((attendance::session_id, attendance::membership_id))
                    .do_update()
                    .set((
                        attendance::status.eq(r.status),
                        attendance::minutes_late.eq(r.minutes_late),
                        attendance::recorded_by.eq(recorder),
                        attendance::recorded_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            // The submission replaces the sheet: a record of someone no longer seated (a
            // late-entered exit that ended before this session) goes, its value kept in the audit.
            let gone: Vec<Uuid> = diesel::delete(
                attendance::table
                    .filter(attendance::session_id.eq(id))
                    .filter(attendance::membership_id.ne_all(&submitted)),
            )
            .returning(attendance::membership_id)
            .get_results(conn)?;
            for m in gone {
                changes.insert(
                    m.to_string(),
                    json!({"from": previous.get(&m).map(|s| s.as_str()), "to": null}),
                );
            }
            let correction = session.status == SessionStatus::Held;
            diesel::update(sessions::table.find(id))
                .set((
                    sessions::status.eq(SessionStatus::Held),
                    sessions::updated_at.eq(now),
                ))
                .execute(conn)?;
            if correction {
                audit.allowed(
                    conn,
                    "attendance.correct",
                    "session",
                    Some(id),
                    json!({"changes": changes}),
                )?;
            } else {
                audit.allowed(
                    conn,
                    "attendance.record",
                    "session",
                    Some(id),
                    json!({"records": records.len()}),
                )?;
            }
            complete_planned_exits(conn, &audit, &group, &session)?;
            sheet(conn, id)
        })
        .await?;
    with_etag(&sheet)
}
