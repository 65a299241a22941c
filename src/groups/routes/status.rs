//! `POST /groups/{id}/start|complete|cancel`.

use actix_web::{post, web, HttpResponse};
use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::shows_composition;
use crate::auth::Staff;
use crate::domain::group::{decide_status, GroupStatus, StatusFacts, StatusRefusal};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::groups::model::{self, Group, GroupRow};
use crate::http::etag::ok_with_etag;
use crate::memberships::lifecycle;
use crate::schema::{contracts, groups};
use crate::state::AppState;

/// A refused status change as its 409.
fn status_refused(r: StatusRefusal) -> AppError {
    match r {
        StatusRefusal::NotFrom { from, to } => AppError::conflict(
            ErrorCode::Conflict,
            format!("A {} group cannot become {}.", from.as_str(), to.as_str()),
        ),
        StatusRefusal::ContractMissing => AppError::conflict(
            ErrorCode::ContractMissing,
            "The group has no agreement (contract) yet.",
        ),
        StatusRefusal::BelowMinimum { active, min_size } => AppError::conflict(
            ErrorCode::GroupBelowMinimum,
            format!("{active} active members; the group needs at least {min_size} to start."),
        ),
    }
}

/// Moves the group to `to`, enforcing SPEC §2's preconditions for starting, and closing the
/// seats of a completed or cancelled group.
async fn change_status(
    state: web::Data<AppState>,
    staff: Staff,
    id: Uuid,
    to: GroupStatus,
) -> AppResult<HttpResponse> {
    let composition = shows_composition(&staff);
    let audit = staff.audit();
    let cipher = state.notes.clone();
    let weeks = state.settings.schedule_weeks;
    let (version, group) = state
        .db
        .tx(move |conn| {
            let cur = model::lock(conn, id)?;
            let has_contract: bool = diesel::select(diesel::dsl::exists(
                contracts::table.filter(contracts::group_id.eq(id)),
            ))
            .get_result(conn)?;
            let facts = StatusFacts {
                from: cur.status(),
                min_size: cur.min_size,
                has_contract,
                active_members: model::seats(conn, id)?.active,
            };
            let from = decide_status(to, &facts).map_err(status_refused)?;
            let closed = if to.is_closed() {
                lifecycle::close_all_seats(conn, &audit, &cipher, id, to)?
            } else {
                0
            };
            let row: GroupRow =
                diesel::update(groups::table.find(id).filter(groups::status.eq(from)))
                    .set((
                        groups::status.eq(to),
                        groups::version.eq(groups::version + 1),
                        groups::updated_at.eq(Utc::now()),
                    ))
                    .returning(GroupRow::as_returning())
                    .get_result(conn)?;
            audit.allowed(
                conn,
                &format!(
                    "group.{}",
                    match to {
                        GroupStatus::Active => "start",
                        GroupStatus::Completed => "complete",
                        _ => "cancel",
                    }
                ),
                "group",
                Some(id),
                json!({"from": from.as_str(), "seats_closed": closed}),
            )?;
            if to == GroupStatus::Active {
                // A group that starts has its next weeks of sessions at once (SPEC §2 v2).
                crate::sessions::horizon::keep_ahead(conn, &audit, &row, weeks)?;
            }
            Ok((row.version, model::view(conn, row, composition)?))
        })
        .await?;
    Ok(ok_with_etag(version, &group))
}

/// Starts the group: needs a contract and at least `min_size` active members.
#[utoipa::path(tag = "groups", responses((status = 200, body = Group), (status = 409)))]
#[post("/groups/{id}/start")]
pub async fn start_group(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    change_status(state, staff, id.into_inner(), GroupStatus::Active).await
}

/// Completes an active group. Remaining seats close: pending → `withdrawn`, members →
/// `completed` (minimum term met and the group's `completion_attendance_rate` attended) or
/// `group_ended`.
#[utoipa::path(tag = "groups", responses((status = 200, body = Group), (status = 409)))]
#[post("/groups/{id}/complete")]
pub async fn complete_group(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    change_status(state, staff, id.into_inner(), GroupStatus::Completed).await
}

/// Cancels a forming or active group. Remaining seats close: pending → `withdrawn`, members →
/// `group_ended` with the note "group cancelled".
#[utoipa::path(tag = "groups", responses((status = 200, body = Group), (status = 409)))]
#[post("/groups/{id}/cancel")]
pub async fn cancel_group(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    change_status(state, staff, id.into_inner(), GroupStatus::Cancelled).await
}
