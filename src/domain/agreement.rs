//! Signing the group agreement (SPEC §2): a pending member signs the current version to become
//! active; (v2) an active or exiting member re-signs an amended agreement. Pure decision over
//! the facts the endpoint loads.

use chrono::{DateTime, Duration, Utc};

use super::membership::MembershipStatus;
use super::screening::FUTURE_SKEW_SECS;
use super::validation::Validations;

/// What a signature does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignKind {
    /// `pending → active`, `joined_on` set.
    Admission,
    /// A seated member signs the amended (current) version; nothing else changes.
    Resign,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignRefusal {
    /// The contract named is not an agreement of the member's group (422 on `contract_id`).
    NotThisGroups,
    /// The membership is exited (409 `conflict`).
    NotSignable(MembershipStatus),
    /// Not the current version (409 `contract_outdated`).
    Outdated { offered: i32, current: i32 },
    /// The member already signed this version (409 `already_signed`).
    AlreadySigned(i32),
    /// `signed_at` breaks a rule (422).
    Invalid(Validations),
}

/// What a signature is decided on, loaded under the group's and the membership's locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignFacts {
    pub status: MembershipStatus,
    /// The version offered and the group's current version; `None` when the contract named is
    /// not one of the group's agreements.
    pub versions: Option<(i32, i32)>,
    /// The versions the member already signed.
    pub held: Vec<i32>,
    /// When the member's screening was completed.
    pub screened_at: Option<DateTime<Utc>>,
    /// The member's first signature, if any.
    pub first_signed_at: Option<DateTime<Utc>>,
    pub signed_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// An accepted signature: what it does, and of which version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    pub kind: SignKind,
    pub version: i32,
}

/// Decides a signature: the agreement must be the group's (an exited membership is refused
/// as such even then), then `decide_sign`, then `signed_at`: not in the future, not before the
/// screening's completion, and for a re-signature not before the first signature.
pub fn decide_signature(f: &SignFacts) -> Result<Signature, SignRefusal> {
    let Some((offered, current)) = f.versions else {
        return Err(match f.status {
            MembershipStatus::Exited => SignRefusal::NotSignable(f.status),
            _ => SignRefusal::NotThisGroups,
        });
    };
    let kind = decide_sign(f.status, offered, current, &f.held)?;
    let at = f.signed_at;
    let mut v = Validations::new();
    v.check(
        at <= f.now + Duration::seconds(FUTURE_SKEW_SECS),
        "signed_at",
        "must not be in the future",
    );
    v.check(
        f.screened_at.is_none_or(|s| at >= s),
        "signed_at",
        "must not be before the screening's completion",
    );
    if kind == SignKind::Resign {
        v.check(
            f.first_signed_at.is_none_or(|first| at >= first),
            "signed_at",
            "must not be before the member's first signature",
        );
    }
    v.finish().map_err(SignRefusal::Invalid)?;
    Ok(Signature {
        kind,
        version: offered,
    })
}

/// Decides a signature of version `offered` when `current` is the group's newest version and
/// the member already signed `held`.
fn decide_sign(
    status: MembershipStatus,
    offered: i32,
    current: i32,
    held: &[i32],
) -> Result<SignKind, SignRefusal> {
    let kind = match status {
        MembershipStatus::Pending => SignKind::Admission,
        MembershipStatus::Active | MembershipStatus::Exiting => SignKind::Resign,
        MembershipStatus::Exited => return Err(SignRefusal::NotSignable(status)),
    };
    if offered != current {
        return Err(SignRefusal::Outdated { offered, current });
    }
    if held.contains(&offered) {
        return Err(SignRefusal::AlreadySigned(offered));
    }
    Ok(kind)
}

