//! Issue 11's acceptance: no response of the staff's-day endpoints contains note or
//! assessment content. Every note, addendum and assessment of the world holds a marker
//! string; every endpoint is called as every role, and no body (nor the audit trail of those
//! calls) may contain it.

use chrono::{Duration, Utc};
use serde_json::json;

use super::agenda::{complete, screening};
use super::world::{date_of, World, MARKER};

#[actix_web::test]
async fn no_day_endpoint_returns_content() {
    let w = World::new().await;
    let now = Utc::now();
    // An addendum and a co-signature on the complete session's notes.
    w.app
        .post(
            Some(&w.ther),
            &format!("/sessions/{}/group-note/addenda", w.complete),
            json!({"content": MARKER}),
        )
        .await
        .expect(201);
    w.app
        .post(
            Some(&w.sup),
            &format!("/sessions/{}/member-notes/{}/cosign", w.complete, w.m1),
            json!({}),
        )
        .await
        .expect(200);
    // Screenings of the therapist, one completed with the marker in its assessment.
    let (done, _) = screening(&w, w.ther.id, now - Duration::hours(3)).await;
    complete(&w, done).await;
    screening(&w, w.ther.id, now + Duration::days(1)).await;
    // Make sure the marker really is served where content is read.
    let note = w
        .app
        .get(
            Some(&w.ther),
            &format!("/sessions/{}/group-note", w.complete),
        )
        .await
        .expect(200);
    assert!(note.text.contains(MARKER));
    let s = w
        .app
        .get(Some(&w.ther), &format!("/screenings/{done}"))
        .await
        .expect(200);
    assert!(s.text.contains(MARKER));

    let today = date_of(now);
    let (from, to) = (today - Duration::days(30), today + Duration::days(30));
    let paths = [
        "/staff".to_string(),
        "/sessions".to_string(),
        format!("/sessions?from={from}&to={to}&mine=true"),
        "/sessions?documentation=incomplete".to_string(),
        "/sessions?documentation=overdue".to_string(),
        format!("/sessions/{}", w.complete),
        format!("/sessions/{}", w.overdue),
        "/notes".to_string(),
        "/notes?awaiting_cosign=true".to_string(),
        "/notes?status=draft".to_string(),
        format!("/notes?session_id={}", w.complete),
        format!("/me/agenda?from={from}&to={to}"),
        "/me/agenda".to_string(),
        "/me/dashboard".to_string(),
        format!("/clients/{}/memberships", w.c1),
    ];
    let audit_before = w.app.audit_actions("note.list").len();
    let mut served = 0;
    for who in [&w.ther, &w.sup, &w.intake, &w.admin, &w.other_ther] {
        for path in &paths {
            let r = w.app.get(Some(who), path).await;
            assert!(
                !r.text.contains(MARKER),
                "{} GET {path} served content: {}",
                who.role.as_str(),
                r.text
            );
            // Served, or refused as a problem with the code of its status.
            match r.status {
                200 => served += 1,
                403 => {
                    r.expect_problem(403, "forbidden");
                }
                404 => {
                    r.expect_problem(404, "not_found");
                }
                s => panic!("{} GET {path}: {s} {}", who.role.as_str(), r.text),
            }
        }
    }
    assert!(served >= 50, "most calls answered 200 ({served})");
    assert!(w.app.audit_actions("note.list").len() > audit_before);
    for action in ["note.list", "client.list", "membership.list"] {
        for (_, _, _, details) in w.app.audit_actions(action) {
            assert!(!details.to_string().contains(MARKER), "{action}: {details}");
        }
    }
}
