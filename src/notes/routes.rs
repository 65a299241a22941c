//! `GET/PUT /sessions/{id}/group-note`, `POST …/group-note/sign|cosign|addenda`, and the same
//! for `/sessions/{id}/member-notes/{membership_id}`.
//!
//! Access (SPEC §1–§2): supervisors, and the therapists of the session's group; other roles
//! 403, other therapists 404. Every read and write, allowed or denied, is an audit event
//! without content. A note that cannot be decrypted answers 409 `note_undecryptable`.

use actix_web::{get, post, put, web, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

use super::model::{self, Note, NoteRow, Target};
use crate::audit::AuditCtx;
use crate::auth::{scope, Action, Role, Staff};
use crate::domain::note::{
    can_add_addendum, can_cosign, can_edit, can_sign, AddendumContent, GroupNoteContent,
    MemberNoteContent, NoteStatus,
};
use crate::error::{AppError, AppResult};
use crate::http::Json;
use crate::roster;
use crate::sessions::model as sessions;
use crate::state::AppState;

enum Outcome<T> {
    Done(T),
    Undecryptable,
}

fn resource_type(target: Target) -> &'static str {
    match target {
        Target::Group { .. } => "group_note",
        Target::Member { .. } => "member_note",
    }
}

fn details(target: Target) -> Value {
    json!({"session_id": target.session_id(), "membership_id": target.membership_id()})
}

/// Records a refusal in its own transaction (the request's work is not done).
async fn deny(
    state: &AppState,
    audit: AuditCtx,
    action: &'static str,
    target: Target,
    reason: &'static str,
) -> AppResult<()> {
    state
        .db
        .tx(move |conn| {
            let mut d = details(target);
            d["reason"] = json!(reason);
            audit.denied(conn, action, resource_type(target), None, d)
        })
        .await
}

/// Role, existence and scope, in that order; refusals are audited.
async fn authorize(
    state: &AppState,
    staff: &Staff,
    target: Target,
    action: &'static str,
    permission: Action,
) -> AppResult<()> {
    if !staff.can(permission) {
        deny(state, staff.audit(), action, target, "role").await?;
        return Err(AppError::Forbidden);
    }
    let s = staff.clone();
    let in_scope = state
        .db
        .run(move |conn| {
            let Some(session) = sessions::find(conn, target.session_id())? else {
                return Ok(None);
            };
            Ok(Some(
                scope::ensure_group(conn, &s, session.group_id).is_ok(),
            ))
        })
        .await?;
    match in_scope {
        None => Err(AppError::NotFound),
        Some(true) => Ok(()),
        Some(false) => {
            deny(state, staff.audit(), action, target, "out_of_scope").await?;
            Err(AppError::NotFound)
        }
    }
}

/// Decrypts for the answer; a failure is audited and reported as `Undecryptable`.
fn render(
    conn: &mut diesel::PgConnection,
    state: &AppState,
    audit: &AuditCtx,
    note: NoteRow,
) -> AppResult<Outcome<Note>> {
    let (id, target) = (note.id, note.target());
    match model::view(conn, &state.notes, note)? {
        Ok(n) => Ok(Outcome::Done(n)),
        Err(e) => {
            tracing::error!(note_id = %id, error = %e, "note cannot be decrypted");
            let mut d = details(target);
            d["error"] = json!(e.to_string());
            audit.denied(
                conn,
                "note.decrypt_failed",
                resource_type(target),
                Some(id),
                d,
            )?;
            Ok(Outcome::Undecryptable)
        }
    }
}

/// The note as the answer, with its HTTP status; or `Undecryptable`.
fn answer(
    conn: &mut diesel::PgConnection,
    state: &AppState,
    audit: &AuditCtx,
    note: NoteRow,
    status: u16,
) -> AppResult<Outcome<(u16, Note)>> {
    Ok(match render(conn, state, audit, note)? {
        Outcome::Done(n) => Outcome::Done((status, n)),
        Outcome::Undecryptable => Outcome::Undecryptable,
    })
}

fn finish(outcome: Outcome<(u16, Note)>) -> AppResult<HttpResponse> {
    match outcome {
        Outcome::Done((201, n)) => Ok(HttpResponse::Created().json(n)),
        Outcome::Done((_, n)) => Ok(HttpResponse::Ok().json(n)),
        Outcome::Undecryptable => Err(AppError::conflict(
            "note_undecryptable",
            "The note cannot be decrypted: its stored ciphertext does not authenticate under a configured key.",
        )),
    }
}

fn refuse((code, detail): (&'static str, &'static str)) -> AppError {
    AppError::conflict(code, detail)
}

