//! Issue 16, second part: completion means attending (`completion_attendance_rate`,
//! `sessions_attended`, `attendance_rate`) and absence streaks (`absence_streak`,
//! `last_attended_on`, `at_risk` following the streak).

use chrono::Duration;
use groupwork::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::exits_v2::{at, group, sid, Group};
use crate::groups::group_body;
use crate::helpers::TestApp;

#[actix_web::test]
async fn completion_attendance_rate_default_and_bounds() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let r = app
        .post(Some(&sup), "/groups", group_body(&ther))
        .await
        .expect(201);
    assert_eq!(r.body["completion_attendance_rate"], 0.75);
    let id = r.body["id"].as_str().unwrap().to_string();
    for bad in [json!(1.5), json!(-0.1), json!("most")] {
        let mut body = group_body(&ther);
        body["completion_attendance_rate"] = bad.clone();
        let r = app
            .post(Some(&sup), "/groups", body)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(
            r.body["errors"][0]["field"], "completion_attendance_rate",
            "{bad}"
        );
        let r = app
            .patch(
                Some(&sup),
                &format!("/groups/{id}"),
                json!({"completion_attendance_rate": bad}),
                None,
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "completion_attendance_rate");
    }
    let r = app
        .patch(
            Some(&sup),
            &format!("/groups/{id}"),
            json!({"completion_attendance_rate": 0.5}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(r.body["completion_attendance_rate"], 0.5);
    for edge in [0.0, 1.0] {
        app.patch(
            Some(&sup),
            &format!("/groups/{id}"),
            json!({"completion_attendance_rate": edge}),
            None,
        )
        .await
        .expect(200);
    }
}

/// Records the given statuses for `members` at sessions `from..` in order.
async fn sheet(g: &Group, session: &Value, rows: &[(Uuid, &str)]) {
    g.record(sid(session), rows).await.expect(200);
}

#[actix_web::test]
async fn completion_means_attending() {
    // minimum term 4, one session of notice
    let g = group(4, 1).await;
    let all = g.sessions().await;
    let (faithful, absent) = (g.member(), g.member());
    // five sessions: the faithful member comes to all, the other twice
    for (i, s) in all.iter().take(5).enumerate() {
        let other = if i < 2 {
            "present"
        } else {
            "unexcused_absence"
        };
        sheet(&g, s, &[(faithful, "present"), (absent, other)]).await;
    }
    let v = g.membership(absent).await;
    assert_eq!(v["sessions_held_since_join"], 5);
    assert_eq!(v["sessions_attended"], 2);
    assert_eq!(v["attendance_rate"], 0.4);
    assert_eq!(v["minimum_term_met"], true);
    let v = g.membership(faithful).await;
    assert_eq!(
        (
            v["sessions_attended"].as_i64(),
            v["attendance_rate"].as_f64()
        ),
        (Some(5), Some(1.0))
    );
    // both give notice after session 5: session 6 is the farewell
    for m in [faithful, absent] {
        g.app
            .post(
                Some(&g.ther),
                &format!("/memberships/{m}/exit-notice"),
                json!({"reason": "r", "announced_at": at(&all[4]) + Duration::hours(2)}),
            )
            .await
            .expect(200);
    }
    sheet(&g, &all[5], &[(faithful, "present"), (absent, "present")]).await;
    let v = g.membership(faithful).await;
    assert_eq!(
        (v["status"].as_str(), v["exit_reason"].as_str()),
        (Some("exited"), Some("completed"))
    );
    let v = g.membership(absent).await;
    assert_eq!(
        (v["status"].as_str(), v["exit_reason"].as_str()),
        (Some("exited"), Some("early_exit")),
        "met the minimum term but came 3 of 6 times: not a completion"
    );
    assert_eq!(v["attendance_rate"], 0.5);
}

#[actix_web::test]
async fn a_completed_group_ends_its_seats() {
    let g = group(2, 1).await;
    let all = g.sessions().await;
    let (faithful, absent) = (g.member(), g.member());
    for s in all.iter().take(4) {
        sheet(&g, s, &[(faithful, "late"), (absent, "excused_absence")]).await;
    }
    let sup = g.app.staff(Role::Supervisor).await;
    g.app
        .post(Some(&sup), &format!("/groups/{}/complete", g.id), json!({}))
        .await
        .expect(200);
    let v = g.membership(faithful).await;
    assert_eq!(v["exit_reason"], "completed");
    let v = g.membership(absent).await;
    assert_eq!(
        v["exit_reason"], "group_ended",
        "not early_exit: the group ended"
    );
}

#[actix_web::test]
async fn absence_streaks_and_at_risk() {
    let g = group(12, 2).await;
    let sup = g.app.staff(Role::Supervisor).await;
    let all = g.sessions().await;
    let (m, other) = (g.member(), g.member());
    let fresh = g.membership(m).await;
    assert_eq!(fresh["absence_streak"], 0);
    assert_eq!(fresh["last_attended_on"], Value::Null);
    assert_eq!(fresh["attendance_rate"], Value::Null, "nothing held yet");
    let statuses = [
        "present",
        "unexcused_absence",
        "excused_absence",
        "unexcused_absence",
        "excused_absence",
    ];
    for (s, st) in all.iter().zip(statuses) {
        sheet(&g, s, &[(m, st), (other, "present")]).await;
    }
    let v = g.membership(m).await;
    assert_eq!(
        v["absence_streak"], 2,
        "excused absences neither break nor extend it"
    );
    assert_eq!(v["last_attended_on"], at(&all[0]).date_naive().to_string());
    assert_eq!(v["at_risk"], false, "threshold 3");
    // the threshold lowered to 2: at risk
    g.app
        .patch(
            Some(&sup),
            &format!("/groups/{}", g.id),
            json!({"absence_alert_threshold": 2}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(g.membership(m).await["at_risk"], true);
    let r = g
        .app
        .get(
            Some(&g.ther),
            &format!("/groups/{}/members?at_risk=true", g.id),
        )
        .await
        .expect(200);
    let ids: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![m.to_string().as_str()]);
    // coming late breaks the streak
    sheet(&g, &all[5], &[(m, "late"), (other, "present")]).await;
    let v = g.membership(m).await;
    assert_eq!(
        (v["absence_streak"].as_i64(), v["at_risk"].as_bool()),
        (Some(0), Some(false))
    );
    assert_eq!(v["last_attended_on"], at(&all[5]).date_naive().to_string());
    assert_eq!(v["sessions_attended"], 2);
    assert_eq!(v["attendance_rate"], 0.3333);
}
