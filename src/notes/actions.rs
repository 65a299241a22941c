//! The five note actions, shared by group and member notes (SPEC §2): read, write a draft,
//! sign, co-sign, append an addendum. The gate has refused other roles (403, audited once);
//! each runs as: the permit that opens the note → session and scope (404) →
//! the step → an allowed audit event → the note as it now is, decrypted, in one transaction;
//! any failure rolls back and is audited as denied (`failure::audited`).

use actix_web::http::header::ETAG;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use diesel::PgConnection;
use serde_json::{json, Value};
use uuid::Uuid;

use super::addenda;
use super::failure::{audited, Attempt, Failure};
use super::model::{self, NoteRow, Target};
use crate::auth::policy::act;
use crate::auth::{scope, Action, Staff};
use crate::domain::note::{
    can_add_addendum, can_cosign, can_edit, can_sign, can_void, AddendumContent, ContentError,
    NoteRefusal, NoteStatus, VoidNote, VoidRefusal,
};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::http::etag::{etag, IfMatch};
use crate::notes::crypto::OpensSealedText;
use crate::roster;
use crate::sessions::model as sessions;
use crate::sessions::model::SessionStatus;
use crate::state::AppState;

/// What a step changed: the answer's status, the note to show, an addendum it appended.
struct Done {
    status: StatusCode,
    note: NoteRow,
    addendum_id: Option<Uuid>,
}

fn details(target: Target) -> Value {
    json!({"session_id": target.session_id(), "membership_id": target.membership_id()})
}

/// A refused lifecycle step as its 409.
fn refuse(r: NoteRefusal) -> Failure {
    let code = match r {
        NoteRefusal::Signed => ErrorCode::NoteSigned,
        NoteRefusal::NotSigned
        | NoteRefusal::AlreadyCosigned
        | NoteRefusal::DraftAddendum
        | NoteRefusal::Voided => ErrorCode::Conflict,
    };
    AppError::conflict(code, r.message()).into()
}

impl From<ContentError> for AppError {
    fn from(e: ContentError) -> Self {
        match e {
            ContentError::Invalid(v) => v.into(),
            ContentError::Encoding(e) => AppError::Internal(e.into()),
        }
    }
}

fn reread(conn: &mut PgConnection, target: Target) -> Result<NoteRow, Failure> {
    Ok(model::find(conn, target, false)?.ok_or(AppError::NotFound)?)
}

fn existing(conn: &mut PgConnection, target: Target) -> Result<NoteRow, Failure> {
    Ok(model::find(conn, target, true)?.ok_or(AppError::NotFound)?)
}

async fn perform<A: OpensSealedText + 'static>(
    state: web::Data<AppState>,
    staff: Staff,
    target: Target,
    action: &'static str,
    step: impl FnOnce(&mut PgConnection, &AppState) -> Result<Done, Failure> + Send + 'static,
) -> AppResult<HttpResponse> {
    // The gate refused every other role before the request was read; the permit is what
    // opens the note's text for the answer.
    let reader = state.notes.reader(&staff.permit::<A>()?);
    let st = state.clone();
    let (status, note) = state
        .db
        .run(move |conn| {
            let audit = staff.audit();
            let resource_type = target.kind().resource_type();
            let attempt = Attempt {
                action,
                resource_type,
                resource_id: None,
                details: details(target),
            };
            audited(conn, &audit, attempt, |conn| {
                let session =
                    sessions::find(conn, target.session_id())?.ok_or(AppError::NotFound)?;
                if staff.is_scoped()
                    && !scope::is_group_therapist(conn, staff.id, session.group_id)?
                {
                    return Err(Failure::OutOfScope);
                }
                let done = step(conn, &st)?;
                let mut d = details(target);
                if let Some(a) = done.addendum_id {
                    d["addendum_id"] = json!(a);
                }
                audit.allowed(conn, action, resource_type, Some(done.note.id), d)?;
                Ok((done.status, model::view(conn, &reader, done.note)?))
            })
        })
        .await?;
    Ok(HttpResponse::build(status)
        .insert_header((ETAG, etag(note.version)))
        .json(note))
}

/// The live note; with none, a supervisor reads the note last voided there (v2: notes entered
/// in error are kept for supervisors), anyone else finds nothing.
pub(super) async fn read(
    state: web::Data<AppState>,
    staff: Staff,
    target: Target,
) -> AppResult<HttpResponse> {
    let supervisor = staff.can(Action::ReadVoidedNotes);
    perform::<act::ReadNotes>(state, staff, target, "note.read", move |conn, _| {
        let note = match model::find(conn, target, false)? {
            Some(n) => n,
            None if supervisor => model::find_voided(conn, target)?.ok_or(AppError::NotFound)?,
            None => return Err(AppError::NotFound.into()),
        };
        Ok(Done {
            status: StatusCode::OK,
            note,
            addendum_id: None,
        })
    })
    .await
}

