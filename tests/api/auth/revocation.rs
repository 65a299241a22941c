//! What makes existing tokens useless at once: a password change (own or by a reset token),
//! a deactivation. And what does not need to: a role change takes effect on the next request.

use chrono::Utc;
use diesel::prelude::*;
use futures::future::join;
use groupwork::auth::Role;
use serde_json::json;

use crate::auth::{login, pair, with_token};
use crate::helpers::{TestApp, PASSWORD};

const NEW_PASSWORD: &str = "saffron-glacier-meadow-913";

#[actix_web::test]
async fn a_password_change_revokes_every_older_token() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Therapist).await;
    let (access, old_refresh) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    let (other_device, _) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    let me = with_token(&u, &access);
    let change = |current: &str, new: &str| {
        app.post(
            Some(&me),
            "/me/password",
            json!({"current_password": current, "new_password": new}),
        )
    };
    let r = change("wrong-wrong-wrong", NEW_PASSWORD)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "current_password");
    for weak in ["password1234", "short", PASSWORD] {
        let r = change(PASSWORD, weak)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "new_password", "{weak}");
    }
    // the user's own email is a guessable password
    change(PASSWORD, &u.email)
        .await
        .expect_invalid("new_password");
    app.get(Some(&me), "/me").await.expect(200);

    let r = change(PASSWORD, NEW_PASSWORD).await.expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    let (fresh_access, fresh_refresh) = pair(&r);
    for stale in [&me, &with_token(&u, &other_device)] {
        app.get(Some(stale), "/me")
            .await
            .expect_problem(401, "unauthorized");
    }
    app.post(None, "/auth/refresh", json!({"refresh_token": old_refresh}))
        .await
        .expect_problem(401, "unauthorized");
    app.get(Some(&with_token(&u, &fresh_access)), "/me")
        .await
        .expect(200);
    app.post(
        None,
        "/auth/refresh",
        json!({"refresh_token": fresh_refresh}),
    )
    .await
    .expect(200);
    login(&app, &u.email, PASSWORD)
        .await
        .expect_problem(401, "unauthorized");
    login(&app, &u.email, NEW_PASSWORD).await.expect(200);
    let changes = app.audit_actions("auth.password_change");
    let outcomes: Vec<&str> = changes.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(
        outcomes,
        ["denied", "allowed"],
        "the wrong current password, then the change"
    );
}

#[actix_web::test]
async fn deactivation_revokes_at_once_and_reactivation_restores_login() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let u = app.staff(Role::Supervisor).await;
    let (access, refresh) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    let me = with_token(&u, &access);
    let r = app
        .patch(
            Some(&admin),
            &format!("/users/{}", u.id),
            json!({"active": false}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(r.body["active"], false);
    app.get(Some(&me), "/me")
        .await
        .expect_problem(401, "unauthorized");
    app.post(None, "/auth/refresh", json!({"refresh_token": refresh}))
        .await
        .expect_problem(401, "unauthorized");
    login(&app, &u.email, PASSWORD)
        .await
        .expect_problem(401, "unauthorized");
    app.patch(
        Some(&admin),
        &format!("/users/{}", u.id),
        json!({"active": true}),
        None,
    )
    .await
    .expect(200);
    // The old tokens stay dead; a new login works.
    app.get(Some(&me), "/me")
        .await
        .expect_problem(401, "unauthorized");
    login(&app, &u.email, PASSWORD).await.expect(200);
}

#[actix_web::test]
async fn a_redeemed_password_reset_revokes_the_users_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let u = app.staff(Role::Intake).await;
    let (access, refresh) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    // An administrator no longer sets passwords (SPEC §1): refused, and nothing revoked.
    app.patch(
        Some(&admin),
        &format!("/users/{}", u.id),
        json!({"password": NEW_PASSWORD}),
        None,
    )
    .await
    .expect_invalid("password");
    app.get(Some(&with_token(&u, &access)), "/me")
        .await
        .expect(200);
    let r = app
        .post(
            Some(&admin),
            &format!("/users/{}/password-reset", u.id),
            json!({}),
        )
        .await
        .expect(200);
    app.post(
        None,
        "/auth/password-reset",
        json!({"token": r.body["reset_token"], "new_password": NEW_PASSWORD}),
    )
    .await
    .expect(204);
    app.get(Some(&with_token(&u, &access)), "/me")
        .await
        .expect_problem(401, "unauthorized");
    app.post(None, "/auth/refresh", json!({"refresh_token": refresh}))
        .await
        .expect_problem(401, "unauthorized");
    login(&app, &u.email, NEW_PASSWORD).await.expect(200);
    assert!(
        app.audit_actions("user.update").is_empty(),
        "the refused update left no trace"
    );
}

#[actix_web::test]
async fn a_role_change_applies_to_the_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let u = app.staff(Role::Therapist).await;
    app.get(Some(&u), "/users")
        .await
        .expect_problem(403, "forbidden");
    app.patch(
        Some(&admin),
        &format!("/users/{}", u.id),
        json!({"role": "admin"}),
        None,
    )
    .await
    .expect(200);
    // Same token, new powers: the role is read from the database on every request.
    app.get(Some(&u), "/users").await.expect(200);
    assert_eq!(
        app.get(Some(&u), "/me").await.expect(200).body["role"],
        "admin"
    );
    app.patch(
        Some(&admin),
        &format!("/users/{}", u.id),
        json!({"role": "intake"}),
        None,
    )
    .await
    .expect(200);
    app.get(Some(&u), "/users")
        .await
        .expect_problem(403, "forbidden");
}

#[actix_web::test]
async fn a_login_racing_a_deactivation_leaves_no_working_token() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    for _ in 0..3 {
        let u = app.staff(Role::Therapist).await;
        let (signed_in, deactivated) = join(
            login(&app, &u.email, PASSWORD),
            app.patch(
                Some(&admin),
                &format!("/users/{}", u.id),
                json!({"active": false}),
                None,
            ),
        )
        .await;
        deactivated.expect(200);
        // Whichever came first, nothing issued to the user works afterwards.
        if signed_in.status == 200 {
            let (access, refresh) = pair(&signed_in);
            app.get(Some(&with_token(&u, &access)), "/me")
                .await
                .expect_problem(401, "unauthorized");
            app.post(None, "/auth/refresh", json!({"refresh_token": refresh}))
                .await
                .expect_problem(401, "unauthorized");
        } else {
            signed_in.expect_problem(401, "unauthorized");
        }
        let live: i64 = groupwork::schema::refresh_tokens::table
            .filter(groupwork::schema::refresh_tokens::user_id.eq(u.id))
            .filter(groupwork::schema::refresh_tokens::revoked_at.is_null())
            .filter(groupwork::schema::refresh_tokens::expires_at.gt(Utc::now()))
            .count()
            .get_result(&mut app.conn())
            .unwrap();
        assert_eq!(live, 0);
    }
}
