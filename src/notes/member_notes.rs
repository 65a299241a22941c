//! `GET/PUT /sessions/{id}/member-notes/{membership_id}`, `POST …/sign|cosign|addenda`
//! (SPEC §4): one member's note at one session (participation, progress, risk flags,
//! content), only for a membership seated at that session.

use actix_web::{get, post, put, web, HttpResponse};
use uuid::Uuid;

use super::actions;
use super::model::{Note, Target};
use crate::auth::Staff;
use crate::domain::note::{AddendumContent, MemberNoteContent, VoidNote};
use crate::error::{AppError, AppResult};
use crate::http::etag::IfMatch;
use crate::http::Json;
use crate::state::AppState;

fn target(path: web::Path<(Uuid, Uuid)>) -> Target {
    let (session_id, membership_id) = path.into_inner();
    Target::Member {
        session_id,
        membership_id,
    }
}

/// One member's note at a session, decrypted, with its addenda in order. Supervisors and the
/// group's therapists; audited as `note.read`.
#[utoipa::path(tag = "notes", responses((status = 200, body = Note), (status = 403), (status = 404), (status = 409)))]
#[get("/sessions/{id}/member-notes/{membership_id}")]
pub async fn get_member_note(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    actions::read(state, staff, target(path)).await
}

/// Writes a member note: creates the draft (201) or replaces its fields (200; the author
/// only, drafts only: 409 `note_signed`; honours `If-Match`). The membership must be seated
/// at the session (422 otherwise).
#[utoipa::path(tag = "notes", request_body = MemberNoteContent,
    responses((status = 200, body = Note), (status = 201, body = Note), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422)))]
#[put("/sessions/{id}/member-notes/{membership_id}")]
pub async fn put_member_note(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    body: Json<MemberNoteContent>,
) -> AppResult<HttpResponse> {
    let fields = body.into_inner().into_fields().map_err(AppError::from);
    actions::write(state, staff, target(path), if_match, fields).await
}

/// Signs a member note (its author): immutable from then on.
#[utoipa::path(tag = "notes", responses((status = 200, body = Note), (status = 403), (status = 404), (status = 409)))]
#[post("/sessions/{id}/member-notes/{membership_id}/sign")]
pub async fn sign_member_note(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    actions::sign(state, staff, target(path)).await
}

/// Co-signs a signed member note (a supervisor other than its author; once).
#[utoipa::path(tag = "notes", responses((status = 200, body = Note), (status = 403), (status = 404), (status = 409)))]
#[post("/sessions/{id}/member-notes/{membership_id}/cosign")]
pub async fn cosign_member_note(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(Uuid, Uuid)>,
) -> AppResult<HttpResponse> {
    actions::cosign(state, staff, target(path)).await
}

/// Appends an addendum to a signed member note; answers the note with its addenda (201).
#[utoipa::path(tag = "notes", request_body = AddendumContent,
    responses((status = 201, body = Note), (status = 403), (status = 404), (status = 409), (status = 422)))]
#[post("/sessions/{id}/member-notes/{membership_id}/addenda")]
pub async fn add_member_addendum(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<AddendumContent>,
) -> AppResult<HttpResponse> {
    actions::add_addendum(state, staff, target(path), body.into_inner()).await
}

/// Marks the member note entered in error (v2): its author or a supervisor, with a reason. The
/// note is kept for supervisors, never exported, not documentation; a replacement may follow.
#[utoipa::path(tag = "notes", request_body = VoidNote,
    responses((status = 200, body = Note), (status = 403), (status = 404), (status = 409), (status = 422)))]
#[post("/sessions/{id}/member-notes/{membership_id}/void")]
pub async fn void_member_note(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<VoidNote>,
) -> AppResult<HttpResponse> {
    actions::void(state, staff, target(path), body.into_inner()).await
}
