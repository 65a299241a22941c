//! `GET /groups/{id}/members`, `GET /memberships/{id}`.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::policy::act;
use crate::auth::{scope, Staff};
use crate::domain::membership::MembershipStatus;
use crate::error::AppResult;
use crate::http::etag::ok_with_etag;
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::Query;
use crate::memberships::model::{self, load_view, load_views, MembershipView};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    #[param(inline)]
    pub status: Option<MembershipStatus>,
    pub at_risk: Option<bool>,
    /// v2: `false` lists who has yet to re-sign: active and exiting members whose newest
    /// signature is not of the current agreement; `true`, those who hold the current one.
    pub contract_current: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The group's members (every status unless filtered), in admission order.
#[utoipa::path(tag = "memberships", params(MemberQuery), responses((status = 200, body = Page<MembershipView>), (status = 409, description = "note_undecryptable: stored clinical text does not open under a configured key")))]
#[get("/groups/{id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    q: Query<MemberQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let group_id = id.into_inner();
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let clinical = state.notes.optional_reader::<act::ReadNotes>(&staff);
    let audit = staff.audit();
    let views = state
        .db
        .audited_read(move |conn| {
            let rows = model::of_visible_group(conn, &staff, group_id, q.status, after)?;
            // A group's history is small (tens of rows): derive, filter, then page.
            let views = load_views(conn, rows, clinical.as_ref())?;
            let views: Vec<_> = views
                .into_iter()
                .filter(|v| q.at_risk.is_none_or(|r| v.at_risk == r))
                .filter(|v| match q.contract_current {
                    None => true,
                    Some(true) => v.contract_current,
                    Some(false) => {
                        !v.contract_current
                            && matches!(
                                v.status,
                                MembershipStatus::Active | MembershipStatus::Exiting
                            )
                    }
                })
                .collect();
            let shown = views.iter().take(limit as usize).map(|v| v.client_id);
            crate::audit::bulk::list_read(
                &audit,
                conn,
                "membership.list",
                "group",
                Some(group_id),
                shown,
            )?;
            Ok(views)
        })
        .await?;
    let page = cursor.page(views, limit, |v| (v.created_at, v.id), |v| v);
    Ok(HttpResponse::Ok().json(page))
}

/// One membership with its derived fields.
#[utoipa::path(tag = "memberships", responses((status = 200, body = MembershipView), (status = 404), (status = 409, description = "note_undecryptable: stored clinical text does not open under a configured key")))]
#[get("/memberships/{id}")]
pub async fn get_membership(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let clinical = state.notes.optional_reader::<act::ReadNotes>(&staff);
    let view = state
        .db
        .run(move |conn| {
            scope::ensure_membership_readable(conn, &staff, id)?;
            load_view(conn, id, clinical.as_ref())
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}
