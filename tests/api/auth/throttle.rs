//! Throttling held in PostgreSQL (SPEC §3 v2): 5 failures per (account, address) pair, 20 per
//! address for unknown accounts, in 15 minutes. Time passes by backdating `login_attempts`,
//! never by waiting. Addresses are real: the test client binds its socket to 127.0.0.1 or
//! 127.0.0.2, and a trusted proxy's `X-Forwarded-For` is exercised over HTTP.

use std::net::IpAddr;

use chrono::Duration;
use diesel::prelude::*;
use futures::future::join_all;
use groupwork::auth::Role;
use groupwork::schema::login_attempts as la;
use serde_json::json;

use crate::auth::{login, pair, with_token};
use crate::helpers::{Resp, TestApp, PASSWORD};

/// A client whose connections come from `ip` (any 127.0.0.0/8 address reaches the server).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login_from(app: &TestApp, from: &reqwest::Client, email: &str, password: &str) -> Resp {
    app.send(
        from.post(app.url("/auth/login"))
            .json(&json!({"email": email, "password": password})),
    )
    .await
}

/// A login sent with an `X-Forwarded-For` header.
async fn login_forwarded(
    app: &TestApp,
    from: &reqwest::Client,
    forwarded_for: &str,
    email: &str,
    password: &str,
) -> Resp {
    app.send(
        from.post(app.url("/auth/login"))
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"email": email, "password": password})),
    )
    .await
}

