//! Group composition (SPEC §2, v2; TIP 41): a group should not hold a lone member of their
//! kind — one woman among men, one court-mandated member among volunteers. For each value of
//! `gender`, `mandated` or `referral_source` held by exactly one seated member of a group with
//! at least three seated members, one warning. `undisclosed` and unknown gender never warn.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::client::{Gender, ReferralSource};

/// Groups smaller than this never warn: with two members everyone is "alone".
pub const MIN_SEATED: usize = 3;

/// What composition looks at in one seated member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traits {
    pub gender: Option<Gender>,
    pub mandated: bool,
    pub referral_source: ReferralSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompositionAttribute {
    Gender,
    Mandated,
    ReferralSource,
}

/// The value a lone member holds: a text value (gender, referral source) or `mandated`'s
/// boolean.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum WarningValue {
    Flag(bool),
    Text(String),
}

/// One seated member alone with this value of this attribute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub struct CompositionWarning {
    pub attribute: CompositionAttribute,
    pub value: WarningValue,
}

/// The warnings of a group whose seated members have these traits, in a stable order.
pub fn warnings(members: &[Traits]) -> Vec<CompositionWarning> {
    if members.len() < MIN_SEATED {
        return Vec::new();
    }
    let mut counts: BTreeMap<CompositionWarning, usize> = BTreeMap::new();
    for m in members {
        if let Some(g) = m.gender.filter(|g| *g != Gender::Undisclosed) {
            *counts
                .entry(CompositionWarning {
                    attribute: CompositionAttribute::Gender,
                    value: WarningValue::Text(g.as_str().into()),
                })
                .or_default() += 1;
        }
        *counts
            .entry(CompositionWarning {
                attribute: CompositionAttribute::Mandated,
                value: WarningValue::Flag(m.mandated),
            })
            .or_default() += 1;
        *counts
            .entry(CompositionWarning {
                attribute: CompositionAttribute::ReferralSource,
                value: WarningValue::Text(m.referral_source.as_str().into()),
            })
            .or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n == 1)
        .map(|(w, _)| w)
        .collect()
}

/// What a change of composition did: the warnings it created and those it resolved.
pub fn changes(
    before: &[CompositionWarning],
    after: &[CompositionWarning],
) -> (Vec<CompositionWarning>, Vec<CompositionWarning>) {
    let created = after
        .iter()
        .filter(|w| !before.contains(w))
        .cloned()
        .collect();
    let resolved = before
        .iter()
        .filter(|w| !after.contains(w))
        .cloned()
        .collect();
    (created, resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(gender: Option<Gender>, mandated: bool, source: ReferralSource) -> Traits {
        Traits {
            gender,
            mandated,
            referral_source: source,
        }
    }

    fn gender(v: &str) -> CompositionWarning {
        CompositionWarning {
            attribute: CompositionAttribute::Gender,
            value: WarningValue::Text(v.into()),
        }
    }

    #[test]
    fn a_lone_woman_and_a_lone_mandated_member() {
        use Gender::*;
        use ReferralSource::*;
        let members = [
            t(Some(Man), false, SelfReferred),
            t(Some(Man), false, SelfReferred),
            t(Some(Woman), false, SelfReferred),
            t(None, true, SelfReferred),
            t(Some(Undisclosed), false, SelfReferred),
        ];
        let w = warnings(&members);
        assert_eq!(
            w,
            vec![
                gender("woman"),
                CompositionWarning {
                    attribute: CompositionAttribute::Mandated,
                    value: WarningValue::Flag(true)
                },
            ],
            "undisclosed and unknown never warn"
        );
    }

    #[test]
    fn small_groups_never_warn() {
        let members = [
            t(Some(Gender::Woman), true, ReferralSource::Court),
            t(Some(Gender::Man), false, ReferralSource::SelfReferred),
        ];
        assert!(warnings(&members).is_empty());
    }

    #[test]
    fn court_referral_alone() {
        use ReferralSource::*;
        let members = [
            t(None, true, Court),
            t(None, true, Probation),
            t(None, true, Probation),
        ];
        assert_eq!(
            warnings(&members),
            vec![CompositionWarning {
                attribute: CompositionAttribute::ReferralSource,
                value: WarningValue::Text("court".into())
            }]
        );
    }

    #[test]
    fn created_and_resolved() {
        let (c, r) = changes(&[gender("woman")], &[gender("nonbinary")]);
        assert_eq!((c, r), (vec![gender("nonbinary")], vec![gender("woman")]));
        let (c, r) = changes(&[gender("woman")], &[gender("woman")]);
        assert!(c.is_empty() && r.is_empty());
    }
}
