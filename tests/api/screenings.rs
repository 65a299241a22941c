//! Issue 4: screenings — schedule, complete, cancel, no-show, assessment visibility and audit.

use chrono::{Duration, Utc};
use groupwork::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

fn assessment() -> Value {
    json!({"motivation": 4, "contraindications": [], "concurrent_therapies": "weekly individual CBT",
           "substance_use_summary": "alcohol, 90 days abstinent", "notes": "SECRET-CLINICAL-NOTE"})
}

async fn schedule(
    app: &TestApp,
    by: &TestUser,
    client: Uuid,
    interviewer: Uuid,
    days_ago: i64,
) -> String {
    let at = (Utc::now() - Duration::days(days_ago)).to_rfc3339();
    let r = app
        .post(
            Some(by),
            &format!("/clients/{client}/screenings"),
            json!({"interviewer_id": interviewer, "scheduled_at": at}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["status"], "scheduled");
    r.body["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn full_lifecycle_and_transitions() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let ther = app.staff(Role::Therapist).await;
    let client = fixtures::client(&app, "Ana", "Silva");
    let id = schedule(&app, &intake, client, ther.id, 2).await;

    let done_at = (Utc::now() - Duration::days(1)).to_rfc3339();
    let r = app
        .post(
            Some(&ther),
            &format!("/screenings/{id}/complete"),
            json!({"outcome": "accepted", "assessment": assessment(), "completed_at": done_at}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "completed");
    assert_eq!(r.body["outcome"], "accepted");
    assert_eq!(r.body["assessment"]["motivation"], 4);
    assert!(r.body["valid_until"].is_string());

    // a completed screening cannot be cancelled or completed again
    app.post(
        Some(&intake),
        &format!("/screenings/{id}/cancel"),
        json!({}),
    )
    .await
    .expect_problem(409, "conflict");
    app.post(
        Some(&ther),
        &format!("/screenings/{id}/complete"),
        json!({"outcome": "declined", "assessment": assessment()}),
    )
    .await
    .expect_problem(409, "conflict");

    // cancel then complete → 409
    let id2 = schedule(&app, &intake, client, ther.id, 0).await;
    app.post(
        Some(&intake),
        &format!("/screenings/{id2}/cancel"),
        json!({}),
    )
    .await
    .expect(200);
    let r = app
        .post(
            Some(&ther),
            &format!("/screenings/{id2}/complete"),
            json!({"outcome": "accepted", "assessment": assessment()}),
        )
        .await;
    let r = r.expect_problem(409, "conflict");
    assert!(r.body["detail"].as_str().unwrap().contains("cancelled"));

    // no-show only when due
    let future = (Utc::now() + Duration::days(3)).to_rfc3339();
    let r = app
        .post(
            Some(&intake),
            &format!("/clients/{client}/screenings"),
            json!({"interviewer_id": ther.id, "scheduled_at": future}),
        )
        .await
        .expect(201);
    let id3 = r.body["id"].as_str().unwrap();
    app.post(
        Some(&intake),
        &format!("/screenings/{id3}/no-show"),
        json!({}),
    )
    .await
    .expect_problem(409, "conflict");
    let id4 = schedule(&app, &intake, client, ther.id, 1).await;
    let r = app
        .post(
            Some(&intake),
            &format!("/screenings/{id4}/no-show"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "no_show");
}

#[actix_web::test]
async fn completion_rules() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let client = fixtures::client(&app, "Ben", "Okoro");
    let id = schedule(&app, &sup, client, sup.id, 2).await;
    let path = format!("/screenings/{id}/complete");
    let mut a = assessment();
    a["contraindications"] = json!(["suicidal_risk"]);
    let r = app
        .post(
            Some(&sup),
            &path,
            json!({"outcome": "accepted", "assessment": a}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "assessment.contraindications");
    let mut other = assessment();
    other["contraindications"] = json!(["other"]);
    let future = (Utc::now() + Duration::hours(2)).to_rfc3339();
    app.post(
        Some(&sup),
        &path,
        json!({"outcome": "accepted", "assessment": other, "completed_at": future}),
    )
    .await
    .expect_invalid("completed_at");
    let before = (Utc::now() - Duration::days(5)).to_rfc3339();
    app.post(
        Some(&sup),
        &path,
        json!({"outcome": "accepted", "assessment": assessment(), "completed_at": before}),
    )
    .await
    .expect_invalid("completed_at");
    let mut m = assessment();
    m["motivation"] = json!(9);
    app.post(
        Some(&sup),
        &path,
        json!({"outcome": "accepted", "assessment": m}),
    )
    .await
    .expect_invalid("assessment.motivation");
    app.post(
        Some(&sup),
        &path,
        json!({"outcome": "maybe", "assessment": assessment()}),
    )
    .await
    .expect_invalid("outcome");
    // still scheduled after all those refusals
    let r = app
        .get(Some(&sup), &format!("/screenings/{id}"))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "scheduled");
    // declined may carry serious contraindications
    app.post(
        Some(&sup),
        &path,
        json!({"outcome": "declined", "assessment": a}),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn interviewer_must_be_an_active_clinician() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let admin = app.staff(Role::Admin).await;
    let client = fixtures::client(&app, "Cy", "Dee");
    let at = Utc::now().to_rfc3339();
    for who in [intake.id, admin.id, Uuid::new_v4()] {
        let r = app
            .post(
                Some(&intake),
                &format!("/clients/{client}/screenings"),
                json!({"interviewer_id": who, "scheduled_at": at}),
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "interviewer_id");
    }
    let ther = app.staff(Role::Therapist).await;
    app.patch(
        Some(&admin),
        &format!("/users/{}", ther.id),
        json!({"active": false}),
        None,
    )
    .await
    .expect(200);
    app.post(
        Some(&intake),
        &format!("/clients/{client}/screenings"),
        json!({"interviewer_id": ther.id, "scheduled_at": at}),
    )
    .await
    .expect_invalid("interviewer_id");
    app.post(
        Some(&intake),
        &format!("/clients/{}/screenings", Uuid::new_v4()),
        json!({"interviewer_id": intake.id, "scheduled_at": at}),
    )
    .await
    .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn assessment_hidden_from_admin_and_intake_and_reads_audited() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let intake = app.staff(Role::Intake).await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let client = fixtures::client(&app, "Dee", "Ray");
    let id = fixtures::accepted_screening(&app, client, ther.id, None, 3);
    for u in [&admin, &intake] {
        let r = app
            .get(Some(u), &format!("/screenings/{id}"))
            .await
            .expect(200);
        assert!(
            r.body.get("assessment").is_none(),
            "{:?} saw the assessment",
            u.role
        );
        assert!(!r.text.contains("motivation"));
        let r = app.get(Some(u), "/screenings").await.expect(200);
        assert!(!r.text.contains("motivation"));
    }
    assert_eq!(app.audit_actions("screening.assessment_read").len(), 0);
    for u in [&sup, &ther] {
        let r = app
            .get(Some(u), &format!("/screenings/{id}"))
            .await
            .expect(200);
        assert_eq!(r.body["assessment"]["motivation"], 4);
    }
    let r = app.get(Some(&sup), "/screenings").await.expect(200);
    assert_eq!(r.body["items"][0]["assessment"]["motivation"], 4);
    let reads = app.audit_actions("screening.assessment_read");
    assert_eq!(reads.len(), 3);
    assert!(reads
        .iter()
        .all(|(_, outcome, rid, details)| outcome == "allowed"
            && *rid == Some(id)
            && !details.to_string().contains("motivation")));
}

#[actix_web::test]
async fn role_and_scope_matrix() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let intake = app.staff(Role::Intake).await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let other = app.staff(Role::Therapist).await;
    let client = fixtures::client(&app, "Eve", "Stone");
    let at = Utc::now().to_rfc3339();
    let path = format!("/clients/{client}/screenings");
    app.post(
        Some(&admin),
        &path,
        json!({"interviewer_id": ther.id, "scheduled_at": at}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.post(
        Some(&ther),
        &path,
        json!({"interviewer_id": other.id, "scheduled_at": at}),
    )
    .await
    .expect_problem(403, "forbidden");
    // SPEC §1 (v2): with themself, only for a client already in their scope
    app.post(
        Some(&ther),
        &path,
        json!({"interviewer_id": ther.id, "scheduled_at": at}),
    )
    .await
    .expect_problem(404, "not_found");
    let id = schedule(&app, &sup, client, ther.id, 1).await;
    app.post(
        Some(&ther),
        &path,
        json!({"interviewer_id": ther.id, "scheduled_at": at}),
    )
    .await
    .expect(201);

    // another therapist: 404 on read and actions, and the denial is audited
    app.get(Some(&other), &format!("/screenings/{id}"))
        .await
        .expect_problem(404, "not_found");
    app.post(Some(&other), &format!("/screenings/{id}/cancel"), json!({}))
        .await
        .expect_problem(404, "not_found");
    let denied = app.audit_actions("screening.read");
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].1, "denied");
    let r = app.get(Some(&other), "/screenings").await.expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    let r = app
        .get(Some(&ther), "/screenings?status=scheduled")
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);

    // complete: interviewer or supervisor; never admin/intake
    let body = json!({"outcome": "deferred", "assessment": assessment()});
    app.post(
        Some(&admin),
        &format!("/screenings/{id}/complete"),
        body.clone(),
    )
    .await
    .expect_problem(403, "forbidden");
    app.post(
        Some(&intake),
        &format!("/screenings/{id}/complete"),
        body.clone(),
    )
    .await
    .expect_problem(403, "forbidden");
    app.post(
        Some(&ther),
        &format!("/screenings/{id}/complete"),
        body.clone(),
    )
    .await
    .expect(200);
    // cancel: admin never
    let id2 = schedule(&app, &sup, client, sup.id, 0).await;
    app.post(
        Some(&admin),
        &format!("/screenings/{id2}/cancel"),
        json!({}),
    )
    .await
    .expect_problem(403, "forbidden");
    // a screening merely scheduled for a therapist's group by someone else is not theirs to
    // see (SPEC §1 v2), let alone complete
    let g = fixtures::group(&app, other.id).create();
    let r = app
        .post(
            Some(&sup),
            &path,
            json!({"interviewer_id": sup.id, "scheduled_at": at, "group_id": g}),
        )
        .await
        .expect(201);
    let id3 = r.body["id"].as_str().unwrap();
    app.get(Some(&other), &format!("/screenings/{id3}"))
        .await
        .expect_problem(404, "not_found");
    app.post(Some(&other), &format!("/screenings/{id3}/complete"), body)
        .await
        .expect_problem(404, "not_found");
    app.get(None, "/screenings")
        .await
        .expect_problem(401, "unauthorized");
    app.get(Some(&sup), "/screenings?status=bogus")
        .await
        .expect_invalid("status");
}

/// A pending seat in `group` for `client`, admitted on `screening`.
fn seat(app: &TestApp, group: Uuid, client: Uuid, screening: Uuid, by: Uuid) -> Uuid {
    use diesel::prelude::*;
    use groupwork::schema::memberships as m;
    let id = Uuid::new_v4();
    diesel::insert_into(m::table)
        .values((
            m::id.eq(id),
            m::group_id.eq(group),
            m::client_id.eq(client),
            m::screening_id.eq(screening),
            m::created_by.eq(by),
        ))
        .execute(&mut app.conn())
        .unwrap();
    id
}

fn ids(r: &crate::helpers::Resp) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn a_group_therapist_sees_the_intake_of_their_group() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let other = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id).create();
    let prospect = fixtures::client(&app, "Pro", "Spect");
    let member = fixtures::client(&app, "Mem", "Ber");

    // for their group, by someone else
    let r = app
        .post(
            Some(&sup),
            &format!("/clients/{prospect}/screenings"),
            json!({"interviewer_id": sup.id, "scheduled_at": Utc::now().to_rfc3339(), "group_id": g}),
        )
        .await
        .expect(201);
    let for_group = r.body["id"].as_str().unwrap().to_string();
    // the screening a member of their group was admitted on, by another therapist, for no group
    let admitted_on = fixtures::accepted_screening(&app, member, other.id, None, 10);
    seat(&app, g, member, admitted_on, sup.id);
    // another screening of the same member, not the group's business
    let unrelated = fixtures::accepted_screening(&app, member, other.id, None, 40);

    // SPEC §1 (v2): a screening merely scheduled for their group by someone else is not the
    // therapist's yet (d: the one a member was admitted on is)
    let r = app.get(Some(&ther), "/screenings").await.expect(200);
    assert_eq!(ids(&r), vec![admitted_on.to_string()]);
    let r = app
        .get(Some(&ther), &format!("/screenings/{admitted_on}"))
        .await
        .expect(200);
    assert_eq!(
        r.body["assessment"]["motivation"], 4,
        "a clinician of the group reads it"
    );
    app.get(Some(&ther), &format!("/screenings/{unrelated}"))
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&ther), &format!("/screenings/{for_group}"))
        .await
        .expect_problem(404, "not_found");
    let denied = app.audit_actions("screening.read");
    assert_eq!(denied.len(), 2);
    assert_eq!(
        (denied[0].0, denied[0].1.as_str(), denied[0].2),
        (Some(ther.id), "denied", Some(unrelated))
    );
    app.get(Some(&ther), &format!("/clients/{prospect}"))
        .await
        .expect_problem(404, "not_found");
    // neither the group's therapist nor another one completes it
    let body = json!({"outcome": "accepted", "assessment": assessment()});
    for t in [&ther, &other] {
        app.post(
            Some(t),
            &format!("/screenings/{for_group}/complete"),
            body.clone(),
        )
        .await
        .expect_problem(404, "not_found");
    }
    // the other therapist sees their own two, not the group's intake
    let r = app.get(Some(&other), "/screenings").await.expect(200);
    let mut seen = ids(&r);
    seen.sort();
    let mut expected = vec![admitted_on.to_string(), unrelated.to_string()];
    expected.sort();
    assert_eq!(seen, expected);
    // a supervisor completes a screening assigned to someone else, accepted: now it is the
    // group's candidate (e), and the prospect the group therapist's client
    let r = app
        .post(
            Some(&sup),
            &format!("/screenings/{for_group}/complete"),
            body,
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "completed");
    let r = app.get(Some(&ther), "/screenings").await.expect(200);
    let mut seen = ids(&r);
    seen.sort();
    let mut expected = vec![for_group.clone(), admitted_on.to_string()];
    expected.sort();
    assert_eq!(seen, expected);
    app.get(Some(&ther), &format!("/clients/{prospect}"))
        .await
        .expect(200);
    // seeing is not doing: only the interviewer or a supervisor cancels
    app.post(
        Some(&ther),
        &format!("/screenings/{for_group}/cancel"),
        json!({}),
    )
    .await
    .expect_problem(403, "forbidden");
}

