//! `GET /sessions`, `GET /sessions/{id}` and the documentation state of SPEC §7.

use chrono::{Duration, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::world::{assert_field, date_of, ids, World, MARKER};

fn item(body: &Value, id: Uuid) -> &Value {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.to_string())
        .unwrap_or_else(|| panic!("{id} not listed: {body}"))
}

#[actix_web::test]
async fn documentation_state_of_each_session() {
    let w = World::new().await;
    let r = w.app.get(Some(&w.ther), "/sessions").await.expect(200);
    assert!(!r.text.contains(MARKER));
    assert_eq!(
        ids(&r.body),
        vec![w.complete, w.overdue, w.cancelled, w.recent, w.upcoming],
        "the therapist's groups only, by scheduled_at"
    );
    let doc = &item(&r.body, w.complete)["documentation"];
    assert_eq!(doc["attendance_recorded"], true);
    assert_eq!(doc["group_note"], "signed");
    assert_eq!(doc["member_notes_expected"], 1, "m2 was absent");
    assert_eq!(doc["member_notes_signed"], 1);
    assert_eq!(doc["complete"], true);
    assert_eq!(doc["overdue"], false);

    let s = item(&r.body, w.overdue);
    assert!(!s["group_name"].as_str().unwrap().is_empty());
    assert_eq!(s["group_id"], w.group.to_string());
    assert_eq!(s["status"], "held");
    let doc = &s["documentation"];
    assert_eq!(doc["group_note"], "draft");
    assert_eq!(doc["member_notes_expected"], 2, "present and late");
    assert_eq!(doc["member_notes_signed"], 0, "a draft does not count");
    assert_eq!(
        (doc["complete"].clone(), doc["overdue"].clone()),
        (Value::Bool(false), Value::Bool(true))
    );

    let doc = &item(&r.body, w.recent)["documentation"];
    assert_eq!(doc["group_note"], Value::Null);
    assert_eq!(
        (doc["complete"].clone(), doc["overdue"].clone()),
        (Value::Bool(false), Value::Bool(false))
    );
    for id in [w.cancelled, w.upcoming] {
        let doc = &item(&r.body, id)["documentation"];
        assert_eq!(doc["complete"], false);
        assert_eq!(doc["overdue"], false);
    }
    let cancelled = item(&r.body, w.cancelled);
    assert_eq!(cancelled["documentation"]["attendance_recorded"], false);
    assert_eq!(cancelled["status"], "cancelled");
}

#[actix_web::test]
async fn overdue_and_incomplete_filters() {
    let w = World::new().await;
    let r = w
        .app
        .get(Some(&w.ther), "/sessions?mine=true&documentation=overdue")
        .await
        .expect(200);
    assert_eq!(ids(&r.body), vec![w.overdue], "my overdue documentation");
    let r = w
        .app
        .get(Some(&w.ther), "/sessions?documentation=incomplete")
        .await
        .expect(200);
    assert_eq!(ids(&r.body), vec![w.overdue, w.recent]);
    // The supervisor sees every group's.
    let r = w
        .app
        .get(Some(&w.sup), "/sessions?documentation=overdue")
        .await
        .expect(200);
    let mut got = ids(&r.body);
    got.sort();
    let mut want = vec![w.overdue, w.foreign];
    want.sort();
    assert_eq!(got, want);
    // Signing the missing notes completes the recent session.
    w.write_group_note(w.recent, true).await;
    w.write_member_note(w.recent, w.m1, true).await;
    let r = w
        .app
        .get(Some(&w.ther), &format!("/sessions/{}", w.recent))
        .await
        .expect(200);
    assert_eq!(
        r.body["documentation"]["complete"], false,
        "m2's note is missing"
    );
    assert_eq!(r.body["documentation"]["member_notes_signed"], 1);
    w.write_member_note(w.recent, w.m2, true).await;
    let r = w
        .app
        .get(Some(&w.ther), &format!("/sessions/{}", w.recent))
        .await
        .expect(200);
    assert_eq!(r.body["documentation"]["complete"], true);
    let r = w
        .app
        .get(Some(&w.ther), "/sessions?documentation=incomplete")
        .await
        .expect(200);
    assert_eq!(ids(&r.body), vec![w.overdue]);
}

