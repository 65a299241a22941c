//! `POST /memberships/{id}/rescind-exit` (SPEC §2, v2): process groups explore the wish to
//! leave, and members change their minds. An exiting member returns to `active`; the exit plan
//! is dropped; the reason is kept on the membership and the act audited.

use actix_web::{post, web, HttpResponse};
use chrono::Utc;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::act;
use crate::auth::Staff;
use crate::domain::membership::rescind_exit as decide;
use crate::domain::membership::MembershipStatus;
use crate::domain::text::text;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::http::etag::ok_with_etag;
use crate::http::Json;
use crate::memberships::lock_with_group;
use crate::memberships::model::{load_view, MembershipView};
use crate::notes::fields::{self, Field};
use crate::schema::{memberships, sessions};
use crate::sessions::model::SessionStatus;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RescindExit {
    /// Why the member stays (clinical text, shown to clinical roles).
    pub reason: String,
}

/// Takes back an exit notice: `exiting → active` (supervisor, the group's therapists). 409 once
/// the planned last session is held.
#[utoipa::path(tag = "memberships", request_body = RescindExit,
    responses((status = 200, body = MembershipView), (status = 409, description = "not exiting, or the farewell session was held"), (status = 422)))]
#[post("/memberships/{id}/rescind-exit")]
pub async fn rescind_exit(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<RescindExit>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let reason = match body.into_inner().reason.trim() {
        "" => return Err(AppError::invalid("reason", "is required")),
        r => text(r, 2000).map_err(|m| AppError::invalid("reason", m))?,
    };
    let audit = staff.audit();
    let cipher = state.notes.clone();
    let reader = state.notes.reader(&staff.permit::<act::ReadNotes>()?);
    let view = state
        .db
        .tx(move |conn| {
            // Recording the farewell session's attendance takes the same group lock, so a
            // rescind and that recording never interleave: one sees the other's result.
            let (_, m) = lock_with_group(conn, &staff, id)?;
            let farewell_held = match m.planned_last_session_id {
                Some(s) => {
                    sessions::table
                        .find(s)
                        .select(sessions::status)
                        .first::<SessionStatus>(conn)?
                        == SessionStatus::Held
                }
                None => false,
            };
            decide(m.status(), farewell_held)
                .map_err(|d| AppError::conflict(ErrorCode::Conflict, d))?;
            let now = Utc::now();
            let changed = diesel::update(
                memberships::table
                    .find(id)
                    .filter(memberships::status.eq(MembershipStatus::Exiting)),
            )
            .set((
                memberships::status.eq(MembershipStatus::Active),
                memberships::planned_last_session_id.eq(None::<Uuid>),
                memberships::exit_rescinded_at.eq(now),
                memberships::exit_rescind_reason_sealed.eq(fields::seal(
                    &cipher,
                    Field::ExitRescindReason,
                    id,
                    &reason,
                )),
                memberships::version.eq(memberships::version + 1),
                memberships::updated_at.eq(now),
            ))
            .execute(conn)?;
            if changed == 0 {
                return Err(AppError::conflict(
                    ErrorCode::Conflict,
                    "The membership changed status meanwhile.",
                ));
            }
            audit.allowed(
                conn,
                "membership.rescind_exit",
                "membership",
                Some(id),
                json!({
                    "announced_at": m.announced_at,
                    "planned_last_session_id": m.planned_last_session_id,
                }),
            )?;
            load_view(conn, id, Some(&reader))
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}
