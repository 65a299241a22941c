//! Issue 2: uniform errors, health, request ids, OpenAPI.

use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let r = app.get(None, "/healthz").await.expect(200);
    assert_eq!(r.body["status"], "ok");
    let r = app.get(None, "/readyz").await.expect(200);
    assert_eq!(r.body["status"], "ready");
}

#[actix_web::test]
async fn readyz_is_503_when_the_database_is_unreachable() {
    let app = TestApp::spawn_with(|s| {
        // A port nothing listens on.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        s.database_url = format!("postgres://postgres@127.0.0.1:{port}/none");
    })
    .await;
    let r = app
        .get(None, "/readyz")
        .await
        .expect_problem(503, "service_unavailable");
    assert!(
        r.header("retry-after").is_some(),
        "a 503 says when to retry"
    );
    app.get(None, "/healthz").await.expect(200);
}

#[actix_web::test]
async fn malformed_json_is_400_problem() {
    let app = TestApp::spawn().await;
    let r = app
        .send(
            app.client
                .post(app.url("/auth/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("{bad"),
        )
        .await;
    r.expect_problem(400, "validation_failed");
}

#[actix_web::test]
async fn wrong_field_type_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let r = app
        .post(None, "/auth/login", json!({"email": 5, "password": "x"}))
        .await;
    let r = r.expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "email");
}

#[actix_web::test]
async fn nul_characters_are_422_not_500() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            None,
            "/auth/login",
            json!({"email": "a\u{0}b@x.org", "password": "x"}),
        )
        .await;
    r.expect_invalid("email");
}

#[actix_web::test]
async fn oversized_body_is_413() {
    let app = TestApp::spawn().await;
    let big = format!(
        "{{\"email\":\"{}\",\"password\":\"x\"}}",
        "a".repeat(300 * 1024)
    );
    let r = app
        .send(
            app.client
                .post(app.url("/auth/login"))
                .header("content-type", "application/json")
                .body(big),
        )
        .await;
    r.expect_problem(413, "payload_too_large");
}

#[actix_web::test]
async fn unknown_route_is_404_problem_and_bad_uuid_is_404() {
    let app = TestApp::spawn().await;
    app.get(None, "/no/such/thing")
        .await
        .expect_problem(404, "not_found");
    app.get(None, "/api/v2/anything")
        .await
        .expect_problem(404, "not_found");
    let admin = app.staff(groupwork::auth::Role::Admin).await;
    app.get(Some(&admin), "/users/not-a-uuid")
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn request_id_is_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let r = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("x-request-id", "abc-123"),
        )
        .await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("abc-123"));
    let r = app.get(None, "/healthz").await;
    let generated = r.header("x-request-id").expect("generated id");
    assert_eq!(generated.len(), 36);
    // An unreasonable id is replaced, not echoed.
    let r = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("x-request-id", "a b\"c"),
        )
        .await;
    assert_ne!(r.header("x-request-id").as_deref(), Some("a b\"c"));
}

#[actix_web::test]
async fn openapi_is_served_and_committed_copy_is_current() {
    let app = TestApp::spawn().await;
    let r = app.get(None, "/api/v1/openapi.json").await.expect(200);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(r.body["paths"]["/auth/login"].is_object());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap_or_default();
    assert!(
        committed == groupwork::openapi::document_json(),
        "openapi/openapi.json is stale: regenerate it with `cargo run -q -- openapi > openapi/openapi.json`"
    );
}

#[actix_web::test]
async fn missing_token_is_401_problem() {
    let app = TestApp::spawn().await;
    app.get(None, "/me")
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn extreme_dates_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.staff(groupwork::auth::Role::Admin).await;
    let sup = app.staff(groupwork::auth::Role::Supervisor).await;
    let ther = app.staff(groupwork::auth::Role::Therapist).await;
    let g = crate::fixtures::group(&app, ther.id).create();
    for (user, path, field) in [
        (
            &admin,
            "/audit-events?from=-200000-01-01T00:00:00Z".to_string(),
            "from",
        ),
        (
            &admin,
            "/audit-events?to=%2B200000-01-01T00:00:00Z".to_string(),
            "to",
        ),
        (
            &sup,
            format!("/groups/{g}/sessions?from=-200000-01-01"),
            "from",
        ),
        (&sup, format!("/groups/{g}/sessions?to=200000-01-01"), "to"),
        (
            &sup,
            "/reports/attendance?from=-200000-01-01".to_string(),
            "from",
        ),
        (&sup, "/reports/retention?to=200000-12-31".to_string(), "to"),
    ] {
        app.get(Some(user), &path).await.expect_invalid(field);
    }
    app.post(
        Some(&sup),
        &format!("/groups/{g}/sessions/generate"),
        json!({"through": "-200000-01-01"}),
    )
    .await
    .expect_invalid("through");
}

#[actix_web::test]
async fn cors_allows_only_the_configured_front_end() {
    let app =
        TestApp::spawn_with(|s| s.cors_origins = vec!["https://app.clinic.test".into()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
    };
    let r = app.send(preflight("https://app.clinic.test")).await;
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://app.clinic.test")
    );
    let r = app.send(preflight("https://evil.test")).await;
    assert!(r.header("access-control-allow-origin").is_none(), "{r:?}");
}
