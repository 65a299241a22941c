//! Issue 7: the client record export — own data and member notes only, fellow members'
//! names redacted, no group notes.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use groupwork::auth::Role;
use serde_json::json;

use crate::fixtures;
use crate::helpers::TestApp;

#[actix_web::test]
async fn record_contains_own_data_only_with_names_redacted() {
    let app = TestApp::spawn().await;
    let lead = app.staff(Role::Therapist).await;
    let sup = app.staff(Role::Supervisor).await;
    let g = fixtures::group(&app, lead.id).status("active").create();
    let c = fixtures::contract(&app, g, 1, sup.id);
    let (me, me_client) =
        fixtures::active_member(&app, g, c, sup.id, Utc::now() - Duration::days(30));
    let (other, other_client) =
        fixtures::active_member(&app, g, c, sup.id, Utc::now() - Duration::days(30));
    {
        use groupwork::schema::clients;
        diesel::update(clients::table.find(other_client))
            .set((
                clients::first_name.eq("Bartholomew"),
                clients::last_name.eq("Quincey"),
                clients::preferred_name.eq(Some("Bart")),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    let s1 = fixtures::session(&app, g, 1, Utc::now() - Duration::days(8), "held");
    let s2 = fixtures::session(&app, g, 2, Utc::now() - Duration::days(1), "held");
    fixtures::attendance(&app, s1, me, "present", lead.id);
    fixtures::attendance(&app, s1, other, "late", lead.id);
    fixtures::attendance(&app, s2, me, "excused_absence", lead.id);

    let note = json!({"participation": "active", "progress": "Confronted bart about lateness",
                      "risk_flags": [], "content": "Told BARTHOLOMEW quincey he felt judged."});
    let p1 = format!("/sessions/{s1}/member-notes/{me}");
    app.put(Some(&lead), &p1, note).await.expect(201);
    app.post(Some(&lead), &format!("{p1}/sign"), json!({}))
        .await
        .expect(200);
    app.post(
        Some(&lead),
        &format!("{p1}/addenda"),
        json!({"content": "Later said Bart apologised."}),
    )
    .await
    .expect(201);
    // a draft note is not exported; nor is the group note nor another member's note
    app.put(
        Some(&lead),
        &format!("/sessions/{s2}/member-notes/{me}"),
        json!({"participation": "none", "content": "DRAFT-ONLY"}),
    )
    .await
    .expect(201);
    app.put(
        Some(&lead),
        &format!("/sessions/{s1}/group-note"),
        json!({"themes": "GROUP-NOTE-TEXT"}),
    )
    .await
    .expect(201);
    let op = format!("/sessions/{s1}/member-notes/{other}");
    app.put(
        Some(&lead),
        &op,
        json!({"participation": "active", "content": "OTHER-MEMBER-NOTE"}),
    )
    .await
    .expect(201);
    app.post(Some(&lead), &format!("{op}/sign"), json!({}))
        .await
        .expect(200);

    let r = app
        .get(Some(&sup), &format!("/clients/{me_client}/record"))
        .await
        .expect(200);
    let text = r.text.clone();
    for leaked in [
        "Bartholomew",
        "BARTHOLOMEW",
        "Quincey",
        "quincey",
        "bart",
        "Bart",
        "GROUP-NOTE-TEXT",
        "OTHER-MEMBER-NOTE",
        "DRAFT-ONLY",
    ] {
        assert!(!text.contains(leaked), "record leaks {leaked}: {text}");
    }
    for id in [other.to_string(), other_client.to_string()] {
        assert!(!text.contains(&id), "record leaks another member's id");
    }
    assert_eq!(r.body["client"]["id"], me_client.to_string());
    assert_eq!(r.body["memberships"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["attendance"].as_array().unwrap().len(), 2);
    let notes = r.body["member_notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(
        notes[0]["fields"]["content"],
        "Told [group member] [group member] he felt judged."
    );
    assert_eq!(
        notes[0]["fields"]["progress"],
        "Confronted [group member] about lateness"
    );
    assert_eq!(
        notes[0]["addenda"][0]["content"],
        "Later said [group member] apologised."
    );
    assert_eq!(app.audit_actions("client_record.read").len(), 1);
}

#[actix_web::test]
async fn record_access_matrix() {
    let app = TestApp::spawn().await;
    let lead = app.staff(Role::Therapist).await;
    let stranger = app.staff(Role::Therapist).await;
    let sup = app.staff(Role::Supervisor).await;
    let g = fixtures::group(&app, lead.id).create();
    let c = fixtures::contract(&app, g, 1, sup.id);
    let (_, client) = fixtures::active_member(&app, g, c, sup.id, Utc::now());
    let path = format!("/clients/{client}/record");
    for role in [Role::Admin, Role::Intake] {
        let u = app.staff(role).await;
        app.get(Some(&u), &path)
            .await
            .expect_problem(403, "forbidden");
    }
    app.get(Some(&stranger), &path)
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&lead), &path).await.expect(200);
    app.get(Some(&sup), &path).await.expect(200);
    let events = app.audit_actions("client_record.read");
    assert_eq!(events.iter().filter(|e| e.1 == "denied").count(), 3);
    assert_eq!(events.iter().filter(|e| e.1 == "allowed").count(), 2);
}
