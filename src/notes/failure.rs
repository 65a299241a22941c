//! How a note action fails, and how every failure is audited (SPEC §1: every decision on
//! clinical data, allowed or denied, is an audit event). A failed action leaves nothing
//! written but its denied event.

use actix_web::ResponseError;
use diesel::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

use super::crypto::OpenError;
use super::model::Kind;
use crate::audit::AuditCtx;
use crate::error::{AppError, AppResult, ErrorCode};

#[derive(Debug)]
pub enum Failure {
    /// Outside a therapist's scope: 404, existence not disclosed.
    OutOfScope,
    /// Any other answer: a refusal (4xx) with its code, or an internal error.
    App(AppError),
    /// A stored ciphertext does not authenticate under a configured key (altered, copied from
    /// another row, or sealed with a key no longer configured): 409 `note_undecryptable`,
    /// never a 500.
    Undecryptable {
        kind: Kind,
        note_id: Uuid,
        error: OpenError,
    },
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::App(e)
    }
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure::App(e.into())
    }
}

impl Failure {
    pub fn into_error(self) -> AppError {
        match self {
            Failure::OutOfScope => AppError::NotFound,
            Failure::App(e) => e,
            Failure::Undecryptable { .. } => AppError::conflict(
                ErrorCode::NoteUndecryptable,
                "The note cannot be decrypted: its stored ciphertext does not authenticate under \
                 a configured key. The failure is recorded; no content was disclosed.",
            ),
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Failure::OutOfScope => "out_of_scope",
            Failure::App(e) => e.code().as_str(),
            Failure::Undecryptable {
                error: OpenError::UnknownKey(_),
                ..
            } => "unknown_key",
            Failure::Undecryptable { .. } => "tampered",
        }
    }

    /// A decision to record: every refusal, not a server fault (nothing can be written then).
    fn is_decision(&self) -> bool {
        match self {
            Failure::App(e) => e.status_code().is_client_error(),
            _ => true,
        }
    }
}

/// What is being attempted, as the audit trail names it. `details` never holds content.
pub struct Attempt {
    pub action: &'static str,
    pub resource_type: &'static str,
    pub resource_id: Option<Uuid>,
    pub details: Value,
}

/// Runs `body` in one transaction. When it fails, everything it wrote is rolled back and the
/// refusal is written as a denied event in a transaction of its own: the attempted action
/// with its reason, or `note.decrypt_failed` naming the note that does not open.
pub fn audited<T>(
    conn: &mut PgConnection,
    audit: &AuditCtx,
    attempt: Attempt,
    body: impl FnOnce(&mut PgConnection) -> Result<T, Failure>,
) -> AppResult<T> {
    let failure = match conn.transaction(body) {
        Ok(done) => return Ok(done),
        Err(f) => f,
    };
    if failure.is_decision() {
        let mut details = attempt.details;
        details["reason"] = json!(failure.reason());
        let (action, resource_type, resource_id) = match &failure {
            Failure::Undecryptable {
                kind,
                note_id,
                error,
            } => {
                tracing::error!(%note_id, %error, "a note cannot be decrypted");
                details["attempted"] = json!(attempt.action);
                ("note.decrypt_failed", kind.resource_type(), Some(*note_id))
            }
            _ => (attempt.action, attempt.resource_type, attempt.resource_id),
        };
        conn.transaction(|conn| audit.denied(conn, action, resource_type, resource_id, details))?;
        return Err(match failure.into_error() {
            AppError::Forbidden => AppError::ForbiddenRecorded,
            e => e,
        });
    }
    Err(failure.into_error())
}
