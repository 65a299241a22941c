//! Settings read from the environment (SPEC §6). Secrets are never printed: `Settings`
//! implements `Debug` by hand.

use std::fmt;
use std::net::SocketAddr;

use base64::Engine;

use crate::http::client_address::{self, Cidr};

/// A configuration problem, naming the variable at fault. Rendered as one line at start-up.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {var} {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

fn err(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        problem: problem.into(),
    }
}

#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: SocketAddr,
    pub jwt_secret: Vec<u8>,
    pub notes_key: [u8; 32],
    pub notes_key_previous: Option<[u8; 32]>,
    /// Keys the audit chain's HMAC (never stored in the database).
    pub audit_key: [u8; 32],
    /// Keys report pseudonyms, so they survive a notes-key rotation.
    pub pseudonym_key: [u8; 32],
    pub pool_size: u32,
    /// A streaming replica the report endpoints read from (`GROUPWORK_REPORTS_DATABASE_URL`);
    /// none: they read from the primary. Their audit events are written on the primary.
    pub reports_database_url: Option<String>,
    /// Connections in the replica's pool (`GROUPWORK_REPORTS_DB_POOL_SIZE`).
    pub reports_pool_size: u32,
    pub cors_origins: Vec<String>,
    /// Weeks of sessions kept generated ahead of today (SPEC §2 v2).
    pub schedule_weeks: u32,
    /// Documentation is overdue this many hours after a session ends (SPEC §7).
    pub notes_due_hours: u32,
    /// The practice's name, printed on every disclosed document (SPEC §8).
    pub practice_name: String,
    /// Reverse proxies whose `X-Forwarded-For` hop is believed (SPEC §3 v2).
    pub trusted_proxies: Vec<Cidr>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("pool_size", &self.pool_size)
            .field("reports_replica", &self.reports_database_url.is_some())
            .field("reports_pool_size", &self.reports_pool_size)
            .field("cors_origins", &self.cors_origins)
            .field("schedule_weeks", &self.schedule_weeks)
            .field("notes_due_hours", &self.notes_due_hours)
            .field("practice_name", &self.practice_name)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

/// Source of variables; the process environment in production, a map in tests.
pub trait Env {
    fn get(&self, key: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn get(&self, key: &str) -> Option<String> {
        self(key)
    }
}

pub fn parse_notes_key(var: &'static str, raw: &str) -> Result<[u8; 32], ConfigError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .map_err(|_| err(var, "must be base64"))?;
    bytes
        .try_into()
        .map_err(|_| err(var, "must decode to exactly 32 bytes"))
}

/// A required base64 32-byte key.
pub fn required_key(env: &impl Env, var: &'static str) -> Result<[u8; 32], ConfigError> {
    parse_notes_key(var, &env.get(var).ok_or_else(|| err(var, "is required"))?)
}

/// `GROUPWORK_AUDIT_KEY`, for the commands that write audit events without serving.
pub fn audit_key(env: &impl Env) -> Result<[u8; 32], ConfigError> {
    required_key(env, "GROUPWORK_AUDIT_KEY")
}

/// Where migrations run: `GROUPWORK_MIGRATION_DATABASE_URL` (the schema owner) when set,
/// else `DATABASE_URL`.
pub fn migration_database_url(env: &impl Env) -> Result<String, ConfigError> {
    match env.get("GROUPWORK_MIGRATION_DATABASE_URL") {
        Some(url) => Ok(url),
        None => Settings::database_url(env),
    }
}

impl Settings {
    /// Only what every command needs: the database.
    pub fn database_url(env: &impl Env) -> Result<String, ConfigError> {
        env.get("DATABASE_URL")
            .ok_or_else(|| err("DATABASE_URL", "is required"))
    }