#[actix_web::test]
async fn cancel_and_no_show_role_matrix() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let intake = app.staff(Role::Intake).await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let other = app.staff(Role::Therapist).await;
    let client = fixtures::client(&app, "Fay", "Lund");
    for action in ["cancel", "no-show"] {
        let id = schedule(&app, &intake, client, ther.id, 1).await;
        let path = format!("/screenings/{id}/{action}");
        app.post(Some(&admin), &path, json!({}))
            .await
            .expect_problem(403, "forbidden");
        app.post(Some(&other), &path, json!({}))
            .await
            .expect_problem(404, "not_found");
        app.post(None, &path, json!({}))
            .await
            .expect_problem(401, "unauthorized");
        let r = app
            .get(Some(&sup), &format!("/screenings/{id}"))
            .await
            .expect(200);
        assert_eq!(r.body["status"], "scheduled", "refusals changed nothing");
        let expected = if action == "cancel" {
            "cancelled"
        } else {
            "no_show"
        };
        for who in [&ther, &intake, &sup] {
            let id = schedule(&app, &intake, client, ther.id, 1).await;
            let r = app
                .post(Some(who), &format!("/screenings/{id}/{action}"), json!({}))
                .await
                .expect(200);
            assert_eq!(r.body["status"], expected, "{:?} {action}", who.role);
            assert!(r.header("etag").is_some());
            let r = app
                .post(Some(who), &format!("/screenings/{id}/{action}"), json!({}))
                .await
                .expect_problem(409, "conflict");
            assert!(r.body["detail"].as_str().unwrap().contains(expected));
        }
        app.post(
            Some(&sup),
            &format!("/screenings/{}/{action}", Uuid::new_v4()),
            json!({}),
        )
        .await
        .expect_problem(404, "not_found");
    }
    assert_eq!(app.audit_actions("screening.cancelled").len(), 3);
    assert_eq!(app.audit_actions("screening.no_show").len(), 3);
    let denied = app.audit_actions("screening.update");
    assert_eq!(denied.len(), 2);
    assert!(denied
        .iter()
        .all(|e| e.1 == "denied" && e.0 == Some(other.id)));
    // a no-show cannot be completed afterwards
    let id = schedule(&app, &intake, client, ther.id, 1).await;
    app.post(
        Some(&intake),
        &format!("/screenings/{id}/no-show"),
        json!({}),
    )
    .await
    .expect(200);
    let r = app
        .post(
            Some(&ther),
            &format!("/screenings/{id}/complete"),
            json!({"outcome": "accepted", "assessment": assessment()}),
        )
        .await
        .expect_problem(409, "conflict");
    assert!(r.body["detail"].as_str().unwrap().contains("no_show"));
}

