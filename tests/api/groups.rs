//! Issue 5: groups and agreements — fields, rules, status machine, role and scope matrix.

use chrono::Utc;
use groupwork::auth::Role;
use serde_json::{json, Value};

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

pub fn group_body(lead: &TestUser) -> Value {
    json!({"name": "Tuesday evening process group", "lead_therapist_id": lead.id, "meeting_day": "tuesday",
           "meeting_time": "18:00", "timezone": "America/New_York", "start_date": "2026-03-03"})
}

#[actix_web::test]
async fn create_with_defaults_and_read() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let ther = app.staff(Role::Therapist).await;
    let r = app
        .post(Some(&admin), "/groups", group_body(&ther))
        .await
        .expect(201);
    let g = r.body;
    assert_eq!(g["status"], "forming");
    assert_eq!(
        (g["min_size"].as_i64(), g["max_size"].as_i64()),
        (Some(8), Some(15))
    );
    assert_eq!(g["duration_minutes"], 90);
    assert_eq!(g["min_term_sessions"], 12);
    assert_eq!(g["exit_notice_sessions"], 3);
    assert_eq!(g["absence_alert_threshold"], 3);
    assert_eq!(g["meeting_time"], "18:00");
    assert_eq!(g["below_minimum"], false);
    assert_eq!(g["co_therapist_ids"], json!([]));
    assert!(g["end_date"].is_null());
    let id = g["id"].as_str().unwrap();
    let r = app
        .get(Some(&ther), &format!("/groups/{id}"))
        .await
        .expect(200);
    assert_eq!(r.body["timezone"], "America/New_York");
}

#[actix_web::test]
async fn validation_rules() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let co1 = app.staff(Role::Therapist).await;
    let co2 = app.staff(Role::Supervisor).await;
    let co3 = app.staff(Role::Therapist).await;
    let intake = app.staff(Role::Intake).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"min_size": 7}), "min_size"),
        (json!({"max_size": 16}), "max_size"),
        (json!({"min_size": 12, "max_size": 10}), "max_size"),
        (json!({"meeting_time": "24:30"}), "meeting_time"),
        (json!({"timezone": "Atlantis/Capital"}), "timezone"),
        (json!({"duration_minutes": 20}), "duration_minutes"),
        (json!({"min_term_sessions": 53}), "min_term_sessions"),
        (json!({"exit_notice_sessions": 0}), "exit_notice_sessions"),
        (
            json!({"absence_alert_threshold": 11}),
            "absence_alert_threshold",
        ),
        (json!({"end_date": "2026-01-01"}), "end_date"),
        (
            json!({"co_therapist_ids": [co1.id, co2.id, co3.id]}),
            "co_therapist_ids",
        ),
        (
            json!({"co_therapist_ids": [co1.id, co1.id]}),
            "co_therapist_ids",
        ),
        (json!({"co_therapist_ids": [ther.id]}), "co_therapist_ids"),
        (json!({"co_therapist_ids": [intake.id]}), "co_therapist_ids"),
        (json!({"lead_therapist_id": intake.id}), "lead_therapist_id"),
        (json!({"meeting_day": "someday"}), "meeting_day"),
        (json!({"max_size": 99999999999i64}), "max_size"),
        (json!({"name": ""}), "name"),
    ];
    for (patch, field) in cases {
        let mut body = group_body(&ther);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app
            .post(Some(&sup), "/groups", body)
            .await
            .expect_problem(422, "validation_failed");
        let fields: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{patch} → {fields:?}");
    }
    let mut ok = group_body(&ther);
    ok["co_therapist_ids"] = json!([co1.id, co2.id]);
    app.post(Some(&sup), "/groups", ok).await.expect(201);
    let r = app.get(Some(&sup), "/groups").await.expect(200);
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        1,
        "refused requests wrote nothing"
    );
}

