//! `GET /clients/{id}/disclosures`: the accounting of disclosures (42 CFR §2.24).

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::model::{views, Disclosure, DisclosureRow};
use crate::auth::Staff;
use crate::consents::model::ensure_care_team;
use crate::error::AppResult;
use crate::http::pagination::{self, ListCursor, Page, PageParams};
use crate::http::Query;
use crate::notes::failure::{audited, Attempt};
use crate::schema::disclosures;
use crate::state::AppState;

/// Every disclosure of the client, newest first (supervisors, intake, therapists of the
/// client's care team). Audited as `disclosure.list`.
#[utoipa::path(tag = "disclosures", params(PageParams),
    responses((status = 200, body = Page<Disclosure>), (status = 403), (status = 404), (status = 422)))]
#[get("/clients/{id}/disclosures")]
pub async fn list_disclosures(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    q: Query<PageParams>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let client_id = id.into_inner();
    let limit = pagination::limit(q.into_inner().limit)?;
    let after: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let page = state
        .db
        .run(move |conn| {
            let audit = staff.audit();
            let attempt = Attempt {
                action: "disclosure.list",
                resource_type: "client",
                resource_id: Some(client_id),
                details: json!({}),
            };
            audited(conn, &audit, attempt, |conn| {
                ensure_care_team(conn, &staff, client_id)?;
                let mut query = disclosures::table
                    .filter(disclosures::client_id.eq(client_id))
                    .select(DisclosureRow::as_select())
                    .into_boxed();
                if let Some((at, id)) = after {
                    query = query.filter(
                        disclosures::disclosed_at
                            .lt(at)
                            .or(disclosures::disclosed_at.eq(at).and(disclosures::id.lt(id))),
                    );
                }
                let rows: Vec<DisclosureRow> = query
                    .order((disclosures::disclosed_at.desc(), disclosures::id.desc()))
                    .limit(limit + 1)
                    .load(conn)?;
                let page = cursor.page(rows, limit, |r| (r.disclosed_at, r.id), |r| r);
                let ids: Vec<Uuid> = page.items.iter().map(|r| r.id).collect();
                audit.allowed(
                    conn,
                    "disclosure.list",
                    "client",
                    Some(client_id),
                    json!({"client_ids": [client_id], "disclosure_ids": ids}),
                )?;
                Ok(Page {
                    items: views(conn, page.items)?,
                    next_cursor: page.next_cursor,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
