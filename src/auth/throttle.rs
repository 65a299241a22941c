//! Login throttling held in PostgreSQL (SPEC §3): 5 failures for one account or 20 from one
//! address within 15 minutes answer 429 with `Retry-After`. The window slides; a successful
//! login clears the account's count; attempts refused while throttled are not counted.
//!
//! An attempt is counted as a failure from the moment it is let through ([`begin`]) until it
//! proves right ([`succeeded`]). The check and that reservation happen under advisory locks on
//! the account and the address, so a burst of concurrent guesses cannot get more than 5 (20)
//! passwords checked, on one instance or several.

use chrono::{DateTime, Duration, Utc};
use diesel::dsl::{count_star, max, min};
use diesel::prelude::*;

use crate::schema::login_attempts;

pub const WINDOW_MINUTES: i64 = 15;
pub const MAX_ACCOUNT_FAILURES: i64 = 5;
pub const MAX_ADDRESS_FAILURES: i64 = 20;

/// Seconds to wait, when throttled.
pub fn retry_after(
    conn: &mut PgConnection,
    email_lower: &str,
    ip: &str,
) -> QueryResult<Option<u64>> {
    let now = Utc::now();
    let window_start = now - Duration::minutes(WINDOW_MINUTES);

    let last_success: Option<DateTime<Utc>> = login_attempts::table
        .filter(login_attempts::email_lower.eq(email_lower))
        .filter(login_attempts::succeeded.eq(true))
        .select(max(login_attempts::attempted_at))
        .first(conn)?;
    let account_since = last_success.map_or(window_start, |s| s.max(window_start));
    let (account_failures, account_oldest): (i64, Option<DateTime<Utc>>) = login_attempts::table
        .filter(login_attempts::email_lower.eq(email_lower))
        .filter(login_attempts::succeeded.eq(false))
        .filter(login_attempts::attempted_at.gt(account_since))
        .select((count_star(), min(login_attempts::attempted_at)))
        .first(conn)?;
    let (address_failures, address_oldest): (i64, Option<DateTime<Utc>>) = login_attempts::table
        .filter(login_attempts::ip.eq(ip))
        .filter(login_attempts::succeeded.eq(false))
        .filter(login_attempts::attempted_at.gt(window_start))
        .select((count_star(), min(login_attempts::attempted_at)))
        .first(conn)?;

    let wait = |oldest: Option<DateTime<Utc>>| {
        let until = oldest.unwrap_or(now) + Duration::minutes(WINDOW_MINUTES);
        (until - now).num_seconds().max(1) as u64
    };
    Ok(if account_failures >= MAX_ACCOUNT_FAILURES {
        Some(wait(account_oldest))
    } else if address_failures >= MAX_ADDRESS_FAILURES {
        Some(wait(address_oldest))
    } else {
        None
    })
}

/// What [`begin`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Go ahead; the attempt (its `login_attempts.id`) counts as a failure until `succeeded`.
    Open(i64),
    /// Refused; retry after this many seconds.
    Throttled(u64),
}

/// Serialises check-and-reserve for one key until the end of the caller's transaction.
fn lock(conn: &mut PgConnection, key: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<diesel::sql_types::Text, _>(key)
        .execute(conn)
        .map(|_| ())
}

/// Checks the limits for this account and address and, when open, reserves the attempt.
/// Must run inside a transaction (the locks last until it ends).
pub fn begin(conn: &mut PgConnection, email_lower: &str, ip: &str) -> QueryResult<Gate> {
    // Always account first, then address: two attempts never wait on each other in a cycle.
    lock(conn, &format!("login-account:{email_lower}"))?;
    lock(conn, &format!("login-address:{ip}"))?;
    if let Some(wait) = retry_after(conn, email_lower, ip)? {
        return Ok(Gate::Throttled(wait));
    }
    let id = diesel::insert_into(login_attempts::table)
        .values((
            login_attempts::email_lower.eq(email_lower),
            login_attempts::ip.eq(ip),
            login_attempts::succeeded.eq(false),
        ))
        .returning(login_attempts::id)
        .get_result(conn)?;
    Ok(Gate::Open(id))
}

/// The attempt proved right: it no longer counts, and clears the account's earlier failures.
pub fn succeeded(conn: &mut PgConnection, attempt_id: i64) -> QueryResult<()> {
    diesel::update(login_attempts::table.find(attempt_id))
        .set(login_attempts::succeeded.eq(true))
        .execute(conn)
        .map(|_| ())
}

/// Records a finished attempt in one step (for callers that need no reservation).
pub fn record(
    conn: &mut PgConnection,
    email_lower: &str,
    ip: &str,
    succeeded: bool,
) -> QueryResult<()> {
    diesel::insert_into(login_attempts::table)
        .values((
            login_attempts::email_lower.eq(email_lower),
            login_attempts::ip.eq(ip),
            login_attempts::succeeded.eq(succeeded),
        ))
        .execute(conn)
        .map(|_| ())
}
