//! Written consent to disclose (42 CFR §2.31, SPEC §8): what it names, when it is in force, and
//! whether it covers a disclosure. Pure rules; the handlers load the facts and write the result.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who receives the information.
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
pub enum RecipientKind {
    Court,
    Probation,
    Employer,
    Physician,
    TreatmentProgram,
    Family,
    Other,
}

impl RecipientKind {
    pub const ALL: [RecipientKind; 7] = [
        RecipientKind::Court,
        RecipientKind::Probation,
        RecipientKind::Employer,
        RecipientKind::Physician,
        RecipientKind::TreatmentProgram,
        RecipientKind::Family,
        RecipientKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecipientKind::Court => "court",
            RecipientKind::Probation => "probation",
            RecipientKind::Employer => "employer",
            RecipientKind::Physician => "physician",
            RecipientKind::TreatmentProgram => "treatment_program",
            RecipientKind::Family => "family",
            RecipientKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// "How much and what kind of information" (§2.31(a)(3)) a consent allows.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum InformationKind {
    /// Each held session of the client's groups with the client's attendance, and totals.
    Attendance,
    /// The client's seats: group, status, joined, exit and its reason.
    MembershipStatus,
    /// Completed screening interviews: date and outcome (never the assessment).
    ScreeningOutcome,
    /// The client's group-treatment record: all of the above.
    Record,
}

impl InformationKind {
    pub const ALL: [InformationKind; 4] = [
        InformationKind::Attendance,
        InformationKind::MembershipStatus,
        InformationKind::ScreeningOutcome,
        InformationKind::Record,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InformationKind::Attendance => "attendance",
            InformationKind::MembershipStatus => "membership_status",
            InformationKind::ScreeningOutcome => "screening_outcome",
            InformationKind::Record => "record",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InformationKind::Attendance => "attendance",
            InformationKind::MembershipStatus => "membership status",
            InformationKind::ScreeningOutcome => "screening outcome",
            InformationKind::Record => "record of group treatment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Sorted, without duplicates, as stored and shown.
pub fn normalize_kinds(kinds: &[InformationKind]) -> Vec<InformationKind> {
    let mut v = kinds.to_vec();
    v.sort();
    v.dedup();
    v
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    Active,
    Expired,
    Revoked,
}

/// The facts of a consent that decide whether it is in force.
#[derive(Debug, Clone)]
pub struct ConsentTerms {
    pub information: Vec<InformationKind>,
    pub effective_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ConsentTerms {
    /// Revocation is final; past `expires_on` (the day after it) a consent is expired.
    /// An expiry *event* cannot be observed by the service: staff revoke the consent when it
    /// happens.
    pub fn status(&self, today: NaiveDate) -> ConsentStatus {
        if self.revoked_at.is_some() {
            ConsentStatus::Revoked
        } else if self.expires_on.is_some_and(|d| today > d) {
            ConsentStatus::Expired
        } else {
            ConsentStatus::Active
        }
    }

    /// Whether a disclosure of `requested` may be made today under this consent (§2.31, §2.13:
    /// nothing beyond what the consent names).
    pub fn permits(
        &self,
        requested: &[InformationKind],
        today: NaiveDate,
    ) -> Result<(), ConsentRefusal> {
        match self.status(today) {
            ConsentStatus::Revoked => return Err(ConsentRefusal::Revoked),
            ConsentStatus::Expired => return Err(ConsentRefusal::Expired),
            ConsentStatus::Active => {}
        }
        if today < self.effective_on {
            return Err(ConsentRefusal::NotYetEffective);
        }
        let missing: Vec<InformationKind> = normalize_kinds(requested)
            .into_iter()
            .filter(|k| !self.information.contains(k))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ConsentRefusal::NotCovered(missing))
        }
    }
}

/// Why a consent does not allow a disclosure (409 `consent_required`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentRefusal {
    Revoked,
    Expired,
    NotYetEffective,
    NotCovered(Vec<InformationKind>),
}

impl ConsentRefusal {
    /// The short reason kept in the audit trail.
    pub fn reason(&self) -> &'static str {
        match self {
            ConsentRefusal::Revoked => "revoked",
            ConsentRefusal::Expired => "expired",
            ConsentRefusal::NotYetEffective => "not_yet_effective",
            ConsentRefusal::NotCovered(_) => "not_covered",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            ConsentRefusal::Revoked => "The consent has been revoked.".into(),
            ConsentRefusal::Expired => "The consent has expired.".into(),
            ConsentRefusal::NotYetEffective => "The consent is not yet in effect.".into(),
            ConsentRefusal::NotCovered(kinds) => format!(
                "The consent does not cover: {}.",
                kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// The dates of a new consent (§2.31(a)(6)–(8)): an expiry date or event is required, the
/// expiry is not before the start, and the signature is not in the future. Each problem is
/// `(field, message)`.
pub fn check_dates(
    effective_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    has_expiry_event: bool,
    signed_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<(&'static str, &'static str)> {
    let mut problems = Vec::new();
    if expires_on.is_none() && !has_expiry_event {
        problems.push((
            "expires_on",
            "an expiry date or an expiry event (expires_event) is required",
        ));
    }
    if expires_on.is_some_and(|d| d < effective_on) {
        problems.push(("expires_on", "must not be before effective_on"));
    }
    if signed_at > now {
        problems.push(("signed_at", "must not be in the future"));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use InformationKind::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn terms(info: &[InformationKind], expires_on: Option<&str>) -> ConsentTerms {
        ConsentTerms {
            information: info.to_vec(),
            effective_on: d("2026-01-01"),
            expires_on: expires_on.map(d),
            revoked_at: None,
        }
    }

    #[test]
    fn expired_the_day_after_expires_on() {
        let t = terms(&[Attendance], Some("2026-06-30"));
        assert_eq!(t.status(d("2026-06-30")), ConsentStatus::Active);
        assert_eq!(t.status(d("2026-07-01")), ConsentStatus::Expired);
        assert_eq!(
            t.permits(&[Attendance], d("2026-07-01")),
            Err(ConsentRefusal::Expired)
        );
    }

    #[test]
    fn an_event_expiry_never_expires_by_itself() {
        let t = terms(&[Attendance], None);
        assert_eq!(t.status(d("2099-01-01")), ConsentStatus::Active);
    }

    #[test]
    fn revocation_wins_over_expiry() {
        let mut t = terms(&[Attendance], Some("2026-01-31"));
        t.revoked_at = Some(Utc::now());
        assert_eq!(t.status(d("2026-12-01")), ConsentStatus::Revoked);
        assert_eq!(
            t.permits(&[Attendance], d("2026-01-10")),
            Err(ConsentRefusal::Revoked)
        );
    }

    #[test]
    fn covers_every_kind_asked_for() {
        let t = terms(&[Attendance, MembershipStatus], None);
        assert_eq!(
            t.permits(&[Attendance, MembershipStatus], d("2026-02-01")),
            Ok(())
        );
        assert_eq!(
            t.permits(&[Attendance, Record, ScreeningOutcome], d("2026-02-01")),
            Err(ConsentRefusal::NotCovered(vec![ScreeningOutcome, Record]))
        );
    }

    #[test]
    fn not_before_it_takes_effect() {
        let t = terms(&[Attendance], None);
        assert_eq!(
            t.permits(&[Attendance], d("2025-12-31")),
            Err(ConsentRefusal::NotYetEffective)
        );
    }

    #[test]
    fn dates_of_a_new_consent() {
        let now = Utc::now();
        assert_eq!(
            check_dates(d("2026-01-01"), None, false, now, now)[0].0,
            "expires_on"
        );
        assert!(check_dates(d("2026-01-01"), None, true, now, now).is_empty());
        assert_eq!(
            check_dates(d("2026-01-01"), Some(d("2025-12-31")), false, now, now),
            vec![("expires_on", "must not be before effective_on")]
        );
        assert_eq!(
            check_dates(
                d("2026-01-01"),
                Some(d("2026-02-01")),
                false,
                now + chrono::Duration::hours(1),
                now
            ),
            vec![("signed_at", "must not be in the future")]
        );
    }

    #[test]
    fn kinds_round_trip_and_unknown_is_an_error() {
        for k in InformationKind::ALL {
            assert_eq!(InformationKind::parse(k.as_str()), Some(k));
        }
        for k in RecipientKind::ALL {
            assert_eq!(RecipientKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(InformationKind::parse("notes"), None);
    }
}
