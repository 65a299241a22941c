//! Issue 4: the waitlist as screenings age past 90 days and clients take seats.

use chrono::Utc;
use groupwork::auth::Role;

use crate::fixtures;
use crate::helpers::TestApp;

fn client_ids(r: &crate::helpers::Resp) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["client"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn contents_order_validity_and_seats() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id).create();
    let other_group = fixtures::group(&app, sup.id).create();

    let old = fixtures::client(&app, "Old", "Screening");
    let recent = fixtures::client(&app, "Recent", "Screening");
    let expired = fixtures::client(&app, "Expired", "Screening");
    let for_other = fixtures::client(&app, "Other", "Group");
    let seated = fixtures::client(&app, "Has", "Seat");
    fixtures::accepted_screening(&app, old, ther.id, Some(g), 80);
    fixtures::accepted_screening(&app, recent, ther.id, None, 5);
    fixtures::accepted_screening(&app, expired, ther.id, None, 91);
    fixtures::accepted_screening(&app, for_other, sup.id, Some(other_group), 10);
    let screening = fixtures::accepted_screening(&app, seated, ther.id, Some(g), 20);

    let r = app.get(Some(&sup), "/waitlist").await.expect(200);
    assert_eq!(
        client_ids(&r),
        vec![
            old.to_string(),
            seated.to_string(),
            for_other.to_string(),
            recent.to_string()
        ],
        "oldest screening first, the expired one absent"
    );
    assert!(r.body["items"][0]["valid_until"].is_string());

    let r = app
        .get(Some(&sup), &format!("/waitlist?group_id={g}"))
        .await
        .expect(200);
    assert_eq!(
        client_ids(&r),
        vec![old.to_string(), seated.to_string(), recent.to_string()]
    );

    // a pending seat takes the client off the list
    {
        use diesel::prelude::*;
        use groupwork::schema::memberships as m;
        diesel::insert_into(m::table)
            .values((
                m::id.eq(uuid::Uuid::new_v4()),
                m::group_id.eq(g),
                m::client_id.eq(seated),
                m::screening_id.eq(screening),
                m::created_by.eq(sup.id),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    let r = app.get(Some(&sup), "/waitlist").await.expect(200);
    assert!(!client_ids(&r).contains(&seated.to_string()));

    // a screening ages past 90 days
    {
        use diesel::prelude::*;
        use groupwork::schema::screenings as s;
        diesel::update(s::table.filter(s::client_id.eq(old)))
            .set(
                s::completed_at
                    .eq(Utc::now() - chrono::Duration::days(90) - chrono::Duration::minutes(1)),
            )
            .execute(&mut app.conn())
            .unwrap();
    }
    let r = app.get(Some(&sup), "/waitlist").await.expect(200);
    assert_eq!(
        client_ids(&r),
        vec![for_other.to_string(), recent.to_string()]
    );

    // pagination
    let r = app.get(Some(&sup), "/waitlist?limit=1").await.expect(200);
    assert_eq!(client_ids(&r), vec![for_other.to_string()]);
    let cursor = r.body["next_cursor"].as_str().unwrap().to_string();
    let r = app
        .get(Some(&sup), &format!("/waitlist?limit=1&cursor={cursor}"))
        .await
        .expect(200);
    assert_eq!(client_ids(&r), vec![recent.to_string()]);
    assert!(r.body["next_cursor"].is_null());
}

#[actix_web::test]
async fn roles_and_therapist_scope() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let intake = app.staff(Role::Intake).await;
    let ther = app.staff(Role::Therapist).await;
    let other = app.staff(Role::Therapist).await;
    let mine = fixtures::client(&app, "Mine", "Client");
    let theirs = fixtures::client(&app, "Their", "Client");
    fixtures::accepted_screening(&app, mine, ther.id, None, 3);
    fixtures::accepted_screening(&app, theirs, other.id, None, 4);
    app.get(Some(&admin), "/waitlist")
        .await
        .expect_problem(403, "forbidden");
    let r = app.get(Some(&intake), "/waitlist").await.expect(200);
    assert_eq!(client_ids(&r).len(), 2);
    let r = app.get(Some(&ther), "/waitlist").await.expect(200);
    assert_eq!(client_ids(&r), vec![mine.to_string()]);
}

fn screening_ids(r: &crate::helpers::Resp) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["screening_id"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn seats_taken_through_the_api_anywhere_and_returning_clients() {
    use serde_json::json;
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let intake = app.staff(Role::Intake).await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id).create();
    let h = fixtures::group(&app, sup.id).create();
    let c = fixtures::client(&app, "Kim", "Twice");
    let for_g = fixtures::accepted_screening(&app, c, ther.id, Some(g), 30);
    let for_none = fixtures::accepted_screening(&app, c, ther.id, None, 10);

    // one line per client, with the oldest matching screening
    let r = app.get(Some(&intake), "/waitlist").await.expect(200);
    assert_eq!(screening_ids(&r), vec![for_g.to_string()]);
    assert_eq!(r.body["items"][0]["interviewer_id"], ther.id.to_string());
    assert_eq!(r.body["items"][0]["screened_for_group_id"], g.to_string());
    let r = app
        .get(Some(&intake), &format!("/waitlist?group_id={h}"))
        .await
        .expect(200);
    assert_eq!(
        screening_ids(&r),
        vec![for_none.to_string()],
        "for group h only the screening for no group counts"
    );

    // admitted (pending) to h through the API: off the list for every group
    let r = app
        .post(
            Some(&sup),
            &format!("/groups/{h}/members"),
            json!({"client_id": c, "screening_id": for_none}),
        )
        .await
        .expect(201);
    let membership = r.body["id"].as_str().unwrap().to_string();
    for path in ["/waitlist".to_string(), format!("/waitlist?group_id={g}")] {
        let r = app.get(Some(&intake), &path).await.expect(200);
        assert!(client_ids(&r).is_empty(), "{path}: a seat in any group");
    }
    // withdrawn: back on the list, but not on the screening already used
    app.post(
        Some(&sup),
        &format!("/memberships/{membership}/withdraw"),
        json!({}),
    )
    .await
    .expect(200);
    let r = app.get(Some(&intake), "/waitlist").await.expect(200);
    assert_eq!(screening_ids(&r), vec![for_g.to_string()]);
    let r = app
        .get(Some(&intake), &format!("/waitlist?group_id={h}"))
        .await
        .expect(200);
    assert!(
        client_ids(&r).is_empty(),
        "the screening for no group was used up by the admission"
    );
    // a new screening puts them back for h
    let again = fixtures::accepted_screening(&app, c, sup.id, None, 1);
    let r = app
        .get(Some(&intake), &format!("/waitlist?group_id={h}"))
        .await
        .expect(200);
    assert_eq!(screening_ids(&r), vec![again.to_string()]);
}

#[actix_web::test]
async fn validity_boundary_and_other_outcomes() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let inside = fixtures::client(&app, "In", "Side");
    let outside = fixtures::client(&app, "Out", "Side");
    let declined = fixtures::client(&app, "De", "Clined");
    let s_in = fixtures::accepted_screening(&app, inside, sup.id, None, 0);
    let s_out = fixtures::accepted_screening(&app, outside, sup.id, None, 0);
    let s_dec = fixtures::accepted_screening(&app, declined, sup.id, None, 3);
    {
        use diesel::prelude::*;
        use groupwork::schema::screenings as s;
        let now = Utc::now();
        let mut conn = app.conn();
        diesel::update(s::table.find(s_in))
            .set(
                s::completed_at.eq(now - chrono::Duration::days(90) + chrono::Duration::minutes(5)),
            )
            .execute(&mut conn)
            .unwrap();
        diesel::update(s::table.find(s_out))
            .set(
                s::completed_at.eq(now - chrono::Duration::days(90) - chrono::Duration::minutes(5)),
            )
            .execute(&mut conn)
            .unwrap();
        diesel::update(s::table.find(s_dec))
            .set(s::outcome.eq("declined"))
            .execute(&mut conn)
            .unwrap();
    }
    let r = app.get(Some(&sup), "/waitlist").await.expect(200);
    assert_eq!(
        client_ids(&r),
        vec![inside.to_string()],
        "valid for 90 days after completed_at; only accepted screenings"
    );
    let until: chrono::DateTime<Utc> = r.body["items"][0]["valid_until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let done: chrono::DateTime<Utc> = r.body["items"][0]["completed_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(until - done, chrono::Duration::days(90));
}

#[actix_web::test]
async fn a_group_therapist_waits_on_their_groups_intake() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let other = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id).create();
    let h = fixtures::group(&app, other.id).create();
    let for_g = fixtures::client(&app, "For", "Mine");
    let for_none = fixtures::client(&app, "For", "Noone");
    let for_h = fixtures::client(&app, "For", "Theirs");
    fixtures::accepted_screening(&app, for_g, sup.id, Some(g), 5);
    fixtures::accepted_screening(&app, for_none, sup.id, None, 4);
    fixtures::accepted_screening(&app, for_h, sup.id, Some(h), 3);
    let r = app.get(Some(&ther), "/waitlist").await.expect(200);
    assert_eq!(
        client_ids(&r),
        vec![for_g.to_string()],
        "screened for their group by someone else: in scope; the others not"
    );
    let r = app
        .get(Some(&ther), &format!("/waitlist?group_id={g}"))
        .await
        .expect(200);
    assert_eq!(client_ids(&r), vec![for_g.to_string()]);
    app.get(Some(&ther), &format!("/waitlist?group_id={h}"))
        .await
        .expect_problem(404, "not_found");
    app.get(
        Some(&sup),
        &format!("/waitlist?group_id={}", uuid::Uuid::new_v4()),
    )
    .await
    .expect_problem(404, "not_found");
    app.get(Some(&sup), "/waitlist?group_id=nope")
        .await
        .expect_invalid("group_id");
    app.get(None, "/waitlist")
        .await
        .expect_problem(401, "unauthorized");
    let r = app.get(Some(&other), "/waitlist").await.expect(200);
    assert_eq!(client_ids(&r), vec![for_h.to_string()]);
    let r = app.get(Some(&sup), "/waitlist").await.expect(200);
    assert_eq!(
        client_ids(&r),
        vec![for_g.to_string(), for_none.to_string(), for_h.to_string()]
    );
}

