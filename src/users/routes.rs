//! `GET/POST /users`, `GET/PATCH /users/{id}` — admins only.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{self, NewUser, User, UserRow};
use crate::auth::password::check_length;
use crate::auth::{Role, Staff};
use crate::domain::email::parse_email;
use crate::domain::text::required_line;
use crate::error::{AppError, AppResult, ErrorCode, Validations};
use crate::http::etag::{created_with_etag, ok_with_etag, IfMatch};
use crate::http::pagination::{self, ListCursor, Page, PageParams};
use crate::http::{Json, Query};
use crate::schema::users;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateUser {
    pub display_name: Option<String>,
    /// Never one's own. A move to `therapist` or `supervisor` makes the account wait for a
    /// supervisor's approval (`approval: "pending"`).
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub email: Option<String>,
    /// Refused (422): an administrator never sets a password (SPEC §1). Issue a one-time
    /// token with `POST /users/{id}/password-reset` instead.
    #[schema(value_type = Option<String>, deprecated)]
    pub password: Option<serde_json::Value>,
}

/// Validates and normalises the create request, collecting every field error. The password's
/// length is checked here; its guessability with the hash, off the executor.
fn validate_create(body: &CreateUser) -> AppResult<(String, String)> {
    let mut v = Validations::new();
    let email = parse_email(&body.email).map_err(|m| v.add("email", m)).ok();
    let name = required_line(&body.display_name, 200)
        .map_err(|m| v.add("display_name", m))
        .ok();
    if let Err(m) = check_length(&body.password) {
        v.add("password", m);
    }
    v.finish()?;
    Ok((email.unwrap_or_default(), name.unwrap_or_default()))
}

/// Creates a staff account. A `therapist` or `supervisor` account is `approval: "pending"`
/// and cannot sign in until a supervisor approves it (`POST /staff/{id}/approve`).
#[utoipa::path(tag = "users", request_body = CreateUser,
    responses((status = 201, body = User), (status = 403), (status = 409, description = "email_taken"), (status = 422)))]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    staff: Staff,
    body: Json<CreateUser>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let (email, name) = validate_create(&body)?;
    let hash = state
        .hasher
        .hash_new("password", body.password, vec![email.clone(), name.clone()])
        .await?;
    let audit = staff.audit();
    let admin_id = staff.id;
    let row = state
        .db
        .tx(move |conn| {
            if model::email_taken(conn, &email, None)? {
                return Err(model::email_taken_error());
            }
            let row = model::insert(
                conn,
                NewUser {
                    email: &email,
                    display_name: &name,
                    role: body.role,
                    password_hash: &hash,
                    created_by_admin: Some(admin_id),
                },
            )
            .map_err(model::unique_email)?;
            audit.allowed(
                conn,
                "user.create",
                "user",
                Some(row.id),
                json!({"role": row.role, "approval": row.approval}),
            )?;
            Ok(row)
        })
        .await?;
    Ok(created_with_etag(row.version, &User::from(&row)))
}

/// Lists staff accounts, oldest first.
#[utoipa::path(tag = "users", params(PageParams), responses((status = 200, body = Page<User>)))]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    _staff: Staff,
    q: Query<PageParams>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let rows = state
        .db
        .run(move |conn| {
            let mut query = users::table.select(UserRow::as_select()).into_boxed();
            if let Some((t, id)) = after {
                query = query.filter(
                    users::created_at
                        .gt(t)
                        .or(users::created_at.eq(t).and(users::id.gt(id))),
                );
            }
            Ok(query
                .order((users::created_at.asc(), users::id.asc()))
                .limit(limit + 1)
                .load(conn)?)
        })
        .await?;
    let page = cursor.page(rows, limit, |r| (r.created_at, r.id), |r| User::from(&r));
    Ok(HttpResponse::Ok().json(page))
}