/// `contract_current`: the newest version the member signed is the group's current one.
pub fn contract_current(held: &[i32], current: Option<i32>) -> bool {
    match (held.iter().max(), current) {
        (Some(h), Some(c)) => *h >= c,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MembershipStatus::*;

    #[test]
    fn admission_and_resign() {
        assert_eq!(decide_sign(Pending, 1, 1, &[]), Ok(SignKind::Admission));
        assert_eq!(decide_sign(Active, 2, 2, &[1]), Ok(SignKind::Resign));
        assert_eq!(decide_sign(Exiting, 3, 3, &[1, 2]), Ok(SignKind::Resign));
    }

    #[test]
    fn refusals() {
        assert_eq!(
            decide_sign(Pending, 1, 2, &[]),
            Err(SignRefusal::Outdated {
                offered: 1,
                current: 2
            })
        );
        assert_eq!(
            decide_sign(Active, 1, 2, &[1]),
            Err(SignRefusal::Outdated {
                offered: 1,
                current: 2
            }),
            "an older version is outdated even when held"
        );
        assert_eq!(
            decide_sign(Active, 2, 2, &[1, 2]),
            Err(SignRefusal::AlreadySigned(2))
        );
        assert_eq!(
            decide_sign(Exited, 2, 2, &[1]),
            Err(SignRefusal::NotSignable(Exited))
        );
    }

    #[test]
    fn signatures() {
        use chrono::TimeZone;
        let now = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
        let day = Duration::days(1);
        let pending = SignFacts {
            status: Pending,
            versions: Some((1, 1)),
            held: vec![],
            screened_at: Some(now - day * 10),
            first_signed_at: None,
            signed_at: now,
            now,
        };
        let active = SignFacts {
            status: Active,
            versions: Some((2, 2)),
            held: vec![1],
            first_signed_at: Some(now - day * 5),
            ..pending.clone()
        };
        let admission = Ok(Signature {
            kind: SignKind::Admission,
            version: 1,
        });
        type Case = (&'static str, SignFacts, Result<Signature, SignRefusal>);
        let table: Vec<Case> = vec![
            ("pending signs", pending.clone(), admission.clone()),
            (
                "late entry, after the screening",
                SignFacts {
                    signed_at: now - day * 9,
                    ..pending.clone()
                },
                admission.clone(),
            ),
            (
                "within the clock skew",
                SignFacts {
                    signed_at: now + Duration::seconds(30),
                    ..pending.clone()
                },
                admission,
            ),
            (
                "active re-signs",
                active.clone(),
                Ok(Signature {
                    kind: SignKind::Resign,
                    version: 2,
                }),
            ),
            (
                "another group's contract",
                SignFacts {
                    versions: None,
                    ..pending.clone()
                },
                Err(SignRefusal::NotThisGroups),
            ),
            (
                "exited, another group's contract",
                SignFacts {
                    status: Exited,
                    versions: None,
                    ..pending.clone()
                },
                Err(SignRefusal::NotSignable(Exited)),
            ),
            (
                "exited",
                SignFacts {
                    status: Exited,
                    ..active.clone()
                },
                Err(SignRefusal::NotSignable(Exited)),
            ),
            (
                "outdated",
                SignFacts {
                    versions: Some((1, 2)),
                    ..pending.clone()
                },
                Err(SignRefusal::Outdated {
                    offered: 1,
                    current: 2,
                }),
            ),
            (
                "already signed",
                SignFacts {
                    held: vec![1, 2],
                    ..active.clone()
                },
                Err(SignRefusal::AlreadySigned(2)),
            ),
            (
                "in the future",
                SignFacts {
                    signed_at: now + Duration::hours(1),
                    ..pending.clone()
                },
                Err(SignRefusal::Invalid(Validations::one(
                    "signed_at",
                    "must not be in the future",
                ))),
            ),
            (
                "before the screening",
                SignFacts {
                    signed_at: now - day * 11,
                    ..pending.clone()
                },
                Err(SignRefusal::Invalid(Validations::one(
                    "signed_at",
                    "must not be before the screening's completion",
                ))),
            ),
            (
                "re-signed before the first signature",
                SignFacts {
                    signed_at: now - day * 6,
                    ..active.clone()
                },
                Err(SignRefusal::Invalid(Validations::one(
                    "signed_at",
                    "must not be before the member's first signature",
                ))),
            ),
        ];
        for (case, facts, want) in table {
            assert_eq!(decide_signature(&facts), want, "{case}");
        }
        // Every broken rule is reported at once.
        let both = SignFacts {
            signed_at: now - day * 11,
            ..active
        };
        match decide_signature(&both) {
            Err(SignRefusal::Invalid(v)) => assert_eq!(v.fields(), ["signed_at", "signed_at"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn currency() {
        assert!(contract_current(&[1, 2], Some(2)));
        assert!(!contract_current(&[1], Some(2)));
        assert!(!contract_current(&[], Some(1)), "pending: holds none");
        assert!(!contract_current(&[1], None));
    }
}
