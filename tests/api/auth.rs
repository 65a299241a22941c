//! Issue 3: login, tokens (forgeries, expiry, revocation), refresh rotation and reuse,
//! throttling, password changes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use groupwork::auth::Role;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestUser, JWT_SECRET, PASSWORD};

async fn login(app: &TestApp, email: &str, password: &str) -> crate::helpers::Resp {
    app.post(
        None,
        "/auth/login",
        json!({"email": email, "password": password}),
    )
    .await
}

fn with_token(user: &TestUser, token: String) -> TestUser {
    TestUser {
        token,
        ..user.clone()
    }
}

fn claims(user: &TestUser) -> Value {
    let now = Utc::now().timestamp();
    json!({"sub": user.id, "role": user.role.as_str(), "ver": 0, "iss": "groupwork", "aud": "groupwork-api",
           "iat": now, "exp": now + 600, "jti": uuid::Uuid::new_v4()})
}

fn sign(claims: &Value, alg: Algorithm, key: &[u8]) -> String {
    encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
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
    let me = with_token(&u, r.body["access_token"].as_str().unwrap().to_string());
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
    assert_eq!(wrong.body, unknown.body);
    let failures = app.audit_actions("auth.login_failed");
    assert_eq!(failures.len(), 2);
    assert!(failures
        .iter()
        .all(|f| f.1 == "denied" && !f.3.to_string().contains("nobody")));
}

#[actix_web::test]
async fn forged_and_expired_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Admin).await;
    let good = claims(&u);
    let key = JWT_SECRET.as_bytes();
    assert_eq!(
        app.get(
            Some(&with_token(&u, sign(&good, Algorithm::HS256, key))),
            "/me"
        )
        .await
        .status,
        200,
        "control"
    );

    let header_none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(good.to_string());
    let mut forgeries = vec![
        ("alg none", format!("{header_none}.{payload}.")),
        ("HS512", sign(&good, Algorithm::HS512, key)),
        ("HS384", sign(&good, Algorithm::HS384, key)),
        (
            "another key",
            sign(
                &good,
                Algorithm::HS256,
                b"some-other-secret-some-other-secret-00",
            ),
        ),
        ("garbage", "not.a.token".into()),
    ];
    for (name, field, value) in [
        ("wrong iss", "iss", json!("someone-else")),
        ("wrong aud", "aud", json!("another-api")),
        (
            "expired beyond leeway",
            "exp",
            json!(Utc::now().timestamp() - 10),
        ),
        ("wrong token version", "ver", json!(7)),
        ("unknown user", "sub", json!(uuid::Uuid::new_v4())),
    ] {
        let mut c = good.clone();
        c[field] = value;
        forgeries.push((name, sign(&c, Algorithm::HS256, key)));
    }
    let mut no_exp = good.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    forgeries.push(("missing exp", sign(&no_exp, Algorithm::HS256, key)));
    for (name, token) in forgeries {
        let r = app.get(Some(&with_token(&u, token)), "/me").await;
        assert_eq!(r.status, 401, "{name} was accepted");
        assert_eq!(r.body["code"], "unauthorized", "{name}");
    }
    let r = app
        .send(
            app.client
                .get(app.url("/me"))
                .header("authorization", "Basic abc"),
        )
        .await;
    assert_eq!(r.status, 401);
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Supervisor).await;
    let first = login(&app, &u.email, PASSWORD).await.expect(200).body["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(None, "/auth/refresh", json!({"refresh_token": first}))
        .await
        .expect(200);
    let second = r.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    let access = r.body["access_token"].as_str().unwrap().to_string();
    app.get(Some(&with_token(&u, access)), "/me")
        .await
        .expect(200);
    // replaying the first token: refused, and the whole family (including `second`) dies
    app.post(None, "/auth/refresh", json!({"refresh_token": first}))
        .await
        .expect_problem(401, "unauthorized");
    app.post(None, "/auth/refresh", json!({"refresh_token": second}))
        .await
        .expect_problem(401, "unauthorized");
    let reuse = app.audit_actions("auth.refresh_reuse");
    assert_eq!(reuse.len(), 1);
    assert_eq!(reuse[0].1, "denied");
    // another device's session is untouched
    let other = login(&app, &u.email, PASSWORD).await.expect(200).body["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(None, "/auth/refresh", json!({"refresh_token": other}))
        .await
        .expect(200);
    app.post(None, "/auth/refresh", json!({"refresh_token": "made-up"}))
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn logout_revokes_the_family() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Intake).await;
    let r = login(&app, &u.email, PASSWORD).await.expect(200);
    let refresh = r.body["refresh_token"].as_str().unwrap().to_string();
    let me = with_token(&u, r.body["access_token"].as_str().unwrap().to_string());
    app.post(None, "/auth/logout", json!({"refresh_token": refresh}))
        .await
        .expect_problem(401, "unauthorized");
    let r = app
        .post(Some(&me), "/auth/logout", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(r.status, 204);
    app.post(None, "/auth/refresh", json!({"refresh_token": refresh}))
        .await
        .expect_problem(401, "unauthorized");
    assert_eq!(app.audit_actions("auth.logout").len(), 1);
}

#[actix_web::test]
async fn throttling_per_account_and_its_reset() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Therapist).await;
    for _ in 0..5 {
        login(&app, &u.email, "wrong-password-wrong")
            .await
            .expect_problem(401, "unauthorized");
    }
    // even the right password is refused while throttled
    let r = login(&app, &u.email, PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert_eq!(app.audit_actions("auth.throttled").len(), 1);
    // another account from the same address is not affected yet
    let other = app.staff(Role::Intake).await;
    login(&app, &other.email, PASSWORD).await.expect(200);
    // the window passes: the failures age out
    {
        use groupwork::schema::login_attempts as la;
        diesel::update(la::table)
            .set(la::attempted_at.eq(Utc::now() - Duration::minutes(16)))
            .execute(&mut app.conn())
            .unwrap();
    }
    login(&app, &u.email, PASSWORD).await.expect(200);
    // a successful login resets the account's count
    for _ in 0..4 {
        login(&app, &u.email, "wrong-password-wrong")
            .await
            .expect_problem(401, "unauthorized");
    }
    login(&app, &u.email, PASSWORD).await.expect(200);
    login(&app, &u.email, "wrong-password-wrong")
        .await
        .expect_problem(401, "unauthorized");
    login(&app, &u.email, PASSWORD).await.expect(200);
}

