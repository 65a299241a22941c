//! Issue 6: phased exits — planning, completion (`completed` / `early_exit`), a cancelled
//! farewell session moving the plan, late entries.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use groupwork::auth::Role;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

struct Group {
    app: TestApp,
    ther: TestUser,
    id: Uuid,
    contract: Uuid,
}

/// An active group that met weekly in the past (sessions generated from 10 weeks ago).
async fn group(min_term: i32, notice: i32) -> Group {
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
    Group {
        app,
        ther,
        id,
        contract,
    }
}

async fn sessions(g: &Group) -> Vec<serde_json::Value> {
    let r = g
        .app
        .get(
            Some(&g.ther),
            &format!("/groups/{}/sessions?limit=200", g.id),
        )
        .await
        .expect(200);
    r.body["items"].as_array().unwrap().clone()
}

async fn hold(g: &Group, session: &str, members: &[Uuid]) {
    let records: Vec<_> = members
        .iter()
        .map(|m| json!({"membership_id": m, "status": "present"}))
        .collect();
    g.app
        .put(
            Some(&g.ther),
            &format!("/sessions/{session}/attendance"),
            json!({"records": records}),
        )
        .await
        .expect(200);
}

/// Generates the group's sessions up to today.
async fn generate_to_today(g: &Group) {
    g.app
        .post(
            Some(&g.ther),
            &format!("/groups/{}/sessions/generate", g.id),
            json!({"through": Utc::now().date_naive().to_string()}),
        )
        .await
        .expect(200);
}

/// A session's `scheduled_at`.
fn at(s: &serde_json::Value) -> DateTime<Utc> {
    s["scheduled_at"].as_str().unwrap().parse().unwrap()
}

/// The membership as `GET /memberships/{id}` shows it.
async fn membership(g: &Group, m: Uuid) -> serde_json::Value {
    g.app
        .get(Some(&g.ther), &format!("/memberships/{m}"))
        .await
        .expect(200)
        .body
}

#[actix_web::test]
async fn full_phased_exit_ends_completed() {
    let g = group(2, 2).await;
    let (m, _) = fixtures::active_member(
        &g.app,
        g.id,
        g.contract,
        g.ther.id,
        Utc::now() - Duration::weeks(11),
    );
    generate_to_today(&g).await;
    let all = sessions(&g).await;
    // Hold sessions 1..=5; announce after session 5; the 2nd session after that is the farewell.
    for s in all.iter().take(5) {
        hold(&g, s["id"].as_str().unwrap(), &[m]).await;
    }
    let announced = at(&all[4]) + Duration::hours(2);
    let r = g
        .app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m}/exit-notice"),
            json!({"reason": "moving for work", "announced_at": announced}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "exiting");
    assert_eq!(
        r.body["planned_last_session_id"], all[6]["id"],
        "the 2nd session after the notice"
    );
    assert_eq!(
        r.body["announced_at"]
            .as_str()
            .map(|s| s.parse::<DateTime<Utc>>().unwrap()),
        Some(announced)
    );
    hold(&g, all[5]["id"].as_str().unwrap(), &[m]).await;
    let r = membership(&g, m).await;
    assert_eq!(r["status"], "exiting", "still attends and is counted");
    hold(&g, all[6]["id"].as_str().unwrap(), &[m]).await;
    let r = membership(&g, m).await;
    assert_eq!(
        (r["status"].as_str(), r["exit_reason"].as_str()),
        (Some("exited"), Some("completed"))
    );
    assert_eq!(r["minimum_term_met"], true);
    // the farewell session's roster still includes the member (corrections stay possible)
    hold(&g, all[6]["id"].as_str().unwrap(), &[m]).await;
    // but the next session's does not
    let next = all[7]["id"].as_str().unwrap();
    g.app
        .put(
            Some(&g.ther),
            &format!("/sessions/{next}/attendance"),
            json!({"records": [{"membership_id": m, "status": "present"}]}),
        )
        .await
        .expect_problem(422, "roster_mismatch");
}

#[actix_web::test]
async fn exit_before_minimum_term_is_early_exit() {
    let g = group(12, 1).await;
    let (m, _) = fixtures::active_member(
        &g.app,
        g.id,
        g.contract,
        g.ther.id,
        Utc::now() - Duration::weeks(11),
    );
    generate_to_today(&g).await;
    let all = sessions(&g).await;
    hold(&g, all[0]["id"].as_str().unwrap(), &[m]).await;
    let announced = at(&all[0]) + Duration::hours(1);
    let r = g
        .app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m}/exit-notice"),
            json!({"reason": "r", "announced_at": announced}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["planned_last_session_id"], all[1]["id"]);
    hold(&g, all[1]["id"].as_str().unwrap(), &[m]).await;
    let r = membership(&g, m).await;
    assert_eq!(
        (r["status"].as_str(), r["exit_reason"].as_str()),
        (Some("exited"), Some("early_exit"))
    );
    assert_eq!(r["sessions_held_since_join"], 2);
    assert_eq!(g.app.audit_actions("membership.exit").len(), 1);
}

