//! The application: routes under `/api/v1`, middleware, uniform errors. Used by `serve` and
//! by the tests, so both run exactly the same stack.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpMessage, HttpResponse, HttpServer};
use serde_json::json;

use crate::auth::extractor::{Actor, RequestMeta};
use crate::auth::gate::Granted;
use crate::auth::policy::Policy;
use crate::error::{AppError, RefusalRecorded};
use crate::http::extract::MAX_BODY_BYTES;
use crate::http::middleware::{request_context, security_headers};
use crate::state::AppState;
use crate::{audit, health};

/// Every 403 is an audit event (SPEC §2, issue 3), written in its own transaction because the
/// request's own work was refused.
async fn audit_forbidden(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let recorded = res
        .response()
        .extensions()
        .get::<RefusalRecorded>()
        .is_some();
    if res.status() == actix_web::http::StatusCode::FORBIDDEN && !recorded {
        let actor = res.request().extensions().get::<Actor>().cloned();
        let state = res.request().app_data::<web::Data<AppState>>().cloned();
        if let (Some(actor), Some(state)) = (actor, state) {
            let meta = RequestMeta::of(res.request());
            let route = res.request().match_pattern().unwrap_or_default();
            let method = res.request().method().to_string();
            let permission = match res.request().extensions().get::<Granted>() {
                Some(Granted(Policy::Requires(action))) => Some(action.as_str()),
                _ => None,
            };
            let resource_type = route
                .trim_start_matches("/api/v1/")
                .split('/')
                .next()
                .unwrap_or("")
                .trim_end_matches('s')
                .replace('-', "_");
            let ctx = audit::AuditCtx {
                actor_id: Some(actor.id),
                actor_role: Some(actor.role),
                ..meta.anonymous_audit()
            };
            let written = state
                .db
                .tx(move |conn| {
                    ctx.denied(
                        conn,
                        "access.forbidden",
                        &resource_type,
                        None,
                        json!({"method": method, "route": route, "permission": permission}),
                    )
                })
                .await;
            if let Err(e) = written {
                tracing::error!(error = %e, "could not audit a 403");
            }
        }
    }
    Ok(res)
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |c, o| c.allowed_origin(o))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers(["authorization", "content-type", "if-match", "x-request-id"])
        .expose_headers(["etag", "x-request-id", "retry-after", "content-disposition"])
        .max_age(3600)
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::openapi::document_json())
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = cors(&state.settings.cors_origins);
    App::new()
        .app_data(state)
        .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
        .service(health::healthz)
        .service(health::readyz)
        .service(
            web::scope("/api/v1")
                .wrap(from_fn(crate::auth::gate::gate))
                .wrap(from_fn(audit_forbidden))
                .route("/openapi.json", web::get().to(openapi_json))
                .route("/docs", web::get().to(crate::console::api_reference))
                .configure(crate::routes::configure),
        )
        .configure(crate::console::routes)
        .default_service(web::to(not_found))
        .wrap(cors)
        .wrap(from_fn(request_context))
        .wrap(from_fn(security_headers))
}

/// Binds the server on an already-open listener (tests use port 0).
pub fn run(
    state: web::Data<AppState>,
    listener: TcpListener,
    workers: usize,
) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || build_app(state.clone()))
        .workers(workers)
        .listen(listener)?
        .run())
}
