//! Issue 13 / SPEC §3 (v2): the OpenAPI document types everything, and what is served
//! conforms to it. With `check_contract` on, every response is checked by `TestApp::send`
//! (see `contract.rs`); the tests here walk the document and exercise the reads and the
//! error answers of every operation.

use groupwork::auth::Role;
use groupwork::error::ErrorCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::contract::contract;
use crate::fixtures;
use crate::helpers::TestApp;

/// Schemas that are free-form on purpose, with the reason. Nothing else may be untyped.
const FREE_FORM: &[(&str, &str)] = &[
    (
        "#/components/schemas/AuditEvent/properties/details",
        "audit details differ per action (never content)",
    ),
    (
        "#/components/schemas/Page_AuditEvent/properties/items/items/properties/details",
        "audit details differ per action (never content)",
    ),
];

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => schema,
    }
}

/// Every schema node that says nothing (`{}`) or is an object without any property,
/// `additionalProperties` or composition.
fn untyped(schema: &Value, at: String, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            let composed = [
                "properties",
                "additionalProperties",
                "allOf",
                "oneOf",
                "anyOf",
            ]
            .iter()
            .any(|k| map.contains_key(*k));
            if map.is_empty()
                || (map.get("type") == Some(&json!("object")) && !composed)
                || (!map.contains_key("type")
                    && !map.contains_key("$ref")
                    && !composed
                    && !map.contains_key("enum")
                    && !map.contains_key("const"))
            {
                out.push(at.clone());
            }
            for (k, v) in map {
                // Property names are names, not schemas.
                if k == "properties" {
                    for (name, p) in v.as_object().unwrap() {
                        untyped(p, format!("{at}/properties/{name}"), out);
                    }
                } else if matches!(k.as_str(), "items" | "additionalProperties") && v.is_object() {
                    untyped(v, format!("{at}/{k}"), out);
                } else if matches!(k.as_str(), "allOf" | "oneOf" | "anyOf") {
                    for (i, s) in v.as_array().unwrap().iter().enumerate() {
                        untyped(s, format!("{at}/{k}/{i}"), out);
                    }
                }
            }
        }
        Value::Bool(true) => out.push(at),
        _ => {}
    }
}

