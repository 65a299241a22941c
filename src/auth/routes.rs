//! `POST /auth/login`, `/auth/refresh`, `/auth/logout`, `GET /me`, `POST /me/password`.

use actix_web::{get, post, web, HttpResponse};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::AuditCtx;
use crate::auth::password::check_strength;
use crate::auth::tokens::{
    hash_refresh_token, new_refresh_token, ACCESS_TTL_SECS, REFRESH_TTL_DAYS,
};
use crate::auth::{throttle, RequestMeta, Role, Staff};
use crate::error::{AppError, AppResult, Validations};
use crate::http::Json;
use crate::schema::{refresh_tokens as rt, users};
use crate::state::AppState;
use crate::users::model::{self, User, UserRow};

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub refresh_token: String,
    pub user: User,
}

const BAD_CREDENTIALS: &str = "The email or password is incorrect.";
const BAD_REFRESH: &str = "The refresh token is invalid, expired or revoked.";

/// Stores a new refresh token (in `family`, or a new one) and builds the token response.
fn issue_tokens(
    conn: &mut PgConnection,
    state: &AppState,
    user: &UserRow,
    family: Option<Uuid>,
) -> AppResult<TokenResponse> {
    let (refresh_token, hash) = new_refresh_token();
    diesel::insert_into(rt::table)
        .values((
            rt::id.eq(Uuid::new_v4()),
            rt::user_id.eq(user.id),
            rt::family_id.eq(family.unwrap_or_else(Uuid::new_v4)),
            rt::token_hash.eq(hash),
            rt::expires_at.eq(Utc::now() + Duration::days(REFRESH_TTL_DAYS)),
        ))
        .execute(conn)?;
    let access_token = state
        .tokens
        .issue(user.id, &user.role, user.token_version)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECS,
        refresh_token,
        user: User::from(user),
    })
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

fn audit_for(meta: &RequestMeta, user: Option<&UserRow>) -> AuditCtx {
    AuditCtx {
        actor_id: user.map(|u| u.id),
        actor_role: user.and_then(|u| u.role.parse::<Role>().ok()),
        ..meta.anonymous_audit()
    }
}

/// Exchanges email and password for an access token and a refresh token.
#[utoipa::path(tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401), (status = 429)))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    let LoginRequest { email, password } = body.into_inner();
    let email_lower = email.trim().to_lowercase();
    let ip = meta.ip.clone().unwrap_or_else(|| "unknown".into());

    let (throttled, user) = {
        let (email_lower, ip, meta) = (email_lower.clone(), ip.clone(), meta.clone());
        state
            .db
            .tx(move |conn| {
                if let Some(wait) = throttle::retry_after(conn, &email_lower, &ip)? {
                    meta.anonymous_audit().denied(
                        conn,
                        "auth.throttled",
                        "user",
                        None,
                        json!({"retry_after": wait}),
                    )?;
                    return Ok((Some(wait), None));
                }
                Ok((None, model::find_by_email(conn, &email_lower)?))
            })
            .await?
    };
    if let Some(retry_after_secs) = throttled {
        return Err(AppError::RateLimited { retry_after_secs });
    }

    // Same argon2 work whether or not the email exists, or the account is disabled.
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state.hasher.verify(password, stored_hash).await?;
    let user = user.filter(|u| verified && u.active);

    let state2 = state.clone();
    let outcome = state
        .db
        .tx(move |conn| {
            throttle::record(conn, &email_lower, &ip, user.is_some())?;
            match user {
                Some(u) => {
                    audit_for(&meta, Some(&u)).allowed(
                        conn,
                        "auth.login",
                        "user",
                        Some(u.id),
                        json!({}),
                    )?;
                    issue_tokens(conn, &state2, &u, None).map(Some)
                }
                None => {
                    // The attempted email is not stored in the audit trail (it may be a
                    // password typed into the wrong field); the throttle table keeps it.
                    meta.anonymous_audit().denied(
                        conn,
                        "auth.login_failed",
                        "user",
                        None,
                        json!({}),
                    )?;
                    Ok(None)
                }
            }
        })
        .await?;
    match outcome {
        Some(tokens) => Ok(HttpResponse::Ok().json(tokens)),
        None => Err(AppError::Unauthorized(BAD_CREDENTIALS)),
    }
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
            let found: Option<StoredRefresh> = rt::table
                .filter(rt::token_hash.eq(&hash))
                .select(StoredRefresh::as_select())
                .for_update()
                .first(conn)
                .optional()?;
            let Some(StoredRefresh {
                id,
                user_id,
                family_id: family,
                expires_at,
                used_at,
                revoked_at,
            }) = found
            else {
                return Ok(RefreshOutcome::Refused);
            };
            let user = model::find(conn, user_id)?.ok_or(AppError::NotFound)?;
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
            if revoked_at.is_some() || expires_at <= Utc::now() || !user.active {
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

/// The signed-in staff member.
#[utoipa::path(tag = "auth", responses((status = 200, body = User), (status = 401)))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, staff: Staff) -> AppResult<HttpResponse> {
    let id = staff.id;
    let row = state
        .db
        .run(move |conn| model::find(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    Ok(HttpResponse::Ok().json(User::from(&row)))
}

/// Changes one's own password. Every existing token of the user stops working at once; the
/// answer carries a fresh token pair so this client stays signed in.
#[utoipa::path(tag = "auth", request_body = ChangePassword,
    responses((status = 200, body = TokenResponse), (status = 422)))]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    staff: Staff,
    body: Json<ChangePassword>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let id = staff.id;
    let row = state
        .db
        .run(move |conn| model::find(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    check_strength(
        "new_password",
        &body.new_password,
        &[&row.email, &row.display_name],
    )?;
    if body.new_password == body.current_password {
        return Err(AppError::invalid(
            "new_password",
            "must differ from the current password",
        ));
    }
    if !state
        .hasher
        .verify(body.current_password, Some(row.password_hash.clone()))
        .await?
    {
        return Err(Validations::one("current_password", "is incorrect")
            .finish()
            .unwrap_err());
    }
    let hash = state.hasher.hash(body.new_password).await?;
    let audit = staff.audit();
    let state2 = state.clone();
    let tokens = state
        .db
        .tx(move |conn| {
            diesel::update(users::table.find(id))
                .set((
                    users::password_hash.eq(&hash),
                    users::updated_at.eq(Utc::now()),
                    users::version.eq(users::version + 1),
                ))
                .execute(conn)?;
            model::revoke_all_tokens(conn, id)?;
            audit.allowed(conn, "auth.password_change", "user", Some(id), json!({}))?;
            let row = model::find(conn, id)?.ok_or(AppError::NotFound)?;
            issue_tokens(conn, &state2, &row, None)
        })
        .await?;
    Ok(HttpResponse::Ok().json(tokens))
}
