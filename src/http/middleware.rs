//! Request ids, one JSON log line per request, the body-size guard, and the security headers
//! every response carries.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError};
use tracing::Instrument;

use crate::error::AppError;
use crate::http::extract::MAX_BODY_BYTES;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the current request: taken from `X-Request-Id` when it is sane, else generated.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Longest client-chosen request id accepted (SPEC §3).
pub const MAX_REQUEST_ID_CHARS: usize = 64;

/// SPEC §3 (v2): 1–64 characters of `[A-Za-z0-9._-]`. Anything else (a `:` or `=` that a
/// spreadsheet or a log parser would read as syntax, spaces, non-ASCII) is replaced by a
/// generated id, since the value is written verbatim into the audit trail and the logs.
pub fn acceptable_request_id(v: &str) -> bool {
    (1..=MAX_REQUEST_ID_CHARS).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Outermost middleware: assigns the request id, answers 413 for oversized declared bodies,
/// logs method, path template, status and latency (never bodies, never query strings, which
/// may carry names), and echoes the id.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    // Everything logged while the request is served — on the blocking pool too, see
    // `db::block_in_span` — lists this span, hence the request id.
    let span = tracing::info_span!("request", request_id = %request_id, method = %method);

    let declared_len = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut res: ServiceResponse<BoxBody> = match declared_len {
        Some(n) if n > MAX_BODY_BYTES as u64 => {
            let (http_req, _) = req.into_parts();
            ServiceResponse::new(http_req, AppError::PayloadTooLarge.error_response())
        }
        _ => match next.call(req).instrument(span).await {
            Ok(res) => res.map_into_boxed_body(),
            Err(e) => {
                // Errors from inner middleware still become problem+json responses below.
                return Err(e);
            }
        },
    };

    let path = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "<unmatched>".to_string());
    let status = res.status().as_u16();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    tracing::info!(
        target: "groupwork::request",
        request_id = %request_id,
        method = %method,
        path = %path,
        status,
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    Ok(res)
}

/// SPEC §3 (v2): every `/api/v1` response — JSON, problem+json, CSV downloads — is never
/// cached (patient data must not linger in a browser's or proxy's cache), never sniffed and
/// never leaks its URL as a referrer; every response at all refuses to be framed.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let api = req.path() == "/api/v1" || req.path().starts_with("/api/v1/");
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if api {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::acceptable_request_id;

    #[test]
    fn request_ids_are_short_and_plain() {
        for ok in [
            "a",
            "req-1.2_3",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(acceptable_request_id(ok), "{ok}");
        }
        for bad in [
            "",
            "-cmd:calc",
            "=1+1",
            "a b",
            "a/b",
            "é",
            "x\n",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
        ] {
            assert!(!acceptable_request_id(bad), "{bad}");
        }
    }
}
