//! `GET /me/agenda` (SPEC §7): the caller's sessions and screenings in time order.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::world::{assert_field, date_of, World, MARKER};
use crate::fixtures;

/// Schedules a screening (by the supervisor) of a new client with `interviewer` at `at`;
/// answers (screening id, client id).
pub async fn screening(w: &World, interviewer: Uuid, at: DateTime<Utc>) -> (Uuid, Uuid) {
    let client = fixtures::client(
        &w.app,
        "Agnes",
        &format!("A{}", &Uuid::new_v4().simple().to_string()[..6]),
    );
    let r = w
        .app
        .post(
            Some(&w.sup),
            &format!("/clients/{client}/screenings"),
            json!({"interviewer_id": interviewer, "scheduled_at": at}),
        )
        .await
        .expect(201);
    (r.body["id"].as_str().unwrap().parse().unwrap(), client)
}

/// Completes a screening with an assessment holding the marker.
pub async fn complete(w: &World, screening: Uuid) {
    w.app
        .post(
            Some(&w.sup),
            &format!("/screenings/{screening}/complete"),
            json!({"outcome": "deferred", "assessment": {"motivation": 3, "contraindications": [],
                   "concurrent_therapies": MARKER, "substance_use_summary": MARKER, "notes": MARKER}}),
        )
        .await
        .expect(200);
}

fn kinds_and_ids(body: &Value) -> Vec<(String, Uuid)> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let kind = i["kind"].as_str().unwrap().to_string();
            let id = i[kind.as_str()]["id"].as_str().unwrap().parse().unwrap();
            (kind, id)
        })
        .collect()
}

#[actix_web::test]
async fn a_therapists_week() {
    let w = World::new().await;
    let now = Utc::now();
    let (tomorrow, tomorrow_client) = screening(&w, w.ther.id, now + Duration::days(1)).await;
    let (done, _) = screening(&w, w.ther.id, now - Duration::hours(30)).await;
    complete(&w, done).await;
    // Someone else's interview and a cancelled one of mine stay off my agenda.
    screening(&w, w.other_ther.id, now + Duration::days(1)).await;
    let (cancelled, _) = screening(&w, w.ther.id, now + Duration::days(2)).await;
    w.app
        .post(
            Some(&w.sup),
            &format!("/screenings/{cancelled}/cancel"),
            json!({}),
        )
        .await
        .expect(200);

    let today = date_of(now);
    let from = today - Duration::days(3);
    let to = today + Duration::days(3);
    let r = w
        .app
        .get(Some(&w.ther), &format!("/me/agenda?from={from}&to={to}"))
        .await
        .expect(200);
    assert!(!r.text.contains(MARKER), "{}", r.text);
    assert_eq!(r.body["from"], from.to_string());
    assert_eq!(r.body["to"], to.to_string());
    let got = kinds_and_ids(&r.body);
    let s = |id| ("session".to_string(), id);
    let sc = |id| ("screening".to_string(), id);
    assert_eq!(
        got,
        vec![
            s(w.cancelled),
            sc(done),
            s(w.recent),
            sc(tomorrow),
            s(w.upcoming)
        ],
        "{}",
        r.text
    );
    let items = r.body["items"].as_array().unwrap();
    let ats: Vec<&str> = items.iter().map(|i| i["at"].as_str().unwrap()).collect();
    let mut sorted = ats.clone();
    sorted.sort_by_key(|a| a.parse::<DateTime<Utc>>().unwrap());
    assert_eq!(ats, sorted, "in time order");
    let recent = &items[2];
    assert_eq!(recent["session"]["group_id"], w.group.to_string());
    assert!(recent["session"]["group_name"].is_string());
    assert_eq!(
        recent["session"]["documentation"]["attendance_recorded"],
        true
    );
    assert!(recent.get("screening").is_none());
    let interview = &items[3]["screening"];
    assert_eq!(interview["client_id"], tomorrow_client.to_string());
    assert!(interview["client_name"]
        .as_str()
        .unwrap()
        .starts_with("Agnes A"));
    assert_eq!(interview["status"], "scheduled");
    assert!(interview.get("assessment").is_none());
    let completed = &items[1]["screening"];
    assert_eq!(completed["status"], "completed");
    assert!(completed.get("assessment").is_none(), "{completed}");

    // The default window is today (UTC).
    let r = w.app.get(Some(&w.ther), "/me/agenda").await.expect(200);
    assert_eq!(r.body["from"], today.to_string());
    assert_eq!(r.body["to"], today.to_string());
    for i in r.body["items"].as_array().unwrap() {
        assert!(i["at"].as_str().unwrap().starts_with(&today.to_string()));
    }
    // The other therapist's agenda holds their group and interview only.
    let r = w
        .app
        .get(
            Some(&w.other_ther),
            &format!("/me/agenda?from={from}&to={to}"),
        )
        .await
        .expect(200);
    let theirs = kinds_and_ids(&r.body);
    assert_eq!(theirs.len(), 1, "{}", r.text);
    assert_eq!(theirs[0].0, "screening");
}

#[actix_web::test]
async fn intake_sees_every_scheduled_screening() {
    let w = World::new().await;
    let now = Utc::now();
    let (a, _) = screening(&w, w.ther.id, now + Duration::hours(5)).await;
    let (b, _) = screening(&w, w.other_ther.id, now + Duration::days(1)).await;
    let (c, _) = screening(&w, w.other_ther.id, now - Duration::days(1)).await;
    complete(&w, c).await;
    let today = date_of(now);
    let path = format!(
        "/me/agenda?from={}&to={}",
        today - Duration::days(2),
        today + Duration::days(2)
    );
    let r = w.app.get(Some(&w.intake), &path).await.expect(200);
    assert_eq!(
        kinds_and_ids(&r.body),
        vec![("screening".to_string(), a), ("screening".to_string(), b)]
    );
    assert!(!r.text.contains(MARKER));
    // Names of clients are client data: the read is audited once.
    let events = w.app.audit_actions("client.list");
    let (actor, _, _, details) = events.last().unwrap();
    assert_eq!(*actor, Some(w.intake.id));
    assert_eq!(details["count"], 2);
    // An admin leads and interviews nobody.
    let r = w.app.get(Some(&w.admin), &path).await.expect(200);
    assert!(r.body["items"].as_array().unwrap().is_empty());
    // The supervisor's own interviews (they scheduled the others, but interview none).
    let r = w.app.get(Some(&w.sup), &path).await.expect(200);
    assert!(r.body["items"].as_array().unwrap().is_empty());
    // Intake sees no documentation state on sessions (it has none here either).
    w.app
        .get(None, "/me/agenda")
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn windows_are_checked() {
    let w = World::new().await;
    let ok = w
        .app
        .get(Some(&w.ther), "/me/agenda?from=2026-01-01&to=2026-03-03")
        .await
        .expect(200);
    assert_eq!(ok.body["to"], "2026-03-03", "62 days, both ends included");
    for (query, field) in [
        ("from=2026-01-01&to=2026-03-04", "to"),
        ("from=2026-01-01&to=2027-01-01", "to"),
        ("from=2026-03-10&to=2026-03-01", "from"),
        ("from=2026-02-30", "from"),
        ("from=today", "from"),
        ("to=2026-1-1x", "to"),
    ] {
        let r = w
            .app
            .get(Some(&w.ther), &format!("/me/agenda?{query}"))
            .await;
        assert_field(&r, field);
    }
}
