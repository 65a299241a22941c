//! Issue 15: response headers, CSV quoting, names and redaction, bad cursors and dates,
//! opaque cursors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use groupwork::auth::Role;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{Resp, TestApp};

#[track_caller]
fn assert_api_headers(r: &Resp) {
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("no-store"),
        "{r:?}"
    );
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"));
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
}

#[actix_web::test]
async fn every_api_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let ok = app.get(Some(&admin), "/me").await.expect(200);
    assert_api_headers(&ok);
    let unauthorized = app.get(None, "/me").await.expect(401);
    assert_api_headers(&unauthorized);
    let missing = app.get(Some(&admin), "/no-such-thing").await.expect(404);
    assert_api_headers(&missing);
    let invalid = app
        .get(Some(&admin), "/audit-events?limit=0")
        .await
        .expect_invalid("limit");
    assert_api_headers(&invalid);
    let csv = app
        .get(Some(&admin), "/audit-events?format=csv")
        .await
        .expect(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert_api_headers(&csv);
    let report = app
        .get(Some(&admin), "/reports/attendance?format=csv")
        .await
        .expect(200);
    assert_api_headers(&report);
    // outside /api/v1: never framed
    let health = app.get(None, "/healthz").await.expect(200);
    assert_eq!(health.header("x-frame-options").as_deref(), Some("DENY"));
}

