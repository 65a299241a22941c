//! Issue 17: emergency access (42 CFR §2.51, SPEC §8) — a therapist grants themself four hours
//! of read access to a client with a reason; the grant opens scope rule (f) for reading only,
//! ends at once when it expires, and waits for a supervisor's review; all audited.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use groupwork::auth::Role;
use serde_json::json;
use uuid::Uuid;

use crate::consents::{client_of, court_consent};
use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

const REASON: &str = "client collapsed in the lobby; on-call clinician needs history";

async fn grant(app: &TestApp, t: &TestUser, client: Uuid) -> serde_json::Value {
    app.post(
        Some(t),
        &format!("/clients/{client}/emergency-access"),
        json!({"reason": REASON}),
    )
    .await
    .expect(201)
    .body
}

#[actix_web::test]
async fn a_grant_opens_the_chart_for_reading_for_four_hours() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let lead = app.staff(Role::Therapist).await;
    let on_call = app.staff(Role::Therapist).await;
    let (client, group, member) = client_of(&app, &lead, &sup);
    let screening = fixtures::accepted_screening(&app, client, sup.id, None, 10);

    // before: out of scope, like an unknown id
    for path in [
        format!("/clients/{client}"),
        format!("/clients/{client}/record"),
        format!("/clients/{client}/memberships"),
        format!("/memberships/{member}"),
        format!("/screenings/{screening}"),
    ] {
        app.get(Some(&on_call), &path)
            .await
            .expect_problem(404, "not_found");
    }

    let g = grant(&app, &on_call, client).await;
    assert_eq!(g["client_id"], client.to_string());
    assert_eq!(g["granted_to"], on_call.id.to_string());
    assert_eq!(g["reason"], REASON);
    assert_eq!(g["active"], true);
    assert!(g["reviewed_at"].is_null());
    let granted_at: chrono::DateTime<Utc> = g["granted_at"].as_str().unwrap().parse().unwrap();
    let expires_at: chrono::DateTime<Utc> = g["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires_at - granted_at, Duration::hours(4));

    // during: the client, every seat (not only the on-call's groups), screenings, the record
    app.get(Some(&on_call), &format!("/clients/{client}"))
        .await
        .expect(200);
    let record = app
        .get(Some(&on_call), &format!("/clients/{client}/record"))
        .await
        .expect(200);
    assert_eq!(record.body["memberships"][0]["group_id"], group.to_string());
    let seats = app
        .get(Some(&on_call), &format!("/clients/{client}/memberships"))
        .await
        .expect(200);
    assert_eq!(seats.body["items"].as_array().unwrap().len(), 1);
    app.get(Some(&on_call), &format!("/memberships/{member}"))
        .await
        .expect(200);
    app.get(Some(&on_call), &format!("/screenings/{screening}"))
        .await
        .expect(200);
    let list = app
        .get(Some(&on_call), "/clients?q=Member")
        .await
        .expect(200);
    assert!(list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == client.to_string()));

    // reading only: no consent, no disclosure, no screening scheduled, nothing of the group
    app.post(
        Some(&on_call),
        &format!("/clients/{client}/consents"),
        court_consent(),
    )
    .await
    .expect_problem(404, "not_found");
    app.get(Some(&on_call), &format!("/clients/{client}/disclosures"))
        .await
        .expect_problem(404, "not_found");
    app.post(
        Some(&on_call),
        &format!("/clients/{client}/screenings"),
        json!({"interviewer_id": on_call.id, "scheduled_at": Utc::now() + Duration::days(2)}),
    )
    .await
    .expect_problem(404, "not_found");
    app.get(Some(&on_call), &format!("/groups/{group}"))
        .await
        .expect_problem(404, "not_found");
    app.post(
        Some(&on_call),
        &format!("/memberships/{member}/exit-notice"),
        json!({"reason": "moving away"}),
    )
    .await
    .expect_problem(404, "not_found");

    // after: an expired grant ends the access at once, reviewed or not
    diesel::sql_query("ALTER TABLE emergency_access DISABLE TRIGGER emergency_access_guard")
        .execute(&mut app.conn())
        .unwrap();
    use groupwork::schema::emergency_access as ea;
    let id: Uuid = g["id"].as_str().unwrap().parse().unwrap();
    let ended = Utc::now() - Duration::seconds(1);
    diesel::update(ea::table.find(id))
        .set((
            ea::granted_at.eq(ended - Duration::hours(4)),
            ea::expires_at.eq(ended),
        ))
        .execute(&mut app.conn())
        .unwrap();
    for path in [
        format!("/clients/{client}"),
        format!("/clients/{client}/record"),
        format!("/memberships/{member}"),
        format!("/screenings/{screening}"),
    ] {
        app.get(Some(&on_call), &path)
            .await
            .expect_problem(404, "not_found");
    }

    // audited: the grant, and each read made under it
    let grants = app.audit_actions("emergency_access.grant");
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].0, Some(on_call.id));
    assert_eq!(grants[0].1, "allowed");
    assert_eq!(grants[0].3["client_id"], client.to_string());
    assert!(app
        .audit_actions("client_record.read")
        .iter()
        .any(|(actor, outcome, _, _)| *actor == Some(on_call.id) && outcome == "allowed"));
}

