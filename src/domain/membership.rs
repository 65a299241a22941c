//! The membership state machine (SPEC §2):
//!
//! ```text
//! pending ──sign──▶ active ──exit notice──▶ exiting ──planned last session held──▶ exited
//!    └─withdraw─▶ exited      └──discharge──▶ exited ◀──(discharge)──┘
//! ```
//! Exited memberships are history: never reopened.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Active, Self::Exiting, Self::Exited]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    Completed,
    EarlyExit,
    DroppedOut,
    Discharged,
    Transferred,
    Other,
    Withdrawn,
}

impl ExitReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::Completed => "completed",
            ExitReason::EarlyExit => "early_exit",
            ExitReason::DroppedOut => "dropped_out",
            ExitReason::Discharged => "discharged",
            ExitReason::Transferred => "transferred",
            ExitReason::Other => "other",
            ExitReason::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Completed,
            Self::EarlyExit,
            Self::DroppedOut,
            Self::Discharged,
            Self::Transferred,
            Self::Other,
            Self::Withdrawn,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Reasons a staff member may give for an unplanned discharge.
    pub fn is_discharge_reason(self) -> bool {
        matches!(
            self,
            ExitReason::DroppedOut
                | ExitReason::Discharged
                | ExitReason::Transferred
                | ExitReason::Other
        )
    }

    /// The reason a planned exit ends with.
    pub fn for_planned_exit(minimum_term_met: bool) -> ExitReason {
        if minimum_term_met {
            ExitReason::Completed
        } else {
            ExitReason::EarlyExit
        }
    }
}

/// An event that moves a membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Sign,
    Withdraw,
    ExitNotice,
    Discharge,
    LastSessionHeld,
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
    }

    #[test]
    fn exited_is_final_and_other_moves_refused() {
        for e in [Sign, Withdraw, ExitNotice, Discharge, LastSessionHeld] {
            assert!(next(Exited, e).is_err());
        }
        assert!(next(Active, Sign).is_err());
        assert!(next(Active, Withdraw).is_err());
        assert!(next(Pending, Discharge).is_err());
        assert!(next(Exiting, ExitNotice).is_err());
    }

    #[test]
    fn reasons() {
        assert!(ExitReason::DroppedOut.is_discharge_reason());
        assert!(!ExitReason::Completed.is_discharge_reason());
        assert!(!ExitReason::Withdrawn.is_discharge_reason());
        assert_eq!(ExitReason::for_planned_exit(true), ExitReason::Completed);
        assert_eq!(ExitReason::for_planned_exit(false), ExitReason::EarlyExit);
    }
}
