//! Screening interviews (SPEC §2): the status machine, the contraindication rule, late-entry
//! checks and the 90-day validity.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::validation::Validations;

/// A screening is valid for admission this long after `completed_at`.
pub const VALIDITY_DAYS: i64 = 90;
/// Clock skew tolerated for "not in the future".
pub const FUTURE_SKEW_SECS: i64 = 60;

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
pub enum ScreeningStatus {
    Scheduled,
    Completed,
    Cancelled,
    NoShow,
}

impl ScreeningStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ScreeningStatus::Scheduled => "scheduled",
            ScreeningStatus::Completed => "completed",
            ScreeningStatus::Cancelled => "cancelled",
            ScreeningStatus::NoShow => "no_show",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Scheduled,
            Self::Completed,
            Self::Cancelled,
            Self::NoShow,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
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
pub enum Outcome {
    Accepted,
    Deferred,
    Declined,
    ReferredElsewhere,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Deferred => "deferred",
            Outcome::Declined => "declined",
            Outcome::ReferredElsewhere => "referred_elsewhere",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Accepted,
            Self::Deferred,
            Self::Declined,
            Self::ReferredElsewhere,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Contraindication {
    AcutePsychosis,
    SuicidalRisk,
    HomicidalRisk,
    CognitiveImpairment,
    ActiveIntoxication,
    SevereAntisocial,
    CannotTolerateGroup,
    Other,
}

/// The clinical assessment recorded on completion.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    /// 1–5
    pub motivation: u8,
    #[serde(default)]
    pub contraindications: Vec<Contraindication>,
    #[serde(default)]
    pub concurrent_therapies: String,
    #[serde(default)]
    pub substance_use_summary: String,
    #[serde(default)]
    pub notes: String,
}

impl Assessment {
    /// Each contraindication once, in the order first given.
    pub fn dedup_contraindications(&mut self) {
        let mut seen = Vec::with_capacity(self.contraindications.len());
        self.contraindications.retain(|c| {
            let first = !seen.contains(c);
            seen.push(*c);
            first
        });
    }
}

const TEXT_MAX: usize = 10_000;

/// Field-level rules of a completion (SPEC §2): motivation 1–5, bounded texts, an `accepted`
/// outcome carries no serious contraindication, and `completed_at` is neither in the future nor
/// before the interview was scheduled.
pub fn check_completion(
    outcome: Outcome,
    a: &Assessment,
    completed_at: DateTime<Utc>,
    scheduled_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Validations {
    let mut v = Validations::new();
    v.check(
        (1..=5).contains(&a.motivation),
        "assessment.motivation",
        "must be between 1 and 5",
    );
    for (field, text) in [
        ("assessment.concurrent_therapies", &a.concurrent_therapies),
        ("assessment.substance_use_summary", &a.substance_use_summary),
        ("assessment.notes", &a.notes),
    ] {
        if let Err(m) = crate::domain::text::text(text, TEXT_MAX) {
            v.add(field, m);
        }
    }
    if outcome == Outcome::Accepted
        && a.contraindications
            .iter()
            .any(|c| *c != Contraindication::Other)
    {
        v.add(
            "assessment.contraindications",
            "an accepted client cannot carry a serious contraindication (only `other` is allowed)",
        );
    }
    if completed_at > now + Duration::seconds(FUTURE_SKEW_SECS) {
        v.add("completed_at", "must not be in the future");
    }
    if completed_at < scheduled_at {
        v.add(
            "completed_at",
            "must not be before the screening's scheduled_at",
        );
    }
    v
}

/// When an accepted screening stops being valid for admission.
pub fn valid_until(completed_at: DateTime<Utc>) -> DateTime<Utc> {
    completed_at + Duration::days(VALIDITY_DAYS)
}

/// The earliest completion that still admits at `now`: the rule of `is_valid_at`, for the
/// filter of a query that lists valid screenings.
pub fn valid_since(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(VALIDITY_DAYS)
}

/// True when an accepted screening completed at `completed_at` still admits at `now`.
pub fn is_valid_at(completed_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    completed_at >= valid_since(now)
}

/// Cancel and no-show are only from `scheduled`; completion too.
pub fn can_leave_scheduled(current: ScreeningStatus) -> Result<(), String> {
    match current {
        ScreeningStatus::Scheduled => Ok(()),
        other => Err(format!(
            "The screening is already {}; only a scheduled screening can change.",
            other.as_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assessment(c: Vec<Contraindication>) -> Assessment {
        Assessment {
            motivation: 4,
            contraindications: c,
            concurrent_therapies: String::new(),
            substance_use_summary: String::new(),
            notes: String::new(),
        }
    }

    #[test]
    fn accepted_with_serious_contraindication_is_refused() {
        let now = Utc::now();
        let s = now - Duration::hours(2);
        assert!(check_completion(
            Outcome::Accepted,
            &assessment(vec![Contraindication::SuicidalRisk]),
            now,
            s,
            now
        )
        .finish()
        .is_err());
        assert!(check_completion(
            Outcome::Accepted,
            &assessment(vec![Contraindication::Other]),
            now,
            s,
            now
        )
        .finish()
        .is_ok());
        assert!(check_completion(
            Outcome::Declined,
            &assessment(vec![Contraindication::AcutePsychosis]),
            now,
            s,
            now
        )
        .finish()
        .is_ok());
    }

    #[test]
    fn late_entry_bounds() {
        let now = Utc::now();
        let s = now - Duration::days(3);
        let a = assessment(vec![]);
        assert!(
            check_completion(Outcome::Accepted, &a, now - Duration::days(2), s, now)
                .finish()
                .is_ok()
        );
        assert!(
            check_completion(Outcome::Accepted, &a, now + Duration::hours(1), s, now)
                .finish()
                .is_err()
        );
        assert!(
            check_completion(Outcome::Accepted, &a, s - Duration::minutes(1), s, now)
                .finish()
                .is_err()
        );
    }

    #[test]
    fn motivation_range() {
        let now = Utc::now();
        let mut a = assessment(vec![]);
        a.motivation = 0;
        assert!(check_completion(Outcome::Deferred, &a, now, now, now)
            .finish()
            .is_err());
        a.motivation = 6;
        assert!(check_completion(Outcome::Deferred, &a, now, now, now)
            .finish()
            .is_err());
    }

    #[test]
    fn validity_is_ninety_days() {
        let now = Utc::now();
        for (age, valid) in [
            (Duration::zero(), true),
            (Duration::days(90) - Duration::minutes(1), true),
            (Duration::days(90), true),
            (Duration::days(90) + Duration::seconds(1), false),
            (Duration::days(365), false),
        ] {
            assert_eq!(is_valid_at(now - age, now), valid, "{age}");
            // The query's bound and the rule agree.
            assert_eq!(now - age >= valid_since(now), valid, "{age}");
            assert_eq!(now <= valid_until(now - age), valid, "{age}");
        }
    }

    #[test]
    fn contraindications_are_kept_once_in_order() {
        use Contraindication::*;
        let mut a = assessment(vec![
            Other,
            SuicidalRisk,
            Other,
            SuicidalRisk,
            AcutePsychosis,
        ]);
        a.dedup_contraindications();
        assert_eq!(
            a.contraindications,
            vec![Other, SuicidalRisk, AcutePsychosis]
        );
    }

    #[test]
    fn only_scheduled_can_change() {
        assert!(can_leave_scheduled(ScreeningStatus::Scheduled).is_ok());
        assert!(can_leave_scheduled(ScreeningStatus::Completed).is_err());
        assert!(can_leave_scheduled(ScreeningStatus::Cancelled).is_err());
    }
}