#[actix_web::test]
async fn only_a_therapist_grants_with_a_real_reason_and_the_accounting_is_untouched() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let admin = app.staff(Role::Admin).await;
    let intake = app.staff(Role::Intake).await;
    let t = app.staff(Role::Therapist).await;
    let client = fixtures::client(&app, "Kai", "Moreno");
    let path = format!("/clients/{client}/emergency-access");

    let r = app
        .post(Some(&t), &path, json!({"reason": "urgent, need it"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "reason");
    app.post(Some(&t), &path, json!({"reason": "   nineteen chars..   "}))
        .await
        .expect_invalid("reason");
    app.post(Some(&t), &path, json!({}))
        .await
        .expect_invalid("reason");
    for who in [&sup, &admin, &intake] {
        app.post(Some(who), &path, json!({"reason": REASON}))
            .await
            .expect_problem(403, "forbidden");
    }
    app.post(
        Some(&t),
        &format!("/clients/{}/emergency-access", Uuid::new_v4()),
        json!({"reason": REASON}),
    )
    .await
    .expect_problem(404, "not_found");

    let mut conn = app.conn();
    let grants: i64 = groupwork::schema::emergency_access::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(grants, 0);
    let disclosures: i64 = groupwork::schema::disclosures::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(disclosures, 0);
    // still out of scope, and every refused grant is in the audit trail
    app.get(Some(&t), &format!("/clients/{client}"))
        .await
        .expect_problem(404, "not_found");
    let denied: Vec<_> = app
        .audit_actions("emergency_access.grant")
        .into_iter()
        .filter(|(_, o, _, d)| o == "denied" && d["reason"] == "validation_failed")
        .collect();
    assert_eq!(denied.len(), 3);
}

#[actix_web::test]
async fn every_grant_waits_for_one_review_by_a_supervisor() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let other_sup = app.staff(Role::Supervisor).await;
    let t = app.staff(Role::Therapist).await;
    let a = fixtures::client(&app, "Ana", "First");
    let b = fixtures::client(&app, "Ben", "Second");
    let first = grant(&app, &t, a).await;
    let second = grant(&app, &t, b).await;

    let queue = app
        .get(Some(&sup), "/emergency-access?reviewed=false")
        .await
        .expect(200);
    let ids: Vec<&str> = queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            first["id"].as_str().unwrap(),
            second["id"].as_str().unwrap()
        ],
        "oldest first"
    );
    app.get(Some(&t), "/emergency-access?reviewed=false")
        .await
        .expect_problem(403, "forbidden");

    let review = format!("/emergency-access/{}/review", first["id"].as_str().unwrap());
    app.post(
        Some(&t),
        &review,
        json!({"outcome": "appropriate", "note": "ok"}),
    )
    .await
    .expect_problem(403, "forbidden");
    let r = app
        .post(Some(&sup), &review, json!({"outcome": "fine"}))
        .await
        .expect_problem(422, "validation_failed");
    assert!(!r.body["errors"].as_array().unwrap().is_empty());
    app.post(Some(&sup), &review, json!({"outcome": "appropriate"}))
        .await
        .expect_invalid("note");
    let r = app
        .post(
            Some(&sup),
            &review,
            json!({"outcome": "inappropriate", "note": "not an emergency; spoke with the clinician"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["review_outcome"], "inappropriate");
    assert_eq!(r.body["reviewed_by"], sup.id.to_string());
    assert_eq!(r.body["active"], true, "a review does not end the grant");
    app.post(
        Some(&other_sup),
        &review,
        json!({"outcome": "appropriate", "note": "overruling"}),
    )
    .await
    .expect_problem(409, "conflict");
    app.post(
        Some(&sup),
        &format!("/emergency-access/{}/review", Uuid::new_v4()),
        json!({"outcome": "appropriate", "note": "n/a"}),
    )
    .await
    .expect_problem(404, "not_found");

    let queue = app
        .get(Some(&sup), "/emergency-access?reviewed=false")
        .await
        .expect(200);
    assert_eq!(queue.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(queue.body["items"][0]["id"], second["id"]);
    let done = app
        .get(Some(&sup), "/emergency-access?reviewed=true")
        .await
        .expect(200);
    assert_eq!(done.body["items"][0]["id"], first["id"]);
    assert_eq!(
        done.body["items"][0]["review_note"],
        "not an emergency; spoke with the clinician"
    );
    let all = app
        .get(Some(&sup), "/emergency-access?limit=1")
        .await
        .expect(200);
    assert_eq!(all.body["items"][0]["id"], second["id"], "newest first");
    let cursor = all.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            Some(&sup),
            &format!("/emergency-access?limit=1&cursor={cursor}"),
        )
        .await
        .expect(200);
    assert_eq!(rest.body["items"][0]["id"], first["id"]);

    // the database keeps the review as written
    use groupwork::schema::emergency_access as ea;
    let id: Uuid = first["id"].as_str().unwrap().parse().unwrap();
    assert!(diesel::update(ea::table.find(id))
        .set(ea::review_outcome.eq("appropriate"))
        .execute(&mut app.conn())
        .is_err());

    let reviews = app.audit_actions("emergency_access.review");
    assert_eq!(
        reviews.iter().filter(|(_, o, _, _)| o == "allowed").count(),
        1
    );
    assert!(reviews
        .iter()
        .any(|(actor, o, _, _)| *actor == Some(other_sup.id) && o == "denied"));
    assert_eq!(app.audit_actions("emergency_access.list").len(), 5);
}

#[actix_web::test]
async fn the_demo_practice_shows_part_2_at_work() {
    let app = TestApp::spawn().await;
    let url = app.db_url.clone();
    let cipher = app.state.notes.clone();
    tokio::task::spawn_blocking(move || groupwork::demo::run(&url, &cipher))
        .await
        .unwrap()
        .unwrap();
    let login = app
        .post(
            None,
            "/auth/login",
            json!({"email": "supervisor@demo.groupwork.test",
                   "password": groupwork::demo::DEMO_PASSWORD}),
        )
        .await
        .expect(200);
    let sup = TestUser {
        id: login.body["user"]["id"].as_str().unwrap().parse().unwrap(),
        email: "supervisor@demo.groupwork.test".into(),
        role: Role::Supervisor,
        token: login.body["access_token"].as_str().unwrap().to_string(),
    };

    let queue = app
        .get(Some(&sup), "/emergency-access?reviewed=false")
        .await
        .expect(200);
    let waiting = queue.body["items"].as_array().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["active"], true);
    let client = waiting[0]["client_id"].as_str().unwrap().to_string();

    let c = app
        .get(Some(&sup), &format!("/clients/{client}"))
        .await
        .expect(200);
    assert_eq!(c.body["mandated"], true);
    assert_eq!(c.body["referral_source"], "court");
    let consents = app
        .get(Some(&sup), &format!("/clients/{client}/consents"))
        .await
        .expect(200);
    let consent = &consents.body["items"][0];
    assert_eq!(consent["recipient_kind"], "court");
    assert_eq!(consent["status"], "active");
    let accounting = app
        .get(Some(&sup), &format!("/clients/{client}/disclosures"))
        .await
        .expect(200);
    let items = accounting.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["consent_id"], consent["id"]);
    let (status, _, pdf) = app
        .get_bytes(
            Some(&sup),
            &format!("/disclosures/{}/document", items[0]["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 200);
    let text = crate::disclosures::pdf_text(&pdf);
    assert!(text.contains("Marion County Drug Court"), "{text}");
    assert!(text.contains("Attendance at held group sessions"), "{text}");
    assert!(text.contains("Totals:"), "{text}");
    assert!(
        text.contains("This record which has been disclosed to you is protected"),
        "{text}"
    );
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf)),
        items[0]["document_sha256"]
    );
}
