//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes as the
//! route registry (`crate::routes`) lists them.
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
    components(schemas(Problem, FieldError)),
)]
pub struct ApiDoc;

/// The whole document: the operations of the route registry (`crate::routes`), each with its
/// policy, and what every operation shares (bearer authentication, problem responses).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let (paths, schemas) = crate::routes::document();
    doc.paths = paths;
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
    for modifier in [&BearerAuth as &dyn Modify, &ProblemResponses] {
        modifier.modify(&mut doc);
    }
    doc
}

/// Pretty JSON, as committed.
pub fn document_json() -> String {
    document()
        .to_pretty_json()
        .expect("OpenAPI document serialises")
        + "\n"
}
