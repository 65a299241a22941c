//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes.
//! Committed at `openapi/openapi.json`; regenerate with `cargo run -q -- openapi > openapi/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
        crate::users::routes::list_users,
        crate::users::routes::create_user,
        crate::users::routes::get_user,
        crate::users::routes::update_user,
        crate::users::directory::list_staff,
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
        crate::sessions::routes::generate,
        crate::sessions::routes::list_sessions,
        crate::sessions::routes::cancel_session,
        crate::sessions::list::list_all_sessions,
        crate::sessions::get::get_session,
        crate::sessions::attendance::get_attendance,
        crate::sessions::attendance::put_attendance,
        crate::notes::group_notes::get_group_note,
        crate::notes::group_notes::put_group_note,
        crate::notes::group_notes::sign_group_note,
        crate::notes::group_notes::cosign_group_note,
        crate::notes::group_notes::add_group_addendum,
        crate::notes::member_notes::get_member_note,
        crate::notes::member_notes::put_member_note,
        crate::notes::member_notes::sign_member_note,
        crate::notes::member_notes::cosign_member_note,
        crate::notes::member_notes::add_member_addendum,
        crate::records::routes::client_record,
        crate::consents::list::list_consents,
        crate::consents::create::create_consent,
        crate::consents::revoke::revoke_consent,
        crate::reports::attendance::attendance_report,
        crate::reports::retention::retention_report,
        crate::audit::routes::list_events,
        crate::audit::routes::verify,
        crate::audit::routes::take_checkpoint,
        crate::audit::routes::verify_checkpoint,
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
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
