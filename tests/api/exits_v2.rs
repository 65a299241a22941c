//! Issue 16, first part: a screening admits once, rescinding an exit notice (also racing the
//! farewell session's attendance), the extended discharge reasons and `group_ended`.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use groupwork::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

pub struct Group {
    pub app: TestApp,
    pub ther: TestUser,
    pub id: Uuid,
    pub contract: Uuid,
}

/// An active group that met weekly in the past (sessions generated from 10 weeks ago to today).
pub async fn group(min_term: i32, notice: i32) -> Group {
    let app = TestApp::spawn().await;
    let ther = app.staff(Role::Therapist).await;
    let start = Utc::now().date_naive() - Duration::weeks(10);
    let day = match start.format("%A").to_string().to_lowercase().as_str() {
        "monday" => "monday",
        "tuesday" => "tuesday",
        "wednesday" => "wednesday",
        "thursday" => "thursday",
        "friday" => "friday",
        "saturday" => "saturday",
        _ => "sunday",
    };
    let id = fixtures::group(&app, ther.id)
        .status("active")
        .start(start)
        .schedule(day, NaiveTime::from_hms_opt(0, 5, 0).unwrap(), "UTC")
        .terms(min_term, notice, 3)
        .create();
    let contract = fixtures::contract(&app, id, 1, ther.id);
    app.post(
        Some(&ther),
        &format!("/groups/{id}/sessions/generate"),
        json!({"through": Utc::now().date_naive().to_string()}),
    )
    .await
    .expect(200);
    Group {
        app,
        ther,
        id,
        contract,
    }
}

impl Group {
    pub async fn sessions(&self) -> Vec<Value> {
        let r = self
            .app
            .get(
                Some(&self.ther),
                &format!("/groups/{}/sessions?limit=200", self.id),
            )
            .await
            .expect(200);
        r.body["items"].as_array().unwrap().clone()
    }

    /// Records `status` for each member at `session`.
    pub async fn record(&self, session: &str, members: &[(Uuid, &str)]) -> crate::helpers::Resp {
        let records: Vec<_> = members
            .iter()
            .map(|(m, s)| json!({"membership_id": m, "status": s}))
            .collect();
        self.app
            .put(
                Some(&self.ther),
                &format!("/sessions/{session}/attendance"),
                json!({"records": records}),
            )
            .await
    }

    pub async fn membership(&self, m: Uuid) -> Value {
        self.app
            .get(Some(&self.ther), &format!("/memberships/{m}"))
            .await
            .expect(200)
            .body
    }

    /// A member who signed 11 weeks ago (before every session).
    pub fn member(&self) -> Uuid {
        fixtures::active_member(
            &self.app,
            self.id,
            self.contract,
            self.ther.id,
            Utc::now() - Duration::weeks(11),
        )
        .0
    }
}

pub fn at(s: &Value) -> DateTime<Utc> {
    s["scheduled_at"].as_str().unwrap().parse().unwrap()
}

pub fn sid(s: &Value) -> &str {
    s["id"].as_str().unwrap()
}

#[actix_web::test]
async fn a_screening_admits_once() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let lead = app.staff(Role::Therapist).await;
    let a = fixtures::group(&app, lead.id).create();
    let b = fixtures::group(&app, lead.id).create();
    let client = fixtures::client(&app, "Returning", "Client");
    let screening = fixtures::accepted_screening(&app, client, lead.id, None, 3);
    let admit = |g: Uuid, sc: Uuid| {
        let app = &app;
        let sup = &sup;
        async move {
            app.post(
                Some(sup),
                &format!("/groups/{g}/members"),
                json!({"client_id": client, "screening_id": sc}),
            )
            .await
        }
    };
    let first = admit(a, screening).await.expect(201);
    let m = first.body["id"].as_str().unwrap().to_string();
    app.post(Some(&sup), &format!("/memberships/{m}/withdraw"), json!({}))
        .await
        .expect(200);
    // the same screening, again in the same group or in another: used up
    let r = admit(a, screening)
        .await
        .expect_problem(409, "screening_required");
    assert!(r.body["detail"].as_str().unwrap().contains("new screening"));
    admit(b, screening)
        .await
        .expect_problem(409, "screening_required");
    // a new screening admits again
    let again = fixtures::accepted_screening(&app, client, lead.id, Some(a), 1);
    admit(a, again).await.expect(201);
}

