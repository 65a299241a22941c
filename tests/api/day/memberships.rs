//! `GET /clients/{id}/memberships`: a client's seats, newest first, within scope.

use chrono::{Duration, Utc};

use super::world::{ids, World};
use crate::fixtures;

#[actix_web::test]
async fn a_clients_seats_newest_first_within_scope() {
    let w = World::new().await;
    // c1 also held (and left) a seat in the other therapist's group, later.
    let other_contract = fixtures::contract(&w.app, w.other_group, 2, w.sup.id);
    let earlier = fixtures::seat(
        &w.app,
        w.other_group,
        other_contract,
        w.sup.id,
        Utc::now() - Duration::days(20),
        w.c1,
    );
    fixtures::exit_member(
        &w.app,
        earlier,
        "dropped_out",
        Utc::now() - Duration::days(2),
    );
    let path = format!("/clients/{}/memberships", w.c1);
    for who in [&w.sup, &w.admin, &w.intake] {
        let r = w.app.get(Some(who), &path).await.expect(200);
        assert_eq!(ids(&r.body), vec![earlier, w.m1], "newest first");
        assert_eq!(r.body["items"][0]["group_id"], w.other_group.to_string());
        assert!(r.body["items"][0]["group_name"]
            .as_str()
            .unwrap()
            .starts_with("Group "));
        assert_eq!(r.body["items"][0]["status"], "exited");
        assert_eq!(r.body["items"][1]["status"], "active");
        assert_eq!(r.body["items"][1]["client"]["id"], w.c1.to_string());
    }
    // The therapist sees only the seat in their own group.
    let r = w.app.get(Some(&w.ther), &path).await.expect(200);
    assert_eq!(ids(&r.body), vec![w.m1]);
    // ...and the other therapist only theirs.
    let r = w.app.get(Some(&w.other_ther), &path).await.expect(200);
    assert_eq!(ids(&r.body), vec![earlier]);
    // A client outside the therapist's scope is a 404, audited as denied.
    let stranger = fixtures::client(&w.app, "Sam", "Stranger");
    w.app
        .get(Some(&w.ther), &format!("/clients/{stranger}/memberships"))
        .await
        .expect_problem(404, "not_found");
    w.app
        .get(
            Some(&w.sup),
            &format!("/clients/{}/memberships", uuid::Uuid::new_v4()),
        )
        .await
        .expect_problem(404, "not_found");
    let events = w.app.audit_actions("membership.list");
    assert!(events
        .iter()
        .any(|e| e.1 == "denied" && e.2 == Some(stranger)));
    let allowed: Vec<_> = events.iter().filter(|e| e.1 == "allowed").collect();
    assert_eq!(allowed.len(), 5, "one event per list request");
    assert_eq!(allowed[0].3["client_ids"][0], w.c1.to_string());
    // Paging.
    let r = w
        .app
        .get(Some(&w.sup), &format!("{path}?limit=1"))
        .await
        .expect(200);
    assert_eq!(ids(&r.body), vec![earlier]);
    let c = r.body["next_cursor"].as_str().unwrap().to_string();
    let r = w
        .app
        .get(Some(&w.sup), &format!("{path}?limit=1&cursor={c}"))
        .await
        .expect(200);
    assert_eq!(ids(&r.body), vec![w.m1]);
    assert!(r.body["next_cursor"].is_null());
}
