//! `GET /me`, `POST /me/password`: the signed-in account.

use actix_web::{get, post, web, HttpMessage, HttpRequest, HttpResponse};
use chrono::Utc;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{issue_tokens, still_valid, TokenResponse, MAX_LOGIN_PASSWORD_CHARS};
use crate::auth::extractor::CallerAccount;
use crate::auth::password::{
    check_length, check_strength, hash_password_blocking, verify_password_blocking,
};
use crate::auth::{throttle, Staff};
use crate::error::{AppError, AppResult, ErrorCode, Validations};
use crate::http::Json;
use crate::schema::users;
use crate::state::AppState;
use crate::users::model::{self, User};

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
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
