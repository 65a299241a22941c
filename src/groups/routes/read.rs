//! `GET /groups`, `GET /groups/{id}`.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::shows_composition;
use crate::auth::{scope, Staff};
use crate::domain::group::GroupStatus;
use crate::error::{AppError, AppResult};
use crate::groups::model::{self, Group, GroupRow};
use crate::http::etag::ok_with_etag;
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::Query;
use crate::schema::groups;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupQuery {
    #[param(inline)]
    pub status: Option<GroupStatus>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Lists groups by name (a therapist sees the groups they lead or co-lead).
#[utoipa::path(tag = "groups", params(GroupQuery), responses((status = 200, body = Page<Group>)))]
#[get("/groups")]
pub async fn list_groups(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<GroupQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let composition = shows_composition(&staff);
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(String, Uuid)> = cursor.open()?;
    let page = state
        .db
        .run(move |conn| {
            let mut query = groups::table.select(GroupRow::as_select()).into_boxed();
            if staff.is_scoped() {
                query =
                    query.filter(groups::id.eq_any(scope::therapist_group_ids(conn, staff.id)?));
            }
            if let Some(s) = q.status {
                query = query.filter(groups::status.eq(s));
            }
            if let Some((name, id)) = after {
                query = query.filter(
                    groups::name
                        .gt(name.clone())
                        .or(groups::name.eq(name).and(groups::id.gt(id))),
                );
            }
            let rows: Vec<GroupRow> = query
                .order((groups::name.asc(), groups::id.asc()))
                .limit(limit + 1)
                .load(conn)?;
            let groups = model::views(conn, rows, composition)?;
            Ok(cursor.page(groups, limit, |g| (g.name.clone(), g.id), |g| g))
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One group.
#[utoipa::path(tag = "groups", responses((status = 200, body = Group), (status = 404)))]
#[get("/groups/{id}")]
pub async fn get_group(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let composition = shows_composition(&staff);
    let id = id.into_inner();
    let (version, group) = state
        .db
        .run(move |conn| {
            // The row answers the scope question too (rule (a)), one round trip fewer.
            let row = model::find(conn, id)?
                .filter(|g| {
                    scope::group_row_visible(&staff, g.lead_therapist_id, &g.co_therapist_ids)
                })
                .ok_or(AppError::NotFound)?;
            Ok((row.version, model::view(conn, row, composition)?))
        })
        .await?;
    Ok(ok_with_etag(version, &group))
}
