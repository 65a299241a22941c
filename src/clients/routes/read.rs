//! `GET /clients`, `GET /clients/{id}`.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use uuid::Uuid;

use super::Q_MAX;
use crate::auth::{scope, Staff};
use crate::clients::model::{self, like_pattern, Client, ClientRow};
use crate::domain::text::search_key;
use crate::error::{AppError, AppResult};
use crate::http::etag::ok_with_etag;
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::Query;
use crate::schema::clients;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    /// Name search, case- and accent-insensitive: every word must appear in the first, last or
    /// preferred name.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Lists clients by last name, then first name (accents and case ignored); a therapist sees
/// only clients in scope. `?q=`: every word must appear in the first, last or preferred name.
#[utoipa::path(tag = "clients", params(ClientQuery), responses((status = 200, body = Page<Client>)))]
#[get("/clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<ClientQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(String, Uuid)> = cursor.open()?;
    // Every word of `q` must appear in the names (in any order: "alvarez jose" finds José
    // Álvarez); LIKE wildcards in `q` are literals.
    let terms: Vec<String> = match q.q.as_deref().map(str::trim) {
        Some(s) if s.chars().count() > Q_MAX => {
            return Err(AppError::invalid(
                "q",
                format!("must be at most {Q_MAX} characters"),
            ))
        }
        Some(s) => search_key(&[s])
            .split_whitespace()
            .map(like_pattern)
            .collect(),
        None => Vec::new(),
    };
    let scoped = staff.is_scoped().then_some(staff.id);
    let audit = staff.audit();
    let rows = state
        .db
        .audited_read(move |conn| {
            let mut query = clients::table.select(ClientRow::as_select()).into_boxed();
            if let Some(user) = scoped {
                query = query.filter(clients::id.eq_any(scope::therapist_client_ids(conn, user)?));
            }
            for pattern in terms {
                query = query.filter(clients::search_text.like(pattern));
            }
            if let Some((key, id)) = after {
                query = query.filter(model::after_sort_key(key, id));
            }
            let rows: Vec<ClientRow> = query
                .order(model::sort_key())
                .then_order_by(clients::id.asc())
                .limit(limit + 1)
                .load(conn)?;
            let shown = rows.iter().take(limit as usize).map(|r| r.id);
            crate::audit::bulk::list_read(&audit, conn, "client.list", "client", None, shown)?;
            Ok(rows)
        })
        .await?;
    let page = cursor.page(rows, limit, |r| (r.search_text.clone(), r.id), Client::from);
    Ok(HttpResponse::Ok().json(page))
}

/// One client's demographics. Each read is audited, and so is a therapist's refused read of
/// a client outside their scope (which answers 404).
#[utoipa::path(tag = "clients", responses((status = 200, body = Client), (status = 404)))]
#[get("/clients/{id}")]
pub async fn get_client(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .db
        .audited_read(move |conn| {
            if let Err(e) = scope::ensure_client(conn, &staff, id) {
                // SPEC §1: a refused read of a client record is audited too (committed, while
                // the caller learns only that nothing was found).
                if staff.is_scoped() && model::find(conn, id)?.is_some() {
                    staff.audit().denied(
                        conn,
                        "client.read",
                        "client",
                        Some(id),
                        json!({"reason": "out_of_scope"}),
                    )?;
                }
                return Ok(Err(e));
            }
            let row = model::find(conn, id)?.ok_or(AppError::NotFound)?;
            staff
                .audit()
                .allowed(conn, "client.read", "client", Some(id), json!({}))?;
            Ok(Ok(row))
        })
        .await??;
    Ok(ok_with_etag(row.version, &Client::from(row)))
}
