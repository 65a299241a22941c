//! `GET /audit-events` (filters, pagination, `format=csv`), `GET /audit-events/verify`,
//! `GET /audit-events/checkpoint` and `POST /audit-events/verify {checkpoint}`.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::checkpoint::{self, Checkpoint};
use super::{seal, verify_against, verify_chain, AuditRow, Verification, SEAL_WAIT_ON_VERIFY};
use crate::auth::Staff;
use crate::error::AppResult;
use crate::http::csv::stream_csv;
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::{Json, Query};
use crate::schema::audit_events as ae;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Deserialize, Default, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeFilter {
    Allowed,
    Denied,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub actor_id: Option<Uuid>,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    /// An action, e.g. `auth.login_failed` or `access.forbidden`.
    pub action: Option<String>,
    #[param(inline)]
    pub outcome: Option<OutcomeFilter>,
    /// Events at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Events before this instant.
    pub to: Option<DateTime<Utc>>,
    #[param(inline)]
    pub format: Option<Format>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub outcome: String,
    pub request_id: String,
    pub ip: Option<String>,
    pub details: serde_json::Value,
    /// Hex HMAC-SHA256 (under the audit key) of this event, chained to the previous one; null
    /// for the newest events until the sealer has linked them (a fraction of a second).
    pub hash: Option<String>,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> Self {
        AuditEvent {
            id: r.id,
            occurred_at: r.occurred_at,
            actor_id: r.actor_id,
            actor_role: r.actor_role,
            action: r.action,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            outcome: r.outcome,
            request_id: r.request_id,
            ip: r.ip,
            details: r.details,
            hash: r.hash.map(hex::encode),
        }
    }
}

/// Newest first; `before` is the keyset position (seq) of the last row already sent.
fn fetch(
    conn: &mut PgConnection,
    q: &AuditQuery,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = ae::table.select(AuditRow::as_select()).into_boxed();
    if let Some(a) = q.actor_id {
        query = query.filter(ae::actor_id.eq(a));
    }
    if let Some(t) = &q.resource_type {
        query = query.filter(ae::resource_type.eq(t.clone()));
    }
    if let Some(r) = q.resource_id {
        query = query.filter(ae::resource_id.eq(r));
    }
    if let Some(a) = &q.action {
        query = query.filter(ae::action.eq(a.clone()));
    }
    if let Some(o) = q.outcome {
        query = query.filter(ae::outcome.eq(match o {
            OutcomeFilter::Allowed => "allowed",
            OutcomeFilter::Denied => "denied",
        }));
    }
    if let Some(f) = q.from {
        query = query.filter(ae::occurred_at.ge(f));
    }
    if let Some(t) = q.to {
        query = query.filter(ae::occurred_at.lt(t));
    }
    if let Some(s) = before {
        query = query.filter(ae::seq.lt(s));
    }
    query.order(ae::seq.desc()).limit(limit).load(conn)
}

const CSV_HEADER: &[&str] = &[
    "id",
    "occurred_at",
    "actor_id",
    "actor_role",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "request_id",
    "ip",
    "details",
    "hash",
];

/// The audit trail, newest first. Filters combine; `from` is inclusive, `to` exclusive.
#[utoipa::path(tag = "audit", params(AuditQuery),
    responses((status = 200, description = "JSON page, or a CSV attachment with format=csv",
               content((Page<AuditEvent> = "application/json"), (String = "text/csv"))),
        (status = 403), (status = 422)))]
#[get("/audit-events")]
pub async fn list_events(
    state: web::Data<AppState>,
    q: Query<AuditQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before: Option<i64> = cursor.open()?;
    if q.format == Some(Format::Csv) {
        let fetch_batch = move |conn: &mut PgConnection, after: Option<i64>| {
            Ok(fetch(conn, &q, after.or(before), 1000)?)
        };
        return Ok(stream_csv(
            state.db.clone(),
            "audit-events.csv",
            CSV_HEADER,
            fetch_batch,
            |r: &AuditRow| r.seq,
            |r| {
                let opt = |o: &Option<String>| o.clone().unwrap_or_default();
                vec![
                    r.id.to_string(),
                    r.occurred_at.to_rfc3339(),
                    r.actor_id.map(|u| u.to_string()).unwrap_or_default(),
                    opt(&r.actor_role),
                    r.action.clone(),
                    r.resource_type.clone(),
                    r.resource_id.map(|u| u.to_string()).unwrap_or_default(),
                    r.outcome.clone(),
                    r.request_id.clone(),
                    opt(&r.ip),
                    r.details.to_string(),
                    r.hash.as_ref().map(hex::encode).unwrap_or_default(),
                ]
            },
        ));
    }
    let rows = state
        .db
        .run(move |conn| Ok(fetch(conn, &q, before, limit + 1)?))
        .await?;
    let page = cursor.page(rows, limit, |r| r.seq, AuditEvent::from);
    Ok(HttpResponse::Ok().json(page))
}

/// Re-walks the hash chain from the first event, recomputing each keyed hash.
#[utoipa::path(tag = "audit", responses((status = 200, body = Verification), (status = 403)))]
#[get("/audit-events/verify")]
pub async fn verify(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let key = state.settings.audit_key;
    let result = state
        .db
        .run(move |conn| {
            // What was appended until now is sealed first, then checked.
            seal(conn, &key, SEAL_WAIT_ON_VERIFY)?;
            verify_chain(conn, &key)
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Signs the chain's current head for an administrator to keep outside the database (after
/// checking the chain: a broken one answers 409). Audited as `audit.checkpoint`.
#[utoipa::path(tag = "audit", responses((status = 200, body = Checkpoint), (status = 403), (status = 409)))]
#[get("/audit-events/checkpoint")]
pub async fn take_checkpoint(state: web::Data<AppState>, staff: Staff) -> AppResult<HttpResponse> {
    let key = state.settings.audit_key;
    let audit = staff.audit();
    let taken = state
        .db
        .tx(move |conn| {
            let c = checkpoint::take(conn, &key)?;
            audit.allowed(
                conn,
                "audit.checkpoint",
                "audit_event",
                Some(c.last_id),
                serde_json::json!({"events": c.events}),
            )?;
            Ok(c)
        })
        .await?;
    Ok(HttpResponse::Ok().json(taken))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyRequest {
    pub checkpoint: Checkpoint,
}

/// Re-walks the chain and checks that it still holds the checkpoint's head at its position:
/// `intact: false, checkpoint_ok: false` when it does not, or holds fewer events. A
/// checkpoint not signed with this service's audit key is a 422.
#[utoipa::path(tag = "audit", request_body = VerifyRequest,
    responses((status = 200, body = Verification), (status = 403), (status = 422)))]
#[post("/audit-events/verify")]
pub async fn verify_checkpoint(
    state: web::Data<AppState>,
    body: Json<VerifyRequest>,
) -> AppResult<HttpResponse> {
    let key = state.settings.audit_key;
    let head = checkpoint::expected_head(&key, &body.into_inner().checkpoint)?;
    let result = state
        .db
        .run(move |conn| {
            seal(conn, &key, SEAL_WAIT_ON_VERIFY)?;
            verify_against(conn, &key, Some(&head))
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}
