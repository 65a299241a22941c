//! Issue 14 (1, 2): a therapist's scope is exactly SPEC §1 (a)–(e), and a therapist cannot
//! widen it by scheduling a screening with themself.

use chrono::{Duration, Utc};
use groupwork::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{Resp, TestApp, TestUser};

fn assessment(contraindications: Value) -> Value {
    json!({"motivation": 2, "contraindications": contraindications,
        "concurrent_therapies": "none", "substance_use_summary": "alcohol, daily", "notes": "n"})
}

/// Schedules (by `by`) and completes (by the interviewer) a screening for `group`.
async fn screened(
    app: &TestApp,
    by: &TestUser,
    interviewer: &TestUser,
    client: Uuid,
    group: Option<Uuid>,
    outcome: &str,
    contraindications: Value,
) -> String {
    let at = (Utc::now() - Duration::hours(3)).to_rfc3339();
    let r = app
        .post(
            Some(by),
            &format!("/clients/{client}/screenings"),
            json!({"interviewer_id": interviewer.id, "scheduled_at": at, "group_id": group}),
        )
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    app.post(
        Some(interviewer),
        &format!("/screenings/{id}/complete"),
        json!({"outcome": outcome, "assessment": assessment(contraindications)}),
    )
    .await
    .expect(200);
    id
}

fn ids(r: &Value) -> Vec<String> {
    r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn a_declined_candidate_of_another_interviewer_stays_out_of_scope() {
    let app = TestApp::spawn().await;
    let lead = app.staff(Role::Therapist).await;
    let interviewer = app.staff(Role::Therapist).await;
    let intake = app.staff(Role::Intake).await;
    let group = fixtures::group(&app, lead.id).create();

    // The attack as tried: a candidate screened for the lead's group by someone else and
    // declined for suicidal risk. The lead must see neither the assessment nor the client.
    let declined = fixtures::client(&app, "Declined", "Candidate");
    let s = screened(
        &app,
        &intake,
        &interviewer,
        declined,
        Some(group),
        "declined",
        json!(["suicidal_risk"]),
    )
    .await;
    app.get(Some(&lead), &format!("/screenings/{s}"))
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&lead), &format!("/clients/{declined}"))
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&lead), &format!("/clients/{declined}/record"))
        .await
        .expect_problem(404, "not_found");
    let r = app.get(Some(&lead), "/screenings").await.expect(200);
    assert!(!ids(&r.body).contains(&s), "{}", r.text);
    let r = app.get(Some(&lead), "/clients").await.expect(200);
    assert!(!ids(&r.body).contains(&declined.to_string()));
    // Scheduled (not yet completed) for the lead's group: not theirs either, yet.
    let pending = fixtures::client(&app, "Pending", "Candidate");
    let at = Utc::now().to_rfc3339();
    let r = app
        .post(
            Some(&intake),
            &format!("/clients/{pending}/screenings"),
            json!({"interviewer_id": interviewer.id, "scheduled_at": at, "group_id": group}),
        )
        .await
        .expect(201);
    let scheduled = r.body["id"].as_str().unwrap().to_string();
    app.get(Some(&lead), &format!("/screenings/{scheduled}"))
        .await
        .expect_problem(404, "not_found");
    // The refused reads are audited as denied.
    let denied = app.audit_actions("screening.read");
    assert!(denied
        .iter()
        .any(|e| e.0 == Some(lead.id) && e.1 == "denied"));

    // The interviewer keeps their own screening and its client (c).
    let r = app
        .get(Some(&interviewer), &format!("/screenings/{s}"))
        .await
        .expect(200);
    assert_eq!(
        r.body["assessment"]["contraindications"][0],
        "suicidal_risk"
    );
    app.get(Some(&interviewer), &format!("/clients/{declined}"))
        .await
        .expect(200);

    // The legitimate flow: an accepted candidate for the lead's group is theirs (e), with
    // the client, before any seat exists.
    let accepted = fixtures::client(&app, "Accepted", "Candidate");
    let s2 = screened(
        &app,
        &intake,
        &interviewer,
        accepted,
        Some(group),
        "accepted",
        json!([]),
    )
    .await;
    app.get(Some(&lead), &format!("/screenings/{s2}"))
        .await
        .expect(200);
    app.get(Some(&lead), &format!("/clients/{accepted}"))
        .await
        .expect(200);
    let r = app
        .get(Some(&lead), &format!("/waitlist?group_id={group}"))
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(r.body["items"][0]["client"]["id"], accepted.to_string());
    // ... and the lead admits them on that screening.
    app.post(
        Some(&lead),
        &format!("/groups/{group}/members"),
        json!({"client_id": accepted, "screening_id": s2}),
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn members_and_the_screening_they_were_admitted_on_are_in_scope() {
    let app = TestApp::spawn().await;
    let lead = app.staff(Role::Therapist).await;
    let co = app.staff(Role::Therapist).await;
    let other = app.staff(Role::Therapist).await;
    let sup = app.staff(Role::Supervisor).await;
    let group = fixtures::group(&app, lead.id).co(vec![co.id]).create();
    let contract = fixtures::contract(&app, group, 1, sup.id);
    let signed = Utc::now() - Duration::days(20);
    // Admitted on a screening `sup` did (d); the member stays in scope after exiting (b).
    let (membership, member) = fixtures::active_member(&app, group, contract, sup.id, signed);
    fixtures::exit_member(
        &app,
        membership,
        "completed",
        Utc::now() - Duration::days(1),
    );
    let admitted_on: Uuid = {
        use diesel::prelude::*;
        use groupwork::schema::memberships as m;
        m::table
            .find(membership)
            .select(m::screening_id)
            .first(&mut app.conn())
            .unwrap()
    };
    // Another screening of the same member, by someone else for no group: not in scope.
    let elsewhere = fixtures::accepted_screening(&app, member, other.id, None, 2);
    for t in [&lead, &co] {
        app.get(Some(t), &format!("/clients/{member}"))
            .await
            .expect(200);
        app.get(Some(t), &format!("/memberships/{membership}"))
            .await
            .expect(200);
        app.get(Some(t), &format!("/screenings/{admitted_on}"))
            .await
            .expect(200);
        app.get(Some(t), &format!("/screenings/{elsewhere}"))
            .await
            .expect_problem(404, "not_found");
    }
    app.get(Some(&other), &format!("/screenings/{admitted_on}"))
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&other), &format!("/screenings/{elsewhere}"))
        .await
        .expect(200);
}

