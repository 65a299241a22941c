//! Issue 4: clients — validation, search, pagination, ETags, role and scope matrix.

use groupwork::auth::Role;
use serde_json::{json, Value};

use crate::fixtures;
use crate::helpers::TestApp;

fn new_client(first: &str, last: &str) -> Value {
    json!({"first_name": first, "last_name": last, "date_of_birth": "1988-02-03", "referral_source": "court", "mandated": true})
}

#[actix_web::test]
async fn create_read_and_every_field() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let body = json!({
        "first_name": " Zoë ", "last_name": "Núñez", "preferred_name": "Zo", "date_of_birth": "1990-07-14",
        "phone": "+1 (555) 010-2030", "email": "zoe@example.org", "referral_source": "treatment_program", "mandated": false
    });
    let r = app.post(Some(&intake), "/clients", body).await.expect(201);
    assert!(r.header("etag").is_some());
    let c = r.body;
    assert_eq!(c["first_name"], "Zoë");
    assert_eq!(c["referral_source"], "treatment_program");
    for f in [
        "id",
        "last_name",
        "preferred_name",
        "date_of_birth",
        "phone",
        "email",
        "mandated",
        "created_at",
        "updated_at",
    ] {
        assert!(c.get(f).is_some(), "missing {f}");
    }
    let id = c["id"].as_str().unwrap();
    let r = app
        .get(Some(&intake), &format!("/clients/{id}"))
        .await
        .expect(200);
    assert_eq!(r.body["email"], "zoe@example.org");
    assert_eq!(app.audit_actions("client.read").len(), 1);
}

#[actix_web::test]
async fn validation_names_each_field() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let cases = [
        (
            json!({"first_name": "A", "last_name": "B", "date_of_birth": "2999-01-01", "referral_source": "self"}),
            "date_of_birth",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "date_of_birth": "1899-12-31", "referral_source": "self"}),
            "date_of_birth",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01", "referral_source": "friend"}),
            "referral_source",
        ),
        (
            json!({"first_name": "  ", "last_name": "B", "date_of_birth": "1990-01-01", "referral_source": "self"}),
            "first_name",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01", "referral_source": "self", "email": "nope"}),
            "email",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "date_of_birth": "1990-02-30", "referral_source": "self"}),
            "date_of_birth",
        ),
        (
            json!({"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01", "referral_source": "self", "mandated": "yes"}),
            "mandated",
        ),
        (
            json!({"first_name": "A".repeat(101), "last_name": "B", "date_of_birth": "1990-01-01", "referral_source": "self"}),
            "first_name",
        ),
    ];
    for (body, field) in cases {
        let r = app
            .post(Some(&sup), "/clients", body.clone())
            .await
            .expect_problem(422, "validation_failed");
        let fields: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{body} → {fields:?}");
    }
    let r = app.get(Some(&sup), "/clients").await.expect(200);
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        0,
        "nothing was written"
    );
}

#[actix_web::test]
async fn search_is_case_and_accent_insensitive() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    for (f, l) in [
        ("José", "Álvarez"),
        ("Joseph", "Smith"),
        ("Ann", "O'Neil"),
        ("Maria", "Gómez"),
    ] {
        app.post(Some(&sup), "/clients", new_client(f, l))
            .await
            .expect(201);
    }
    let names = |r: &crate::helpers::Resp| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["last_name"].as_str().unwrap().to_string())
            .collect()
    };
    let r = app.get(Some(&sup), "/clients?q=ALVAREZ").await.expect(200);
    assert_eq!(names(&r), vec!["Álvarez"]);
    let r = app.get(Some(&sup), "/clients?q=JOSÉ").await.expect(200);
    assert_eq!(
        names(&r),
        vec!["Álvarez", "Smith"],
        "José and Joseph, ordered by last name ignoring accents"
    );
    let r = app.get(Some(&sup), "/clients?q=gomez").await.expect(200);
    assert_eq!(names(&r), vec!["Gómez"]);
    let r = app.get(Some(&sup), "/clients?q=jos").await.expect(200);
    assert_eq!(names(&r), vec!["Álvarez", "Smith"]);
    let r = app.get(Some(&sup), "/clients?q=%25").await.expect(200);
    assert_eq!(names(&r).len(), 0, "% is a literal, not a wildcard");
}

