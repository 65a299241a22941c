//! The one route registry: every operation of `/api/v1` is listed here once, with the policy
//! its caller must satisfy. The same list registers the handlers with actix-web, builds the
//! OpenAPI document's paths (each operation carries its policy as `x-permission`) and the
//! table the gate (`crate::auth::gate`) enforces before a request's path, query or body is
//! read. An operation cannot be served without a policy: `op` has no other form.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::dev::HttpServiceFactory;
use actix_web::web;
use serde_json::json;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::{HttpMethod, Paths};
use utoipa::openapi::{RefOr, Schema};

use crate::auth::policy::{allows, Action, Policy, Role};
use crate::{
    audit, auth, clients, consents, day, disclosures, emergency_access, exits, groups, memberships,
    notes, records, reports, screenings, sessions, users,
};

/// The prefix every registered path is served under.
pub const API_PREFIX: &str = "/api/v1";

/// A handler as the registry needs it: an actix service whose `#[utoipa::path]` documents it
/// (utoipa's `actix_extras` implements these for the handler; `utoipa-actix-web` relies on
/// the same two hidden traits).
pub trait Operation:
    HttpServiceFactory
    + utoipa::Path
    + utoipa::__dev::SchemaReferences
    + for<'t> utoipa::__dev::Tags<'t>
{
}
impl<T> Operation for T where
    T: HttpServiceFactory
        + utoipa::Path
        + utoipa::__dev::SchemaReferences
        + for<'t> utoipa::__dev::Tags<'t>
{
}

/// What is done with each registered operation.
pub trait Registrar {
    fn op<H: Operation + 'static>(&mut self, handler: H, policy: Policy);
}

/// Every operation of the API and its policy.
pub fn operations(r: &mut impl Registrar) {
    use Action::*;
    use Policy::{Public, Requires};

    r.op(auth::routes::login, Public);
    r.op(auth::routes::refresh, Public);
    r.op(auth::routes::logout, Public);
    r.op(auth::reset::redeem_password_reset, Public);
    r.op(auth::routes::me, Requires(UseOwnAccount));
    r.op(auth::routes::change_password, Requires(UseOwnAccount));

    r.op(users::routes::list_users, Requires(ManageUsers));
    r.op(users::routes::create_user, Requires(ManageUsers));
    r.op(users::routes::get_user, Requires(ManageUsers));
    r.op(users::routes::update_user, Requires(ManageUsers));
    r.op(auth::reset::issue_password_reset, Requires(ManageUsers));
    r.op(users::directory::list_staff, Requires(ReadStaffDirectory));
    r.op(users::approvals::list_approvals, Requires(ApproveAccounts));
    r.op(users::approvals::approve, Requires(ApproveAccounts));

    r.op(clients::routes::list_clients, Requires(ReadClients));
    r.op(clients::routes::create_client, Requires(WriteClients));
    r.op(clients::routes::get_client, Requires(ReadClients));
    r.op(clients::routes::update_client, Requires(WriteClients));
    r.op(records::routes::client_record, Requires(ReadClientRecord));

    r.op(
        screenings::routes::schedule_screening,
        Requires(ScheduleScreening),
    );
    r.op(
        screenings::routes::list_screenings,
        Requires(ReadScreenings),
    );
    r.op(screenings::routes::get_screening, Requires(ReadScreenings));
    r.op(
        screenings::routes::complete_screening,
        Requires(CompleteScreening),
    );
    r.op(
        screenings::routes::cancel_screening,
        Requires(CancelScreening),
    );
    r.op(
        screenings::routes::no_show_screening,
        Requires(CancelScreening),
    );
    r.op(screenings::waitlist::waitlist, Requires(ReadWaitlist));

    r.op(groups::routes::list_groups, Requires(ReadGroups));
    r.op(groups::routes::create_group, Requires(WriteGroups));
    r.op(groups::routes::get_group, Requires(ReadGroups));
    r.op(groups::routes::update_group, Requires(WriteGroups));
    r.op(groups::routes::start_group, Requires(WriteGroups));
    r.op(groups::routes::complete_group, Requires(WriteGroups));
    r.op(groups::routes::cancel_group, Requires(WriteGroups));
    r.op(groups::contracts::list_contracts, Requires(ReadContracts));
    r.op(groups::contracts::create_contract, Requires(WriteContracts));

    r.op(memberships::routes::admit, Requires(AdmitMember));
    r.op(memberships::routes::list_members, Requires(ReadMembers));
    r.op(memberships::routes::get_membership, Requires(ReadMembers));
    r.op(
        memberships::of_client::client_memberships,
        Requires(ReadMembers),
    );
    r.op(memberships::routes::sign, Requires(RecordSignature));
    r.op(memberships::routes::discharge, Requires(ManageExit));
    r.op(memberships::routes::withdraw, Requires(ManageExit));
    r.op(exits::routes::exit_notice, Requires(ManageExit));
    r.op(exits::rescind::rescind_exit, Requires(ManageExit));

    r.op(sessions::routes::generate, Requires(ScheduleSessions));
    r.op(sessions::routes::list_sessions, Requires(ReadSessions));
    r.op(sessions::routes::cancel_session, Requires(CancelSession));
    r.op(sessions::list::list_all_sessions, Requires(ReadSessions));
    r.op(sessions::get::get_session, Requires(ReadSessions));
    r.op(
        sessions::reschedule::reschedule_session,
        Requires(CancelSession),
    );
    r.op(
        sessions::attendance::get_attendance,
        Requires(RecordAttendance),
    );
    r.op(
        sessions::attendance::put_attendance,
        Requires(RecordAttendance),
    );

    r.op(day::agenda::agenda, Requires(ReadOwnDay));
    r.op(day::dashboard::dashboard, Requires(ReadOwnDay));

    r.op(notes::index::list_notes, Requires(ReadNotes));
    r.op(notes::group_notes::get_group_note, Requires(ReadNotes));
    r.op(notes::group_notes::put_group_note, Requires(WriteNotes));
    r.op(notes::group_notes::sign_group_note, Requires(WriteNotes));
    r.op(notes::group_notes::cosign_group_note, Requires(CosignNote));
    r.op(notes::group_notes::add_group_addendum, Requires(WriteNotes));
    r.op(notes::group_notes::void_group_note, Requires(WriteNotes));
    r.op(notes::member_notes::get_member_note, Requires(ReadNotes));
    r.op(notes::member_notes::put_member_note, Requires(WriteNotes));
    r.op(notes::member_notes::sign_member_note, Requires(WriteNotes));
    r.op(
        notes::member_notes::cosign_member_note,
        Requires(CosignNote),
    );
    r.op(
        notes::member_notes::add_member_addendum,
        Requires(WriteNotes),
    );
    r.op(notes::member_notes::void_member_note, Requires(WriteNotes));

    r.op(consents::list::list_consents, Requires(ReadConsents));
    r.op(consents::create::create_consent, Requires(WriteConsents));
    r.op(consents::revoke::revoke_consent, Requires(WriteConsents));
    r.op(
        disclosures::list::list_disclosures,
        Requires(ReadDisclosures),
    );
    r.op(disclosures::create::create_disclosure, Requires(Disclose));
    r.op(
        disclosures::document::disclosure_document,
        Requires(ReadDisclosures),
    );
    r.op(
        emergency_access::routes::grant_emergency_access,
        Requires(GrantEmergencyAccess),
    );
    r.op(
        emergency_access::routes::list_emergency_access,
        Requires(ReviewEmergencyAccess),
    );
    r.op(
        emergency_access::routes::review_emergency_access,
        Requires(ReviewEmergencyAccess),
    );

    r.op(
        reports::attendance::attendance_report,
        Requires(ExportReports),
    );
    r.op(
        reports::retention::retention_report,
        Requires(ExportReports),
    );

    r.op(audit::routes::list_events, Requires(ReadAudit));
    r.op(audit::routes::verify, Requires(ReadAudit));
    r.op(audit::routes::take_checkpoint, Requires(ReadAudit));
    r.op(audit::routes::verify_checkpoint, Requires(ReadAudit));
}