#[actix_web::test]
async fn start_needs_contract_and_minimum_then_closed_lifecycle() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id).create();
    app.post(Some(&sup), &format!("/groups/{g}/start"), json!({}))
        .await
        .expect_problem(409, "contract_missing");
    let c = fixtures::contract(&app, g, 1, sup.id);
    for _ in 0..7 {
        fixtures::active_member(&app, g, c, sup.id, Utc::now());
    }
    let r = app
        .post(Some(&sup), &format!("/groups/{g}/start"), json!({}))
        .await
        .expect_problem(409, "group_below_minimum");
    assert!(r.body["detail"].as_str().unwrap().contains('7'));
    fixtures::active_member(&app, g, c, sup.id, Utc::now());
    let r = app
        .post(Some(&sup), &format!("/groups/{g}/start"), json!({}))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["below_minimum"], false);
    app.post(Some(&sup), &format!("/groups/{g}/start"), json!({}))
        .await
        .expect_problem(409, "conflict");

    // a discharge leaves 7 active: below minimum shows
    let r = app
        .get(Some(&sup), &format!("/groups/{g}/members?status=active"))
        .await
        .expect(200);
    let m = r.body["items"][0]["id"].as_str().unwrap().to_string();
    app.post(
        Some(&sup),
        &format!("/memberships/{m}/discharge"),
        json!({"exit_reason": "dropped_out", "note": "stopped coming"}),
    )
    .await
    .expect(200);
    let r = app
        .get(Some(&sup), &format!("/groups/{g}"))
        .await
        .expect(200);
    assert_eq!(r.body["below_minimum"], true);

    let r = app
        .post(Some(&sup), &format!("/groups/{g}/complete"), json!({}))
        .await
        .expect(200);
    assert_eq!(r.body["status"], "completed");
    let r = app
        .get(Some(&sup), &format!("/groups/{g}/members?status=exited"))
        .await
        .expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 8, "every seat closed");
    assert!(
        items
            .iter()
            .filter(|m| m["exit_reason"] == "group_ended")
            .count()
            == 7,
        "the group ended their stay: group_ended, not early_exit"
    );
    app.post(Some(&sup), &format!("/groups/{g}/cancel"), json!({}))
        .await
        .expect_problem(409, "conflict");
    app.patch(
        Some(&sup),
        &format!("/groups/{g}"),
        json!({"name": "x"}),
        None,
    )
    .await
    .expect_problem(409, "conflict");
    app.post(
        Some(&sup),
        &format!("/groups/{g}/contracts"),
        json!({"clauses": {"confidentiality": "x"}}),
    )
    .await
    .expect_problem(409, "conflict");
}

#[actix_web::test]
async fn patch_rules_and_etag() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let ther = app.staff(Role::Therapist).await;
    let r = app
        .post(Some(&admin), "/groups", group_body(&ther))
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    let tag = r.header("etag").unwrap();
    let r = app
        .patch(
            Some(&admin),
            &format!("/groups/{id}"),
            json!({"meeting_time": "19:30", "end_date": "2026-12-01"}),
            Some(&tag),
        )
        .await
        .expect(200);
    assert_eq!(r.body["meeting_time"], "19:30");
    app.patch(
        Some(&admin),
        &format!("/groups/{id}"),
        json!({"name": "stale"}),
        Some(&tag),
    )
    .await
    .expect_problem(412, "precondition_failed");
    let r = app
        .patch(
            Some(&admin),
            &format!("/groups/{id}"),
            json!({"end_date": null}),
            None,
        )
        .await
        .expect(200);
    assert!(r.body["end_date"].is_null());
    app.patch(
        Some(&admin),
        &format!("/groups/{id}"),
        json!({"min_size": 3}),
        None,
    )
    .await
    .expect_invalid("min_size");
    // max_size never below seats taken
    let gid: uuid::Uuid = id.parse().unwrap();
    let c = fixtures::contract(&app, gid, 1, admin.id);
    for _ in 0..10 {
        fixtures::active_member(&app, gid, c, admin.id, Utc::now());
    }
    let r = app
        .patch(
            Some(&admin),
            &format!("/groups/{id}"),
            json!({"max_size": 9, "min_size": 8}),
            None,
        )
        .await;
    let r = r.expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "max_size");
}

