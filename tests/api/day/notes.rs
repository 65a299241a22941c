//! `GET /notes` (SPEC §7): the metadata index of notes, never content, one `note.list` audit
//! event per call.

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::world::{assert_field, date_of, ids, member_note_body, World, MARKER};

fn find(body: &Value, id: Uuid) -> &Value {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == id.to_string())
        .unwrap_or_else(|| panic!("{id} not listed: {body}"))
}

#[actix_web::test]
async fn the_index_shows_metadata_never_content() {
    let w = World::new().await;
    let r = w.app.get(Some(&w.ther), "/notes").await.expect(200);
    assert!(!r.text.contains(MARKER), "{}", r.text);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{}", r.text);
    // Ordered by the session's time: the complete session's two notes first.
    let sessions: Vec<&str> = items
        .iter()
        .map(|n| n["session_id"].as_str().unwrap())
        .collect();
    let complete = w.complete.to_string();
    let overdue = w.overdue.to_string();
    assert_eq!(
        sessions,
        vec![&complete[..], &complete[..], &overdue[..], &overdue[..]]
    );
    for n in items {
        let keys: Vec<&str> = n.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        for k in [
            "themes",
            "group_process",
            "progress",
            "content",
            "addenda",
            "plan",
        ] {
            assert!(!keys.contains(&k), "{k} in {n}");
        }
        assert_eq!(n["group_id"], w.group.to_string());
        assert_eq!(n["author_id"], w.ther.id.to_string());
        assert!(n["updated_at"].is_string());
        assert!(n["group_name"].is_string());
        match n["kind"].as_str().unwrap() {
            "group" => {
                assert_eq!(n["membership_id"], Value::Null);
                assert_eq!(n["client_id"], Value::Null);
            }
            "member" => {
                assert!(n["membership_id"].is_string());
                assert!(n["client_id"].is_string());
            }
            other => panic!("kind {other}"),
        }
    }
    let signed: Vec<&Value> = items.iter().filter(|n| n["status"] == "signed").collect();
    assert_eq!(signed.len(), 2);
    for n in &signed {
        assert_eq!(n["session_id"], complete.as_str());
        assert!(n["signed_at"].is_string());
        assert_eq!(n["cosigned_at"], Value::Null);
        assert_eq!(n["awaiting_cosign"], true);
    }
    let m1_note = items
        .iter()
        .find(|n| n["membership_id"] == w.m1.to_string())
        .unwrap();
    assert_eq!(m1_note["client_id"], w.c1.to_string());
    // "My drafts": one call.
    let r = w
        .app
        .get(
            Some(&w.ther),
            &format!("/notes?status=draft&author_id={}", w.ther.id),
        )
        .await
        .expect(200);
    let drafts = r.body["items"].as_array().unwrap();
    assert_eq!(drafts.len(), 2);
    assert!(drafts
        .iter()
        .all(|n| n["status"] == "draft" && n["session_id"] == overdue.as_str()));
    assert!(drafts.iter().all(|n| n["awaiting_cosign"] == false));
}

#[actix_web::test]
async fn the_cosign_queue() {
    let w = World::new().await;
    let r = w
        .app
        .get(Some(&w.sup), "/notes?awaiting_cosign=true")
        .await
        .expect(200);
    let queue = ids(&r.body);
    assert_eq!(queue.len(), 2, "{}", r.text);
    // A note signed by a supervisor needs no co-signature.
    let path = format!("/sessions/{}/member-notes/{}", w.recent, w.m1);
    w.app
        .put(Some(&w.sup), &path, member_note_body())
        .await
        .expect(201);
    w.app
        .post(Some(&w.sup), &format!("{path}/sign"), json!({}))
        .await
        .expect(200);
    let r = w
        .app
        .get(Some(&w.sup), "/notes?awaiting_cosign=true")
        .await
        .expect(200);
    assert_eq!(
        ids(&r.body),
        queue,
        "the supervisor's own note is not queued"
    );
    let r = w
        .app
        .get(Some(&w.sup), &format!("/notes?author_id={}", w.sup.id))
        .await
        .expect(200);
    assert_eq!(r.body["items"][0]["status"], "signed");
    assert_eq!(r.body["items"][0]["awaiting_cosign"], false);
    // Co-signing takes a note off the queue.
    w.app
        .post(
            Some(&w.sup),
            &format!("/sessions/{}/group-note/cosign", w.complete),
            json!({}),
        )
        .await
        .expect(200);
    let r = w
        .app
        .get(Some(&w.sup), "/notes?awaiting_cosign=true")
        .await
        .expect(200);
    let left = ids(&r.body);
    assert_eq!(left.len(), 1);
    assert_eq!(r.body["items"][0]["kind"], "member");
    let r = w
        .app
        .get(Some(&w.sup), "/notes?status=cosigned")
        .await
        .expect(200);
    let n = &r.body["items"][0];
    assert_eq!(n["kind"], "group");
    assert_eq!(n["cosigned_by"], w.sup.id.to_string());
    assert!(n["cosigned_at"].is_string());
    assert_eq!(n["awaiting_cosign"], false);
    // awaiting_cosign=false is everything else.
    let all = w.app.get(Some(&w.sup), "/notes").await.expect(200);
    let rest = w
        .app
        .get(Some(&w.sup), "/notes?awaiting_cosign=false")
        .await
        .expect(200);
    assert_eq!(ids(&all.body).len(), ids(&rest.body).len() + left.len());
    assert!(ids(&rest.body).iter().all(|id| !left.contains(id)));
}

