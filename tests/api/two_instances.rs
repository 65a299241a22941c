//! Issue 18: two `serve` instances over one database, as behind a round-robin load balancer.
//! Everything that must hold across instances lives in PostgreSQL, not in a process: login
//! throttling, the end of a login, the audit chain.

use futures::future::join_all;
use groupwork::auth::Role;
use serde_json::json;

use crate::auth::{login, pair, with_token};
use crate::helpers::{TestApp, PASSWORD};

#[actix_web::test]
async fn throttling_counts_failures_on_both_instances() {
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    let u = a.staff(Role::Therapist).await;
    for i in 0..5 {
        let app = if i % 2 == 0 { &a } else { &b };
        login(app, &u.email, "wrong-password-wrong")
            .await
            .expect_problem(401, "unauthorized");
    }
    for app in [&a, &b] {
        login(app, &u.email, PASSWORD)
            .await
            .expect_problem(429, "rate_limited");
    }
}

#[actix_web::test]
async fn a_logout_on_one_instance_ends_the_login_on_the_other() {
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    let u = a.staff(Role::Intake).await;
    let (access, refresh) = pair(&login(&a, &u.email, PASSWORD).await.expect(200));
    let me = with_token(&u, &access);
    b.get(Some(&me), "/me").await.expect(200);
    a.post(Some(&me), "/auth/logout", json!({"refresh_token": refresh}))
        .await
        .expect(204);
    for app in [&a, &b] {
        app.get(Some(&me), "/me")
            .await
            .expect_problem(401, "unauthorized");
    }
}

#[actix_web::test]
async fn audited_writes_through_both_instances_keep_one_intact_chain() {
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    let intake = a.staff(Role::Intake).await;
    let bodies: Vec<_> = (0..16)
        .map(|i| json!({"first_name": "Chain", "last_name": format!("Member{i}"), "date_of_birth": "1990-01-01", "referral_source": "self", "mandated": false}))
        .collect();
    let created = join_all(bodies.iter().enumerate().map(|(i, body)| {
        let app = if i % 2 == 0 { &a } else { &b };
        app.post(Some(&intake), "/clients", body.clone())
    }))
    .await;
    for r in &created {
        assert_eq!(r.status, 201, "{}", r.body);
    }
    assert_eq!(a.audit_actions("client.create").len(), 16);
    let admin = a.staff(Role::Admin).await;
    let v = b
        .get(Some(&admin), "/audit-events/verify")
        .await
        .expect(200);
    assert_eq!(v.body["intact"], true, "{}", v.body);
}