async fn read(state: web::Data<AppState>, staff: Staff, target: Target) -> AppResult<HttpResponse> {
    authorize(&state, &staff, target, "note.read", Action::ReadNotes).await?;
    let audit = staff.audit();
    let st = state.clone();
    let outcome = state
        .db
        .tx(move |conn| {
            let note = model::find(conn, target, false)?.ok_or(AppError::NotFound)?;
            audit.allowed(
                conn,
                "note.read",
                resource_type(target),
                Some(note.id),
                details(target),
            )?;
            answer(conn, &st, &audit, note, 200)
        })
        .await?;
    finish(outcome)
}

async fn write(
    state: web::Data<AppState>,
    staff: Staff,
    target: Target,
    fields: Value,
) -> AppResult<HttpResponse> {
    authorize(&state, &staff, target, "note.write", Action::WriteNotes).await?;
    let audit = staff.audit();
    let author = staff.id;
    let st = state.clone();
    let outcome = state
        .db
        .tx(move |conn| {
            let session = sessions::lock(conn, target.session_id())?;
            if session.status == "cancelled" {
                return Err(AppError::conflict(
                    "session_cancelled",
                    "The session was cancelled.",
                ));
            }
            if Utc::now() < session.scheduled_at {
                return Err(AppError::conflict(
                    "session_not_started",
                    "The session has not begun yet.",
                ));
            }
            if let Some(m) = target.membership_id() {
                if !roster::is_seated(conn, m, session.id)? {
                    return Err(AppError::invalid(
                        "membership_id",
                        "the membership holds no seat at this session",
                    ));
                }
            }
            let status = match model::find(conn, target, true)? {
                None => {
                    model::insert(conn, &st.notes, target, author, &fields)?;
                    201
                }
                Some(note) => {
                    can_edit(note.status()).map_err(refuse)?;
                    if note.author_id != author {
                        return Err(AppError::Forbidden);
                    }
                    model::store(conn, &st.notes, &note, &fields, true)?;
                    200
                }
            };
            let note = model::find(conn, target, false)?.ok_or(AppError::NotFound)?;
            audit.allowed(
                conn,
                "note.write",
                resource_type(target),
                Some(note.id),
                details(target),
            )?;
            answer(conn, &st, &audit, note, status)
        })
        .await?;
    finish(outcome)
}

#[derive(Clone, Copy)]
enum Step {
    Sign,
    Cosign,
}

async fn advance(
    state: web::Data<AppState>,
    staff: Staff,
    target: Target,
    step: Step,
) -> AppResult<HttpResponse> {
    let action = match step {
        Step::Sign => "note.sign",
        Step::Cosign => "note.cosign",
    };
    authorize(&state, &staff, target, action, Action::WriteNotes).await?;
    if matches!(step, Step::Cosign) && staff.role != Role::Supervisor {
        deny(&state, staff.audit(), action, target, "role").await?;
        return Err(AppError::Forbidden);
    }
    let audit = staff.audit();
    let who = staff.id;
    let st = state.clone();
    let outcome = state
        .db
        .tx(move |conn| {
            let note = model::find(conn, target, true)?.ok_or(AppError::NotFound)?;
            let to = match step {
                Step::Sign => {
                    can_sign(note.status()).map_err(refuse)?;
                    if note.author_id != who {
                        return Err(AppError::Forbidden);
                    }
                    NoteStatus::Signed
                }
                Step::Cosign => {
                    can_cosign(note.status()).map_err(refuse)?;
                    if note.author_id == who {
                        return Err(AppError::conflict(
                            "conflict",
                            "A co-signature must come from someone other than the author.",
                        ));
                    }
                    NoteStatus::Cosigned
                }
            };
            // Never sign what cannot be read back.
            if let Outcome::Undecryptable = render(conn, &st, &audit, note.clone())? {
                return Ok(Outcome::Undecryptable);
            }
            if model::advance(conn, &note, to, who)? == 0 {
                return Err(AppError::conflict(
                    "conflict",
                    "The note changed meanwhile.",
                ));
            }
            audit.allowed(
                conn,
                action,
                resource_type(target),
                Some(note.id),
                details(target),
            )?;
            let note = model::find(conn, target, false)?.ok_or(AppError::NotFound)?;
            answer(conn, &st, &audit, note, 200)
        })
        .await?;
    finish(outcome)
}

