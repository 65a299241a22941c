//! ETags from a row's version counter; `If-Match` on PATCH (SPEC §3).

use actix_web::http::header::{ETAG, IF_MATCH};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::error::{AppError, AppResult};

pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// The request's `If-Match` header, read before the work moves to the blocking pool.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<String>);

impl IfMatch {
    pub fn of(req: &HttpRequest) -> Self {
        IfMatch(
            req.headers()
                .get(IF_MATCH)
                .map(|v| v.to_str().unwrap_or("\u{0}").to_string()),
        )
    }

    /// 412 when `If-Match` is present and names another version (`*` matches any).
    pub fn check(&self, current_version: i32) -> AppResult<()> {
        check_if_match(self.0.as_deref(), current_version)
    }
}

impl actix_web::FromRequest for IfMatch {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(IfMatch::of(req)))
    }
}

fn check_if_match(value: Option<&str>, current_version: i32) -> AppResult<()> {
    let Some(value) = value else { return Ok(()) };
    let current = etag(current_version);
    let matches = value
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == current);
    if matches {
        Ok(())
    } else {
        Err(AppError::PreconditionFailed)
    }
}

/// 200 with the body and its ETag.
pub fn ok_with_etag<T: Serialize>(version: i32, body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((ETAG, etag(version)))
        .json(body)
}

/// 201 with the body and its ETag.
pub fn created_with_etag<T: Serialize>(version: i32, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((ETAG, etag(version)))
        .json(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_rules() {
        assert!(check_if_match(None, 3).is_ok());
        assert!(check_if_match(Some("\"v3\""), 3).is_ok());
        assert!(check_if_match(Some("W/\"v3\""), 3).is_ok());
        assert!(check_if_match(Some("*"), 3).is_ok());
        assert!(check_if_match(Some("\"v2\""), 3).is_err());
        assert!(check_if_match(Some("\"v2\", \"v3\""), 3).is_ok());
    }
}
