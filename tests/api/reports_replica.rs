//! Issue 18: the report endpoints read from a streaming replica when
//! `GROUPWORK_REPORTS_DATABASE_URL` names one, through a pool of read-only connections; their
//! audit events are still written on the primary.
//!
//! The replica is made by `./dev test` with `pg_basebackup -R` from the private cluster and
//! named in `GROUPWORK_TEST_REPLICA_URL`; without it (e.g. a DATABASE_URL of your own) the
//! replica test says so and passes.

use std::time::{Duration as StdDuration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use groupwork::auth::Role;
use uuid::Uuid;

use crate::fixtures;
use crate::helpers::{TestApp, TestUser};
use crate::reports::at;

/// `url` with its database name replaced by `db`.
fn on_database(url: &str, db: &str) -> String {
    let (prefix, rest) = url.rsplit_once('/').expect("a URL with a database name");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{prefix}/{db}{query}")
}

fn database_of(url: &str) -> String {
    let rest = url.rsplit_once('/').expect("a database name").1;
    rest.split('?').next().unwrap().to_string()
}

fn replica() -> Option<String> {
    std::env::var("GROUPWORK_TEST_REPLICA_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

#[derive(QueryableByName)]
struct Lsn {
    #[diesel(sql_type = Text)]
    lsn: String,
}

#[derive(QueryableByName)]
struct Yes {
    #[diesel(sql_type = Bool)]
    yes: bool,
}

/// Waits until the replica has replayed everything the primary has written so far.
fn caught_up(app: &TestApp, replica_url: &str) {
    // The insert position, not the write position: with synchronous_commit = off (the
    // private cluster), a commit record may still sit in the WAL buffers.
    let Lsn { lsn } = diesel::sql_query("SELECT pg_current_wal_insert_lsn()::text AS lsn")
        .get_result(&mut app.conn())
        .unwrap();
    // Generous: under the whole suite the replica also replays every test's new database.
    let deadline = Instant::now() + StdDuration::from_secs(60);
    loop {
        // The test's database itself appears on the replica once its creation is replayed.
        let replayed = PgConnection::establish(replica_url).ok().and_then(|mut c| {
            diesel::sql_query(format!(
                "SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn AS yes"
            ))
            .get_result::<Yes>(&mut c)
            .ok()
        });
        if replayed.is_some_and(|r| r.yes) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the replica never replayed {lsn}"
        );
        std::thread::sleep(StdDuration::from_millis(50));
    }
}

/// Replay on the replica paused while this lives (resumed on drop, even on a failed assert;
/// `./dev test` also resumes a replay an interrupted run left paused).
struct ReplayPaused(String);

impl ReplayPaused {
    fn new(replica_url: &str) -> Self {
        let mut c = PgConnection::establish(replica_url).unwrap();
        diesel::sql_query("SELECT pg_wal_replay_pause()")
            .execute(&mut c)
            .unwrap();
        ReplayPaused(replica_url.to_string())
    }
}

impl Drop for ReplayPaused {
    fn drop(&mut self) {
        if let Ok(mut c) = PgConnection::establish(&self.0) {
            let _ = diesel::sql_query("SELECT pg_wal_replay_resume()").execute(&mut c);
        }
    }
}

async fn attendance_rows(app: &TestApp, sup: &TestUser, g: Uuid) -> usize {
    let r = app
        .get(
            Some(sup),
            &format!("/reports/attendance?group_id={g}&limit=200"),
        )
        .await
        .expect(200);
    r.body["items"].as_array().unwrap().len()
}

fn write_refused(e: &diesel::result::Error) -> bool {
    e.to_string().contains("read-only transaction")
}

#[actix_web::test]
async fn reports_read_from_the_replica_and_are_audited_on_the_primary() {
    let Some(replica) = replica() else {
        eprintln!(
            "skipped: GROUPWORK_TEST_REPLICA_URL is unset (./dev test makes a replica of its \
             private cluster)"
        );
        return;
    };
    let app = TestApp::spawn_with(|s| {
        s.reports_database_url = Some(on_database(&replica, &database_of(&s.database_url)));
    })
    .await;
    let replica_url = on_database(&replica, &app.db_name);
    let sup = app.staff(Role::Supervisor).await;
    let ther = app.staff(Role::Therapist).await;
    let g = fixtures::group(&app, ther.id).status("active").create();
    let contract = fixtures::contract(&app, g, 1, sup.id);
    let a = fixtures::active_member(&app, g, contract, sup.id, at(2026, 1, 1));
    let b = fixtures::active_member(&app, g, contract, sup.id, at(2026, 1, 1));
    let s1 = fixtures::session(&app, g, 1, at(2026, 3, 2), "held");
    fixtures::attendance(&app, s1, a.0, "present", sup.id);
    fixtures::attendance(&app, s1, b.0, "late", sup.id);

    // The pool is the replica's (once the replica has replayed this test's new database: under
    // the whole suite that can take longer than a pool check-out waits).
    caught_up(&app, &replica_url);
    let in_recovery = app
        .state
        .reports_db
        .read(|c| Ok(diesel::sql_query("SELECT pg_is_in_recovery() AS yes").get_result::<Yes>(c)?))
        .await
        .unwrap();
    assert!(
        in_recovery.yes,
        "GROUPWORK_REPORTS_DATABASE_URL is not a standby"
    );

    // Once replication has caught up, the report has the rows...
    caught_up(&app, &replica_url);
    assert_eq!(attendance_rows(&app, &sup, g).await, 2);
    let csv = app
        .get(
            Some(&sup),
            &format!("/reports/attendance?group_id={g}&format=csv"),
        )
        .await
        .expect(200);
    assert_eq!(csv.text.lines().count(), 1 + 2, "{}", csv.text);
    app.get(Some(&sup), "/reports/retention").await.expect(200);
    // ...and the audit events of those reads are on the primary.
    assert_eq!(app.audit_actions("report.attendance").len(), 2);
    assert_eq!(app.audit_actions("report.retention").len(), 1);

    // It reads the replica, not the primary: with replay paused, a row written on the primary
    // is not in the report until the replica has it.
    {
        let _paused = ReplayPaused::new(&replica_url);
        let s2 = fixtures::session(&app, g, 2, at(2026, 3, 9), "held");
        fixtures::attendance(&app, s2, a.0, "present", sup.id);
        assert_eq!(attendance_rows(&app, &sup, g).await, 2);
    }
    caught_up(&app, &replica_url);
    assert_eq!(attendance_rows(&app, &sup, g).await, 3);

    // A write through the reports' pool is refused.
    let mut conn = app.state.reports_db.pool().get().unwrap();
    let e = diesel::sql_query("UPDATE groups SET name = 'renamed'")
        .execute(&mut conn)
        .unwrap_err();
    assert!(write_refused(&e), "{e}");
    // Even asking for a read-write transaction: the server is a standby.
    let e = conn
        .build_transaction()
        .read_write()
        .run(|c| diesel::sql_query("UPDATE groups SET name = 'renamed'").execute(c))
        .unwrap_err();
    assert!(e.to_string().contains("recovery"), "{e}");
}

#[actix_web::test]
async fn the_reports_pool_refuses_writes_even_on_a_primary() {
    // A misconfigured GROUPWORK_REPORTS_DATABASE_URL naming the primary still cannot write.
    let app = TestApp::spawn_with(|s| s.reports_database_url = Some(s.database_url.clone())).await;
    let sup = app.staff(Role::Supervisor).await;
    app.get(Some(&sup), "/reports/attendance").await.expect(200);
    let e = app
        .state
        .reports_db
        .run(|c| Ok(diesel::sql_query("UPDATE groups SET name = 'renamed'").execute(c)))
        .await
        .unwrap()
        .unwrap_err();
    assert!(write_refused(&e), "{e}");
    assert_eq!(app.audit_actions("report.attendance").len(), 1);
}
