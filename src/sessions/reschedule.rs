//! `PATCH /sessions/{id}` (SPEC §2, v2): reschedules one `scheduled` session — not into the
//! past, not overlapping another session of the group — and keeps exit plans right: every
//! exiting member's farewell session is again the `exit_notice_sessions`-th non-cancelled
//! session after their notice.

use actix_web::{patch, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::documentation::{self, SessionItem, SessionSet};
use super::model::{self, SessionRow};
use crate::audit::AuditCtx;
use crate::auth::{scope, Action, Staff};
use crate::domain::membership::MembershipStatus;
use crate::domain::reschedule::{check, RescheduleRefusal};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::exits::plan::{complete_exit, planned_last_session};
use crate::groups::model as groups;
use crate::groups::GroupRow;
use crate::http::Json;
use crate::schema::{memberships, sessions};
use crate::sessions::model::SessionStatus;
use crate::state::AppState;

/// Absent fields are left alone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleSession {
    /// The new start; must lie in the future.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// 30–180.
    pub duration_minutes: Option<i32>,
}

/// Reschedules one scheduled session (admin, supervisor, intake, the group's therapists);
/// audited with the old and new times. 409 for a held or cancelled session or an overlap with
/// another session of the group; 422 for a time in the past.
#[utoipa::path(tag = "sessions", request_body = RescheduleSession,
    responses((status = 200, body = SessionItem), (status = 403), (status = 404), (status = 409), (status = 422)))]
#[patch("/sessions/{id}")]
pub async fn reschedule_session(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<RescheduleSession>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let b = body.into_inner();
    let audit = staff.audit();
    let set = SessionSet {
        me: staff.id,
        only_mine: staff.is_scoped(),
        session_id: Some(id),
        due_hours: state.settings.notes_due_hours,
        ..SessionSet::default()
    };
    let clinical = staff.can(Action::ReadNotes);
    let item = state
        .db
        .tx(move |conn| {
            let group_id = model::find(conn, id)?.ok_or(AppError::NotFound)?.group_id;
            scope::ensure_group(conn, &staff, group_id)?;
            // Lock order: group, then session (as attendance and cancellation).
            let group = groups::lock(conn, group_id)?;
            let session = model::lock(conn, id)?;
            let start = b.scheduled_at.unwrap_or(session.scheduled_at);
            let minutes = b.duration_minutes.unwrap_or(session.duration_minutes);
            let others: Vec<(DateTime<Utc>, i32)> = sessions::table
                .filter(sessions::group_id.eq(group_id))
                .filter(sessions::id.ne(id))
                .filter(sessions::status.ne(SessionStatus::Cancelled))
                .select((sessions::scheduled_at, sessions::duration_minutes))
                .load(conn)?;
            check(session.status, start, minutes, Utc::now(), &others).map_err(refused)?;
            let clash: bool = diesel::select(diesel::dsl::exists(
                sessions::table
                    .filter(sessions::group_id.eq(group_id))
                    .filter(sessions::id.ne(id))
                    .filter(sessions::scheduled_at.eq(start)),
            ))
            .get_result(conn)?;
            if clash {
                return Err(AppError::conflict(
                    ErrorCode::Conflict,
                    "A cancelled session of the group keeps that start time.",
                ));
            }
            let row: SessionRow = diesel::update(
                sessions::table
                    .find(id)
                    .filter(sessions::status.eq(SessionStatus::Scheduled)),
            )
            .set((
                sessions::scheduled_at.eq(start),
                sessions::duration_minutes.eq(minutes),
                sessions::updated_at.eq(Utc::now()),
            ))
            .returning(SessionRow::as_returning())
            .get_result(conn)?;
            let moved = replan(conn, &audit, &group, &row)?;
            audit.allowed(
                conn,
                "session.reschedule",
                "session",
                Some(id),
                json!({
                    "from": {
                        "scheduled_at": session.scheduled_at,
                        "duration_minutes": session.duration_minutes,
                    },
                    "to": {
                        "scheduled_at": row.scheduled_at,
                        "duration_minutes": row.duration_minutes,
                    },
                    "exit_plans_moved": moved,
                }),
            )?;
            documentation::page(conn, &set, None, None, 1, clinical)?
                .pop()
                .ok_or(AppError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(item))
}

/// Re-derives every exiting member's farewell session after `moved` changed time: a session
/// moved across a notice's start, or past another session, changes which one is the n-th.
fn replan(
    conn: &mut PgConnection,
    audit: &AuditCtx,
    group: &GroupRow,
    moved: &SessionRow,
) -> AppResult<usize> {
    let plans: Vec<(Uuid, Option<DateTime<Utc>>, Option<Uuid>)> = memberships::table
        .filter(memberships::group_id.eq(group.id))
        .filter(memberships::status.eq(MembershipStatus::Exiting))
        .select((
            memberships::id,
            memberships::announced_at,
            memberships::planned_last_session_id,
        ))
        .for_update()
        .load(conn)?;
    let mut changed = 0;
    for (id, announced_at, planned) in plans {
        let Some(announced_at) = announced_at else {
            continue;
        };
        let last = planned_last_session(conn, group, announced_at)?;
        if Some(last.id) == planned {
            continue;
        }
        changed += 1;
        diesel::update(memberships::table.find(id))
            .set((
                memberships::planned_last_session_id.eq(last.id),
                memberships::version.eq(memberships::version + 1),
                memberships::updated_at.eq(Utc::now()),
            ))
            .execute(conn)?;
        audit.allowed(
            conn,
            "membership.exit_plan_moved",
            "membership",
            Some(id),
            json!({"from": planned, "to": last.id, "rescheduled_session_id": moved.id}),
        )?;
        if last.status == SessionStatus::Held {
            complete_exit(conn, audit, id, &last, group)?;
        }
    }
    Ok(changed)
}

/// A refused reschedule as its answer.
fn refused(r: RescheduleRefusal) -> AppError {
    match r {
        RescheduleRefusal::Invalid(field, msg) => AppError::invalid(field, msg),
        RescheduleRefusal::NotScheduled(s) => AppError::conflict(
            ErrorCode::Conflict,
            format!(
                "The session is {}; only a scheduled session moves.",
                s.as_str()
            ),
        ),
        RescheduleRefusal::Overlaps(at) => AppError::conflict(
            ErrorCode::Conflict,
            format!("The group has another session at {at}; sessions of a group may not overlap."),
        ),
    }
}
