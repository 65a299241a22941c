//! Issue 3: staff accounts — admin only, validation, case-insensitive emails, ETags.

use diesel::prelude::*;
use futures::future::join_all;
use groupwork::auth::Role;
use serde_json::json;
use uuid::Uuid;

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
    // A clinical account made by an admin waits for a supervisor (SPEC §1).
    assert_eq!(u["approval"], "pending");
    assert!(u.get("password_hash").is_none() && u.get("password").is_none());
    let keys: Vec<&String> = u.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        7,
        "{{id, email, display_name, role, active, approval, created_at}}: {keys:?}"
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
    let created = app.audit_actions("user.create");
    assert_eq!(created.len(), 1);
    assert_eq!(
        (created[0].0, created[0].2),
        (Some(admin.id), Some(id.parse().unwrap()))
    );
    assert_eq!(created[0].3["role"], "therapist");
    assert!(
        !created[0].3.to_string().contains("marble"),
        "never the password"
    );
    let updates = app.audit_actions("user.update");
    assert_eq!(updates.len(), 1, "the 412 wrote nothing");
    assert_eq!(updates[0].3["changed"], json!(["role"]));

    let missing = Uuid::new_v4();
    app.get(Some(&admin), &format!("/users/{missing}"))
        .await
        .expect_problem(404, "not_found");
    app.patch(
        Some(&admin),
        &format!("/users/{missing}"),
        json!({"display_name": "Z"}),
        None,
    )
    .await
    .expect_problem(404, "not_found");
    app.get(Some(&admin), "/users/not-a-uuid")
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn emails_are_unique_whatever_their_case() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let other = app.staff(Role::Intake).await;
    let r = app
        .patch(
            Some(&admin),
            &format!("/users/{}", other.id),
            json!({"email": admin.email.to_uppercase()}),
            None,
        )
        .await
        .expect_problem(409, "email_taken");
    assert!(r.body["detail"].is_string());
    // Changing one's own email's case is no conflict.
    let r = app
        .patch(
            Some(&admin),
            &format!("/users/{}", other.id),
            json!({"email": other.email.to_uppercase()}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(r.body["email"], other.email.to_uppercase());
    // The same address from several admins at once: one account, the rest 409 email_taken.
    let bodies: Vec<_> = ["Dup.Address@Clinic.test", "dup.address@clinic.test", "DUP.ADDRESS@CLINIC.TEST", "dup.Address@clinic.Test"]
        .iter()
        .map(|e| json!({"email": e, "display_name": "Dup", "role": "intake", "password": "marble-otter-cascade-771"}))
        .collect();
    let answers = join_all(
        bodies
            .into_iter()
            .map(|b| app.post(Some(&admin), "/users", b)),
    )
    .await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1);
    for r in answers.into_iter().filter(|r| r.status != 201) {
        r.expect_problem(409, "email_taken");
    }
}

#[actix_web::test]
async fn password_and_field_rules() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let base = |password: &str| json!({"email": "x@clinic.test", "display_name": "Jordan Lee, LCSW", "role": "intake", "password": password});
    for weak in [
        "short",
        "password1234",
        "qwertyuiopasdf",
        "x@clinic.test",
        "Jordan Lee, LCSW",
    ] {
        let r = app
            .post(Some(&admin), "/users", base(weak))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "password", "{weak}");
    }
    app.post(Some(&admin), "/users", base(&"long passphrase ".repeat(9)))
        .await
        .expect_invalid("password");
    let mut bad = base("marble-otter-cascade-771");
    bad["role"] = json!("root");
    app.post(Some(&admin), "/users", bad)
        .await
        .expect_invalid("role");
    let mut bad = base("marble-otter-cascade-771");
    bad["email"] = json!("not an email");
    app.post(Some(&admin), "/users", bad)
        .await
        .expect_invalid("email");
    // Several faults at once are reported together.
    let r = app
        .post(
            Some(&admin),
            "/users",
            json!({"email": "nope", "display_name": "N".repeat(300), "role": "intake", "password": "short"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let mut fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["display_name", "email", "password"]);
    let users: i64 = groupwork::schema::users::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(users, 1, "nothing was created but the admin");
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
    // Nobody changes their own role (SPEC §1), the last admin least of all.
    app.patch(
        Some(&admin),
        &format!("/users/{}", admin.id),
        json!({"role": "therapist"}),
        None,
    )
    .await
    .expect_problem(403, "forbidden");
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
async fn two_admins_removing_each_other_at_once_leave_one() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        {
            use groupwork::schema::users;
            diesel::update(users::table.filter(users::role.eq("admin")))
                .set(users::active.eq(false))
                .execute(&mut app.conn())
                .unwrap();
        }
        let (a, b) = (app.staff(Role::Admin).await, app.staff(Role::Admin).await);
        let (ra, rb) = futures::future::join(
            app.patch(
                Some(&a),
                &format!("/users/{}", b.id),
                json!({"active": false}),
                None,
            ),
            app.patch(
                Some(&b),
                &format!("/users/{}", a.id),
                json!({"role": "intake"}),
                None,
            ),
        )
        .await;
        let statuses = [ra.status, rb.status];
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
        // The loser was refused as the last admin (409), or had just lost its own powers
        // (401 deactivated, 403 demoted) by the time its request was read.
        assert!(
            statuses.iter().all(|s| [200, 401, 403, 409].contains(s)),
            "{statuses:?}"
        );
        let admins: i64 = {
            use groupwork::schema::users;
            users::table
                .filter(users::role.eq("admin"))
                .filter(users::active.eq(true))
                .count()
                .get_result(&mut app.conn())
                .unwrap()
        };
        assert_eq!(admins, 1);
    }
}

#[actix_web::test]
async fn role_matrix_for_users_and_audit() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let target = app.staff(Role::Intake).await;
    let missing = Uuid::new_v4();
    let endpoints: Vec<(&str, String)> = vec![
        ("GET", "/users".into()),
        ("POST", "/users".into()),
        ("GET", format!("/users/{}", target.id)),
        ("PATCH", format!("/users/{}", target.id)),
        // no role but admin learns whether an account exists
        ("GET", format!("/users/{missing}")),
        ("PATCH", format!("/users/{missing}")),
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
        let expected = if path.contains(&missing.to_string()) {
            404
        } else if *method == "POST" {
            201
        } else {
            200
        };
        assert_eq!(r.status, expected, "admin {method} {path}: {}", r.text);
    }
    let denied = app.audit_actions("access.forbidden");
    assert_eq!(denied.len(), 3 * endpoints.len(), "every 403 is audited");
    assert!(denied.iter().all(|d| d.1 == "denied"));
}
