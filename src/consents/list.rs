//! `GET /clients/{id}/consents`: the client's consents, newest first.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::model::{ensure_care_team, today, Consent, ConsentRow};
use crate::auth::Staff;
use crate::error::{AppError, AppResult};
use crate::http::pagination::{self, ListCursor, Page, PageParams};
use crate::http::Query;
use crate::notes::failure::{audited, Attempt, Failure};
use crate::schema::consents;
use crate::state::AppState;

/// Every consent of the client with its derived `status`, newest first (admins read;
/// supervisors, intake and the client's therapists too). Audited as `consent.list`.
#[utoipa::path(tag = "consents", params(PageParams),
    responses((status = 200, body = Page<Consent>), (status = 403), (status = 404), (status = 422)))]
#[get("/clients/{id}/consents")]
pub async fn list_consents(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    q: Query<PageParams>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let client_id = id.into_inner();
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let page = state
        .db
        .run(move |conn| {
            let audit = staff.audit();
            let attempt = Attempt {
                action: "consent.list",
                resource_type: "client",
                resource_id: Some(client_id),
                details: json!({}),
            };
            audited(conn, &audit, attempt, |conn| {
                ensure_care_team(conn, &staff, client_id)?;
                let mut query = consents::table
                    .filter(consents::client_id.eq(client_id))
                    .select(ConsentRow::as_select())
                    .into_boxed();
                if let Some((at, id)) = after {
                    query = query.filter(
                        consents::created_at
                            .lt(at)
                            .or(consents::created_at.eq(at).and(consents::id.lt(id))),
                    );
                }
                let rows: Vec<ConsentRow> = query
                    .order((consents::created_at.desc(), consents::id.desc()))
                    .limit(limit + 1)
                    .load(conn)?;
                let page = cursor.page(rows, limit, |r| (r.created_at, r.id), |r| r);
                let ids: Vec<Uuid> = page.items.iter().map(|r| r.id).collect();
                audit.allowed(
                    conn,
                    "consent.list",
                    "client",
                    Some(client_id),
                    json!({"client_ids": [client_id], "consent_ids": ids}),
                )?;
                let today = today();
                let items = page
                    .items
                    .into_iter()
                    .map(|r| r.view(today))
                    .collect::<Result<Vec<Consent>, AppError>>()
                    .map_err(Failure::App)?;
                Ok(Page {
                    items,
                    next_cursor: page.next_cursor,
                })
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
