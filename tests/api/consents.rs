//! Issue 17: written consents (42 CFR §2.31) — recorded with every element, listed per client,
//! revoked for good; roles and scope as SPEC §4 says; every decision audited.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use groupwork::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

pub fn court_consent() -> Value {
    json!({
        "recipient_name": "Harris County Drug Court",
        "recipient_kind": "court",
        "purpose": "Monthly compliance report to the supervising judge",
        "information": ["membership_status", "attendance", "attendance"],
        "expires_on": (Utc::now() + Duration::days(180)).date_naive(),
        "signature_name": "Dana Whitfield",
    })
}

/// A client seated in a group led by `lead`, so that `lead` has them in scope.
pub fn client_of(app: &TestApp, lead: &TestUser, sup: &TestUser) -> (Uuid, Uuid, Uuid) {
    let g = fixtures::group(app, lead.id).status("active").create();
    let c = fixtures::contract(app, g, 1, sup.id);
    let (m, client) = fixtures::active_member(app, g, c, sup.id, Utc::now() - Duration::days(60));
    (client, g, m)
}

#[actix_web::test]
async fn consent_is_recorded_with_its_elements_and_listed_newest_first() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let intake = app.staff(Role::Intake).await;
    let admin = app.staff(Role::Admin).await;
    let client = fixtures::client(&app, "Dana", "Whitfield");

    let r = app
        .post(
            Some(&intake),
            &format!("/clients/{client}/consents"),
            court_consent(),
        )
        .await
        .expect(201);
    let first = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["client_id"], client.to_string());
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["recipient_kind"], "court");
    assert_eq!(
        r.body["information"],
        json!(["attendance", "membership_status"])
    );
    assert_eq!(r.body["witness_id"], intake.id.to_string());
    assert_eq!(r.body["effective_on"], Utc::now().date_naive().to_string());
    assert!(r.body["revoked_at"].is_null());

    let mut by_event = court_consent();
    by_event["expires_on"] = Value::Null;
    by_event["expires_event"] = json!("end of probation");
    by_event["recipient_kind"] = json!("probation");
    let second = app
        .post(Some(&sup), &format!("/clients/{client}/consents"), by_event)
        .await
        .expect(201);
    assert_eq!(second.body["expires_event"], "end of probation");

    // admins read consents (SPEC §4), newest first, paged
    let list = app
        .get(Some(&admin), &format!("/clients/{client}/consents?limit=1"))
        .await
        .expect(200);
    assert_eq!(list.body["items"][0]["id"], second.body["id"]);
    let cursor = list.body["next_cursor"].as_str().unwrap().to_string();
    let rest = app
        .get(
            Some(&admin),
            &format!("/clients/{client}/consents?limit=1&cursor={cursor}"),
        )
        .await
        .expect(200);
    assert_eq!(rest.body["items"][0]["id"], first);
    assert!(rest.body["next_cursor"].is_null());

    let created = app.audit_actions("consent.create");
    assert_eq!(created.len(), 2);
    assert!(created
        .iter()
        .all(|(_, outcome, _, _)| outcome == "allowed"));
    let listed = app.audit_actions("consent.list");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].0, Some(admin.id));
    assert_eq!(listed[0].3["client_ids"], json!([client]));
}

#[actix_web::test]
async fn bad_consents_are_refused_naming_each_field() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let client = fixtures::client(&app, "Ro", "Field");
    let path = format!("/clients/{client}/consents");

    let r = app
        .post(
            Some(&sup),
            &path,
            json!({"recipient_kind": "court", "purpose": "  ", "information": [],
                   "signature_name": "Ro Field"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["recipient_name", "purpose", "information", "expires_on"] {
        assert!(fields.contains(&f), "{f} not named in {fields:?}");
    }

    let mut unknown = court_consent();
    unknown["information"] = json!(["attendance", "notes"]);
    let r = app
        .post(Some(&sup), &path, unknown)
        .await
        .expect_problem(422, "validation_failed");
    assert!(r.body["errors"][0]["field"]
        .as_str()
        .unwrap()
        .starts_with("information"));

    let mut backwards = court_consent();
    backwards["effective_on"] = json!("2026-06-01");
    backwards["expires_on"] = json!("2026-05-31");
    let r = app
        .post(Some(&sup), &path, backwards)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "expires_on");

    let mut future = court_consent();
    future["signed_at"] = json!(Utc::now() + Duration::hours(2));
    let r = app
        .post(Some(&sup), &path, future)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "signed_at");

    let mut kind = court_consent();
    kind["recipient_kind"] = json!("newspaper");
    let r = app
        .post(Some(&sup), &path, kind)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "recipient_kind");

    let count: i64 = groupwork::schema::consents::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(count, 0);
}

