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

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// The cheap half of the rules: 12–128 characters (no composition rules). Safe to run on the
/// async executor.
pub fn check_length(password: &str) -> Result<(), &'static str> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_CHARS {
        Err("must be at least 12 characters")
    } else if len > MAX_PASSWORD_CHARS {
        Err("must be at most 128 characters")
    } else {
        Ok(())
    }
}

/// The user's own details as an attacker would try them: each whole, and each word of three
/// or more letters or digits in it ("Jordan Lee, LCSW" → jordan, lee, lcsw).
fn guessable_words(user_inputs: &[&str]) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for input in user_inputs {
        words.push(input.to_lowercase());
        words.extend(
            input
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3)
                .map(str::to_lowercase),
        );
    }
    words.sort();
    words.dedup();
    words
}

/// Checks the password rules: 12–128 characters, no composition rules, and not guessable
/// (zxcvbn score ≥ 3, also against the user's own email and name).
///
/// zxcvbn can take most of a second on an adversarial 128-character input, so servers call
/// this through [`Hasher::hash_new`] (off the executor, on the bounded hashing threads); only
/// the CLI calls it directly.
pub fn check_strength(field: &str, password: &str, user_inputs: &[&str]) -> AppResult<()> {
    let mut v = Validations::new();
    if let Err(m) = check_length(password) {
        v.add(field, m);
    } else {
        let words = guessable_words(user_inputs);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let estimate = zxcvbn::zxcvbn(password, &words);
        if (estimate.score() as u8) < 3 {
            let hint = estimate
                .feedback()
                .and_then(|f| f.warning().map(|w| w.to_string()))
                .unwrap_or_else(|| "choose a longer, less predictable passphrase".into());
            v.add(field, format!("is too easy to guess: {hint}"));
        }
    }
    v.finish().map_err(AppError::from)
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

    /// Runs CPU-heavy password work (argon2, zxcvbn) on the hashing threads and awaits it.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
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

    /// Checks a new password against the rules (see [`check_strength`]), then hashes it, in one
    /// trip to the hashing threads. `user_inputs` (email, name) count as guessable words.
    pub async fn hash_new(
        &self,
        field: &'static str,
        password: String,
        user_inputs: Vec<String>,
    ) -> AppResult<String> {
        self.run(move || {
            let inputs: Vec<&str> = user_inputs.iter().map(String::as_str).collect();
            check_strength(field, &password, &inputs)?;
            hash_password_blocking(&password).map_err(AppError::Internal)
        })
        .await?
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
        // the user's own email and name are guessable words
        for own in ["jordan.lee@clinic.test", "Jordan Lee, LCSW"] {
            assert!(check_strength("password", own, &[]).is_ok(), "{own} alone");
            assert!(
                check_strength(
                    "password",
                    own,
                    &["jordan.lee@clinic.test", "Jordan Lee, LCSW"]
                )
                .is_err(),
                "{own} is the user's own"
            );
        }
        assert_eq!(
            check_length(&"é".repeat(128)),
            Ok(()),
            "characters, not bytes"
        );
    }

    #[test]
    fn the_demo_password_meets_the_rules() {
        assert!(check_strength("password", crate::demo::DEMO_PASSWORD, &[]).is_ok());
    }

    #[actix_web::test]
    async fn unknown_users_cost_a_real_verification() {
        let hasher = Hasher::new(1);
        // The dummy hash is a genuine argon2id hash with the same parameters, so verifying
        // against it costs the same work as a known user's; and it never matches.
        assert!(hasher
            .dummy_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let dummy = hasher.dummy_hash.as_ref().clone();
        assert!(!hasher
            .verify("dummy password that never matches anything".into(), None)
            .await
            .unwrap());
        assert!(verify_password_blocking(
            "dummy password that never matches anything",
            &dummy
        ));
        let h = hasher.hash_new("password", "granite-heron-willow-58".into(), vec![]);
        let h = h.await.unwrap();
        assert!(hasher
            .verify("granite-heron-willow-58".into(), Some(h))
            .await
            .unwrap());
        let weak = hasher.hash_new("new_password", "password1234".into(), vec![]);
        assert!(matches!(weak.await, Err(AppError::Validation { .. })));
    }
}