#[actix_web::test]
async fn throttling_per_address() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Therapist).await;
    {
        use groupwork::schema::login_attempts as la;
        let rows: Vec<_> = (0..20)
            .map(|i| {
                (
                    la::email_lower.eq(format!("guess{i}@clinic.test")),
                    la::ip.eq("127.0.0.1"),
                    la::succeeded.eq(false),
                )
            })
            .collect();
        diesel::insert_into(la::table)
            .values(rows)
            .execute(&mut app.conn())
            .unwrap();
    }
    login(&app, &u.email, PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
}

#[actix_web::test]
async fn password_change_and_deactivation_revoke_tokens_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let u = app.staff(Role::Therapist).await;
    let r = login(&app, &u.email, PASSWORD).await.expect(200);
    let old_refresh = r.body["refresh_token"].as_str().unwrap().to_string();
    let me = with_token(&u, r.body["access_token"].as_str().unwrap().to_string());
    app.post(Some(&me), "/me/password", json!({"current_password": "wrong-wrong-wrong", "new_password": "saffron-glacier-meadow-913"}))
        .await
        .expect_problem(422, "validation_failed");
    app.post(
        Some(&me),
        "/me/password",
        json!({"current_password": PASSWORD, "new_password": "password1234"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        Some(&me),
        "/me/password",
        json!({"current_password": PASSWORD, "new_password": "short"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let r = app
        .post(
            Some(&me),
            "/me/password",
            json!({"current_password": PASSWORD, "new_password": "saffron-glacier-meadow-913"}),
        )
        .await
        .expect(200);
    let fresh = with_token(&u, r.body["access_token"].as_str().unwrap().to_string());
    app.get(Some(&me), "/me")
        .await
        .expect_problem(401, "unauthorized");
    app.post(None, "/auth/refresh", json!({"refresh_token": old_refresh}))
        .await
        .expect_problem(401, "unauthorized");
    app.get(Some(&fresh), "/me").await.expect(200);
    login(&app, &u.email, PASSWORD)
        .await
        .expect_problem(401, "unauthorized");
    login(&app, &u.email, "saffron-glacier-meadow-913")
        .await
        .expect(200);
    let changes = app.audit_actions("auth.password_change");
    let outcomes: Vec<&str> = changes.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(
        outcomes,
        ["denied", "allowed"],
        "the wrong current password, then the change"
    );

    app.patch(
        Some(&admin),
        &format!("/users/{}", u.id),
        json!({"active": false}),
        None,
    )
    .await
    .expect(200);
    app.get(Some(&fresh), "/me")
        .await
        .expect_problem(401, "unauthorized");
    login(&app, &u.email, "saffron-glacier-meadow-913")
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn serve_without_jwt_secret_names_it_and_exits() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_groupwork"))
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("GROUPWORK_NOTES_KEY", crate::helpers::NOTES_KEY_B64)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("GROUPWORK_JWT_SECRET"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[actix_web::test]
async fn create_user_cli_reads_the_password_from_stdin() {
    use std::io::Write;
    let app = TestApp::spawn().await;
    let run = |password: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_groupwork"))
            .args([
                "create-user",
                "--email",
                "first.admin@clinic.test",
                "--name",
                "First Admin",
                "--role",
                "admin",
            ])
            .env("DATABASE_URL", &app.db_url)
            .current_dir(std::env::temp_dir())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(!run("weak").status.success());
    let out = run("copper-lantern-orbit-2048");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !run("copper-lantern-orbit-2048").status.success(),
        "the email is taken now"
    );
    let r = login(&app, "First.Admin@clinic.test", "copper-lantern-orbit-2048")
        .await
        .expect(200);
    assert_eq!(r.body["user"]["role"], "admin");
}
