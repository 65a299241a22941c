//! Issue 15 (10): TLS to PostgreSQL. libpq is built with a vendored OpenSSL (`pq-sys`
//! `bundled`, `openssl-sys` `vendored`) and honours `sslmode` in `DATABASE_URL`; the private
//! test cluster `./dev` provisions serves TLS with a generated self-signed certificate.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::helpers::url_for;

#[derive(QueryableByName)]
struct Ssl {
    #[diesel(sql_type = Bool)]
    ssl: bool,
    #[diesel(sql_type = Text)]
    version: String,
}

/// `DATABASE_URL` (the harness's maintenance database) with `sslmode` set.
fn with_sslmode(mode: &str) -> String {
    let url = url_for("postgres");
    let (base, query) = url.split_once('?').unwrap_or((&url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("sslmode="))
        .collect();
    let mode = format!("sslmode={mode}");
    params.push(&mode);
    format!("{base}?{}", params.join("&"))
}

/// What `pg_stat_ssl` says of this connection's own backend.
fn own_backend(url: &str) -> Ssl {
    let mut conn = PgConnection::establish(url).unwrap_or_else(|e| panic!("connect: {e}"));
    diesel::sql_query(
        "SELECT ssl, coalesce(version, '') AS version FROM pg_stat_ssl \
         WHERE pid = pg_backend_pid()",
    )
    .get_result(&mut conn)
    .unwrap()
}

#[test]
fn sslmode_require_connects_over_tls() {
    let s = own_backend(&with_sslmode("require"));
    assert!(
        s.ssl,
        "sslmode=require gave a connection without TLS (is the server's ssl on? ./dev turns it on)"
    );
    assert!(s.version.starts_with("TLSv1."), "{}", s.version);
}

#[test]
fn sslmode_disable_connects_in_clear() {
    let s = own_backend(&with_sslmode("disable"));
    assert!(!s.ssl, "sslmode=disable must not negotiate TLS");
}
