//! Issue 13 item 3: database errors are classified by SQLSTATE (not message text), each
//! with its answer. Real deadlocks and timeouts are provoked on two connections; the other
//! classes come from real constraint and range errors, and every code from a `RAISE` with
//! exactly that SQLSTATE.

use std::sync::{Arc, Barrier};

use actix_web::ResponseError;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use groupwork::error::{AppError, ErrorCode};
use groupwork::sqlstate::{sqlstate, DbFailure};

use crate::helpers::TestApp;

fn code_of(e: &DieselError) -> Option<String> {
    match e {
        DieselError::DatabaseError(_, info) => sqlstate(info.as_ref()),
        _ => None,
    }
}

/// The SQLSTATE, the class and the (status, code) the API answers for an error.
fn answer(e: DieselError) -> (Option<String>, Option<DbFailure>, u16, ErrorCode) {
    let code = code_of(&e);
    let class = DbFailure::of(&e);
    let app: AppError = e.into();
    (code, class, app.status_code().as_u16(), app.code())
}

fn fail(conn: &mut PgConnection, sql: &str) -> DieselError {
    diesel::sql_query(sql)
        .execute(conn)
        .expect_err("the statement fails")
}

#[actix_web::test]
async fn every_class_has_its_status_and_code() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    for (sqlstate, class, status, code) in [
        (
            "40P01",
            DbFailure::Deadlock,
            503,
            ErrorCode::ServiceUnavailable,
        ),
        (
            "40001",
            DbFailure::Serialization,
            503,
            ErrorCode::ServiceUnavailable,
        ),
        (
            "55P03",
            DbFailure::LockTimeout,
            503,
            ErrorCode::ServiceUnavailable,
        ),
        (
            "57014",
            DbFailure::StatementTimeout,
            503,
            ErrorCode::ServiceUnavailable,
        ),
        (
            "23505",
            DbFailure::UniqueViolation,
            409,
            ErrorCode::Conflict,
        ),
        (
            "23P01",
            DbFailure::ExclusionViolation,
            409,
            ErrorCode::Conflict,
        ),
        (
            "23503",
            DbFailure::ForeignKeyViolation,
            422,
            ErrorCode::ValidationFailed,
        ),
        (
            "23514",
            DbFailure::CheckViolation,
            422,
            ErrorCode::ValidationFailed,
        ),
        (
            "23502",
            DbFailure::NotNullViolation,
            422,
            ErrorCode::ValidationFailed,
        ),
        (
            "22003",
            DbFailure::DataException,
            422,
            ErrorCode::ValidationFailed,
        ),
        (
            "22008",
            DbFailure::DataException,
            422,
            ErrorCode::ValidationFailed,
        ),
        (
            "22P02",
            DbFailure::DataException,
            422,
            ErrorCode::ValidationFailed,
        ),
        (
            "53300",
            DbFailure::Unavailable,
            503,
            ErrorCode::ServiceUnavailable,
        ),
        (
            "57P01",
            DbFailure::Unavailable,
            503,
            ErrorCode::ServiceUnavailable,
        ),
        (
            "25006",
            DbFailure::Unavailable,
            503,
            ErrorCode::ServiceUnavailable,
        ),
        ("42P01", DbFailure::Other, 500, ErrorCode::InternalError),
        ("XX000", DbFailure::Other, 500, ErrorCode::InternalError),
    ] {
        // The message says nothing of the class: only the SQLSTATE can tell.
        let e = fail(
            &mut conn,
            &format!("DO $$ BEGIN RAISE EXCEPTION 'boom' USING ERRCODE = '{sqlstate}'; END $$"),
        );
        assert_eq!(
            answer(e),
            (Some(sqlstate.to_string()), Some(class), status, code),
            "{sqlstate}"
        );
    }
}