#[actix_web::test]
async fn roles_and_scope() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let admin = app.staff(Role::Admin).await;
    let lead = app.staff(Role::Therapist).await;
    let stranger = app.staff(Role::Therapist).await;
    let (client, _, _) = client_of(&app, &lead, &sup);
    let path = format!("/clients/{client}/consents");

    app.post(Some(&admin), &path, court_consent())
        .await
        .expect_problem(403, "forbidden");
    app.post(Some(&stranger), &path, court_consent())
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&stranger), &path)
        .await
        .expect_problem(404, "not_found");
    let r = app
        .post(Some(&lead), &path, court_consent())
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    app.post(
        Some(&stranger),
        &format!("/consents/{id}/revoke"),
        json!({"reason": "asked to"}),
    )
    .await
    .expect_problem(404, "not_found");
    app.post(
        Some(&admin),
        &format!("/consents/{id}/revoke"),
        json!({"reason": "asked to"}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.get(Some(&lead), &path).await.expect(200);
    app.get(
        Some(&admin),
        &format!("/clients/{}/consents", Uuid::new_v4()),
    )
    .await
    .expect_problem(404, "not_found");

    let denied: Vec<_> = app
        .audit_actions("consent.create")
        .into_iter()
        .filter(|(actor, outcome, _, d)| {
            *actor == Some(stranger.id) && outcome == "denied" && d["reason"] == "out_of_scope"
        })
        .collect();
    assert_eq!(denied.len(), 1);
}

#[actix_web::test]
async fn revocation_is_final_and_expiry_is_derived() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let client = fixtures::client(&app, "Lee", "Final");
    let r = app
        .post(
            Some(&sup),
            &format!("/clients/{client}/consents"),
            court_consent(),
        )
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();

    app.post(Some(&sup), &format!("/consents/{id}/revoke"), json!({}))
        .await
        .expect_invalid("reason");
    let r = app
        .post(
            Some(&sup),
            &format!("/consents/{id}/revoke"),
            json!({"reason": "client revoked in writing"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["status"], "revoked");
    assert_eq!(r.body["revoked_by"], sup.id.to_string());
    assert_eq!(r.body["revocation_reason"], "client revoked in writing");
    app.post(
        Some(&sup),
        &format!("/consents/{id}/revoke"),
        json!({"reason": "again"}),
    )
    .await
    .expect_problem(409, "already_revoked");

    // the database holds it too: a revoked consent never changes again, none is deleted
    let mut conn = app.conn();
    let id: Uuid = id.parse().unwrap();
    use groupwork::schema::consents;
    assert!(diesel::update(consents::table.find(id))
        .set(consents::revoked_at.eq(None::<chrono::DateTime<Utc>>))
        .execute(&mut conn)
        .is_err());
    assert!(diesel::delete(consents::table.find(id))
        .execute(&mut conn)
        .is_err());

    let mut old = court_consent();
    old["effective_on"] = json!((Utc::now() - Duration::days(400)).date_naive());
    old["expires_on"] = json!((Utc::now() - Duration::days(1)).date_naive());
    old["signed_at"] = json!(Utc::now() - Duration::days(400));
    let r = app
        .post(Some(&sup), &format!("/clients/{client}/consents"), old)
        .await
        .expect(201);
    assert_eq!(r.body["status"], "expired");
    assert_eq!(
        app.audit_actions("consent.revoke").len(),
        2,
        "one allowed, one denied"
    );
}