#[actix_web::test]
async fn one_screening_raced_into_two_groups_admits_once() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let lead = app.staff(Role::Therapist).await;
    let groups: Vec<Uuid> = (0..6)
        .map(|_| fixtures::group(&app, lead.id).create())
        .collect();
    let client = fixtures::client(&app, "Race", "Screening");
    let screening = fixtures::accepted_screening(&app, client, lead.id, None, 3);
    let paths: Vec<String> = groups
        .iter()
        .map(|g| format!("/groups/{g}/members"))
        .collect();
    let results = futures::future::join_all(paths.iter().map(|p| {
        app.post(
            Some(&sup),
            p,
            json!({"client_id": client, "screening_id": screening}),
        )
    }))
    .await;
    let won = results.iter().filter(|r| r.status == 201).count();
    let refused = results
        .iter()
        .filter(|r| r.status == 409 && r.body["code"] == "screening_required")
        .count();
    assert_eq!((won, refused), (1, 5));
}

#[actix_web::test]
async fn rescinding_an_exit_notice() {
    let g = group(1, 2).await;
    let m = g.member();
    let all = g.sessions().await;
    g.record(sid(&all[0]), &[(m, "present")]).await.expect(200);
    let announced = at(&all[0]) + Duration::hours(2);
    g.app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m}/exit-notice"),
            json!({"reason": "thinking of leaving", "announced_at": announced}),
        )
        .await
        .expect(200);
    // bad input names the field
    let r = g
        .app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m}/rescind-exit"),
            json!({"reason": "  "}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "reason");
    // intake may not
    let intake = g.app.staff(Role::Intake).await;
    g.app
        .post(
            Some(&intake),
            &format!("/memberships/{m}/rescind-exit"),
            json!({"reason": "x"}),
        )
        .await
        .expect(403);
    let r = g
        .app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m}/rescind-exit"),
            json!({"reason": "explored it in group; stays"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["planned_last_session_id"], Value::Null);
    assert_eq!(r.body["exit_rescind_reason"], "explored it in group; stays");
    assert!(r.body["exit_rescinded_at"].is_string());
    let events = g.app.audit_actions("membership.rescind_exit");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].2, Some(m));
    assert!(
        !events[0].3.to_string().contains("explored"),
        "no clinical text in the audit"
    );
    // the planned last session no longer ends the seat
    g.record(sid(&all[1]), &[(m, "present")]).await.expect(200);
    g.record(sid(&all[2]), &[(m, "present")]).await.expect(200);
    assert_eq!(g.membership(m).await["status"], "active");
    // an active member has nothing to rescind
    g.app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m}/rescind-exit"),
            json!({"reason": "again"}),
        )
        .await
        .expect_problem(409, "conflict");
    // a new notice, the farewell held: too late
    let announced = at(&all[2]) + Duration::hours(2);
    g.app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m}/exit-notice"),
            json!({"reason": "leaving now", "announced_at": announced}),
        )
        .await
        .expect(200);
    g.record(sid(&all[3]), &[(m, "present")]).await.expect(200);
    g.record(sid(&all[4]), &[(m, "present")]).await.expect(200);
    assert_eq!(g.membership(m).await["status"], "exited");
    g.app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m}/rescind-exit"),
            json!({"reason": "too late"}),
        )
        .await
        .expect_problem(409, "conflict");
}

