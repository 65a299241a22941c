//! Issue 13: the operation × role matrix, generated from the served OpenAPI document. Every
//! operation is called as every role, and as a therapist outside the scope of the ids in its
//! path, and the outcome is compared with the policy table (`x-permission` of the operation,
//! `groupwork::auth::policy::allows`). An operation registered without a policy cannot exist
//! (the registry has no such form); one documented without `x-permission` fails here.

use chrono::{Duration, Utc};
use groupwork::auth::policy::{allows, Action};
use groupwork::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{Resp, TestApp, TestUser};

/// Ids of real rows, in the scope of the group's lead therapist.
struct Ids {
    group: Uuid,
    session: Uuid,
    client: Uuid,
    membership: Uuid,
    screening: Uuid,
    /// A staff member no caller is: password resets and approvals aimed at them revoke nobody's
    /// token in the middle of the matrix.
    bystander: Uuid,
}

impl Ids {
    /// The concrete path, and whether its ids lie in a therapist's scope (a group, session,
    /// client, membership or screening of theirs).
    fn fill(&self, template: &str) -> (String, bool) {
        let mut segments = Vec::new();
        let mut scoped = false;
        let mut previous = "";
        for segment in template.split('/') {
            let value = match (previous, segment) {
                ("groups", "{id}") => Some(self.group),
                ("sessions", "{id}") => Some(self.session),
                ("clients", "{id}") => Some(self.client),
                ("memberships", "{id}") => Some(self.membership),
                ("screenings", "{id}") => Some(self.screening),
                ("member-notes", "{membership_id}") => Some(self.membership),
                ("users" | "staff", "{id}") => Some(self.bystander),
                // Rows the matrix does not create (consents, disclosures, grants): unknown ids.
                (_, s) if s.starts_with('{') => Some(Uuid::new_v4()),
                _ => None,
            };
            if value.is_some()
                && matches!(
                    previous,
                    "groups" | "sessions" | "clients" | "memberships" | "screenings"
                )
            {
                scoped = true;
            }
            segments.push(value.map_or_else(|| segment.to_string(), |v| v.to_string()));
            previous = segment;
        }
        (segments.join("/"), scoped)
    }
}

/// Operations that refuse an allowed role for a reason of the domain, not of the table:
/// another clinician's draft (only its author edits, signs or voids it; a supervisor may void
/// any). The matrix calls them as several allowed roles in turn, so the second writer meets
/// the first one's draft.
const DOMAIN_403: &[(&str, &str, &str)] = &[
    (
        "PUT",
        "/sessions/{id}/group-note",
        "only the author edits a draft",
    ),
    (
        "PUT",
        "/sessions/{id}/member-notes/{membership_id}",
        "only the author edits a draft",
    ),
    (
        "POST",
        "/sessions/{id}/group-note/sign",
        "only the author signs",
    ),
    (
        "POST",
        "/sessions/{id}/member-notes/{membership_id}/sign",
        "only the author signs",
    ),
];

impl Ids {
    /// The same shape of ids, none of which exists.
    fn unknown(&self) -> Ids {
        Ids {
            group: Uuid::new_v4(),
            session: Uuid::new_v4(),
            client: Uuid::new_v4(),
            membership: Uuid::new_v4(),
            screening: Uuid::new_v4(),
            bystander: self.bystander,
        }
    }
}

async fn call(app: &TestApp, method: &str, path: &str, body: bool, who: Option<&TestUser>) -> Resp {
    let url = app.url(path);
    let mut req = match method {
        "get" => app.client.get(url),
        "post" => app.client.post(url),
        "put" => app.client.put(url),
        "patch" => app.client.patch(url),
        "delete" => app.client.delete(url),
        other => panic!("unexpected method {other}"),
    };
    if body {
        req = req.json(&json!({}));
    }
    if let Some(u) = who {
        req = req.bearer_auth(&u.token);
    }
    app.send(req).await
}

