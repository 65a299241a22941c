//! Issue 7: the client record export — own data and signed member notes only, fellow
//! members' names redacted, no group notes, a therapist's export limited to their groups.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use groupwork::auth::Role;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

fn rename(app: &TestApp, client: Uuid, first: &str, last: &str, preferred: Option<&str>) {
    use groupwork::schema::clients;
    diesel::update(clients::table.find(client))
        .set((
            clients::first_name.eq(first),
            clients::last_name.eq(last),
            clients::preferred_name.eq(preferred),
        ))
        .execute(&mut app.conn())
        .unwrap();
}

async fn signed_member_note(
    app: &TestApp,
    by: &TestUser,
    session: Uuid,
    membership: Uuid,
    body: serde_json::Value,
) {
    let p = format!("/sessions/{session}/member-notes/{membership}");
    app.put(Some(by), &p, body).await.expect(201);
    app.post(Some(by), &format!("{p}/sign"), json!({}))
        .await
        .expect(200);
}

#[actix_web::test]
async fn record_contains_own_data_only_with_names_redacted() {
    let app = TestApp::spawn().await;
    let lead = app.staff(Role::Therapist).await;
    let sup = app.staff(Role::Supervisor).await;
    let g = fixtures::group(&app, lead.id).status("active").create();
    let c = fixtures::contract(&app, g, 1, sup.id);
    let joined = Utc::now() - Duration::days(30);
    let (me, me_client) = fixtures::active_member(&app, g, c, sup.id, joined);
    let (other, other_client) = fixtures::active_member(&app, g, c, sup.id, joined);
    rename(&app, me_client, "Renée", "Okafor", None);
    rename(&app, other_client, "Bartholomew", "Quincey", Some("Bart"));
    // a member of an earlier group of the client, and someone in no group of theirs
    let g0 = fixtures::group(&app, lead.id).status("completed").create();
    let c0 = fixtures::contract(&app, g0, 1, sup.id);
    let (_, earlier) = fixtures::active_member(&app, g0, c0, sup.id, joined - Duration::days(200));
    rename(&app, earlier, "José", "Núñez-Ortega", None);
    fixtures::seat(
        &app,
        g0,
        c0,
        sup.id,
        joined - Duration::days(200),
        me_client,
    );
    // someone in no group of the client's: their name is not redacted
    fixtures::client(&app, "Zebediah", "Outsider");

    let s1 = fixtures::session(&app, g, 1, Utc::now() - Duration::days(8), "held");
    let s2 = fixtures::session(&app, g, 2, Utc::now() - Duration::days(1), "held");
    fixtures::attendance(&app, s1, me, "present", lead.id);
    fixtures::attendance(&app, s1, other, "late", lead.id);
    fixtures::attendance(&app, s2, me, "excused_absence", lead.id);

    signed_member_note(
        &app,
        &lead,
        s1,
        me,
        json!({"participation": "active", "progress": "Confronted bart about lateness; Zebediah visited",
               "risk_flags": [], "content": "Told BARTHOLOMEW quincey he felt judged. Renée cried. Jose nunez wrote."}),
    )
    .await;
    let p1 = format!("/sessions/{s1}/member-notes/{me}");
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
    let gp = format!("/sessions/{s1}/group-note");
    app.put(Some(&lead), &gp, json!({"themes": "GROUP-NOTE-TEXT"}))
        .await
        .expect(201);
    app.post(Some(&lead), &format!("{gp}/sign"), json!({}))
        .await
        .expect(200);
    signed_member_note(
        &app,
        &lead,
        s1,
        other,
        json!({"participation": "active", "content": "OTHER-MEMBER-NOTE"}),
    )
    .await;

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
        "Jose",
        "nunez",
        "GROUP-NOTE-TEXT",
        "OTHER-MEMBER-NOTE",
        "DRAFT-ONLY",
    ] {
        assert!(!text.contains(leaked), "record leaks {leaked}: {text}");
    }
    for id in [
        other.to_string(),
        other_client.to_string(),
        earlier.to_string(),
    ] {
        assert!(!text.contains(&id), "record leaks another member's id");
    }
    assert_eq!(r.body["client"]["id"], me_client.to_string());
    assert_eq!(r.body["client"]["first_name"], "Renée");
    assert_eq!(r.body["memberships"].as_array().unwrap().len(), 2);
    let attendance = r.body["attendance"].as_array().unwrap();
    assert_eq!(attendance.len(), 2);
    assert!(attendance
        .iter()
        .all(|a| a["membership_id"] == me.to_string()));
    let notes = r.body["member_notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["status"], "signed");
    assert_eq!(
        notes[0]["fields"]["content"],
        "Told [group member] [group member] he felt judged. Renée cried. [group member] [group member] wrote."
    );
    assert_eq!(
        notes[0]["fields"]["progress"],
        "Confronted [group member] about lateness; Zebediah visited",
        "only fellow members' names, not every name"
    );
    assert_eq!(
        notes[0]["addenda"][0]["content"],
        "Later said [group member] apologised."
    );
    let events = app.audit_actions("client_record.read");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1, "allowed");
    assert_eq!(events[0].2, Some(me_client));
    assert_eq!(events[0].3["member_notes"], 1);
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
    app.get(None, &path)
        .await
        .expect_problem(401, "unauthorized");
    app.get(Some(&stranger), &path)
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&sup), &format!("/clients/{}/record", Uuid::new_v4()))
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&lead), &path).await.expect(200);
    app.get(Some(&sup), &path).await.expect(200);
    let events = app.audit_actions("client_record.read");
    let denied: Vec<&str> = events
        .iter()
        .filter(|e| e.1 == "denied")
        .map(|e| e.3["reason"].as_str().unwrap())
        .collect();
    // The two role refusals were recorded once each, by the gate, naming the permission.
    assert_eq!(denied, vec!["out_of_scope", "not_found"]);
    let forbidden = app.audit_actions("access.forbidden");
    assert_eq!(forbidden.len(), 2);
    assert!(forbidden
        .iter()
        .all(|(_, _, _, d)| d["permission"] == "read_client_record"));
    assert_eq!(events.iter().filter(|e| e.1 == "allowed").count(), 2);
}

