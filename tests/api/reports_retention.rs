//! Issue 8: the retention report on a hand-computed practice (every column, every `group_by`,
//! the curve, window edges), and the `demo --scale` generator feeding both reports.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use groupwork::auth::Role;
use serde_json::Value;
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};
use crate::reports::at;

fn at_hm(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

struct Practice {
    app: TestApp,
    sup: TestUser,
    t1: Uuid,
    t2: Uuid,
    g1: Uuid,
    g2: Uuid,
}

/// G1 (lead T1, minimum term 3), Mondays 18:00 UTC: sessions 02-02, 02-09, 02-16 (cancelled),
/// 02-23, 03-02, 03-09. G2 (lead T2, minimum term 2): 02-03, 02-10. Window 2026-01-01..03-31.
///
/// | member | group | joined | now | held since join | attended | referral, mandated |
/// |---|---|---|---|---|---|---|
/// | A | G1 | 01-20 | active | 5 | 4 (P, L, LE, U, P) | court, yes |
/// | B | G1 | 02-20 | exiting | 3 | 2 (P, E, P) | court |
/// | C | G1 | 01-20 | completed 03-02 19:30 | 4 | 4 | self |
/// | D | G1 | 01-20 | dropped_out 02-10 | 2 | 1 (U, P) | probation, yes |
/// | E | G1 | 01-01 (first day) | other 02-01 | 0 | 0 | self |
/// | K | G1 | 02-20 | early_exit 03-02 19:30 | 2 | 2 (P, LE) | court |
/// | F | G1 | 12-31 (outside) | active | — | — | self |
/// | H | G2 | 01-15 | discharged 02-05 | 1 | 1 | court, yes |
/// | I | G2 | 03-31 (last day) | active | 0 | 0 | self |
/// | J | G2 | 01-15 | transferred 02-11 | 2 | 2 (L, P) | employer |
async fn practice() -> Practice {
    let app = TestApp::spawn().await;
    let sup = app.staff(Role::Supervisor).await;
    let t1 = app.staff(Role::Therapist).await.id;
    let t2 = app.staff(Role::Therapist).await.id;
    let g1 = fixtures::group(&app, t1)
        .status("active")
        .terms(3, 3, 3)
        .create();
    let g2 = fixtures::group(&app, t2)
        .status("active")
        .terms(2, 3, 3)
        .create();
    let c1 = fixtures::contract(&app, g1, 1, sup.id);
    let c2 = fixtures::contract(&app, g2, 1, sup.id);
    let join = |g: Uuid, c: Uuid, d: DateTime<Utc>| fixtures::active_member(&app, g, c, sup.id, d);
    let morning = |m: u32, d: u32| at_hm(2026, m, d, 9, 0);
    let a = join(g1, c1, morning(1, 20));
    let b = join(g1, c1, morning(2, 20));
    let c = join(g1, c1, morning(1, 20));
    let d = join(g1, c1, morning(1, 20));
    let e = join(g1, c1, morning(1, 1));
    let k = join(g1, c1, morning(2, 20));
    let f = join(g1, c1, at_hm(2025, 12, 31, 9, 0));
    let h = join(g2, c2, morning(1, 15));
    let i = join(g2, c2, morning(3, 31));
    let j = join(g2, c2, morning(1, 15));
    fixtures::member_status(&app, b.0, "exiting");
    fixtures::exit_member(&app, c.0, "completed", at_hm(2026, 3, 2, 19, 30));
    fixtures::exit_member(&app, d.0, "dropped_out", at_hm(2026, 2, 10, 10, 0));
    fixtures::exit_member(&app, e.0, "other", at_hm(2026, 2, 1, 10, 0));
    fixtures::exit_member(&app, k.0, "early_exit", at_hm(2026, 3, 2, 19, 30));
    fixtures::exit_member(&app, h.0, "discharged", at_hm(2026, 2, 5, 10, 0));
    fixtures::exit_member(&app, j.0, "transferred", at_hm(2026, 2, 11, 10, 0));
    for (m, source, mandated) in [
        (a, "court", true),
        (b, "court", false),
        (c, "self", false),
        (d, "probation", true),
        (e, "self", false),
        (k, "court", false),
        (f, "self", false),
        (h, "court", true),
        (i, "self", false),
        (j, "employer", false),
    ] {
        fixtures::referral(&app, m.1, source, mandated);
    }
    let s: Vec<Uuid> = [(2, 2), (2, 9), (2, 16), (2, 23), (3, 2), (3, 9)]
        .iter()
        .enumerate()
        .map(|(n, &(mo, d))| {
            let status = if n == 2 { "cancelled" } else { "held" };
            fixtures::session(&app, g1, n as i32 + 1, at(2026, mo, d), status)
        })
        .collect();
    let rec = |session: Uuid, m: (Uuid, Uuid), status: &str| {
        fixtures::attendance(&app, session, m.0, status, sup.id)
    };
    for (m, statuses) in [
        (
            a,
            [
                "present",
                "late",
                "left_early",
                "unexcused_absence",
                "present",
            ]
            .as_slice(),
        ),
        (f, ["present"; 5].as_slice()),
    ] {
        for (n, st) in [s[0], s[1], s[3], s[4], s[5]].iter().zip(statuses) {
            rec(*n, m, st);
        }
    }
    for (n, st) in [
        (s[3], "present"),
        (s[4], "excused_absence"),
        (s[5], "present"),
    ] {
        rec(n, b, st);
    }
    for n in [s[0], s[1], s[3], s[4]] {
        rec(n, c, "present");
    }
    rec(s[0], d, "unexcused_absence");
    rec(s[1], d, "present");
    rec(s[3], k, "present");
    rec(s[4], k, "left_early");
    let g2s1 = fixtures::session(&app, g2, 1, at(2026, 2, 3), "held");
    let g2s2 = fixtures::session(&app, g2, 2, at(2026, 2, 10), "held");
    rec(g2s1, h, "present");
    rec(g2s1, j, "late");
    rec(g2s2, j, "present");
    Practice {
        app,
        sup,
        t1,
        t2,
        g1,
        g2,
    }
}

impl Practice {
    async fn buckets(&self, query: &str) -> Vec<Value> {
        let r = self
            .app
            .get(Some(&self.sup), &format!("/reports/retention?{query}"))
            .await
            .expect(200);
        r.body["buckets"].as_array().unwrap().clone()
    }
}

const COUNTS: [&str; 10] = [
    "admitted",
    "still_active",
    "exiting",
    "completed",
    "early_exit",
    "dropped_out",
    "discharged",
    "transferred",
    "other",
    "reached_minimum_term",
];

fn counts(b: &Value) -> Vec<i64> {
    COUNTS.iter().map(|k| b[*k].as_i64().unwrap()).collect()
}

fn rates(b: &Value) -> (Option<f64>, Option<f64>) {
    (
        b["minimum_term_rate"].as_f64(),
        b["median_sessions_attended"].as_f64(),
    )
}

/// (sessions, reached, known, retained) at 4, 8, 12, 26.
fn curve(b: &Value) -> Vec<(i64, i64, i64, Option<f64>)> {
    b["retained_after_sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["sessions"].as_i64().unwrap(),
                p["reached"].as_i64().unwrap(),
                p["known"].as_i64().unwrap(),
                p["retained"].as_f64(),
            )
        })
        .collect()
}

