//! Cursor pagination (SPEC §3): `?limit=` 1–200 (default 50), opaque `?cursor=`,
//! answers `{"items": [...], "next_cursor": "…"|null}`.
//!
//! Cursors are keyset positions (the sort key of the last item returned), so rows inserted
//! while a client pages never make an item appear twice or go missing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Validates `limit`; returns the value to use.
pub fn limit(requested: Option<i64>) -> AppResult<i64> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(AppError::invalid("limit", "must be between 1 and 200")),
    }
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

pub fn decode_cursor<K: DeserializeOwned>(cursor: Option<&str>) -> AppResult<Option<K>> {
    let Some(raw) = cursor else { return Ok(None) };
    let bytes = URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| AppError::invalid("cursor", "is not a cursor this service issued"))?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|_| AppError::invalid("cursor", "is not a cursor this service issued"))
}

/// Builds a page from `limit + 1` fetched rows: the extra row only tells that more exist.
pub fn page<R, T, K: Serialize>(
    mut rows: Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> K,
    map: impl FnMut(R) -> T,
) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| encode_cursor(&key(r)))
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(map).collect(),
        next_cursor,
    }
}

/// The common list query parameters.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1–200, default 50
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_bounds() {
        assert_eq!(limit(None).unwrap(), 50);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(201)).is_err());
        assert_eq!(limit(Some(200)).unwrap(), 200);
    }

    #[test]
    fn cursor_round_trip_and_garbage() {
        let c = encode_cursor(&("2026-01-01T00:00:00Z", 7));
        let back: Option<(String, i32)> = decode_cursor(Some(&c)).unwrap();
        assert_eq!(back.unwrap().1, 7);
        assert!(decode_cursor::<(String, i32)>(Some("!!")).is_err());
    }

    #[test]
    fn page_sets_cursor_only_when_more() {
        let p = page(vec![1, 2, 3], 2, |r| *r, |r| r);
        assert_eq!(p.items, vec![1, 2]);
        assert!(p.next_cursor.is_some());
        let p = page(vec![1, 2], 2, |r| *r, |r| r);
        assert!(p.next_cursor.is_none());
    }
}
