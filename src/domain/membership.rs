//! The membership state machine (SPEC §2):
//!
//! ```text
//! pending ──sign──▶ active ──exit notice──▶ exiting ──planned last session held──▶ exited
//!    └─withdraw─▶ exited      └──discharge──▶ exited ◀──(discharge)──┘
//!                             ▲                   │
//!                             └──rescind exit─────┘   (v2: the member changed their mind)
//! ```
//! Exited memberships are history: never reopened.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::group::GroupStatus;
use super::validation::Validations;

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
/// (beyond `skew`), not before the admission (`admitted_at`).
fn check_effective_at(
    effective: DateTime<Utc>,
    now: DateTime<Utc>,
    admitted_at: DateTime<Utc>,
    skew: Duration,
) -> Result<(), &'static str> {
    if effective > now + skew {
        return Err("must not be in the future");
    }
    if effective < admitted_at {
        return Err("must not be before the admission");
    }
    Ok(())
}

/// What a discharge or withdrawal is decided on, loaded under the membership's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitFacts {
    pub status: MembershipStatus,
    pub created_at: DateTime<Utc>,
    /// When the member first signed the agreement, if they did.
    pub signed_at: Option<DateTime<Utc>>,
    /// (v2) When the exit took effect, entered late; absent: now.
    pub effective_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// An accepted exit: `from → exited`, effective `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    pub from: MembershipStatus,
    pub at: DateTime<Utc>,
}

/// Why a discharge or withdrawal is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitRefusal {
    /// `effective_at` is in the future or before the admission (422 on that field).
    EffectiveAt(&'static str),
    /// The status machine has no such step (409).
    Transition(String),
}

/// Decides a discharge or withdrawal (`event`): the effective time first (now when absent; not
/// in the future beyond the clock skew, not before the admission — the earlier of the
/// admission and the first signature), then the step from the current status.
pub fn decide_exit(event: Event, f: &ExitFacts) -> Result<Exit, ExitRefusal> {
    let at = f.effective_at.unwrap_or(f.now);
    let admitted_at = f.signed_at.map_or(f.created_at, |s| s.min(f.created_at));
    let skew = Duration::seconds(crate::domain::screening::FUTURE_SKEW_SECS);
    check_effective_at(at, f.now, admitted_at, skew).map_err(ExitRefusal::EffectiveAt)?;
    next(f.status, event).map_err(ExitRefusal::Transition)?;
    Ok(Exit { from: f.status, at })
}

/// What an exit notice is decided on, loaded under the group's and the membership's locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitNoticeFacts {
    pub status: MembershipStatus,
    pub group_status: GroupStatus,
    /// The group's time zone: `joined_on` is a date there.
    pub tz: chrono_tz::Tz,
    pub joined_on: Option<NaiveDate>,
    /// When the member announced leaving (now, or entered late).
    pub announced_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// Why an exit notice is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitNoticeRefusal {
    /// The status machine has no such step (409).
    Transition(String),
    /// The group is completed or cancelled (409).
    GroupClosed,
    /// `announced_at` is in the future (beyond the clock skew) or, in the group's time zone,
    /// before `joined_on` (422, every finding).
    Invalid(Validations),
}

/// Decides an exit notice (SPEC §2): `active → exiting`, in a group that is not closed,
/// announced not in the future nor before the day the member joined.
pub fn decide_exit_notice(f: &ExitNoticeFacts) -> Result<(), ExitNoticeRefusal> {
    next(f.status, Event::ExitNotice).map_err(ExitNoticeRefusal::Transition)?;
    if f.group_status.is_closed() {
        return Err(ExitNoticeRefusal::GroupClosed);
    }
    let mut v = Validations::new();
    let skew = Duration::seconds(crate::domain::screening::FUTURE_SKEW_SECS);
    v.check(
        f.announced_at <= f.now + skew,
        "announced_at",
        "must not be in the future",
    );
    let announced_on = f.announced_at.with_timezone(&f.tz).date_naive();
    v.check(
        f.joined_on.is_none_or(|j| announced_on >= j),
        "announced_at",
        "must not be before joined_on",
    );
    v.finish().map_err(ExitNoticeRefusal::Invalid)
}

/// The limit of a discharge note.
const DISCHARGE_NOTE_MAX: usize = 5000;

