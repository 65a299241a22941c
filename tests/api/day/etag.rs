//! Attendance sheets carry an `ETag`; `PUT` honours `If-Match` (SPEC §7): 412
//! `precondition_failed` on a stale tag, and nothing changes.

use serde_json::{json, Value};

use super::world::World;
use crate::helpers::{Resp, TestUser};

async fn put(w: &World, who: &TestUser, path: &str, body: Value, tag: Option<&str>) -> Resp {
    let mut req = w
        .app
        .client
        .put(w.app.url(path))
        .bearer_auth(&who.token)
        .json(&body);
    if let Some(tag) = tag {
        req = req.header("if-match", tag);
    }
    w.app.send(req).await
}

#[actix_web::test]
async fn a_stale_sheet_is_refused() {
    let w = World::new().await;
    let path = format!("/sessions/{}/attendance", w.recent);
    let first = w.app.get(Some(&w.ther), &path).await.expect(200);
    let tag = first.header("etag").expect("an ETag on the sheet");
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
    // Reading again gives the same tag.
    let again = w.app.get(Some(&w.intake), &path).await.expect(200);
    assert_eq!(again.header("etag").as_deref(), Some(tag.as_str()));

    let late = json!({"records": [
        {"membership_id": w.m1, "status": "present"},
        {"membership_id": w.m2, "status": "late", "minutes_late": 10},
    ]});
    let r = put(&w, &w.ther, &path, late.clone(), Some(&tag))
        .await
        .expect(200);
    let new_tag = r.header("etag").expect("an ETag on the new sheet");
    assert_ne!(new_tag, tag);
    let now = w.app.get(Some(&w.ther), &path).await.expect(200);
    assert_eq!(now.header("etag").as_deref(), Some(new_tag.as_str()));

    // Someone else, still holding the first sheet, would overwrite that correction.
    let absent = json!({"records": [
        {"membership_id": w.m1, "status": "present"},
        {"membership_id": w.m2, "status": "excused_absence"},
    ]});
    let r = put(&w, &w.intake, &path, absent.clone(), Some(&tag))
        .await
        .expect_problem(412, "precondition_failed");
    assert!(r.body["detail"].is_string());
    let after = w.app.get(Some(&w.ther), &path).await.expect(200);
    assert_eq!(after.header("etag").as_deref(), Some(new_tag.as_str()));
    let m2 = after.body["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["membership_id"] == w.m2.to_string())
        .unwrap()
        .clone();
    assert_eq!(m2["status"], "late", "unchanged");
    assert_eq!(m2["minutes_late"], 10);
    let corrections = w.app.audit_actions("attendance.correct").len();
    assert_eq!(corrections, 1, "only the accepted correction is audited");

    // A weak form of the current tag, `*`, or no If-Match at all are accepted.
    let r = put(
        &w,
        &w.intake,
        &path,
        absent.clone(),
        Some(&format!("W/{new_tag}")),
    )
    .await
    .expect(200);
    let t3 = r.header("etag").unwrap();
    put(&w, &w.intake, &path, late.clone(), Some("*"))
        .await
        .expect(200);
    put(&w, &w.intake, &path, absent, None).await.expect(200);
    put(&w, &w.intake, &path, late, Some(&t3))
        .await
        .expect_problem(412, "precondition_failed");
    // Every sheet carries one.
    let empty = format!("/sessions/{}/attendance", w.overdue);
    let r = w.app.get(Some(&w.ther), &empty).await.expect(200);
    assert!(r.header("etag").is_some());
}
