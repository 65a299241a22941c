//! Issue 8: the attendance report on small hand-computed fixtures, CSV encoding, pseudonyms,
//! and who may export. Retention and the scale generator: `reports_retention.rs`.

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use groupwork::auth::Role;
use groupwork::schema::{attendance, clients, groups};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{Resp, TestApp, TestUser};

pub fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 18, 0, 0).unwrap()
}

struct Practice {
    app: TestApp,
    sup: TestUser,
    group: Uuid,
    a: (Uuid, Uuid),
    b: (Uuid, Uuid),
    c: (Uuid, Uuid),
    sessions: [Uuid; 3],
}

/// Group (UTC, min term 2): A joined 2026-01-01, B joined 2026-03-10 (mid-window), C joined
/// 2026-01-01 and left (early_exit) on 2026-03-20, the window's last day; D joined 2025-12-01
/// and left 2025-12-20. Sessions: 03-02 held, 03-09 cancelled, 03-16 held, 03-23 held.
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
    fixtures::exit_member(&app, c.0, "early_exit", at(2026, 3, 20));
    fixtures::exit_member(&app, d.0, "dropped_out", at(2025, 12, 20));
    fixtures::referral(&app, a.1, "court", true);
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
    diesel::update(attendance::table.find((s1, c.0)))
        .set(attendance::minutes_late.eq(7))
        .execute(&mut app.conn())
        .unwrap();
    Practice {
        app,
        sup,
        group,
        a,
        b,
        c,
        sessions: [s1, s3, s4],
    }
}

impl Practice {
    async fn get(&self, path: &str) -> Resp {
        self.app.get(Some(&self.sup), path).await.expect(200)
    }
}

fn by_client(items: &[Value], client: Uuid) -> Vec<&Value> {
    items
        .iter()
        .filter(|r| r["client_id"] == client.to_string())
        .collect()
}

fn csv_records(text: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    (header, reader.records().map(Result::unwrap).collect())
}

#[actix_web::test]
async fn attendance_rows_and_summary_by_hand() {
    let p = practice().await;
    let r = p
        .get("/reports/attendance?from=2026-03-01&to=2026-03-20")
        .await;
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
    let first = a_rows[0];
    assert_eq!(first["session_date"], "2026-03-02");
    assert_eq!(first["session_sequence"], 1);
    assert_eq!(first["session_id"], p.sessions[0].to_string());
    assert_eq!(first["group_id"], p.group.to_string());
    assert!(first["group_name"].as_str().unwrap().starts_with("Group "));
    assert!(first["client_name"]
        .as_str()
        .unwrap()
        .starts_with("Member M"));
    assert!(first["minutes_late"].is_null());
    let c_late = by_client(items, p.c.1)[0];
    assert_eq!(
        (c_late["status"].as_str(), c_late["minutes_late"].as_i64()),
        (Some("late"), Some(7))
    );
    let summary = r.body["summary"].as_array().unwrap();
    assert_eq!(
        summary.len(),
        3,
        "A, B (joined mid-window) and C (left on the last day); D left before the window"
    );
    let s = |c: Uuid| {
        summary
            .iter()
            .find(|m| m["client_id"] == c.to_string())
            .unwrap()
            .clone()
    };
    let counts = |m: &Value| -> Vec<i64> {
        [
            "sessions_held",
            "present",
            "late",
            "left_early",
            "excused_absence",
            "unexcused_absence",
        ]
        .iter()
        .map(|k| m[*k].as_i64().unwrap())
        .collect()
    };
    let a = s(p.a.1);
    assert_eq!(counts(&a), [2, 1, 0, 0, 0, 1]);
    assert_eq!(a["attendance_rate"].as_f64(), Some(0.5));
    assert_eq!(a["group_id"], p.group.to_string());
    let b = s(p.b.1);
    assert_eq!(
        (counts(&b), b["attendance_rate"].as_f64()),
        (vec![1, 1, 0, 0, 0, 0], Some(1.0)),
        "only the sessions after joining"
    );
    let c = s(p.c.1);
    assert_eq!(counts(&c), [2, 0, 1, 1, 0, 0], "late and left early attend");
    assert_eq!(c["attendance_rate"].as_f64(), Some(1.0));

    // the whole month: C left on 03-20, so 03-23 is not held "while seated" for C
    let r = p
        .get("/reports/attendance?from=2026-03-01&to=2026-03-31")
        .await;
    let summary = r.body["summary"].as_array().unwrap();
    let find = |c: Uuid| {
        summary
            .iter()
            .find(|m| m["client_id"] == c.to_string())
            .unwrap()
    };
    assert_eq!(find(p.a.1)["sessions_held"], 3);
    assert_eq!(find(p.a.1)["attendance_rate"].as_f64(), Some(0.6667));
    assert_eq!(find(p.c.1)["sessions_held"], 2);

    // an empty window, a group filter
    let r = p
        .get("/reports/attendance?from=2027-01-01&to=2027-02-01")
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    assert_eq!(r.body["summary"].as_array().unwrap().len(), 0);
    assert!(r.body["next_cursor"].is_null());
    let r = p
        .get(&format!("/reports/attendance?group_id={}", Uuid::new_v4()))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    let r = p
        .get(&format!("/reports/attendance?group_id={}", p.group))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 7);
}

