//! `GET /healthz` (process alive) and `GET /readyz` (database reachable), outside `/api/v1`.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde_json::json;

use crate::error::AppResult;
use crate::state::AppState;

/// The process is alive.
#[utoipa::path(tag = "health", responses((status = 200, description = "alive")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers; 503 `service_unavailable` when it does not (within the pool's
/// checkout timeout, a few seconds).
#[utoipa::path(tag = "health", responses((status = 200, description = "ready"), (status = 503)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .db
        .run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}
