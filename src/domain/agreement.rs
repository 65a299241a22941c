//! Signing the group agreement (SPEC §2): a pending member signs the current version to become
//! active; (v2) an active or exiting member re-signs an amended agreement. Pure decision over
//! the facts the endpoint loads.

use super::membership::MembershipStatus;

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
    /// The membership is exited (409 `conflict`).
    NotSignable(MembershipStatus),
    /// Not the current version (409 `contract_outdated`).
    Outdated { offered: i32, current: i32 },
    /// The member already signed this version (409 `already_signed`).
    AlreadySigned(i32),
}

/// Decides a signature of version `offered` when `current` is the group's newest version and
/// the member already signed `held`.
pub fn decide_sign(
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
    fn currency() {
        assert!(contract_current(&[1, 2], Some(2)));
        assert!(!contract_current(&[1], Some(2)));
        assert!(!contract_current(&[], Some(1)), "pending: holds none");
        assert!(!contract_current(&[1], None));
    }
}
