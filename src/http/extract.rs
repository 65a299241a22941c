//! Extractors whose failures are problem+json with the offending field named.

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{AppError, ErrorCode, FieldError};

/// Largest request body accepted (SPEC §3).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A JSON body. Syntax errors answer 400; wrong types, unknown enum values, out-of-range
/// numbers and NUL characters answer 422 naming the field.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes
                .await
                .map_err(|e| match e.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => AppError::PayloadTooLarge,
                    _ => AppError::BadRequest("The request body could not be read.".into()),
                })?;
            parse_json(&bytes).map(Json)
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(AppError::PayloadTooLarge);
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::BadRequest(format!("Malformed JSON: {e}.")))?;
    if let Some(path) = find_date_out_of_range(&value, String::new()) {
        return Err(AppError::invalid(path, DATE_RANGE));
    }
    if let Some(path) = find_nul(&value, String::new()) {
        return Err(AppError::unprocessable(
            ErrorCode::ValidationFailed,
            format!("{path}: text must not contain NUL characters"),
            vec![FieldError {
                field: path,
                message: "must not contain NUL characters".into(),
            }],
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = match e.path().to_string() {
            p if p == "." => "body".to_string(),
            p => p,
        };
        let message = e.inner().to_string();
        AppError::unprocessable(
            ErrorCode::ValidationFailed,
            format!("{field}: {message}"),
            vec![FieldError { field, message }],
        )
    })
}

/// Dates and instants are accepted from year 1 to 9999 only (SPEC §3: `YYYY-MM-DD`). chrono
/// would also read `-0001-01-01` or `+10000-01-01`, which PostgreSQL cannot hold: left to the
/// database they would be a 500, or abort a CSV download after its header was sent.
const DATE_RANGE: &str = "must be a date between 0001-01-01 and 9999-12-31";

/// The year of a value that reads as a date or an instant, if it does.
fn date_year(v: &str) -> Option<i32> {
    use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime};
    let first = v.as_bytes().first()?;
    if !(first.is_ascii_digit() || *first == b'+' || *first == b'-') {
        return None;
    }
    v.parse::<NaiveDate>()
        .map(|d| d.year())
        .or_else(|_| v.parse::<DateTime<FixedOffset>>().map(|d| d.year()))
        .or_else(|_| v.parse::<NaiveDateTime>().map(|d| d.year()))
        .ok()
}

fn date_out_of_range(v: &str) -> bool {
    date_year(v).is_some_and(|y| !(1..=9999).contains(&y))
}

fn find_date_out_of_range(value: &Value, path: String) -> Option<String> {
    let at = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(s) if date_out_of_range(s) => {
            Some(if path.is_empty() { "body".into() } else { path })
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            find_date_out_of_range(
                v,
                format!("{}[{i}]", if path.is_empty() { "body" } else { &path }),
            )
        }),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| find_date_out_of_range(v, at(k))),
        _ => None,
    }
}

fn find_nul(value: &Value, path: String) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => {
            Some(if path.is_empty() { "body".into() } else { path })
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            find_nul(
                v,
                format!("{}[{i}]", if path.is_empty() { "body" } else { &path }),
            )
        }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join("<key>"))
            } else {
                find_nul(v, join(k))
            }
        }),
        _ => None,
    }
}

/// A query string. Unknown enum values, bad numbers or dates answer 422 naming the parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

pub fn parse_query<T: DeserializeOwned>(qs: &str) -> Result<T, AppError> {
    if qs.contains("%00") {
        return Err(AppError::invalid(
            "query",
            "must not contain NUL characters",
        ));
    }
    for (key, value) in form_urlencoded::parse(qs.as_bytes()) {
        if date_out_of_range(&value) {
            return Err(AppError::invalid(key.into_owned(), DATE_RANGE));
        }
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(qs.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = match e.path().to_string() {
            p if p == "." => "query".to_string(),
            p => p,
        };
        AppError::invalid(field, e.inner().to_string())
    })
}

/// For PATCH bodies: distinguishes an absent field (`None`) from an explicit `null`
/// (`Some(None)`, which clears the value). Use with
/// `#[serde(default, deserialize_with = "crate::http::extract::nullable")]`.
pub fn nullable<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        size: u8,
    }

    #[test]
    fn syntax_error_is_400() {
        assert!(matches!(
            parse_json::<Body>(b"{bad"),
            Err(AppError::BadRequest(_))
        ));
    }

    #[test]
    fn wrong_type_names_field() {
        match parse_json::<Body>(br#"{"name":"a","size":"x"}"#) {
            Err(AppError::Validation { errors, .. }) => assert_eq!(errors[0].field, "size"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn out_of_range_names_field() {
        match parse_json::<Body>(br#"{"name":"a","size":300}"#) {
            Err(AppError::Validation { errors, .. }) => assert_eq!(errors[0].field, "size"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Window {
        from: Option<chrono::NaiveDate>,
        to: Option<chrono::DateTime<chrono::Utc>>,
    }

    #[test]
    fn dates_outside_years_1_to_9999_name_the_parameter() {
        for (qs, field) in [
            ("from=-0001-01-01", "from"),
            ("from=%2B10000-01-01", "from"),
            ("to=%2B10000-01-01T00:00:00Z", "to"),
            ("from=0000-12-31", "from"),
        ] {
            match parse_query::<Window>(qs) {
                Err(AppError::Validation { errors, .. }) => {
                    assert_eq!(errors[0].field, field, "{qs}")
                }
                other => panic!("{qs}: unexpected {other:?}"),
            }
        }
        assert!(parse_query::<Window>("from=0001-01-01&to=9999-12-31T23:59:59Z").is_ok());
        match parse_json::<Window>(br#"{"from":"+10000-01-01"}"#) {
            Err(AppError::Validation { errors, .. }) => assert_eq!(errors[0].field, "from"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn nul_is_refused() {
        match parse_json::<Body>(br#"{"name":"a\u0000b","size":3}"#) {
            Err(AppError::Validation { errors, .. }) => assert_eq!(errors[0].field, "name"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