#[actix_web::test]
async fn contracts_are_versioned_and_immutable() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let intake = app.staff(Role::Intake).await;
    let g = fixtures::group(&app, ther.id).create();
    let clauses = json!({"clauses": {"attendance": "Come weekly", "confidentiality": "What is said here stays here",
        "outside_socialization": "None", "substance_use": "Sober", "exit_notice": "Three sessions", "other": ""}});
    let r = app
        .post(
            Some(&sup),
            &format!("/groups/{g}/contracts"),
            clauses.clone(),
        )
        .await
        .expect(201);
    assert_eq!(r.body["version"], 1);
    assert_eq!(r.body["current"], true);
    let r = app
        .post(
            Some(&sup),
            &format!("/groups/{g}/contracts"),
            clauses.clone(),
        )
        .await
        .expect(201);
    assert_eq!(r.body["version"], 2);
    let r = app
        .get(Some(&ther), &format!("/groups/{g}/contracts"))
        .await
        .expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|c| (
                c["version"].as_i64().unwrap(),
                c["current"].as_bool().unwrap()
            ))
            .collect::<Vec<_>>(),
        vec![(2, true), (1, false)]
    );
    assert_eq!(
        items[1]["clauses"]["confidentiality"],
        "What is said here stays here"
    );
    app.get(Some(&intake), &format!("/groups/{g}/contracts"))
        .await
        .expect(200);
    app.post(
        Some(&sup),
        &format!("/groups/{g}/contracts"),
        json!({"clauses": {"confidentiality": ""}}),
    )
    .await
    .expect_invalid("clauses.confidentiality");
    app.post(
        Some(&sup),
        &format!("/groups/{g}/contracts"),
        json!({"clauses": {"confidentiality": "x", "bogus": "y"}}),
    )
    .await
    .expect_invalid("clauses.bogus");
    app.post(
        Some(&ther),
        &format!("/groups/{g}/contracts"),
        clauses.clone(),
    )
    .await
    .expect_problem(403, "forbidden");
    app.post(Some(&intake), &format!("/groups/{g}/contracts"), clauses)
        .await
        .expect_problem(403, "forbidden");
    // no update or delete route exists for a contract
    let other = app.staff(Role::Therapist).await;
    app.get(Some(&other), &format!("/groups/{g}/contracts"))
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn role_and_scope_matrix() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let sup = app.staff(Role::Supervisor).await;
    let intake = app.staff(Role::Intake).await;
    let lead = app.staff(Role::Therapist).await;
    let co = app.staff(Role::Therapist).await;
    let stranger = app.staff(Role::Therapist).await;
    let mine = fixtures::group(&app, lead.id).co(vec![co.id]).create();
    let _theirs = fixtures::group(&app, stranger.id).create();

    for u in [&intake, &lead, &co, &stranger] {
        app.post(Some(u), "/groups", group_body(&lead))
            .await
            .expect_problem(403, "forbidden");
        app.patch(
            Some(u),
            &format!("/groups/{mine}"),
            json!({"name": "x"}),
            None,
        )
        .await
        .expect_problem(403, "forbidden");
        for action in ["start", "complete", "cancel"] {
            app.post(Some(u), &format!("/groups/{mine}/{action}"), json!({}))
                .await
                .expect_problem(403, "forbidden");
        }
    }
    for u in [&admin, &sup, &intake, &lead, &co] {
        app.get(Some(u), &format!("/groups/{mine}"))
            .await
            .expect(200);
    }
    app.get(Some(&stranger), &format!("/groups/{mine}"))
        .await
        .expect_problem(404, "not_found");
    let count = |r: &crate::helpers::Resp| r.body["items"].as_array().unwrap().len();
    assert_eq!(
        count(&app.get(Some(&admin), "/groups").await.expect(200)),
        2
    );
    assert_eq!(count(&app.get(Some(&co), "/groups").await.expect(200)), 1);
    assert_eq!(
        count(&app.get(Some(&stranger), "/groups").await.expect(200)),
        1
    );
    app.get(None, "/groups")
        .await
        .expect_problem(401, "unauthorized");
    app.post(Some(&admin), &format!("/groups/{mine}/cancel"), json!({}))
        .await
        .expect(200);
}