#[actix_web::test]
async fn pagination_is_stable_while_rows_are_inserted() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let mut originals = Vec::new();
    for i in 0..25 {
        let r = app
            .post(
                Some(&sup),
                "/clients",
                new_client("Pat", &format!("L{i:02}")),
            )
            .await
            .expect(201);
        originals.push(r.body["id"].as_str().unwrap().to_string());
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut page_no = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/clients?limit=7&cursor={c}"),
            None => "/clients?limit=7".to_string(),
        };
        let r = app.get(Some(&sup), &path).await.expect(200);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() <= 7);
        seen.extend(items.iter().map(|c| c["id"].as_str().unwrap().to_string()));
        // While paging, rows land before the cursor, right after it and at the end.
        for last in [
            format!("A{page_no:02}"),
            format!("L{page_no:02}a"),
            format!("Z{page_no:02}"),
        ] {
            app.post(Some(&sup), "/clients", new_client("New", &last))
                .await
                .expect(201);
        }
        page_no += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    for id in &originals {
        assert_eq!(
            seen.iter().filter(|s| *s == id).count(),
            1,
            "every original row exactly once"
        );
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no row twice: {seen:?}");
    app.get(Some(&sup), "/clients?limit=0")
        .await
        .expect_invalid("limit");
    app.get(Some(&sup), "/clients?limit=201")
        .await
        .expect_invalid("limit");
    app.get(Some(&sup), "/clients?cursor=garbage!")
        .await
        .expect_invalid("cursor");
    let long = "x".repeat(201);
    app.get(Some(&sup), &format!("/clients?q={long}"))
        .await
        .expect_invalid("q");
}

#[actix_web::test]
async fn list_orders_by_last_name_and_search_matches_every_word() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    for (first, last, preferred) in [
        ("Amy", "Zimmerman", None),
        ("Bob", "Smith", Some("Bobby")),
        ("Zed", "Adams", None),
        ("Émile", "Ávila", None),
        ("Al", "Smithers", None),
        ("Cleo", "smith", None),
    ] {
        let mut body = new_client(first, last);
        body["preferred_name"] = json!(preferred);
        app.post(Some(&intake), "/clients", body).await.expect(201);
    }
    let names = |r: &crate::helpers::Resp| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c["first_name"].as_str().unwrap(),
                    c["last_name"].as_str().unwrap()
                )
            })
            .collect()
    };
    let r = app.get(Some(&intake), "/clients").await.expect(200);
    assert_eq!(
        names(&r),
        vec![
            "Zed Adams",
            "Émile Ávila",
            "Bob Smith",
            "Cleo smith",
            "Al Smithers",
            "Amy Zimmerman"
        ],
        "last name, then first name; accents and case ignored; Smith before Smithers"
    );
    let r = app
        .get(Some(&intake), "/clients?q=avila%20emile")
        .await
        .expect(200);
    assert_eq!(names(&r), vec!["Émile Ávila"], "words in any order");
    let r = app
        .get(Some(&intake), "/clients?q=%C3%89MILE%20%C3%81VILA")
        .await
        .expect(200);
    assert_eq!(names(&r), vec!["Émile Ávila"]);
    let r = app.get(Some(&intake), "/clients?q=smith").await.expect(200);
    assert_eq!(names(&r), vec!["Bob Smith", "Cleo smith", "Al Smithers"]);
    let r = app
        .get(Some(&intake), "/clients?q=smith%20%20bob")
        .await
        .expect(200);
    assert_eq!(names(&r), vec!["Bob Smith"], "every word must match");
    let r = app.get(Some(&intake), "/clients?q=bobby").await.expect(200);
    assert_eq!(
        names(&r),
        vec!["Bob Smith"],
        "the preferred name is searched"
    );
    let r = app
        .get(Some(&intake), "/clients?q=smith_")
        .await
        .expect(200);
    assert_eq!(names(&r).len(), 0, "_ is a literal, not a wildcard");
    let r = app
        .get(Some(&intake), "/clients?q=%20%20")
        .await
        .expect(200);
    assert_eq!(names(&r).len(), 6, "a blank q lists everyone");

    // a search pages with the same order
    let r = app
        .get(Some(&intake), "/clients?q=smith&limit=2")
        .await
        .expect(200);
    assert_eq!(names(&r), vec!["Bob Smith", "Cleo smith"]);
    let c = r.body["next_cursor"].as_str().unwrap();
    let r = app
        .get(
            Some(&intake),
            &format!("/clients?q=smith&limit=2&cursor={c}"),
        )
        .await
        .expect(200);
    assert_eq!(names(&r), vec!["Al Smithers"]);
    assert!(r.body["next_cursor"].is_null());

    // a rename is searchable at once, the old name no longer
    let id = app
        .get(Some(&intake), "/clients?q=zimmerman")
        .await
        .expect(200)
        .body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.patch(
        Some(&intake),
        &format!("/clients/{id}"),
        json!({"last_name": "Ødegård"}),
        None,
    )
    .await
    .expect(200);
    assert_eq!(
        names(
            &app.get(Some(&intake), "/clients?q=zimmerman")
                .await
                .expect(200)
        )
        .len(),
        0
    );
    let r = app
        .get(Some(&intake), "/clients?q=odegard")
        .await
        .expect(200);
    assert_eq!(names(&r), vec!["Amy Ødegård"]);
}

