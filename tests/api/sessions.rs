//! Issue 6: session generation (DST, idempotence, bounds), listing, cancellation, role matrix.

use chrono::{Duration, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use groupwork::auth::Role;
use serde_json::json;

use crate::fixtures;
use crate::helpers::TestApp;

#[actix_web::test]
async fn generation_keeps_local_time_across_dst_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id)
        .schedule(
            "thursday",
            NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            "America/New_York",
        )
        .start(NaiveDate::from_ymd_opt(2026, 2, 26).unwrap())
        .create();
    let r = app
        .post(
            Some(&sup),
            &format!("/groups/{g}/sessions/generate"),
            json!({"through": "2026-11-12"}),
        )
        .await
        .expect(200);
    let items = r.body["items"].as_array().unwrap().clone();
    assert_eq!(r.body["created"].as_u64().unwrap() as usize, items.len());
    let ny: Tz = "America/New_York".parse().unwrap();
    let mut previous = 0;
    for s in &items {
        let at: chrono::DateTime<Utc> = s["scheduled_at"].as_str().unwrap().parse().unwrap();
        let local = at.with_timezone(&ny);
        assert_eq!(
            (local.hour(), local.minute()),
            (18, 0),
            "18:00 local every week: {at}"
        );
        assert_eq!(local.format("%A").to_string(), "Thursday");
        let seq = s["sequence"].as_i64().unwrap();
        assert_eq!(seq, previous + 1, "no gaps");
        previous = seq;
    }
    // both sides of March 8 and November 1, 2026
    let utc_hours: Vec<u32> = items
        .iter()
        .map(|s| {
            s["scheduled_at"]
                .as_str()
                .unwrap()
                .parse::<chrono::DateTime<Utc>>()
                .unwrap()
                .hour()
        })
        .collect();
    assert_eq!(utc_hours.first(), Some(&23));
    assert!(utc_hours.contains(&22));
    assert_eq!(utc_hours.last(), Some(&23));

    let r = app
        .post(
            Some(&sup),
            &format!("/groups/{g}/sessions/generate"),
            json!({"through": "2026-11-12"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["created"], 0, "idempotent");
    let r = app
        .post(
            Some(&sup),
            &format!("/groups/{g}/sessions/generate"),
            json!({"through": "2026-11-26"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["created"], 2);
    assert_eq!(
        r.body["items"][0]["sequence"].as_i64().unwrap(),
        previous + 1
    );

    // at most one year ahead: the same date next year is the last one accepted
    let a_year = Utc::now().with_timezone(&ny).date_naive() + chrono::Months::new(12);
    app.post(
        Some(&sup),
        &format!("/groups/{g}/sessions/generate"),
        json!({"through": a_year.succ_opt().unwrap().to_string()}),
    )
    .await
    .expect_invalid("through");
    app.post(
        Some(&sup),
        &format!("/groups/{g}/sessions/generate"),
        json!({"through": a_year.to_string()}),
    )
    .await
    .expect(200);
    let far = (Utc::now().date_naive() + Duration::days(400)).to_string();
    app.post(
        Some(&sup),
        &format!("/groups/{g}/sessions/generate"),
        json!({"through": far}),
    )
    .await
    .expect_invalid("through");
    app.post(
        Some(&sup),
        &format!("/groups/{g}/sessions/generate"),
        json!({"through": "2026-13-01"}),
    )
    .await
    .expect_invalid("through");

    // list with a local-date window
    let r = app
        .get(
            Some(&ther),
            &format!("/groups/{g}/sessions?from=2026-03-01&to=2026-03-31"),
        )
        .await
        .expect(200);
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        4,
        "March 5, 12, 19, 26"
    );
    let r = app
        .get(Some(&ther), &format!("/groups/{g}/sessions?limit=2"))
        .await
        .expect(200);
    assert!(r.body["next_cursor"].is_string());
}

#[actix_web::test]
async fn end_date_bounds_generation() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id)
        .start(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap())
        .create();
    {
        use diesel::prelude::*;
        use groupwork::schema::groups;
        diesel::update(groups::table.find(g))
            .set(groups::end_date.eq(NaiveDate::from_ymd_opt(2026, 2, 2)))
            .execute(&mut app.conn())
            .unwrap();
    }
    let r = app
        .post(
            Some(&admin),
            &format!("/groups/{g}/sessions/generate"),
            json!({"through": "2026-06-01"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["created"], 5, "Jan 5, 12, 19, 26 and Feb 2");
}

#[actix_web::test]
async fn cancel_rules() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id).create();
    let s = fixtures::session(&app, g, 1, Utc::now() + Duration::days(2), "scheduled");
    app.post(
        Some(&intake),
        &format!("/sessions/{s}/cancel"),
        json!({"reason": " "}),
    )
    .await
    .expect_invalid("reason");
    let r = app
        .post(
            Some(&ther),
            &format!("/sessions/{s}/cancel"),
            json!({"reason": "therapist ill"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(r.body["cancel_reason"], "therapist ill");
    assert_eq!(r.body["sequence"], 1, "keeps its number");
    app.post(
        Some(&intake),
        &format!("/sessions/{s}/cancel"),
        json!({"reason": "again"}),
    )
    .await
    .expect_problem(409, "conflict");
    let held = fixtures::session(&app, g, 2, Utc::now() - Duration::days(2), "held");
    app.post(
        Some(&intake),
        &format!("/sessions/{held}/cancel"),
        json!({"reason": "x"}),
    )
    .await
    .expect_problem(409, "conflict");
}

#[actix_web::test]
async fn role_and_scope_matrix() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let sup = app.staff(Role::Supervisor).await;
    let intake = app.staff(Role::Intake).await;
    let ther = app.staff(Role::Therapist).await;
    let stranger = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id)
        .start(Utc::now().date_naive())
        .create();
    for u in [&admin, &sup, &intake, &ther] {
        app.post(
            Some(u),
            &format!("/groups/{g}/sessions/generate"),
            json!({"through": (Utc::now().date_naive() + Duration::days(14)).to_string()}),
        )
        .await
        .expect(200);
        app.get(Some(u), &format!("/groups/{g}/sessions"))
            .await
            .expect(200);
    }
    app.post(
        Some(&stranger),
        &format!("/groups/{g}/sessions/generate"),
        json!({"through": "2026-12-31"}),
    )
    .await
    .expect_problem(404, "not_found");
    app.get(Some(&stranger), &format!("/groups/{g}/sessions"))
        .await
        .expect_problem(404, "not_found");
    let r = app
        .get(Some(&sup), &format!("/groups/{g}/sessions"))
        .await
        .expect(200);
    let ids: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 2);
    app.post(
        Some(&stranger),
        &format!("/sessions/{}/cancel", ids[0]),
        json!({"reason": "x"}),
    )
    .await
    .expect_problem(404, "not_found");
    app.post(
        Some(&admin),
        &format!("/sessions/{}/cancel", ids[0]),
        json!({"reason": "holiday"}),
    )
    .await
    .expect(200);
    app.get(Some(&admin), &format!("/sessions/{}/attendance", ids[1]))
        .await
        .expect_problem(403, "forbidden");
    app.put(
        Some(&admin),
        &format!("/sessions/{}/attendance", ids[1]),
        json!({"records": []}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.get(Some(&stranger), &format!("/sessions/{}/attendance", ids[1]))
        .await
        .expect_problem(404, "not_found");
    for u in [&sup, &intake, &ther] {
        app.get(Some(u), &format!("/sessions/{}/attendance", ids[1]))
            .await
            .expect(200);
    }
    app.put(
        Some(&stranger),
        &format!("/sessions/{}/attendance", ids[1]),
        json!({"records": []}),
    )
    .await
    .expect_problem(404, "not_found");
    // intake and the group's therapist cancel in `cancel_rules`; the supervisor too
    app.post(
        Some(&sup),
        &format!("/sessions/{}/cancel", ids[1]),
        json!({"reason": "holiday"}),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn concurrent_generation_numbers_each_session_once() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id)
        .start(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap())
        .create();
    let path = format!("/groups/{g}/sessions/generate");
    let body = json!({"through": "2026-06-29"});
    let results =
        futures::future::join_all((0..8).map(|_| app.post(Some(&sup), &path, body.clone()))).await;
    let mut created = 0;
    for r in results {
        created += r.expect(200).body["created"].as_u64().unwrap();
    }
    assert_eq!(
        created, 26,
        "Mondays Jan 5 … Jun 29, each created by exactly one request"
    );
    let r = app
        .get(Some(&sup), &format!("/groups/{g}/sessions?limit=200"))
        .await
        .expect(200);
    let seqs: Vec<i64> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=26).collect::<Vec<_>>());
}

#[actix_web::test]
async fn the_last_and_first_representable_dates_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id)
        .schedule(
            "monday",
            NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            "America/New_York",
        )
        .create();
    for d in [NaiveDate::MAX, NaiveDate::MIN] {
        let d = d.to_string().replace('+', "%2B");
        for q in ["from", "to"] {
            app.get(Some(&sup), &format!("/groups/{g}/sessions?{q}={d}"))
                .await
                .expect_invalid(q);
        }
    }
    for d in [NaiveDate::MAX, NaiveDate::MIN] {
        app.post(
            Some(&sup),
            &format!("/groups/{g}/sessions/generate"),
            json!({"through": d}),
        )
        .await
        .expect_invalid("through");
    }
}
