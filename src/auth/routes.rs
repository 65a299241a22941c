//! `POST /auth/login`, `/auth/refresh`, `/auth/logout`, `GET /me`, `POST /me/password`.

use actix_web::{get, post, web, HttpMessage, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::AuditCtx;
use crate::auth::extractor::CallerAccount;
use crate::auth::password::{
    check_length, check_strength, hash_password_blocking, verify_password_blocking,
};
use crate::auth::tokens::{
    hash_refresh_token, new_refresh_token, ACCESS_TTL_SECS, REFRESH_TTL_DAYS,
};
use crate::auth::{throttle, RequestMeta, Staff};
use crate::error::{AppError, AppResult, ErrorCode, Validations};
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
    // The family is the login: the access tokens carry it as `sid`.
    let family = family.unwrap_or_else(Uuid::new_v4);
    diesel::insert_into(rt::table)
        .values((
            rt::id.eq(Uuid::new_v4()),
            rt::user_id.eq(user.id),
            rt::family_id.eq(family),
            rt::token_hash.eq(hash),
            rt::expires_at.eq(Utc::now() + Duration::days(REFRESH_TTL_DAYS)),
        ))
        .execute(conn)?;
    let access_token =
        state
            .tokens
            .issue(user.id, user.role.as_str(), user.token_version, family)?;
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
        actor_role: user.map(|u| u.role),
        ..meta.anonymous_audit()
    }
}

/// Longest email and password a login reads: nothing longer can match an account (emails
/// ≤ 254, passwords ≤ 128 characters), and the throttle table stores the email.
const MAX_LOGIN_EMAIL_CHARS: usize = 320;
const MAX_LOGIN_PASSWORD_CHARS: usize = 1024;

/// Re-reads the account under a lock held to the end of the transaction (shared, or exclusive
/// when the caller will update the row), so a concurrent password change or deactivation waits
/// for this one; keeps it only if nothing that grants access changed while the password was
/// being checked.
fn still_valid(
    conn: &mut PgConnection,
    seen: &UserRow,
    exclusive: bool,
) -> QueryResult<Option<UserRow>> {
    let q = users::table.find(seen.id).select(UserRow::as_select());
    let now: Option<UserRow> = if exclusive {
        q.for_update().first(conn).optional()?
    } else {
        q.for_share().first(conn).optional()?
    };
    Ok(now.filter(|u| {
        u.may_sign_in()
            && u.token_version == seen.token_version
            && u.password_hash == seen.password_hash
    }))
}

