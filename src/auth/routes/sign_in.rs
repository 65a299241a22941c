//! `POST /auth/login`.

use actix_web::{post, web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{
    audit_for, issue_tokens, still_valid, TokenResponse, BAD_CREDENTIALS, MAX_LOGIN_EMAIL_CHARS,
    MAX_LOGIN_PASSWORD_CHARS,
};
use crate::auth::{throttle, RequestMeta};
use crate::error::{AppError, AppResult, Validations};
use crate::http::Json;
use crate::state::AppState;
use crate::users::model::{self};

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
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
