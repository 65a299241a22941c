//! Login throttling held in PostgreSQL (SPEC §3): 5 failures for one account or 20 from one
//! address within 15 minutes answer 429 with `Retry-After`. The window slides; a successful
//! login clears the account's count.

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
