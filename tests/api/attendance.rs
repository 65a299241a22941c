//! Issue 6: attendance — exact rosters, not started / cancelled, corrections, at_risk.

use chrono::{Duration, Utc};
use groupwork::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::TestApp;

fn records(ids: &[Uuid], status: &str) -> Value {
    json!({"records": ids.iter().map(|id| json!({"membership_id": id, "status": status})).collect::<Vec<_>>()})
}

#[actix_web::test]
async fn roster_must_be_exactly_the_seated_members() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id).status("active").create();
    let c = fixtures::contract(&app, g, 1, ther.id);
    let at = Utc::now() - Duration::hours(3);
    let (a, _) = fixtures::active_member(&app, g, c, ther.id, at - Duration::days(10));
    let (b, _) = fixtures::active_member(&app, g, c, ther.id, at - Duration::days(10));
    let (later, _) = fixtures::active_member(&app, g, c, ther.id, at + Duration::hours(2)); // joined after it
    let s = fixtures::session(&app, g, 1, at, "scheduled");
    let path = format!("/sessions/{s}/attendance");

    let r = app
        .put(Some(&intake), &path, records(&[a], "present"))
        .await
        .expect_problem(422, "roster_mismatch");
    assert!(
        r.text.contains(&b.to_string()),
        "names the missing member: {}",
        r.text
    );
    let r = app
        .put(Some(&intake), &path, records(&[a, b, later], "present"))
        .await
        .expect_problem(422, "roster_mismatch");
    assert!(
        r.text.contains(&later.to_string()),
        "names the extra member"
    );
    app.put(Some(&intake), &path, records(&[a, a, b], "present"))
        .await
        .expect_problem(422, "roster_mismatch");
    let bad = json!({"records": [{"membership_id": a, "status": "present", "minutes_late": 5}, {"membership_id": b, "status": "late", "minutes_late": 9000}]});
    app.put(Some(&intake), &path, bad)
        .await
        .expect_invalid("records[0].minutes_late");
    app.put(
        Some(&intake),
        &path,
        json!({"records": [{"membership_id": a, "status": "asleep"}]}),
    )
    .await
    .expect_invalid("records[0].status");
    // nothing half-written
    let r = app.get(Some(&intake), &path).await.expect(200);
    assert_eq!(r.body["session"]["status"], "scheduled");
    assert!(r.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["status"].is_null()));
    assert_eq!(
        r.body["records"].as_array().unwrap().len(),
        2,
        "the sheet lists the seated roster"
    );

    let body = json!({"records": [{"membership_id": a, "status": "late", "minutes_late": 10}, {"membership_id": b, "status": "excused_absence"}]});
    let r = app.put(Some(&intake), &path, body).await.expect(200);
    assert_eq!(r.body["session"]["status"], "held");
    let recs = r.body["records"].as_array().unwrap();
    let rec_a = recs
        .iter()
        .find(|x| x["membership_id"] == a.to_string())
        .unwrap();
    assert_eq!(
        (rec_a["status"].as_str(), rec_a["minutes_late"].as_i64()),
        (Some("late"), Some(10))
    );
    assert_eq!(rec_a["recorded_by"], intake.id.to_string());
    assert_eq!(app.audit_actions("attendance.record").len(), 1);
}

#[actix_web::test]
async fn not_started_and_cancelled() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let g = fixtures::group(&app, sup.id).status("active").create();
    let c = fixtures::contract(&app, g, 1, sup.id);
    let (a, _) = fixtures::active_member(&app, g, c, sup.id, Utc::now() - Duration::days(30));
    let future = fixtures::session(&app, g, 1, Utc::now() + Duration::hours(1), "scheduled");
    app.put(
        Some(&sup),
        &format!("/sessions/{future}/attendance"),
        records(&[a], "present"),
    )
    .await
    .expect_problem(409, "session_not_started");
    let cancelled = fixtures::session(&app, g, 2, Utc::now() - Duration::days(1), "cancelled");
    app.put(
        Some(&sup),
        &format!("/sessions/{cancelled}/attendance"),
        records(&[a], "present"),
    )
    .await
    .expect_problem(409, "session_cancelled");
    app.put(
        Some(&sup),
        &format!("/sessions/{}/attendance", Uuid::new_v4()),
        records(&[a], "present"),
    )
    .await
    .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn corrections_keep_the_previous_value_in_the_audit_trail() {
    let app = TestApp::spawn().await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id).status("active").create();
    let c = fixtures::contract(&app, g, 1, ther.id);
    let (a, _) = fixtures::active_member(&app, g, c, ther.id, Utc::now() - Duration::days(30));
    let (b, _) = fixtures::active_member(&app, g, c, ther.id, Utc::now() - Duration::days(30));
    let s = fixtures::session(&app, g, 1, Utc::now() - Duration::days(1), "scheduled");
    let path = format!("/sessions/{s}/attendance");
    app.put(Some(&ther), &path, records(&[a, b], "present"))
        .await
        .expect(200);
    let body = json!({"records": [{"membership_id": a, "status": "unexcused_absence"}, {"membership_id": b, "status": "present"}]});
    let r = app.put(Some(&ther), &path, body).await.expect(200);
    let rec_a = r.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["membership_id"] == a.to_string())
        .unwrap()
        .clone();
    assert_eq!(rec_a["status"], "unexcused_absence");
    let corrections = app.audit_actions("attendance.correct");
    assert_eq!(corrections.len(), 1);
    let changes = &corrections[0].3["changes"];
    assert_eq!(
        changes[a.to_string()],
        json!({"from": "present", "to": "unexcused_absence"})
    );
    assert!(
        changes.get(b.to_string()).is_none(),
        "unchanged records are not listed"
    );
}

