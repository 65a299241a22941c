//! argon2id hashing off the async executor, on a bounded set of low-priority threads, so a
//! storm of logins neither stalls other requests nor exhausts memory (each hash holds 19 MiB).

use std::sync::Arc;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

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

type Job = Box<dyn FnOnce() + Send>;

/// Hashing service: a few dedicated threads running at the lowest CPU priority, so a storm of
/// logins uses spare CPU without stalling other requests, and memory stays bounded (each
/// argon2id hash holds 19 MiB; at most one per thread). A dummy hash makes an unknown email
/// cost the same work as a known one.
#[derive(Clone)]
pub struct Hasher {
    jobs: tokio::sync::mpsc::Sender<Job>,
    dummy_hash: Arc<String>,
}

/// Lowers the calling thread's scheduling priority (Linux: per-thread nice).
fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on the calling thread; failure only leaves the priority unchanged.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
    }
}

impl Hasher {
    pub fn new(threads: usize) -> Self {
        let dummy = hash_password_blocking("dummy password that never matches anything")
            .expect("argon2 works");
        // A bounded queue: a flood of logins waits here (asynchronously) instead of piling up
        // hashes in memory.
        let (tx, rx) = tokio::sync::mpsc::channel::<Job>(1024);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    lower_thread_priority();
                    loop {
                        let job = match rx.lock() {
                            Ok(mut guard) => guard.blocking_recv(),
                            Err(_) => None,
                        };
                        match job {
                            Some(job) => job(),
                            None => break,
                        }
                    }
                })
                .expect("spawn hashing thread");
        }
        Hasher {
            jobs: tx,
            dummy_hash: Arc::new(dummy),
        }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(f());
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("hashing threads stopped")))?;
        result
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("hashing job dropped")))
    }

    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.run(move || hash_password_blocking(&password))
            .await?
            .map_err(AppError::Internal)
    }

    /// Verifies against `hash`, or against the dummy hash when there is no user.
    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let ok = self
            .run(move || verify_password_blocking(&password, &hash))
            .await?;
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
