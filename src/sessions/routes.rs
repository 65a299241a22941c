//! `POST /groups/{id}/sessions/generate`, `GET /groups/{id}/sessions`, `POST /sessions/{id}/cancel`.

use actix_web::{get, post, web, HttpResponse};
use chrono::{Months, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::model::{self, generate_through, Session, SessionRow};
use crate::auth::{scope, Staff};
use crate::domain::schedule::local_instant;
use crate::domain::text::text;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::exits::plan::move_plans;
use crate::groups::model as groups;
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::{Json, Query};
use crate::schema::sessions;
use crate::sessions::model::SessionStatus;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Generate {
    /// Last date (in the group's time zone) to generate sessions for; at most a year ahead.
    pub through: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Generated {
    /// How many sessions were created (0 when the schedule was already generated).
    pub created: usize,
    pub items: Vec<Session>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelSession {
    pub reason: String,
}

/// Creates the missing weekly sessions from the group's schedule up to `through`. Idempotent.
#[utoipa::path(tag = "sessions", request_body = Generate, responses((status = 200, body = Generated), (status = 409), (status = 422)))]
#[post("/groups/{id}/sessions/generate")]
pub async fn generate(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<Generate>,
) -> AppResult<HttpResponse> {
    let group_id = id.into_inner();
    let through = body.into_inner().through;
    let audit = staff.audit();
    let created = state
        .db
        .tx(move |conn| {
            scope::ensure_group(conn, &staff, group_id)?;
            let group = groups::lock(conn, group_id)?;
            // At most one year ahead of today in the group's own zone (issue 6).
            let today = Utc::now().with_timezone(&group.tz()).date_naive();
            if today
                .checked_add_months(Months::new(12))
                .is_some_and(|limit| through > limit)
            {
                return Err(AppError::invalid(
                    "through",
                    "must be at most one year ahead",
                ));
            }
            if group.status().is_closed() {
                return Err(AppError::conflict(
                    ErrorCode::Conflict,
                    "The group is closed; no sessions can be added.",
                ));
            }
            let created = generate_through(conn, &group, through)?;
            audit.allowed(
                conn,
                "session.generate",
                "group",
                Some(group_id),
                json!({"through": through, "created": created.len()}),
            )?;
            Ok(created)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Generated {
        created: created.len(),
        items: created.into_iter().map(Session::from).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// First date, in the group's time zone (inclusive).
    pub from: Option<NaiveDate>,
    /// Last date, in the group's time zone (inclusive).
    pub to: Option<NaiveDate>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The group's sessions in order.
#[utoipa::path(tag = "sessions", params(SessionQuery), responses((status = 200, body = Page<Session>)))]
#[get("/groups/{id}/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    q: Query<SessionQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let group_id = id.into_inner();
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<i32> = cursor.open()?;
    let rows = state
        .db
        .run(move |conn| {
            scope::ensure_group(conn, &staff, group_id)?;
            let group = groups::find(conn, group_id)?.ok_or(AppError::NotFound)?;
            let tz = group.tz();
            let mut query = sessions::table
                .filter(sessions::group_id.eq(group_id))
                .select(SessionRow::as_select())
                .into_boxed();
            if let Some(from) = q.from {
                query = query.filter(sessions::scheduled_at.ge(local_instant(
                    tz,
                    from,
                    NaiveTime::MIN,
                )));
            }
            // `to` is inclusive: before the next local midnight (none after the last date).
            if let Some(end) = q.to.and_then(|to| to.succ_opt()) {
                query =
                    query.filter(sessions::scheduled_at.lt(local_instant(tz, end, NaiveTime::MIN)));
            }
            if let Some(seq) = after {
                query = query.filter(sessions::sequence.gt(seq));
            }
            Ok(query
                .order(sessions::sequence.asc())
                .limit(limit + 1)
                .load(conn)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(cursor.page(rows, limit, |r| r.sequence, Session::from)))
}

/// Cancels a scheduled session (keeping its sequence number). Cancelled sessions do not count
/// toward an exit notice: plans whose notice period contained it move on by one session.
#[utoipa::path(tag = "sessions", request_body = CancelSession, responses((status = 200, body = Session), (status = 409), (status = 422)))]
#[post("/sessions/{id}/cancel")]
pub async fn cancel_session(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<CancelSession>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let reason = match body.into_inner().reason.trim() {
        "" => return Err(AppError::invalid("reason", "is required")),
        r => text(r, 1000).map_err(|m| AppError::invalid("reason", m))?,
    };
    let audit = staff.audit();
    let row = state
        .db
        .tx(move |conn| {
            let group_id = model::find(conn, id)?.ok_or(AppError::NotFound)?.group_id;
            scope::ensure_group(conn, &staff, group_id)?;
            let group = groups::lock(conn, group_id)?;
            let session = model::lock(conn, id)?;
            if session.status != SessionStatus::Scheduled {
                return Err(AppError::conflict(
                    ErrorCode::Conflict,
                    format!("The session is already {}.", session.status.as_str()),
                ));
            }
            let row: SessionRow = diesel::update(
                sessions::table
                    .find(id)
                    .filter(sessions::status.eq(SessionStatus::Scheduled)),
            )
            .set((
                sessions::status.eq(SessionStatus::Cancelled),
                sessions::cancel_reason.eq(&reason),
                sessions::updated_at.eq(Utc::now()),
            ))
            .returning(SessionRow::as_returning())
            .get_result(conn)?;
            let moved = move_plans(conn, &audit, &group, &row)?;
            audit.allowed(
                conn,
                "session.cancel",
                "session",
                Some(id),
                json!({"exit_plans_moved": moved}),
            )?;
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Session::from(row)))
}