#[actix_web::test]
async fn json_pages_walk_the_same_rows_as_the_csv() {
    let p = practice().await;
    let mut cursor: Option<String> = None;
    let mut walked: Vec<(String, String, String)> = vec![];
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/reports/attendance?limit=2&cursor={c}"),
            None => "/reports/attendance?limit=2".to_string(),
        };
        let r = p.get(&path).await;
        assert_eq!(
            r.body["summary"].is_array(),
            cursor.is_none(),
            "the summary comes with the first page only"
        );
        pages += 1;
        for it in r.body["items"].as_array().unwrap() {
            walked.push((
                it["session_id"].as_str().unwrap().into(),
                it["client_id"].as_str().unwrap().into(),
                it["status"].as_str().unwrap().into(),
            ));
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!((walked.len(), pages), (7, 4));
    let csv = p.get("/reports/attendance?format=csv").await;
    let (_, rows) = csv_records(&csv.text);
    let from_csv: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r[2].to_string(), r[5].to_string(), r[7].to_string()))
        .collect();
    assert_eq!(walked, from_csv, "the same rows in the same order");
    // sessions in sequence order
    let order: Vec<usize> = walked
        .iter()
        .map(|w| {
            p.sessions
                .iter()
                .position(|s| s.to_string() == w.0)
                .unwrap()
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]));
}