    pub fn from_env(env: &impl Env) -> Result<Settings, ConfigError> {
        let database_url = Self::database_url(env)?;
        let bind = match env.get("GROUPWORK_BIND") {
            None => "127.0.0.1:8080".parse().expect("valid default"),
            Some(v) => v
                .parse()
                .map_err(|_| err("GROUPWORK_BIND", "must be an address like 127.0.0.1:8080"))?,
        };
        let jwt_secret = env
            .get("GROUPWORK_JWT_SECRET")
            .ok_or_else(|| err("GROUPWORK_JWT_SECRET", "is required"))?
            .into_bytes();
        if jwt_secret.len() < 32 {
            return Err(err("GROUPWORK_JWT_SECRET", "must be at least 32 bytes"));
        }
        let notes_key = parse_notes_key(
            "GROUPWORK_NOTES_KEY",
            &env.get("GROUPWORK_NOTES_KEY")
                .ok_or_else(|| err("GROUPWORK_NOTES_KEY", "is required"))?,
        )?;
        let notes_key_previous = env
            .get("GROUPWORK_NOTES_KEY_PREVIOUS")
            .map(|v| parse_notes_key("GROUPWORK_NOTES_KEY_PREVIOUS", &v))
            .transpose()?;
        let audit_key = audit_key(env)?;
        let pseudonym_key = required_key(env, "GROUPWORK_PSEUDONYM_KEY")?;
        let pool_size = match env.get("GROUPWORK_DB_POOL_SIZE") {
            None => 16,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=512).contains(n))
                .ok_or_else(|| err("GROUPWORK_DB_POOL_SIZE", "must be an integer from 1 to 512"))?,
        };
        let reports_database_url = env.get("GROUPWORK_REPORTS_DATABASE_URL");
        let reports_pool_size = bounded(env, "GROUPWORK_REPORTS_DB_POOL_SIZE", 4, 1..=512)?;
        let cors_origins = env
            .get("GROUPWORK_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let schedule_weeks = bounded(env, "GROUPWORK_SCHEDULE_WEEKS", 8, 1..=104)?;
        let notes_due_hours = bounded(env, "GROUPWORK_NOTES_DUE_HOURS", 72, 1..=8760)?;
        let practice_name = practice_name(env)?;
        let trusted_proxies = match env.get("GROUPWORK_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(v) => client_address::parse_list(&v).map_err(|bad| {
                err(
                    "GROUPWORK_TRUSTED_PROXIES",
                    format!("must be comma-separated CIDRs like 10.0.0.0/8 (not `{bad}`)"),
                )
            })?,
        };
        Ok(Settings {
            database_url,
            bind,
            jwt_secret,
            notes_key,
            notes_key_previous,
            audit_key,
            pseudonym_key,
            pool_size,
            reports_database_url,
            reports_pool_size,
            cors_origins,
            schedule_weeks,
            notes_due_hours,
            practice_name,
            trusted_proxies,
        })
    }
}

/// The name printed on disclosed documents when `GROUPWORK_PRACTICE_NAME` is unset.
pub const DEFAULT_PRACTICE_NAME: &str = "Group Therapy Program";

/// `GROUPWORK_PRACTICE_NAME`: one line of at most 200 characters, no control characters.
pub fn practice_name(env: &impl Env) -> Result<String, ConfigError> {
    match env.get("GROUPWORK_PRACTICE_NAME") {
        None => Ok(DEFAULT_PRACTICE_NAME.to_string()),
        Some(v) => crate::domain::text::required_line(&v, 200)
            .map_err(|m| err("GROUPWORK_PRACTICE_NAME", m)),
    }
}

