//! Issue 14 point 3 (SPEC §1 "Separation of duties"): an administrator cannot reach note
//! content through accounts. Nobody changes their own role; no administrator sets a password
//! (one-time reset tokens instead); clinical accounts an administrator creates or promotes wait
//! for another supervisor's approval; `create-user` (console access) is the bootstrap.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use groupwork::auth::Role;
use groupwork::schema::{password_reset_tokens as prt, users};
use serde_json::json;
use uuid::Uuid;

use crate::auth::{login, pair, with_token};
use crate::fixtures;
use crate::helpers::{TestApp, TestUser, PASSWORD};

const KNOWN_TO_ADMIN: &str = "marble-otter-cascade-771";
const CHOSEN: &str = "saffron-glacier-meadow-913";

fn signed_in(u: &TestUser, r: &crate::helpers::Resp) -> TestUser {
    with_token(u, &pair(r).0)
}

#[actix_web::test]
async fn an_admin_made_supervisor_waits_for_another_supervisors_approval() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let supervisor = app.staff(Role::Supervisor).await;
    // The attack: a supervisor account with a password the admin chose...
    let r = app
        .post(
            Some(&admin),
            "/users",
            json!({"email": "shadow@clinic.test", "display_name": "Shadow Supervisor",
                   "role": "supervisor", "password": KNOWN_TO_ADMIN}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["approval"], "pending");
    let id: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    // ...cannot sign in: the same answer as a wrong password.
    let pending = login(&app, "shadow@clinic.test", KNOWN_TO_ADMIN)
        .await
        .expect_problem(401, "unauthorized");
    let wrong = login(&app, "shadow@clinic.test", "not-the-password-at-all")
        .await
        .expect_problem(401, "unauthorized");
    assert_eq!(pending.body, wrong.body);
    // Only supervisors see the queue and approve; the admin cannot approve their creature.
    app.get(Some(&admin), "/staff/approvals")
        .await
        .expect_problem(403, "forbidden");
    app.post(Some(&admin), &format!("/staff/{id}/approve"), json!({}))
        .await
        .expect_problem(403, "forbidden");
    for role in [Role::Therapist, Role::Intake] {
        let u = app.staff(role).await;
        app.post(Some(&u), &format!("/staff/{id}/approve"), json!({}))
            .await
            .expect_problem(403, "forbidden");
    }
    let queue = app
        .get(Some(&supervisor), "/staff/approvals")
        .await
        .expect(200);
    let items = queue.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", queue.text);
    assert_eq!(items[0]["id"], id.to_string());
    assert_eq!(items[0]["role"], "supervisor");
    assert_eq!(items[0]["approval"], "pending");
    assert_eq!(items[0]["requested_by"], admin.id.to_string());
    assert!(queue.body["next_cursor"].is_null());
    // Another supervisor approves; then the account signs in, once.
    let r = app
        .post(
            Some(&supervisor),
            &format!("/staff/{id}/approve"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["approval"], "approved");
    assert!(r.header("etag").is_some());
    app.post(
        Some(&supervisor),
        &format!("/staff/{id}/approve"),
        json!({}),
    )
    .await
    .expect_problem(409, "conflict");
    app.post(
        Some(&supervisor),
        &format!("/staff/{}/approve", Uuid::new_v4()),
        json!({}),
    )
    .await
    .expect_problem(404, "not_found");
    let r = login(&app, "shadow@clinic.test", KNOWN_TO_ADMIN)
        .await
        .expect(200);
    assert_eq!(r.body["user"]["approval"], "approved");
    // Nobody approves themselves.
    let shadow = TestUser {
        id,
        email: "shadow@clinic.test".into(),
        role: Role::Supervisor,
        token: pair(&r).0,
    };
    app.post(Some(&shadow), &format!("/staff/{id}/approve"), json!({}))
        .await
        .expect_problem(403, "forbidden");
    app.post(
        Some(&supervisor),
        &format!("/staff/{}/approve", supervisor.id),
        json!({}),
    )
    .await
    .expect_problem(403, "forbidden");
    assert!(app
        .get(Some(&supervisor), "/staff/approvals")
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .is_empty());
    // Audited: the creation as pending, the approval by whom.
    let created = app.audit_actions("user.create");
    assert_eq!(created[0].3["approval"], "pending");
    let approvals = app.audit_actions("user.approve");
    assert_eq!(approvals.len(), 1);
    assert_eq!(
        (approvals[0].0, approvals[0].2),
        (Some(supervisor.id), Some(id))
    );
    // Non-clinical accounts need no approval.
    let r = app
        .post(
            Some(&admin),
            "/users",
            json!({"email": "desk@clinic.test", "display_name": "Front Desk",
                   "role": "intake", "password": KNOWN_TO_ADMIN}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["approval"], "approved");
    login(&app, "desk@clinic.test", KNOWN_TO_ADMIN)
        .await
        .expect(200);
}

#[actix_web::test]
async fn a_promotion_to_a_clinical_role_waits_and_ends_the_accounts_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let supervisor = app.staff(Role::Supervisor).await;
    let intake = app.staff(Role::Intake).await;
    let me = signed_in(
        &intake,
        &login(&app, &intake.email, PASSWORD).await.expect(200),
    );
    let r = app
        .patch(
            Some(&admin),
            &format!("/users/{}", intake.id),
            json!({"role": "supervisor"}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        (r.body["role"].as_str(), r.body["approval"].as_str()),
        (Some("supervisor"), Some("pending"))
    );
    // Neither the old token nor a new login acts as a supervisor before the approval.
    app.get(Some(&me), "/me")
        .await
        .expect_problem(401, "unauthorized");
    login(&app, &intake.email, PASSWORD)
        .await
        .expect_problem(401, "unauthorized");
    app.post(
        Some(&supervisor),
        &format!("/staff/{}/approve", intake.id),
        json!({}),
    )
    .await
    .expect(200);
    let r = login(&app, &intake.email, PASSWORD).await.expect(200);
    assert_eq!(r.body["user"]["role"], "supervisor");
    // Moving a clinician to another clinical role waits again; to a non-clinical one, not.
    let therapist = app.staff(Role::Therapist).await;
    let r = app
        .patch(
            Some(&admin),
            &format!("/users/{}", therapist.id),
            json!({"role": "supervisor"}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(r.body["approval"], "pending");
    let r = app
        .patch(
            Some(&admin),
            &format!("/users/{}", therapist.id),
            json!({"role": "intake"}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(r.body["approval"], "approved");
    // Saving the same role again (as a form does) changes nothing.
    let r = app
        .patch(
            Some(&admin),
            &format!("/users/{}", supervisor.id),
            json!({"role": "supervisor", "display_name": "Dr. Sam Rivera"}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(r.body["approval"], "approved");
    app.get(Some(&supervisor), "/me").await.expect(200);
    let updates = app.audit_actions("user.update");
    assert_eq!(updates[0].3["approval"], "pending");
}

#[actix_web::test]
async fn nobody_changes_their_own_role() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let _other_admin = app.staff(Role::Admin).await;
    let client = fixtures::client(&app, "Dana", "Whitfield");
    app.get(Some(&admin), &format!("/clients/{client}/record"))
        .await
        .expect_problem(403, "forbidden");
    // The attack: an admin demotes themselves to supervisor; the same token would read notes.
    for role in ["supervisor", "therapist", "intake"] {
        app.patch(
            Some(&admin),
            &format!("/users/{}", admin.id),
            json!({"role": role}),
            None,
        )
        .await
        .expect_problem(403, "forbidden");
    }
    app.get(Some(&admin), &format!("/clients/{client}/record"))
        .await
        .expect_problem(403, "forbidden");
    let me = app.get(Some(&admin), "/me").await.expect(200);
    assert_eq!(me.body["role"], "admin");
    // Their own name, and the role they already have, are theirs to save.
    app.patch(
        Some(&admin),
        &format!("/users/{}", admin.id),
        json!({"role": "admin", "display_name": "Avery A."}),
        None,
    )
    .await
    .expect(200);
    assert!(app.audit_actions("access.forbidden").len() >= 4);
}

#[actix_web::test]
async fn admins_issue_one_time_reset_tokens_and_never_set_passwords() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let u = app.staff(Role::Therapist).await;
    let (access, refresh) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    // The attack: the admin sets the therapist's password. Refused; nothing changed.
    let r = app
        .patch(
            Some(&admin),
            &format!("/users/{}", u.id),
            json!({"password": KNOWN_TO_ADMIN}),
            None,
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "password");
    login(&app, &u.email, KNOWN_TO_ADMIN)
        .await
        .expect_problem(401, "unauthorized");
    app.get(Some(&with_token(&u, &access)), "/me")
        .await
        .expect(200);
    // Only admins issue reset tokens.
    for role in [Role::Supervisor, Role::Therapist, Role::Intake] {
        let other = app.staff(role).await;
        app.post(
            Some(&other),
            &format!("/users/{}/password-reset", u.id),
            json!({}),
        )
        .await
        .expect_problem(403, "forbidden");
    }
    app.post(
        Some(&admin),
        &format!("/users/{}/password-reset", Uuid::new_v4()),
        json!({}),
    )
    .await
    .expect_problem(404, "not_found");
    let first = app
        .post(
            Some(&admin),
            &format!("/users/{}/password-reset", u.id),
            json!({}),
        )
        .await
        .expect(200);
    let first_token = first.body["reset_token"].as_str().unwrap().to_string();
    let r = app
        .post(
            Some(&admin),
            &format!("/users/{}/password-reset", u.id),
            json!({}),
        )
        .await
        .expect(200);
    let token = r.body["reset_token"].as_str().unwrap().to_string();
    let expires: chrono::DateTime<Utc> = r.body["expires_at"].as_str().unwrap().parse().unwrap();
    let ttl = expires - Utc::now();
    assert!(
        ttl > Duration::hours(23) && ttl <= Duration::hours(24),
        "{ttl}"
    );
    // Stored hashed: the token itself is nowhere in the database.
    let stored: Vec<Vec<u8>> = prt::table
        .select(prt::token_hash)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored
        .iter()
        .all(|h| h.len() == 32 && h != token.as_bytes()));
    // Issuing did not touch the account: the old password and sessions still work.
    app.get(Some(&with_token(&u, &access)), "/me")
        .await
        .expect(200);
    let redeem = |token: &str, password: &str| {
        app.post(
            None,
            "/auth/password-reset",
            json!({"token": token, "new_password": password}),
        )
    };
    // The newer token superseded the first.
    redeem(&first_token, CHOSEN)
        .await
        .expect_problem(401, "unauthorized");
    // The password rules apply, and a refused password leaves the token good.
    for weak in ["short", "password1234", u.email.as_str()] {
        let r = redeem(&token, weak)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "new_password", "{weak}");
    }
    redeem(&token, CHOSEN).await.expect(204);
    // Every session of the account ended; the old password is gone; the new one works.
    app.get(Some(&with_token(&u, &access)), "/me")
        .await
        .expect_problem(401, "unauthorized");
    app.post(None, "/auth/refresh", json!({"refresh_token": refresh}))
        .await
        .expect_problem(401, "unauthorized");
    login(&app, &u.email, PASSWORD)
        .await
        .expect_problem(401, "unauthorized");
    login(&app, &u.email, CHOSEN).await.expect(200);
    // Single use.
    redeem(&token, "another-long-passphrase-77")
        .await
        .expect_problem(401, "unauthorized");
    redeem("made-up", "another-long-passphrase-77")
        .await
        .expect_problem(401, "unauthorized");
    // Audited without the token or the password.
    let issued = app.audit_actions("user.password_reset_issued");
    assert_eq!(issued.len(), 2);
    assert_eq!((issued[0].0, issued[0].2), (Some(admin.id), Some(u.id)));
    let redeemed = app.audit_actions("auth.password_reset");
    let outcomes: Vec<(&str, Option<Uuid>)> =
        redeemed.iter().map(|e| (e.1.as_str(), e.0)).collect();
    assert_eq!(
        outcomes,
        [
            ("denied", None),
            ("allowed", Some(u.id)),
            ("denied", None),
            ("denied", None)
        ]
    );
    assert_eq!(redeemed[1].3["issued_by"], admin.id.to_string());
    let trail: String = issued
        .iter()
        .chain(redeemed.iter())
        .map(|e| e.3.to_string())
        .collect();
    assert!(!trail.contains(&token) && !trail.contains("saffron"));
}

#[actix_web::test]
async fn an_expired_reset_token_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let u = app.staff(Role::Intake).await;
    let r = app
        .post(
            Some(&admin),
            &format!("/users/{}/password-reset", u.id),
            json!({}),
        )
        .await
        .expect(200);
    let token = r.body["reset_token"].as_str().unwrap().to_string();
    diesel::update(prt::table)
        .set(prt::expires_at.eq(Utc::now() - Duration::seconds(1)))
        .execute(&mut app.conn())
        .unwrap();
    app.post(
        None,
        "/auth/password-reset",
        json!({"token": token, "new_password": CHOSEN}),
    )
    .await
    .expect_problem(401, "unauthorized");
    login(&app, &u.email, PASSWORD).await.expect(200);
}

#[actix_web::test]
async fn the_console_bootstraps_an_approved_admin_and_supervisor() {
    let app = TestApp::spawn().await;
    for (email, role) in [
        ("first.admin@clinic.test", "admin"),
        ("clinical.director@clinic.test", "supervisor"),
    ] {
        let out = super::cli::create_user(&app, email, role, &format!("{PASSWORD}\n"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let admin_login = login(&app, "first.admin@clinic.test", PASSWORD)
        .await
        .expect(200);
    let director_login = login(&app, "clinical.director@clinic.test", PASSWORD)
        .await
        .expect(200);
    assert_eq!(director_login.body["user"]["approval"], "approved");
    let ids: Vec<Uuid> = [&admin_login, &director_login]
        .iter()
        .map(|r| r.body["user"]["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let admin = TestUser {
        id: ids[0],
        email: "first.admin@clinic.test".into(),
        role: Role::Admin,
        token: pair(&admin_login).0,
    };
    let director = TestUser {
        id: ids[1],
        email: "clinical.director@clinic.test".into(),
        role: Role::Supervisor,
        token: pair(&director_login).0,
    };
    // The practice's first therapist: made by the admin, approved by the director.
    let r = app
        .post(
            Some(&admin),
            "/users",
            json!({"email": "jordan@clinic.test", "display_name": "Jordan Lee, LCSW",
                   "role": "therapist", "password": KNOWN_TO_ADMIN}),
        )
        .await
        .expect(201);
    let therapist = r.body["id"].as_str().unwrap().to_string();
    app.post(
        Some(&director),
        &format!("/staff/{therapist}/approve"),
        json!({}),
    )
    .await
    .expect(200);
    // The therapist chooses their own password with a reset token.
    let r = app
        .post(
            Some(&admin),
            &format!("/users/{therapist}/password-reset"),
            json!({}),
        )
        .await
        .expect(200);
    app.post(
        None,
        "/auth/password-reset",
        json!({"token": r.body["reset_token"], "new_password": CHOSEN}),
    )
    .await
    .expect(204);
    login(&app, "jordan@clinic.test", CHOSEN).await.expect(200);
    let approvals: Vec<String> = users::table
        .select(users::approval)
        .load(&mut app.conn())
        .unwrap();
    assert!(approvals.iter().all(|a| a == "approved"));
}
