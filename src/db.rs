//! Connection pool, embedded migrations and the one way handlers reach the database:
//! on the blocking pool, one request = one transaction.

use std::time::Duration;

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{AppError, AppResult};

pub mod enums;

pub type PgPool = Pool<ConnectionManager<PgConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How long a request waits for a free connection (or for an unreachable database) before
/// answering 503 rather than hanging.
pub const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug)]
struct SessionSettings {
    read_only: bool,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        // A runaway query must not hold a connection forever; reports raise it locally.
        conn.batch_execute(
            "SET statement_timeout = '30s'; SET lock_timeout = '10s'; SET TIME ZONE 'UTC';",
        )
        .map_err(diesel::r2d2::Error::QueryError)?;
        if self.read_only {
            // Every transaction on this pool is read-only, whatever server the URL names.
            conn.batch_execute("SET default_transaction_read_only = on")
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Initialises OpenSSL (which libpq, built in with it, uses for TLS to the database) without
/// its exit handler. With the handler, `exit()` tears OpenSSL's per-thread state down while
/// other threads — a pool's workers, a blocking task finishing a query — may still be in it,
/// and the process can crash on its way out (seen once at the end of the test binary, in
/// OpenSSL's `init_thread_deregister`). OpenSSL decides this at its first initialisation, so
/// this runs before any connection: at the start of `main`, when a pool is built, before
/// migrations, and first thing in the tests' helpers. Idempotent.
pub fn init_tls() {
    openssl_sys::init();
}

/// Builds the pool without connecting: the service starts (and `/readyz` says 503) even while
/// the database is briefly away.
pub fn build_pool(database_url: &str, size: u32) -> PgPool {
    init_tls();
    pool_builder(size, false).build_unchecked(ConnectionManager::new(database_url))
}

/// A pool whose every transaction is read-only (`default_transaction_read_only`), for the
/// reports' streaming replica (`GROUPWORK_REPORTS_DATABASE_URL`).
pub fn build_read_only_pool(database_url: &str, size: u32) -> PgPool {
    init_tls();
    pool_builder(size, true).build_unchecked(ConnectionManager::new(database_url))
}

fn pool_builder(
    size: u32,
    read_only: bool,
) -> diesel::r2d2::Builder<ConnectionManager<PgConnection>> {
    Pool::builder()
        .max_size(size)
        // r2d2 tests every checked-out connection with a `SELECT 1` by default: one more round
        // trip per request (two where the extractor and the handler each check one out), the
        // price of noticing a dead connection before using it. Instead a connection is used as
        // it is, and one that fails at the connection level is marked broken so the pool drops
        // it (`Db::run`): after a restart of PostgreSQL each pooled connection fails one
        // request with 503 and `Retry-After`, and the next one gets a fresh connection.
        .test_on_check_out(false)
        .min_idle(Some(1.min(size)))
        .connection_timeout(CHECKOUT_TIMEOUT)
        .idle_timeout(Some(Duration::from_secs(300)))
        .connection_customizer(Box::new(SessionSettings { read_only }))
}

/// Runs pending migrations on a fresh connection.
///
/// With nothing pending it changes nothing and needs only to read the migrations table, so
/// `serve` may connect as the least-privileged serving role once the owner has migrated
/// (diesel's own check would first try to create that table, which the serving role may not).
pub fn migrate(database_url: &str) -> anyhow::Result<usize> {
    init_tls();
    let mut conn = PgConnection::establish(database_url)
        .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
    if !pending(&mut conn)? {
        return Ok(0);
    }
    let applied = conn.run_pending_migrations(MIGRATIONS).map_err(|e| {
        anyhow::anyhow!(
            "migrations failed: {e} (migrations run as the schema's owner: give its URL in \
             GROUPWORK_MIGRATION_DATABASE_URL, or run `groupwork migrate` as the owner first)"
        )
    })?;
    Ok(applied.len())
}

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// Whether any embedded migration is not yet applied.
fn pending(conn: &mut PgConnection) -> anyhow::Result<bool> {
    use diesel::migration::MigrationSource;
    use diesel::RunQueryDsl;
    let applied: Vec<Version> =
        match diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load(conn) {
            Ok(v) => v,
            // no migrations table yet (an empty database)
            Err(_) => return Ok(true),
        };
    let applied: std::collections::HashSet<String> =
        applied.into_iter().map(|v| v.version).collect();
    let all = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("embedded migrations unreadable: {e}"))?;
    Ok(all
        .iter()
        .any(|m| !applied.contains(&m.name().version().to_string())))
}

/// The database handle every handler uses.
///
/// Requests wait for a connection in arrival order: r2d2's checkout is not first-come,
/// first-served (a thread that just returned a connection can take it again while another has
/// waited for seconds), which made the long tails under load. So a request first takes a
/// permit from a fair (FIFO) async semaphore with one permit per pooled connection — waiting
/// on the async side, not on a blocking thread — and only then hops to the blocking pool,
/// where a connection is free for it.
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Db {
    pub fn new(pool: PgPool) -> Self {
        let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(pool.max_size() as usize));
        Db { pool, permits }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A turn at a connection, in arrival order: 503 when none frees up within
    /// [`CHECKOUT_TIMEOUT`].
    async fn permit(&self) -> AppResult<tokio::sync::OwnedSemaphorePermit> {
        tokio::time::timeout(CHECKOUT_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| {
                AppError::Unavailable("The database is busy; retry the request shortly.".into())
            })?
            .map_err(|e| AppError::Internal(anyhow::anyhow!("connection permits closed: {e}")))
    }

    /// A connection held beyond one call, for a streamed export: taken in turn like every
    /// other (the permit travels with it and is released when it is dropped), and checked out
    /// before the response starts, so a busy database answers 503 instead of a body cut off
    /// after its first line.
    pub async fn checkout(&self) -> AppResult<HeldConnection> {
        let permit = self.permit().await?;
        let pool = self.pool.clone();
        block_in_span(move || {
            pool.get()
                .map(|conn| HeldConnection {
                    conn,
                    _permit: permit,
                })
                .map_err(AppError::from)
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let permit = self.permit().await?;
        block_in_span(move || {
            let _permit = permit;
            let mut conn = pool.get()?;
            let out = f(&mut conn);
            if matches!(out, Err(AppError::Unavailable(_))) {
                discard_if_lost(&mut conn);
            }
            out
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// Runs `f` in one read-only transaction with one snapshot (`REPEATABLE READ`, which a
    /// hot standby allows), for reads of several statements that must agree, e.g. reports.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| {
            conn.build_transaction()
                .repeatable_read()
                .read_only()
                .run(f)
        })
        .await
    }

    /// Runs `f`, a read that is audited, with its audit events appended in one statement
    /// after it (see `audit::buffer::read_then_append`): two round trips fewer than [`Db::tx`]
    /// (no `BEGIN`, no `COMMIT`), for handlers that change nothing but the audit trail.
    pub async fn audited_read<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| crate::audit::buffer::read_then_append(conn, f))
            .await
    }

    /// Runs `f` inside one transaction: any error rolls back everything it wrote. Its audit
    /// events are appended last, just before the commit (see `audit::buffer`), so the
    /// chain's lock always comes after the transaction's row locks, which follow one order
    /// everywhere: group → session → membership → note → audit chain.
    ///
    /// When PostgreSQL aborts the transaction as a deadlock victim or for a serialization
    /// failure, `f` runs again from the start (a fresh transaction, after a short randomised
    /// pause), at most [`TX_ATTEMPTS`] times in all; only then does the client get 503
    /// `service_unavailable` with `Retry-After`. Hence `f: Clone`: every attempt starts from
    /// the request's own values.
    pub async fn tx<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection) -> AppResult<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| {
            let mut attempt = 1;
            loop {
                let _attempt = tracing::info_span!("tx", attempt).entered();
                match crate::audit::buffer::transaction(conn, f.clone()) {
                    Err(AppError::TxConflict) if attempt < TX_ATTEMPTS => {
                        tracing::info!(attempt, "transaction conflict; running it again");
                        std::thread::sleep(retry_pause(attempt));
                        attempt += 1;
                    }
                    Err(AppError::TxConflict) => {
                        tracing::warn!(
                            attempts = attempt,
                            "transaction conflict outlived its retries"
                        );
                        return Err(AppError::TxConflict);
                    }
                    done => return done,
                }
            }
        })
        .await
    }
}

