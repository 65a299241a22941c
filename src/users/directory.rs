//! `GET /staff` (SPEC §4 v2): the staff directory every role may read — who can be chosen as
//! interviewer, group leader or note author. Names and roles only; never an email or a hash.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Role;
use crate::error::AppResult;
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::Query;
use crate::schema::users;
use crate::state::AppState;

/// One colleague as the directory shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffEntry {
    pub id: Uuid,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffQuery {
    /// Only this role.
    pub role: Option<Role>,
    /// Only active (`true`) or disabled (`false`) accounts.
    pub active: Option<bool>,
    /// 1–200, default 50
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
}

/// The staff directory, by display name (any role).
#[utoipa::path(tag = "staff", params(StaffQuery),
    responses((status = 200, body = Page<StaffEntry>), (status = 401), (status = 422)))]
#[get("/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    q: Query<StaffQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(String, Uuid)> = cursor.open()?;
    let rows: Vec<(Uuid, String, Role, bool)> = state
        .db
        .run(move |conn| {
            let mut query = users::table
                .select((users::id, users::display_name, users::role, users::active))
                .into_boxed();
            if let Some(role) = q.role {
                query = query.filter(users::role.eq(role));
            }
            if let Some(active) = q.active {
                query = query.filter(users::active.eq(active));
            }
            if let Some((name, id)) = after {
                query = query.filter(
                    users::display_name
                        .gt(name.clone())
                        .or(users::display_name.eq(name).and(users::id.gt(id))),
                );
            }
            Ok(query
                .order((users::display_name.asc(), users::id.asc()))
                .limit(limit + 1)
                .load(conn)?)
        })
        .await?;
    let entries: Vec<StaffEntry> = rows
        .into_iter()
        .map(|(id, display_name, role, active)| StaffEntry {
            id,
            display_name,
            role,
            active,
        })
        .collect();
    let page = cursor.page(entries, limit, |e| (e.display_name.clone(), e.id), |e| e);
    Ok(HttpResponse::Ok().json(page))
}
