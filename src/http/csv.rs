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

/// A cell that is a plain non-negative decimal number (`12`, `0.75`): the only cells written
/// without quotes. Anything else — names, ids, dates, `inf`, `-3` — is text.
pub fn is_number(cell: &str) -> bool {
    let mut parts = cell.splitn(2, '.');
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    parts.next().is_some_and(digits) && parts.next().is_none_or(digits)
}

/// Appends one text cell: neutralised (SPEC §5), then always quoted (RFC 4180, quotes
/// doubled) so that no separator of any locale inside it — `,` `;` tab — can split it and
/// start a formula in the next cell (SPEC §5 v2).
pub fn write_cell(out: &mut Vec<u8>, cell: &str) {
    let cell = neutralise(cell);
    let mut input = cell.as_bytes();
    out.push(b'"');
    let mut buf = [0u8; 1024];
    loop {
        let (result, read, written) = csv_core::quote(input, &mut buf, b'"', b'"', true);
        out.extend_from_slice(&buf[..written]);
        input = &input[read..];
        if matches!(result, csv_core::WriteResult::InputEmpty) {
            break;
        }
    }
    out.push(b'"');
}

/// Appends one cell: a number as is, anything else as a quoted text cell.
pub fn write_any(out: &mut Vec<u8>, cell: &str) {
    if is_number(cell) {
        out.extend_from_slice(cell.as_bytes());
    } else {
        write_cell(out, cell);
    }
}

/// Appends a whole record (cells separated by commas, CRLF at the end). Every CSV this
/// service writes — header rows included — goes through here or `write_cell`.
pub fn write_record<'a>(out: &mut Vec<u8>, cells: impl IntoIterator<Item = &'a str>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_any(out, cell);
    }
    out.extend_from_slice(b"\r\n");
}

/// Encodes rows as RFC 4180 CSV (CRLF line ends, text quoted, quotes doubled).
pub fn encode_rows<'a, I, R>(rows: I) -> Vec<u8>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = &'a str>,
{
    let mut out = Vec::with_capacity(8192);
    for row in rows {
        write_record(&mut out, row);
    }
    out
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
    fn quotes_every_text_cell_and_neutralises() {
        let out = encode_rows([vec![
            "a,b",
            "say \"hi\"",
            "line\nbreak",
            "=SUM(A1)",
            "-3",
            "@x",
            "plain",
            "Ann;=1+2",
            "",
            "12",
            "0.75",
            "inf",
        ]]);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\",\"'=SUM(A1)\",\"'-3\",\"'@x\",\"plain\",\
             \"Ann;=1+2\",\"\",12,0.75,\"inf\"\r\n"
        );
    }

    #[test]
    fn numbers_are_plain_decimals_only() {
        for n in ["0", "12", "0.75", "100.0"] {
            assert!(is_number(n), "{n}");
        }
        for t in [
            "", ".5", "5.", "-1", "1e5", "NaN", "inf", "1.2.3", "12a", " 1",
        ] {
            assert!(!is_number(t), "{t}");
        }
    }

    #[test]
    fn long_cells_with_many_quotes_survive() {
        let cell = "\"".repeat(3000);
        let mut out = Vec::new();
        write_cell(&mut out, &cell);
        assert_eq!(out.len(), 6002);
    }
}