fn addresses_recorded(app: &TestApp) -> Vec<String> {
    let mut ips: Vec<String> = la::table
        .select(la::ip)
        .distinct()
        .load(&mut app.conn())
        .unwrap();
    ips.sort();
    ips
}

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
async fn a_stranger_guessing_from_elsewhere_does_not_lock_the_user_out() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Therapist).await;
    let (office, stranger) = (client_from("127.0.0.1"), client_from("127.0.0.2"));
    // The attack as reported: five wrong guesses from anywhere locked the user out.
    for _ in 0..5 {
        login_from(&app, &stranger, &u.email, "wrong-password-wrong")
            .await
            .expect_problem(401, "unauthorized");
    }
    // The stranger's pair is throttled, even with the right password...
    let r = login_from(&app, &stranger, &u.email, PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    // ...but the user at the office signs in.
    login_from(&app, &office, &u.email, PASSWORD)
        .await
        .expect(200);
    assert_eq!(addresses_recorded(&app), ["127.0.0.1", "127.0.0.2"]);
    // The office's own pair counts on its own: four typos and a success, no lock.
    for _ in 0..4 {
        login_from(&app, &office, &u.email, "wrong-password-wrong")
            .await
            .expect_problem(401, "unauthorized");
    }
    login_from(&app, &office, &u.email, PASSWORD)
        .await
        .expect(200);
    login_from(&app, &stranger, &u.email, PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
}

#[actix_web::test]
async fn unknown_emails_throttle_their_address_but_not_the_colleagues_behind_it() {
    let app = TestApp::spawn().await;
    let colleague = app.staff(Role::Supervisor).await;
    let other = app.staff(Role::Intake).await;
    let (nat, elsewhere) = (client_from("127.0.0.2"), client_from("127.0.0.1"));
    // 20 failures against unknown emails from the clinic's one address (4 per email stays
    // under the per-pair limit).
    for i in 0..20 {
        login_from(
            &app,
            &nat,
            &format!("guess{}@clinic.test", i % 5),
            "wrong-password-wrong",
        )
        .await
        .expect_problem(401, "unauthorized");
    }
    // Unknown emails from there now wait...
    let unknown = login_from(&app, &nat, "guess9@clinic.test", "wrong-password-wrong")
        .await
        .expect_problem(429, "rate_limited");
    let retry: u64 = unknown.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // ...but a colleague behind the same address signs in (the attack as reported: 429).
    login_from(&app, &nat, &colleague.email, PASSWORD)
        .await
        .expect(200);
    // A wrong password for a real account answers exactly like an unknown email, so the
    // limit tells nobody which emails exist.
    let known = login_from(&app, &nat, &other.email, "wrong-password-wrong")
        .await
        .expect_problem(429, "rate_limited");
    assert_eq!(known.body["title"], unknown.body["title"]);
    assert!(known.header("retry-after").is_some());
    // The refused attempts did not add to the address's count: the wait does not grow.
    let counted: i64 = la::table
        .filter(la::counts_for_address.eq(true))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(counted, 20);
    // Another address is another matter.
    login_from(
        &app,
        &elsewhere,
        "guess9@clinic.test",
        "wrong-password-wrong",
    )
    .await
    .expect_problem(401, "unauthorized");
    // 15 minutes later the address is free again.
    age_attempts(&app, 16);
    login_from(&app, &nat, "guess9@clinic.test", "wrong-password-wrong")
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn failures_on_real_accounts_do_not_count_towards_the_address() {
    let app = TestApp::spawn().await;
    let mut staff = Vec::new();
    for _ in 0..5 {
        staff.push(app.staff(Role::Therapist).await);
    }
    // A morning of typos at the front desk: 4 per account, 20 in all.
    for i in 0..20 {
        login(&app, &staff[i % 5].email, "wrong-password-wrong")
            .await
            .expect_problem(401, "unauthorized");
    }
    // Nobody behind the address is throttled for it, not even an unknown email.
    login(&app, "new.hire@clinic.test", "wrong-password-wrong")
        .await
        .expect_problem(401, "unauthorized");
    for u in &staff {
        login(&app, &u.email, PASSWORD).await.expect(200);
    }
}

#[actix_web::test]
async fn a_trusted_proxys_forwarded_for_is_believed_and_anyone_elses_ignored() {
    let app = TestApp::spawn_with(|s| {
        s.trusted_proxies = groupwork::http::client_address::parse_list("127.0.0.2/32").unwrap();
    })
    .await;
    let u = app.staff(Role::Therapist).await;
    let (proxy, direct) = (client_from("127.0.0.2"), client_from("127.0.0.1"));
    // Behind the proxy, the client at 203.0.113.5 guesses five times; what it wrote itself to
    // the left of the proxy's hop (198.51.100.1) is ignored.
    for _ in 0..5 {
        login_forwarded(
            &app,
            &proxy,
            "198.51.100.1, 203.0.113.5",
            &u.email,
            "wrong-password-wrong",
        )
        .await
        .expect_problem(401, "unauthorized");
    }
    login_forwarded(&app, &proxy, "203.0.113.5", &u.email, PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
    // The user, behind the same proxy at another address, signs in.
    login_forwarded(&app, &proxy, "203.0.113.9", &u.email, PASSWORD)
        .await
        .expect(200);
    // From a peer that is not a trusted proxy the header is ignored: claiming to be
    // 203.0.113.9 is counted against 127.0.0.1.
    for _ in 0..5 {
        login_forwarded(
            &app,
            &direct,
            "203.0.113.9",
            &u.email,
            "wrong-password-wrong",
        )
        .await
        .expect_problem(401, "unauthorized");
    }
    login_forwarded(&app, &direct, "203.0.113.9", &u.email, PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
    login_forwarded(&app, &proxy, "203.0.113.9", &u.email, PASSWORD)
        .await
        .expect(200);
    assert_eq!(
        addresses_recorded(&app),
        ["127.0.0.1", "203.0.113.5", "203.0.113.9"]
    );
    // The audit trail carries the same client address.
    let logins = app.audit_actions("auth.login");
    assert_eq!(logins.len(), 2);
    let ip: Option<String> = groupwork::schema::audit_events::table
        .filter(groupwork::schema::audit_events::action.eq("auth.login"))
        .select(groupwork::schema::audit_events::ip)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(ip.as_deref(), Some("203.0.113.9"));
}

#[actix_web::test]
async fn forwarded_for_is_ignored_without_trusted_proxies() {
    let app = TestApp::spawn().await;
    let u = app.staff(Role::Intake).await;
    let from = client_from("127.0.0.2");
    for _ in 0..5 {
        login_forwarded(&app, &from, "203.0.113.5", &u.email, "wrong-password-wrong")
            .await
            .expect_problem(401, "unauthorized");
    }
    // A new X-Forwarded-For for every guess does not help the guesser.
    login_forwarded(&app, &from, "203.0.113.77", &u.email, PASSWORD)
        .await
        .expect_problem(429, "rate_limited");
    assert_eq!(addresses_recorded(&app), ["127.0.0.2"]);
}

#[actix_web::test]
async fn attempted_emails_are_kept_only_as_keyed_hashes() {
    let app = TestApp::spawn().await;
    login(&app, " Nobody.Here@Clinic.test", "wrong-password-wrong")
        .await
        .expect_problem(401, "unauthorized");
    let rows: Vec<(Vec<u8>, String)> = la::table
        .select((la::email_hash, la::ip))
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(rows.len(), 1);
    let (hash, ip) = &rows[0];
    assert_eq!(ip, "127.0.0.1");
    assert_eq!(hash.len(), 32);
    assert_eq!(
        *hash,
        app.state.login_emails.hash("nobody.here@clinic.test")
    );
    // Keyed: not a plain digest anyone could recompute from a list of emails.
    use sha2::Digest;
    assert_ne!(
        hash.as_slice(),
        sha2::Sha256::digest(b"nobody.here@clinic.test").as_slice()
    );
    assert!(!String::from_utf8_lossy(hash).contains("nobody"));
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
        .expect_invalid("current_password");
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