#[actix_web::test]
async fn patch_honours_if_match_and_clears_fields() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let mut body = new_client("Lee", "Park");
    body["phone"] = json!("555-0100");
    let r = app.post(Some(&intake), "/clients", body).await.expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    let tag = r.header("etag").unwrap();
    let r = app
        .patch(
            Some(&intake),
            &format!("/clients/{id}"),
            json!({"phone": null, "last_name": "Parker"}),
            Some(&tag),
        )
        .await
        .expect(200);
    assert_eq!(r.body["phone"], Value::Null);
    assert_eq!(r.body["last_name"], "Parker");
    let new_tag = r.header("etag").unwrap();
    assert_ne!(new_tag, tag);
    app.patch(
        Some(&intake),
        &format!("/clients/{id}"),
        json!({"last_name": "Stale"}),
        Some(&tag),
    )
    .await
    .expect_problem(412, "precondition_failed");
    let r = app
        .get(Some(&intake), &format!("/clients/{id}"))
        .await
        .expect(200);
    assert_eq!(
        r.body["last_name"], "Parker",
        "a stale write changed nothing"
    );
    app.patch(
        Some(&intake),
        &format!("/clients/{id}"),
        json!({"date_of_birth": "2999-01-01"}),
        None,
    )
    .await
    .expect_invalid("date_of_birth");
}

#[actix_web::test]
async fn role_and_scope_matrix() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let sup = app.staff(Role::Supervisor).await;
    let intake = app.staff(Role::Intake).await;
    let ther = app.staff(Role::Therapist).await;
    let other = app.staff(Role::Therapist).await;
    let seated = fixtures::client(&app, "Seated", "Member");
    let screened = fixtures::client(&app, "Screened", "Person");
    let stranger = fixtures::client(&app, "Out", "Ofscope");
    let g = fixtures::group(&app, ther.id).create();
    let c = fixtures::contract(&app, g, 1, sup.id);
    let (_, seated_client) = fixtures::active_member(&app, g, c, sup.id, chrono::Utc::now());
    let _ = seated;
    fixtures::accepted_screening(&app, screened, ther.id, None, 1);

    // create: supervisor and intake only
    app.post(Some(&admin), "/clients", new_client("A", "B"))
        .await
        .expect_problem(403, "forbidden");
    app.post(Some(&ther), "/clients", new_client("A", "B"))
        .await
        .expect_problem(403, "forbidden");
    app.post(Some(&sup), "/clients", new_client("A", "B"))
        .await
        .expect(201);
    app.post(Some(&intake), "/clients", new_client("A", "B"))
        .await
        .expect(201);
    app.post(None, "/clients", new_client("A", "B"))
        .await
        .expect_problem(401, "unauthorized");

    // read: admin, supervisor, intake all; therapist in scope only
    for u in [&admin, &sup, &intake] {
        app.get(Some(u), &format!("/clients/{stranger}"))
            .await
            .expect(200);
    }
    app.get(Some(&ther), &format!("/clients/{seated_client}"))
        .await
        .expect(200);
    app.get(Some(&ther), &format!("/clients/{screened}"))
        .await
        .expect(200);
    app.get(Some(&ther), &format!("/clients/{stranger}"))
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&other), &format!("/clients/{seated_client}"))
        .await
        .expect_problem(404, "not_found");
    let r = app.get(Some(&ther), "/clients").await.expect(200);
    let mut ids: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut expected = vec![seated_client.to_string(), screened.to_string()];
    expected.sort();
    assert_eq!(ids, expected);

    // update: supervisor and intake only
    app.patch(
        Some(&admin),
        &format!("/clients/{stranger}"),
        json!({"mandated": true}),
        None,
    )
    .await
    .expect_problem(403, "forbidden");
    app.patch(
        Some(&ther),
        &format!("/clients/{seated_client}"),
        json!({"mandated": true}),
        None,
    )
    .await
    .expect_problem(403, "forbidden");
    app.patch(
        Some(&intake),
        &format!("/clients/{stranger}"),
        json!({"mandated": true}),
        None,
    )
    .await
    .expect(200);
    assert!(
        app.audit_actions("access.forbidden").len() >= 4,
        "every 403 is audited"
    );
}

