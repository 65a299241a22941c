//! Throttling held in PostgreSQL: 5 failures per account, 20 per address, in 15 minutes.
//! Time passes by backdating `login_attempts`, never by waiting.

use chrono::Duration;
use diesel::prelude::*;
use futures::future::join_all;
use groupwork::auth::Role;
use groupwork::schema::login_attempts as la;
use serde_json::json;

use crate::auth::{login, pair, with_token};
use crate::helpers::{TestApp, PASSWORD};

/// Moves every recorded attempt `minutes` into the past.
fn age_attempts(app: &TestApp, minutes: i64) {
    diesel::update(la::table)
        .set(la::attempted_at.eq(la::attempted_at - Duration::minutes(minutes)))
        .execute(&mut app.conn())
        .unwrap();
}

fn failures_recorded(app: &TestApp) -> i64 {
    la::table
        .filter(la::succeeded.eq(false))
        .count()
        .get_result(&mut app.conn())
        .unwrap()
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
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains(&retry.to_string()));
    let throttled = app.audit_actions("auth.throttled");
    assert_eq!(throttled.len(), 1);
    assert_eq!(
        (throttled[0].1.as_str(), throttled[0].2),
        ("denied", Some(u.id))
    );
    // Refused attempts are not counted: the wait does not grow while someone keeps knocking.
    login(&app, &u.email, "wrong-password-wrong")
        .await
        .expect_problem(429, "rate_limited");
    assert_eq!(failures_recorded(&app), 5);
    // An unknown email is throttled exactly like a known one (nothing tells them apart).
    for _ in 0..5 {
        login(&app, "nobody@clinic.test", "wrong-password-wrong")
            .await
            .expect_problem(401, "unauthorized");
    }
    login(&app, "NOBODY@clinic.test", "wrong-password-wrong")
        .await
        .expect_problem(429, "rate_limited");
    // another account from the same address is not affected yet
    let other = app.staff(Role::Intake).await;
    login(&app, &other.email, PASSWORD).await.expect(200);
    // 14 minutes later the oldest failures are still inside the window...
    age_attempts(&app, 14);
    let r = login(&app, &u.email, PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry <= 60, "about a minute left: {retry}");
    // ...and after 15 they have aged out.
    age_attempts(&app, 2);
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
async fn a_burst_of_concurrent_guesses_gets_five_passwords_checked() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Supervisor).await;
    let guesses: Vec<String> = (0..12)
        .map(|i| format!("guess-number-{i:02}-wrong"))
        .collect();
    let answers = join_all(guesses.iter().map(|g| login(&app, &u.email, g))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429]
    );
    assert_eq!(failures_recorded(&app), 5);
    login(&app, &u.email, PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
}

#[actix_web::test]
async fn throttling_per_address() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Therapist).await;
    // 20 failures from this address, each for another account (4 per account stays under
    // the per-account limit).
    for i in 0..20 {
        login(
            &app,
            &format!("guess{}@clinic.test", i % 5),
            "wrong-password-wrong",
        )
        .await
        .expect_problem(401, "unauthorized");
    }
    // Now even a right password for an untouched account is refused from here.
    let r = login(&app, &u.email, PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    // Attempts from other addresses are another matter.
    diesel::update(la::table)
        .set(la::ip.eq("192.0.2.7"))
        .execute(&mut app.conn())
        .unwrap();
    login(&app, &u.email, PASSWORD).await.expect(200);
    diesel::update(la::table)
        .set(la::ip.eq("127.0.0.1"))
        .execute(&mut app.conn())
        .unwrap();
    login(&app, &u.email, PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
    age_attempts(&app, 16);
    login(&app, &u.email, PASSWORD).await.expect(200);
}

#[actix_web::test]
async fn wrong_current_passwords_count_as_failed_logins() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Therapist).await;
    let me = with_token(
        &u,
        &pair(&login(&app, &u.email, PASSWORD).await.expect(200)).0,
    );
    for _ in 0..5 {
        app.post(
            Some(&me),
            "/me/password",
            json!({"current_password": "not-my-password", "new_password": "saffron-glacier-meadow-913"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    }
    let r = app
        .post(
            Some(&me),
            "/me/password",
            json!({"current_password": PASSWORD, "new_password": "saffron-glacier-meadow-913"}),
        )
        .await
        .expect_problem(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    login(&app, &u.email, PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
    let denied = app.audit_actions("auth.password_change");
    assert_eq!(denied.len(), 5);
    assert!(denied.iter().all(|d| d.1 == "denied"));
    // The password did not change.
    age_attempts(&app, 16);
    login(&app, &u.email, PASSWORD).await.expect(200);
}