#[actix_web::test]
async fn completing_and_cancelling_at_once_lets_exactly_one_win() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let ther = app.staff(Role::Therapist).await;
    let client = fixtures::client(&app, "Gus", "Race");
    for _ in 0..5 {
        let id = schedule(&app, &intake, client, ther.id, 1).await;
        let complete_path = format!("/screenings/{id}/complete");
        let cancel_path = format!("/screenings/{id}/cancel");
        let noshow_path = format!("/screenings/{id}/no-show");
        let (a, b, c, d) = futures::join!(
            app.post(
                Some(&ther),
                &complete_path,
                json!({"outcome": "accepted", "assessment": assessment()}),
            ),
            app.post(Some(&intake), &cancel_path, json!({})),
            app.post(Some(&intake), &noshow_path, json!({})),
            app.post(
                Some(&ther),
                &complete_path,
                json!({"outcome": "declined", "assessment": assessment()}),
            ),
        );
        let results = [a, b, c, d];
        let winners: Vec<&crate::helpers::Resp> =
            results.iter().filter(|r| r.status == 200).collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        assert!(results
            .iter()
            .filter(|r| r.status != 200)
            .all(|r| r.status == 409 && r.body["code"] == "conflict"));
        let now = app
            .get(Some(&ther), &format!("/screenings/{id}"))
            .await
            .expect(200);
        assert_eq!(now.body["status"], winners[0].body["status"]);
        assert_eq!(now.body["outcome"], winners[0].body["outcome"]);
    }
}

