//! Sessions generated automatically (SPEC §2 v2): when a group starts, and kept
//! `GROUPWORK_SCHEDULE_WEEKS` ahead by the periodic task of `serve` — idempotent, and safe
//! with several instances sweeping at once.

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc, Weekday};
use diesel::prelude::*;
use groupwork::auth::Role;
use groupwork::sessions::horizon;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::TestApp;

fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

/// Every session of a group, in order, through the API.
async fn sessions(app: &TestApp, who: &crate::helpers::TestUser, g: Uuid) -> Vec<Value> {
    let r = app
        .get(Some(who), &format!("/groups/{g}/sessions?limit=200"))
        .await
        .expect(200);
    assert_eq!(r.body["next_cursor"], Value::Null);
    r.body["items"].as_array().unwrap().clone()
}

fn at(s: &Value) -> DateTime<Utc> {
    s["scheduled_at"].as_str().unwrap().parse().unwrap()
}

/// Asserts `items` are `n` weekly sessions, numbered on from `first_seq`, from today on and
/// within the next `n` weeks (local dates of a UTC group).
#[track_caller]
fn assert_weeks_ahead(items: &[Value], n: usize, first_seq: i64) {
    let today = Utc::now().date_naive();
    assert_eq!(items.len(), n, "{items:?}");
    for (i, s) in items.iter().enumerate() {
        assert_eq!(s["sequence"], first_seq + i as i64);
        assert_eq!(s["status"], "scheduled");
        let d = at(s).date_naive();
        assert!(d >= today, "{d} is before today");
        assert!(
            d < today + Duration::weeks(n as i64),
            "{d} is beyond {n} weeks"
        );
        if i > 0 {
            assert_eq!(at(s) - at(&items[i - 1]), Duration::weeks(1));
        }
    }
}

#[actix_web::test]
async fn a_group_started_today_has_its_next_8_weeks_of_sessions() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let today = Utc::now().date_naive();
    // Meeting tomorrow's weekday at 23:30 UTC; starting today.
    let g = fixtures::group(&app, ther.id)
        .start(today)
        .schedule(
            day_name((today + Duration::days(1)).weekday()),
            NaiveTime::from_hms_opt(23, 30, 0).unwrap(),
            "UTC",
        )
        .create();
    let c = fixtures::contract(&app, g, 1, sup.id);
    for _ in 0..8 {
        fixtures::active_member(&app, g, c, sup.id, Utc::now());
    }
    assert!(sessions(&app, &ther, g).await.is_empty());
    app.post(Some(&sup), &format!("/groups/{g}/start"), json!({}))
        .await
        .expect(200);
    // No generate call: the start made them.
    let items = sessions(&app, &ther, g).await;
    assert_weeks_ahead(&items, 8, 1);
    assert_eq!(at(&items[0]).date_naive(), today + Duration::days(1));
    let events = app.audit_actions("session.generate");
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].0,
        Some(sup.id),
        "on the start's own audit context"
    );
    assert_eq!(events[0].3["created"], 8);
    // The generate endpoint stays, and is idempotent with what was generated.
    let r = app
        .post(
            Some(&sup),
            &format!("/groups/{g}/sessions/generate"),
            json!({"through": today + Duration::weeks(8) - Duration::days(1)}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["created"], 0);
    let r = app
        .post(
            Some(&sup),
            &format!("/groups/{g}/sessions/generate"),
            json!({"through": today + Duration::weeks(9)}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["created"], 1);
    assert_eq!(r.body["items"][0]["sequence"], 9);
}

#[actix_web::test]
async fn a_group_started_late_gets_no_sessions_in_its_past() {
    let app = TestApp::spawn_with(|s| s.schedule_weeks = 3).await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id)
        .start(Utc::now().date_naive() - Duration::days(60))
        .create();
    let c = fixtures::contract(&app, g, 1, sup.id);
    for _ in 0..8 {
        fixtures::active_member(&app, g, c, sup.id, Utc::now());
    }
    app.post(Some(&sup), &format!("/groups/{g}/start"), json!({}))
        .await
        .expect(200);
    assert_weeks_ahead(&sessions(&app, &ther, g).await, 3, 1);
}