#[actix_web::test]
async fn every_text_cell_of_a_csv_is_quoted_header_included() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let group = fixtures::group(&app, ther.id).status("active").create();
    let contract = fixtures::contract(&app, group, 1, sup.id);
    let joined = Utc::now() - Duration::days(20);
    let (m, client) = fixtures::active_member(&app, group, contract, sup.id, joined);
    {
        use groupwork::schema::clients;
        diesel::update(clients::table.find(client))
            .set((
                clients::first_name.eq("Ann;=1+2"),
                clients::last_name.eq("Lee"),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    let s = fixtures::session(&app, group, 1, Utc::now() - Duration::days(2), "held");
    fixtures::attendance(&app, s, m, "late", sup.id);
    let r = app
        .get(Some(&sup), "/reports/attendance?format=csv")
        .await
        .expect(200);
    let mut lines = r.text.split("\r\n");
    assert_eq!(
        lines.next().unwrap(),
        "\"group_id\",\"group_name\",\"session_id\",\"session_sequence\",\"session_date\",\
         \"client_id\",\"client_name\",\"status\",\"minutes_late\""
    );
    let row = lines.next().unwrap();
    let name = "\"Lee, Ann;=1+2\"";
    assert!(
        row.contains(name) || row.contains("\"Ann;=1+2 Lee\""),
        "{row}"
    );
    assert!(
        row.contains(&format!("\"{client}\"")),
        "ids are quoted: {row}"
    );
    assert!(row.contains(",1,\""), "numbers are not: {row}");
    assert!(row.contains("\"late\""), "{row}");
    // the audit trail's CSV too
    let admin = app.staff(Role::Admin).await;
    let r = app
        .get(Some(&admin), "/audit-events?format=csv")
        .await
        .expect(200);
    assert!(
        r.text.starts_with("\"id\",\"occurred_at\",\"actor_id\""),
        "{}",
        r.text
    );
}

#[actix_web::test]
async fn names_refuse_bidi_and_invisible_characters() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let admin = app.staff(Role::Admin).await;
    let r = app
        .post(
            Some(&intake),
            "/clients",
            json!({"first_name": "Ann\u{202E}eeL", "last_name": "Smith", "date_of_birth": "1980-01-02",
                   "referral_source": "self", "preferred_name": "A\u{200B}nn"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["first_name", "preferred_name"]);
    let ok = app
        .post(
            Some(&intake),
            "/clients",
            json!({"first_name": "Zoë", "last_name": "O'Brien Jr.", "date_of_birth": "1980-01-02",
                   "referral_source": "self"}),
        )
        .await
        .expect(201);
    let id = ok.body["id"].as_str().unwrap().to_string();
    let etag = ok.header("etag").unwrap();
    let r = app
        .patch(
            Some(&intake),
            &format!("/clients/{id}"),
            json!({"last_name": "Lee\u{2066}"}),
            Some(&etag),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "last_name");
    let r = app
        .post(
            Some(&admin),
            "/users",
            json!({"email": "new@clinic.test", "display_name": "Dr\u{202E} Evil",
                   "role": "intake", "password": "orchid-velvet-tundra-compass-43"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "display_name");
}

#[actix_web::test]
async fn record_export_redacts_fellow_ids_and_punctuated_names() {
    let app = TestApp::spawn().await;
    let lead = app.staff(Role::Therapist).await;
    let sup = app.staff(Role::Supervisor).await;
    let g = fixtures::group(&app, lead.id).status("active").create();
    let c = fixtures::contract(&app, g, 1, sup.id);
    let joined = Utc::now() - Duration::days(30);
    let (me, me_client) = fixtures::active_member(&app, g, c, sup.id, joined);
    let (other, other_client) = fixtures::active_member(&app, g, c, sup.id, joined);
    {
        use groupwork::schema::clients;
        diesel::update(clients::table.find(other_client))
            .set((
                clients::first_name.eq("Hollis"),
                clients::last_name.eq("Vantongeren Jr."),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    let s = fixtures::session(&app, g, 1, Utc::now() - Duration::days(3), "held");
    fixtures::attendance(&app, s, me, "present", lead.id);
    let p = format!("/sessions/{s}/member-notes/{me}");
    let content = format!(
        "Argued with Vantongeren Jr. (see {other}); client {other_client} and {} too.",
        other_client.simple()
    );
    app.put(
        Some(&lead),
        &p,
        json!({"participation": "active", "content": content}),
    )
    .await
    .expect(201);
    app.post(Some(&lead), &format!("{p}/sign"), json!({}))
        .await
        .expect(200);
    let r = app
        .get(Some(&sup), &format!("/clients/{me_client}/record"))
        .await
        .expect(200);
    let text = r.text.to_lowercase();
    for leaked in [
        other.to_string(),
        other_client.to_string(),
        other_client.simple().to_string(),
        "vantongeren".into(),
    ] {
        assert!(!text.contains(&leaked), "leaks {leaked}: {}", r.text);
    }
    let note = &r.body["member_notes"][0];
    assert_eq!(
        note["fields"]["content"],
        "Argued with [group member]. (see [group member]); client [group member] and [group member] too."
    );
    // the export's audit event names the notes it disclosed
    let events = app.audit_actions("client_record.read");
    assert_eq!(events[0].3["note_ids"], json!([note["id"]]));
}

#[actix_web::test]
async fn bad_dates_and_cursors_are_422_before_any_body_byte() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let admin = app.staff(Role::Admin).await;
    for (path, field) in [
        ("/reports/attendance?format=csv&from=-0001-01-01", "from"),
        ("/reports/attendance?format=csv&to=%2B10000-01-01", "to"),
        ("/reports/attendance?from=-0001-01-01", "from"),
        ("/reports/retention?format=csv&to=%2B10000-01-01", "to"),
        ("/reports/retention?from=-0001-01-01", "from"),
    ] {
        let r = app
            .get(Some(&sup), path)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field, "{path}");
    }
    let r = app
        .get(
            Some(&admin),
            "/audit-events?format=csv&to=%2B10000-01-01T00:00:00Z",
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "to");
    // a cursor as the service used to issue them, holding a NUL byte
    let forged = URL_SAFE_NO_PAD.encode(json!(["a\u{0}b", Uuid::new_v4()]).to_string());
    for list in ["/clients", "/groups", "/users", "/audit-events"] {
        let who = if list == "/clients" || list == "/groups" {
            &sup
        } else {
            &admin
        };
        let r = app
            .get(Some(who), &format!("{list}?cursor={forged}"))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "cursor", "{list}");
    }
    let r = app
        .get(
            Some(&sup),
            &format!("/reports/attendance?format=json&cursor={forged}"),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "cursor");
}

#[actix_web::test]
async fn cursors_are_opaque_and_bound_to_list_and_caller() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let other_intake = app.staff(Role::Intake).await;
    for last in ["Abernathy", "Blackwood", "Castellanos"] {
        fixtures::client(&app, "Quentin", last);
    }
    let first = app.get(Some(&intake), "/clients?limit=1").await.expect(200);
    assert_eq!(first.body["items"][0]["last_name"], "Abernathy");
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let raw = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
    let shown = String::from_utf8_lossy(&raw).to_lowercase();
    assert!(
        !shown.contains("abernathy") && !shown.contains("quentin"),
        "{shown}"
    );
    assert!(!shown.contains(&first.body["items"][0]["id"].as_str().unwrap()[..8]));

    let second = app
        .get(Some(&intake), &format!("/clients?limit=1&cursor={cursor}"))
        .await
        .expect(200);
    assert_eq!(second.body["items"][0]["last_name"], "Blackwood");

    // another caller, another list, the same list with other filters, a flipped byte
    let mut tampered = raw.clone();
    tampered[14] ^= 1;
    let tampered = URL_SAFE_NO_PAD.encode(tampered);
    for (who, path) in [
        (&other_intake, format!("/clients?limit=1&cursor={cursor}")),
        (&intake, format!("/groups?limit=1&cursor={cursor}")),
        (
            &intake,
            format!("/clients?limit=1&q=quentin&cursor={cursor}"),
        ),
        (&intake, format!("/clients?limit=1&cursor={tampered}")),
    ] {
        let r = app
            .get(Some(who), &path)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "cursor", "{path}");
    }
}

#[actix_web::test]
async fn bulk_reads_are_audited_naming_the_clients() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let intake = app.staff(Role::Intake).await;
    let ther = app.staff(Role::Therapist).await;
    let group = fixtures::group(&app, ther.id).status("active").create();
    let contract = fixtures::contract(&app, group, 1, sup.id);
    let joined = Utc::now() - Duration::days(20);
    let (m1, c1) = fixtures::active_member(&app, group, contract, sup.id, joined);
    let (m2, c2) = fixtures::active_member(&app, group, contract, sup.id, joined);
    let waiting = fixtures::client(&app, "Wanda", "Waiting");
    fixtures::accepted_screening(&app, waiting, ther.id, None, 3);
    let s = fixtures::session(&app, group, 1, Utc::now() - Duration::days(2), "held");
    fixtures::attendance(&app, s, m1, "present", sup.id);
    fixtures::attendance(&app, s, m2, "late", sup.id);

    let ids = |v: &serde_json::Value| -> Vec<String> {
        let mut ids: Vec<String> = v["client_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v.into_iter().map(|u| u.to_string()).collect::<Vec<_>>()
    };

    app.get(Some(&intake), "/clients?limit=2").await.expect(200);
    let e = app.audit_actions("client.list");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].0, Some(intake.id));
    assert_eq!(e[0].3["count"], 2, "the page's clients only: {:?}", e[0].3);
    assert!(!e[0].3.to_string().contains("Wanda"), "ids, never names");

    app.get(Some(&sup), &format!("/groups/{group}/members"))
        .await
        .expect(200);
    let e = app.audit_actions("membership.list");
    assert_eq!((e.len(), e[0].2), (1, Some(group)));
    assert_eq!(ids(&e[0].3), sorted(vec![c1, c2]));

    app.get(Some(&intake), "/waitlist").await.expect(200);
    let e = app.audit_actions("waitlist.read");
    assert_eq!(e.len(), 1);
    assert_eq!(ids(&e[0].3), sorted(vec![waiting]));

    app.get(Some(&intake), &format!("/sessions/{s}/attendance"))
        .await
        .expect(200);
    let e = app.audit_actions("attendance.read");
    assert_eq!((e.len(), e[0].2), (1, Some(s)));
    assert_eq!(ids(&e[0].3), sorted(vec![c1, c2]));
}

#[actix_web::test]
async fn pseudonyms_survive_a_notes_key_rotation() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let group = fixtures::group(&app, ther.id).status("active").create();
    let contract = fixtures::contract(&app, group, 1, sup.id);
    let joined = Utc::now() - Duration::days(20);
    let (m, _) = fixtures::active_member(&app, group, contract, sup.id, joined);
    let s = fixtures::session(&app, group, 1, Utc::now() - Duration::days(2), "held");
    fixtures::attendance(&app, s, m, "present", sup.id);
    let path = "/reports/attendance?deidentified=true";
    let before = app.get(Some(&sup), path).await.expect(200).body["items"][0]["client_id"].clone();
    assert!(before.as_str().unwrap().starts_with("p_"));

    // the same database after `rotate-notes-key`, served under the new notes key
    let old = app.state.settings.notes_key;
    let db_url = app.db_url.clone();
    let rotated = TestApp::spawn_with(|st| {
        st.database_url = db_url;
        st.notes_key = [42; 32];
        st.notes_key_previous = Some(old);
    })
    .await;
    groupwork::notes::rotate::rotate(&mut app.conn(), &rotated.state.notes).unwrap();
    let after =
        rotated.get(Some(&sup), path).await.expect(200).body["items"][0]["client_id"].clone();
    assert_eq!(before, after);
}