/// Exchanges email and password for an access token and a refresh token. A wrong password, an
/// unknown email, a disabled account and one awaiting a supervisor's approval get the same
/// answer after the same argon2 work.
#[utoipa::path(tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401), (status = 422),
        (status = 429, description = "rate_limited, with Retry-After")))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    let LoginRequest { email, password } = body.into_inner();
    let mut v = Validations::new();
    if email.chars().count() > MAX_LOGIN_EMAIL_CHARS {
        v.add("email", "is too long");
    }
    if password.chars().count() > MAX_LOGIN_PASSWORD_CHARS {
        v.add("password", "is too long");
    }
    v.finish()?;
    let email_hash = state.login_emails.hash(&email);
    let email_lower = email.trim().to_lowercase();
    let ip = meta.ip.clone().unwrap_or_else(|| "unknown".into());

    let gate = {
        let meta = meta.clone();
        state
            .db
            .tx(move |conn| {
                let user = model::find_by_email(conn, &email_lower)?;
                match throttle::begin(conn, &email_hash, &ip, user.is_some())? {
                    throttle::Gate::Throttled(wait) => {
                        meta.anonymous_audit().denied(
                            conn,
                            "auth.throttled",
                            "user",
                            user.map(|u| u.id),
                            json!({"retry_after": wait}),
                        )?;
                        Ok(Err(wait))
                    }
                    throttle::Gate::Open {
                        attempt,
                        address_wait,
                    } => Ok(Ok((attempt, address_wait, user))),
                }
            })
            .await?
    };
    let (attempt, address_wait, user) =
        gate.map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;

    // Same argon2 work whether or not the email exists (the dummy hash stands in), or the
    // account is disabled.
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = state.hasher.verify(password, stored_hash).await?;

    let state2 = state.clone();
    let outcome = state
        .db
        .tx(move |conn| {
            let granted = match &user {
                Some(u) if verified && u.may_sign_in() => still_valid(conn, u, false)?,
                _ => None,
            };
            match granted {
                Some(u) => {
                    throttle::succeeded(conn, attempt)?;
                    audit_for(&meta, Some(&u)).allowed(
                        conn,
                        "auth.login",
                        "user",
                        Some(u.id),
                        json!({}),
                    )?;
                    issue_tokens(conn, &state2, &u, None).map(Ok)
                }
                None => {
                    // The attempted email is not stored in the audit trail (it may be a
                    // password typed into the wrong field); the throttle table keeps only its
                    // keyed hash. The targeted account, when there is one, is the event's
                    // resource.
                    let target = user.as_ref().map(|u| u.id);
                    let audit = meta.anonymous_audit();
                    audit.denied(conn, "auth.login_failed", "user", target, json!({}))?;
                    if let Some(wait) = address_wait {
                        // The address is over its limit for unknown accounts: anything but a
                        // right password answers 429, for known and unknown emails alike.
                        audit.denied(
                            conn,
                            "auth.throttled",
                            "user",
                            target,
                            json!({"retry_after": wait, "limit": "address"}),
                        )?;
                    }
                    Ok(Err(address_wait))
                }
            }
        })
        .await?;
    match outcome {
        Ok(tokens) => Ok(HttpResponse::Ok().json(tokens)),
        Err(Some(retry_after_secs)) => Err(AppError::RateLimited { retry_after_secs }),
        Err(None) => Err(AppError::Unauthorized(BAD_CREDENTIALS)),
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

/// The signed-in staff member.
#[utoipa::path(tag = "auth", responses((status = 200, body = User), (status = 401)))]
#[get("/me")]
pub async fn me(staff: Staff, req: HttpRequest) -> AppResult<HttpResponse> {
    // The account as the `Staff` extractor read it for this very request: one query and one
    // trip to the blocking pool in all (issue 18).
    let account = req
        .extensions()
        .get::<CallerAccount>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the caller's account was not kept")))?;
    debug_assert_eq!(account.0.id, staff.id);
    Ok(HttpResponse::Ok().json(User::from(&*account.0)))
}

/// What the hashing threads concluded about a password change.
#[derive(Clone)]
enum Checked {
    WrongCurrent,
    /// The new password was refused (the reason travels beside it).
    Refused,
    Hashed(String),
}

/// Changes one's own password. Every existing token of the user stops working at once; the
/// answer carries a fresh token pair so this client stays signed in. A wrong
/// `current_password` counts as a failed login (same throttle), so a stolen access token is
/// no way around the login limits.
#[utoipa::path(tag = "auth", request_body = ChangePassword,
    responses((status = 200, body = TokenResponse), (status = 401), (status = 409), (status = 422),
        (status = 429, description = "rate_limited, with Retry-After")))]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    staff: Staff,
    body: Json<ChangePassword>,
) -> AppResult<HttpResponse> {
    let ChangePassword {
        current_password,
        new_password,
    } = body.into_inner();
    let mut v = Validations::new();
    if current_password.chars().count() > MAX_LOGIN_PASSWORD_CHARS {
        v.add("current_password", "is too long");
    }
    if let Err(m) = check_length(&new_password) {
        v.add("new_password", m);
    } else if new_password == current_password {
        v.add("new_password", "must differ from the current password");
    }
    v.finish()?;

    let id = staff.id;
    let ip = staff.meta.ip.clone().unwrap_or_else(|| "unknown".into());
    let audit = staff.audit();
    let gate = {
        let audit = audit.clone();
        let login_emails = state.login_emails.clone();
        state
            .db
            .tx(move |conn| {
                let row = model::find(conn, id)?.ok_or(AppError::NotFound)?;
                let email_hash = login_emails.hash(&row.email);
                // A known account: the address limit for unknown accounts does not apply.
                match throttle::begin(conn, &email_hash, &ip, true)? {
                    throttle::Gate::Throttled(wait) => {
                        audit.denied(
                            conn,
                            "auth.throttled",
                            "user",
                            Some(id),
                            json!({"retry_after": wait}),
                        )?;
                        Ok(Err(wait))
                    }
                    throttle::Gate::Open { attempt, .. } => Ok(Ok((attempt, row))),
                }
            })
            .await?
    };
    let (attempt, row) =
        gate.map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })?;

    // One trip to the hashing threads: verify, judge the new password, hash it.
    let (stored, inputs) = (
        row.password_hash.clone(),
        vec![row.email.clone(), row.display_name.clone()],
    );
    let (checked, refusal) = state
        .hasher
        .run(move || {
            if !verify_password_blocking(&current_password, &stored) {
                return (Checked::WrongCurrent, None);
            }
            let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
            if let Err(e) = check_strength("new_password", &new_password, &inputs) {
                return (Checked::Refused, Some(e));
            }
            match hash_password_blocking(&new_password) {
                Ok(h) => (Checked::Hashed(h), None),
                Err(e) => (Checked::Refused, Some(AppError::Internal(e))),
            }
        })
        .await?;

    let state2 = state.clone();
    let result = state
        .db
        .tx(move |conn| match checked {
            Checked::WrongCurrent => {
                // The reserved attempt stays counted as a failure.
                audit.denied(
                    conn,
                    "auth.password_change",
                    "user",
                    Some(id),
                    json!({"reason": "current_password"}),
                )?;
                Ok(Some(Err(AppError::invalid(
                    "current_password",
                    "is incorrect",
                ))))
            }
            Checked::Refused => {
                throttle::succeeded(conn, attempt)?;
                Ok(None)
            }
            Checked::Hashed(hash) => {
                // Changed meanwhile (another change, an admin reset, a deactivation): the
                // password just checked may no longer be the current one.
                if still_valid(conn, &row, true)?.is_none() {
                    return Err(AppError::conflict(
                        ErrorCode::Conflict,
                        "The account changed meanwhile; sign in again.",
                    ));
                }
                throttle::succeeded(conn, attempt)?;
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
                issue_tokens(conn, &state2, &row, None).map(|t| Some(Ok(t)))
            }
        })
        .await?;
    match result {
        Some(tokens) => Ok(HttpResponse::Ok().json(tokens?)),
        None => Err(refusal.unwrap_or_else(|| {
            AppError::Internal(anyhow::anyhow!("password refused without a reason"))
        })),
    }
}
