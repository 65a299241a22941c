//! ETags from a row's version counter, or from the bytes of a representation that has no
//! counter of its own (an attendance sheet); `If-Match` on writes (SPEC §3).

use actix_web::http::header::{ETAG, IF_MATCH};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::error::{AppError, AppResult};

pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// A strong ETag of a representation: the first 128 bits of the SHA-256 of its bytes, so it
/// changes whenever anything shown changes.
pub fn content_etag(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("\"{}\"", &hex::encode(Sha256::digest(bytes))[..32])
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
        check_if_match(self.0.as_deref(), &etag(current_version))
    }

    /// True when the request carries `If-Match`.
    pub fn is_present(&self) -> bool {
        self.0.is_some()
    }

    /// 412 when `If-Match` is present and names another tag than `current` (`*` matches any).
    pub fn check_tag(&self, current: &str) -> AppResult<()> {
        check_if_match(self.0.as_deref(), current)
    }
}

impl actix_web::FromRequest for IfMatch {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(IfMatch::of(req)))
    }
}

fn check_if_match(value: Option<&str>, current: &str) -> AppResult<()> {
    let Some(value) = value else { return Ok(()) };
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
        let v3 = etag(3);
        assert!(check_if_match(None, &v3).is_ok());
        assert!(check_if_match(Some("\"v3\""), &v3).is_ok());
        assert!(check_if_match(Some("W/\"v3\""), &v3).is_ok());
        assert!(check_if_match(Some("*"), &v3).is_ok());
        assert!(check_if_match(Some("\"v2\""), &v3).is_err());
        assert!(check_if_match(Some("\"v2\", \"v3\""), &v3).is_ok());
        let tag = content_etag(b"sheet");
        assert_eq!(tag.len(), 34);
        assert_ne!(tag, content_etag(b"sheet2"));
        assert!(check_if_match(Some(&tag), &tag).is_ok());
    }
}