/// SPEC §2 race safety: a rescind and the recording of the farewell session's attendance, sent
/// at once, serialise: either the rescind wins (the member stays, recorded present) or the
/// farewell does (the member exits and the rescind is a 409) — never both, never neither.
#[actix_web::test]
async fn rescind_races_farewell_attendance() {
    let g = group(1, 1).await;
    let all = g.sessions().await;
    let mut outcomes = (0, 0);
    for round in 0..6 {
        let m = g.member();
        let farewell = sid(&all[round + 1]);
        let announced = at(&all[round]) + Duration::hours(2);
        g.app
            .post(
                Some(&g.ther),
                &format!("/memberships/{m}/exit-notice"),
                json!({"reason": "r", "announced_at": announced}),
            )
            .await
            .expect(200);
        let sheet = g
            .app
            .get(Some(&g.ther), &format!("/sessions/{farewell}/attendance"))
            .await
            .expect(200);
        let roster: Vec<(Uuid, &str)> = sheet.body["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["membership_id"].as_str().unwrap().parse().unwrap(),
                    "present",
                )
            })
            .collect();
        assert!(roster.iter().any(|(x, _)| *x == m));
        let rescind_path = format!("/memberships/{m}/rescind-exit");
        let (attendance, rescind) = futures::join!(
            g.record(farewell, &roster),
            g.app
                .post(Some(&g.ther), &rescind_path, json!({"reason": "stays"}),)
        );
        assert_eq!(attendance.status, 200, "{}", attendance.text);
        let after = g.membership(m).await;
        match rescind.status {
            200 => {
                outcomes.0 += 1;
                assert_eq!(after["status"], "active", "rescinded first: stays");
                assert_eq!(after["planned_last_session_id"], Value::Null);
            }
            409 => {
                outcomes.1 += 1;
                assert_eq!(after["status"], "exited", "the farewell was recorded first");
                assert_eq!(after["exit_rescinded_at"], Value::Null);
            }
            s => panic!("unexpected {s}: {}", rescind.text),
        }
    }
    assert_eq!(outcomes.0 + outcomes.1, 6);
}

#[actix_web::test]
async fn discharge_reasons_and_group_ended() {
    let g = group(12, 2).await;
    let reasons = [
        "dropped_out",
        "discharged",
        "against_advice",
        "higher_level_of_care",
        "hospitalized",
        "incarcerated",
        "relocated",
        "transferred",
        "other",
    ];
    for reason in reasons {
        let m = g.member();
        let r = g
            .app
            .post(
                Some(&g.ther),
                &format!("/memberships/{m}/discharge"),
                json!({"exit_reason": reason, "note": "documented in the chart"}),
            )
            .await
            .expect(200);
        assert_eq!(r.body["exit_reason"], reason);
    }
    let m = g.member();
    for bad in [
        "completed",
        "group_ended",
        "early_exit",
        "withdrawn",
        "abducted",
    ] {
        let r = g
            .app
            .post(
                Some(&g.ther),
                &format!("/memberships/{m}/discharge"),
                json!({"exit_reason": bad, "note": "x"}),
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "exit_reason", "{bad}");
    }
    // the group is cancelled: the two seats still held end with group_ended
    let other = g.member();
    let sup = g.app.staff(Role::Supervisor).await;
    g.app
        .post(Some(&sup), &format!("/groups/{}/cancel", g.id), json!({}))
        .await
        .expect(200);
    for x in [m, other] {
        let v = g.membership(x).await;
        assert_eq!(
            (v["status"].as_str(), v["exit_reason"].as_str()),
            (Some("exited"), Some("group_ended"))
        );
    }
    // retention counts every reason once and the buckets add up to admitted
    let r = g
        .app
        .get(Some(&sup), "/reports/retention?group_by=group")
        .await
        .expect(200);
    let b = &r.body["buckets"][0];
    assert_eq!(b["admitted"], 11);
    for reason in reasons {
        assert_eq!(b[reason], 1, "{reason}");
    }
    assert_eq!(b["group_ended"], 2);
    let parts: i64 = [
        "still_active",
        "exiting",
        "completed",
        "early_exit",
        "withdrawn",
        "group_ended",
    ]
    .iter()
    .chain(reasons.iter())
    .map(|k| b[*k].as_i64().unwrap())
    .sum();
    assert_eq!(parts, 11);
    let csv = g
        .app
        .get(Some(&sup), "/reports/retention?group_by=group&format=csv")
        .await
        .expect(200);
    let header = csv.text.lines().next().unwrap();
    for col in ["\"against_advice\"", "\"group_ended\"", "\"relocated\""] {
        assert!(header.contains(col), "{header}");
    }
}
