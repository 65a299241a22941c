//! Issue 16: composition warnings (TIP 41: no lone member of their kind) — `gender` on
//! clients, `composition_warnings` on groups, and on admissions the warnings a seat creates
//! or resolves.

use diesel::prelude::*;
use groupwork::auth::Role;
use groupwork::schema::clients;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

fn candidate(
    app: &TestApp,
    by: &TestUser,
    group: Uuid,
    gender: Option<&str>,
    source: &str,
    mandated: bool,
) -> (Uuid, Uuid) {
    let c = fixtures::client(
        app,
        "Cand",
        &format!("C{}", &Uuid::new_v4().simple().to_string()[..6]),
    );
    fixtures::referral(app, c, source, mandated);
    diesel::update(clients::table.find(c))
        .set(clients::gender.eq(gender))
        .execute(&mut app.conn())
        .unwrap();
    (
        c,
        fixtures::accepted_screening(app, c, by.id, Some(group), 3),
    )
}

fn w(attribute: &str, value: Value) -> Value {
    json!({"attribute": attribute, "value": value})
}

#[actix_web::test]
async fn gender_on_clients() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let body = json!({"first_name": "Ana", "last_name": "Lima", "date_of_birth": "1990-02-03",
                      "referral_source": "self", "gender": "woman"});
    let r = app
        .post(Some(&intake), "/clients", body.clone())
        .await
        .expect(201);
    assert_eq!(r.body["gender"], "woman");
    let id = r.body["id"].as_str().unwrap().to_string();
    let mut bad = body.clone();
    bad["gender"] = json!("female");
    let r = app
        .post(Some(&intake), "/clients", bad)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "gender");
    let r = app
        .patch(
            Some(&intake),
            &format!("/clients/{id}"),
            json!({"gender": null}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(r.body["gender"], Value::Null);
    let r = app
        .patch(
            Some(&intake),
            &format!("/clients/{id}"),
            json!({"gender": "nonbinary"}),
            None,
        )
        .await
        .expect(200);
    assert_eq!(r.body["gender"], "nonbinary");
}

#[actix_web::test]
async fn admissions_create_and_resolve_warnings() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let lead = app.staff(Role::Therapist).await;
    let group = fixtures::group(&app, lead.id).create();
    let admit = |(c, sc): (Uuid, Uuid)| {
        let app = &app;
        let sup = &sup;
        async move {
            app.post(
                Some(sup),
                &format!("/groups/{group}/members"),
                json!({"client_id": c, "screening_id": sc}),
            )
            .await
            .expect(201)
            .body
        }
    };
    // two men: too few to warn
    for _ in 0..2 {
        let r = admit(candidate(&app, &lead, group, Some("man"), "self", false)).await;
        assert_eq!(r["composition_warnings"], json!([]));
    }
    // a woman joins: she is the only one
    let r = admit(candidate(&app, &lead, group, Some("woman"), "self", false)).await;
    assert_eq!(r["status"], "pending");
    assert_eq!(
        r["composition_warnings"],
        json!([w("gender", json!("woman"))])
    );
    assert_eq!(
        r["composition_warnings_created"],
        json!([w("gender", json!("woman"))])
    );
    assert_eq!(r["composition_warnings_resolved"], json!([]));
    // undisclosed and unknown gender never warn
    let r = admit(candidate(
        &app,
        &lead,
        group,
        Some("undisclosed"),
        "self",
        false,
    ))
    .await;
    assert_eq!(r["composition_warnings_created"], json!([]));
    let r = admit(candidate(&app, &lead, group, None, "self", false)).await;
    assert_eq!(r["composition_warnings_created"], json!([]));
    // a second woman resolves it; a court-mandated member creates two
    let r = admit(candidate(&app, &lead, group, Some("woman"), "self", false)).await;
    assert_eq!(
        r["composition_warnings_resolved"],
        json!([w("gender", json!("woman"))])
    );
    assert_eq!(r["composition_warnings"], json!([]));
    let r = admit(candidate(&app, &lead, group, Some("man"), "court", true)).await;
    let created = r["composition_warnings_created"].as_array().unwrap();
    assert!(created.contains(&w("mandated", json!(true))), "{created:?}");
    assert!(
        created.contains(&w("referral_source", json!("court"))),
        "{created:?}"
    );
    // the group shows them to clinical roles and admins, not to intake
    for who in [&sup, &lead] {
        let g = app
            .get(Some(who), &format!("/groups/{group}"))
            .await
            .expect(200)
            .body;
        assert_eq!(g["composition_warnings"].as_array().unwrap().len(), 2);
    }
    let admin = app.staff(Role::Admin).await;
    let g = app
        .get(Some(&admin), &format!("/groups/{group}"))
        .await
        .expect(200)
        .body;
    assert_eq!(g["composition_warnings"].as_array().unwrap().len(), 2);
    let intake = app.staff(Role::Intake).await;
    let g = app
        .get(Some(&intake), &format!("/groups/{group}"))
        .await
        .expect(200)
        .body;
    assert!(g.get("composition_warnings").is_none());
}
