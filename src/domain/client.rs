//! Client demographics (SPEC §2): validation rules.

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
pub enum ReferralSource {
    #[serde(rename = "self")]
    SelfReferred,
    Court,
    Probation,
    Employer,
    Physician,
    TreatmentProgram,
    Other,
}

impl ReferralSource {
    pub const ALL: [ReferralSource; 7] = [
        ReferralSource::SelfReferred,
        ReferralSource::Court,
        ReferralSource::Probation,
        ReferralSource::Employer,
        ReferralSource::Physician,
        ReferralSource::TreatmentProgram,
        ReferralSource::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReferralSource::SelfReferred => "self",
            ReferralSource::Court => "court",
            ReferralSource::Probation => "probation",
            ReferralSource::Employer => "employer",
            ReferralSource::Physician => "physician",
            ReferralSource::TreatmentProgram => "treatment_program",
            ReferralSource::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A client's gender (v2), optional; `undisclosed` is an answer, not a value composition
/// counts.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Woman,
    Man,
    Nonbinary,
    Other,
    Undisclosed,
}

impl Gender {
    pub const ALL: [Gender; 5] = [
        Gender::Woman,
        Gender::Man,
        Gender::Nonbinary,
        Gender::Other,
        Gender::Undisclosed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Woman => "woman",
            Gender::Man => "man",
            Gender::Nonbinary => "nonbinary",
            Gender::Other => "other",
            Gender::Undisclosed => "undisclosed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// A birth date must lie between 1900-01-01 and today.
pub fn check_birth_date(d: NaiveDate) -> Result<(), &'static str> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date");
    if d < earliest {
        Err("must not be before 1900-01-01")
    } else if d > Utc::now().date_naive() {
        Err("must not be in the future")
    } else {
        Ok(())
    }
}

/// Phone numbers: digits with the usual separators, 5–40 characters.
pub fn parse_phone(raw: &str) -> Result<String, &'static str> {
    let p = raw.trim();
    let digits = p.chars().filter(char::is_ascii_digit).count();
    let allowed = p
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().x".contains(c));
    if !allowed || digits < 5 || p.chars().count() > 40 {
        return Err("must be a phone number (digits, spaces, + - ( ) .)");
    }
    Ok(p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn birth_dates() {
        assert!(check_birth_date(NaiveDate::from_ymd_opt(1899, 12, 31).unwrap()).is_err());
        assert!(check_birth_date(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap()).is_ok());
        assert!(check_birth_date(Utc::now().date_naive() + Duration::days(1)).is_err());
        assert!(check_birth_date(Utc::now().date_naive()).is_ok());
    }

    #[test]
    fn phones() {
        assert_eq!(
            parse_phone(" +1 (555) 010-2030 ").unwrap(),
            "+1 (555) 010-2030"
        );
        assert!(parse_phone("call me").is_err());
        assert!(parse_phone("12").is_err());
    }

    #[test]
    fn referral_sources_round_trip() {
        for r in ReferralSource::ALL {
            assert_eq!(ReferralSource::parse(r.as_str()), Some(r));
        }
        let parsed: ReferralSource = serde_json::from_str("\"self\"").unwrap();
        assert_eq!(parsed, ReferralSource::SelfReferred);
        assert!(serde_json::from_str::<ReferralSource>("\"friend\"").is_err());
    }
}