/// Marks the note entered in error (v2): the author or a supervisor, with a reason. The note is
/// kept (a supervisor can still read it), leaves record exports and documentation, and a
/// replacement may be written.
pub(super) async fn void(
    state: web::Data<AppState>,
    staff: Staff,
    target: Target,
    body: VoidNote,
) -> AppResult<HttpResponse> {
    let who = staff.id;
    let supervisor = staff.can(Action::VoidAnyNote);
    perform::<act::WriteNotes>(state, staff, target, "note.void", move |conn, _| {
        body.validate().finish().map_err(AppError::from)?;
        let note = match model::find(conn, target, true)? {
            Some(n) => n,
            // Only a voided one here: already entered in error.
            None => model::find_voided(conn, target)?.ok_or(AppError::NotFound)?,
        };
        can_void(note.status(), note.author_id == who, supervisor).map_err(|r| match r {
            VoidRefusal::NotAllowed => Failure::App(AppError::Forbidden),
            VoidRefusal::Refused(r) => refuse(r),
        })?;
        if model::void(conn, &note, who, body.reason.trim())? == 0 {
            return Err(
                AppError::conflict(ErrorCode::Conflict, "The note changed meanwhile.").into(),
            );
        }
        let voided = model::find_voided(conn, target)?.ok_or(AppError::NotFound)?;
        Ok(Done {
            status: StatusCode::OK,
            note: voided,
            addendum_id: None,
        })
    })
    .await
}

/// Creates the draft (201) or edits it (200): only for a session that has begun and was not
/// cancelled, a member note only for a membership seated at it; only the author edits, only
/// a draft (409 `note_signed`), and `If-Match` is honoured.
pub(super) async fn write(
    state: web::Data<AppState>,
    staff: Staff,
    target: Target,
    if_match: IfMatch,
    fields: AppResult<Value>,
) -> AppResult<HttpResponse> {
    let author = staff.id;
    perform::<act::WriteNotes>(state, staff, target, "note.write", move |conn, st| {
        let fields = fields?;
        // The session's lock serialises a note's first writers: one creates, the next edits.
        let session = sessions::lock(conn, target.session_id())?;
        if session.status == SessionStatus::Cancelled {
            return Err(AppError::conflict(
                ErrorCode::SessionCancelled,
                "The session was cancelled.",
            )
            .into());
        }
        if Utc::now() < session.scheduled_at {
            return Err(AppError::conflict(
                ErrorCode::SessionNotStarted,
                "The session has not begun yet.",
            )
            .into());
        }
        if let Some(m) = target.membership_id() {
            if !roster::is_seated(conn, m, session.id)? {
                return Err(AppError::invalid(
                    "membership_id",
                    "the membership holds no seat at this session",
                )
                .into());
            }
        }
        let status = match model::find(conn, target, true)? {
            None => {
                // Versions start at 1: a specific tag cannot match a note not yet written.
                if_match.check(0)?;
                model::insert(conn, &st.notes, target, author, &fields)?;
                StatusCode::CREATED
            }
            Some(note) => {
                can_edit(note.status()).map_err(refuse)?;
                if note.author_id != author {
                    return Err(AppError::Forbidden.into());
                }
                if_match.check(note.version)?;
                model::edit(conn, &st.notes, &note, &fields)?;
                StatusCode::OK
            }
        };
        Ok(Done {
            status,
            note: reread(conn, target)?,
            addendum_id: None,
        })
    })
    .await
}

/// `draft → signed` by the author: the note is immutable from then on.
pub(super) async fn sign(
    state: web::Data<AppState>,
    staff: Staff,
    target: Target,
) -> AppResult<HttpResponse> {
    let who = staff.id;
    perform::<act::WriteNotes>(state, staff, target, "note.sign", move |conn, _| {
        let note = existing(conn, target)?;
        can_sign(note.status()).map_err(refuse)?;
        if note.author_id != who {
            return Err(AppError::Forbidden.into());
        }
        advance(conn, target, &note, NoteStatus::Signed, who)
    })
    .await
}

/// `signed → cosigned` by a supervisor other than the author, once.
pub(super) async fn cosign(
    state: web::Data<AppState>,
    staff: Staff,
    target: Target,
) -> AppResult<HttpResponse> {
    let who = staff.id;
    perform::<act::CosignNote>(state, staff, target, "note.cosign", move |conn, _| {
        let note = existing(conn, target)?;
        can_cosign(note.status()).map_err(refuse)?;
        if note.author_id == who {
            return Err(AppError::conflict(
                ErrorCode::Conflict,
                "A co-signature must come from someone other than the author.",
            )
            .into());
        }
        advance(conn, target, &note, NoteStatus::Cosigned, who)
    })
    .await
}

fn advance(
    conn: &mut PgConnection,
    target: Target,
    note: &NoteRow,
    to: NoteStatus,
    who: Uuid,
) -> Result<Done, Failure> {
    // The row is locked, so the guarded update cannot miss; the guard stays as a second line.
    if model::advance(conn, note, to, who)? == 0 {
        return Err(AppError::conflict(ErrorCode::Conflict, "The note changed meanwhile.").into());
    }
    Ok(Done {
        status: StatusCode::OK,
        note: reread(conn, target)?,
        addendum_id: None,
    })
}

/// Appends an addendum to a signed (or co-signed) note; a draft answers 409.
pub(super) async fn add_addendum(
    state: web::Data<AppState>,
    staff: Staff,
    target: Target,
    body: AddendumContent,
) -> AppResult<HttpResponse> {
    let who = staff.id;
    perform::<act::WriteNotes>(state, staff, target, "note.addendum", move |conn, st| {
        body.validate().finish().map_err(AppError::from)?;
        let note = existing(conn, target)?;
        can_add_addendum(note.status()).map_err(refuse)?;
        let id = addenda::insert(conn, &st.notes, &note, who, &body.content)?;
        model::bump_version(conn, &note)?;
        Ok(Done {
            status: StatusCode::CREATED,
            note: reread(conn, target)?,
            addendum_id: Some(id),
        })
    })
    .await
}
