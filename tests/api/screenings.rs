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
    .expect_problem(422, "validation_failed");
    let before = (Utc::now() - Duration::days(5)).to_rfc3339();
    app.post(
        Some(&sup),
        &path,
        json!({"outcome": "accepted", "assessment": assessment(), "completed_at": before}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let mut m = assessment();
    m["motivation"] = json!(9);
    app.post(
        Some(&sup),
        &path,
        json!({"outcome": "accepted", "assessment": m}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        Some(&sup),
        &path,
        json!({"outcome": "maybe", "assessment": assessment()}),
    )
    .await
    .expect_problem(422, "validation_failed");
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
    .expect_problem(422, "validation_failed");
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
    app.post(
        Some(&ther),
        &path,
        json!({"interviewer_id": ther.id, "scheduled_at": at}),
    )
    .await
    .expect(201);
    let id = schedule(&app, &sup, client, ther.id, 1).await;

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
    // a therapist who can see a screening for their group but is not its interviewer may not complete it
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
        .expect(200);
    app.post(Some(&other), &format!("/screenings/{id3}/complete"), body)
        .await
        .expect_problem(403, "forbidden");
    app.get(None, "/screenings")
        .await
        .expect_problem(401, "unauthorized");
    app.get(Some(&sup), "/screenings?status=bogus")
        .await
        .expect_problem(422, "validation_failed");
}