/// Notes are read by the group's therapists only: a therapist's export of a client who sat in
/// two groups holds the seat, attendance and notes of their own group alone.
#[actix_web::test]
async fn a_therapists_record_holds_their_groups_only() {
    let app = TestApp::spawn().await;
    let (t1, t2) = (
        app.staff(Role::Therapist).await,
        app.staff(Role::Therapist).await,
    );
    let sup = app.staff(Role::Supervisor).await;
    let joined = Utc::now() - Duration::days(30);
    let g1 = fixtures::group(&app, t1.id).status("active").create();
    let c1 = fixtures::contract(&app, g1, 1, sup.id);
    let (m1, client) = fixtures::active_member(&app, g1, c1, sup.id, joined);
    let g2 = fixtures::group(&app, t2.id).status("active").create();
    let c2 = fixtures::contract(&app, g2, 1, sup.id);
    let m2 = fixtures::seat(&app, g2, c2, sup.id, joined, client);
    let s1 = fixtures::session(&app, g1, 1, Utc::now() - Duration::days(2), "held");
    let s2 = fixtures::session(&app, g2, 1, Utc::now() - Duration::days(1), "held");
    fixtures::attendance(&app, s1, m1, "present", t1.id);
    fixtures::attendance(&app, s2, m2, "present", t2.id);
    signed_member_note(
        &app,
        &t1,
        s1,
        m1,
        json!({"participation": "active", "content": "IN-GROUP-ONE"}),
    )
    .await;
    signed_member_note(
        &app,
        &t2,
        s2,
        m2,
        json!({"participation": "active", "content": "IN-GROUP-TWO"}),
    )
    .await;
    let path = format!("/clients/{client}/record");
    for (who, mine, theirs, membership) in [
        (&t1, "IN-GROUP-ONE", "IN-GROUP-TWO", m1),
        (&t2, "IN-GROUP-TWO", "IN-GROUP-ONE", m2),
    ] {
        let r = app.get(Some(who), &path).await.expect(200);
        assert!(r.text.contains(mine));
        assert!(!r.text.contains(theirs), "{}", r.text);
        let ms = r.body["memberships"].as_array().unwrap();
        assert_eq!(ms.len(), 1);
        assert_eq!(ms[0]["id"], membership.to_string());
        assert_eq!(r.body["attendance"].as_array().unwrap().len(), 1);
    }
    let r = app.get(Some(&sup), &path).await.expect(200);
    assert_eq!(r.body["member_notes"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["memberships"].as_array().unwrap().len(), 2);
}

/// A note that does not decrypt stops the export cleanly (no 500), audited.
#[actix_web::test]
async fn an_undecryptable_note_stops_the_export_cleanly() {
    let app = TestApp::spawn().await;
    let lead = app.staff(Role::Therapist).await;
    let sup = app.staff(Role::Supervisor).await;
    let g = fixtures::group(&app, lead.id).status("active").create();
    let c = fixtures::contract(&app, g, 1, sup.id);
    let (m, client) = fixtures::active_member(&app, g, c, sup.id, Utc::now() - Duration::days(9));
    let s = fixtures::session(&app, g, 1, Utc::now() - Duration::days(1), "held");
    signed_member_note(
        &app,
        &lead,
        s,
        m,
        json!({"participation": "active", "content": "x"}),
    )
    .await;
    diesel::sql_query("UPDATE member_notes SET key_id = 'ffffffffffffffff'")
        .execute(&mut app.conn())
        .unwrap();
    app.get(Some(&sup), &format!("/clients/{client}/record"))
        .await
        .expect_problem(409, "note_undecryptable");
    let failures = app.audit_actions("note.decrypt_failed");
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].3["attempted"], "client_record.read");
    assert!(app
        .audit_actions("client_record.read")
        .iter()
        .all(|e| e.1 != "allowed"));
}

