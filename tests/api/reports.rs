//! Issue 8: attendance and retention reports on small hand-computed fixtures.

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use groupwork::auth::Role;
use groupwork::schema::{clients, groups, memberships};
use serde_json::Value;
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 18, 0, 0).unwrap()
}

struct Practice {
    app: TestApp,
    sup: TestUser,
    group: Uuid,
    a: (Uuid, Uuid),
    b: (Uuid, Uuid),
    c: (Uuid, Uuid),
}

/// Group (UTC, min term 2): A joined 2026-01-01, B joined 2026-03-10, C joined 2026-01-01 and
/// left (early_exit) on 2026-03-20; D joined 2025-12-01 and left 2025-12-20.
/// Sessions: 03-02 held, 03-09 cancelled, 03-16 held, 03-23 held.
async fn practice() -> Practice {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let group = fixtures::group(&app, ther.id)
        .status("active")
        .terms(2, 3, 3)
        .create();
    let contract = fixtures::contract(&app, group, 1, sup.id);
    let a = fixtures::active_member(&app, group, contract, sup.id, at(2026, 1, 1));
    let b = fixtures::active_member(&app, group, contract, sup.id, at(2026, 3, 10));
    let c = fixtures::active_member(&app, group, contract, sup.id, at(2026, 1, 1));
    let d = fixtures::active_member(&app, group, contract, sup.id, at(2025, 12, 1));
    let mut conn = app.conn();
    for (id, reason, when) in [
        (c.0, "early_exit", at(2026, 3, 20)),
        (d.0, "dropped_out", at(2025, 12, 20)),
    ] {
        diesel::update(memberships::table.find(id))
            .set((
                memberships::status.eq("exited"),
                memberships::exit_reason.eq(reason),
                memberships::exited_at.eq(when),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    diesel::update(clients::table.find(a.1))
        .set(clients::mandated.eq(true))
        .execute(&mut conn)
        .unwrap();
    let s1 = fixtures::session(&app, group, 1, at(2026, 3, 2), "held");
    fixtures::session(&app, group, 2, at(2026, 3, 9), "cancelled");
    let s3 = fixtures::session(&app, group, 3, at(2026, 3, 16), "held");
    let s4 = fixtures::session(&app, group, 4, at(2026, 3, 23), "held");
    fixtures::attendance(&app, s1, a.0, "present", sup.id);
    fixtures::attendance(&app, s1, c.0, "late", sup.id);
    fixtures::attendance(&app, s3, a.0, "unexcused_absence", sup.id);
    fixtures::attendance(&app, s3, b.0, "present", sup.id);
    fixtures::attendance(&app, s3, c.0, "left_early", sup.id);
    fixtures::attendance(&app, s4, a.0, "present", sup.id);
    fixtures::attendance(&app, s4, b.0, "present", sup.id);
    Practice {
        app,
        sup,
        group,
        a,
        b,
        c,
    }
}

fn by_client(items: &[Value], client: Uuid) -> Vec<&Value> {
    items
        .iter()
        .filter(|r| r["client_id"] == client.to_string())
        .collect()
}

#[actix_web::test]
async fn attendance_rows_and_summary_by_hand() {
    let p = practice().await;
    let r = p
        .app
        .get(
            Some(&p.sup),
            "/reports/attendance?from=2026-03-01&to=2026-03-20",
        )
        .await
        .expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        5,
        "two held sessions in the window; the cancelled one has no rows"
    );
    let a_rows = by_client(items, p.a.1);
    assert_eq!(
        a_rows
            .iter()
            .map(|r| r["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["present", "unexcused_absence"]
    );
    assert_eq!(a_rows[0]["session_date"], "2026-03-02");
    assert_eq!(a_rows[0]["session_sequence"], 1);
    assert!(a_rows[0]["client_name"]
        .as_str()
        .unwrap()
        .starts_with("Member "));
    let c_late = by_client(items, p.c.1)[0];
    assert_eq!(
        (c_late["status"].as_str(), c_late["minutes_late"].as_i64()),
        (Some("late"), None)
    );
    let summary = r.body["summary"].as_array().unwrap();
    assert_eq!(
        summary.len(),
        3,
        "A, B (joined mid-window) and C (left on the last day)"
    );
    let s = |c: Uuid| {
        summary
            .iter()
            .find(|m| m["client_id"] == c.to_string())
            .unwrap()
            .clone()
    };
    let a = s(p.a.1);
    assert_eq!(
        (
            a["sessions_held"].as_i64(),
            a["present"].as_i64(),
            a["unexcused_absence"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(a["attendance_rate"].as_f64(), Some(0.5));
    let b = s(p.b.1);
    assert_eq!(
        (b["sessions_held"].as_i64(), b["attendance_rate"].as_f64()),
        (Some(1), Some(1.0)),
        "only sessions after joining"
    );
    let c = s(p.c.1);
    assert_eq!(
        (
            c["sessions_held"].as_i64(),
            c["late"].as_i64(),
            c["left_early"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(c["attendance_rate"].as_f64(), Some(1.0));

    // pagination: the summary comes with the first page only
    let r = p
        .app
        .get(
            Some(&p.sup),
            "/reports/attendance?from=2026-03-01&to=2026-03-31&limit=4",
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 4);
    let cursor = r.body["next_cursor"].as_str().unwrap().to_string();
    let r = p
        .app
        .get(
            Some(&p.sup),
            &format!("/reports/attendance?from=2026-03-01&to=2026-03-31&limit=4&cursor={cursor}"),
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
    assert!(r.body["summary"].is_null());

    // an empty window, a group filter, a bad window
    let r = p
        .app
        .get(
            Some(&p.sup),
            "/reports/attendance?from=2027-01-01&to=2027-02-01",
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    assert_eq!(r.body["summary"].as_array().unwrap().len(), 0);
    let r = p
        .app
        .get(
            Some(&p.sup),
            &format!("/reports/attendance?group_id={}", Uuid::new_v4()),
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    let r = p
        .app
        .get(
            Some(&p.sup),
            &format!("/reports/attendance?group_id={}", p.group),
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 7);
    p.app
        .get(
            Some(&p.sup),
            "/reports/attendance?from=2026-03-20&to=2026-03-01",
        )
        .await
        .expect_problem(422, "validation_failed");
    p.app
        .get(Some(&p.sup), "/reports/attendance?format=xml")
        .await
        .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn attendance_csv_escaping_and_formula_injection() {
    let p = practice().await;
    let mut conn = p.app.conn();
    diesel::update(groups::table.find(p.group))
        .set(groups::name.eq("Group \"A\", evenings\nTuesday"))
        .execute(&mut conn)
        .unwrap();
    diesel::update(clients::table.find(p.a.1))
        .set((
            clients::first_name.eq("=HYPERLINK(\"http://x\")"),
            clients::last_name.eq("@Evil"),
        ))
        .execute(&mut conn)
        .unwrap();
    let r = p
        .app
        .get(
            Some(&p.sup),
            "/reports/attendance?format=csv&from=2026-03-01&to=2026-03-20",
        )
        .await
        .expect(200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment; filename="));
    let mut reader = csv::ReaderBuilder::new().from_reader(r.text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "group_id",
            "group_name",
            "session_id",
            "session_sequence",
            "session_date",
            "client_id",
            "client_name",
            "status",
            "minutes_late"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(
        &rows[0][1], "Group \"A\", evenings\nTuesday",
        "quotes, commas and newlines survive RFC 4180 quoting"
    );
    let a_row = rows
        .iter()
        .find(|r| &r[5] == p.a.1.to_string().as_str())
        .unwrap();
    assert_eq!(
        &a_row[6], "'=HYPERLINK(\"http://x\") @Evil",
        "formula cells are neutralised"
    );
    assert!(r.text.contains("\r\n"));
}

#[actix_web::test]
async fn deidentified_exports_use_stable_pseudonyms() {
    let p = practice().await;
    let get = |fmt: &'static str| {
        let app = &p.app;
        let sup = &p.sup;
        async move {
            app.get(Some(sup), &format!("/reports/attendance?deidentified=true&format={fmt}&from=2026-03-01&to=2026-03-20")).await.expect(200)
        }
    };
    let first = get("json").await;
    let second = get("json").await;
    let ids = |r: &crate::helpers::Resp| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["client_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids(&first),
        ids(&second),
        "the same pseudonyms in every export"
    );
    for id in ids(&first) {
        assert!(id.starts_with("p_"));
    }
    for real in [p.a.1, p.b.1, p.c.1] {
        assert!(!first.text.contains(&real.to_string()));
    }
    assert!(!first.text.contains("Member "), "no names");
    assert!(first.body["items"][0].get("client_name").is_none());
    let csv = get("csv").await;
    assert!(csv.text.starts_with("group_id,group_name,session_id,session_sequence,session_date,client_id,status,minutes_late\r\n"));
    for id in ids(&first) {
        assert!(csv.text.contains(&id), "CSV and JSON agree on pseudonyms");
    }
    let audits = p.app.audit_actions("report.attendance");
    assert_eq!(audits.len(), 3);
    assert_eq!(audits[0].3["deidentified"], true);
    assert_eq!(audits[0].3["from"], "2026-03-01");
}

#[actix_web::test]
async fn retention_by_hand() {
    let p = practice().await;
    let r = p
        .app
        .get(
            Some(&p.sup),
            "/reports/retention?from=2026-01-01&to=2026-03-31&group_by=group",
        )
        .await
        .expect(200);
    let buckets = r.body["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 1);
    let b = &buckets[0];
    assert_eq!(b["key"], p.group.to_string());
    assert_eq!(b["admitted"], 3, "D joined before the window");
    assert_eq!(
        (
            b["still_active"].as_i64(),
            b["exiting"].as_i64(),
            b["early_exit"].as_i64(),
            b["dropped_out"].as_i64()
        ),
        (Some(2), Some(0), Some(1), Some(0))
    );
    assert_eq!(b["reached_minimum_term"], 3);
    assert_eq!(b["minimum_term_rate"].as_f64(), Some(1.0));
    assert_eq!(b["median_sessions_attended"].as_f64(), Some(2.0));
    let curve = b["retained_after_sessions"].as_array().unwrap();
    assert_eq!(
        curve
            .iter()
            .map(|c| c["sessions"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![4, 8, 12, 26]
    );
    assert_eq!(
        (curve[0]["reached"].as_i64(), curve[0]["known"].as_i64()),
        (Some(0), Some(1)),
        "only C's outcome at 4 is known"
    );
    assert_eq!(curve[0]["retained"].as_f64(), Some(0.0));

    let r = p
        .app
        .get(
            Some(&p.sup),
            "/reports/retention?from=2026-01-01&to=2026-03-31&group_by=mandated",
        )
        .await
        .expect(200);
    let buckets = r.body["buckets"].as_array().unwrap();
    let admitted: Vec<(String, i64)> = buckets
        .iter()
        .map(|b| {
            (
                b["key"].as_str().unwrap().to_string(),
                b["admitted"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        admitted,
        vec![("false".to_string(), 2), ("true".to_string(), 1)]
    );
    let r = p
        .app
        .get(
            Some(&p.sup),
            "/reports/retention?from=2030-01-01&to=2030-12-31",
        )
        .await
        .expect(200);
    assert_eq!(
        r.body["buckets"].as_array().unwrap().len(),
        0,
        "an empty window"
    );
    let r = p
        .app
        .get(
            Some(&p.sup),
            "/reports/retention?group_by=referral_source&format=csv",
        )
        .await
        .expect(200);
    assert!(r.text.starts_with("bucket,label,admitted,still_active"));
    assert!(r.text.lines().nth(1).unwrap().starts_with("self,self,4,"));
    p.app
        .get(Some(&p.sup), "/reports/retention?group_by=planet")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(p.app.audit_actions("report.retention").len(), 4);
}

#[actix_web::test]
async fn report_access_matrix() {
    let app = TestApp::spawn().await;
    for (role, expected) in [
        (Role::Admin, 200),
        (Role::Supervisor, 200),
        (Role::Therapist, 403),
        (Role::Intake, 403),
    ] {
        let u = app.staff(role).await;
        for path in [
            "/reports/attendance",
            "/reports/attendance?format=csv",
            "/reports/retention",
            "/reports/retention?format=csv",
        ] {
            let r = app.get(Some(&u), path).await;
            assert_eq!(r.status, expected, "{role:?} {path}");
        }
    }
    app.get(None, "/reports/retention")
        .await
        .expect_problem(401, "unauthorized");
}
