//! Login throttling held in PostgreSQL (SPEC §3 v2), so several instances agree.
//!
//! Failures are counted per (account, address) pair — 5 in 15 minutes — and, for accounts that
//! do not exist, per address — 20 in 15 minutes. A stranger guessing from elsewhere therefore
//! never locks the real user out, and a flood of unknown emails from one address (a clinic's
//! NAT, a reverse proxy) does not lock out the colleagues behind it:
//!
//! - a throttled pair answers 429 at once, whatever the password (known and unknown emails
//!   alike, so the 6th answer tells nothing about whether the account exists);
//! - from an address over its limit for unknown accounts, only a right password for a real
//!   account gets in; every other attempt — an unknown email, or a wrong password for a known
//!   one — answers the same 429 after the same argon2 work, so the limit is no oracle for
//!   which emails exist either.
//!
//! The window slides; a successful login clears its pair's count; attempts refused while their
//! pair is throttled are not counted, nor do attempts refused by the address limit count
//! towards it (so the wait does not grow while someone keeps knocking).
//!
//! An attempt is counted as a failure from the moment it is let through ([`begin`]) until it
//! proves right ([`succeeded`]). The check and that reservation happen under advisory locks on
//! the pair and the address, so a burst of concurrent guesses cannot get more than 5 (20)
//! passwords checked, on one instance or several.
//!
//! The attempted email is stored only as a keyed hash ([`EmailKey`]): the table never holds an
//! address, or a password typed into the email field, in the clear. Rows are pruned after 30
//! days (`crate::housekeeping`).

use chrono::{DateTime, Duration, Utc};
use diesel::dsl::{count_star, max};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::schema::login_attempts;

pub const WINDOW_MINUTES: i64 = 15;
pub const MAX_PAIR_FAILURES: i64 = 5;
pub const MAX_ADDRESS_FAILURES: i64 = 20;

/// Keys the hash of attempted emails; derived from the token secret for this one purpose.
#[derive(Clone)]
pub struct EmailKey([u8; 32]);

impl EmailKey {
    pub fn derive(secret: &[u8]) -> Self {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(b"groupwork login-attempt email v1");
        EmailKey(mac.finalize().into_bytes().into())
    }