/// A screening of `client` with `who` as the interviewer, scheduled by `who`.
async fn schedule_self(app: &TestApp, who: &TestUser, client: Uuid) -> Resp {
    let at = Utc::now().to_rfc3339();
    app.post(
        Some(who),
        &format!("/clients/{client}/screenings"),
        json!({"interviewer_id": who.id, "scheduled_at": at}),
    )
    .await
}

#[actix_web::test]
async fn a_therapist_schedules_only_for_a_client_already_in_scope() {
    let app = TestApp::spawn().await;
    let ther = app.staff(Role::Therapist).await;
    let intake = app.staff(Role::Intake).await;
    let sup = app.staff(Role::Supervisor).await;
    let stranger = fixtures::client(&app, "Stranger", "Client");
    let at = Utc::now().to_rfc3339();
    // The attack as tried: a screening with themself for any client id, then the record.
    let refused = schedule_self(&app, &ther, stranger)
        .await
        .expect_problem(404, "not_found");
    let unknown = schedule_self(&app, &ther, Uuid::new_v4())
        .await
        .expect_problem(404, "not_found");
    assert_eq!(refused.body, unknown.body, "out of scope looks unknown");
    app.get(Some(&ther), &format!("/clients/{stranger}"))
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&ther), &format!("/clients/{stranger}/record"))
        .await
        .expect_problem(404, "not_found");
    let scheduled: i64 = {
        use diesel::prelude::*;
        groupwork::schema::screenings::table
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    assert_eq!(scheduled, 0);
    let denied = app.audit_actions("screening.schedule");
    assert_eq!(denied.len(), 1, "only the real client's refusal is audited");
    assert_eq!(
        (denied[0].0, denied[0].1.as_str(), denied[0].2),
        (Some(ther.id), "denied", Some(stranger))
    );

    // Legitimate: a client already theirs (here, screened by them before) gets a new one.
    let r = app
        .post(
            Some(&intake),
            &format!("/clients/{stranger}/screenings"),
            json!({"interviewer_id": ther.id, "scheduled_at": at}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["interviewer_id"], ther.id.to_string());
    schedule_self(&app, &ther, stranger).await.expect(201);
    // Intake and supervisors schedule for any client, as before.
    let other = fixtures::client(&app, "Other", "Client");
    schedule_self(&app, &sup, other).await.expect(201);
    app.post(
        Some(&intake),
        &format!("/clients/{other}/screenings"),
        json!({"interviewer_id": sup.id, "scheduled_at": at}),
    )
    .await
    .expect(201);
}
