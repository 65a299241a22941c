//! `POST /clients/{id}/emergency-access`, `GET /emergency-access?reviewed=`,
//! `POST /emergency-access/{id}/review`.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::model::{find, EmergencyAccess, GrantRow};
use crate::auth::Staff;
use crate::domain::emergency_access::{check_reason, expires_at, ReviewOutcome, NOTE_MAX_CHARS};
use crate::domain::text::text;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::{Json, Query};
use crate::notes::failure::{audited, Attempt, Failure};
use crate::schema::{clients, emergency_access};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct GrantEmergencyAccess {
    /// What the emergency is (at least 20 characters); a supervisor reviews it.
    pub reason: Option<String>,
}

/// A therapist grants themself read access to a client's chart (the client, their seats,
/// screenings and record) for four hours, with a reason of at least 20 characters (SPEC §8,
/// 42 CFR §2.51). Therapists only. The grant waits in the supervisors' review queue. Audited as
/// `emergency_access.grant`, refusals included.
#[utoipa::path(tag = "emergency access", request_body = GrantEmergencyAccess,
    responses((status = 201, body = EmergencyAccess), (status = 403), (status = 404), (status = 422)))]
#[post("/clients/{id}/emergency-access")]
pub async fn grant_emergency_access(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<GrantEmergencyAccess>,
) -> AppResult<HttpResponse> {
    let client_id = id.into_inner();
    let raw = body.into_inner().reason;
    let grant = state
        .db
        .run(move |conn| {
            let audit = staff.audit();
            let attempt = Attempt {
                action: "emergency_access.grant",
                resource_type: "client",
                resource_id: Some(client_id),
                details: json!({}),
            };
            audited(conn, &audit, attempt, |conn| {
                let reason = match raw.as_deref() {
                    None => return Err(AppError::invalid("reason", "is required").into()),
                    Some(r) => check_reason(r).map_err(|m| AppError::invalid("reason", m))?,
                };
                let exists: bool =
                    diesel::select(diesel::dsl::exists(clients::table.find(client_id)))
                        .get_result(conn)?;
                if !exists {
                    return Err(Failure::App(AppError::NotFound));
                }
                // PostgreSQL keeps microseconds: the row's `expires_at = granted_at + 4 hours`
                // holds exactly when both are taken at that precision.
                let now = Utc::now()
                    .duration_trunc(TimeDelta::microseconds(1))
                    .unwrap_or_else(|_| Utc::now());
                let row: GrantRow = diesel::insert_into(emergency_access::table)
                    .values((
                        emergency_access::id.eq(Uuid::new_v4()),
                        emergency_access::client_id.eq(client_id),
                        emergency_access::granted_to.eq(staff.id),
                        emergency_access::reason.eq(&reason),
                        emergency_access::granted_at.eq(now),
                        emergency_access::expires_at.eq(expires_at(now)),
                    ))
                    .returning(GrantRow::as_returning())
                    .get_result(conn)?;
                audit.allowed(
                    conn,
                    "emergency_access.grant",
                    "emergency_access",
                    Some(row.id),
                    json!({"client_id": client_id, "expires_at": row.expires_at}),
                )?;
                Ok(row.view(now))
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(grant))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantQuery {
    /// `false`: the review queue, oldest first; `true`: reviewed grants, newest first;
    /// absent: every grant, newest first.
    pub reviewed: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Emergency access grants (supervisors): `?reviewed=false` is the review queue. Audited as
/// `emergency_access.list`, naming the clients listed.
#[utoipa::path(tag = "emergency access", params(GrantQuery),
    responses((status = 200, body = Page<EmergencyAccess>), (status = 403), (status = 422)))]
#[get("/emergency-access")]
pub async fn list_emergency_access(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<GrantQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let audit = staff.audit();
    let page = state
        .db
        .tx(move |conn| {
            let oldest_first = q.reviewed == Some(false);
            let mut query = emergency_access::table
                .select(GrantRow::as_select())
                .into_boxed();
            match q.reviewed {
                Some(true) => query = query.filter(emergency_access::reviewed_at.is_not_null()),
                Some(false) => query = query.filter(emergency_access::reviewed_at.is_null()),
                None => {}
            }
            if let Some((at, id)) = after {
                query = if oldest_first {
                    query.filter(
                        emergency_access::granted_at
                            .gt(at)
                            .or(emergency_access::granted_at
                                .eq(at)
                                .and(emergency_access::id.gt(id))),
                    )
                } else {
                    query.filter(
                        emergency_access::granted_at
                            .lt(at)
                            .or(emergency_access::granted_at
                                .eq(at)
                                .and(emergency_access::id.lt(id))),
                    )
                };
            }
            query = if oldest_first {
                query.order((
                    emergency_access::granted_at.asc(),
                    emergency_access::id.asc(),
                ))
            } else {
                query.order((
                    emergency_access::granted_at.desc(),
                    emergency_access::id.desc(),
                ))
            };
            let rows: Vec<GrantRow> = query.limit(limit + 1).load(conn)?;
            let now = Utc::now();
            let page = cursor.page(rows, limit, |r| (r.granted_at, r.id), |r| r.view(now));
            let mut client_ids: Vec<Uuid> = page.items.iter().map(|g| g.client_id).collect();
            client_ids.sort();
            client_ids.dedup();
            audit.allowed(
                conn,
                "emergency_access.list",
                "emergency_access",
                None,
                json!({"reviewed": q.reviewed, "client_ids": client_ids,
                       "grant_ids": page.items.iter().map(|g| g.id).collect::<Vec<_>>()}),
            )?;
            Ok::<Page<EmergencyAccess>, AppError>(page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewEmergencyAccess {
    pub outcome: Option<ReviewOutcome>,
    /// The supervisor's finding.
    pub note: Option<String>,
}

/// A supervisor's review of a grant, once (SPEC §8): `appropriate` or `inappropriate`, with a
/// note. A grant already reviewed answers 409 `conflict`. The review does not change when the
/// access ends. Audited as `emergency_access.review`.
#[utoipa::path(tag = "emergency access", request_body = ReviewEmergencyAccess,
    responses((status = 200, body = EmergencyAccess), (status = 403), (status = 404),
              (status = 409, description = "`conflict`: the grant was reviewed already"), (status = 422)))]
#[post("/emergency-access/{id}/review")]
pub async fn review_emergency_access(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<ReviewEmergencyAccess>,
) -> AppResult<HttpResponse> {
    let grant_id = id.into_inner();
    let body = body.into_inner();
    let mut v = crate::error::Validations::new();
    if body.outcome.is_none() {
        v.add("outcome", "is required: appropriate or inappropriate");
    }
    let note = match body.note.as_deref().map(str::trim) {
        None | Some("") => {
            v.add("note", "is required");
            None
        }
        Some(n) => text(n, NOTE_MAX_CHARS).map_err(|m| v.add("note", m)).ok(),
    };
    v.finish()?;
    let (Some(outcome), Some(note)) = (body.outcome, note) else {
        return Err(AppError::invalid("body", "is incomplete"));
    };
    let grant = state
        .db
        .run(move |conn| {
            let audit = staff.audit();
            let attempt = Attempt {
                action: "emergency_access.review",
                resource_type: "emergency_access",
                resource_id: Some(grant_id),
                details: json!({"outcome": outcome.as_str()}),
            };
            audited(conn, &audit, attempt, |conn| {
                if find(conn, grant_id)?.is_none() {
                    return Err(Failure::App(AppError::NotFound));
                }
                let now = Utc::now();
                let row: Option<GrantRow> = diesel::update(
                    emergency_access::table
                        .find(grant_id)
                        .filter(emergency_access::reviewed_at.is_null()),
                )
                .set((
                    emergency_access::reviewed_at.eq(now),
                    emergency_access::reviewed_by.eq(staff.id),
                    emergency_access::review_outcome.eq(outcome),
                    emergency_access::review_note.eq(&note),
                ))
                .returning(GrantRow::as_returning())
                .get_result(conn)
                .optional()?;
                let Some(row) = row else {
                    return Err(Failure::App(AppError::conflict(
                        ErrorCode::Conflict,
                        "The grant was reviewed already; a review is written once.",
                    )));
                };
                audit.allowed(
                    conn,
                    "emergency_access.review",
                    "emergency_access",
                    Some(grant_id),
                    json!({"client_id": row.client_id, "granted_to": row.granted_to,
                           "outcome": outcome.as_str()}),
                )?;
                Ok(row.view(now))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(grant))
}
