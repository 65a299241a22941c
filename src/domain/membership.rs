//! The membership state machine (SPEC §2):
//!
//! ```text
//! pending ──sign──▶ active ──exit notice──▶ exiting ──planned last session held──▶ exited
//!    └─withdraw─▶ exited      └──discharge──▶ exited ◀──(discharge)──┘
//!                             ▲                   │
//!                             └──rescind exit─────┘   (v2: the member changed their mind)
//! ```
//! Exited memberships are history: never reopened.

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
pub enum MembershipStatus {
    Pending,
    Active,
    Exiting,
    Exited,
}

impl MembershipStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Pending => "pending",
            MembershipStatus::Active => "active",
            MembershipStatus::Exiting => "exiting",
            MembershipStatus::Exited => "exited",
        }
    }

    /// The statuses that hold a seat in the group (SPEC §2).
    pub const SEATED: [MembershipStatus; 3] = [Self::Pending, Self::Active, Self::Exiting];

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Active, Self::Exiting, Self::Exited]
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
pub enum ExitReason {
    Completed,
    EarlyExit,
    DroppedOut,
    Discharged,
    AgainstAdvice,
    HigherLevelOfCare,
    Hospitalized,
    Incarcerated,
    Relocated,
    Transferred,
    Other,
    Withdrawn,
    /// The group completed or was cancelled while the seat was held (v2).
    GroupEnded,
}

impl ExitReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::Completed => "completed",
            ExitReason::EarlyExit => "early_exit",
            ExitReason::DroppedOut => "dropped_out",
            ExitReason::Discharged => "discharged",
            ExitReason::AgainstAdvice => "against_advice",
            ExitReason::HigherLevelOfCare => "higher_level_of_care",
            ExitReason::Hospitalized => "hospitalized",
            ExitReason::Incarcerated => "incarcerated",
            ExitReason::Relocated => "relocated",
            ExitReason::Transferred => "transferred",
            ExitReason::Other => "other",
            ExitReason::Withdrawn => "withdrawn",
            ExitReason::GroupEnded => "group_ended",
        }
    }

    /// Every reason, in the order reports list them.
    pub const ALL: [ExitReason; 13] = [
        Self::Completed,
        Self::EarlyExit,
        Self::DroppedOut,
        Self::Discharged,
        Self::AgainstAdvice,
        Self::HigherLevelOfCare,
        Self::Hospitalized,
        Self::Incarcerated,
        Self::Relocated,
        Self::Transferred,
        Self::Other,
        Self::Withdrawn,
        Self::GroupEnded,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Reasons a staff member may give for an unplanned discharge (SPEC §2, v2).
    pub fn is_discharge_reason(self) -> bool {
        matches!(
            self,
            ExitReason::DroppedOut
                | ExitReason::Discharged
                | ExitReason::AgainstAdvice
                | ExitReason::HigherLevelOfCare
                | ExitReason::Hospitalized
                | ExitReason::Incarcerated
                | ExitReason::Relocated
                | ExitReason::Transferred
                | ExitReason::Other
        )
    }

    /// The discharge reasons, as a 422 message lists them.
    pub fn discharge_reasons() -> String {
        Self::ALL
            .into_iter()
            .filter(|r| r.is_discharge_reason())
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The reason a seat held when its group ends closes with (v2): a member of a group that
    /// completes who meets the completion criteria has `completed` it; everyone else seated
    /// (any member of a cancelled group) leaves with `group_ended`, never `early_exit`: the
    /// group, not the member, ended the stay.
    pub fn for_group_end(group_completed: bool, completion_met: bool) -> ExitReason {
        if group_completed && completion_met {
            ExitReason::Completed
        } else {
            ExitReason::GroupEnded
        }
    }

    /// The reason a planned exit ends with, given whether the stay meets the completion
    /// criteria (`domain::participation::completion_met`).
    pub fn for_planned_exit(completion_met: bool) -> ExitReason {
        if completion_met {
            ExitReason::Completed
        } else {
            ExitReason::EarlyExit
        }
    }
}

/// Whether an exit notice may be taken back (v2): only while `exiting`, and only until the
/// planned last session is held (then the member has said goodbye and left).
pub fn rescind_exit(
    from: MembershipStatus,
    farewell_held: bool,
) -> Result<MembershipStatus, String> {
    let to = next(from, Event::RescindExit)?;
    if farewell_held {
        return Err("The planned last session was held: the member has left.".into());
    }
    Ok(to)
}

/// (v2) A discharge or withdrawal entered late takes effect at `effective`: not in the future
/// (beyond `skew`), not before the admission (`admitted_at`: the earlier of the admission and the
/// agreement's signature).
pub fn check_effective_at(
    effective: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
    admitted_at: chrono::DateTime<chrono::Utc>,
    skew: chrono::Duration,
) -> Result<(), &'static str> {
    if effective > now + skew {
        return Err("must not be in the future");
    }
    if effective < admitted_at {
        return Err("must not be before the admission");
    }
    Ok(())
}

