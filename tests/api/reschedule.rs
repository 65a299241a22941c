//! Issue 16: rescheduling one session (`PATCH /sessions/{id}`) — not into the past, no overlap
//! with the group's other sessions, exit plans that point at it stay right.

use chrono::{DateTime, Duration, Utc};
use groupwork::auth::Role;
use serde_json::json;

use crate::exits_v2::{at, group, sid};

#[actix_web::test]
async fn rescheduling_a_session() {
    let g = group(1, 2).await;
    let m = g.member();
    // a notice given now: the farewell is the 2nd session from now (generated on demand)
    let r = g
        .app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m}/exit-notice"),
            json!({"reason": "r"}),
        )
        .await
        .expect(200);
    let planned = r.body["planned_last_session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let all = g.sessions().await;
    let first = all.iter().position(|s| at(s) > Utc::now()).unwrap();
    let (s1, s2, s3) = (&all[first], &all[first + 1], &all[first + 2]);
    assert_eq!(sid(s2), planned);
    let path = |s: &serde_json::Value| format!("/sessions/{}", sid(s));

    // half an hour later and longer: fine, the plan stays
    let later = at(s1) + Duration::minutes(30);
    let r = g
        .app
        .patch(
            Some(&g.ther),
            &path(s1),
            json!({"scheduled_at": later, "duration_minutes": 120}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        r.body["scheduled_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        later
    );
    assert_eq!(r.body["duration_minutes"], 120);
    assert!(r.body["group_name"].as_str().is_some());
    assert_eq!(
        g.membership(m).await["planned_last_session_id"],
        planned.as_str()
    );
    let events = g.app.audit_actions("session.reschedule");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].3["to"]["duration_minutes"], 120);

    // bad input names the field; an overlap or a held session is a conflict
    let r = g
        .app
        .patch(
            Some(&g.ther),
            &path(s2),
            json!({"scheduled_at": Utc::now() - Duration::hours(1)}),
            None,
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "scheduled_at");
    let r = g
        .app
        .patch(
            Some(&g.ther),
            &path(s2),
            json!({"duration_minutes": 10}),
            None,
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "duration_minutes");
    g.app
        .patch(
            Some(&g.ther),
            &path(s2),
            json!({"scheduled_at": later + Duration::minutes(60)}),
            None,
        )
        .await
        .expect_problem(409, "conflict");
    let past = &all[0];
    g.record(sid(past), &[(m, "present")]).await.expect(200);
    g.app
        .patch(
            Some(&g.ther),
            &path(past),
            json!({"scheduled_at": Utc::now() + Duration::days(1)}),
            None,
        )
        .await
        .expect_problem(409, "conflict");
    // another group's therapist does not see it
    let stranger = g.app.staff(Role::Therapist).await;
    g.app
        .patch(
            Some(&stranger),
            &path(s2),
            json!({"duration_minutes": 60}),
            None,
        )
        .await
        .expect_problem(404, "not_found");

    // the farewell session moves past the next one: the plan follows (the 2nd session after
    // the notice is now the other)
    let r = g
        .app
        .patch(
            Some(&g.ther),
            &path(s2),
            json!({"scheduled_at": at(s3) + Duration::days(1)}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "scheduled");
    assert_eq!(g.membership(m).await["planned_last_session_id"], sid(s3));
    let moved = g.app.audit_actions("membership.exit_plan_moved");
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].3["rescheduled_session_id"], sid(s2));
    // intake may reschedule too (SPEC §4)
    let intake = g.app.staff(Role::Intake).await;
    g.app
        .patch(
            Some(&intake),
            &path(s3),
            json!({"duration_minutes": 60}),
            None,
        )
        .await
        .expect(200);
}