async fn addendum(
    state: web::Data<AppState>,
    staff: Staff,
    target: Target,
    body: AddendumContent,
) -> AppResult<HttpResponse> {
    authorize(&state, &staff, target, "note.addendum", Action::WriteNotes).await?;
    body.validate().finish()?;
    let audit = staff.audit();
    let who = staff.id;
    let st = state.clone();
    let outcome = state
        .db
        .tx(move |conn| {
            let note = model::find(conn, target, true)?.ok_or(AppError::NotFound)?;
            can_add_addendum(note.status()).map_err(refuse)?;
            let id = model::add_addendum(conn, &st.notes, &note, who, &body.content)?;
            let mut d = details(target);
            d["addendum_id"] = json!(id);
            audit.allowed(
                conn,
                "note.addendum",
                resource_type(target),
                Some(note.id),
                d,
            )?;
            answer(conn, &st, &audit, note, 201)
        })
        .await?;
    finish(outcome)
}

fn group(session_id: Uuid) -> Target {
    Target::Group { session_id }
}

fn member(path: (Uuid, Uuid)) -> Target {
    Target::Member {
        session_id: path.0,
        membership_id: path.1,
    }
}

fn as_value<T: serde::Serialize>(v: &T) -> AppResult<Value> {
    serde_json::to_value(v).map_err(|e| AppError::Internal(e.into()))
}

/// The session's group note.
#[utoipa::path(tag = "notes", responses((status = 200, body = Note), (status = 403), (status = 404), (status = 409)))]
#[get("/sessions/{id}/group-note")]
pub async fn get_group_note(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    read(state, staff, group(id.into_inner())).await
}

/// Writes the group note: creates the draft (201) or edits it (200, author only, drafts only:
/// a signed note answers 409 `note_signed`).
#[utoipa::path(tag = "notes", request_body = GroupNoteContent, responses((status = 200, body = Note), (status = 201, body = Note), (status = 409)))]
#[put("/sessions/{id}/group-note")]
pub async fn put_group_note(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<GroupNoteContent>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    body.validate().finish()?;
    write(state, staff, group(id.into_inner()), as_value(&body)?).await
}

/// Signs the group note (its author); it is immutable from then on.
#[utoipa::path(tag = "notes", responses((status = 200, body = Note), (status = 409)))]
#[post("/sessions/{id}/group-note/sign")]
pub async fn sign_group_note(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    advance(state, staff, group(id.into_inner()), Step::Sign).await
}

/// Co-signs a signed group note (supervisors).
#[utoipa::path(tag = "notes", responses((status = 200, body = Note), (status = 403), (status = 409)))]
#[post("/sessions/{id}/group-note/cosign")]
pub async fn cosign_group_note(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    advance(state, staff, group(id.into_inner()), Step::Cosign).await
}

/// Appends an addendum to a signed group note.
#[utoipa::path(tag = "notes", request_body = AddendumContent, responses((status = 201, body = Note), (status = 409)))]
#[post("/sessions/{id}/group-note/addenda")]
pub async fn add_group_addendum(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<AddendumContent>,
) -> AppResult<HttpResponse> {
    addendum(state, staff, group(id.into_inner()), body.into_inner()).await
}

/// One member's note at a session.
#[utoipa::path(tag = "notes", responses((status = 200, body = Note), (status = 403), (status = 404), (status = 409)))]
#[get("/sessions/{id}/member-notes/{membership_id}")]
pub async fn get_member_note(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    read(state, staff, member(path.into_inner())).await
}

/// Writes a member note (only for a membership seated at the session).
#[utoipa::path(tag = "notes", request_body = MemberNoteContent, responses((status = 200, body = Note), (status = 201, body = Note), (status = 409), (status = 422)))]
#[put("/sessions/{id}/member-notes/{membership_id}")]
pub async fn put_member_note(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<MemberNoteContent>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    body.validate().finish()?;
    write(state, staff, member(path.into_inner()), as_value(&body)?).await
}

/// Signs a member note (its author).
#[utoipa::path(tag = "notes", responses((status = 200, body = Note), (status = 409)))]
#[post("/sessions/{id}/member-notes/{membership_id}/sign")]
pub async fn sign_member_note(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    advance(state, staff, member(path.into_inner()), Step::Sign).await
}

/// Co-signs a signed member note (supervisors).
#[utoipa::path(tag = "notes", responses((status = 200, body = Note), (status = 403), (status = 409)))]
#[post("/sessions/{id}/member-notes/{membership_id}/cosign")]
pub async fn cosign_member_note(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    advance(state, staff, member(path.into_inner()), Step::Cosign).await
}

/// Appends an addendum to a signed member note.
#[utoipa::path(tag = "notes", request_body = AddendumContent, responses((status = 201, body = Note), (status = 409)))]
#[post("/sessions/{id}/member-notes/{membership_id}/addenda")]
pub async fn add_member_addendum(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<AddendumContent>,
) -> AppResult<HttpResponse> {
    addendum(state, staff, member(path.into_inner()), body.into_inner()).await
}