/// The demo practice's notes name a fellow member the way clinicians write; the export does
/// not.
#[actix_web::test]
async fn demo_records_are_redacted() {
    let app = TestApp::spawn().await;
    let (url, cipher) = (app.db_url.clone(), app.state.notes.clone());
    tokio::task::spawn_blocking(move || groupwork::demo::run(&url, &cipher))
        .await
        .unwrap()
        .unwrap();
    let sup = app.staff(Role::Supervisor).await;
    // the demo's member notes of the first members seated mention a fellow member by name
    use groupwork::schema::{clients, groups, memberships};
    let members: Vec<(Uuid, String, String)> = memberships::table
        .inner_join(groups::table)
        .inner_join(clients::table)
        .filter(groups::status.eq("active"))
        .order((memberships::created_at.asc(), memberships::id.asc()))
        .select((clients::id, clients::first_name, clients::last_name))
        .load(&mut app.conn())
        .unwrap();
    let mut redacted = 0;
    for (client, _, _) in members.iter().take(3) {
        let r = app
            .get(Some(&sup), &format!("/clients/{client}/record"))
            .await
            .expect(200);
        let notes = r.body["member_notes"].to_string();
        assert!(
            r.body["member_notes"].as_array().unwrap().len() >= 10,
            "{notes}"
        );
        for (other, first, last) in &members {
            if other != client {
                let name = format!(r"\b({}|{})\b", regex::escape(first), regex::escape(last));
                let re = regex::Regex::new(&name).unwrap();
                assert!(!re.is_match(&notes), "{first} {last} in {notes}");
            }
        }
        redacted += notes.matches("[group member]").count();
    }
    assert!(
        redacted >= 10,
        "the demo's mentions are redacted: {redacted}"
    );
}
