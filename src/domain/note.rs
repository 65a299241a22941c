//! Session notes (SPEC §2): their content, and the lifecycle draft → signed → cosigned, with
//! append-only addenda after signing.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{AppError, AppResult, ErrorCode, Validations};

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

/// The validated fields of a note, as sealed in its ciphertext.
fn fields(content: &impl Serialize, v: Validations) -> AppResult<serde_json::Value> {
    v.finish()?;
    serde_json::to_value(content).map_err(|e| AppError::Internal(e.into()))
}

impl GroupNoteContent {
    pub fn into_fields(self) -> AppResult<serde_json::Value> {
        fields(&self, self.validate())
    }
}

impl MemberNoteContent {
    pub fn into_fields(self) -> AppResult<serde_json::Value> {
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

/// Why a lifecycle step is refused, as (code, detail).
pub type Refusal = (ErrorCode, &'static str);

/// Editing is only for drafts.
pub fn can_edit(status: NoteStatus) -> Result<(), Refusal> {
    match status {
        NoteStatus::Draft => Ok(()),
        NoteStatus::Voided => Err(VOIDED),
        _ => Err((
            ErrorCode::NoteSigned,
            "The note is signed and can no longer change; add an addendum instead.",
        )),
    }
}

pub fn can_sign(status: NoteStatus) -> Result<(), Refusal> {
    can_edit(status)
}

pub fn can_cosign(status: NoteStatus) -> Result<(), Refusal> {
    match status {
        NoteStatus::Signed => Ok(()),
        NoteStatus::Draft => Err((
            ErrorCode::Conflict,
            "The note must be signed by its author before it is co-signed.",
        )),
        NoteStatus::Cosigned => Err((ErrorCode::Conflict, "The note is already co-signed.")),
        NoteStatus::Voided => Err(VOIDED),
    }
}

pub fn can_add_addendum(status: NoteStatus) -> Result<(), Refusal> {
    match status {
        NoteStatus::Draft => Err((
            ErrorCode::Conflict,
            "The note is still a draft: edit it instead of adding an addendum.",
        )),
        NoteStatus::Voided => Err(VOIDED),
        _ => Ok(()),
    }
}

const VOIDED: Refusal = (
    ErrorCode::Conflict,
    "The note was voided (entered in error).",
);

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
        return Err(VoidRefusal::Refused(VOIDED));
    }
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
pub enum VoidRefusal {
    /// Neither the author nor a supervisor: 403.
    NotAllowed,
    Refused(Refusal),
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
        assert!(can_edit(Draft).is_ok());
        assert_eq!(can_edit(Signed).unwrap_err().0, ErrorCode::NoteSigned);
        assert_eq!(can_sign(Cosigned).unwrap_err().0, ErrorCode::NoteSigned);
        assert!(can_cosign(Signed).is_ok());
        assert!(can_cosign(Draft).is_err());
        assert!(can_cosign(Cosigned).is_err());
        assert!(can_add_addendum(Draft).is_err());
        assert!(can_add_addendum(Signed).is_ok() && can_add_addendum(Cosigned).is_ok());
        assert!(can_edit(Voided).is_err() && can_cosign(Voided).is_err());
        assert!(can_add_addendum(Voided).is_err());
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
