//! Access tokens (JWT, HS256 pinned, 15 minutes) and opaque refresh tokens (256-bit random,
//! stored as SHA-256 only).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const ACCESS_TTL_SECS: i64 = 15 * 60;
pub const REFRESH_TTL_DAYS: i64 = 30;
pub const ISSUER: &str = "groupwork";
pub const AUDIENCE: &str = "groupwork-api";
/// Clock skew tolerated on `exp` (the issue allows at most 5 s).
pub const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: String,
    /// The user's token version when issued; a mismatch means the token was revoked.
    pub ver: i32,
    /// The login (session) this token belongs to: its refresh-token family. When that family
    /// is revoked (logout, refresh-token reuse), the access tokens of the login die with it.
    pub sid: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// An access token of the login `sid` (the refresh-token family it was issued with).
    pub fn issue(
        &self,
        user_id: Uuid,
        role: &str,
        token_version: i32,
        sid: Uuid,
    ) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            role: role.to_string(),
            ver: token_version,
            sid,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + ACCESS_TTL_SECS,
            jti: Uuid::new_v4(),
        };
        Ok(encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Verifies signature (HS256 only), `iss`, `aud` and `exp` (required).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        decode::<Claims>(token, &self.decoding, &validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// A new refresh token and the hash to store.
pub fn new_refresh_token() -> (String, Vec<u8>) {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

pub fn hash_refresh_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_key() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let id = Uuid::new_v4();
        let sid = Uuid::new_v4();
        let t = keys.issue(id, "admin", 3, sid).unwrap();
        let c = keys.verify(&t).unwrap();
        assert_eq!((c.sub, c.ver, c.sid), (id, 3, sid));
        let other = TokenKeys::new(b"another-secret-another-secret-xx");
        assert!(other.verify(&t).is_none());
    }

    fn signed(claims: &serde_json::Value, alg: Algorithm, key: &[u8]) -> String {
        encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
    }

    #[test]
    fn expiry_has_a_leeway_of_at_most_five_seconds() {
        let key = b"0123456789abcdef0123456789abcdef";
        let keys = TokenKeys::new(key);
        let now = Utc::now().timestamp();
        let claims = |exp: Option<i64>| {
            let mut c = serde_json::json!({"sub": Uuid::new_v4(), "role": "admin", "ver": 0, "sid": Uuid::new_v4(),
                "iss": ISSUER, "aud": AUDIENCE, "iat": now - 900, "jti": Uuid::new_v4()});
            if let Some(exp) = exp {
                c["exp"] = exp.into();
            }
            c
        };
        // 2 s past expiry: inside the leeway (this test takes far less than 3 s).
        assert!(keys
            .verify(&signed(&claims(Some(now - 2)), Algorithm::HS256, key))
            .is_some());
        // 6 s past: beyond any leeway of at most 5 s, whenever the test runs.
        assert!(keys
            .verify(&signed(&claims(Some(now - 6)), Algorithm::HS256, key))
            .is_none());
        assert!(
            keys.verify(&signed(&claims(None), Algorithm::HS256, key))
                .is_none(),
            "exp is required"
        );
        const { assert!(LEEWAY_SECS <= 5) };
    }

    #[test]
    fn only_hs256_is_accepted() {
        let key = b"0123456789abcdef0123456789abcdef";
        let keys = TokenKeys::new(key);
        let t = keys
            .issue(Uuid::new_v4(), "admin", 0, Uuid::new_v4())
            .unwrap();
        let (_, rest) = t.split_once('.').unwrap();
        let (payload, _) = rest.split_once('.').unwrap();
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"alg":"None","typ":"JWT"}"#,
            r#"{"alg":"HS512","typ":"JWT"}"#,
        ] {
            let h = URL_SAFE_NO_PAD.encode(header);
            assert!(
                keys.verify(&format!("{h}.{payload}.")).is_none(),
                "{header}"
            );
        }
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert!(keys
            .verify(&signed(&claims, Algorithm::HS384, key))
            .is_none());
        assert!(keys
            .verify(&signed(&claims, Algorithm::HS256, key))
            .is_some());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, ha) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(ha, hash_refresh_token(&a));
        assert_eq!(ha.len(), 32);
    }
}
