//! argon2id hashing on the blocking pool, with a cap on concurrent hashes so a storm of
//! logins neither stalls other requests nor exhausts memory (each hash holds 19 MiB).

use std::sync::Arc;

use actix_web::web;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult, Validations};

/// OWASP's minimum for argon2id: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hash failed: {e}"))
}

pub fn verify_password_blocking(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Checks SPEC's password rules: 12–128 characters, no composition rules, and not guessable
/// (zxcvbn score ≥ 3, also against the user's own email and name).
pub fn check_strength(field: &str, password: &str, user_inputs: &[&str]) -> AppResult<()> {
    let len = password.chars().count();
    let mut v = Validations::new();
    if len < 12 {
        v.add(field, "must be at least 12 characters");
    } else if len > 128 {
        v.add(field, "must be at most 128 characters");
    } else {
        let estimate = zxcvbn::zxcvbn(password, user_inputs);
        if (estimate.score() as u8) < 3 {
            let hint = estimate
                .feedback()
                .and_then(|f| f.warning().map(|w| w.to_string()))
                .unwrap_or_else(|| "choose a longer, less predictable passphrase".into());
            v.add(field, format!("is too easy to guess: {hint}"));
        }
    }
    v.finish()
}

/// Hashing service: bounded concurrency, and a dummy hash so that an unknown email costs the
/// same work as a known one.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    dummy_hash: Arc<String>,
}

impl Hasher {
    pub fn new(max_concurrent: usize) -> Self {
        let dummy = hash_password_blocking("dummy password that never matches anything")
            .expect("argon2 works");
        Hasher {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy_hash: Arc::new(dummy),
        }
    }

    pub async fn hash(&self, password: String) -> AppResult<String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        web::block(move || hash_password_blocking(&password))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
            .map_err(AppError::Internal)
    }

    /// Verifies against `hash`, or against the dummy hash when there is no user.
    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let ok = web::block(move || verify_password_blocking(&password, &hash))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
        Ok(ok && known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_round_trip_uses_argon2id_owasp_params() {
        let h = hash_password_blocking("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password_blocking("correct horse battery staple", &h));
        assert!(!verify_password_blocking(
            "correct horse battery stapler",
            &h
        ));
    }

    #[test]
    fn strength_rules() {
        assert!(check_strength("password", "short", &[]).is_err());
        assert!(check_strength("password", "password1234", &[]).is_err());
        assert!(check_strength("password", &"x".repeat(129), &[]).is_err());
        assert!(check_strength("password", "maple-harbor-quietly-47-lanterns", &[]).is_ok());
        // no composition rules: a long lower-case passphrase is fine
        assert!(check_strength("password", "orchard velvet tundra compass", &[]).is_ok());
    }
}