/// An optional integer variable within `range`, `default` when unset.
fn bounded(
    env: &impl Env,
    var: &'static str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    match env.get(var) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                err(
                    var,
                    format!(
                        "must be an integer from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const KEY2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

    #[test]
    fn missing_jwt_secret_is_named() {
        let e = Settings::from_env(&env(&[
            ("DATABASE_URL", "postgres://x"),
            ("GROUPWORK_NOTES_KEY", KEY),
        ]))
        .unwrap_err();
        assert_eq!(e.var, "GROUPWORK_JWT_SECRET");
    }

    #[test]
    fn short_notes_key_is_refused() {
        let e = Settings::from_env(&env(&[
            ("DATABASE_URL", "postgres://x"),
            ("GROUPWORK_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("GROUPWORK_NOTES_KEY", "AAEC"),
        ]))
        .unwrap_err();
        assert_eq!(e.var, "GROUPWORK_NOTES_KEY");
    }

    #[test]
    fn schedule_and_due_hours_are_bounded() {
        let base = [
            ("DATABASE_URL", "postgres://x"),
            ("GROUPWORK_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("GROUPWORK_NOTES_KEY", KEY),
            ("GROUPWORK_AUDIT_KEY", KEY2),
            ("GROUPWORK_PSEUDONYM_KEY", KEY2),
        ];
        let with = |k: &'static str, v: &'static str| {
            let mut pairs = base.to_vec();
            pairs.push((k, v));
            Settings::from_env(&env(&pairs))
        };
        assert_eq!(
            with("GROUPWORK_SCHEDULE_WEEKS", "0").unwrap_err().var,
            "GROUPWORK_SCHEDULE_WEEKS"
        );
        assert_eq!(
            with("GROUPWORK_NOTES_DUE_HOURS", "soon").unwrap_err().var,
            "GROUPWORK_NOTES_DUE_HOURS"
        );
        assert_eq!(
            with("GROUPWORK_SCHEDULE_WEEKS", "12")
                .unwrap()
                .schedule_weeks,
            12
        );
        assert_eq!(
            with("GROUPWORK_NOTES_DUE_HOURS", "24")
                .unwrap()
                .notes_due_hours,
            24
        );
    }

    #[test]
    fn defaults_apply() {
        let s = Settings::from_env(&env(&[
            ("DATABASE_URL", "postgres://x"),
            ("GROUPWORK_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("GROUPWORK_NOTES_KEY", KEY),
            ("GROUPWORK_AUDIT_KEY", KEY2),
            ("GROUPWORK_PSEUDONYM_KEY", KEY2),
            (
                "GROUPWORK_CORS_ORIGINS",
                "https://a.example, https://b.example",
            ),
        ]))
        .unwrap();
        assert_eq!(s.pool_size, 16);
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.cors_origins.len(), 2);
        assert_eq!((s.schedule_weeks, s.notes_due_hours), (8, 72));
        assert_eq!(s.practice_name, DEFAULT_PRACTICE_NAME);
        assert_eq!(
            (s.reports_database_url.as_deref(), s.reports_pool_size),
            (None, 4)
        );
        assert!(!format!("{s:?}").contains("0123456789abcdef"));
        assert_eq!(s.audit_key[0], 0x20);
    }

    #[test]
    fn trusted_proxies_are_cidrs() {
        let base = [
            ("DATABASE_URL", "postgres://x"),
            ("GROUPWORK_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("GROUPWORK_NOTES_KEY", KEY),
            ("GROUPWORK_AUDIT_KEY", KEY2),
            ("GROUPWORK_PSEUDONYM_KEY", KEY2),
        ];
        let with = |v: &'static str| {
            let mut pairs = base.to_vec();
            pairs.push(("GROUPWORK_TRUSTED_PROXIES", v));
            Settings::from_env(&env(&pairs))
        };
        assert!(Settings::from_env(&env(&base))
            .unwrap()
            .trusted_proxies
            .is_empty());
        assert_eq!(
            with("10.0.0.0/8, 192.168.0.1")
                .unwrap()
                .trusted_proxies
                .len(),
            2
        );
        let e = with("10.0.0.0/8, proxy.internal").unwrap_err();
        assert_eq!(e.var, "GROUPWORK_TRUSTED_PROXIES");
        assert!(e.problem.contains("proxy.internal"));
    }

    #[test]
    fn audit_and_pseudonym_keys_are_required_and_named() {
        let base = [
            ("DATABASE_URL", "postgres://x"),
            ("GROUPWORK_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("GROUPWORK_NOTES_KEY", KEY),
        ];
        let e = Settings::from_env(&env(&base)).unwrap_err();
        assert_eq!(e.var, "GROUPWORK_AUDIT_KEY");
        let mut with_audit = base.to_vec();
        with_audit.push(("GROUPWORK_AUDIT_KEY", KEY2));
        let e = Settings::from_env(&env(&with_audit)).unwrap_err();
        assert_eq!(e.var, "GROUPWORK_PSEUDONYM_KEY");
        with_audit.push(("GROUPWORK_PSEUDONYM_KEY", "c2hvcnQ="));
        let e = Settings::from_env(&env(&with_audit)).unwrap_err();
        assert_eq!(e.var, "GROUPWORK_PSEUDONYM_KEY");
    }
}
