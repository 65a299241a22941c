//! `GET /sessions` (SPEC §7): sessions across every group the caller may see, with their
//! group's name and (clinical roles) their documentation state, in one statement per page.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::documentation::{self, DocumentationFilter, SessionItem, SessionSet};
use super::model::SessionStatus;
use crate::auth::{Action, Staff};
use crate::error::{AppError, AppResult};
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionsQuery {
    /// First date, in each group's time zone (inclusive).
    pub from: Option<NaiveDate>,
    /// Last date, in each group's time zone (inclusive).
    pub to: Option<NaiveDate>,
    pub group_id: Option<Uuid>,
    /// Only groups the caller leads or co-leads.
    pub mine: Option<bool>,
    pub status: Option<SessionStatus>,
    /// Clinical roles only: `incomplete` or `overdue` (ended, non-cancelled sessions).
    #[param(inline)]
    pub documentation: Option<DocumentationFilter>,
    /// 1–200, default 50
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
}

/// 422 naming `from` when the window is reversed.
pub fn check_window(from: Option<NaiveDate>, to: Option<NaiveDate>) -> AppResult<()> {
    match (from, to) {
        (Some(f), Some(t)) if f > t => Err(AppError::invalid("from", "must not be after to")),
        _ => Ok(()),
    }
}

/// Sessions across groups, by `scheduled_at` then id (admin, supervisor, intake; a therapist
/// within their groups).
#[utoipa::path(tag = "sessions", params(SessionsQuery),
    responses((status = 200, body = Page<SessionItem>), (status = 401), (status = 403), (status = 422)))]
#[get("/sessions")]
pub async fn list_all_sessions(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<SessionsQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    check_window(q.from, q.to)?;
    let clinical = staff.can(Action::ReadNotes);
    // Documentation is clinical: a role that never sees it may not filter by it either.
    if q.documentation.is_some() && !clinical {
        return Err(AppError::Forbidden);
    }
    let after: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let set = SessionSet {
        me: staff.id,
        only_mine: staff.is_scoped() || q.mine == Some(true),
        from: q.from,
        to: q.to,
        group_id: q.group_id,
        status: q.status,
        session_id: None,
        due_hours: state.settings.notes_due_hours,
    };
    let filter = q.documentation;
    let items = state
        .db
        .run(move |conn| documentation::page(conn, &set, filter, after, limit + 1, clinical))
        .await?;
    let page = cursor.page(
        items,
        limit,
        |i| (i.session.scheduled_at, i.session.id),
        |i| i,
    );
    Ok(HttpResponse::Ok().json(page))
}
