//! Issue 14 (6): a client-chosen `X-Request-Id` reaches the audit trail only when it is 1–64
//! characters of `[A-Za-z0-9._-]` (SPEC §3); anything else is replaced by a generated id.

use diesel::prelude::*;
use groupwork::schema::audit_events as ae;
use serde_json::json;

use crate::helpers::{Resp, TestApp};

/// A failed login (audited) carrying `id`; each for another unknown email, so that no
/// throttle is reached.
async fn login_with_id(app: &TestApp, id: &str) -> Resp {
    let email = format!("nobody-{}@clinic.test", uuid::Uuid::new_v4().simple());
    app.send(
        app.client
            .post(app.url("/auth/login"))
            .header("x-request-id", id)
            .json(&json!({"email": email, "password": "not-the-right-one-7"})),
    )
    .await
    .expect(401)
}

fn last_request_id(app: &TestApp) -> String {
    ae::table
        .order(ae::seq.desc())
        .select(ae::request_id)
        .first(&mut app.conn())
        .unwrap()
}

#[actix_web::test]
async fn only_plain_short_request_ids_reach_the_audit_trail() {
    let app = TestApp::spawn().await;
    let longest = "a.b-c_".repeat(10) + "1234";
    assert_eq!(longest.len(), 64);
    for good in ["req-42", "A.b_c-9", longest.as_str()] {
        let r = login_with_id(&app, good).await;
        assert_eq!(r.header("x-request-id").as_deref(), Some(good));
        assert_eq!(last_request_id(&app), good);
    }
    // The attack as tried, and its neighbours: replaced, never written verbatim.
    let too_long = longest.clone() + "x";
    for bad in [
        "-cmd:calc",
        "=HYPERLINK(\"x\")",
        "a b",
        "id/../1",
        "@SUM(1)",
        too_long.as_str(),
    ] {
        let r = login_with_id(&app, bad).await;
        let echoed = r.header("x-request-id").expect("an id is always echoed");
        assert_ne!(echoed, bad);
        assert_eq!(echoed.len(), 36, "a generated UUID");
        let stored = last_request_id(&app);
        assert_eq!(stored, echoed, "the trail holds the generated id");
    }
}