#[test]
fn every_error_is_a_problem_and_every_body_is_typed() {
    let doc = contract().doc();
    let mut wrong = Vec::new();
    let problem = json!({"$ref": "#/components/schemas/Problem"});
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{} {path}", method.to_uppercase());
            if let Some(body) = op.get("requestBody") {
                let content = body["content"].as_object().unwrap();
                for (media, c) in content {
                    match c.get("schema") {
                        None => wrong.push(format!("{name}: request {media} has no schema")),
                        Some(s) if resolve(doc, s) == &json!({}) => {
                            wrong.push(format!("{name}: request {media} is untyped"))
                        }
                        _ => {}
                    }
                }
            }
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{name}: no responses");
            for (status, r) in responses {
                let content = r.get("content").and_then(Value::as_object);
                if status.starts_with('4') || status.starts_with('5') {
                    match content {
                        Some(c)
                            if c.len() == 1
                                && c.get("application/problem+json")
                                    .and_then(|c| c.get("schema"))
                                    == Some(&problem) => {}
                        _ => wrong.push(format!("{name} {status}: not the Problem schema: {r}")),
                    }
                } else if status == "204" {
                    if content.is_some() {
                        wrong.push(format!("{name} 204 has a body"));
                    }
                } else {
                    match content {
                        None => wrong.push(format!("{name} {status}: no body documented")),
                        Some(c) => {
                            for (media, c) in c {
                                if media.ends_with("json") && c.get("schema").is_none() {
                                    wrong.push(format!("{name} {status}: {media} has no schema"));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let mut loose = Vec::new();
    for (name, s) in doc["components"]["schemas"].as_object().unwrap() {
        untyped(s, format!("#/components/schemas/{name}"), &mut loose);
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, r) in op["responses"].as_object().unwrap() {
                for (media, c) in r
                    .get("content")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    if let Some(s) = c.get("schema") {
                        untyped(s, format!("{method} {path} {status} {media}"), &mut loose);
                    }
                }
            }
        }
    }
    wrong.extend(
        loose
            .into_iter()
            .filter(|at| !FREE_FORM.iter().any(|(f, _)| f == at))
            .map(|at| format!("untyped schema at {at}")),
    );
    assert!(
        wrong.is_empty(),
        "the document is not fully typed:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn problem_code_is_the_enum_of_every_error_code() {
    let doc = contract().doc();
    let code = &doc["components"]["schemas"]["Problem"]["properties"]["code"];
    let listed: Vec<&str> = code["enum"]
        .as_array()
        .expect("Problem.code is an enum")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let all: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, all);
    for spec in [
        "validation_failed",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "precondition_failed",
        "payload_too_large",
        "rate_limited",
        "service_unavailable",
        "group_full",
        "roster_mismatch",
        "note_signed",
        "contract_outdated",
    ] {
        assert!(listed.contains(&spec), "{spec} missing");
    }
    let required = doc["components"]["schemas"]["Problem"]["required"]
        .as_array()
        .unwrap();
    for f in ["type", "title", "status", "detail", "code"] {
        assert!(required.contains(&json!(f)), "Problem.{f} not required");
    }
}

#[test]
fn the_checker_refuses_what_the_document_does_not_say() {
    let c = contract();
    // An undocumented status.
    assert!(c
        .check("GET", "/api/v1/groups", 418, Some("application/json"), "{}")
        .is_err());
    // A body missing a required field.
    let err = c
        .check(
            "GET",
            &format!("/api/v1/groups/{}", Uuid::new_v4()),
            404,
            Some("application/problem+json"),
            r#"{"type":"x","title":"t","status":404,"detail":"d"}"#,
        )
        .unwrap_err();
    assert!(err.contains("code"), "{err}");
    // A code outside the enum.
    assert!(c
        .check(
            "GET",
            "/api/v1/groups",
            403,
            Some("application/problem+json"),
            r#"{"type":"x","title":"t","status":403,"detail":"d","code":"nope"}"#,
        )
        .is_err());
    // An array where a page is documented.
    assert!(c
        .check("GET", "/api/v1/groups", 200, Some("application/json"), "[]")
        .is_err());
    // The wrong content type for an error.
    assert!(c
        .check("GET", "/api/v1/groups", 403, Some("text/plain"), "no")
        .is_err());
    // Paths outside the API are not operations.
    assert!(c
        .check("GET", "/healthz", 200, Some("text/plain"), "ok")
        .is_ok());
}

/// Every list and item of the API read by every role, plus the common error answers of every
/// operation (no token, unknown id, malformed and invalid bodies, bad query values), all
/// checked against the document by `TestApp::send`.
#[actix_web::test]
async fn served_answers_of_every_operation_conform() {
    let mut app = TestApp::spawn().await;
    app.check_contract = true;
    let admin = app.staff(Role::Admin).await;
    let sup = app.staff(Role::Supervisor).await;
    let lead = app.staff(Role::Therapist).await;
    let intake = app.staff(Role::Intake).await;
    let group = fixtures::group(&app, lead.id).create();
    let contract_id = fixtures::contract(&app, group, 1, sup.id);
    let now = chrono::Utc::now();
    let (membership, client) = fixtures::active_member(
        &app,
        group,
        contract_id,
        sup.id,
        now - chrono::Duration::days(7),
    );
    let session = fixtures::session(&app, group, 1, now - chrono::Duration::hours(2), "held");
    fixtures::attendance(&app, session, membership, "present", lead.id);

    let reads = [
        "/me".to_string(),
        "/users".into(),
        format!("/users/{}", lead.id),
        "/clients".into(),
        format!("/clients/{client}"),
        format!("/clients/{client}/record"),
        "/screenings".into(),
        "/waitlist".into(),
        "/groups".into(),
        format!("/groups/{group}"),
        format!("/groups/{group}/contracts"),
        format!("/groups/{group}/members"),
        format!("/groups/{group}/sessions"),
        format!("/memberships/{membership}"),
        format!("/sessions/{session}/attendance"),
        format!("/sessions/{session}/group-note"),
        format!("/sessions/{session}/member-notes/{membership}"),
        "/reports/attendance".into(),
        "/reports/retention".into(),
        "/audit-events".into(),
        "/audit-events/verify".into(),
        "/staff/approvals".into(),
    ];
    for who in [&admin, &sup, &lead, &intake] {
        for path in &reads {
            let r = app.get(Some(who), path).await;
            assert!(r.status < 500, "{path} as {:?}: {}", who.role, r.text);
        }
    }
    // Without a token every operation but the public ones answers 401 problem+json.
    let ops = contract().operations();
    let some_id = Uuid::new_v4();
    for op in &ops {
        let (method, template) = op.split_once(' ').unwrap();
        let path = template
            .replace("{membership_id}", &membership.to_string())
            .replace("{id}", &some_id.to_string());
        let req = app
            .client
            .request(method.parse().unwrap(), app.url(&path))
            .json(&json!({}));
        let r = app.send(req).await;
        if matches!(
            template,
            "/auth/login" | "/auth/refresh" | "/auth/logout" | "/auth/password-reset"
        ) {
            assert!(r.status == 422 || r.status == 401, "{op}: {}", r.text);
        } else {
            r.expect_problem(401, "unauthorized");
        }
    }
    // Unknown ids: 404 for the admin (or 403 where the admin's role may not act).
    for op in ops.iter().filter(|o| o.contains("{id}")) {
        let (method, template) = op.split_once(' ').unwrap();
        let path = template
            .replace("{membership_id}", &Uuid::new_v4().to_string())
            .replace("{id}", &Uuid::new_v4().to_string());
        let mut req = app
            .client
            .request(method.parse().unwrap(), app.url(&path))
            .bearer_auth(&admin.token);
        if method != "GET" {
            req = req.json(&json!({}));
        }
        let r = app.send(req).await;
        assert!(
            matches!(r.status, 403 | 404 | 422),
            "{op}: {} {}",
            r.status,
            r.text
        );
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json")
        );
    }
    // Malformed bodies on every operation that takes one: 400 problem+json, for a caller
    // whose role may call it (any other hears 403 before its body is read).
    for op in &ops {
        let (method, template) = op.split_once(' ').unwrap();
        let (path_t, m) = (template, method.to_lowercase());
        let operation = &contract().doc()["paths"][path_t][&m];
        if operation.get("requestBody").is_none() {
            continue;
        }
        let caller = match operation["x-permission"]["roles"][0].as_str() {
            Some("supervisor") => &sup,
            Some("therapist") => &lead,
            Some("intake") => &intake,
            _ => &admin,
        };
        let path = template
            .replace("{membership_id}", &membership.to_string())
            .replace("{id}", &group.to_string());
        app.send(
            app.client
                .request(method.parse().unwrap(), app.url(&path))
                .bearer_auth(&caller.token)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await
        .expect_problem(400, "validation_failed");
    }
    let big = "x".repeat(300 * 1024);
    app.send(
        app.client
            .post(app.url("/clients"))
            .bearer_auth(&admin.token)
            .header("content-type", "application/json")
            .body(format!("{{\"first_name\":\"{big}\"}}")),
    )
    .await
    .expect_problem(413, "payload_too_large");
    // Bad query values answer 422 naming the parameter.
    for path in [
        "/groups?limit=0",
        "/clients?limit=abc",
        "/users?limit=500",
        "/screenings?limit=-1",
        "/audit-events?limit=0",
    ] {
        let r = app.get(Some(&admin), path).await;
        let r = r.expect_problem(422, "validation_failed");
        assert!(
            r.body["errors"][0]["field"].as_str().is_some(),
            "{path}: {}",
            r.text
        );
    }
}