#[actix_web::test]
async fn cancelled_farewell_session_moves_the_plan() {
    let g = group(1, 2).await;
    let (m, _) = fixtures::active_member(
        &g.app,
        g.id,
        g.contract,
        g.ther.id,
        Utc::now() - Duration::days(1),
    );
    // The notice is given now: the plan needs future sessions, generated on demand.
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
    let all = sessions(&g).await;
    let idx = all
        .iter()
        .position(|s| s["id"] == planned.as_str())
        .unwrap();
    let first_after = all.iter().position(|s| at(s) > Utc::now()).unwrap();
    assert_eq!(idx, first_after + 1, "the 2nd session after now");
    // cancel the farewell session: the plan moves to the next one
    g.app
        .post(
            Some(&g.ther),
            &format!("/sessions/{planned}/cancel"),
            json!({"reason": "holiday"}),
        )
        .await
        .expect(200);
    let r = membership(&g, m).await;
    let moved = r["planned_last_session_id"].as_str().unwrap().to_string();
    let all = sessions(&g).await;
    assert_eq!(moved, all[idx + 1]["id"].as_str().unwrap());
    // cancelled sessions do not count (SPEC §2): cancelling one inside the notice period
    // also moves the plan on by one, so the member keeps two sessions to say goodbye
    g.app
        .post(
            Some(&g.ther),
            &format!(
                "/sessions/{}/cancel",
                all[first_after]["id"].as_str().unwrap()
            ),
            json!({"reason": "x"}),
        )
        .await
        .expect(200);
    let r = membership(&g, m).await;
    let all = sessions(&g).await;
    assert_eq!(r["planned_last_session_id"], all[idx + 2]["id"]);
    let goodbyes: Vec<&str> = all[first_after..=idx + 2]
        .iter()
        .filter(|s| s["status"] != "cancelled")
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        goodbyes.len(),
        2,
        "two non-cancelled sessions after the notice"
    );
    assert_eq!(goodbyes[1], all[idx + 2]["id"].as_str().unwrap());
    // a session after the farewell session, or before the notice, changes nothing
    for s in [&all[idx + 3], &all[first_after - 1]] {
        g.app
            .post(
                Some(&g.ther),
                &format!("/sessions/{}/cancel", s["id"].as_str().unwrap()),
                json!({"reason": "x"}),
            )
            .await
            .expect(200);
    }
    let r = membership(&g, m).await;
    assert_eq!(r["planned_last_session_id"], all[idx + 2]["id"]);
    assert_eq!(g.app.audit_actions("membership.exit_plan_moved").len(), 2);
}

#[actix_web::test]
async fn notice_rules_and_roles() {
    let g = group(1, 2).await;
    let joined = Utc::now() - Duration::days(3);
    let (m, _) = fixtures::active_member(&g.app, g.id, g.contract, g.ther.id, joined);
    let path = format!("/memberships/{m}/exit-notice");
    let future = (Utc::now() + Duration::days(1)).to_rfc3339();
    g.app
        .post(
            Some(&g.ther),
            &path,
            json!({"reason": "r", "announced_at": future}),
        )
        .await
        .expect_invalid("announced_at");
    let before_join = (joined - Duration::days(2)).to_rfc3339();
    g.app
        .post(
            Some(&g.ther),
            &path,
            json!({"reason": "r", "announced_at": before_join}),
        )
        .await
        .expect_invalid("announced_at");
    g.app
        .post(Some(&g.ther), &path, json!({"reason": ""}))
        .await
        .expect_invalid("reason");
    for role in [Role::Admin, Role::Intake] {
        let u = g.app.staff(role).await;
        g.app
            .post(Some(&u), &path, json!({"reason": "r"}))
            .await
            .expect_problem(403, "forbidden");
    }
    let stranger = g.app.staff(Role::Therapist).await;
    g.app
        .post(Some(&stranger), &path, json!({"reason": "r"}))
        .await
        .expect_problem(404, "not_found");
    let sup = g.app.staff(Role::Supervisor).await;
    g.app
        .post(Some(&sup), &path, json!({"reason": "r"}))
        .await
        .expect(200);
    g.app
        .post(Some(&sup), &path, json!({"reason": "r"}))
        .await
        .expect_problem(409, "conflict");
}

