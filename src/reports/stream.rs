//! Streaming a large query as CSV through a server-side cursor: one connection, one
//! transaction, rows fetched in batches and sent through a small bounded channel, so memory
//! stays flat whatever the row count and a slow client slows the query instead of filling RAM.

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::PgConnection;

use crate::db::PgPool;
use crate::http::csv::encode_rows;

pub const BATCH: usize = 10_000;

/// Streams `select_sql` (a complete SELECT with literals only) as CSV: `header`, then each
/// row mapped by `cells`.
pub fn csv_response<R, F>(
    pool: PgPool,
    filename: &str,
    header: Vec<&'static str>,
    select_sql: String,
    cells: F,
) -> HttpResponse
where
    R: diesel::QueryableByName<diesel::pg::Pg> + Send + 'static,
    F: Fn(&R) -> Vec<String> + Send + 'static,
{
    // Two stages overlap: one thread fetches batches from the cursor while another encodes the
    // previous batch as CSV. Both channels are small, so a slow client slows the query down
    // instead of filling memory.
    let (rows_tx, mut rows_rx) = tokio::sync::mpsc::channel::<Vec<R>>(2);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let failed = tx.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let run = || -> anyhow::Result<()> {
            let mut conn = pool.get()?;
            conn.transaction::<_, anyhow::Error, _>(|conn| {
                conn.batch_execute(&format!(
                    "SET LOCAL statement_timeout = '120s'; SET LOCAL jit = off; \
                     DECLARE export NO SCROLL CURSOR FOR {select_sql}"
                ))?;
                loop {
                    let rows: Vec<R> = fetch(conn)?;
                    if rows.is_empty() || rows_tx.blocking_send(rows).is_err() {
                        return Ok(()); // done, or the client went away
                    }
                }
            })
        };
        if let Err(e) = run() {
            tracing::error!(error = %e, "report export failed mid-stream");
            let _ = failed.blocking_send(Err(std::io::Error::other("export failed")));
        }
    });
    actix_web::rt::task::spawn_blocking(move || {
        if tx
            .blocking_send(Ok(Bytes::from(encode_rows([header.iter().copied()]))))
            .is_err()
        {
            return;
        }
        while let Some(rows) = rows_rx.blocking_recv() {
            let rendered: Vec<Vec<String>> = rows.iter().map(&cells).collect();
            let bytes = encode_rows(rendered.iter().map(|r| r.iter().map(String::as_str)));
            if tx.blocking_send(Ok(Bytes::from(bytes))).is_err() {
                return;
            }
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body)
}

fn fetch<R: diesel::QueryableByName<diesel::pg::Pg> + 'static>(
    conn: &mut PgConnection,
) -> QueryResult<Vec<R>> {
    diesel::sql_query(format!("FETCH {BATCH} FROM export")).load(conn)
}