#[actix_web::test]
async fn the_demo_practice_has_a_coherent_waitlist_and_every_outcome() {
    use serde_json::json;
    let app = TestApp::spawn().await;
    let url = app.db_url.clone();
    let cipher = app.state.notes.clone();
    tokio::task::spawn_blocking(move || groupwork::demo::run(&url, &cipher))
        .await
        .unwrap()
        .unwrap();
    let r = app
        .post(
            None,
            "/auth/login",
            json!({"email": "supervisor@demo.groupwork.test", "password": groupwork::demo::DEMO_PASSWORD}),
        )
        .await
        .expect(200);
    let sup = crate::helpers::TestUser {
        id: r.body["user"]["id"].as_str().unwrap().parse().unwrap(),
        email: "supervisor".into(),
        role: Role::Supervisor,
        token: r.body["access_token"].as_str().unwrap().to_string(),
    };
    let r = app.get(Some(&sup), "/waitlist").await.expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        10,
        "the ten recently accepted, unseated clients"
    );
    let mut last = String::new();
    for e in items {
        let until: chrono::DateTime<Utc> = e["valid_until"].as_str().unwrap().parse().unwrap();
        assert!(until > Utc::now());
        let done = e["completed_at"].as_str().unwrap().to_string();
        assert!(done >= last, "oldest screening first");
        last = done;
        assert_ne!(e["client"]["last_name"], "Şahin", "an expired screening");
    }
    let r = app
        .get(Some(&sup), "/screenings?status=completed&limit=200")
        .await
        .expect(200);
    let outcomes: std::collections::HashSet<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    let r = app.get(Some(&sup), "/clients?limit=200").await.expect(200);
    let clients = r.body["items"].as_array().unwrap();
    let sources: std::collections::HashSet<&str> = clients
        .iter()
        .map(|c| c["referral_source"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 7, "every referral source: {sources:?}");
    assert!(clients.iter().any(|c| c["mandated"] == true));
    assert!(clients.iter().any(|c| c["mandated"] == false));
    let r = app.get(Some(&sup), "/clients?q=sahin").await.expect(200);
    assert_eq!(r.body["items"][0]["last_name"], "Şahin");
}
