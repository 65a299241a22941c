//! `GET /sessions/{id}` (SPEC §7): one session as `GET /sessions` shows it.

use actix_web::{get, web, HttpResponse};
use uuid::Uuid;

use super::documentation::{self, SessionItem, SessionSet};
use crate::auth::{Action, Staff};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// One session with its group's name and (clinical roles) documentation; 404 outside the
/// caller's scope.
#[utoipa::path(tag = "sessions",
    responses((status = 200, body = SessionItem), (status = 401), (status = 403), (status = 404)))]
#[get("/sessions/{id}")]
pub async fn get_session(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let set = SessionSet {
        me: staff.id,
        only_mine: staff.is_scoped(),
        session_id: Some(id.into_inner()),
        due_hours: state.settings.notes_due_hours,
        ..SessionSet::default()
    };
    let clinical = staff.can(Action::ReadNotes);
    let item = state
        .db
        .run(move |conn| documentation::page(conn, &set, None, None, 1, clinical))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok().json(item))
}
