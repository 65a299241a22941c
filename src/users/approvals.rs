//! `GET /staff/approvals`, `POST /staff/{id}/approve` (SPEC §1 "Separation of duties", §4):
//! a clinical account that an administrator created or moved to a clinical role cannot sign in
//! until a supervisor other than the account itself approves it. An administrator who knows
//! such an account's password thereby gains nothing clinical on their own.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{Approval, User, UserRow};
use crate::auth::{Role, Staff};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::http::etag::ok_with_etag;
use crate::http::pagination::{self, ListCursor, Page, PageParams};
use crate::http::Query;
use crate::schema::users;
use crate::state::AppState;

/// An account awaiting approval, with who asked for it and when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingAccount {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// Always `pending` here.
    pub approval: Approval,
    pub created_at: DateTime<Utc>,
    /// The administrator who created the account or moved it to its clinical role.
    pub requested_by: Option<Uuid>,
    pub requested_at: DateTime<Utc>,
}

impl PendingAccount {
    fn of(r: &UserRow) -> Self {
        let u = User::from(r);
        PendingAccount {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            role: u.role,
            active: u.active,
            approval: u.approval,
            created_at: u.created_at,
            requested_by: r.approval_requested_by,
            requested_at: r.approval_requested_at.unwrap_or(r.created_at),
        }
    }
}

/// Clinical accounts awaiting a supervisor's approval, longest waiting first (supervisors).
#[utoipa::path(tag = "staff", params(PageParams),
    responses((status = 200, body = Page<PendingAccount>), (status = 401), (status = 403), (status = 422)))]
#[get("/staff/approvals")]
pub async fn list_approvals(
    state: web::Data<AppState>,
    q: Query<PageParams>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let limit = pagination::limit(q.into_inner().limit)?;
    let after: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let rows: Vec<UserRow> = state
        .db
        .run(move |conn| {
            let mut query = users::table
                .filter(users::approval.eq(Approval::Pending))
                .select(UserRow::as_select())
                .into_boxed();
            if let Some((t, id)) = after {
                query = query.filter(
                    users::approval_requested_at
                        .gt(t)
                        .or(users::approval_requested_at.eq(t).and(users::id.gt(id))),
                );
            }
            Ok(query
                .order((users::approval_requested_at.asc(), users::id.asc()))
                .limit(limit + 1)
                .load(conn)?)
        })
        .await?;
    let page = cursor.page(
        rows,
        limit,
        |r| (r.approval_requested_at.unwrap_or(r.created_at), r.id),
        |r| PendingAccount::of(&r),
    );
    Ok(HttpResponse::Ok().json(page))
}

/// Approves a pending account (supervisors; never one's own). The account may then sign in.
/// 409 `conflict` when it is not awaiting approval.
#[utoipa::path(tag = "staff",
    responses((status = 200, body = User), (status = 401), (status = 403), (status = 404),
        (status = 409, description = "conflict: the account is not awaiting approval")))]
#[post("/staff/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    // SPEC §1: a supervisor other than the account itself (the database refuses it too).
    if id == staff.id {
        return Err(AppError::Forbidden);
    }
    let (audit, supervisor) = (staff.audit(), staff.id);
    let row = state
        .db
        .tx(move |conn| {
            let now = Utc::now();
            let approved: Option<UserRow> = diesel::update(
                users::table
                    .find(id)
                    .filter(users::approval.eq(Approval::Pending)),
            )
            .set((
                users::approval.eq(Approval::Approved),
                users::approved_by.eq(Some(supervisor)),
                users::approved_at.eq(Some(now)),
                users::version.eq(users::version + 1),
                users::updated_at.eq(now),
            ))
            .returning(UserRow::as_returning())
            .get_result(conn)
            .optional()?;
            let Some(row) = approved else {
                let exists: bool =
                    diesel::select(diesel::dsl::exists(users::table.find(id))).get_result(conn)?;
                return Err(if exists {
                    AppError::conflict(ErrorCode::Conflict, "The account is not awaiting approval.")
                } else {
                    AppError::NotFound
                });
            };
            audit.allowed(
                conn,
                "user.approve",
                "user",
                Some(id),
                json!({"role": row.role, "requested_by": row.approval_requested_by}),
            )?;
            Ok(row)
        })
        .await?;
    Ok(ok_with_etag(row.version, &User::from(&row)))
}