#[actix_web::test]
async fn real_constraint_and_range_errors() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    conn.batch_execute(
        "CREATE TABLE t_parent (id int PRIMARY KEY);
         CREATE TABLE t_child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES t_parent,
                               n int CHECK (n > 0));",
    )
    .unwrap();
    diesel::sql_query("INSERT INTO t_parent VALUES (1)")
        .execute(&mut conn)
        .unwrap();
    let e = fail(&mut conn, "INSERT INTO t_child VALUES (1, 2, 1)");
    assert_eq!(
        answer(e),
        (
            Some("23503".into()),
            Some(DbFailure::ForeignKeyViolation),
            422,
            ErrorCode::ValidationFailed
        )
    );
    // The field comes from the constraint (`t_child_parent_id_fkey`).
    match AppError::from(fail(&mut conn, "INSERT INTO t_child VALUES (1, 2, 1)")) {
        AppError::Validation { errors, .. } => assert_eq!(errors[0].field, "parent_id"),
        other => panic!("unexpected {other:?}"),
    }
    let e = fail(&mut conn, "INSERT INTO t_child VALUES (1, 1, 0)");
    assert_eq!(answer(e).0.as_deref(), Some("23514"));
    let e = fail(&mut conn, "INSERT INTO t_parent VALUES (1)");
    assert_eq!(answer(e).2, 409);
    let e = fail(&mut conn, "SELECT 2147483647::int + 1");
    assert_eq!(
        answer(e),
        (
            Some("22003".into()),
            Some(DbFailure::DataException),
            422,
            ErrorCode::ValidationFailed
        )
    );
    let e = fail(&mut conn, "SELECT make_date(2026, 13, 1)");
    assert_eq!(answer(e).0.as_deref(), Some("22008"));
    let e = fail(&mut conn, "SELECT * FROM no_such_table");
    assert_eq!(answer(e).2, 500, "a defect stays a 500");
}

#[actix_web::test]
async fn real_timeouts_and_deadlock() {
    let app = TestApp::spawn().await;
    let mut setup = app.conn();
    setup
        .batch_execute(
            "CREATE TABLE t_lock (id int PRIMARY KEY, v int);
             INSERT INTO t_lock VALUES (1, 0), (2, 0);",
        )
        .unwrap();

    // Statement timeout.
    let mut conn = app.conn();
    diesel::sql_query("SET statement_timeout = '50ms'")
        .execute(&mut conn)
        .unwrap();
    let e = fail(&mut conn, "SELECT pg_sleep(2)");
    assert_eq!(
        answer(e),
        (
            Some("57014".into()),
            Some(DbFailure::StatementTimeout),
            503,
            ErrorCode::ServiceUnavailable
        )
    );

    // Lock timeout: one connection holds the row, the other gives up waiting.
    let mut holder = app.conn();
    let mut waiter = app.conn();
    holder
        .transaction::<_, DieselError, _>(|holder| {
            diesel::sql_query("SELECT v FROM t_lock WHERE id = 1 FOR UPDATE").execute(holder)?;
            diesel::sql_query("SET lock_timeout = '50ms'").execute(&mut waiter)?;
            let e = fail(&mut waiter, "SELECT v FROM t_lock WHERE id = 1 FOR UPDATE");
            assert_eq!(
                answer(e),
                (
                    Some("55P03".into()),
                    Some(DbFailure::LockTimeout),
                    503,
                    ErrorCode::ServiceUnavailable
                )
            );
            Ok(())
        })
        .unwrap();

    // A real deadlock: two transactions lock the two rows in opposite orders.
    let barrier = Arc::new(Barrier::new(2));
    let run = |first: i32, second: i32| {
        let barrier = barrier.clone();
        let url = app.db_url.clone();
        std::thread::spawn(move || {
            let mut conn = PgConnection::establish(&url).unwrap();
            conn.transaction::<_, DieselError, _>(|conn| {
                diesel::sql_query(format!("UPDATE t_lock SET v = v + 1 WHERE id = {first}"))
                    .execute(conn)?;
                barrier.wait();
                diesel::sql_query(format!("UPDATE t_lock SET v = v + 1 WHERE id = {second}"))
                    .execute(conn)?;
                Ok(())
            })
            .err()
            .map(answer)
        })
    };
    let a = run(1, 2);
    let b = run(2, 1);
    let outcomes: Vec<_> = [a.join().unwrap(), b.join().unwrap()]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(
        outcomes,
        vec![(
            Some("40P01".into()),
            Some(DbFailure::Deadlock),
            503,
            ErrorCode::ServiceUnavailable
        )],
        "exactly one side is aborted as the deadlock victim"
    );
}

/// Issue 18: the pool no longer runs `SELECT 1` on every checkout, so a connection whose
/// backend is gone is found out by the request that uses it. That request is answered 503 with
/// `Retry-After`, the dead connection is dropped, and the next request gets a fresh one.
#[actix_web::test]
async fn a_lost_pooled_connection_fails_one_request_and_is_replaced() {
    let app = TestApp::spawn_with(|s| s.pool_size = 1).await;
    let admin = app.staff(groupwork::auth::Role::Admin).await;
    app.get(Some(&admin), "/me").await.expect(200);
    let mut other = app.conn();
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut other)
    .unwrap();
    let first = app.get(Some(&admin), "/me").await;
    assert!(
        first.status == 200 || first.status == 503,
        "{}: {}",
        first.status,
        first.text
    );
    if first.status == 503 {
        assert!(first.header("retry-after").is_some());
    }
    for _ in 0..3 {
        app.get(Some(&admin), "/me").await.expect(200);
    }
}