#[actix_web::test]
async fn my_sessions_this_week_and_windows() {
    let w = World::new().await;
    let today = date_of(Utc::now());
    let from = today - Duration::days(3);
    let to = today + Duration::days(3);
    let r = w
        .app
        .get(
            Some(&w.ther),
            &format!("/sessions?mine=true&from={from}&to={to}"),
        )
        .await
        .expect(200);
    assert_eq!(ids(&r.body), vec![w.cancelled, w.recent, w.upcoming]);
    assert!(r.body["items"][0]["documentation"].is_object());
    let r = w
        .app
        .get(
            Some(&w.ther),
            &format!("/sessions?mine=true&from={from}&to={to}&status=held"),
        )
        .await
        .expect(200);
    assert_eq!(ids(&r.body), vec![w.recent]);
    // A supervisor leads nothing: mine=true is empty, without it every group.
    let r = w
        .app
        .get(
            Some(&w.sup),
            &format!("/sessions?mine=true&from={from}&to={to}"),
        )
        .await
        .expect(200);
    assert!(ids(&r.body).is_empty());
    let r = w
        .app
        .get(
            Some(&w.sup),
            &format!("/sessions?group_id={}", w.other_group),
        )
        .await
        .expect(200);
    assert_eq!(ids(&r.body), vec![w.foreign]);
    // Pages of two, in order, no repeats.
    let mut seen = Vec::new();
    let mut path = "/sessions?limit=2".to_string();
    loop {
        let r = w.app.get(Some(&w.ther), &path).await.expect(200);
        seen.extend(ids(&r.body));
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("/sessions?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        vec![w.complete, w.overdue, w.cancelled, w.recent, w.upcoming]
    );
}

#[actix_web::test]
async fn scope_and_roles() {
    let w = World::new().await;
    // Another therapist's group: filtered away from lists, 404 by id.
    let r = w
        .app
        .get(
            Some(&w.ther),
            &format!("/sessions?group_id={}", w.other_group),
        )
        .await
        .expect(200);
    assert!(ids(&r.body).is_empty());
    w.app
        .get(Some(&w.ther), &format!("/sessions/{}", w.foreign))
        .await
        .expect_problem(404, "not_found");
    w.app
        .get(Some(&w.ther), &format!("/sessions/{}", Uuid::new_v4()))
        .await
        .expect_problem(404, "not_found");
    let r = w
        .app
        .get(Some(&w.other_ther), &format!("/sessions/{}", w.foreign))
        .await
        .expect(200);
    assert_eq!(r.body["documentation"]["overdue"], true);
    // Admin and intake see sessions, never documentation.
    for who in [&w.admin, &w.intake] {
        let r = w.app.get(Some(who), "/sessions").await.expect(200);
        assert_eq!(ids(&r.body).len(), 6);
        assert!(
            r.body["items"][0].get("documentation").is_none(),
            "{}",
            r.text
        );
        let r = w
            .app
            .get(Some(who), &format!("/sessions/{}", w.overdue))
            .await
            .expect(200);
        assert!(r.body.get("documentation").is_none());
        assert!(r.body["group_name"].is_string());
        w.app
            .get(Some(who), "/sessions?documentation=overdue")
            .await
            .expect_problem(403, "forbidden");
    }
    w.app
        .get(None, "/sessions")
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn bad_filters_are_422_naming_the_field() {
    let w = World::new().await;
    for (query, field) in [
        ("status=postponed", "status"),
        ("documentation=late", "documentation"),
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("mine=maybe", "mine"),
        ("group_id=12", "group_id"),
        ("from=2026-03-10&to=2026-03-01", "from"),
        ("limit=0", "limit"),
        ("cursor=%21%21", "cursor"),
    ] {
        let r = w
            .app
            .get(Some(&w.ther), &format!("/sessions?{query}"))
            .await;
        assert_field(&r, field);
    }
}
