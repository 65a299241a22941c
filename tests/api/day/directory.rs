//! `GET /staff`: the directory every role reads.

use super::world::{assert_field, World};

#[actix_web::test]
async fn every_role_reads_the_directory_and_intake_picks_an_interviewer() {
    let w = World::new().await;
    for who in [&w.admin, &w.sup, &w.ther, &w.intake] {
        let r = w.app.get(Some(who), "/staff").await.expect(200);
        let items = r.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 5, "{}", r.text);
        for i in items {
            let mut keys: Vec<&str> = i.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(
                keys,
                ["active", "display_name", "id", "role"],
                "never an email or hash"
            );
        }
    }
    // The intake coordinator picks an interviewer among active therapists, then schedules.
    let r = w
        .app
        .get(Some(&w.intake), "/staff?role=therapist&active=true")
        .await
        .expect(200);
    let therapists = r.body["items"].as_array().unwrap();
    assert_eq!(therapists.len(), 2);
    assert!(therapists
        .iter()
        .all(|t| t["role"] == "therapist" && t["active"] == true));
    let interviewer = therapists[0]["id"].as_str().unwrap().to_string();
    let client = crate::fixtures::client(&w.app, "Dana", "Quill");
    w.app
        .post(
            Some(&w.intake),
            &format!("/clients/{client}/screenings"),
            serde_json::json!({"interviewer_id": interviewer, "scheduled_at": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339()}),
        )
        .await
        .expect(201);
}

#[actix_web::test]
async fn filters_and_paging() {
    let w = World::new().await;
    let admin = w.admin.clone();
    {
        use diesel::prelude::*;
        use groupwork::schema::users;
        diesel::update(users::table.find(w.other_ther.id))
            .set(users::active.eq(false))
            .execute(&mut w.app.conn())
            .unwrap();
    }
    let r = w
        .app
        .get(Some(&admin), "/staff?active=false")
        .await
        .expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], w.other_ther.id.to_string());
    let r = w
        .app
        .get(Some(&admin), "/staff?role=supervisor")
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let mut seen = 0;
    let mut path = "/staff?limit=2".to_string();
    loop {
        let r = w.app.get(Some(&admin), &path).await.expect(200);
        seen += r.body["items"].as_array().unwrap().len();
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("/staff?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, 5);
    assert_field(
        &w.app.get(Some(&admin), "/staff?role=janitor").await,
        "role",
    );
    assert_field(
        &w.app.get(Some(&admin), "/staff?active=yes").await,
        "active",
    );
}