/// Field rules of a discharge (SPEC §2, v2): a reason staff may give, and a note.
pub fn check_discharge(reason: ExitReason, note: &str) -> Validations {
    let mut v = Validations::new();
    if !reason.is_discharge_reason() {
        v.add(
            "exit_reason",
            format!("must be one of {}", ExitReason::discharge_reasons()),
        );
    }
    if note.trim().is_empty() {
        v.add("note", "is required");
    } else if let Err(m) = crate::domain::text::text(note, DISCHARGE_NOTE_MAX) {
        v.add("note", m);
    }
    v
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
        use chrono::TimeZone;
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
    fn exits() {
        use chrono::TimeZone;
        let now = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
        let created = now - Duration::days(30);
        let base = ExitFacts {
            status: Active,
            created_at: created,
            signed_at: Some(created + Duration::days(1)),
            effective_at: None,
            now,
        };
        let future = Err(ExitRefusal::EffectiveAt("must not be in the future"));
        let early = Err(ExitRefusal::EffectiveAt("must not be before the admission"));
        let table: Vec<(Event, ExitFacts, Result<Exit, ExitRefusal>)> = vec![
            (
                Discharge,
                base,
                Ok(Exit {
                    from: Active,
                    at: now,
                }),
            ),
            (
                Discharge,
                ExitFacts {
                    status: Exiting,
                    ..base
                },
                Ok(Exit {
                    from: Exiting,
                    at: now,
                }),
            ),
            (
                Discharge,
                ExitFacts {
                    effective_at: Some(created),
                    ..base
                },
                Ok(Exit {
                    from: Active,
                    at: created,
                }),
            ),
            (
                Discharge,
                ExitFacts {
                    effective_at: Some(now + Duration::hours(1)),
                    ..base
                },
                future.clone(),
            ),
            (
                Discharge,
                ExitFacts {
                    effective_at: Some(created - Duration::seconds(1)),
                    ..base
                },
                early.clone(),
            ),
            // A signature dated before the admission record moves the admission back.
            (
                Discharge,
                ExitFacts {
                    signed_at: Some(created - Duration::days(2)),
                    effective_at: Some(created - Duration::days(1)),
                    ..base
                },
                Ok(Exit {
                    from: Active,
                    at: created - Duration::days(1),
                }),
            ),
            (
                Discharge,
                ExitFacts {
                    status: Pending,
                    ..base
                },
                Err(ExitRefusal::Transition(
                    next(Pending, Discharge).unwrap_err(),
                )),
            ),
            (
                Discharge,
                ExitFacts {
                    status: Exited,
                    ..base
                },
                Err(ExitRefusal::Transition(
                    next(Exited, Discharge).unwrap_err(),
                )),
            ),
            // The effective time is judged before the status.
            (
                Discharge,
                ExitFacts {
                    status: Exited,
                    effective_at: Some(now + Duration::days(1)),
                    ..base
                },
                future,
            ),
            (
                Withdraw,
                ExitFacts {
                    status: Pending,
                    signed_at: None,
                    ..base
                },
                Ok(Exit {
                    from: Pending,
                    at: now,
                }),
            ),
            (
                Withdraw,
                ExitFacts {
                    status: Pending,
                    signed_at: None,
                    effective_at: Some(created - Duration::days(1)),
                    ..base
                },
                early,
            ),
            (
                Withdraw,
                base,
                Err(ExitRefusal::Transition(next(Active, Withdraw).unwrap_err())),
            ),
        ];
        for (event, facts, want) in table {
            assert_eq!(decide_exit(event, &facts), want, "{event:?} {facts:?}");
        }
    }

    #[test]
    fn discharge_fields() {
        let long = "x".repeat(DISCHARGE_NOTE_MAX + 1);
        let table: [(ExitReason, &str, Vec<&str>); 6] = [
            (ExitReason::DroppedOut, "stopped coming", vec![]),
            (ExitReason::Other, "moved away", vec![]),
            (ExitReason::Completed, "done", vec!["exit_reason"]),
            (ExitReason::Withdrawn, "done", vec!["exit_reason"]),
            (ExitReason::Discharged, "  ", vec!["note"]),
            (ExitReason::GroupEnded, &long, vec!["exit_reason", "note"]),
        ];
        for (reason, note, fields) in table {
            assert_eq!(check_discharge(reason, note).fields(), fields, "{reason:?}");
        }
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

    fn notice() -> ExitNoticeFacts {
        let now = "2026-03-10T23:00:00Z".parse().unwrap();
        ExitNoticeFacts {
            status: Active,
            group_status: GroupStatus::Active,
            tz: chrono_tz::America::New_York,
            joined_on: NaiveDate::from_ymd_opt(2026, 3, 3),
            announced_at: now,
            now,
        }
    }

    fn notice_fields(f: &ExitNoticeFacts) -> Vec<String> {
        match decide_exit_notice(f) {
            Err(ExitNoticeRefusal::Invalid(v)) => {
                v.fields().into_iter().map(str::to_owned).collect()
            }
            other => panic!("not a field refusal: {other:?}"),
        }
    }

    #[test]
    fn an_active_member_gives_notice_now_or_late() {
        let f = notice();
        assert_eq!(decide_exit_notice(&f), Ok(()));
        // Recorded a week late, or on the day of joining (local time), or within the skew.
        let late = ExitNoticeFacts {
            announced_at: f.now - Duration::days(7),
            ..f
        };
        assert_eq!(decide_exit_notice(&late), Ok(()));
        let skewed = ExitNoticeFacts {
            announced_at: f.now + Duration::seconds(crate::domain::screening::FUTURE_SKEW_SECS),
            ..f
        };
        assert_eq!(decide_exit_notice(&skewed), Ok(()));
        // 2026-03-03 20:00 in New York is already the 4th in UTC: the day of joining there.
        let joining_day = ExitNoticeFacts {
            announced_at: "2026-03-04T01:00:00Z".parse().unwrap(),
            ..f
        };
        assert_eq!(decide_exit_notice(&joining_day), Ok(()));
        // Never joined (no date recorded): only the clock bounds the notice.
        let undated = ExitNoticeFacts {
            joined_on: None,
            announced_at: f.now - Duration::days(400),
            ..f
        };
        assert_eq!(decide_exit_notice(&undated), Ok(()));
    }

    #[test]
    fn an_exit_notice_needs_an_active_member() {
        for status in [Pending, Exiting, Exited] {
            let f = ExitNoticeFacts { status, ..notice() };
            assert!(
                matches!(
                    decide_exit_notice(&f),
                    Err(ExitNoticeRefusal::Transition(_))
                ),
                "{status:?}"
            );
        }
        // The status answers first, even in a closed group with a bad date.
        let f = ExitNoticeFacts {
            status: Exited,
            group_status: GroupStatus::Completed,
            announced_at: notice().now + Duration::days(1),
            ..notice()
        };
        assert_eq!(
            decide_exit_notice(&f),
            Err(ExitNoticeRefusal::Transition(
                "A exited membership cannot take an exit notice (only active memberships can)."
                    .into()
            ))
        );
    }

    #[test]
    fn an_exit_notice_needs_an_open_group() {
        for group_status in [GroupStatus::Completed, GroupStatus::Cancelled] {
            let f = ExitNoticeFacts {
                group_status,
                announced_at: notice().now + Duration::days(1),
                ..notice()
            };
            assert_eq!(decide_exit_notice(&f), Err(ExitNoticeRefusal::GroupClosed));
        }
        let forming = ExitNoticeFacts {
            group_status: GroupStatus::Forming,
            ..notice()
        };
        assert_eq!(decide_exit_notice(&forming), Ok(()));
    }

    #[test]
    fn announced_at_is_not_in_the_future_nor_before_joining() {
        let f = notice();
        let future = ExitNoticeFacts {
            announced_at: f.now + Duration::seconds(crate::domain::screening::FUTURE_SKEW_SECS + 1),
            ..f
        };
        assert_eq!(notice_fields(&future), vec!["announced_at"]);
        // 2026-03-03 01:00 UTC is still the 2nd in New York: the day before joining.
        let early = ExitNoticeFacts {
            announced_at: "2026-03-03T01:00:00Z".parse().unwrap(),
            ..f
        };
        assert_eq!(notice_fields(&early), vec!["announced_at"]);
        // Both at once (a joining date after now): both findings.
        let both = ExitNoticeFacts {
            joined_on: NaiveDate::from_ymd_opt(2026, 4, 1),
            announced_at: f.now + Duration::days(1),
            ..f
        };
        match decide_exit_notice(&both) {
            Err(ExitNoticeRefusal::Invalid(v)) => {
                let messages: Vec<&str> = v.errors().iter().map(|e| e.message.as_str()).collect();
                assert_eq!(
                    messages,
                    vec!["must not be in the future", "must not be before joined_on"]
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