#[actix_web::test]
async fn at_risk_appears_and_clears() {
    let app = TestApp::spawn().await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id)
        .status("active")
        .terms(12, 3, 2)
        .create();
    let c = fixtures::contract(&app, g, 1, ther.id);
    let (a, _) = fixtures::active_member(&app, g, c, ther.id, Utc::now() - Duration::days(60));
    let (b, _) = fixtures::active_member(&app, g, c, ther.id, Utc::now() - Duration::days(60));
    let sessions: Vec<Uuid> = (1..=3)
        .map(|i| {
            fixtures::session(
                &app,
                g,
                i,
                Utc::now() - Duration::days(30 - 7 * i as i64),
                "scheduled",
            )
        })
        .collect();
    let risky = |status: &str| json!({"records": [{"membership_id": a, "status": status}, {"membership_id": b, "status": "present"}]});
    let at_risk_ids = |r: &crate::helpers::Resp| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    };
    app.put(
        Some(&ther),
        &format!("/sessions/{}/attendance", sessions[0]),
        risky("unexcused_absence"),
    )
    .await
    .expect(200);
    let r = app
        .get(Some(&ther), &format!("/groups/{g}/members?at_risk=true"))
        .await
        .expect(200);
    assert!(
        at_risk_ids(&r).is_empty(),
        "one absence is below the threshold of 2"
    );
    app.put(
        Some(&ther),
        &format!("/sessions/{}/attendance", sessions[1]),
        risky("unexcused_absence"),
    )
    .await
    .expect(200);
    let r = app
        .get(Some(&ther), &format!("/groups/{g}/members?at_risk=true"))
        .await
        .expect(200);
    assert_eq!(at_risk_ids(&r), vec![a.to_string()]);
    let r = app
        .get(Some(&ther), &format!("/memberships/{a}"))
        .await
        .expect(200);
    assert_eq!(r.body["at_risk"], true);
    app.put(
        Some(&ther),
        &format!("/sessions/{}/attendance", sessions[2]),
        risky("present"),
    )
    .await
    .expect(200);
    let r = app
        .get(Some(&ther), &format!("/groups/{g}/members?at_risk=true"))
        .await
        .expect(200);
    assert!(at_risk_ids(&r).is_empty(), "attending clears it");
    let r = app
        .get(Some(&ther), &format!("/memberships/{a}"))
        .await
        .expect(200);
    assert_eq!(r.body["sessions_held_since_join"], 3);
}

#[actix_web::test]
async fn concurrent_submissions_are_one_record_and_one_correction() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id).status("active").create();
    let c = fixtures::contract(&app, g, 1, ther.id);
    let (a, _) = fixtures::active_member(&app, g, c, ther.id, Utc::now() - Duration::days(30));
    let (b, _) = fixtures::active_member(&app, g, c, ther.id, Utc::now() - Duration::days(30));
    let s = fixtures::session(&app, g, 1, Utc::now() - Duration::hours(2), "scheduled");
    let path = format!("/sessions/{s}/attendance");
    let (r1, r2) = futures::join!(
        app.put(Some(&intake), &path, records(&[a, b], "present")),
        app.put(Some(&ther), &path, records(&[a, b], "late")),
    );
    r1.expect(200);
    r2.expect(200);
    assert_eq!(app.audit_actions("attendance.record").len(), 1);
    let corrections = app.audit_actions("attendance.correct");
    assert_eq!(
        corrections.len(),
        1,
        "the second submission corrects the first"
    );
    // the last writer's statuses stand, and the correction names what it replaced
    let r = app.get(Some(&intake), &path).await.expect(200);
    let statuses: Vec<&str> = r.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.iter().all(|st| *st == statuses[0]));
    let to = &corrections[0].3["changes"][a.to_string()]["to"];
    assert_eq!(to.as_str(), Some(statuses[0]));
}
