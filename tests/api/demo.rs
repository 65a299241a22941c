//! `groupwork demo` loads a coherent practice that the API then serves.

use groupwork::demo::DEMO_PASSWORD;
use serde_json::json;

use crate::helpers::{TestApp, TestUser};

async fn login(app: &TestApp, who: &str) -> TestUser {
    let r = app
        .post(
            None,
            "/auth/login",
            json!({"email": format!("{who}@demo.groupwork.test"), "password": DEMO_PASSWORD}),
        )
        .await
        .expect(200);
    TestUser {
        id: r.body["user"]["id"].as_str().unwrap().parse().unwrap(),
        email: who.into(),
        role: r.body["user"]["role"].as_str().unwrap().parse().unwrap(),
        token: r.body["access_token"].as_str().unwrap().to_string(),
    }
}

#[actix_web::test]
async fn demo_practice_loads_once_and_is_served() {
    let app = TestApp::spawn().await;
    let url = app.db_url.clone();
    let cipher = app.state.notes.clone();
    tokio::task::spawn_blocking(move || groupwork::demo::run(&url, &cipher))
        .await
        .unwrap()
        .unwrap();
    // a second run leaves the data alone
    let url = app.db_url.clone();
    let cipher = app.state.notes.clone();
    tokio::task::spawn_blocking(move || groupwork::demo::run(&url, &cipher))
        .await
        .unwrap()
        .unwrap();

    let sup = login(&app, "supervisor").await;
    for who in ["admin", "therapist", "intake"] {
        login(&app, who).await;
    }
    let r = app.get(Some(&sup), "/groups").await.expect(200);
    let groups = r.body["items"].as_array().unwrap().clone();
    assert_eq!(groups.len(), 2);
    let active = groups
        .iter()
        .find(|g| g["status"] == "active")
        .expect("an active group");
    assert!(groups.iter().any(|g| g["status"] == "forming"));
    let members = app
        .get(
            Some(&sup),
            &format!("/groups/{}/members", active["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    let n = members.body["items"].as_array().unwrap().len();
    assert!((10..=12).contains(&n), "{n} members");
    let gid = active["id"].as_str().unwrap();
    let r = app
        .get(Some(&sup), &format!("/groups/{gid}/members?at_risk=true"))
        .await
        .expect(200);
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        1,
        "one member at risk"
    );
    let r = app
        .get(Some(&sup), &format!("/groups/{gid}/members?status=exiting"))
        .await
        .expect(200);
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        1,
        "one member in a phased exit"
    );
    let r = app
        .get(Some(&sup), &format!("/groups/{gid}/members?status=active"))
        .await
        .expect(200);
    let rescinded: Vec<_> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["exit_rescinded_at"].is_string())
        .collect();
    assert_eq!(rescinded.len(), 1, "one member rescinded an exit notice");
    assert!(rescinded[0]["exit_rescind_reason"].is_string());
    // the agreement was amended: most re-signed, two have yet to
    let r = app
        .get(
            Some(&sup),
            &format!("/groups/{gid}/members?contract_current=false"),
        )
        .await
        .expect(200);
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        2,
        "two yet to re-sign"
    );
    let r = app
        .get(
            Some(&sup),
            &format!("/groups/{gid}/members?contract_current=true"),
        )
        .await
        .expect(200);
    let resigned = &r.body["items"][0];
    assert_eq!(
        resigned["signatures"].as_array().unwrap().len(),
        2,
        "a re-signed member"
    );
    // the active group shows composition warnings (a lone member of their kind)
    let g = app
        .get(Some(&sup), &format!("/groups/{gid}"))
        .await
        .expect(200);
    assert!(
        !g.body["composition_warnings"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{}",
        g.text
    );
    let r = app
        .get(Some(&sup), &format!("/groups/{gid}/sessions?limit=200"))
        .await
        .expect(200);
    let held = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "held")
        .count();
    assert!(held >= 15, "months of held sessions: {held}");
    let first_held = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "held")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .get(Some(&sup), &format!("/sessions/{first_held}/group-note"))
        .await
        .expect(200);
    assert!(r.body["status"] == "signed" || r.body["status"] == "cosigned");
    assert!(r.body["themes"].as_str().unwrap().len() > 10);
    let r = app.get(Some(&sup), "/waitlist").await.expect(200);
    assert!(!r.body["items"].as_array().unwrap().is_empty());
    let r = app
        .get(Some(&sup), "/screenings?limit=200")
        .await
        .expect(200);
    let statuses: std::collections::HashSet<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        statuses.len(),
        4,
        "screenings in every status: {statuses:?}"
    );
    let r = app.get(Some(&sup), "/audit-events/verify").await;
    assert_eq!(r.status, 403, "only admins verify");
}
