//! Issue 14 point 5: login attempts (keyed email hashes, addresses) older than 30 days,
//! expired refresh tokens and expired reset tokens are pruned by a periodic task inside
//! `serve`, one instance at a time.

use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use diesel::prelude::*;
use groupwork::auth::Role;
use groupwork::housekeeping;
use groupwork::schema::{login_attempts as la, password_reset_tokens as prt, refresh_tokens as rt};
use serde_json::json;

use crate::auth::{login, pair, with_token};
use crate::helpers::{TestApp, PASSWORD};

fn count_attempts(app: &TestApp) -> i64 {
    la::table.count().get_result(&mut app.conn()).unwrap()
}

#[actix_web::test]
async fn the_periodic_task_prunes_what_has_served_its_time() {
    let app = TestApp::spawn().await;
    let admin = app.staff(Role::Admin).await;
    let u = app.staff(Role::Therapist).await;
    for i in 0..3 {
        login(&app, &format!("old{i}@clinic.test"), "wrong-password-wrong")
            .await
            .expect_problem(401, "unauthorized");
    }
    // Those three happened 31 days ago; the next two are recent.
    diesel::update(la::table)
        .set(la::attempted_at.eq(la::attempted_at - Duration::days(31)))
        .execute(&mut app.conn())
        .unwrap();
    login(&app, "recent@clinic.test", "wrong-password-wrong")
        .await
        .expect_problem(401, "unauthorized");
    let (old_access, old_refresh) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    let (_, live_refresh) = pair(&login(&app, &u.email, PASSWORD).await.expect(200));
    app.post(
        Some(&with_token(&u, &old_access)),
        "/auth/logout",
        json!({"refresh_token": old_refresh}),
    )
    .await
    .expect(204);
    // The logged-out login's token has also expired; the other login's has not.
    let old_family: uuid::Uuid = rt::table
        .filter(rt::revoked_at.is_not_null())
        .select(rt::family_id)
        .first(&mut app.conn())
        .unwrap();
    diesel::update(rt::table.filter(rt::family_id.eq(old_family)))
        .set(rt::expires_at.eq(Utc::now() - Duration::seconds(1)))
        .execute(&mut app.conn())
        .unwrap();
    for _ in 0..2 {
        app.post(
            Some(&admin),
            &format!("/users/{}/password-reset", u.id),
            json!({}),
        )
        .await
        .expect(200);
    }
    diesel::update(prt::table.filter(prt::revoked_at.is_not_null()))
        .set(prt::expires_at.eq(Utc::now() - Duration::hours(1)))
        .execute(&mut app.conn())
        .unwrap();
    assert_eq!(count_attempts(&app), 6);

    // What `serve` starts, here with a short period.
    housekeeping::spawn(app.state.clone(), StdDuration::from_millis(50));
    let deadline = Instant::now() + StdDuration::from_secs(20);
    while count_attempts(&app) != 3 {
        assert!(Instant::now() < deadline, "nothing pruned");
        actix_web::rt::time::sleep(StdDuration::from_millis(50)).await;
    }
    // Recent attempts stay (the throttle needs 15 minutes of them).
    let left: Vec<bool> = la::table
        .select(la::succeeded)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(left.len(), 3);
    let deadline = Instant::now() + StdDuration::from_secs(20);
    loop {
        let families: Vec<uuid::Uuid> = rt::table
            .select(rt::family_id)
            .load(&mut app.conn())
            .unwrap();
        let resets: i64 = prt::table.count().get_result(&mut app.conn()).unwrap();
        if !families.contains(&old_family) && resets == 1 {
            assert_eq!(families.len(), 1, "the live login's token stays");
            break;
        }
        assert!(Instant::now() < deadline, "tokens not pruned");
        actix_web::rt::time::sleep(StdDuration::from_millis(50)).await;
    }
    // The live login keeps working; the pruned one stays dead.
    app.post(
        None,
        "/auth/refresh",
        json!({"refresh_token": live_refresh}),
    )
    .await
    .expect(200);
    app.post(None, "/auth/refresh", json!({"refresh_token": old_refresh}))
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn one_instance_prunes_at_a_time() {
    let app = TestApp::spawn().await;
    login(&app, "old@clinic.test", "wrong-password-wrong")
        .await
        .expect_problem(401, "unauthorized");
    diesel::update(la::table)
        .set(la::attempted_at.eq(la::attempted_at - Duration::days(31)))
        .execute(&mut app.conn())
        .unwrap();
    // Another instance is pruning (it holds the lock in its transaction): this one skips.
    let mut other = app.conn();
    other
        .transaction::<_, diesel::result::Error, _>(|other| {
            diesel::sql_query(
                "SELECT pg_advisory_xact_lock(hashtextextended('groupwork-housekeeping', 0))",
            )
            .execute(other)?;
            let round = housekeeping::prune(&mut app.conn())?;
            assert!(round.skipped);
            assert_eq!(round.login_attempts, 0);
            Ok(())
        })
        .unwrap();
    assert_eq!(count_attempts(&app), 1);
    // Rounds racing each other on two connections both succeed; the row goes once.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| housekeeping::prune(&mut app.conn()).unwrap());
        let b = s.spawn(|| housekeeping::prune(&mut app.conn()).unwrap());
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(a.login_attempts + b.login_attempts, 1);
    assert_eq!(count_attempts(&app), 0);
    // Nothing left to do is no error.
    let again = housekeeping::prune(&mut app.conn()).unwrap();
    assert_eq!(again.login_attempts, 0);
}