    /// HMAC-SHA256 of the email as typed, trimmed and lower-cased.
    pub fn hash(&self, email: &str) -> Vec<u8> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(email.trim().to_lowercase().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// Seconds until fewer than `limit` of these failures (oldest first) remain in the window.
fn wait_for(now: DateTime<Utc>, oldest_first: &[DateTime<Utc>], limit: i64) -> u64 {
    let over = (oldest_first.len() as i64 - limit).max(0) as usize;
    let until = oldest_first.get(over).copied().unwrap_or(now) + Duration::minutes(WINDOW_MINUTES);
    (until - now).num_seconds().max(1) as u64
}

/// Seconds to wait when the (email, address) pair is throttled.
fn pair_wait(conn: &mut PgConnection, email_hash: &[u8], ip: &str) -> QueryResult<Option<u64>> {
    let now = Utc::now();
    let window_start = now - Duration::minutes(WINDOW_MINUTES);
    let pair = login_attempts::table
        .filter(login_attempts::email_hash.eq(email_hash))
        .filter(login_attempts::ip.eq(ip));
    let last_success: Option<DateTime<Utc>> = pair
        .filter(login_attempts::succeeded.eq(true))
        .select(max(login_attempts::attempted_at))
        .first(conn)?;
    let since = last_success.map_or(window_start, |s| s.max(window_start));
    let failures: Vec<DateTime<Utc>> = pair
        .filter(login_attempts::succeeded.eq(false))
        .filter(login_attempts::attempted_at.gt(since))
        .select(login_attempts::attempted_at)
        .order(login_attempts::attempted_at.asc())
        .load(conn)?;
    Ok((failures.len() as i64 >= MAX_PAIR_FAILURES)
        .then(|| wait_for(now, &failures, MAX_PAIR_FAILURES)))
}

/// Seconds to wait when the address is over its limit for unknown accounts.
fn address_wait(conn: &mut PgConnection, ip: &str) -> QueryResult<Option<u64>> {
    let now = Utc::now();
    let window_start = now - Duration::minutes(WINDOW_MINUTES);
    let counted = login_attempts::table
        .filter(login_attempts::ip.eq(ip))
        .filter(login_attempts::counts_for_address.eq(true))
        .filter(login_attempts::succeeded.eq(false))
        .filter(login_attempts::attempted_at.gt(window_start));
    let n: i64 = counted.select(count_star()).first(conn)?;
    if n < MAX_ADDRESS_FAILURES {
        return Ok(None);
    }
    let failures: Vec<DateTime<Utc>> = counted
        .select(login_attempts::attempted_at)
        .order(login_attempts::attempted_at.asc())
        .load(conn)?;
    Ok(Some(wait_for(now, &failures, MAX_ADDRESS_FAILURES)))
}

/// What [`begin`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Go ahead; the attempt (its `login_attempts.id`) counts as a failure until `succeeded`.
    /// With `address_wait`, the address is over its limit for unknown accounts: only a right
    /// password for a real account gets in, anything else answers 429 after this many seconds.
    Open {
        attempt: i64,
        address_wait: Option<u64>,
    },
    /// The pair is throttled: refused at once; retry after this many seconds.
    Throttled(u64),
}

/// Serialises check-and-reserve for one key until the end of the caller's transaction.
fn lock(conn: &mut PgConnection, key: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<diesel::sql_types::Text, _>(key)
        .execute(conn)
        .map(|_| ())
}

/// Checks the limits for this email (as its keyed hash) from this address and, when open,
/// reserves the attempt. `account_exists` says whether the email names an account: only
/// attempts on unknown accounts count towards the address's limit. Must run inside a
/// transaction (the locks last until it ends).
pub fn begin(
    conn: &mut PgConnection,
    email_hash: &[u8],
    ip: &str,
    account_exists: bool,
) -> QueryResult<Gate> {
    // Always the pair first, then the address: two attempts never wait on each other in a
    // cycle.
    lock(
        conn,
        &format!("login-pair:{}:{ip}", hex::encode(email_hash)),
    )?;
    lock(conn, &format!("login-address:{ip}"))?;
    if let Some(wait) = pair_wait(conn, email_hash, ip)? {
        return Ok(Gate::Throttled(wait));
    }
    let address_wait = address_wait(conn, ip)?;
    let attempt = diesel::insert_into(login_attempts::table)
        .values((
            login_attempts::email_hash.eq(email_hash),
            login_attempts::ip.eq(ip),
            login_attempts::succeeded.eq(false),
            login_attempts::counts_for_address.eq(!account_exists && address_wait.is_none()),
        ))
        .returning(login_attempts::id)
        .get_result(conn)?;
    Ok(Gate::Open {
        attempt,
        address_wait,
    })
}

/// The attempt proved right: it no longer counts, and clears its pair's earlier failures.
pub fn succeeded(conn: &mut PgConnection, attempt_id: i64) -> QueryResult<()> {
    diesel::update(login_attempts::table.find(attempt_id))
        .set(login_attempts::succeeded.eq(true))
        .execute(conn)
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_hashed_under_a_derived_key() {
        let key = EmailKey::derive(b"0123456789abcdef0123456789abcdef");
        let h = key.hash(" Jordan@Clinic.test ");
        assert_eq!(h, key.hash("jordan@clinic.test"));
        assert_eq!(h.len(), 32);
        assert_ne!(h, key.hash("jordan@clinic.tes"));
        let other = EmailKey::derive(b"another-secret-another-secret-xx");
        assert_ne!(h, other.hash("jordan@clinic.test"));
    }

    #[test]
    fn the_wait_ends_when_the_count_drops_under_the_limit() {
        let now = Utc::now();
        let at = |m: i64| now - Duration::minutes(m);
        // Exactly at the limit: when the oldest ages out.
        let five = [at(14), at(3), at(2), at(1), at(0)];
        assert!((50..=60).contains(&wait_for(now, &five, 5)));
        // Over it: when enough have aged out.
        let seven = [at(14), at(10), at(9), at(3), at(2), at(1), at(0)];
        let w = wait_for(now, &seven, 5);
        assert!((5 * 60 - 1..=6 * 60).contains(&w), "{w}");
        assert_eq!(wait_for(now, &[at(20)], 1), 1);
    }
}
