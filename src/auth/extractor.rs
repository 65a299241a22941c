//! The authenticated staff member. The gate (`crate::auth::gate`) authenticates the caller of
//! every operation the registry marks as requiring a role, before anything else of the request
//! is read, and leaves the [`Staff`] in the request; a handler's signature then says it needs
//! one, or a [`Permit`] for an action.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use crate::audit::AuditCtx;
use crate::auth::policy::{allows, is_scoped, permit, Act, Action, Permit, Role};
use crate::error::{AppError, AppResult};
use crate::http::client_address::client_address;
use crate::http::RequestId;
use crate::schema::{refresh_tokens, users};
use crate::state::AppState;
use crate::users::model::UserRow;

/// Request id and peer address, for audit events and throttling.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub request_id: String,
    pub ip: Option<String>,
}

impl RequestMeta {
    pub fn of(req: &HttpRequest) -> Self {
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_else(|| Uuid::new_v4().to_string());
        // The TCP peer, or the `X-Forwarded-For` hop written by a trusted proxy (SPEC §3):
        // a header from anyone else is client-controlled and would let them choose the
        // address their login failures are counted against.
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.trusted_proxies.as_slice())
            .unwrap_or_default();
        let ip = req.peer_addr().map(|peer| {
            let forwarded = req
                .headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok());
            client_address(peer.ip(), forwarded, trusted).to_string()
        });
        RequestMeta { request_id, ip }
    }

    pub fn anonymous_audit(&self) -> AuditCtx {
        AuditCtx {
            actor_id: None,
            actor_role: None,
            request_id: self.request_id.clone(),
            ip: self.ip.clone(),
        }
    }
}

impl FromRequest for RequestMeta {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(RequestMeta::of(req)))
    }
}

/// Marker left in the request for the 403 audit middleware.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Uuid,
    pub role: Role,
}

/// An authenticated, active staff member whose token has not been revoked.
#[derive(Debug, Clone)]
pub struct Staff {
    pub id: Uuid,
    pub role: Role,
    pub email: String,
    pub display_name: String,
    pub meta: RequestMeta,
}

impl Staff {
    pub fn can(&self, action: Action) -> bool {
        allows(self.role, action)
    }

    /// The policy's [`Permit`] for `A`, or 403 (audited once, by the middleware).
    pub fn permit<A: Act>(&self) -> AppResult<Permit<A>> {
        permit::<A>(self).ok_or(AppError::Forbidden)
    }

    /// True for therapists, whose every read is limited to their scope.
    pub fn is_scoped(&self) -> bool {
        is_scoped(self.role)
    }

    pub fn audit(&self) -> AuditCtx {
        AuditCtx {
            actor_id: Some(self.id),
            actor_role: Some(self.role),
            request_id: self.meta.request_id.clone(),
            ip: self.meta.ip.clone(),
        }
    }
}

/// The account, and whether the token's login has ended.
type CallerRow = (UserRow, bool);

/// The caller's account as the [`Staff`] extractor read it, kept in the request so that a
/// handler answering with it (`GET /me`) needs no second trip to the database.
#[derive(Clone)]
pub struct CallerAccount(pub std::sync::Arc<UserRow>);

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Verifies the bearer token and reads the account as it is now: one query, one trip to the
/// blocking pool. Leaves the [`Staff`], the [`Actor`] (for the 403 audit) and the
/// [`CallerAccount`] in the request.
pub async fn authenticate(req: &HttpRequest) -> AppResult<Staff> {
    if let Some(staff) = req.extensions().get::<Staff>() {
        return Ok(staff.clone());
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("state missing")))?
        .clone();
    let token = bearer(req).ok_or(AppError::Unauthorized("A bearer access token is required."))?;
    let claims = state.tokens.verify(&token).ok_or(AppError::Unauthorized(
        "The access token is invalid or expired.",
    ))?;
    // One query: the account as it is now, and whether this token's login (its
    // refresh-token family) has ended by logout or by reuse detection (SPEC §3).
    let sid = claims.sid;
    let user: Option<CallerRow> = state
        .db
        .run(move |conn| {
            let login_ended = diesel::dsl::exists(
                refresh_tokens::table
                    .filter(refresh_tokens::family_id.eq(sid))
                    .filter(refresh_tokens::revoked_at.is_not_null()),
            );
            Ok(users::table
                .find(claims.sub)
                .select((UserRow::as_select(), login_ended))
                .first(conn)
                .optional()?)
        })
        .await?;
    let revoked = AppError::Unauthorized("The access token has been revoked.");
    let (account, ended) = user.ok_or(revoked)?;
    // An inactive account, or one awaiting a supervisor's approval, cannot act (SPEC §1).
    if !account.may_sign_in() || account.token_version != claims.ver || ended {
        return Err(AppError::Unauthorized("The access token has been revoked."));
    }
    let role: Role = account.role;
    let staff = Staff {
        id: account.id,
        role,
        email: account.email.clone(),
        display_name: account.display_name.clone(),
        meta: RequestMeta::of(req),
    };
    let mut ext = req.extensions_mut();
    ext.insert(Actor { id: staff.id, role });
    ext.insert(CallerAccount(std::sync::Arc::new(account)));
    ext.insert(staff.clone());
    Ok(staff)
}

impl FromRequest for Staff {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await })
    }
}

impl<A: Act + 'static> FromRequest for Permit<A> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await?.permit::<A>() })
    }
}
