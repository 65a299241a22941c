//! Periodic pruning inside `serve` (issue 14): login attempts (keyed email hashes, addresses)
//! older than 30 days, expired refresh tokens and expired password-reset tokens.
//!
//! Safe with several instances: each round takes a transaction-scoped advisory lock with
//! `pg_try_advisory_xact_lock`, so one instance prunes while the others skip that round, and
//! every statement is an idempotent `DELETE … WHERE <older than>` in bounded batches.

use std::time::Duration as StdDuration;

use actix_web::web;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Timestamptz};

use crate::state::AppState;

/// How long login attempts are kept (SPEC §3 needs 15 minutes; 30 days serve investigations).
pub const ATTEMPTS_KEPT_DAYS: i64 = 30;
/// How often `serve` prunes.
pub const EVERY: StdDuration = StdDuration::from_secs(15 * 60);
/// Rows deleted per statement, so no round holds many row locks or a long transaction.
const BATCH: i64 = 5_000;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub login_attempts: usize,
    pub refresh_tokens: usize,
    pub reset_tokens: usize,
    /// Another instance held the lock: this round did nothing.
    pub skipped: bool,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

fn delete_batched(
    conn: &mut PgConnection,
    sql: &str,
    before: chrono::DateTime<Utc>,
) -> QueryResult<usize> {
    let mut total = 0;
    loop {
        let n = diesel::sql_query(sql)
            .bind::<Timestamptz, _>(before)
            .bind::<BigInt, _>(BATCH)
            .execute(conn)?;
        total += n;
        if (n as i64) < BATCH {
            return Ok(total);
        }
    }
}

/// Only one instance prunes at a time; the others skip the round.
const TRY_LOCK_SQL: &str =
    "SELECT pg_try_advisory_xact_lock(hashtextextended('groupwork-housekeeping', 0)) AS locked";

/// One round of pruning (also run by the tests).
pub fn prune(conn: &mut PgConnection) -> QueryResult<Pruned> {
    conn.transaction(|conn| {
        let Locked { locked } = diesel::sql_query(TRY_LOCK_SQL).get_result(conn)?;
        if !locked {
            return Ok(Pruned {
                skipped: true,
                ..Pruned::default()
            });
        }
        let now = Utc::now();
        Ok(Pruned {
            login_attempts: delete_batched(
                conn,
                "DELETE FROM login_attempts WHERE id IN \
                 (SELECT id FROM login_attempts WHERE attempted_at < $1 LIMIT $2)",
                now - Duration::days(ATTEMPTS_KEPT_DAYS),
            )?,
            // An expired refresh token can no longer be rotated, and every access token of its
            // login expired long before (15 minutes against 30 days).
            refresh_tokens: delete_batched(
                conn,
                "DELETE FROM refresh_tokens WHERE id IN \
                 (SELECT id FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)",
                now,
            )?,
            reset_tokens: delete_batched(
                conn,
                "DELETE FROM password_reset_tokens WHERE id IN \
                 (SELECT id FROM password_reset_tokens WHERE expires_at < $1 LIMIT $2)",
                now,
            )?,
            skipped: false,
        })
    })
}

/// Starts pruning every `every` (the first round at once) on the current actix runtime.
pub fn spawn(state: web::Data<AppState>, every: StdDuration) {
    actix_web::rt::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match state.db.run(|conn| Ok(prune(conn)?)).await {
                Ok(p) if !p.skipped => tracing::info!(
                    login_attempts = p.login_attempts,
                    refresh_tokens = p.refresh_tokens,
                    reset_tokens = p.reset_tokens,
                    "pruned"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruning failed; retried next round"),
            }
        }
    });
}
