//! CSV exports (SPEC §5): RFC 4180, UTF-8, a header row, streamed in keyset batches so the
//! server's memory does not grow with the row count, formula injection neutralised.

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use diesel::PgConnection;
use futures_util::stream;

use crate::db::Db;
use crate::error::AppResult;

/// Prefixes cells a spreadsheet would run as a formula (`= + - @`, and tab / carriage return
/// which some spreadsheets strip before looking) with `'`.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Encodes rows as RFC 4180 CSV (CRLF line ends, quotes doubled where needed).
pub fn encode_rows<'a, I, R>(rows: I) -> Vec<u8>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = &'a str>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(8192));
    for row in rows {
        let cells: Vec<std::borrow::Cow<'_, str>> = row.into_iter().map(neutralise).collect();
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(cells.iter().map(|c| c.as_ref()));
    }
    writer.into_inner().unwrap_or_default()
}

/// A streamed CSV attachment: `fetch(conn, after)` returns the next batch of rows after the
/// keyset position `after` (empty when done); `key` gives a row's position; `cells` its values.
pub fn stream_csv<K, R, F, C, G>(
    db: Db,
    filename: &str,
    header: &'static [&'static str],
    fetch: F,
    key: G,
    cells: C,
) -> HttpResponse
where
    K: Clone + Send + 'static,
    R: Send + 'static,
    F: Fn(&mut PgConnection, Option<K>) -> AppResult<Vec<R>> + Clone + Send + Sync + 'static,
    G: Fn(&R) -> K + Clone + 'static,
    C: Fn(&R) -> Vec<String> + Clone + 'static,
{
    enum State<K> {
        Header,
        After(Option<K>),
        Done,
    }
    let body = stream::unfold(State::Header, move |state| {
        let db = db.clone();
        let fetch = fetch.clone();
        let key = key.clone();
        let cells = cells.clone();
        async move {
            match state {
                State::Header => Some((
                    Ok::<_, actix_web::Error>(Bytes::from(encode_rows([header.iter().copied()]))),
                    State::After(None),
                )),
                State::After(after) => {
                    let batch = match db.run(move |conn| fetch(conn, after)).await {
                        Ok(b) => b,
                        Err(e) => {
                            tracing::error!(error = %e, "csv export failed mid-stream");
                            return Some((
                                Err(actix_web::error::ErrorInternalServerError("export failed")),
                                State::Done,
                            ));
                        }
                    };
                    let last = batch.last()?;
                    let next = key(last);
                    let rendered: Vec<Vec<String>> = batch.iter().map(&cells).collect();
                    let bytes = encode_rows(rendered.iter().map(|r| r.iter().map(String::as_str)));
                    Some((Ok(Bytes::from(bytes)), State::After(Some(next))))
                }
                State::Done => None,
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_neutralises() {
        let out = encode_rows([vec![
            "a,b",
            "say \"hi\"",
            "line\nbreak",
            "=SUM(A1)",
            "-3",
            "@x",
            "plain",
        ]]);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\",'=SUM(A1),'-3,'@x,plain\r\n"
        );
    }
}