#[actix_web::test]
async fn plan_moved_onto_a_session_already_held_completes_at_once() {
    let g = group(1, 2).await;
    let (m, _) = fixtures::active_member(
        &g.app,
        g.id,
        g.contract,
        g.ther.id,
        Utc::now() - Duration::weeks(11),
    );
    generate_to_today(&g).await;
    let all = sessions(&g).await;
    hold(&g, all[0]["id"].as_str().unwrap(), &[m]).await;
    let announced = at(&all[0]) + Duration::hours(1);
    let r = g
        .app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m}/exit-notice"),
            json!({"reason": "r", "announced_at": announced}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["planned_last_session_id"], all[2]["id"]);
    // Staff recorded the week after the farewell session before noticing the farewell session
    // never took place; cancelling it moves the plan onto a session already held.
    hold(&g, all[3]["id"].as_str().unwrap(), &[m]).await;
    let r = membership(&g, m).await;
    assert_eq!(r["status"], "exiting");
    g.app
        .post(
            Some(&g.ther),
            &format!("/sessions/{}/cancel", all[2]["id"].as_str().unwrap()),
            json!({"reason": "therapist ill"}),
        )
        .await
        .expect(200);
    let r = membership(&g, m).await;
    assert_eq!(r["planned_last_session_id"], all[3]["id"]);
    assert_eq!(
        (r["status"].as_str(), r["exit_reason"].as_str()),
        (Some("exited"), Some("completed")),
        "the new farewell session was already held: the exit completes"
    );
    // seated at the new farewell session, not at the one after it
    let next = all[4]["id"].as_str().unwrap();
    g.app
        .put(
            Some(&g.ther),
            &format!("/sessions/{next}/attendance"),
            json!({"records": []}),
        )
        .await
        .expect(200);
}

#[actix_web::test]
async fn late_notice_whose_farewell_was_held_completes_and_later_sheets_drop_the_member() {
    let g = group(1, 1).await;
    let joined = Utc::now() - Duration::weeks(11);
    let (m, _) = fixtures::active_member(&g.app, g.id, g.contract, g.ther.id, joined);
    let (k, _) = fixtures::active_member(&g.app, g.id, g.contract, g.ther.id, joined);
    generate_to_today(&g).await;
    let all = sessions(&g).await;
    for s in all.iter().take(3) {
        hold(&g, s["id"].as_str().unwrap(), &[m, k]).await;
    }
    // The notice was given at the first session and is entered only now: its one-session
    // period ended with the second, already held.
    let announced = at(&all[0]) + Duration::hours(1);
    let r = g
        .app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m}/exit-notice"),
            json!({"reason": "r", "announced_at": announced}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["planned_last_session_id"], all[1]["id"]);
    assert_eq!(
        (r.body["status"].as_str(), r.body["exit_reason"].as_str()),
        (Some("exited"), Some("completed"))
    );
    assert_eq!(r.body["sessions_held_since_join"], 2);
    // The third session's sheet still shows the stale record; a correction replaces the sheet
    // (the member is no longer seated there) and the audit keeps what was removed.
    let path = format!("/sessions/{}/attendance", all[2]["id"].as_str().unwrap());
    let r = g.app.get(Some(&g.ther), &path).await.expect(200);
    assert_eq!(r.body["records"].as_array().unwrap().len(), 2);
    g.app
        .put(
            Some(&g.ther),
            &path,
            json!({"records": [{"membership_id": m, "status": "present"}, {"membership_id": k, "status": "present"}]}),
        )
        .await
        .expect_problem(422, "roster_mismatch");
    let r = g
        .app
        .put(
            Some(&g.ther),
            &path,
            json!({"records": [{"membership_id": k, "status": "present"}]}),
        )
        .await
        .expect(200);
    let listed: Vec<&str> = r.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["membership_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![k.to_string().as_str()]);
    let corrections = g.app.audit_actions("attendance.correct");
    assert_eq!(
        corrections.last().unwrap().3["changes"][m.to_string()],
        json!({"from": "present", "to": null})
    );
}

#[actix_web::test]
async fn a_notice_period_never_runs_past_the_end_date_nor_blocks_a_cancellation() {
    let g = group(1, 2).await;
    let (m, _) = fixtures::active_member(
        &g.app,
        g.id,
        g.contract,
        g.ther.id,
        Utc::now() - Duration::days(1),
    );
    {
        use diesel::prelude::*;
        use groupwork::schema::groups;
        diesel::update(groups::table.find(g.id))
            .set(groups::end_date.eq(Utc::now().date_naive() + Duration::days(14)))
            .execute(&mut g.app.conn())
            .unwrap();
    }
    let r = g
        .app
        .post(
            Some(&g.ther),
            &format!("/memberships/{m}/exit-notice"),
            json!({"reason": "r"}),
        )
        .await
        .expect(200);
    let planned = r.body["planned_last_session_id"].clone();
    let all = sessions(&g).await;
    let future: Vec<&serde_json::Value> = all.iter().filter(|s| at(s) > Utc::now()).collect();
    assert_eq!(future.len(), 2, "the group ends two weeks from now");
    assert_eq!(planned, future[1]["id"], "the group's last session");
    // cancelling inside the period, then the farewell session itself: nothing later exists,
    // so the plan stays and neither cancellation is refused
    for s in [future[0], future[1]] {
        g.app
            .post(
                Some(&g.ther),
                &format!("/sessions/{}/cancel", s["id"].as_str().unwrap()),
                json!({"reason": "therapist ill"}),
            )
            .await
            .expect(200);
    }
    let r = membership(&g, m).await;
    assert_eq!(r["status"], "exiting");
    assert_eq!(r["planned_last_session_id"], planned);
    assert_eq!(
        sessions(&g).await.len(),
        all.len(),
        "nothing generated past the end date"
    );
    assert!(g.app.audit_actions("membership.exit_plan_moved").is_empty());
}