#[actix_web::test]
async fn list_filters_and_pagination() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let a = fixtures::client(&app, "Hal", "One");
    let b = fixtures::client(&app, "Ivy", "Two");
    let g = fixtures::group(&app, ther.id).create();
    let accepted = fixtures::accepted_screening(&app, a, ther.id, Some(g), 5);
    let scheduled = schedule(&app, &sup, a, sup.id, 1).await;
    let cancelled = schedule(&app, &sup, b, ther.id, 2).await;
    app.post(
        Some(&sup),
        &format!("/screenings/{cancelled}/cancel"),
        json!({}),
    )
    .await
    .expect(200);
    let declined = schedule(&app, &sup, b, sup.id, 3).await;
    app.post(
        Some(&sup),
        &format!("/screenings/{declined}/complete"),
        json!({"outcome": "declined", "assessment": assessment()}),
    )
    .await
    .expect(200);
    let cases = [
        (
            "",
            vec![
                scheduled.clone(),
                cancelled.clone(),
                declined.clone(),
                accepted.to_string(),
            ],
        ),
        (
            "status=completed",
            vec![declined.clone(), accepted.to_string()],
        ),
        ("status=cancelled", vec![cancelled.clone()]),
        ("outcome=accepted", vec![accepted.to_string()]),
        ("outcome=declined&status=completed", vec![declined.clone()]),
        (
            &format!("interviewer_id={}", ther.id),
            vec![cancelled.clone(), accepted.to_string()],
        ),
        (
            &format!("client_id={b}"),
            vec![cancelled.clone(), declined.clone()],
        ),
        (&format!("group_id={g}"), vec![accepted.to_string()]),
        (&format!("client_id={a}&status=no_show"), vec![]),
    ];
    for (query, expected) in cases {
        let r = app
            .get(Some(&sup), &format!("/screenings?{query}"))
            .await
            .expect(200);
        assert_eq!(ids(&r), expected, "?{query}: newest scheduled first");
    }
    // pages of one: every screening once, in order
    let mut seen = Vec::new();
    let mut path = "/screenings?limit=1".to_string();
    loop {
        let r = app.get(Some(&sup), &path).await.expect(200);
        seen.extend(ids(&r));
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("/screenings?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        vec![scheduled, cancelled, declined, accepted.to_string()]
    );
    for bad in [
        "outcome=maybe",
        "interviewer_id=nope",
        "limit=0",
        "cursor=%%",
    ] {
        app.get(Some(&sup), &format!("/screenings?{bad}"))
            .await
            .expect_problem(422, "validation_failed");
    }
    app.get(Some(&sup), "/screenings?cursor=%25%25")
        .await
        .expect_invalid("cursor");
}

