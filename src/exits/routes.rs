//! `POST /memberships/{id}/exit-notice`.

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::plan::{complete_exit, planned_last_session};
use crate::auth::policy::act;
use crate::auth::Staff;
use crate::domain::membership::{
    decide_exit_notice, ExitNoticeFacts, ExitNoticeRefusal, MembershipStatus,
};
use crate::domain::text::text;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::http::etag::ok_with_etag;
use crate::http::Json;
use crate::memberships::lock_with_group;
use crate::memberships::model::{load_view, MembershipView};
use crate::notes::fields::{self, Field};
use crate::schema::memberships;
use crate::sessions::model::SessionStatus;
use crate::state::AppState;

const GROUP_CLOSED: &str = "The group is closed.";

/// A refused exit notice as its answer.
fn exit_notice_refused(r: ExitNoticeRefusal) -> AppError {
    match r {
        ExitNoticeRefusal::Transition(detail) => AppError::conflict(ErrorCode::Conflict, detail),
        ExitNoticeRefusal::GroupClosed => AppError::conflict(ErrorCode::Conflict, GROUP_CLOSED),
        ExitNoticeRefusal::Invalid(v) => v.into(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ExitNotice {
    pub reason: String,
    /// When the member announced leaving; defaults to now, may lie in the past (a notice given
    /// at last week's session), never in the future nor before `joined_on`.
    pub announced_at: Option<DateTime<Utc>>,
}

/// Records a member's exit notice: `active → exiting`, with `planned_last_session_id` set to the
/// `exit_notice_sessions`-th non-cancelled session after `announced_at`.
#[utoipa::path(tag = "memberships", request_body = ExitNotice,
    responses((status = 200, body = MembershipView), (status = 409), (status = 422)))]
#[post("/memberships/{id}/exit-notice")]
pub async fn exit_notice(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<ExitNotice>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let b = body.into_inner();
    let now = Utc::now();
    let announced_at = b.announced_at.unwrap_or(now);
    let reason = match b.reason.trim() {
        "" => return Err(AppError::invalid("reason", "is required")),
        r => text(r, 2000).map_err(|m| AppError::invalid("reason", m))?,
    };
    let audit = staff.audit();
    let cipher = state.notes.clone();
    let reader = state.notes.reader(&staff.permit::<act::ReadNotes>()?);
    let view = state
        .db
        .tx(move |conn| {
            let (group, m) = lock_with_group(conn, &staff, id)?;
            let facts = ExitNoticeFacts {
                status: m.status(),
                group_status: group.status(),
                tz: group.tz(),
                joined_on: m.joined_on,
                announced_at,
                now,
            };
            decide_exit_notice(&facts).map_err(exit_notice_refused)?;
            let last = planned_last_session(conn, &group, announced_at)?;
            let sealed = fields::seal(&cipher, Field::ExitNoticeReason, id, &reason);
            diesel::update(
                memberships::table
                    .find(id)
                    .filter(memberships::status.eq(MembershipStatus::Active)),
            )
            .set((
                memberships::status.eq(MembershipStatus::Exiting),
                memberships::exit_notice_reason_sealed.eq(sealed),
                memberships::announced_at.eq(announced_at),
                memberships::planned_last_session_id.eq(last.id),
                memberships::version.eq(memberships::version + 1),
                memberships::updated_at.eq(now),
            ))
            .execute(conn)?;
            let late_entry = announced_at < now - Duration::minutes(5);
            audit.allowed(
                conn,
                "membership.exit_notice",
                "membership",
                Some(id),
                json!({"planned_last_session_id": last.id, "late_entry": late_entry}),
            )?;
            // A notice recorded late may name a session that has already been held.
            if last.status == SessionStatus::Held {
                complete_exit(conn, &audit, id, &last, &group)?;
            }
            load_view(conn, id, Some(&reader))
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}
