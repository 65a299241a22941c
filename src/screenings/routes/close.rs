//! `POST /screenings/{id}/cancel`, `POST /screenings/{id}/no-show`.

use actix_web::{post, web, HttpResponse};
use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::load_visible;
use crate::auth::policy::act;
use crate::auth::Staff;
use crate::domain::screening::{can_leave_scheduled, ScreeningStatus};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::http::etag::ok_with_etag;
use crate::schema::screenings;
use crate::screenings::model::{Screening, ScreeningRow};
use crate::state::AppState;

/// Moves a scheduled screening to `to`; 409 from any other status.
fn transition(conn: &mut PgConnection, id: Uuid, to: ScreeningStatus) -> AppResult<ScreeningRow> {
    let current: ScreeningRow = screenings::table
        .find(id)
        .select(ScreeningRow::as_select())
        .for_update()
        .first(conn)?;
    can_leave_scheduled(current.status())
        .map_err(|d| AppError::conflict(ErrorCode::Conflict, d))?;
    Ok(diesel::update(
        screenings::table
            .find(id)
            .filter(screenings::status.eq(ScreeningStatus::Scheduled)),
    )
    .set((
        screenings::status.eq(to),
        screenings::version.eq(screenings::version + 1),
        screenings::updated_at.eq(Utc::now()),
    ))
    .returning(ScreeningRow::as_returning())
    .get_result(conn)?)
}

async fn close(
    state: web::Data<AppState>,
    staff: Staff,
    id: Uuid,
    to: ScreeningStatus,
) -> AppResult<HttpResponse> {
    let row = load_visible(&state, &staff, id, "screening.update").await?;
    if staff.is_scoped() && row.interviewer_id != staff.id {
        return Err(AppError::Forbidden);
    }
    if to == ScreeningStatus::NoShow && row.scheduled_at > Utc::now() {
        return Err(AppError::conflict(
            ErrorCode::Conflict,
            "The interview has not been due yet; it cannot be a no-show.",
        ));
    }
    let audit = staff.audit();
    let row = state
        .db
        .tx(move |conn| {
            let row = transition(conn, id, to)?;
            audit.allowed(
                conn,
                &format!("screening.{}", to.as_str()),
                "screening",
                Some(id),
                json!({}),
            )?;
            Ok(row)
        })
        .await?;
    let reader = state.notes.optional_reader::<act::ReadAssessment>(&staff);
    Ok(ok_with_etag(row.version, &row.view(reader.as_ref())?))
}

/// Cancels a scheduled screening.
#[utoipa::path(tag = "screenings", responses((status = 200, body = Screening), (status = 409)))]
#[post("/screenings/{id}/cancel")]
pub async fn cancel_screening(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    close(state, staff, id.into_inner(), ScreeningStatus::Cancelled).await
}

/// Marks a due screening as a no-show.
#[utoipa::path(tag = "screenings", responses((status = 200, body = Screening), (status = 409)))]
#[post("/screenings/{id}/no-show")]
pub async fn no_show_screening(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    close(state, staff, id.into_inner(), ScreeningStatus::NoShow).await
}
