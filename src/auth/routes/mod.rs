//! `POST /auth/login`, `/auth/refresh`, `/auth/logout`, `GET /me`, `POST /me/password`.
//!
//! One file per action (or small group of actions); the handlers are re-exported here, where
//! the route lists name them.

mod account;
mod sign_in;
mod token_family;

pub use account::*;
pub use sign_in::*;
pub use token_family::*;

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::AuditCtx;
use crate::auth::tokens::{new_refresh_token, ACCESS_TTL_SECS, REFRESH_TTL_DAYS};
use crate::auth::RequestMeta;
use crate::error::AppResult;
use crate::schema::{refresh_tokens as rt, users};
use crate::state::AppState;
use crate::users::model::{User, UserRow};

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