/// Registers every operation with actix-web.
pub fn configure(cfg: &mut web::ServiceConfig) {
    struct Actix<'a>(&'a mut web::ServiceConfig);
    impl Registrar for Actix<'_> {
        fn op<H: Operation + 'static>(&mut self, handler: H, _: Policy) {
            self.0.service(handler);
        }
    }
    operations(&mut Actix(cfg));
}

/// The documented paths (relative to the `/api/v1` server) and the schemas they name.
pub fn document() -> (Paths, Vec<(String, RefOr<Schema>)>) {
    #[derive(Default)]
    struct Document {
        paths: Paths,
        schemas: Vec<(String, RefOr<Schema>)>,
    }
    impl Registrar for Document {
        fn op<H: Operation + 'static>(&mut self, _: H, policy: Policy) {
            let mut operation = H::operation();
            let tags = operation.tags.get_or_insert_with(Vec::new);
            for tag in <H as utoipa::__dev::Tags>::tags() {
                if !tags.iter().any(|t| t == tag) {
                    tags.push(tag.to_string());
                }
            }
            let permission = match policy {
                Policy::Public => json!({"public": true}),
                Policy::Requires(action) => json!({
                    "action": action.as_str(),
                    "roles": Role::ALL
                        .iter()
                        .filter(|r| allows(**r, action))
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>(),
                }),
            };
            operation.extensions = Some(Extensions::from_iter([("x-permission", permission)]));
            self.paths
                .add_path_operation(H::path(), H::methods(), operation);
            H::schemas(&mut self.schemas);
        }
    }
    let mut doc = Document::default();
    operations(&mut doc);
    (doc.paths, doc.schemas)
}

fn method_name(method: &HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Head => "HEAD",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Trace => "TRACE",
    }
}

/// (method, full route pattern) → policy, as the gate looks it up.
type PolicyTable = HashMap<(&'static str, String), Policy>;

static POLICIES: LazyLock<PolicyTable> = LazyLock::new(|| {
    #[derive(Default)]
    struct Table(PolicyTable);
    impl Registrar for Table {
        fn op<H: Operation + 'static>(&mut self, _: H, policy: Policy) {
            for method in H::methods() {
                let key = (method_name(&method), format!("{API_PREFIX}{}", H::path()));
                let previous = self.0.insert(key.clone(), policy);
                assert!(previous.is_none(), "{key:?} is registered twice");
            }
        }
    }
    let mut table = Table::default();
    operations(&mut table);
    table.0
});

/// The policy of the operation served at this method and route pattern (as
/// `HttpRequest::match_pattern` gives it); `None` for anything the registry does not list.
pub fn policy_of(method: &str, pattern: &str) -> Option<Policy> {
    POLICIES.get(&(method, pattern.to_string())).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_one_policy() {
        let (paths, _) = document();
        let documented: usize = paths
            .paths
            .values()
            .map(|item| {
                [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                    .into_iter()
                    .flatten()
                    .count()
            })
            .sum();
        assert_eq!(documented, POLICIES.len());
        assert_eq!(
            policy_of("GET", "/api/v1/sessions/{id}/group-note"),
            Some(Policy::Requires(Action::ReadNotes))
        );
        assert_eq!(
            policy_of("POST", "/api/v1/auth/login"),
            Some(Policy::Public)
        );
        assert_eq!(policy_of("DELETE", "/api/v1/auth/login"), None);
    }
}