const WINDOW: &str = "from=2026-01-01&to=2026-03-31";

#[actix_web::test]
async fn retention_by_group_and_therapist_by_hand() {
    let p = practice().await;
    let g1_counts = vec![6, 1, 1, 1, 1, 1, 0, 0, 1, 3];
    let g1_curve = vec![
        (4, 2, 5, Some(0.4)),
        (8, 0, 4, Some(0.0)),
        (12, 0, 4, Some(0.0)),
        (26, 0, 4, Some(0.0)),
    ];
    let g2_counts = vec![3, 1, 0, 0, 0, 0, 1, 1, 0, 1];
    let g2_curve = vec![
        (4, 0, 2, Some(0.0)),
        (8, 0, 2, Some(0.0)),
        (12, 0, 2, Some(0.0)),
        (26, 0, 2, Some(0.0)),
    ];
    for (group_by, keys) in [("group", [p.g1, p.g2]), ("therapist", [p.t1, p.t2])] {
        let buckets = p.buckets(&format!("group_by={group_by}&{WINDOW}")).await;
        assert_eq!(buckets.len(), 2, "{group_by}");
        let find = |key: Uuid| {
            buckets
                .iter()
                .find(|b| b["key"] == key.to_string())
                .unwrap_or_else(|| panic!("{group_by}: no bucket {key}"))
        };
        let first = find(keys[0]);
        assert_eq!(
            counts(first),
            g1_counts,
            "{group_by}: F joined before the window"
        );
        assert_eq!(
            rates(first),
            (Some(0.5), Some(2.0)),
            "median of 0,1,2,2,4,4"
        );
        assert_eq!(
            curve(first),
            g1_curve,
            "at 4: A and C reached it; D, E, K left before; B (exiting, 3) not yet known"
        );
        let second = find(keys[1]);
        assert_eq!(counts(second), g2_counts, "{group_by}");
        assert_eq!(rates(second), (Some(0.3333), Some(1.0)));
        assert_eq!(
            curve(second),
            g2_curve,
            "I (active, 0 sessions) is not yet known"
        );
    }
    let groups = p.buckets(&format!("group_by=group&{WINDOW}")).await;
    assert!(groups
        .iter()
        .all(|b| b["label"].as_str().unwrap().starts_with("Group ")));

    // unbounded: F (joined 2025-12-31, 5 held, 5 attended, active) comes in
    let all = p.buckets("group_by=group").await;
    let g1 = all.iter().find(|b| b["key"] == p.g1.to_string()).unwrap();
    assert_eq!(counts(g1), vec![7, 2, 1, 1, 1, 1, 0, 0, 1, 4]);
    assert_eq!(rates(g1), (Some(0.5714), Some(2.0)));
    assert_eq!(curve(g1)[0], (4, 3, 6, Some(0.5)));
    // the window's last day alone: I, admitted, nothing known yet
    let last = p.buckets("from=2026-03-31&to=2026-03-31").await;
    assert_eq!(last.len(), 1);
    assert_eq!(counts(&last[0]), vec![1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(rates(&last[0]), (Some(0.0), Some(0.0)));
    assert!(curve(&last[0]).iter().all(|c| c.3.is_none() && c.2 == 0));
    // an empty window
    assert!(p.buckets("from=2030-01-01&to=2030-12-31").await.is_empty());
}

#[actix_web::test]
async fn retention_by_referral_source_and_mandated_by_hand() {
    let p = practice().await;
    let buckets = p
        .buckets(&format!("group_by=referral_source&{WINDOW}"))
        .await;
    let keys: Vec<&str> = buckets.iter().map(|b| b["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["court", "employer", "probation", "self"]);
    // court: A, B, K (G1) and H (G2)
    assert_eq!(counts(&buckets[0]), vec![4, 1, 1, 0, 1, 0, 1, 0, 0, 2]);
    assert_eq!(rates(&buckets[0]), (Some(0.5), Some(2.0)));
    assert_eq!(curve(&buckets[0])[0], (4, 1, 3, Some(0.3333)));
    // employer: J; probation: D
    assert_eq!(counts(&buckets[1]), vec![1, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
    assert_eq!(rates(&buckets[1]), (Some(1.0), Some(2.0)));
    assert_eq!(counts(&buckets[2]), vec![1, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert_eq!(rates(&buckets[2]), (Some(0.0), Some(1.0)));
    // self: C, E, I
    assert_eq!(counts(&buckets[3]), vec![3, 1, 0, 1, 0, 0, 0, 0, 1, 1]);
    assert_eq!(rates(&buckets[3]), (Some(0.3333), Some(0.0)));
    assert_eq!(curve(&buckets[3])[0], (4, 1, 2, Some(0.5)));

    let buckets = p.buckets(&format!("group_by=mandated&{WINDOW}")).await;
    let keys: Vec<&str> = buckets.iter().map(|b| b["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["false", "true"]);
    // mandated: A, D, H
    assert_eq!(counts(&buckets[1]), vec![3, 1, 0, 0, 0, 1, 1, 0, 0, 1]);
    assert_eq!(rates(&buckets[1]), (Some(0.3333), Some(1.0)));
    assert_eq!(counts(&buckets[0]).first(), Some(&6));
}

#[actix_web::test]
async fn retention_csv_and_audit() {
    let p = practice().await;
    let r = p
        .app
        .get(
            Some(&p.sup),
            &format!("/reports/retention?group_by=group&format=csv&{WINDOW}"),
        )
        .await
        .expect(200);
    assert_eq!(
        r.header("content-disposition").as_deref(),
        Some("attachment; filename=\"retention_by_group_2026-01-01_2026-03-31.csv\"")
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let mut reader = csv::ReaderBuilder::new().from_reader(r.text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    for col in COUNTS.iter().chain(&[
        "minimum_term_rate",
        "median_sessions_attended",
        "retained_after_4",
        "retained_after_8",
        "retained_after_12",
        "retained_after_26",
    ]) {
        assert!(header.iter().any(|h| h == col), "{col} in {header:?}");
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let g1 = rows
        .iter()
        .find(|r| &r[0] == p.g1.to_string().as_str())
        .unwrap();
    let cell = |name: &str| {
        let i = header.iter().position(|h| h == name).unwrap();
        g1[i].to_string()
    };
    assert_eq!(
        COUNTS.iter().map(|c| cell(c)).collect::<Vec<_>>(),
        ["6", "1", "1", "1", "1", "1", "0", "0", "1", "3"]
    );
    assert_eq!(
        [
            "minimum_term_rate",
            "median_sessions_attended",
            "retained_after_4",
            "retained_after_8"
        ]
        .map(cell),
        ["0.5", "2", "0.4", "0"]
    );
    assert!(r.text.ends_with("\r\n"));

    let events = p.app.audit_actions("report.retention");
    assert_eq!(events.len(), 1);
    let d = &events[0].3;
    assert_eq!(
        (
            d["group_by"].as_str(),
            d["from"].as_str(),
            d["to"].as_str(),
            d["format"].as_str()
        ),
        (
            Some("group"),
            Some("2026-01-01"),
            Some("2026-03-31"),
            Some("csv")
        )
    );
    assert_eq!(events[0].0, Some(p.sup.id));
}

#[derive(QueryableByName)]
struct Held {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Retention counts with `roster::HELD_SINCE_JOIN_LOCAL_SQL` (each session's local date
/// computed once); it must agree with `roster::HELD_SINCE_JOIN_SQL`, also where the UTC date
/// and the group's local date differ.
#[actix_web::test]
async fn both_forms_of_held_since_join_agree() {
    let p = practice().await;
    let ny = fixtures::group(&p.app, p.t1)
        .status("active")
        .schedule(
            "thursday",
            NaiveTime::from_hms_opt(23, 30, 0).unwrap(),
            "America/New_York",
        )
        .create();
    let c = fixtures::contract(&p.app, ny, 1, p.sup.id);
    // signed 2026-03-06 02:00 UTC (joined_on 03-06); the 03-05 23:30 New York session is
    // 03-06 04:30 UTC but dated 03-05 locally, so it precedes the join
    let late = fixtures::active_member(&p.app, ny, c, p.sup.id, at_hm(2026, 3, 6, 2, 0));
    let early = fixtures::active_member(&p.app, ny, c, p.sup.id, at_hm(2026, 3, 1, 2, 0));
    fixtures::exit_member(&p.app, early.0, "dropped_out", at_hm(2026, 3, 13, 12, 0));
    for (n, day) in [(1, 6), (2, 13), (3, 20)] {
        fixtures::session(&p.app, ny, n, at_hm(2026, 3, day, 4, 30), "held");
    }
    let mut conn = p.app.conn();
    let load = |conn: &mut PgConnection, sql: String| -> Vec<(Uuid, i64)> {
        let mut v: Vec<(Uuid, i64)> = diesel::sql_query(sql)
            .load::<Held>(conn)
            .unwrap()
            .into_iter()
            .map(|h| (h.id, h.n))
            .collect();
        v.sort();
        v
    };
    let shared = load(
        &mut conn,
        format!(
            "SELECT m.id, (SELECT count(*) FROM sessions s WHERE {}) AS n \
             FROM memberships m JOIN groups g ON g.id = m.group_id",
            groupwork::roster::HELD_SINCE_JOIN_SQL
        ),
    );
    let set_based = load(
        &mut conn,
        format!(
            "WITH s AS (SELECT s.*, {} AS local_date FROM sessions s JOIN groups g ON g.id = s.group_id) \
             SELECT m.id, count(s.id) AS n FROM memberships m LEFT JOIN s ON {} GROUP BY m.id",
            groupwork::roster::SESSION_LOCAL_DATE_SQL,
            groupwork::roster::HELD_SINCE_JOIN_LOCAL_SQL
        ),
    );
    assert_eq!(shared, set_based);
    let of = |id: Uuid| shared.iter().find(|(m, _)| *m == id).unwrap().1;
    assert_eq!(of(late.0), 2, "the 03-05 (local) session precedes the join");
    assert_eq!(of(early.0), 2, "03-05 and 03-12 local; gone before 03-19");
    assert_eq!(shared.len(), 12);
}

#[actix_web::test]
async fn scale_generator_feeds_both_reports() {
    let app = TestApp::spawn().await;
    // on an empty database: no staff yet
    let url = app.db_url.clone();
    tokio::task::spawn_blocking(move || {
        groupwork::demo::scale::load(&url, 9, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
    })
    .await
    .unwrap()
    .unwrap();
    let admin = app.staff(Role::Admin).await;

    // 9 groups x 100 sessions x 12 = 10,800 rows: more than one cursor batch
    let r = app
        .get(Some(&admin), "/reports/attendance?format=csv")
        .await
        .expect(200);
    let mut reader = csv::ReaderBuilder::new().from_reader(r.text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 10_800);
    assert!(rows.len() > groupwork::reports::stream::BATCH);
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    let mut expected: Vec<String> = diesel::sql_query(
        "SELECT concat_ws(',', g.id, g.name, s.id, s.sequence, (s.scheduled_at AT TIME ZONE g.timezone)::date, \
                c.id, c.first_name || ' ' || c.last_name, a.status, coalesce(a.minutes_late::text, '')) AS line \
         FROM attendance a JOIN sessions s ON s.id = a.session_id JOIN groups g ON g.id = s.group_id \
         JOIN memberships m ON m.id = a.membership_id JOIN clients c ON c.id = m.client_id",
    )
    .load::<Line>(&mut app.conn())
    .unwrap()
    .into_iter()
    .map(|l| l.line)
    .collect();
    let mut got: Vec<String> = rows
        .iter()
        .map(|r| r.iter().collect::<Vec<_>>().join(","))
        .collect();
    let keys: Vec<(String, i64)> = rows
        .iter()
        .map(|r| (r[0].to_string(), r[3].parse().unwrap()))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] <= w[1]),
        "ordered by group, session"
    );
    got.sort();
    expected.sort();
    assert_eq!(
        got, expected,
        "every record, each with its own group and client"
    );

    let r = app
        .get(
            Some(&admin),
            "/reports/attendance?format=csv&deidentified=true",
        )
        .await
        .expect(200);
    assert_eq!(r.text.lines().count(), 10_801);
    assert!(!r.text.contains("Client S"));

    let r = app
        .get(Some(&admin), "/reports/retention?group_by=group")
        .await
        .expect(200);
    let buckets = r.body["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 9);
    for b in buckets {
        // 12 seats + one replacement; seat 12's first holder left
        assert_eq!(b["admitted"], 13);
        assert_eq!(b["still_active"], 12);
        let exited: i64 = [
            "completed",
            "early_exit",
            "dropped_out",
            "discharged",
            "transferred",
        ]
        .iter()
        .map(|k| b[*k].as_i64().unwrap())
        .sum();
        assert_eq!(exited, 1);
        assert_eq!(
            b["retained_after_sessions"][0]["known"].as_i64(),
            Some(13),
            "100 sessions held: everyone's outcome at 4 is known"
        );
    }
}
