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
