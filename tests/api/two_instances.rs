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
    // Both instances' sealers run while the writes go on (issue 18: appends take no lock;
    // the chain is linked behind them, one sealer at a time).
    let sealers = [&a, &b].map(|app| {
        let db = app.state.db.clone();
        let key = app.state.settings.audit_key;
        async move {
            for _ in 0..6 {
                db.run(move |conn| {
                    groupwork::audit::seal(conn, &key, std::time::Duration::from_secs(2))
                })
                .await
                .unwrap();
            }
        }
    });
    let (created, _) = futures::join!(
        join_all(bodies.iter().enumerate().map(|(i, body)| {
            let app = if i % 2 == 0 { &a } else { &b };
            app.post(Some(&intake), "/clients", body.clone())
        })),
        join_all(sealers)
    );
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
    assert_eq!(v.body["events_checked"], 16, "{}", v.body);
    assert_eq!(v.body["unsealed_events"], 0, "{}", v.body);
}

/// Active groups whose schedules stop in the past (or never began), each meeting on a
/// different weekday at 23:59 UTC.
fn behind(app: &TestApp, lead: uuid::Uuid, n: usize) -> Vec<uuid::Uuid> {
    use chrono::{Datelike, Duration, NaiveTime, Utc};
    let days = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let today = Utc::now().date_naive();
    (0..n)
        .map(|i| {
            let day = (today + Duration::days(i as i64)).weekday();
            let g = crate::fixtures::group(app, lead)
                .status("active")
                .start(today - Duration::days(90))
                .schedule(
                    days[day.num_days_from_monday() as usize],
                    NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
                    "UTC",
                )
                .create();
            if i % 3 == 0 {
                // A session held weeks ago: generation numbers on from it.
                let held = (today - Duration::days(84)).and_hms_opt(12, 0, 0).unwrap();
                crate::fixtures::session(app, g, 1, held.and_utc(), "held");
            }
            g
        })
        .collect()
}

/// The sessions of `groups` as rows: (group, sequence, scheduled_at, status).
fn session_rows(
    app: &TestApp,
    groups: &[uuid::Uuid],
) -> Vec<(uuid::Uuid, i32, chrono::DateTime<chrono::Utc>, String)> {
    use diesel::prelude::*;
    use groupwork::schema::sessions as s;
    s::table
        .filter(s::group_id.eq_any(groups))
        .order((s::group_id, s::sequence))
        .select((s::group_id, s::sequence, s::scheduled_at, s::status))
        .load(&mut app.conn())
        .unwrap()
}

#[actix_web::test]
async fn both_instances_generating_sessions_at_once_make_each_session_once() {
    use groupwork::sessions::horizon::{self, Swept};
    use std::time::{Duration as StdDuration, Instant};

    const WEEKS: u32 = 6;
    const GROUPS: usize = 14;
    let a = TestApp::spawn_with(|s| s.schedule_weeks = WEEKS).await;
    let b = a.another_instance().await;
    assert_eq!(b.state.settings.schedule_weeks, WEEKS);
    let ther = a.staff(Role::Therapist).await;
    let groups = behind(&a, ther.id, GROUPS);
    let held = |i: usize| usize::from(i % 3 == 0);
    let expected = GROUPS * WEEKS as usize;

    // Both instances run the task `serve` runs, with a short period, over the same groups...
    horizon::spawn(a.state.clone(), StdDuration::from_millis(25));
    horizon::spawn(b.state.clone(), StdDuration::from_millis(25));
    // ...and, at the same moments, passes whose outcome we can see: none may fail.
    let mut swept = Swept::default();
    for _ in 0..6 {
        let (x, y) = futures::join!(
            horizon::sweep_now(&a.state.db, WEEKS),
            horizon::sweep_now(&b.state.db, WEEKS)
        );
        for s in [x.unwrap(), y.unwrap()] {
            assert_eq!(s.failed, 0, "a pass failed on a group: {s:?}");
            swept.created += s.created;
            swept.skipped += s.skipped;
        }
    }
    let deadline = Instant::now() + StdDuration::from_secs(20);
    while session_rows(&a, &groups).len() < expected + (0..GROUPS).map(held).sum::<usize>() {
        assert!(
            Instant::now() < deadline,
            "the sessions were never generated"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    // More ticks of both tasks change nothing.
    tokio::time::sleep(StdDuration::from_millis(300)).await;

    let rows = session_rows(&a, &groups);
    let today = chrono::Utc::now().date_naive();
    for (i, g) in groups.iter().enumerate() {
        let mine: Vec<_> = rows.iter().filter(|r| r.0 == *g).collect();
        assert_eq!(mine.len(), WEEKS as usize + held(i), "group {i}: {mine:?}");
        // Numbered 1.. without a gap or a repeat; the generated ones a week apart.
        for (k, r) in mine.iter().enumerate() {
            assert_eq!(r.1, k as i32 + 1, "group {i}: {mine:?}");
            if k > held(i) {
                assert_eq!(r.2 - mine[k - 1].2, chrono::Duration::weeks(1), "{mine:?}");
            }
        }
        let generated = &mine[held(i)..];
        assert!(generated.iter().all(|r| r.3 == "scheduled"));
        assert!(generated[0].2.date_naive() >= today);
        assert!(generated[0].2.date_naive() < today + chrono::Duration::weeks(1));
    }
    // One audit event per group extended, by the service, and they account for every session.
    let events = a.audit_actions("session.generate");
    assert_eq!(events.len(), GROUPS, "{events:?}");
    assert!(events.iter().all(|e| e.0.is_none() && e.1 == "allowed"));
    let audited: u64 = events
        .iter()
        .map(|e| e.3["created"].as_u64().unwrap())
        .sum();
    assert_eq!(audited as usize, expected);
    assert!(swept.created <= expected);
    let admin = a.staff(Role::Admin).await;
    let v = b
        .get(Some(&admin), "/audit-events/verify")
        .await
        .expect(200);
    assert_eq!(v.body["intact"], true, "{}", v.body);
}
