//! Attendance (SPEC §2): statuses, and the rule that a submitted roster is exactly the members
//! seated at the session.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::validation::FieldError;

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
pub enum AttendanceStatus {
    Present,
    Late,
    LeftEarly,
    ExcusedAbsence,
    UnexcusedAbsence,
}

impl AttendanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AttendanceStatus::Present => "present",
            AttendanceStatus::Late => "late",
            AttendanceStatus::LeftEarly => "left_early",
            AttendanceStatus::ExcusedAbsence => "excused_absence",
            AttendanceStatus::UnexcusedAbsence => "unexcused_absence",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Present,
            Self::Late,
            Self::LeftEarly,
            Self::ExcusedAbsence,
            Self::UnexcusedAbsence,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Present, late and left early count as attended (SPEC §5).
    pub fn attended(self) -> bool {
        matches!(self, Self::Present | Self::Late | Self::LeftEarly)
    }
}

/// Differences between the submitted membership ids and the seated roster: duplicates, seated
/// members missing from the submission, and submitted ids that hold no seat at the session.
pub fn roster_problems(submitted: &[Uuid], seated: &[Uuid]) -> Vec<FieldError> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for id in submitted {
        if !seen.insert(*id) {
            problems.push(FieldError {
                field: "records".into(),
                message: format!("membership {id} appears twice"),
            });
        }
    }
    let seated_set: BTreeSet<Uuid> = seated.iter().copied().collect();
    for id in seated_set.difference(&seen) {
        problems.push(FieldError {
            field: "records".into(),
            message: format!("missing membership {id} (seated at this session)"),
        });
    }
    for id in seen.difference(&seated_set) {
        problems.push(FieldError {
            field: "records".into(),
            message: format!("extra membership {id} (no seat at this session)"),
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_roster_has_no_problems() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(roster_problems(&[b, a], &[a, b]).is_empty());
    }

    #[test]
    fn missing_extra_and_duplicate_are_named() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let p = roster_problems(&[a, a, c], &[a, b]);
        let messages: Vec<&str> = p.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(p.len(), 3, "{messages:?}");
        assert!(messages
            .iter()
            .any(|m| m.contains("twice") && m.contains(&a.to_string())));
        assert!(messages
            .iter()
            .any(|m| m.starts_with("missing") && m.contains(&b.to_string())));
        assert!(messages
            .iter()
            .any(|m| m.starts_with("extra") && m.contains(&c.to_string())));
    }

    #[test]
    fn attended_statuses() {
        assert!(AttendanceStatus::Late.attended());
        assert!(AttendanceStatus::LeftEarly.attended());
        assert!(!AttendanceStatus::ExcusedAbsence.attended());
    }
}