#[actix_web::test]
async fn session_dates_are_local_to_the_group() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let group = fixtures::group(&app, ther.id)
        .status("active")
        .schedule(
            "thursday",
            chrono::NaiveTime::from_hms_opt(23, 30, 0).unwrap(),
            "America/New_York",
        )
        .create();
    let contract = fixtures::contract(&app, group, 1, sup.id);
    let m = fixtures::active_member(&app, group, contract, sup.id, at(2026, 1, 1));
    // Thursday 2026-03-05 23:30 in New York is 2026-03-06 04:30 UTC
    let s = fixtures::session(
        &app,
        group,
        1,
        Utc.with_ymd_and_hms(2026, 3, 6, 4, 30, 0).unwrap(),
        "held",
    );
    fixtures::attendance(&app, s, m.0, "present", sup.id);
    let get = |path: &'static str| {
        let (app, sup) = (&app, &sup);
        async move { app.get(Some(sup), path).await.expect(200) }
    };
    let r = get("/reports/attendance?to=2026-03-05").await;
    assert_eq!(r.body["items"][0]["session_date"], "2026-03-05");
    assert_eq!(r.body["summary"][0]["sessions_held"], 1);
    let r = get("/reports/attendance?from=2026-03-06").await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    let r = get("/reports/attendance?from=2026-03-05&to=2026-03-05&format=csv").await;
    assert!(r.text.contains(",1,\"2026-03-05\","), "{}", r.text);
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
    diesel::update(clients::table.find(p.b.1))
        .set((clients::first_name.eq("+1"), clients::last_name.eq("Zoë")))
        .execute(&mut conn)
        .unwrap();
    diesel::update(clients::table.find(p.c.1))
        .set((
            clients::first_name.eq("-2"),
            clients::last_name.eq("O'Hara, Jr."),
        ))
        .execute(&mut conn)
        .unwrap();
    let r = p
        .get("/reports/attendance?format=csv&from=2026-03-01&to=2026-03-20")
        .await;
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        r.header("content-disposition").as_deref(),
        Some("attachment; filename=\"attendance_2026-03-01_2026-03-20.csv\"")
    );
    let (header, rows) = csv_records(&r.text);
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
    assert_eq!(rows.len(), 5);
    assert_eq!(
        &rows[0][1], "Group \"A\", evenings\nTuesday",
        "quotes, commas and newlines survive RFC 4180 quoting"
    );
    assert!(r.text.contains("\"Group \"\"A\"\", evenings\nTuesday\""));
    let name_of = |client: Uuid| {
        rows.iter()
            .find(|r| &r[5] == client.to_string().as_str())
            .unwrap()[6]
            .to_string()
    };
    assert_eq!(name_of(p.a.1), "'=HYPERLINK(\"http://x\") @Evil");
    assert_eq!(name_of(p.b.1), "'+1 Zoë", "UTF-8 kept, formula neutralised");
    assert_eq!(name_of(p.c.1), "'-2 O'Hara, Jr.");
    let c_row = rows
        .iter()
        .find(|r| &r[5] == p.c.1.to_string().as_str() && &r[7] == "late")
        .unwrap();
    assert_eq!(&c_row[8], "7");
    assert!(r.text.ends_with("\r\n"));
    assert_eq!(
        r.text.matches("\r\n").count(),
        6,
        "CRLF ends each record (header + 5); the newline inside the name stays a bare LF"
    );

    // the empty window still has its header
    let r = p
        .get("/reports/attendance?format=csv&from=2030-01-01")
        .await;
    assert_eq!(
        r.text,
        "\"group_id\",\"group_name\",\"session_id\",\"session_sequence\",\"session_date\",\"client_id\",\"client_name\",\"status\",\"minutes_late\"\r\n"
    );
    assert_eq!(
        r.header("content-disposition").as_deref(),
        Some("attachment; filename=\"attendance_2030-01-01_all.csv\"")
    );
}

/// The pseudonym of SPEC §5, recomputed here from its definition: HMAC-SHA256 of the client
/// id's 16 bytes under HMAC-SHA256(pseudonym key, "groupwork report pseudonym v1"), `p_` + the
/// first 20 hex digits. Pinning it keeps pseudonyms stable across releases and restarts.
fn expected_pseudonym(pseudonym_key: &[u8; 32], client: Uuid) -> String {
    let mut k = Hmac::<Sha256>::new_from_slice(pseudonym_key).unwrap();
    k.update(b"groupwork report pseudonym v1");
    let key = k.finalize().into_bytes();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(client.as_bytes());
    format!("p_{}", &hex::encode(mac.finalize().into_bytes())[..20])
}

