use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Role;
use crate::error::{AppError, ErrorCode};
use crate::schema::users;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub active: bool,
    pub token_version: i32,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub approval: Approval,
    pub approval_requested_by: Option<Uuid>,
    pub approval_requested_at: Option<DateTime<Utc>>,
}

impl UserRow {
    /// May this account sign in and act? Active, and not awaiting a supervisor's approval
    /// (SPEC §1 "Separation of duties").
    pub fn may_sign_in(&self) -> bool {
        self.active && self.approval == Approval::Approved
    }
}

/// Whether a supervisor has approved the account (SPEC §1 v2). Accounts an administrator
/// creates with, or moves to, a clinical role are `pending` until then.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, diesel::AsExpression, diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    Approved,
    Pending,
}

impl Approval {
    pub fn as_str(self) -> &'static str {
        match self {
            Approval::Approved => "approved",
            Approval::Pending => "pending",
        }
    }

    pub fn parse(s: &str) -> Option<Approval> {
        match s {
            "approved" => Some(Approval::Approved),
            "pending" => Some(Approval::Pending),
            _ => None,
        }
    }
}

/// A staff user as the API shows it: never a hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// `pending` until a supervisor approves the account (it cannot sign in meanwhile).
    pub approval: Approval,
    pub created_at: DateTime<Utc>,
}

impl From<&UserRow> for User {
    fn from(r: &UserRow) -> Self {
        User {
            id: r.id,
            email: r.email.clone(),
            display_name: r.display_name.clone(),
            role: r.role,
            active: r.active,
            approval: r.approval,
            created_at: r.created_at,
        }
    }
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Case-insensitive, with PostgreSQL's `lower()` on both sides: the same folding as the unique
/// index `users_email_lower_key`, also for non-ASCII addresses.
pub fn find_by_email(conn: &mut PgConnection, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(lower(users::email).eq(lower(email.trim())))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn email_taken(
    conn: &mut PgConnection,
    email: &str,
    except: Option<Uuid>,
) -> QueryResult<bool> {
    let mut q = users::table
        .filter(lower(users::email).eq(lower(email.trim())))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(users::id.ne(id));
    }
    diesel::select(diesel::dsl::exists(q)).get_result(conn)
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    /// The administrator who made the account through the API: a clinical account then
    /// waits for a supervisor's approval. `None` from the console (`create-user`): approved.
    pub created_by_admin: Option<Uuid>,
}

/// What an administrator's creating or moving an account to `role` means for its approval
/// (SPEC §1): clinical roles wait for a supervisor; the others need no approval.
pub fn approval_after_admin_sets(role: Role) -> Approval {
    if role.is_clinician() {
        Approval::Pending
    } else {
        Approval::Approved
    }
}

pub fn insert(conn: &mut PgConnection, u: NewUser<'_>) -> QueryResult<UserRow> {
    let approval = match u.created_by_admin {
        Some(_) => approval_after_admin_sets(u.role),
        None => Approval::Approved,
    };
    let requested = (approval == Approval::Pending).then(Utc::now);
    diesel::insert_into(users::table)
        .values((
            users::id.eq(Uuid::new_v4()),
            users::email.eq(u.email),
            users::display_name.eq(u.display_name),
            users::role.eq(u.role),
            users::password_hash.eq(u.password_hash),
            users::approval.eq(approval),
            users::approval_requested_by.eq(requested.and(u.created_by_admin)),
            users::approval_requested_at.eq(requested),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
}

/// 409 `email_taken`: another account has this email (compared case-insensitively).
pub fn email_taken_error() -> AppError {
    AppError::conflict(
        ErrorCode::EmailTaken,
        "A user with this email already exists.",
    )
}

/// Maps a lost race on the unique email index to `email_taken`, like the explicit check.
pub fn unique_email(e: diesel::result::Error) -> AppError {
    use diesel::result::{DatabaseErrorKind, Error};
    match &e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            if info.constraint_name() == Some("users_email_lower_key") =>
        {
            email_taken_error()
        }
        _ => e.into(),
    }
}

/// Makes every access and refresh token of the user useless at once.
pub fn revoke_all_tokens(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::token_version.eq(users::token_version + 1))
        .execute(conn)?;
    revoke_refresh_tokens(conn, user_id)
}

/// Revokes the user's refresh tokens; the caller bumps `token_version` (which ends the access
/// tokens) in its own update of the row.
pub fn revoke_refresh_tokens(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<()> {
    use crate::schema::refresh_tokens as rt;
    diesel::update(
        rt::table
            .filter(rt::user_id.eq(user_id))
            .filter(rt::revoked_at.is_null()),
    )
    .set(rt::revoked_at.eq(Utc::now()))
    .execute(conn)?;
    Ok(())
}

/// Active admins other than `except`, counted under a transaction-long lock that every
/// demotion or deactivation of an admin takes, so that two of them cannot both pass.
pub fn other_active_admins_locked(conn: &mut PgConnection, except: Uuid) -> QueryResult<i64> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('users-admins', 0))")
        .execute(conn)?;
    other_active_admins(conn, except)
}

/// Active admins other than `except`.
pub fn other_active_admins(conn: &mut PgConnection, except: Uuid) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::active.eq(true))
        .filter(users::id.ne(except))
        .count()
        .get_result(conn)
}

/// The columns an administrator's move of an account to `role` sets (never their own role:
/// the caller checks). A clinical role waits for a supervisor's approval, and the account's
/// sessions end until then (SPEC §1 "Separation of duties"); any other role needs no approval.
#[derive(AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct RoleChange {
    role: Role,
    approval: Approval,
    approval_requested_by: Option<Uuid>,
    approval_requested_at: Option<DateTime<Utc>>,
    approved_by: Option<Uuid>,
    approved_at: Option<DateTime<Utc>>,
}

impl RoleChange {
    pub fn by_admin(role: Role, admin_id: Uuid) -> RoleChange {
        let approval = approval_after_admin_sets(role);
        let pending = approval == Approval::Pending;
        RoleChange {
            role,
            approval,
            approval_requested_by: pending.then_some(admin_id),
            approval_requested_at: pending.then(Utc::now),
            approved_by: None,
            approved_at: None,
        }
    }

    /// The account waits for approval: its tokens stop working.
    pub fn ends_sessions(&self) -> bool {
        self.approval == Approval::Pending
    }
}
