//! Issue 3: the audit trail — append-only in the database itself, hash-chained, listed,
//! filtered, exported as CSV.

use diesel::prelude::*;
use futures::future::join_all;
use groupwork::auth::Role;
use groupwork::schema::audit_events as ae;
use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

fn events_in_table(app: &TestApp) -> i64 {
    ae::table.count().get_result(&mut app.conn()).unwrap()
}

#[actix_web::test]
async fn update_and_delete_are_refused_by_the_database() {
    let app = TestApp::spawn().await;
    app.post(
        None,
        "/auth/login",
        json!({"email": "x@y.org", "password": "nope-nope-nope"}),
    )
    .await;
    let mut conn = app.conn();
    for sql in [
        "UPDATE audit_events SET action = 'x'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let err = diesel::sql_query(sql).execute(&mut conn).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

#[actix_web::test]
async fn verify_finds_a_break_after_tampering() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let u = app.staff(Role::Intake).await;
    for _ in 0..3 {
        app.post(
            None,
            "/auth/login",
            json!({"email": u.email, "password": PASSWORD}),
        )
        .await
        .expect(200);
    }
    let r = app
        .get(Some(&admin), "/audit-events/verify")
        .await
        .expect(200);
    assert_eq!(r.body["intact"], true);
    assert_eq!(r.body["events_checked"], 3);
    assert!(r.body["first_broken_id"].is_null());

    let second: uuid::Uuid = {
        use groupwork::schema::audit_events as ae;
        ae::table
            .order(ae::seq.asc())
            .offset(1)
            .select(ae::id)
            .first(&mut app.conn())
            .unwrap()
    };
    let mut conn = app.conn();
    diesel::sql_query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update")
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query(format!(
        "UPDATE audit_events SET ip = '10.0.0.9' WHERE id = '{second}'"
    ))
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update")
        .execute(&mut conn)
        .unwrap();
    let r = app
        .get(Some(&admin), "/audit-events/verify")
        .await
        .expect(200);
    assert_eq!(r.body["intact"], false);
    assert_eq!(r.body["first_broken_id"], second.to_string());
    assert_eq!(r.body["events_checked"], 2);
}

#[actix_web::test]
async fn list_filters_pagination_and_csv() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let u = app.staff(Role::Therapist).await;
    app.post(
        None,
        "/auth/login",
        json!({"email": u.email, "password": PASSWORD}),
    )
    .await
    .expect(200);
    app.post(
        None,
        "/auth/login",
        json!({"email": u.email, "password": "=HYPERLINK(\"x\")"}),
    )
    .await
    .expect(401);
    app.get(Some(&u), "/users").await.expect(403);
    let r = app.get(Some(&admin), "/audit-events").await.expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["action"], "access.forbidden", "newest first");
    for f in [
        "id",
        "occurred_at",
        "actor_id",
        "actor_role",
        "action",
        "resource_type",
        "resource_id",
        "outcome",
        "request_id",
        "ip",
        "details",
    ] {
        assert!(items[0].get(f).is_some(), "missing {f}");
    }
    let r = app
        .get(Some(&admin), &format!("/audit-events?actor_id={}", u.id))
        .await
        .expect(200);
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        2,
        "login and the 403 are the therapist's"
    );
    let r = app
        .get(Some(&admin), "/audit-events?limit=2")
        .await
        .expect(200);
    let cursor = r.body["next_cursor"].as_str().unwrap().to_string();
    let r = app
        .get(
            Some(&admin),
            &format!("/audit-events?limit=2&cursor={cursor}"),
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let future = (chrono::Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339()
        .replace('+', "%2B");
    let r = app
        .get(Some(&admin), &format!("/audit-events?from={future}"))
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    app.get(Some(&admin), "/audit-events?from=yesterday")
        .await
        .expect_invalid("from");

    let r = app
        .get(Some(&admin), "/audit-events?format=csv")
        .await
        .expect(200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));
    let lines: Vec<&str> = r.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "header + 3 events");
    assert!(lines[0].starts_with("\"id\",\"occurred_at\",\"actor_id\""));
    assert!(
        !r.text.contains("HYPERLINK"),
        "passwords never reach the audit trail"
    );
}