#[actix_web::test]
async fn deidentified_exports_use_stable_pseudonyms() {
    let p = practice().await;
    let key = p.app.state.settings.pseudonym_key;
    let get = |fmt: &'static str| {
        let p = &p;
        async move {
            p.get(&format!(
                "/reports/attendance?deidentified=true&format={fmt}&from=2026-03-01&to=2026-03-20"
            ))
            .await
        }
    };
    let first = get("json").await;
    let second = get("json").await;
    let ids = |r: &Resp, list: &str| -> Vec<String> {
        r.body[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["client_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&first, "items"), ids(&second, "items"));
    let a_pseudonym = expected_pseudonym(&key, p.a.1);
    assert_eq!(
        ids(&first, "items")
            .iter()
            .filter(|id| **id == a_pseudonym)
            .count(),
        2,
        "A's two rows carry the keyed hash of A's id"
    );
    for id in ids(&first, "items").iter().chain(&ids(&first, "summary")) {
        assert!(id.starts_with("p_") && id.len() == 22, "{id}");
        assert!([p.a.1, p.b.1, p.c.1]
            .iter()
            .any(|c| expected_pseudonym(&key, *c) == *id));
    }
    for real in [p.a.1, p.b.1, p.c.1] {
        assert!(!first.text.contains(&real.to_string()));
    }
    assert!(!first.text.contains("Member "), "no names");
    assert!(first.body["items"][0].get("client_name").is_none());
    assert!(first.body["summary"][0].get("client_name").is_none());
    let csv = get("csv").await;
    assert!(csv.text.starts_with(
        "\"group_id\",\"group_name\",\"session_id\",\"session_sequence\",\"session_date\",\"client_id\",\"status\",\"minutes_late\"\r\n"
    ));
    assert!(!csv.text.contains("Member "));
    let (_, rows) = csv_records(&csv.text);
    let csv_ids: Vec<String> = rows.iter().map(|r| r[5].to_string()).collect();
    assert_eq!(csv_ids, ids(&first, "items"), "CSV and JSON agree");

    // another server: with the same key, the same function of the client id; with another
    // key, other pseudonyms
    let same = TestApp::spawn().await;
    assert_eq!(same.state.settings.pseudonym_key, key);
    let other = TestApp::spawn_with(|s| s.pseudonym_key = [9; 32]).await;
    for app in [&same, &other] {
        let sup = app.staff(Role::Supervisor).await;
        let ther = app.staff(Role::Therapist).await;
        let g = fixtures::group(app, ther.id).status("active").create();
        let contract = fixtures::contract(app, g, 1, sup.id);
        let m = fixtures::active_member(app, g, contract, sup.id, at(2026, 1, 1));
        let s = fixtures::session(app, g, 1, at(2026, 3, 2), "held");
        fixtures::attendance(app, s, m.0, "present", sup.id);
        let r = app
            .get(Some(&sup), "/reports/attendance?deidentified=true")
            .await
            .expect(200);
        let pseudonym = r.body["items"][0]["client_id"].as_str().unwrap();
        assert_eq!(
            pseudonym,
            expected_pseudonym(&app.state.settings.pseudonym_key, m.1)
        );
        assert_eq!(
            pseudonym == expected_pseudonym(&key, m.1),
            std::ptr::eq(app, &same)
        );
    }

    let audits = p.app.audit_actions("report.attendance");
    assert_eq!(audits.len(), 3);
    let d = &audits[0].3;
    assert_eq!(d["deidentified"], true);
    assert_eq!(d["from"], "2026-03-01");
    assert_eq!(d["to"], "2026-03-20");
    assert!(d["group_id"].is_null());
    assert_eq!(audits[2].3["format"], "csv");
}

#[actix_web::test]
async fn bad_filters_answer_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    for (path, field) in [
        ("/reports/attendance?from=2026-03-20&to=2026-03-01", "to"),
        ("/reports/attendance?format=xml", "format"),
        ("/reports/attendance?from=2026-02-30", "from"),
        ("/reports/attendance?group_id=nope", "group_id"),
        ("/reports/attendance?deidentified=maybe", "deidentified"),
        ("/reports/attendance?limit=0", "limit"),
        ("/reports/attendance?limit=201", "limit"),
        ("/reports/attendance?cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("/reports/retention?group_by=planet", "group_by"),
        ("/reports/retention?from=2026-04-01&to=2026-03-01", "to"),
        ("/reports/retention?format=pdf", "format"),
    ] {
        let r = app
            .get(Some(&sup), path)
            .await
            .expect_problem(422, "validation_failed");
        assert!(r.text.contains(field), "{path}: {}", r.text);
    }
    assert!(app.audit_actions("report.attendance").is_empty());
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
            "/reports/attendance?deidentified=true",
            "/reports/retention",
            "/reports/retention?format=csv",
            "/reports/retention?group_by=therapist",
        ] {
            let r = app.get(Some(&u), path).await;
            assert_eq!(r.status, expected, "{role:?} {path}");
            if expected == 403 {
                assert_eq!(r.body["code"], "forbidden");
            }
        }
    }
    for path in ["/reports/attendance", "/reports/retention"] {
        app.get(None, path)
            .await
            .expect_problem(401, "unauthorized");
    }
    assert_eq!(app.audit_actions("report.attendance").len(), 6);
    assert_eq!(app.audit_actions("report.retention").len(), 6);
    assert_eq!(app.audit_actions("access.forbidden").len(), 12);
}