/// One staff account.
#[utoipa::path(tag = "users", responses((status = 200, body = User), (status = 404)))]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    _staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .db
        .run(move |conn| model::find(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    Ok(ok_with_etag(row.version, &User::from(&row)))
}

/// The plain columns a PATCH of an account sets (absent: left alone); written with the role's
/// columns and the version in one UPDATE.
#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct UserChanges {
    email: Option<String>,
    display_name: Option<String>,
    active: Option<bool>,
}

/// Changes a staff account: name, email, role, `active:false` (disables login at once).
/// Nobody changes their own role (403). A move to a clinical role makes the account wait for
/// a supervisor's approval and ends its sessions. `password` is refused (422): see
/// `POST /users/{id}/password-reset`. Honours `If-Match`.
#[utoipa::path(tag = "users", request_body = UpdateUser,
    responses((status = 200, body = User), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422)))]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    staff: Staff,
    if_match: IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateUser>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let mut v = Validations::new();
    let email = body
        .email
        .as_deref()
        .map(parse_email)
        .transpose()
        .map_err(|m| v.add("email", m))
        .ok()
        .flatten();
    let name = body
        .display_name
        .as_deref()
        .map(|n| required_line(n, 200))
        .transpose()
        .map_err(|m| v.add("display_name", m))
        .ok()
        .flatten();
    if body.password.is_some() {
        // SPEC §1: an administrator never learns or sets another user's password.
        v.add(
            "password",
            "cannot be set by an administrator; issue a one-time reset token (POST /users/{id}/password-reset)",
        );
    }
    v.finish()?;
    let audit = staff.audit();
    let admin_id = staff.id;
    let row = state
        .db
        .tx(move |conn| {
            let current: UserRow = users::table
                .find(id)
                .select(UserRow::as_select())
                .for_update()
                .first(conn)?;
            let new_role = body.role.filter(|r| *r != current.role);
            // SPEC §1: nobody changes their own role (an admin demoting themselves to
            // supervisor would read notes with the same token).
            if new_role.is_some() && id == admin_id {
                return Err(AppError::Forbidden);
            }
            if_match.check(current.version)?;
            let losing_admin = current.role == Role::Admin
                && current.active
                && (body.active == Some(false) || new_role.is_some_and(|r| r != Role::Admin));
            // Two admins removing each other at once must not both see the other still there.
            if losing_admin && model::other_active_admins_locked(conn, id)? == 0 {
                return Err(AppError::conflict(
                    ErrorCode::Conflict,
                    "The last active administrator cannot be demoted or deactivated.",
                ));
            }
            if let Some(e) = &email {
                if model::email_taken(conn, e, Some(id))? {
                    return Err(model::email_taken_error());
                }
            }
            let role = new_role.map(|r| model::RoleChange::by_admin(r, admin_id));
            // Deactivation and a move to a clinical role (awaiting approval) end the sessions.
            let revoke =
                body.active == Some(false) || role.as_ref().is_some_and(|r| r.ends_sessions());
            let changed: Vec<&str> = [
                ("email", email.is_some()),
                ("display_name", name.is_some()),
                ("role", role.is_some()),
                ("active", body.active.is_some()),
            ]
            .into_iter()
            .filter_map(|(field, set)| set.then_some(field))
            .collect();
            let changes = UserChanges {
                email: email.clone(),
                display_name: name.clone(),
                active: body.active,
            };
            let row: UserRow = diesel::update(users::table.find(id))
                .set((
                    changes,
                    role,
                    users::token_version.eq(users::token_version + i32::from(revoke)),
                    users::version.eq(users::version + 1),
                    users::updated_at.eq(Utc::now()),
                ))
                .returning(UserRow::as_returning())
                .get_result(conn)
                .map_err(model::unique_email)?;
            if revoke {
                model::revoke_refresh_tokens(conn, id)?;
            }
            audit.allowed(
                conn,
                "user.update",
                "user",
                Some(id),
                json!({"changed": changed, "role": row.role, "active": row.active,
                       "approval": row.approval}),
            )?;
            Ok(row)
        })
        .await?;
    Ok(ok_with_etag(row.version, &User::from(&row)))
}
