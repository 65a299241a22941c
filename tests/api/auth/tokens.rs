//! Access tokens (forgeries of every kind are 401), refresh rotation, reuse and logout.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use futures::future::join_all;
use groupwork::auth::Role;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::auth::{login, pair, with_token};
use crate::helpers::{TestApp, TestUser, JWT_SECRET, PASSWORD};

fn claims(user: &TestUser) -> Value {
    let now = Utc::now().timestamp();
    json!({"sub": user.id, "role": user.role.as_str(), "ver": 0, "sid": uuid::Uuid::new_v4(), "iss": "groupwork",
           "aud": "groupwork-api", "iat": now, "exp": now + 600, "jti": uuid::Uuid::new_v4()})
}

fn sign(claims: &Value, alg: Algorithm, key: &[u8]) -> String {
    encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
}

async fn refresh(app: &TestApp, token: &str) -> crate::helpers::Resp {
    app.post(None, "/auth/refresh", json!({"refresh_token": token}))
        .await
}

#[actix_web::test]
async fn forged_and_expired_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Admin).await;
    let good = claims(&u);
    let key = JWT_SECRET.as_bytes();
    assert_eq!(
        app.get(
            Some(&with_token(&u, &sign(&good, Algorithm::HS256, key))),
            "/me"
        )
        .await
        .status,
        200,
        "control"
    );

    let header_none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(good.to_string());
    let header_none_caps = URL_SAFE_NO_PAD.encode(br#"{"alg":"None","typ":"JWT"}"#);
    // Algorithm confusion: an RS256 header over an HMAC made with the right key.
    let confused = {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let hs = sign(&good, Algorithm::HS256, key);
        let signature = hs.rsplit('.').next().unwrap().to_string();
        format!("{header}.{payload}.{signature}")
    };
    // A valid token's signature kept, its payload swapped for another user's.
    let swapped = {
        let mut other = good.clone();
        other["sub"] = json!(uuid::Uuid::new_v4());
        let t = sign(&good, Algorithm::HS256, key);
        let parts: Vec<&str> = t.split('.').collect();
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(other.to_string()),
            parts[2]
        )
    };
    let mut forgeries = vec![
        ("alg none", format!("{header_none}.{payload}.")),
        ("alg None", format!("{header_none_caps}.{payload}.")),
        ("alg none with a signature", {
            let sig = sign(&good, Algorithm::HS256, key);
            format!(
                "{header_none}.{payload}.{}",
                sig.rsplit('.').next().unwrap()
            )
        }),
        ("RS256 header, HMAC signature", confused),
        ("payload swapped", swapped),
        ("no signature part", format!("{header_none}.{payload}")),
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
            "expired beyond a 5 s leeway",
            "exp",
            json!(Utc::now().timestamp() - 6),
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
        let r = app.get(Some(&with_token(&u, &token)), "/me").await;
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
    let (_, first) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    let r = refresh(&app, &first).await.expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["user"]["id"], u.id.to_string());
    let (access, second) = pair(&r);
    assert_ne!(first, second);
    app.get(Some(&with_token(&u, &access)), "/me")
        .await
        .expect(200);
    // Rotation keeps going while the newest token is presented.
    let (_, third) = pair(&refresh(&app, &second).await.expect(200));
    // Replaying an already-used token: refused, and the whole family (even the newest,
    // never-used `third`) dies.
    refresh(&app, &first)
        .await
        .expect_problem(401, "unauthorized");
    refresh(&app, &third)
        .await
        .expect_problem(401, "unauthorized");
    let reuse = app.audit_actions("auth.refresh_reuse");
    assert_eq!(reuse.len(), 1);
    assert_eq!(reuse[0].1, "denied");
    assert_eq!(reuse[0].2, Some(u.id));
    assert_eq!(reuse[0].3["family_revoked"], 3, "the family's three tokens");
    assert_eq!(app.audit_actions("auth.refresh").len(), 2);
    // Another device's session (another family) is untouched.
    let (_, other) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    refresh(&app, &other).await.expect(200);
    refresh(&app, "made-up")
        .await
        .expect_problem(401, "unauthorized");
    refresh(&app, "").await.expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn concurrent_rotations_of_one_token_yield_one_winner_and_revoke_it() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Therapist).await;
    let (_, token) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    let answers = join_all((0..6).map(|_| refresh(&app, &token))).await;
    let winners: Vec<_> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(answers
        .iter()
        .all(|r| r.status == 200 || r.body["code"] == "unauthorized"));
    // The losers were reuses: the winner's fresh token went down with the family.
    let (_, fresh) = pair(winners[0]);
    refresh(&app, &fresh)
        .await
        .expect_problem(401, "unauthorized");
    assert_eq!(app.audit_actions("auth.refresh_reuse").len(), 5);
}

#[actix_web::test]
async fn expired_refresh_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Intake).await;
    let (_, token) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    {
        use groupwork::schema::refresh_tokens as rt;
        diesel::update(rt::table)
            .set(rt::expires_at.eq(Utc::now() - Duration::seconds(1)))
            .execute(&mut app.conn())
            .unwrap();
    }
    refresh(&app, &token)
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn logout_revokes_the_family_and_only_ones_own() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Intake).await;
    let r = login(&app, &u.email, PASSWORD).await.expect(200);
    let (access, refresh_token) = pair(&r);
    let me = with_token(&u, &access);
    app.post(
        None,
        "/auth/logout",
        json!({"refresh_token": refresh_token}),
    )
    .await
    .expect_problem(401, "unauthorized");
    // Someone else cannot log this session out with a stolen refresh token...
    let other = app.staff(Role::Supervisor).await;
    app.post(
        Some(&other),
        "/auth/logout",
        json!({"refresh_token": refresh_token}),
    )
    .await
    .expect(204);
    let (_, rotated) = pair(&refresh(&app, &refresh_token).await.expect(200));
    // ...but its owner can, with the newest token of the family.
    app.post(Some(&me), "/auth/logout", json!({"refresh_token": rotated}))
        .await
        .expect(204);
    refresh(&app, &rotated)
        .await
        .expect_problem(401, "unauthorized");
    let logouts = app.audit_actions("auth.logout");
    assert_eq!(logouts.len(), 2);
    assert_eq!(logouts[0].3["revoked"], false);
    assert_eq!(logouts[1].3["revoked"], true);
    assert_eq!(logouts[1].0, Some(u.id));
}
