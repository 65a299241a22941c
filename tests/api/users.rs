//! Issue 3: staff accounts — admin only, validation, case-insensitive emails, ETags.

use groupwork::auth::Role;
use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn admin_creates_lists_reads_and_updates_users() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let body = json!({"email": "New.Therapist@Clinic.test", "display_name": "New Therapist", "role": "therapist", "password": "marble-otter-cascade-771"});
    let r = app
        .post(Some(&admin), "/users", body.clone())
        .await
        .expect(201);
    let u = r.body.clone();
    assert_eq!(u["role"], "therapist");
    assert_eq!(u["active"], true);
    assert!(u.get("password_hash").is_none() && u.get("password").is_none());
    let keys: Vec<&String> = u.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        6,
        "{{id, email, display_name, role, active, created_at}}: {keys:?}"
    );
    let mut dup = body.clone();
    dup["email"] = json!("new.therapist@clinic.TEST");
    app.post(Some(&admin), "/users", dup)
        .await
        .expect_problem(409, "email_taken");
    let id = u["id"].as_str().unwrap();
    let r = app
        .get(Some(&admin), &format!("/users/{id}"))
        .await
        .expect(200);
    let tag = r.header("etag").unwrap();
    let r = app
        .patch(
            Some(&admin),
            &format!("/users/{id}"),
            json!({"role": "supervisor"}),
            Some(&tag),
        )
        .await
        .expect(200);
    assert_eq!(r.body["role"], "supervisor");
    app.patch(
        Some(&admin),
        &format!("/users/{id}"),
        json!({"role": "intake"}),
        Some(&tag),
    )
    .await
    .expect_problem(412, "precondition_failed");
    let r = app.get(Some(&admin), "/users?limit=1").await.expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let next = r.body["next_cursor"].as_str().unwrap().to_string();
    let r = app
        .get(Some(&admin), &format!("/users?limit=1&cursor={next}"))
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert!(r.body["next_cursor"].is_null());
    assert_eq!(app.audit_actions("user.create").len(), 1);
    assert_eq!(app.audit_actions("user.update").len(), 1);
}

#[actix_web::test]
async fn password_and_field_rules() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let base = |password: &str| json!({"email": "x@clinic.test", "display_name": "X", "role": "intake", "password": password});
    for weak in ["short", "password1234", "qwertyuiopasdf", "x@clinic.test"] {
        let r = app
            .post(Some(&admin), "/users", base(weak))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "password", "{weak}");
    }
    app.post(Some(&admin), "/users", base(&"long passphrase ".repeat(9)))
        .await
        .expect_problem(422, "validation_failed");
    let mut bad = base("marble-otter-cascade-771");
    bad["role"] = json!("root");
    app.post(Some(&admin), "/users", bad)
        .await
        .expect_problem(422, "validation_failed");
    let mut bad = base("marble-otter-cascade-771");
    bad["email"] = json!("not an email");
    app.post(Some(&admin), "/users", bad)
        .await
        .expect_problem(422, "validation_failed");
    // no composition rules: a long lower-case passphrase is fine
    app.post(
        Some(&admin),
        "/users",
        base("quiet river under old bridges"),
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn the_last_admin_cannot_be_removed() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    app.patch(
        Some(&admin),
        &format!("/users/{}", admin.id),
        json!({"active": false}),
        None,
    )
    .await
    .expect_problem(409, "conflict");
    app.patch(
        Some(&admin),
        &format!("/users/{}", admin.id),
        json!({"role": "therapist"}),
        None,
    )
    .await
    .expect_problem(409, "conflict");
    let second = app.staff(Role::Admin).await;
    app.patch(
        Some(&admin),
        &format!("/users/{}", second.id),
        json!({"active": false}),
        None,
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn role_matrix_for_users_and_audit() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let target = app.staff(Role::Intake).await;
    let endpoints: Vec<(&str, String)> = vec![
        ("GET", "/users".into()),
        ("POST", "/users".into()),
        ("GET", format!("/users/{}", target.id)),
        ("PATCH", format!("/users/{}", target.id)),
        ("GET", "/audit-events".into()),
        ("GET", "/audit-events?format=csv".into()),
        ("GET", "/audit-events/verify".into()),
    ];
    let body = json!({"email": "m@clinic.test", "display_name": "M", "role": "intake", "password": "marble-otter-cascade-771"});
    for role in [Role::Supervisor, Role::Therapist, Role::Intake] {
        let u = app.staff(role).await;
        for (method, path) in &endpoints {
            let r = match *method {
                "GET" => app.get(Some(&u), path).await,
                "POST" => app.post(Some(&u), path, body.clone()).await,
                _ => {
                    app.patch(Some(&u), path, json!({"display_name": "Y"}), None)
                        .await
                }
            };
            assert_eq!(r.status, 403, "{role:?} {method} {path}: {}", r.text);
        }
    }
    for (method, path) in &endpoints {
        let r = match *method {
            "GET" => app.get(None, path).await,
            "POST" => app.post(None, path, body.clone()).await,
            _ => app.patch(None, path, json!({}), None).await,
        };
        assert_eq!(r.status, 401, "anonymous {method} {path}");
    }
    for (method, path) in &endpoints {
        let r = match *method {
            "GET" => app.get(Some(&admin), path).await,
            "POST" => app.post(Some(&admin), path, body.clone()).await,
            _ => {
                app.patch(Some(&admin), path, json!({"display_name": "Y"}), None)
                    .await
            }
        };
        assert!(
            r.status == 200 || r.status == 201,
            "admin {method} {path}: {}",
            r.text
        );
    }
    let denied = app.audit_actions("access.forbidden");
    assert_eq!(denied.len(), 3 * endpoints.len(), "every 403 is audited");
    assert!(denied.iter().all(|d| d.1 == "denied"));
}