/// Active groups whose schedules stop in the past, or never began.
fn behind(app: &TestApp, lead: Uuid, n: usize) -> Vec<Uuid> {
    let today = Utc::now().date_naive();
    (0..n)
        .map(|i| {
            let g = fixtures::group(app, lead)
                .status("active")
                .start(today - Duration::days(90))
                .schedule(
                    day_name((today + Duration::days(i as i64)).weekday()),
                    NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
                    "UTC",
                )
                .create();
            if i % 2 == 0 {
                // Two held sessions, weeks ago.
                for (seq, days) in [(1, 80), (2, 73)] {
                    let day = today - Duration::days(days);
                    fixtures::session(
                        app,
                        g,
                        seq,
                        day.and_hms_opt(12, 0, 0).unwrap().and_utc(),
                        "held",
                    );
                }
            }
            g
        })
        .collect()
}

fn count(app: &TestApp, g: Uuid) -> i64 {
    use groupwork::schema::sessions;
    sessions::table
        .filter(sessions::group_id.eq(g))
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

#[actix_web::test]
async fn the_periodic_task_keeps_active_groups_ahead() {
    let app = TestApp::spawn().await;
    let ther = app.staff(Role::Therapist).await;
    let groups = behind(&app, ther.id, 2);
    let forming = fixtures::group(&app, ther.id).create();
    let cancelled = fixtures::group(&app, ther.id).status("cancelled").create();
    // The task `serve` runs, with a short period.
    horizon::spawn(app.state.clone(), StdDuration::from_millis(200));
    let deadline = Instant::now() + StdDuration::from_secs(20);
    while groups.iter().any(|g| count(&app, *g) < 8) {
        assert!(
            Instant::now() < deadline,
            "the task never generated the sessions"
        );
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    // A few more ticks change nothing.
    tokio::time::sleep(StdDuration::from_millis(700)).await;
    let with_history = sessions(&app, &ther, groups[0]).await;
    assert_eq!(with_history.len(), 10, "2 held + 8 ahead");
    assert_weeks_ahead(&with_history[2..], 8, 3);
    assert_weeks_ahead(&sessions(&app, &ther, groups[1]).await, 8, 1);
    assert_eq!(count(&app, forming), 0);
    assert_eq!(count(&app, cancelled), 0);
    let events = app.audit_actions("session.generate");
    assert_eq!(events.len(), 2, "one event per group extended");
    assert!(events
        .iter()
        .all(|e| e.0.is_none() && e.3["automatic"] == true));
}

#[actix_web::test]
async fn several_instances_sweeping_at_once_make_each_session_once() {
    let app = TestApp::spawn_with(|s| s.schedule_weeks = 8).await;
    let ther = app.staff(Role::Therapist).await;
    let groups = behind(&app, ther.id, 6);
    // Four "instances", each with its own connection, sweeping at the same moment.
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = app.db_url.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut conn = PgConnection::establish(&url).unwrap();
                barrier.wait();
                horizon::sweep(&mut conn, 8).unwrap()
            })
        })
        .collect();
    let created: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    // A group skipped because another instance held it is caught up by the next sweep.
    let again = horizon::sweep(&mut app.conn(), 8).unwrap();
    assert_eq!(created + again, 6 * 8);
    assert_eq!(again, 0, "every group was extended by one of the instances");
    for (i, g) in groups.iter().enumerate() {
        // Groups with an even index held two sessions weeks ago (see `behind`).
        let held = if i % 2 == 0 { 2 } else { 0 };
        assert_eq!(count(&app, *g), 8 + held as i64);
        let items = sessions(&app, &ther, *g).await;
        assert_weeks_ahead(&items[held..], 8, held as i64 + 1);
    }
    assert_eq!(horizon::sweep(&mut app.conn(), 8).unwrap(), 0, "idempotent");
}