#[actix_web::test]
async fn completion_details() {
    let app = TestApp::spawn().await;
    let ther = app.staff(Role::Therapist).await;
    let intake = app.staff(Role::Intake).await;
    let client = fixtures::client(&app, "Jo", "Late");
    let scheduled_at = Utc::now() - Duration::days(4);
    // scheduled by intake: a therapist schedules only for their own clients (SPEC §1 v2)
    let r = app
        .post(
            Some(&intake),
            &format!("/clients/{client}/screenings"),
            json!({"interviewer_id": ther.id, "scheduled_at": scheduled_at.to_rfc3339()}),
        )
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap();
    let mut a = assessment();
    a["contraindications"] = json!(["other", "other"]);
    // completed at the very instant it was scheduled: allowed (not before it)
    let r = app
        .post(
            Some(&ther),
            &format!("/screenings/{id}/complete"),
            json!({"outcome": "accepted", "assessment": a, "completed_at": scheduled_at.to_rfc3339()}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["assessment"]["contraindications"], json!(["other"]));
    let done: chrono::DateTime<Utc> = r.body["completed_at"].as_str().unwrap().parse().unwrap();
    assert!((done - scheduled_at).num_milliseconds().abs() < 1);
    let until: chrono::DateTime<Utc> = r.body["valid_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(until - done, Duration::days(90));
    // the completer's own answer carries the assessment, and the audit event carries none of it
    let events = app.audit_actions("screening.complete");
    assert_eq!(events.len(), 1);
    assert!(!events[0].3.to_string().contains("SECRET-CLINICAL-NOTE"));
    // completed_at omitted: now
    let id2 = schedule(&app, &ther, client, ther.id, 1).await;
    let before = Utc::now();
    let r = app
        .post(
            Some(&ther),
            &format!("/screenings/{id2}/complete"),
            json!({"outcome": "deferred", "assessment": assessment()}),
        )
        .await
        .expect(200);
    let done: chrono::DateTime<Utc> = r.body["completed_at"].as_str().unwrap().parse().unwrap();
    assert!(done >= before - Duration::seconds(1) && done <= Utc::now());
    assert!(
        r.body["valid_until"].is_null(),
        "only an accepted screening admits"
    );
    // a scheduled_at far away is refused, unknown fields in the assessment too
    app.post(
        Some(&ther),
        &format!("/clients/{client}/screenings"),
        json!({"interviewer_id": ther.id, "scheduled_at": "2099-01-01T00:00:00Z"}),
    )
    .await
    .expect_invalid("scheduled_at");
    let id3 = schedule(&app, &ther, client, ther.id, 1).await;
    let mut extra = assessment();
    extra["diagnosis"] = json!("x");
    app.post(
        Some(&ther),
        &format!("/screenings/{id3}/complete"),
        json!({"outcome": "deferred", "assessment": extra}),
    )
    .await
    .expect_invalid("assessment.diagnosis");
    let mut long = assessment();
    long["notes"] = json!("x".repeat(10_001));
    let r = app
        .post(
            Some(&ther),
            &format!("/screenings/{id3}/complete"),
            json!({"outcome": "deferred", "assessment": long}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "assessment.notes");
}
