//! Cursor pagination (SPEC §3): `?limit=` 1–200 (default 50), opaque `?cursor=`,
//! answers `{"items": [...], "next_cursor": "…"|null}`.
//!
//! Cursors are keyset positions (the sort key of the last item returned), so rows inserted
//! while a client pages never make an item appear twice or go missing.
//!
//! (v2) A position holds names and ids (a client's sort key is their name), so it is sealed
//! with AES-256-GCM: nothing in a cursor can be read, and the associated data binds it to the
//! list (the path and its filters) and to the caller, so a cursor that was altered, comes from
//! another list or was issued to someone else is a 422, never a position.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use aes_gcm::aead::{Aead, KeyInit, Payload as AeadPayload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

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

const NOT_OURS: &str = "is not a cursor this service issued for this list";

/// The key that seals cursors, derived from the token secret for this one purpose.
#[derive(Clone)]
pub struct CursorKey(Aes256Gcm);

impl CursorKey {
    pub fn derive(secret: &[u8]) -> Self {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(b"groupwork list cursor v1");
        let key: [u8; 32] = mac.finalize().into_bytes().into();
        CursorKey(Aes256Gcm::new(&key.into()))
    }

    fn seal(&self, binding: &[u8], position: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                AeadPayload {
                    msg: position,
                    aad: binding,
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    fn open(&self, binding: &[u8], raw: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(12);
        self.0
            .decrypt(
                Nonce::from_slice(nonce),
                AeadPayload {
                    msg: sealed,
                    aad: binding,
                },
            )
            .ok()
    }
}

/// The `?cursor=` of a list request, with what it is bound to: the caller (the bearer
/// token's subject) and the list (the path and its filters other than `limit` and `format`).
/// A handler opens it for the position to start after and seals the next page's position.
#[derive(Clone)]
pub struct ListCursor {
    key: CursorKey,
    binding: Vec<u8>,
    raw: Option<String>,
}

impl ListCursor {
    pub fn new(key: CursorKey, caller: Option<Uuid>, list: &str, raw: Option<String>) -> Self {
        let mut binding = b"groupwork cursor v1\0".to_vec();
        binding.extend_from_slice(caller.unwrap_or_default().as_bytes());
        binding.extend_from_slice(list.as_bytes());
        ListCursor { key, binding, raw }
    }

    fn of(req: &HttpRequest) -> AppResult<Self> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("state missing")))?;
        let caller = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .and_then(|(_, token)| state.tokens.verify(token.trim()))
            .map(|claims| claims.sub);
        let mut raw = None;
        let mut filters: Vec<(String, String)> = Vec::new();
        for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
            match k.as_ref() {
                "cursor" => raw = Some(v.into_owned()),
                "limit" | "format" => {}
                _ => filters.push((k.into_owned(), v.into_owned())),
            }
        }
        filters.sort();
        let mut list = req.path().to_string();
        for (k, v) in filters {
            list.push('\0');
            list.push_str(&k);
            list.push('=');
            list.push_str(&v);
        }
        Ok(Self::new(state.cursors.clone(), caller, &list, raw))
    }

    /// The position this request starts after; `None` on the first page.
    pub fn open<K: DeserializeOwned>(&self) -> AppResult<Option<K>> {
        let Some(raw) = self.raw.as_deref() else {
            return Ok(None);
        };
        let bytes = self
            .key
            .open(&self.binding, raw)
            .ok_or_else(|| AppError::invalid("cursor", NOT_OURS))?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| AppError::invalid("cursor", NOT_OURS))
    }

    /// A cursor for the position `key`, for this list and this caller only.
    pub fn seal<K: Serialize>(&self, key: &K) -> String {
        self.key.seal(
            &self.binding,
            &serde_json::to_vec(key).expect("a sort key serialises"),
        )
    }

    /// Builds a page from `limit + 1` fetched rows: the extra row only tells that more exist.
    pub fn page<R, T, K: Serialize>(
        &self,
        mut rows: Vec<R>,
        limit: i64,
        key: impl Fn(&R) -> K,
        map: impl FnMut(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| self.seal(&key(r)))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

impl FromRequest for ListCursor {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Self::of(req))
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

    fn cursor(caller: Uuid, list: &str, raw: Option<String>) -> ListCursor {
        ListCursor::new(CursorKey::derive(&[7; 32]), Some(caller), list, raw)
    }

    #[test]
    fn cursors_are_opaque_and_bound_to_list_and_caller() {
        let me = Uuid::new_v4();
        let c = cursor(me, "/api/v1/clients", None).seal(&("garcia ana", 7));
        assert!(!c.contains("garcia"));
        let decoded = URL_SAFE_NO_PAD.decode(&c).unwrap();
        assert!(
            !String::from_utf8_lossy(&decoded).contains("garcia"),
            "encrypted"
        );
        let back: Option<(String, i32)> = cursor(me, "/api/v1/clients", Some(c.clone()))
            .open()
            .unwrap();
        assert_eq!(back.unwrap(), ("garcia ana".to_string(), 7));
        for (caller, list) in [(Uuid::new_v4(), "/api/v1/clients"), (me, "/api/v1/groups")] {
            assert!(cursor(caller, list, Some(c.clone()))
                .open::<(String, i32)>()
                .is_err());
        }
        let mut tampered = c.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(cursor(me, "/api/v1/clients", Some(tampered))
            .open::<(String, i32)>()
            .is_err());
        for garbage in ["!!", "", "AAAA"] {
            assert!(cursor(me, "/api/v1/clients", Some(garbage.into()))
                .open::<(String, i32)>()
                .is_err());
        }
    }

    #[test]
    fn page_sets_cursor_only_when_more() {
        let c = cursor(Uuid::new_v4(), "/l", None);
        let p = c.page(vec![1, 2, 3], 2, |r| *r, |r| r);
        assert_eq!(p.items, vec![1, 2]);
        assert!(p.next_cursor.is_some());
        let p = c.page(vec![1, 2], 2, |r| *r, |r| r);
        assert!(p.next_cursor.is_none());
    }
}
