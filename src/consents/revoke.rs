//! `POST /consents/{id}/revoke`: revocation is final (§2.31(a)(5)); the database refuses any
//! later change too.

use actix_web::{post, web, HttpResponse};
use chrono::Utc;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{ensure_care_team, find, today, Consent, ConsentRow};
use crate::auth::Staff;
use crate::domain::text::text;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::http::Json;
use crate::notes::failure::{audited, Attempt, Failure};
use crate::schema::consents;
use crate::state::AppState;

const REASON_MAX: usize = 2000;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeConsent {
    /// Why (e.g. "client revoked in writing on 2026-03-02").
    pub reason: Option<String>,
}

/// Revokes a consent for good (supervisor, intake, therapist of the client's care team).
/// Revoking it again answers 409 `already_revoked`. Audited as `consent.revoke`.
#[utoipa::path(tag = "consents", request_body = RevokeConsent,
    responses((status = 200, body = Consent), (status = 403), (status = 404), (status = 409), (status = 422)))]
#[post("/consents/{id}/revoke")]
pub async fn revoke_consent(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<RevokeConsent>,
) -> AppResult<HttpResponse> {
    let consent_id = id.into_inner();
    let reason = match body.into_inner().reason.as_deref().map(str::trim) {
        None | Some("") => return Err(AppError::invalid("reason", "is required")),
        Some(r) => text(r, REASON_MAX).map_err(|m| AppError::invalid("reason", m))?,
    };
    let consent = state
        .db
        .run(move |conn| {
            let audit = staff.audit();
            let attempt = Attempt {
                action: "consent.revoke",
                resource_type: "consent",
                resource_id: Some(consent_id),
                details: json!({}),
            };
            audited(conn, &audit, attempt, |conn| {
                let current = find(conn, consent_id)?.ok_or(AppError::NotFound)?;
                ensure_care_team(conn, &staff, current.client_id)?;
                let now = Utc::now();
                let row: Option<ConsentRow> = diesel::update(
                    consents::table
                        .find(consent_id)
                        .filter(consents::revoked_at.is_null()),
                )
                .set((
                    consents::revoked_at.eq(now),
                    consents::revoked_by.eq(staff.id),
                    consents::revocation_reason.eq(&reason),
                ))
                .returning(ConsentRow::as_returning())
                .get_result(conn)
                .optional()?;
                let Some(row) = row else {
                    return Err(Failure::App(AppError::conflict(
                        ErrorCode::AlreadyRevoked,
                        "The consent was revoked already; revocation is final.",
                    )));
                };
                audit.allowed(
                    conn,
                    "consent.revoke",
                    "consent",
                    Some(consent_id),
                    json!({"client_id": row.client_id}),
                )?;
                Ok(row.view(today())?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(consent))
}