#[actix_web::test]
async fn filters_scope_and_pages() {
    let w = World::new().await;
    // The other therapist's group gets a note; the first therapist never sees it.
    let foreign_path = format!("/sessions/{}/group-note", w.foreign);
    w.app
        .put(
            Some(&w.other_ther),
            &foreign_path,
            super::world::group_note_body(),
        )
        .await
        .expect(201);
    let mine = w.app.get(Some(&w.ther), "/notes").await.expect(200);
    assert_eq!(ids(&mine.body).len(), 4);
    let r = w
        .app
        .get(Some(&w.ther), &format!("/notes?group_id={}", w.other_group))
        .await
        .expect(200);
    assert!(ids(&r.body).is_empty());
    let r = w
        .app
        .get(Some(&w.ther), &format!("/notes?session_id={}", w.foreign))
        .await
        .expect(200);
    assert!(ids(&r.body).is_empty());
    let theirs = w.app.get(Some(&w.other_ther), "/notes").await.expect(200);
    assert_eq!(ids(&theirs.body).len(), 1);
    assert_eq!(theirs.body["items"][0]["session_id"], w.foreign.to_string());
    let all = w.app.get(Some(&w.sup), "/notes").await.expect(200);
    assert_eq!(ids(&all.body).len(), 5);
    // Filters.
    let r = w
        .app
        .get(Some(&w.sup), &format!("/notes?session_id={}", w.complete))
        .await
        .expect(200);
    assert_eq!(ids(&r.body).len(), 2);
    let r = w
        .app
        .get(Some(&w.sup), &format!("/notes?group_id={}", w.other_group))
        .await
        .expect(200);
    assert_eq!(ids(&r.body).len(), 1);
    let today = date_of(Utc::now());
    let r = w
        .app
        .get(
            Some(&w.sup),
            &format!(
                "/notes?from={}&to={}",
                today - Duration::days(6),
                today - Duration::days(4)
            ),
        )
        .await
        .expect(200);
    assert_eq!(
        ids(&r.body).len(),
        3,
        "the overdue and foreign sessions' notes"
    );
    // Pages of one, in order, no repeats.
    let mut seen = Vec::new();
    let mut path = "/notes?limit=1".to_string();
    loop {
        let r = w.app.get(Some(&w.sup), &path).await.expect(200);
        seen.extend(ids(&r.body));
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("/notes?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids(&all.body));
    let _ = find(&all.body, seen[0]);
    // Roles that never read notes.
    for who in [&w.admin, &w.intake] {
        w.app
            .get(Some(who), "/notes")
            .await
            .expect_problem(403, "forbidden");
    }
    w.app
        .get(None, "/notes")
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn one_note_list_event_per_call() {
    let w = World::new().await;
    let before = w.app.audit_actions("note.list").len();
    w.app.get(Some(&w.ther), "/notes").await.expect(200);
    let events = w.app.audit_actions("note.list");
    assert_eq!(events.len(), before + 1);
    let (actor, outcome, _, details) = events.last().unwrap();
    assert_eq!(*actor, Some(w.ther.id));
    assert_eq!(outcome, "allowed");
    let listed: Vec<&str> = details["client_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(listed.contains(&w.c1.to_string().as_str()), "{details}");
    assert_eq!(listed.len(), 2, "the clients of the two member notes");
    assert!(!details.to_string().contains(MARKER));
    // An empty page is one event too; the read-only reads of notes are not note.read.
    let reads = w.app.audit_actions("note.read").len();
    w.app
        .get(Some(&w.ther), "/notes?status=cosigned")
        .await
        .expect(200);
    assert_eq!(w.app.audit_actions("note.list").len(), before + 2);
    assert_eq!(w.app.audit_actions("note.read").len(), reads);
}

#[actix_web::test]
async fn bad_filters_are_422_naming_the_field() {
    let w = World::new().await;
    for (query, field) in [
        ("status=lost", "status"),
        ("awaiting_cosign=maybe", "awaiting_cosign"),
        ("from=2026-02-30", "from"),
        ("to=soon", "to"),
        ("from=2026-03-10&to=2026-03-01", "from"),
        ("group_id=7", "group_id"),
        ("session_id=x", "session_id"),
        ("limit=500", "limit"),
        ("cursor=abc", "cursor"),
    ] {
        let r = w.app.get(Some(&w.sup), &format!("/notes?{query}")).await;
        assert_field(&r, field);
    }
}
