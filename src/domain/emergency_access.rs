//! Break-glass access (42 CFR §2.51, SPEC §8): a therapist outside the care team grants
//! themself four hours of read access to one client, with a reason that a supervisor reviews.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long a grant lasts.
pub const GRANT_HOURS: i64 = 4;
/// The shortest reason accepted, in characters (after trimming).
pub const REASON_MIN_CHARS: usize = 20;
pub const REASON_MAX_CHARS: usize = 2000;
pub const NOTE_MAX_CHARS: usize = 4000;

/// When a grant made at `granted_at` ends.
pub fn expires_at(granted_at: DateTime<Utc>) -> DateTime<Utc> {
    granted_at + Duration::hours(GRANT_HOURS)
}

/// A grant gives access only while `now` is before its end: an expired grant ends access at
/// once, whether or not it was reviewed.
pub fn is_active(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now < expires_at
}

/// The reason, trimmed, or what is wrong with it.
pub fn check_reason(raw: &str) -> Result<String, String> {
    let r = raw.trim();
    let n = r.chars().count();
    if n < REASON_MIN_CHARS {
        return Err(format!(
            "must be at least {REASON_MIN_CHARS} characters: say what the emergency is"
        ));
    }
    crate::domain::text::text(r, REASON_MAX_CHARS)
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    Appropriate,
    Inappropriate,
}

impl ReviewOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOutcome::Appropriate => "appropriate",
            ReviewOutcome::Inappropriate => "inappropriate",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ReviewOutcome::Appropriate, ReviewOutcome::Inappropriate]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_hours_then_gone() {
        let t = Utc::now();
        let end = expires_at(t);
        assert_eq!(end - t, Duration::hours(4));
        assert!(is_active(end, t));
        assert!(is_active(end, end - Duration::seconds(1)));
        assert!(!is_active(end, end));
    }

    #[test]
    fn reasons() {
        assert!(check_reason("too short").is_err());
        assert!(check_reason("   nineteen chars..   ").is_err());
        assert_eq!(
            check_reason("  overdose reported by family, on call ").unwrap(),
            "overdose reported by family, on call"
        );
        assert!(check_reason(&"x".repeat(REASON_MAX_CHARS + 1)).is_err());
        assert!(check_reason("twenty characters\u{7} long ok").is_err());
    }

    #[test]
    fn outcomes_round_trip() {
        for o in [ReviewOutcome::Appropriate, ReviewOutcome::Inappropriate] {
            assert_eq!(ReviewOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(ReviewOutcome::parse("fine"), None);
    }
}
