//! Session notes (SPEC §2): their content, and the lifecycle draft → signed → cosigned, with
//! append-only addenda after signing.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::validation::Validations;

const TEXT_MAX: usize = 20_000;

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
pub enum NoteStatus {
    Draft,
    Signed,
    Cosigned,
    /// v2: entered in error; kept for supervisors, never exported, not documentation.
    Voided,
}

impl NoteStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteStatus::Draft => "draft",
            NoteStatus::Signed => "signed",
            NoteStatus::Cosigned => "cosigned",
            NoteStatus::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::Signed, Self::Cosigned, Self::Voided]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A group note: the group as a whole.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GroupNoteContent {
    #[serde(default)]
    pub themes: String,
    /// Cohesion, conflict, here-and-now.
    #[serde(default)]
    pub group_process: String,
    #[serde(default)]
    pub interventions: String,
    #[serde(default)]
    pub plan: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Participation {
    Active,
    Moderate,
    Minimal,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskFlag {
    SuicidalIdeation,
    Relapse,
    IntoxicatedInSession,
    SafetyConcern,
    Other,
}

/// A member note: one member at one session.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MemberNoteContent {
    pub participation: Participation,
    /// Progress toward the member's goals.
    #[serde(default)]
    pub progress: String,
    #[serde(default)]
    pub risk_flags: Vec<RiskFlag>,
    #[serde(default)]
    pub content: String,
}

/// A group note's fields as a note shows them (every field present).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupNoteFields {
    pub themes: String,
    /// Cohesion, conflict, here-and-now.
    pub group_process: String,
    pub interventions: String,
    pub plan: String,
}

/// A member note's fields as a note shows them (every field present).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberNoteFields {
    pub participation: Participation,
    /// Progress toward the member's goals.
    pub progress: String,
    pub risk_flags: Vec<RiskFlag>,
    pub content: String,
}

/// The content of a note: a group note's or a member note's fields (by the note's `kind`).
/// Documents what `Note` carries at its top level; the stored fields are served as sealed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum NoteFields {
    Group(GroupNoteFields),
    Member(MemberNoteFields),
}

/// An addendum to a signed note.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AddendumContent {
    pub content: String,
}

fn check_texts(fields: &[(&str, &str)]) -> Validations {
    let mut v = Validations::new();
    for (field, text) in fields {
        if let Err(m) = crate::domain::text::text(text, TEXT_MAX) {
            v.add(*field, m);
        }
    }
    v
}

impl GroupNoteContent {
    pub fn validate(&self) -> Validations {
        check_texts(&[
            ("themes", &self.themes),
            ("group_process", &self.group_process),
            ("interventions", &self.interventions),
            ("plan", &self.plan),
        ])
    }
}

/// Why a note's content is not stored.
#[derive(Debug)]
pub enum ContentError {
    /// A field breaks a rule (422).
    Invalid(Validations),
    /// The fields do not serialise (an internal error).
    Encoding(serde_json::Error),
}

/// The validated fields of a note, as sealed in its ciphertext.
fn fields(content: &impl Serialize, v: Validations) -> Result<serde_json::Value, ContentError> {
    v.finish().map_err(ContentError::Invalid)?;
    serde_json::to_value(content).map_err(ContentError::Encoding)
}

impl GroupNoteContent {
    pub fn into_fields(self) -> Result<serde_json::Value, ContentError> {
        fields(&self, self.validate())
    }
}

impl MemberNoteContent {
    pub fn into_fields(self) -> Result<serde_json::Value, ContentError> {
        fields(&self, self.validate())
    }

    pub fn validate(&self) -> Validations {
        let mut v = check_texts(&[("progress", &self.progress), ("content", &self.content)]);
        let mut flags = self.risk_flags.clone();
        flags.sort_by_key(|f| *f as u8);
        flags.dedup();
        v.check(
            flags.len() == self.risk_flags.len(),
            "risk_flags",
            "must not repeat a flag",
        );
        v
    }
}

impl AddendumContent {
    pub fn validate(&self) -> Validations {
        let mut v = check_texts(&[("content", &self.content)]);
        v.check(
            !self.content.trim().is_empty(),
            "content",
            "must not be empty",
        );
        v
    }
}

/// Why a lifecycle step is refused (each a 409; `Signed` is `note_signed`, the others
/// `conflict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteRefusal {
    /// Signed or co-signed: no longer editable.
    Signed,
    /// A draft cannot be co-signed.
    NotSigned,
    AlreadyCosigned,
    /// A draft takes edits, not addenda.
    DraftAddendum,
    Voided,
}

impl NoteRefusal {
    pub fn message(self) -> &'static str {
        match self {
            NoteRefusal::Signed => {
                "The note is signed and can no longer change; add an addendum instead."
            }
            NoteRefusal::NotSigned => {
                "The note must be signed by its author before it is co-signed."
            }
            NoteRefusal::AlreadyCosigned => "The note is already co-signed.",
            NoteRefusal::DraftAddendum => {
                "The note is still a draft: edit it instead of adding an addendum."
            }
            NoteRefusal::Voided => "The note was voided (entered in error).",
        }
    }
}