#[derive(QueryableByName)]
struct Num {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    n: i32,
}

/// Streams `sql` through the report pipeline and collects the body (Err if it was aborted).
async fn stream_numbers(app: &TestApp, sql: &str) -> Result<String, String> {
    use groupwork::reports::stream;
    let resp = stream::csv_response(
        app.state.db.checkout().await.unwrap(),
        "numbers.csv",
        &["n"],
        sql.to_string(),
        |conn| {
            let rows: Vec<Num> = diesel::sql_query(stream::fetch_sql()).load(conn)?;
            Ok((!rows.is_empty()).then_some(rows))
        },
        |rows: Vec<Num>, out| {
            for r in rows {
                groupwork::http::csv::write_record(out, [r.n.to_string().as_str()]);
            }
        },
    );
    actix_web::body::to_bytes(resp.into_body())
        .await
        .map(|b| String::from_utf8(b.to_vec()).unwrap())
        .map_err(|e| e.to_string())
}

#[actix_web::test]
async fn a_failure_mid_stream_aborts_the_download() {
    let app = TestApp::spawn().await;
    let body = stream_numbers(&app, "SELECT g AS n FROM generate_series(1, 25000) g")
        .await
        .expect("a complete export");
    assert_eq!(body.lines().count(), 25_001);
    assert!(body.ends_with("25000\r\n"));
    // the first batch streams; the second fails on the database at row 15,000
    let failed = stream_numbers(
        &app,
        "SELECT (g / (g - 15000))::int AS n FROM generate_series(1, 25000) g",
    )
    .await;
    assert!(failed.is_err(), "a truncated export must not look complete");
    // the connection went back to the pool: the API still answers
    let sup = app.staff(Role::Supervisor).await;
    app.get(Some(&sup), "/reports/attendance?format=csv")
        .await
        .expect(200);
}

/// A CSV export takes its connection in turn, before the response starts: while every
/// connection of the reports' pool is taken, it answers 503 `service_unavailable` (not a 200
/// whose body breaks off after the header line), and exports again once one is free.
#[actix_web::test]
async fn a_csv_export_waits_its_turn_and_is_a_503_when_none_comes() {
    let app = TestApp::spawn_with(|s| {
        s.reports_database_url = Some(s.database_url.clone());
        s.reports_pool_size = 2;
    })
    .await;
    let admin = app.staff(Role::Admin).await;
    let held = vec![
        app.state.reports_db.checkout().await.unwrap(),
        app.state.reports_db.checkout().await.unwrap(),
    ];
    app.get(Some(&admin), "/reports/attendance?format=csv")
        .await
        .expect_problem(503, "service_unavailable");
    drop(held);
    let r = app
        .get(Some(&admin), "/reports/attendance?format=csv")
        .await
        .expect(200);
    assert!(r.text.starts_with("\"group_id\","), "{}", r.text);
}