#[actix_web::test]
async fn patch_refuses_null_required_fields_and_unknown_ids() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let r = app
        .post(Some(&intake), "/clients", new_client("Ida", "Berg"))
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    for field in [
        "first_name",
        "last_name",
        "date_of_birth",
        "referral_source",
        "mandated",
    ] {
        let r = app
            .patch(
                Some(&intake),
                &format!("/clients/{id}"),
                json!({ field: null }),
                None,
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field);
    }
    for (field, value) in [
        ("first_name", json!("")),
        ("email", json!("not-an-email")),
        ("phone", json!("call me")),
        ("referral_source", json!("friend")),
        ("date_of_birth", json!("1850-01-01")),
    ] {
        let r = app
            .patch(
                Some(&intake),
                &format!("/clients/{id}"),
                json!({ field: value }),
                None,
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field, "{field}");
    }
    let r = app
        .get(Some(&intake), &format!("/clients/{id}"))
        .await
        .expect(200);
    assert_eq!(r.body["first_name"], "Ida");
    assert_eq!(r.body["mandated"], true);
    assert_eq!(
        r.header("etag").as_deref(),
        Some("\"v1\""),
        "refused PATCHes changed nothing"
    );
    let r = app
        .patch(
            Some(&intake),
            &format!("/clients/{id}"),
            json!({"preferred_name": "Idy", "email": "ida@example.org", "mandated": false, "referral_source": "self"}),
            Some("\"v1\""),
        )
        .await
        .expect(200);
    assert_eq!(r.body["preferred_name"], "Idy");
    assert_eq!(r.body["referral_source"], "self");
    assert_eq!(r.body["mandated"], false);
    assert_eq!(r.body["first_name"], "Ida", "absent fields are left alone");
    assert_eq!(r.header("etag").as_deref(), Some("\"v2\""));
    let changed = app.audit_actions("client.update");
    assert_eq!(changed.len(), 1);
    assert!(
        !changed[0].3.to_string().contains("ida@example.org"),
        "no values in the audit trail"
    );
    app.patch(
        Some(&intake),
        &format!("/clients/{}", uuid::Uuid::new_v4()),
        json!({"mandated": true}),
        None,
    )
    .await
    .expect_problem(404, "not_found");
    app.get(Some(&intake), &format!("/clients/{}", uuid::Uuid::new_v4()))
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn concurrent_patches_with_one_etag_let_exactly_one_through() {
    let app = TestApp::spawn().await;
    let intake = app.staff(Role::Intake).await;
    let r = app
        .post(Some(&intake), "/clients", new_client("Max", "Ode"))
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    let tag = r.header("etag").unwrap();
    let path = format!("/clients/{id}");
    let results = futures::future::join_all((0..8).map(|i| {
        app.patch(
            Some(&intake),
            &path,
            json!({"first_name": format!("Max{i}")}),
            Some(&tag),
        )
    }))
    .await;
    let ok: Vec<&crate::helpers::Resp> = results.iter().filter(|r| r.status == 200).collect();
    assert_eq!(ok.len(), 1, "exactly one write wins");
    assert!(results
        .iter()
        .filter(|r| r.status != 200)
        .all(|r| r.status == 412 && r.body["code"] == "precondition_failed"));
    let now = app.get(Some(&intake), &path).await.expect(200);
    assert_eq!(now.body["first_name"], ok[0].body["first_name"]);
    assert_eq!(now.header("etag").as_deref(), Some("\"v2\""));
}

#[actix_web::test]
async fn a_therapists_refused_read_is_audited() {
    let app = TestApp::spawn().await;
    let ther = app.staff(Role::Therapist).await;
    let sup = app.staff(Role::Supervisor).await;
    let stranger = fixtures::client(&app, "Out", "Ofscope");
    app.get(Some(&ther), &format!("/clients/{stranger}"))
        .await
        .expect_problem(404, "not_found");
    app.get(Some(&ther), &format!("/clients/{}", uuid::Uuid::new_v4()))
        .await
        .expect_problem(404, "not_found");
    let events = app.audit_actions("client.read");
    assert_eq!(
        events.len(),
        1,
        "only the existing client's refusal is recorded"
    );
    assert_eq!(events[0].0, Some(ther.id));
    assert_eq!(events[0].1, "denied");
    assert_eq!(events[0].2, Some(stranger));

    // a screening for a group the therapist leads brings its client into scope (SPEC §1)
    let g = fixtures::group(&app, ther.id).create();
    fixtures::accepted_screening(&app, stranger, sup.id, Some(g), 2);
    app.get(Some(&ther), &format!("/clients/{stranger}"))
        .await
        .expect(200);
    let r = app.get(Some(&ther), "/clients").await.expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
}