/// Editing is only for drafts.
pub fn can_edit(status: NoteStatus) -> Result<(), NoteRefusal> {
    match status {
        NoteStatus::Draft => Ok(()),
        NoteStatus::Voided => Err(NoteRefusal::Voided),
        NoteStatus::Signed | NoteStatus::Cosigned => Err(NoteRefusal::Signed),
    }
}

pub fn can_sign(status: NoteStatus) -> Result<(), NoteRefusal> {
    can_edit(status)
}

pub fn can_cosign(status: NoteStatus) -> Result<(), NoteRefusal> {
    match status {
        NoteStatus::Signed => Ok(()),
        NoteStatus::Draft => Err(NoteRefusal::NotSigned),
        NoteStatus::Cosigned => Err(NoteRefusal::AlreadyCosigned),
        NoteStatus::Voided => Err(NoteRefusal::Voided),
    }
}

pub fn can_add_addendum(status: NoteStatus) -> Result<(), NoteRefusal> {
    match status {
        NoteStatus::Draft => Err(NoteRefusal::DraftAddendum),
        NoteStatus::Voided => Err(NoteRefusal::Voided),
        NoteStatus::Signed | NoteStatus::Cosigned => Ok(()),
    }
}

/// A note entered in error is voided (v2) by its author or a supervisor, from any status but
/// `voided`, with a reason.
pub fn can_void(
    status: NoteStatus,
    is_author: bool,
    is_supervisor: bool,
) -> Result<(), VoidRefusal> {
    if !(is_author || is_supervisor) {
        return Err(VoidRefusal::NotAllowed);
    }
    if status == NoteStatus::Voided {
        return Err(VoidRefusal::Refused(NoteRefusal::Voided));
    }
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
pub enum VoidRefusal {
    /// Neither the author nor a supervisor: 403.
    NotAllowed,
    Refused(NoteRefusal),
}

/// The body of `…/void`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VoidNote {
    /// Why the note was entered in error (e.g. written on the wrong member).
    pub reason: String,
}

impl VoidNote {
    pub fn validate(&self) -> Validations {
        let mut v = Validations::new();
        match crate::domain::text::text(self.reason.trim(), 2000) {
            Ok(r) if r.is_empty() => v.add("reason", "is required"),
            Ok(_) => {}
            Err(m) => v.add("reason", m),
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NoteStatus::*;

    #[test]
    fn lifecycle() {
        use NoteRefusal as R;
        type Step = fn(NoteStatus) -> Result<(), NoteRefusal>;
        type Outcomes = [Result<(), NoteRefusal>; 4];
        let table: [(&str, Step, Outcomes); 4] = [
            // step, then its outcome from draft, signed, cosigned, voided
            (
                "edit",
                can_edit,
                [Ok(()), Err(R::Signed), Err(R::Signed), Err(R::Voided)],
            ),
            (
                "sign",
                can_sign,
                [Ok(()), Err(R::Signed), Err(R::Signed), Err(R::Voided)],
            ),
            (
                "cosign",
                can_cosign,
                [
                    Err(R::NotSigned),
                    Ok(()),
                    Err(R::AlreadyCosigned),
                    Err(R::Voided),
                ],
            ),
            (
                "addendum",
                can_add_addendum,
                [Err(R::DraftAddendum), Ok(()), Ok(()), Err(R::Voided)],
            ),
        ];
        for (name, step, outcomes) in table {
            for (from, want) in [Draft, Signed, Cosigned, Voided].into_iter().zip(outcomes) {
                assert_eq!(step(from), want, "{name} from {from:?}");
            }
        }
    }

    #[test]
    fn voiding() {
        assert!(can_void(Draft, true, false).is_ok());
        assert!(can_void(Cosigned, false, true).is_ok());
        assert_eq!(can_void(Signed, false, false), Err(VoidRefusal::NotAllowed));
        assert!(matches!(
            can_void(Voided, true, true),
            Err(VoidRefusal::Refused(_))
        ));
        assert!(VoidNote { reason: " ".into() }.validate().finish().is_err());
        assert!(VoidNote {
            reason: "wrong member".into()
        }
        .validate()
        .finish()
        .is_ok());
    }

    #[test]
    fn member_note_validation() {
        let n = MemberNoteContent {
            participation: Participation::Active,
            progress: String::new(),
            risk_flags: vec![RiskFlag::Relapse, RiskFlag::Relapse],
            content: String::new(),
        };
        assert!(n.validate().finish().is_err());
        let parsed: Result<MemberNoteContent, _> =
            serde_json::from_str(r#"{"participation":"loud"}"#);
        assert!(parsed.is_err());
    }
}