#[actix_web::test]
async fn concurrent_writers_keep_one_unbroken_chain() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let intake = app.staff(Role::Intake).await;
    let emails: Vec<String> = (0..8).map(|i| format!("ghost{i}@clinic.test")).collect();
    let failed_logins = join_all(emails.iter().map(|e| {
        app.post(
            None,
            "/auth/login",
            json!({"email": e, "password": "wrong-password-x"}),
        )
    }));
    let forbidden = join_all((0..8).map(|_| app.get(Some(&intake), "/audit-events")));
    let (logins, denials) = futures::future::join(failed_logins, forbidden).await;
    assert!(logins.iter().all(|r| r.status == 401));
    assert!(denials.iter().all(|r| r.status == 403));
    let r = app
        .get(Some(&admin), "/audit-events/verify")
        .await
        .expect(200);
    assert_eq!(r.body["intact"], true, "{}", r.text);
    assert_eq!(r.body["events_checked"], 16);
    assert_eq!(events_in_table(&app), 16);
}

#[actix_web::test]
async fn verify_finds_a_deleted_event() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    for i in 0..4 {
        app.post(
            None,
            "/auth/login",
            json!({"email": format!("x{i}@clinic.test"), "password": "wrong-password-x"}),
        )
        .await
        .expect(401);
    }
    // Sealed into the chain (as `serve` does within a fraction of a second): an event still
    // unsealed is guarded by the grants and the trigger only, not yet by the chain.
    let sealed = groupwork::audit::seal(
        &mut app.conn(),
        &app.state.settings.audit_key,
        std::time::Duration::from_secs(15),
    )
    .unwrap();
    assert_eq!(sealed, 4);
    let ids: Vec<uuid::Uuid> = ae::table
        .order(ae::seq.asc())
        .select(ae::id)
        .load(&mut app.conn())
        .unwrap();
    let mut conn = app.conn();
    for sql in [
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update".to_string(),
        format!("DELETE FROM audit_events WHERE id = '{}'", ids[1]),
        "ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update".to_string(),
    ] {
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
    let r = app
        .get(Some(&admin), "/audit-events/verify")
        .await
        .expect(200);
    assert_eq!(r.body["intact"], false);
    assert_eq!(
        r.body["first_broken_id"],
        ids[2].to_string(),
        "the event after the gap no longer chains"
    );
    // The triggers are back: the same statement fails again.
    diesel::sql_query("DELETE FROM audit_events")
        .execute(&mut conn)
        .unwrap_err();
}

#[actix_web::test]
async fn filters_by_action_outcome_resource_and_time() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let u = app.staff(Role::Therapist).await;
    app.post(
        None,
        "/auth/login",
        json!({"email": u.email, "password": "wrong-password-x"}),
    )
    .await
    .expect(401);
    app.post(
        None,
        "/auth/login",
        json!({"email": u.email, "password": PASSWORD}),
    )
    .await
    .expect(200);
    app.patch(
        Some(&admin),
        &format!("/users/{}", u.id),
        json!({"display_name": "Renamed"}),
        None,
    )
    .await
    .expect(200);
    let list = |q: String| {
        let app = &app;
        let admin = &admin;
        async move {
            let r = app
                .get(Some(admin), &format!("/audit-events?{q}"))
                .await
                .expect(200);
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["action"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list("action=auth.login_failed".into()).await,
        ["auth.login_failed"]
    );
    assert_eq!(list("outcome=denied".into()).await, ["auth.login_failed"]);
    assert_eq!(
        list(format!("resource_type=user&resource_id={}", u.id)).await,
        ["user.update", "auth.login", "auth.login_failed"],
        "newest first; the failed login names the account it targeted"
    );
    assert_eq!(
        list(format!("actor_id={}", admin.id)).await,
        ["user.update"]
    );
    let past = "2000-01-01T00:00:00Z";
    assert!(list(format!("to={past}")).await.is_empty());
    assert_eq!(list(format!("from={past}")).await.len(), 3);
    app.get(Some(&admin), "/audit-events?outcome=maybe")
        .await
        .expect_invalid("outcome");
    app.get(Some(&admin), "/audit-events?limit=0")
        .await
        .expect_invalid("limit");
    app.get(Some(&admin), "/audit-events?cursor=bogus")
        .await
        .expect_invalid("cursor");
}

#[actix_web::test]
async fn csv_cells_cannot_become_formulas() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    // The request id is the one caller-chosen text that reaches the trail.
    let r = app
        .send(
            app.client
                .post(app.url("/auth/login"))
                .header("x-request-id", "-2-1")
                .json(&json!({"email": "a@clinic.test", "password": "wrong-password-x"})),
        )
        .await
        .expect(401);
    assert_eq!(r.header("x-request-id").as_deref(), Some("-2-1"));
    let r = app
        .get(
            Some(&admin),
            "/audit-events?format=csv&action=auth.login_failed",
        )
        .await
        .expect(200);
    let lines: Vec<&str> = r.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{}", r.text);
    assert!(lines[1].contains(",\"'-2-1\","), "{}", lines[1]);
}
