//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes.
//! Committed at `openapi/openapi.json`; regenerate with `cargo run -q -- openapi > openapi/openapi.json`.

use utoipa::openapi::header::Header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response, Type};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// Operations that take no access token (they exchange credentials or a refresh token).
const PUBLIC_OPERATIONS: &[&str] = &[
    "/auth/login",
    "/auth/refresh",
    "/auth/logout",
    "/auth/password-reset",
];

/// What each error status means across the API; every one is a `Problem`.
fn problem_description(status: &str) -> &'static str {
    match status {
        "400" => "The request could not be read (malformed JSON): `validation_failed`.",
        "401" => "Missing, invalid or expired credentials: `unauthorized`.",
        "403" => "The caller's role may not do this: `forbidden`.",
        "404" => "No such resource, or outside the caller's scope: `not_found`.",
        "409" => "Conflicts with the resource's current state (`conflict` or a domain code).",
        "412" => "`If-Match` does not match the current `ETag`: `precondition_failed`.",
        "413" => "The body is over 256 KiB: `payload_too_large`.",
        "422" => "Invalid input (`validation_failed` or a domain code); `errors` names each field.",
        "429" => "Too many attempts (`rate_limited`); retry after `Retry-After` seconds.",
        "500" => "An unexpected error (`internal_error`); no details are disclosed.",
        "503" => {
            "The database is unreachable or the change kept colliding with concurrent ones \
             (`service_unavailable`); retry after `Retry-After` seconds."
        }
        _ => "An error, as problem+json.",
    }
}

/// Every 4xx/5xx of every operation is `application/problem+json` with the one `Problem`
/// schema; the statuses any operation can answer (authentication, roles, unknown ids, bad
/// input, an unavailable database) are listed on each operation so a client sees them all.
struct ProblemResponses;

impl ProblemResponses {
    fn operation(path: &str, op: &mut Operation) {
        let public = PUBLIC_OPERATIONS.contains(&path);
        let mut statuses: Vec<&str> = vec!["500", "503"];
        if public {
            op.security = Some(Vec::new());
        } else {
            statuses.extend(["401", "403"]);
        }
        if path.contains('{') {
            statuses.push("404");
        }
        if op.request_body.is_some() {
            statuses.extend(["400", "413", "422"]);
        }
        let has_query = op
            .parameters
            .iter()
            .flatten()
            .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query));
        if has_query {
            statuses.push("422");
        }
        for status in statuses {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| RefOr::T(Response::new("")));
        }
        for (status, response) in op.responses.responses.iter_mut() {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let RefOr::T(response) = response else {
                continue;
            };
            if response.description.is_empty() {
                response.description = problem_description(status).to_string();
            }
            response.content.clear();
            response.content.insert(
                "application/problem+json".to_string(),
                Content::new(Some(Ref::from_schema_name("Problem"))),
            );
            if status == "429" || status == "503" {
                response.headers.insert(
                    "Retry-After".to_string(),
                    Header::new(utoipa::openapi::ObjectBuilder::new().schema_type(Type::Integer)),
                );
            }
        }
    }
}

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                Self::operation(path, op);
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "groupwork", description = "Closed interpersonal process groups: staff, clients, screenings, groups, sessions, notes, reports."),
    servers((url = "/api/v1")),
    paths(
        crate::auth::routes::login,
        crate::auth::routes::refresh,
        crate::auth::routes::logout,
        crate::auth::routes::me,
        crate::auth::routes::change_password,
        crate::auth::reset::redeem_password_reset,
        crate::users::routes::list_users,
        crate::users::routes::create_user,
        crate::users::routes::get_user,
        crate::users::routes::update_user,
        crate::auth::reset::issue_password_reset,
        crate::users::directory::list_staff,
        crate::users::approvals::list_approvals,
        crate::users::approvals::approve,
        crate::clients::routes::list_clients,
        crate::clients::routes::create_client,
        crate::clients::routes::get_client,
        crate::clients::routes::update_client,
        crate::screenings::routes::schedule_screening,
        crate::screenings::routes::list_screenings,
        crate::screenings::routes::get_screening,
        crate::screenings::routes::complete_screening,
        crate::screenings::routes::cancel_screening,
        crate::screenings::routes::no_show_screening,
        crate::screenings::waitlist::waitlist,
        crate::groups::routes::list_groups,
        crate::groups::routes::create_group,
        crate::groups::routes::get_group,
        crate::groups::routes::update_group,
        crate::groups::routes::start_group,
        crate::groups::routes::complete_group,
        crate::groups::routes::cancel_group,
        crate::groups::contracts::list_contracts,
        crate::groups::contracts::create_contract,
        crate::memberships::routes::admit,
        crate::memberships::routes::list_members,
        crate::memberships::routes::get_membership,
        crate::memberships::of_client::client_memberships,
        crate::memberships::routes::sign,
        crate::memberships::routes::discharge,
        crate::memberships::routes::withdraw,
        crate::exits::routes::exit_notice,
        crate::exits::rescind::rescind_exit,
        crate::sessions::routes::generate,
        crate::sessions::routes::list_sessions,
        crate::sessions::routes::cancel_session,
        crate::sessions::list::list_all_sessions,
        crate::sessions::get::get_session,
        crate::day::agenda::agenda,
        crate::day::dashboard::dashboard,
        crate::notes::index::list_notes,
        crate::sessions::reschedule::reschedule_session,
        crate::sessions::attendance::get_attendance,
        crate::sessions::attendance::put_attendance,
        crate::notes::group_notes::get_group_note,
        crate::notes::group_notes::put_group_note,
        crate::notes::group_notes::sign_group_note,
        crate::notes::group_notes::cosign_group_note,
        crate::notes::group_notes::add_group_addendum,
        crate::notes::group_notes::void_group_note,
        crate::notes::member_notes::get_member_note,
        crate::notes::member_notes::put_member_note,
        crate::notes::member_notes::sign_member_note,
        crate::notes::member_notes::cosign_member_note,
        crate::notes::member_notes::add_member_addendum,
        crate::notes::member_notes::void_member_note,
        crate::records::routes::client_record,
        crate::consents::list::list_consents,
        crate::consents::create::create_consent,
        crate::consents::revoke::revoke_consent,
        crate::disclosures::list::list_disclosures,
        crate::disclosures::create::create_disclosure,
        crate::disclosures::document::disclosure_document,
        crate::emergency_access::routes::grant_emergency_access,
        crate::emergency_access::routes::list_emergency_access,
        crate::emergency_access::routes::review_emergency_access,
        crate::reports::attendance::attendance_report,
        crate::reports::retention::retention_report,
        crate::audit::routes::list_events,
        crate::audit::routes::verify,
        crate::audit::routes::take_checkpoint,
        crate::audit::routes::verify_checkpoint,
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth, &ProblemResponses),
)]
pub struct ApiDoc;

/// The whole document, including the resources each module contributes.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Pretty JSON, as committed.
pub fn document_json() -> String {
    document()
        .to_pretty_json()
        .expect("OpenAPI document serialises")
        + "\n"
}
