//! Streaming a large query as CSV through a server-side cursor: one connection, one
//! transaction, rows fetched in batches and sent through small bounded channels, so memory
//! stays flat whatever the row count and a slow client slows the query instead of filling RAM.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::PgConnection;
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::db::HeldConnection;
use crate::http::csv::write_record;

/// Rows per `FETCH`: large enough that round trips do not matter, small enough that a batch
/// (and its rendered CSV, about 2 MiB) is a small, fixed amount of memory.
pub const BATCH: usize = 10_000;

/// The cursor every export reads: `FETCH {BATCH} FROM export`.
pub fn fetch_sql() -> String {
    format!("FETCH {BATCH} FROM export")
}

/// How long a download may stall (the client reading nothing) before the export gives up and
/// returns its database connection to the pool.
pub const STALL_LIMIT: Duration = Duration::from_secs(60);

/// Streams `select_sql` (a complete SELECT with literals only, declared as cursor `export`)
/// as a CSV attachment. On one thread, `fetch` reads the next batch from the cursor (and may
/// run side queries on the same connection), `None` when done; on another, `encode` appends
/// the batch's CSV lines to a buffer. The two overlap.
///
/// `conn` was checked out before (`Db::checkout`): a busy database is a 503 before the
/// response starts, never a body cut off after its header line.
///
/// The body ends normally only when every row was fetched and sent. Any other end — a
/// database error, a stalled client, a panic — ends it with an error, which aborts the chunked
/// response: a truncated export never looks complete.
pub fn csv_response<B, F, E>(
    conn: HeldConnection,
    filename: &str,
    header: &[&str],
    select_sql: String,
    mut fetch: F,
    mut encode: E,
) -> HttpResponse
where
    B: Send + 'static,
    F: FnMut(&mut PgConnection) -> QueryResult<Option<B>> + Send + 'static,
    E: FnMut(B, &mut Vec<u8>) + Send + 'static,
{
    // Both channels are small, so a slow client slows the query down instead of filling memory.
    let (batch_tx, mut batch_rx) = tokio::sync::mpsc::channel::<B>(2);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let fetched_all = Arc::new(AtomicBool::new(false));
    let complete = Arc::new(AtomicBool::new(false));
    let fetched = fetched_all.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let mut conn = conn;
        // `run` borrows the connection (it stays `FnMut`, called by reference), so that it
        // and the batch sender it holds outlive the flag set below.
        let mut run = move || -> anyhow::Result<bool> {
            // One snapshot for the cursor and the name look-ups beside it.
            conn.build_transaction()
                .repeatable_read()
                .read_only()
                .run::<_, anyhow::Error, _>(|conn| {
                    // A backstop: the encoder gives up on a stalled client after STALL_LIMIT,
                    // which ends this loop; should anything still leave the transaction idle,
                    // the database ends it.
                    conn.batch_execute(&format!(
                        "SET LOCAL statement_timeout = '120s'; SET LOCAL jit = off; \
                         SET LOCAL idle_in_transaction_session_timeout = '5min'; \
                         DECLARE export NO SCROLL CURSOR FOR {select_sql}"
                    ))?;
                    while let Some(batch) = fetch(conn)? {
                        if batch_tx.blocking_send(batch).is_err() {
                            return Ok(false); // the encoder stopped: client gone or stalled
                        }
                    }
                    Ok(true)
                })
        };
        match run() {
            Ok(all) => fetched.store(all, Ordering::SeqCst),
            Err(e) => tracing::error!(error = %e, "report export failed mid-stream"),
        }
        // `run`, and with it the batch sender, is dropped only now: the encoder sees the
        // channel close after the flag is set.
    });
    let mut head = Vec::new();
    write_record(&mut head, header.iter().copied());
    let done = complete.clone();
    actix_web::rt::task::spawn_blocking(move || {
        if send_within(&tx, Bytes::from(head), STALL_LIMIT).is_err() {
            return;
        }
        while let Some(batch) = batch_rx.blocking_recv() {
            let mut out = Vec::with_capacity(BATCH * 200);
            encode(batch, &mut out);
            if send_within(&tx, Bytes::from(out), STALL_LIMIT).is_err() {
                tracing::warn!("report export abandoned: the client stopped reading");
                return;
            }
        }
        done.store(fetched_all.load(Ordering::SeqCst), Ordering::SeqCst);
    });
    let mut ended = false;
    let body = futures_util::stream::poll_fn(move |cx| {
        if ended {
            return Poll::Ready(None);
        }
        match rx.poll_recv(cx) {
            Poll::Ready(Some(bytes)) => Poll::Ready(Some(Ok(bytes))),
            Poll::Ready(None) => {
                ended = true;
                if complete.load(Ordering::SeqCst) {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Err(std::io::Error::other("export failed"))))
                }
            }
            Poll::Pending => Poll::Pending,
        }
    });
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body)
}

/// Sends on a bounded channel from a blocking thread, giving up after `limit` of a full
/// channel (or at once when the receiver is gone).
fn send_within<T>(tx: &mpsc::Sender<T>, mut value: T, limit: Duration) -> Result<(), ()> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_micros(200);
    loop {
        match tx.try_send(value) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Closed(_)) => return Err(()),
            Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                value = back;
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(10));
            }
            Err(TrySendError::Full(_)) => return Err(()),
        }
    }
}
