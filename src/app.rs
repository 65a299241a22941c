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
use crate::error::AppError;
use crate::http::extract::MAX_BODY_BYTES;
use crate::http::middleware::{request_context, security_headers};
use crate::state::AppState;
use crate::{
    audit, auth, clients, consents, day, exits, groups, health, memberships, notes, records,
    reports, screenings, sessions, users,
};

/// Every 403 is an audit event (SPEC §2, issue 3), written in its own transaction because the
/// request's own work was refused.
async fn audit_forbidden(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let res = next.call(req).await?;
    if res.status() == actix_web::http::StatusCode::FORBIDDEN {
        let actor = res.request().extensions().get::<Actor>().cloned();
        let state = res.request().app_data::<web::Data<AppState>>().cloned();
        if let (Some(actor), Some(state)) = (actor, state) {
            let meta = RequestMeta::of(res.request());
            let route = res.request().match_pattern().unwrap_or_default();
            let method = res.request().method().to_string();
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
                        json!({"method": method, "route": route}),
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

/// Registers every `/api/v1` resource.
pub fn api_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(auth::routes::login)
        .service(auth::routes::refresh)
        .service(auth::routes::logout)
        .service(auth::routes::me)
        .service(auth::routes::change_password)
        .service(auth::reset::redeem_password_reset)
        .service(users::routes::list_users)
        .service(users::routes::create_user)
        .service(users::routes::get_user)
        .service(users::routes::update_user)
        .service(auth::reset::issue_password_reset)
        .service(users::directory::list_staff)
        .service(users::approvals::list_approvals)
        .service(users::approvals::approve)
        .service(clients::routes::list_clients)
        .service(clients::routes::create_client)
        .service(clients::routes::get_client)
        .service(clients::routes::update_client)
        .service(screenings::routes::schedule_screening)
        .service(screenings::routes::list_screenings)
        .service(screenings::routes::get_screening)
        .service(screenings::routes::complete_screening)
        .service(screenings::routes::cancel_screening)
        .service(screenings::routes::no_show_screening)
        .service(screenings::waitlist::waitlist)
        .service(groups::routes::list_groups)
        .service(groups::routes::create_group)
        .service(groups::routes::get_group)
        .service(groups::routes::update_group)
        .service(groups::routes::start_group)
        .service(groups::routes::complete_group)
        .service(groups::routes::cancel_group)
        .service(groups::contracts::list_contracts)
        .service(groups::contracts::create_contract)
        .service(memberships::routes::admit)
        .service(memberships::routes::list_members)
        .service(memberships::routes::get_membership)
        .service(memberships::of_client::client_memberships)
        .service(memberships::routes::sign)
        .service(memberships::routes::discharge)
        .service(memberships::routes::withdraw)
        .service(exits::routes::exit_notice)
        .service(exits::rescind::rescind_exit)
        .service(sessions::routes::generate)
        .service(sessions::routes::list_sessions)
        .service(sessions::routes::cancel_session)
        .service(sessions::list::list_all_sessions)
        .service(sessions::get::get_session)
        .service(day::agenda::agenda)
        .service(day::dashboard::dashboard)
        .service(notes::index::list_notes)
        .service(sessions::reschedule::reschedule_session)
        .service(sessions::attendance::get_attendance)
        .service(sessions::attendance::put_attendance)
        .service(notes::group_notes::get_group_note)
        .service(notes::group_notes::put_group_note)
        .service(notes::group_notes::sign_group_note)
        .service(notes::group_notes::cosign_group_note)
        .service(notes::group_notes::add_group_addendum)
        .service(notes::group_notes::void_group_note)
        .service(notes::member_notes::get_member_note)
        .service(notes::member_notes::put_member_note)
        .service(notes::member_notes::sign_member_note)
        .service(notes::member_notes::cosign_member_note)
        .service(notes::member_notes::add_member_addendum)
        .service(notes::member_notes::void_member_note)
        .service(records::routes::client_record)
        .service(consents::list::list_consents)
        .service(consents::create::create_consent)
        .service(consents::revoke::revoke_consent)
        .service(crate::disclosures::list::list_disclosures)
        .service(crate::disclosures::create::create_disclosure)
        .service(crate::disclosures::document::disclosure_document)
        .service(crate::emergency_access::routes::grant_emergency_access)
        .service(crate::emergency_access::routes::list_emergency_access)
        .service(crate::emergency_access::routes::review_emergency_access)
        .service(reports::attendance::attendance_report)
        .service(reports::retention::retention_report)
        .service(audit::routes::verify)
        .service(audit::routes::take_checkpoint)
        .service(audit::routes::verify_checkpoint)
        .service(audit::routes::list_events);
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
                .wrap(from_fn(audit_forbidden))
                .route("/openapi.json", web::get().to(openapi_json))
                .route("/docs", web::get().to(crate::console::api_reference))
                .configure(api_routes),
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