/// A pooled connection together with its turn (see [`Db::checkout`]).
pub struct HeldConnection {
    conn: diesel::r2d2::PooledConnection<ConnectionManager<PgConnection>>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl std::ops::Deref for HeldConnection {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for HeldConnection {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// With `test_on_check_out(false)` nothing checks a connection before it is used, so one whose
/// server went away (a restart, a terminated backend) must not go back to the pool: when a
/// request failed as unavailable and libpq says the connection is lost (a `SELECT 1` answers
/// only then, on the error path), its transaction manager is marked in error, which is what
/// r2d2's `has_broken` looks at when the connection is returned, and the pool drops it.
fn discard_if_lost(conn: &mut PgConnection) {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    use diesel::RunQueryDsl;
    if diesel::sql_query("SELECT 1").execute(conn).is_err() {
        AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
    }
}

/// Runs `f` on actix's blocking pool inside the caller's tracing span (the request's, opened by
/// `http::middleware::request_context`), so that whatever the transaction logs — a retry, a note
/// that cannot be decrypted — carries the request id of the request it served.
pub async fn block_in_span<T, F>(f: F) -> Result<T, actix_web::error::BlockingError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    web::block(move || span.in_scope(f)).await
}

/// How many times `Db::tx` runs a transaction that keeps losing to concurrent ones.
pub const TX_ATTEMPTS: u32 = 4;

/// 5–15 ms, then 10–30 ms, 20–60 ms: enough for the winner to commit, randomised so that
/// two retrying losers do not meet again in step.
fn retry_pause(attempt: u32) -> Duration {
    use rand::Rng;
    let base = 5u64 << (attempt - 1).min(4);
    Duration::from_millis(base + rand::thread_rng().gen_range(0..=2 * base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_pauses_grow_and_stay_short() {
        for attempt in 1..TX_ATTEMPTS {
            let p = retry_pause(attempt);
            let base = 5u64 << (attempt - 1);
            assert!(
                p >= Duration::from_millis(base) && p <= Duration::from_millis(3 * base),
                "{p:?}"
            );
        }
    }
}

#[cfg(test)]
mod span_tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use tracing::Instrument;

    use super::block_in_span;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What is logged on the blocking pool names the request it serves (the JSON log format
    /// of `serve`: each event lists its spans with their fields).
    #[actix_web::test]
    async fn work_on_the_blocking_pool_logs_under_the_request_span() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .with_writer(move || writer.clone())
            .finish();
        let dispatch = tracing::Dispatch::new(subscriber);
        // Only this test installs a global subscriber in the unit-test binary; blocking threads
        // see the global one, not a thread-local default.
        tracing::dispatcher::set_global_default(dispatch).expect("no other global subscriber");
        let span = tracing::info_span!("request", request_id = "rid-span-check");
        block_in_span(|| {
            let _tx = tracing::info_span!("tx", attempt = 1).entered();
            tracing::info!("inside the transaction");
        })
        .instrument(span)
        .await
        .unwrap();
        let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = out
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|v| v["fields"]["message"] == "inside the transaction")
            .unwrap_or_else(|| panic!("no event logged: {out}"));
        let spans = line["spans"].as_array().expect("the event lists its spans");
        assert_eq!(spans[0]["name"], "request");
        assert_eq!(spans[0]["request_id"], "rid-span-check");
        assert_eq!(spans[1]["name"], "tx");
        assert_eq!(spans[1]["attempt"], 1);
    }
}
