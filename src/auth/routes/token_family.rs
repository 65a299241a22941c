//! `POST /auth/refresh`, `POST /auth/logout`: a device's token family.

use actix_web::{post, web, HttpResponse};
use chrono::Utc;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{audit_for, issue_tokens, TokenResponse, BAD_REFRESH};
use crate::auth::tokens::hash_refresh_token;
use crate::auth::{RequestMeta, Staff};
use crate::error::{AppError, AppResult};
use crate::http::Json;
use crate::schema::{refresh_tokens as rt, users};
use crate::state::AppState;
use crate::users::model::UserRow;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

fn revoke_family(conn: &mut PgConnection, family_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        rt::table
            .filter(rt::family_id.eq(family_id))
            .filter(rt::revoked_at.is_null()),
    )
    .set(rt::revoked_at.eq(Utc::now()))
    .execute(conn)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = rt)]
struct StoredRefresh {
    id: Uuid,
    user_id: Uuid,
    family_id: Uuid,
    expires_at: chrono::DateTime<Utc>,
    used_at: Option<chrono::DateTime<Utc>>,
    revoked_at: Option<chrono::DateTime<Utc>>,
}

enum RefreshOutcome {
    Issued(Box<TokenResponse>),
    Refused,
}

/// Rotates a refresh token. Presenting one that was already used revokes its whole family.
#[utoipa::path(tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401)))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    let hash = hash_refresh_token(&body.into_inner().refresh_token);
    let state2 = state.clone();
    let outcome = state
        .db
        .tx(move |conn| {
            // Lock order: the user's row (shared), then the token. A password change or a
            // deactivation updates the user's row first, so it waits for this rotation and
            // then revokes the token it issues, or this rotation sees their revocation.
            let Some(user_id) = rt::table
                .filter(rt::token_hash.eq(&hash))
                .select(rt::user_id)
                .first::<Uuid>(conn)
                .optional()?
            else {
                return Ok(RefreshOutcome::Refused);
            };
            let user: UserRow = users::table
                .find(user_id)
                .select(UserRow::as_select())
                .for_share()
                .first(conn)?;
            // Two rotations of one token queue here; the second sees it used (reuse).
            let StoredRefresh {
                id,
                user_id,
                family_id: family,
                expires_at,
                used_at,
                revoked_at,
            } = rt::table
                .filter(rt::token_hash.eq(&hash))
                .select(StoredRefresh::as_select())
                .for_update()
                .first(conn)?;
            let audit = audit_for(&meta, Some(&user));
            if used_at.is_some() {
                // Reuse: someone holds a copy. Burn the family so neither copy works.
                let revoked = revoke_family(conn, family)?;
                audit.denied(
                    conn,
                    "auth.refresh_reuse",
                    "user",
                    Some(user_id),
                    json!({"family_revoked": revoked}),
                )?;
                return Ok(RefreshOutcome::Refused);
            }
            if revoked_at.is_some() || expires_at <= Utc::now() || !user.may_sign_in() {
                return Ok(RefreshOutcome::Refused);
            }
            diesel::update(rt::table.find(id))
                .set(rt::used_at.eq(Utc::now()))
                .execute(conn)?;
            audit.allowed(conn, "auth.refresh", "user", Some(user_id), json!({}))?;
            Ok(RefreshOutcome::Issued(Box::new(issue_tokens(
                conn,
                &state2,
                &user,
                Some(family),
            )?)))
        })
        .await?;
    match outcome {
        RefreshOutcome::Issued(tokens) => Ok(HttpResponse::Ok().json(tokens)),
        RefreshOutcome::Refused => Err(AppError::Unauthorized(BAD_REFRESH)),
    }
}

/// Revokes the refresh token's whole family (this device's session). Answers 204 whether or
/// not the token was known, so it reveals nothing.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses((status = 204), (status = 401)))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    staff: Staff,
    body: Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    let hash = hash_refresh_token(&body.into_inner().refresh_token);
    let audit = staff.audit();
    let user_id = staff.id;
    state
        .db
        .tx(move |conn| {
            let family: Option<Uuid> = rt::table
                .filter(rt::token_hash.eq(&hash))
                .filter(rt::user_id.eq(user_id))
                .select(rt::family_id)
                .first(conn)
                .optional()?;
            if let Some(f) = family {
                revoke_family(conn, f)?;
            }
            audit.allowed(
                conn,
                "auth.logout",
                "user",
                Some(user_id),
                json!({"revoked": family.is_some()}),
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