#[actix_web::test]
async fn every_operation_as_every_role_follows_the_policy_table() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let supervisor = app.staff(Role::Supervisor).await;
    let therapist = app.staff(Role::Therapist).await;
    let intake = app.staff(Role::Intake).await;
    let outsider = app.staff(Role::Therapist).await;
    let bystander = app.staff(Role::Therapist).await;

    let group = fixtures::group(&app, therapist.id)
        .status("active")
        .create();
    let contract = fixtures::contract(&app, group, 1, supervisor.id);
    let (membership, client) = fixtures::active_member(
        &app,
        group,
        contract,
        supervisor.id,
        Utc::now() - Duration::days(30),
    );
    let session = fixtures::session(&app, group, 1, Utc::now() - Duration::hours(2), "scheduled");
    let screening = fixtures::accepted_screening(&app, client, therapist.id, Some(group), 5);
    let ids = Ids {
        group,
        session,
        client,
        membership,
        screening,
        bystander: bystander.id,
    };

    let doc = app.get(None, "/openapi.json").await.expect(200).body;
    let callers = [
        ("admin", &admin),
        ("supervisor", &supervisor),
        ("therapist", &therapist),
        ("intake", &intake),
        ("therapist out of scope", &outsider),
    ];
    let mut cells = 0;
    let mut wrong = Vec::new();
    let paths = doc["paths"].as_object().expect("paths");
    for (template, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            let Some(permission) = op.get("x-permission") else {
                wrong.push(format!("{method} {template}: no x-permission"));
                continue;
            };
            let body = op.get("requestBody").is_some();
            let (path, scoped) = ids.fill(template);
            let m = method.to_uppercase();
            if permission["public"] == Value::Bool(true) {
                // No token needed: never forbidden (a 401 is a refused credential in the body,
                // e.g. a missing refresh token).
                let r = call(&app, method, &path, body, None).await;
                cells += 1;
                if r.status == 403 || r.status >= 500 {
                    wrong.push(format!("{m} {template} (public): {}", r.status));
                }
                continue;
            }
            let action = permission["action"]
                .as_str()
                .and_then(Action::parse)
                .unwrap_or_else(|| panic!("{m} {template}: unknown x-permission {permission}"));
            let roles: Vec<&str> = permission["roles"]
                .as_array()
                .expect("roles")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let anonymous = call(&app, method, &path, body, None).await;
            cells += 1;
            if anonymous.status != 401 || anonymous.body["code"] != "unauthorized" {
                wrong.push(format!(
                    "{m} {template} without a token: {}",
                    anonymous.status
                ));
            }
            for (label, who) in callers {
                assert_eq!(
                    roles.contains(&who.role.as_str()),
                    allows(who.role, action),
                    "{m} {template}: x-permission roles differ from the table"
                );
                let r = call(&app, method, &path, body, Some(who)).await;
                cells += 1;
                let allowed = allows(who.role, action);
                let ok = if !allowed {
                    r.status == 403 && r.body["code"] == "forbidden"
                } else if label == "therapist out of scope" && scoped {
                    // Outside the scope is indistinguishable from nonexistent: the answer for
                    // real ids is the answer for unknown ones, and never a success. Without a
                    // body that answer is 404; with one, an invalid body may be refused first.
                    let (unknown, _) = Ids::unknown(&ids).fill(template);
                    let u = call(&app, method, &unknown, body, Some(who)).await;
                    (r.status, &r.body["code"]) == (u.status, &u.body["code"])
                        && (r.status == 404 || (body && r.status == 422))
                } else if r.status == 403 {
                    DOMAIN_403
                        .iter()
                        .any(|(dm, dp, _)| *dm == m && *dp == template)
                } else {
                    r.status != 401 && r.status < 500
                };
                if !ok {
                    wrong.push(format!(
                        "{m} {template} as {label} ({}): {} {}",
                        action.as_str(),
                        r.status,
                        r.text.chars().take(160).collect::<String>()
                    ));
                }
            }
        }
    }
    println!("permission matrix: {cells} cells");
    assert!(cells > 400, "only {cells} cells: is the document complete?");
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
