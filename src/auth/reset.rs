//! One-time password-reset tokens (SPEC §1 "Separation of duties", §4): an administrator never
//! learns or sets another user's password. `POST /users/{id}/password-reset` (admin) answers a
//! token shown once — 256 random bits, stored as SHA-256 only, valid 24 hours, good for one use,
//! superseded by a newer one — that the user redeems at `POST /auth/password-reset` with a new
//! password of their choosing. Redeeming ends every session of the account.

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::AuditCtx;
use crate::auth::password::check_length;
use crate::auth::tokens::{hash_refresh_token, new_refresh_token};
use crate::auth::{RequestMeta, Staff};
use crate::error::{AppError, AppResult, Validations};
use crate::http::Json;
use crate::schema::{password_reset_tokens as prt, users};
use crate::state::AppState;
use crate::users::model::{self, UserRow};

/// How long a reset token can be redeemed (SPEC §1).
pub const RESET_TTL_HOURS: i64 = 24;

/// Longest token read: ours are 43 characters; anything much longer is not one.
const MAX_TOKEN_CHARS: usize = 128;

const BAD_TOKEN: &str = "The reset token is invalid, expired or already used.";

/// The token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetToken {
    /// Give it to the account's owner; it is not stored and cannot be shown again.
    pub reset_token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RedeemPasswordReset {
    pub token: String,
    /// The same rules as every password: 12–128 characters, not guessable.
    pub new_password: String,
}

/// Revokes the account's reset tokens that could still be redeemed.
fn revoke_open_tokens(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        prt::table
            .filter(prt::user_id.eq(user_id))
            .filter(prt::used_at.is_null())
            .filter(prt::revoked_at.is_null()),
    )
    .set(prt::revoked_at.eq(Utc::now()))
    .execute(conn)
}

/// Issues a one-time password-reset token for the account (admins). Any earlier token of the
/// account stops working. The administrator hands the token over; the owner chooses the new
/// password with it, so the administrator never learns it.
#[utoipa::path(tag = "users",
    responses((status = 200, body = PasswordResetToken), (status = 401), (status = 403), (status = 404)))]
#[post("/users/{id}/password-reset")]
pub async fn issue_password_reset(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (audit, admin_id) = (staff.audit(), staff.id);
    let (token, hash) = new_refresh_token();
    let issued = state
        .db
        .tx(move |conn| {
            // Serialises with a concurrent issue or redemption for the same account.
            let target: Option<Uuid> = users::table
                .find(id)
                .select(users::id)
                .for_update()
                .first(conn)
                .optional()?;
            target.ok_or(AppError::NotFound)?;
            let superseded = revoke_open_tokens(conn, id)?;
            let expires_at = Utc::now() + Duration::hours(RESET_TTL_HOURS);
            diesel::insert_into(prt::table)
                .values((
                    prt::id.eq(Uuid::new_v4()),
                    prt::user_id.eq(id),
                    prt::token_hash.eq(hash),
                    prt::issued_by.eq(admin_id),
                    prt::expires_at.eq(expires_at),
                ))
                .execute(conn)?;
            audit.allowed(
                conn,
                "user.password_reset_issued",
                "user",
                Some(id),
                json!({"expires_at": expires_at, "superseded": superseded}),
            )?;
            Ok(expires_at)
        })
        .await?;
    Ok(HttpResponse::Ok().json(PasswordResetToken {
        reset_token: token,
        expires_at: issued,
    }))
}

/// A redeemable token: its id, who issued it, and its (active) account.
type OpenToken = (Uuid, Uuid, UserRow);

/// The redeemable token with this hash and its account, locked when `lock`.
fn open_token(conn: &mut PgConnection, hash: &[u8], lock: bool) -> QueryResult<Option<OpenToken>> {
    let q = prt::table
        .inner_join(users::table.on(users::id.eq(prt::user_id)))
        .filter(prt::token_hash.eq(hash))
        .filter(prt::used_at.is_null())
        .filter(prt::revoked_at.is_null())
        .filter(prt::expires_at.gt(Utc::now()))
        .filter(users::active.eq(true))
        .select((prt::id, prt::issued_by, UserRow::as_select()));
    if lock {
        q.for_update().first(conn).optional()
    } else {
        q.first(conn).optional()
    }
}

/// Audits a refused redemption (in its own transaction) and answers the 401.
async fn refuse(state: &AppState, meta: &RequestMeta) -> AppError {
    let audit = meta.anonymous_audit();
    let written = state
        .db
        .tx(move |conn| audit.denied(conn, "auth.password_reset", "user", None, json!({})))
        .await;
    match written {
        Ok(()) => AppError::Unauthorized(BAD_TOKEN),
        Err(e) => e,
    }
}

/// Redeems a reset token with a new password (public). Every session of the account ends
/// (refresh tokens revoked, access tokens refused); the owner then signs in. An unknown,
/// expired, used or superseded token answers 401; a weak password 422 (the token stays good).
#[utoipa::path(tag = "auth", request_body = RedeemPasswordReset,
    responses((status = 204, description = "The password is changed; sign in with it."),
        (status = 401), (status = 422)))]
#[post("/auth/password-reset")]
pub async fn redeem_password_reset(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<RedeemPasswordReset>,
) -> AppResult<HttpResponse> {
    let RedeemPasswordReset {
        token,
        new_password,
    } = body.into_inner();
    let mut v = Validations::new();
    if let Err(m) = check_length(&new_password) {
        v.add("new_password", m);
    }
    v.finish()?;
    let hash = if token.chars().count() <= MAX_TOKEN_CHARS {
        hash_refresh_token(&token)
    } else {
        Vec::new()
    };

    let found = {
        let hash = hash.clone();
        state
            .db
            .run(move |conn| Ok(open_token(conn, &hash, false)?))
            .await?
    };
    let Some((_, _, user)) = found else {
        return Err(refuse(&state, &meta).await);
    };
    // The same rules as every password, judged against the account's own email and name.
    let inputs = vec![user.email.clone(), user.display_name.clone()];
    let new_hash = state
        .hasher
        .hash_new("new_password", new_password, inputs)
        .await?;

    let audit = meta.anonymous_audit();
    let redeemed = state
        .db
        .tx(move |conn| {
            // Lock order as everywhere: the user's row, then the token.
            users::table
                .find(user.id)
                .select(users::id)
                .for_update()
                .first::<Uuid>(conn)?;
            // Two redemptions of one token queue here; the second finds it used.
            let Some((token_id, issued_by, user)) = open_token(conn, &hash, true)? else {
                return Ok(false);
            };
            let now = Utc::now();
            diesel::update(prt::table.find(token_id))
                .set(prt::used_at.eq(now))
                .execute(conn)?;
            revoke_open_tokens(conn, user.id)?;
            diesel::update(users::table.find(user.id))
                .set((
                    users::password_hash.eq(&new_hash),
                    users::updated_at.eq(now),
                    users::version.eq(users::version + 1),
                ))
                .execute(conn)?;
            model::revoke_all_tokens(conn, user.id)?;
            AuditCtx {
                actor_id: Some(user.id),
                actor_role: Some(user.role),
                ..audit
            }
            .allowed(
                conn,
                "auth.password_reset",
                "user",
                Some(user.id),
                json!({"issued_by": issued_by}),
            )?;
            Ok(true)
        })
        .await?;
    if !redeemed {
        return Err(refuse(&state, &meta).await);
    }
    Ok(HttpResponse::NoContent().finish())
}
