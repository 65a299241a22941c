//! Admitting a client to a group (SPEC §2): a pure decision over the facts the endpoint loads
//! under the group's lock. The endpoint writes what it returns.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::group::GroupStatus;
use super::screening::{self, Outcome, ScreeningStatus};

/// The screening named by an admission, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningFacts {
    pub client_id: Uuid,
    pub status: ScreeningStatus,
    pub outcome: Option<Outcome>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The group the screening was for, if any.
    pub group_id: Option<Uuid>,
}

/// Everything an admission is decided on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmissionFacts {
    pub group_id: Uuid,
    pub group_status: GroupStatus,
    pub max_size: i32,
    /// Seats held (pending, active, exiting) before this admission.
    pub seats_taken: i64,
    /// A reason for admitting a replacement into an active group was given.
    pub override_given: bool,
    /// The caller may override closed enrollment (a supervisor).
    pub may_override: bool,
    pub client_id: Uuid,
    pub client_exists: bool,
    /// The screening named, when it exists.
    pub screening: Option<ScreeningFacts>,
    /// The client already holds a seat in the group.
    pub already_seated: bool,
    /// The screening already admitted someone (v2: a screening admits once).
    pub screening_used: bool,
    pub now: DateTime<Utc>,
}

/// Why an admission is refused, in the order the rules are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdmissionRefusal {
    /// The group is active and no override reason was given.
    EnrollmentClosed,
    /// The caller may not override closed enrollment (403).
    OverrideNotAllowed,
    /// The group is completed or cancelled.
    GroupEnded(GroupStatus),
    NoSuchClient,
    /// No accepted screening of this client, valid for 90 days, for this group or for none.
    ScreeningRequired,
    AlreadyMember,
    /// The screening already admitted the client once.
    ScreeningUsed,
    GroupFull {
        max_size: i32,
    },
}

/// Whether a screening admits `client_id` to `group_id` at `now`: this client's, completed and
/// accepted, still valid (`screening::is_valid_at`), for this group or for none.
pub fn screening_admits(
    s: &ScreeningFacts,
    client_id: Uuid,
    group_id: Uuid,
    now: DateTime<Utc>,
) -> bool {
    s.client_id == client_id
        && s.status == ScreeningStatus::Completed
        && s.outcome == Some(Outcome::Accepted)
        && s.completed_at
            .is_some_and(|at| screening::is_valid_at(at, now))
        && s.group_id.is_none_or(|g| g == group_id)
}

/// Decides an admission: `Ok` admits the client as `pending`.
pub fn decide(f: &AdmissionFacts) -> Result<(), AdmissionRefusal> {
    use AdmissionRefusal::*;
    match f.group_status {
        GroupStatus::Forming => {}
        GroupStatus::Active if !f.override_given => return Err(EnrollmentClosed),
        GroupStatus::Active if !f.may_override => return Err(OverrideNotAllowed),
        GroupStatus::Active => {}
        ended => return Err(GroupEnded(ended)),
    }
    if !f.client_exists {
        return Err(NoSuchClient);
    }
    if !f
        .screening
        .as_ref()
        .is_some_and(|s| screening_admits(s, f.client_id, f.group_id, f.now))
    {
        return Err(ScreeningRequired);
    }
    if f.already_seated {
        return Err(AlreadyMember);
    }
    if f.screening_used {
        return Err(ScreeningUsed);
    }
    if f.seats_taken >= i64::from(f.max_size) {
        return Err(GroupFull {
            max_size: f.max_size,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap()
    }

    /// A forming group with room, an existing client and their fresh accepted screening.
    fn facts() -> AdmissionFacts {
        let client_id = Uuid::from_u128(1);
        AdmissionFacts {
            group_id: Uuid::from_u128(10),
            group_status: GroupStatus::Forming,
            max_size: 10,
            seats_taken: 9,
            override_given: false,
            may_override: false,
            client_id,
            client_exists: true,
            screening: Some(ScreeningFacts {
                client_id,
                status: ScreeningStatus::Completed,
                outcome: Some(Outcome::Accepted),
                completed_at: Some(now() - Duration::days(10)),
                group_id: None,
            }),
            already_seated: false,
            screening_used: false,
            now: now(),
        }
    }

    #[test]
    fn every_refusal_and_the_accepted_cases() {
        use AdmissionRefusal::*;
        type Change = fn(&mut AdmissionFacts);
        let table: Vec<(&str, Change, Result<(), AdmissionRefusal>)> = vec![
            ("forming, room left", |_| {}, Ok(())),
            (
                "screening for this group",
                |f| f.screening.as_mut().unwrap().group_id = Some(f.group_id),
                Ok(()),
            ),
            (
                "active, supervisor override",
                |f| {
                    f.group_status = GroupStatus::Active;
                    f.override_given = true;
                    f.may_override = true;
                },
                Ok(()),
            ),
            (
                "active, no override",
                |f| f.group_status = GroupStatus::Active,
                Err(EnrollmentClosed),
            ),
            (
                "active, override by a therapist",
                |f| {
                    f.group_status = GroupStatus::Active;
                    f.override_given = true;
                },
                Err(OverrideNotAllowed),
            ),
            (
                "completed group",
                |f| f.group_status = GroupStatus::Completed,
                Err(GroupEnded(GroupStatus::Completed)),
            ),
            (
                "cancelled group, even with an override",
                |f| {
                    f.group_status = GroupStatus::Cancelled;
                    f.override_given = true;
                    f.may_override = true;
                },
                Err(GroupEnded(GroupStatus::Cancelled)),
            ),
            (
                "no such client",
                |f| f.client_exists = false,
                Err(NoSuchClient),
            ),
            (
                "no such screening",
                |f| f.screening = None,
                Err(ScreeningRequired),
            ),
            (
                "another client's screening",
                |f| f.screening.as_mut().unwrap().client_id = Uuid::from_u128(2),
                Err(ScreeningRequired),
            ),
            (
                "screening still scheduled",
                |f| {
                    let s = f.screening.as_mut().unwrap();
                    s.status = ScreeningStatus::Scheduled;
                    s.completed_at = None;
                },
                Err(ScreeningRequired),
            ),
            (
                "screening deferred",
                |f| f.screening.as_mut().unwrap().outcome = Some(Outcome::Deferred),
                Err(ScreeningRequired),
            ),
            (
                "screening older than 90 days",
                |f| {
                    f.screening.as_mut().unwrap().completed_at =
                        Some(now() - Duration::days(90) - Duration::seconds(1))
                },
                Err(ScreeningRequired),
            ),
            (
                "screening for another group",
                |f| f.screening.as_mut().unwrap().group_id = Some(Uuid::from_u128(11)),
                Err(ScreeningRequired),
            ),
            (
                "already seated",
                |f| f.already_seated = true,
                Err(AlreadyMember),
            ),
            (
                "screening used",
                |f| f.screening_used = true,
                Err(ScreeningUsed),
            ),
            (
                "full",
                |f| f.seats_taken = 10,
                Err(GroupFull { max_size: 10 }),
            ),
        ];
        for (case, change, want) in table {
            let mut f = facts();
            change(&mut f);
            assert_eq!(decide(&f), want, "{case}");
        }
    }

    #[test]
    fn validity_is_the_last_instant_of_day_ninety() {
        let mut f = facts();
        f.screening.as_mut().unwrap().completed_at = Some(now() - Duration::days(90));
        assert!(decide(&f).is_ok());
    }
}
