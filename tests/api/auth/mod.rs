//! Issue 3: sign-in and what a token is worth. Login and `/me` here; token forgeries, refresh
//! rotation and logout in `tokens`; throttling in `throttle`; password changes, deactivation
//! and role changes in `revocation`; the command line in `cli`; a therapist's scope in `scope`.

mod cli;
mod login_end;
mod pruning;
mod request_ids;
mod revocation;
mod scope;
mod separation;
mod therapist_scope;
mod throttle;
mod tokens;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::prelude::*;
use groupwork::auth::Role;
use serde_json::json;

use crate::helpers::{Resp, TestApp, TestUser, PASSWORD};

pub async fn login(app: &TestApp, email: &str, password: &str) -> Resp {
    app.post(
        None,
        "/auth/login",
        json!({"email": email, "password": password}),
    )
    .await
}

/// `user` carrying another access token.
pub fn with_token(user: &TestUser, token: &str) -> TestUser {
    TestUser {
        token: token.to_string(),
        ..user.clone()
    }
}

/// The (access, refresh) pair of a token response.
pub fn pair(r: &Resp) -> (String, String) {
    (
        r.body["access_token"].as_str().unwrap().to_string(),
        r.body["refresh_token"].as_str().unwrap().to_string(),
    )
}

#[actix_web::test]
async fn login_me_and_response_shape() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Therapist).await;
    let r = login(&app, &u.email.to_uppercase(), PASSWORD)
        .await
        .expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert_eq!(r.body["user"]["role"], "therapist");
    assert!(r.body["user"].get("password_hash").is_none());
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(r.body["refresh_token"].as_str().unwrap())
            .unwrap()
            .len(),
        32,
        "256-bit"
    );
    let me = with_token(&u, r.body["access_token"].as_str().unwrap());
    let r = app.get(Some(&me), "/me").await.expect(200);
    assert_eq!(r.body["id"], u.id.to_string());
    assert_eq!(app.audit_actions("auth.login").len(), 1);
    // only the hash of the refresh token is stored
    let stored: Vec<Vec<u8>> = groupwork::schema::refresh_tokens::table
        .select(groupwork::schema::refresh_tokens::token_hash)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].len(), 32);
}

#[actix_web::test]
async fn failures_look_the_same_for_unknown_email_and_wrong_password() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Intake).await;
    let wrong = login(&app, &u.email, "not-the-password-at-all")
        .await
        .expect_problem(401, "unauthorized");
    let unknown = login(&app, "nobody@clinic.test", "not-the-password-at-all")
        .await
        .expect_problem(401, "unauthorized");
    // A disabled account with its right password answers exactly the same.
    let gone = app.staff(Role::Intake).await;
    diesel::update(groupwork::schema::users::table.find(gone.id))
        .set(groupwork::schema::users::active.eq(false))
        .execute(&mut app.conn())
        .unwrap();
    let disabled = login(&app, &gone.email, PASSWORD)
        .await
        .expect_problem(401, "unauthorized");
    // Bodies are identical (the request id travels in a header, not the body). The unknown
    // email still costs a full argon2id verification: `Hasher::verify(_, None)` checks the
    // password against a real dummy hash (see the unit test in src/auth/password.rs).
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.body, disabled.body);
    assert_eq!(
        wrong.headers.get("content-length"),
        unknown.headers.get("content-length")
    );
    let failures = app.audit_actions("auth.login_failed");
    assert_eq!(failures.len(), 3);
    assert!(failures
        .iter()
        .all(|f| f.1 == "denied" && !f.3.to_string().contains("nobody")));
    // The targeted account is the event's resource when there is one; never the password.
    assert_eq!(failures[0].2, Some(u.id));
    assert_eq!(failures[1].2, None);
    assert_eq!(failures[2].2, Some(gone.id));
}

#[actix_web::test]
async fn login_input_is_bounded_and_typed() {
    let app = TestApp::spawn().await;
    let long_email = format!("{}@clinic.test", "a".repeat(400));
    let r = login(&app, &long_email, PASSWORD)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "email");
    let r = login(&app, "a@clinic.test", &"p".repeat(2000))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "password");
    app.post(None, "/auth/login", json!({"email": "a@clinic.test"}))
        .await
        .expect_invalid("body");
    app.post(
        None,
        "/auth/login",
        json!({"email": 5, "password": PASSWORD}),
    )
    .await
    .expect_invalid("email");
    // None of these was a password guess: nothing counted, nothing audited.
    let attempts: i64 = groupwork::schema::login_attempts::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(attempts, 0);
}

#[actix_web::test]
async fn every_role_may_read_me_and_log_out() {
    let app = TestApp::spawn().await;
    for role in Role::ALL {
        let u = app.staff(role).await;
        let r = login(&app, &u.email, PASSWORD).await.expect(200);
        let (access, refresh) = pair(&r);
        let me = with_token(&u, &access);
        let r = app.get(Some(&me), "/me").await.expect(200);
        assert_eq!(r.body["role"], role.as_str());
        assert_eq!(r.body["email"], u.email);
        app.post(Some(&me), "/auth/logout", json!({"refresh_token": refresh}))
            .await
            .expect(204);
    }
    app.get(None, "/me")
        .await
        .expect_problem(401, "unauthorized");
    assert!(app.audit_actions("access.forbidden").is_empty());
}
