//! `GET /clients/{id}/memberships` (SPEC §4 v2): a client's seats, newest first, each with
//! its group's name. A therapist sees the client only within their scope (404 otherwise) and
//! only the memberships in groups they lead or co-lead (SPEC §1 (b)).

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{load_views, MembershipRow, MembershipView};
use crate::auth::policy::act;
use crate::auth::{scope, Staff};
use crate::error::AppResult;
use crate::http::pagination::{self, ListCursor, Page, PageParams};
use crate::http::Query;
use crate::schema::{groups, memberships};
use crate::state::AppState;

/// A membership with the name of its group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientMembership {
    #[serde(flatten)]
    pub membership: MembershipView,
    pub group_name: String,
}

/// The client's memberships, newest first. Audited as one `membership.list`.
#[utoipa::path(tag = "memberships", params(PageParams),
    responses((status = 200, body = Page<ClientMembership>), (status = 403), (status = 404), (status = 409, description = "note_undecryptable: stored clinical text does not open under a configured key"), (status = 422)))]
#[get("/clients/{id}/memberships")]
pub async fn client_memberships(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    q: Query<PageParams>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let client_id = id.into_inner();
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let before: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let clinical = state.notes.optional_reader::<act::ReadNotes>(&staff);
    let audit = staff.audit();
    let items = state
        .db
        .tx(move |conn| {
            if let Err(e) = scope::ensure_client(conn, &staff, client_id) {
                // A refused read of client data is audited too (committed), SPEC §1.
                if staff.is_scoped() && crate::clients::model::find(conn, client_id)?.is_some() {
                    audit.denied(
                        conn,
                        "membership.list",
                        "client",
                        Some(client_id),
                        json!({"reason": "out_of_scope"}),
                    )?;
                }
                return Ok(Err(e));
            }
            let mut query = memberships::table
                .filter(memberships::client_id.eq(client_id))
                .select(MembershipRow::as_select())
                .into_boxed();
            // (f) an emergency access reads every seat of the client
            if staff.is_scoped() && !scope::has_emergency_access(conn, staff.id, client_id)? {
                let mine = scope::therapist_group_ids(conn, staff.id)?;
                query = query.filter(memberships::group_id.eq_any(mine));
            }
            if let Some((t, id)) = before {
                query = query.filter(
                    memberships::created_at
                        .lt(t)
                        .or(memberships::created_at.eq(t).and(memberships::id.lt(id))),
                );
            }
            let rows = query
                .order((memberships::created_at.desc(), memberships::id.desc()))
                .limit(limit + 1)
                .load(conn)?;
            let group_ids: Vec<Uuid> = rows.iter().map(|r| r.group_id).collect();
            let names: HashMap<Uuid, String> = groups::table
                .filter(groups::id.eq_any(&group_ids))
                .select((groups::id, groups::name))
                .load::<(Uuid, String)>(conn)?
                .into_iter()
                .collect();
            let items: Vec<ClientMembership> = load_views(conn, rows, clinical.as_ref())?
                .into_iter()
                .map(|m| ClientMembership {
                    group_name: names.get(&m.group_id).cloned().unwrap_or_default(),
                    membership: m,
                })
                .collect();
            audit.allowed(
                conn,
                "membership.list",
                "client",
                Some(client_id),
                json!({"client_ids": [client_id], "memberships": items.len().min(limit as usize)}),
            )?;
            Ok(Ok(items))
        })
        .await??;
    let page = cursor.page(
        items,
        limit,
        |m| (m.membership.created_at, m.membership.id),
        |m| m,
    );
    Ok(HttpResponse::Ok().json(page))
}
