//! Issue 16: effective dates for discharge and withdraw (late entry) — not in the future, not
//! before admission; attendance recorded after the effective time is removed and audited.

use chrono::{DateTime, Duration, Utc};
use groupwork::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::exits_v2::{at, group, sid};
use crate::fixtures;

#[actix_web::test]
async fn late_entered_discharge_removes_later_attendance() {
    let g = group(12, 2).await;
    let all = g.sessions().await;
    let (m, other) = (g.member(), g.member());
    for (i, s) in all.iter().take(5).enumerate() {
        let st = if i == 3 { "late" } else { "present" };
        g.record(sid(s), &[(m, st), (other, "present")])
            .await
            .expect(200);
    }
    let path = format!("/memberships/{m}/discharge");
    // bad effective times name the field
    for bad in [
        Utc::now() + Duration::hours(2),
        Utc::now() - Duration::weeks(20),
    ] {
        let r = g
            .app
            .post(
                Some(&g.ther),
                &path,
                json!({"exit_reason": "hospitalized", "note": "n", "effective_at": bad}),
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "effective_at");
    }
    let effective = at(&all[2]) - Duration::hours(3);
    let r = g
        .app
        .post(
            Some(&g.ther),
            &path,
            json!({"exit_reason": "hospitalized", "note": "admitted to hospital that morning", "effective_at": effective}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["exit_reason"], "hospitalized");
    assert_eq!(
        r.body["exited_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        effective
    );
    assert_eq!(r.body["sessions_held_since_join"], 2);
    assert_eq!(r.body["sessions_attended"], 2);
    // sessions 3..5 no longer list the member; sessions 1..2 still do
    for (i, s) in all.iter().take(5).enumerate() {
        let sheet = g
            .app
            .get(Some(&g.ther), &format!("/sessions/{}/attendance", sid(s)))
            .await
            .expect(200);
        let listed: Vec<&Value> = sheet.body["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["membership_id"] == m.to_string())
            .collect();
        assert_eq!(listed.len(), usize::from(i < 2), "session {i}");
    }
    let removed = g.app.audit_actions("attendance.remove");
    assert_eq!(removed.len(), 3);
    let olds: Vec<&str> = removed
        .iter()
        .map(|e| e.3["from"]["status"].as_str().unwrap())
        .collect();
    assert!(olds.contains(&"late") && olds.iter().filter(|s| **s == "present").count() == 2);
    assert!(removed
        .iter()
        .all(|e| e.3["membership_id"] == m.to_string()));
    // the next roster is the other member alone
    g.record(sid(&all[5]), &[(other, "present")])
        .await
        .expect(200);
    g.record(sid(&all[6]), &[(m, "present"), (other, "present")])
        .await
        .expect_problem(422, "roster_mismatch");
}

#[actix_web::test]
async fn late_entered_withdrawal() {
    let app = crate::helpers::TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let lead = app.staff(Role::Therapist).await;
    let group = fixtures::group(&app, lead.id).create();
    let client = fixtures::client(&app, "Late", "Withdrawal");
    let sc = fixtures::accepted_screening(&app, client, lead.id, Some(group), 5);
    let r = app
        .post(
            Some(&sup),
            &format!("/groups/{group}/members"),
            json!({"client_id": client, "screening_id": sc}),
        )
        .await
        .expect(201);
    let m: Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    // the admission was entered three days ago
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE memberships SET created_at = now() - interval '3 days' WHERE id = '{m}'"
        )),
        &mut app.conn(),
    )
    .unwrap();
    let path = format!("/memberships/{m}/withdraw");
    let r = app
        .post(
            Some(&sup),
            &path,
            json!({"effective_at": Utc::now() - Duration::days(4)}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "effective_at");
    let r = app
        .post(Some(&sup), &path, json!({"effective_at": "yesterday"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "effective_at");
    let when = Utc::now() - Duration::days(2);
    let r = app
        .post(Some(&sup), &path, json!({"effective_at": when}))
        .await
        .expect(200);
    assert_eq!(r.body["exit_reason"], "withdrawn");
    let exited: DateTime<Utc> = r.body["exited_at"].as_str().unwrap().parse().unwrap();
    assert!((exited - when).num_milliseconds().abs() < 1);
}