/// An event that moves a membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Sign,
    Withdraw,
    ExitNotice,
    Discharge,
    LastSessionHeld,
    /// v2: an exiting member stays after all.
    RescindExit,
}

/// The status `event` leads to from `from`, or why it cannot happen.
pub fn next(from: MembershipStatus, event: Event) -> Result<MembershipStatus, String> {
    use Event::*;
    use MembershipStatus::*;
    match (from, event) {
        (Pending, Sign) => Ok(Active),
        (Pending, Withdraw) => Ok(Exited),
        (Active, ExitNotice) => Ok(Exiting),
        (Active | Exiting, Discharge) => Ok(Exited),
        (Exiting, LastSessionHeld) => Ok(Exited),
        (Exiting, RescindExit) => Ok(Active),
        (from, event) => Err(format!(
            "A {} membership cannot take {}.",
            from.as_str(),
            describe(event)
        )),
    }
}

fn describe(e: Event) -> &'static str {
    match e {
        Event::Sign => "a signature",
        Event::Withdraw => "a withdrawal (only pending memberships can withdraw)",
        Event::ExitNotice => "an exit notice (only active memberships can)",
        Event::Discharge => "a discharge (only active or exiting memberships can)",
        Event::LastSessionHeld => "a planned exit",
        Event::RescindExit => "a rescinded exit notice (only exiting memberships can)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Event::*;
    use MembershipStatus::*;

    #[test]
    fn the_machine() {
        assert_eq!(next(Pending, Sign), Ok(Active));
        assert_eq!(next(Pending, Withdraw), Ok(Exited));
        assert_eq!(next(Active, ExitNotice), Ok(Exiting));
        assert_eq!(next(Active, Discharge), Ok(Exited));
        assert_eq!(next(Exiting, Discharge), Ok(Exited));
        assert_eq!(next(Exiting, LastSessionHeld), Ok(Exited));
        assert_eq!(next(Exiting, RescindExit), Ok(Active));
    }

    #[test]
    fn exited_is_final_and_other_moves_refused() {
        for e in [
            Sign,
            Withdraw,
            ExitNotice,
            Discharge,
            LastSessionHeld,
            RescindExit,
        ] {
            assert!(next(Exited, e).is_err());
        }
        assert!(next(Active, Sign).is_err());
        assert!(next(Active, Withdraw).is_err());
        assert!(next(Pending, Discharge).is_err());
        assert!(next(Exiting, ExitNotice).is_err());
        assert!(next(Active, RescindExit).is_err());
        assert!(next(Pending, RescindExit).is_err());
    }

    #[test]
    fn effective_dates() {
        use chrono::{Duration, TimeZone, Utc};
        let now = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
        let admitted = now - Duration::days(30);
        let skew = Duration::seconds(60);
        assert!(check_effective_at(now - Duration::days(3), now, admitted, skew).is_ok());
        assert!(check_effective_at(now + Duration::seconds(30), now, admitted, skew).is_ok());
        assert!(check_effective_at(admitted, now, admitted, skew).is_ok());
        assert_eq!(
            check_effective_at(now + Duration::hours(1), now, admitted, skew),
            Err("must not be in the future")
        );
        assert_eq!(
            check_effective_at(admitted - Duration::seconds(1), now, admitted, skew),
            Err("must not be before the admission")
        );
    }

    #[test]
    fn rescinding_an_exit_notice() {
        assert_eq!(rescind_exit(Exiting, false), Ok(Active));
        assert!(rescind_exit(Exiting, true).is_err());
        assert!(rescind_exit(Active, false).is_err());
        assert!(rescind_exit(Exited, false).is_err());
    }

    #[test]
    fn reasons() {
        assert!(ExitReason::DroppedOut.is_discharge_reason());
        assert!(!ExitReason::Completed.is_discharge_reason());
        assert!(!ExitReason::Withdrawn.is_discharge_reason());
        assert!(!ExitReason::GroupEnded.is_discharge_reason());
        assert!(ExitReason::HigherLevelOfCare.is_discharge_reason());
        for r in ExitReason::ALL {
            assert_eq!(ExitReason::parse(r.as_str()), Some(r));
        }
        assert!(
            ExitReason::discharge_reasons().starts_with("dropped_out, discharged, against_advice")
        );
        assert_eq!(ExitReason::for_planned_exit(true), ExitReason::Completed);
        assert_eq!(ExitReason::for_planned_exit(false), ExitReason::EarlyExit);
        assert_eq!(ExitReason::for_group_end(true, true), ExitReason::Completed);
        assert_eq!(
            ExitReason::for_group_end(true, false),
            ExitReason::GroupEnded
        );
        assert_eq!(
            ExitReason::for_group_end(false, true),
            ExitReason::GroupEnded
        );
        assert_eq!(
            ExitReason::for_group_end(false, false),
            ExitReason::GroupEnded
        );
    }
}
