//! `GET/PUT /sessions/{id}/group-note`, `POST …/group-note/sign|cosign|addenda` (SPEC §4): the
//! note on the group as a whole (themes, group process, interventions, plan), one per session.

use actix_web::{get, post, put, web, HttpResponse};
use uuid::Uuid;

use super::actions;
use super::model::{Note, Target};
use crate::auth::Staff;
use crate::domain::note::{AddendumContent, GroupNoteContent, VoidNote};
use crate::error::{AppError, AppResult};
use crate::http::etag::IfMatch;
use crate::http::Json;
use crate::state::AppState;

fn target(session_id: web::Path<Uuid>) -> Target {
    Target::Group {
        session_id: session_id.into_inner(),
    }
}

/// The session's group note, decrypted, with its addenda in order. Supervisors and the
/// group's therapists; audited as `note.read`.
#[utoipa::path(tag = "notes", responses((status = 200, body = Note), (status = 403), (status = 404), (status = 409)))]
#[get("/sessions/{id}/group-note")]
pub async fn get_group_note(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    actions::read(state, staff, target(id)).await
}

/// Writes the group note: creates the draft (201) or replaces its fields (200; the author
/// only, drafts only: a signed note answers 409 `note_signed`; honours `If-Match`).
#[utoipa::path(tag = "notes", request_body = GroupNoteContent,
    responses((status = 200, body = Note), (status = 201, body = Note), (status = 403), (status = 404), (status = 409), (status = 412), (status = 422)))]
#[put("/sessions/{id}/group-note")]
pub async fn put_group_note(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<GroupNoteContent>,
) -> AppResult<HttpResponse> {
    let fields = body.into_inner().into_fields().map_err(AppError::from);
    actions::write(state, staff, target(id), if_match, fields).await
}

/// Signs the group note (its author): immutable from then on.
#[utoipa::path(tag = "notes", responses((status = 200, body = Note), (status = 403), (status = 404), (status = 409)))]
#[post("/sessions/{id}/group-note/sign")]
pub async fn sign_group_note(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    actions::sign(state, staff, target(id)).await
}

/// Co-signs the signed group note (a supervisor other than its author; once).
#[utoipa::path(tag = "notes", responses((status = 200, body = Note), (status = 403), (status = 404), (status = 409)))]
#[post("/sessions/{id}/group-note/cosign")]
pub async fn cosign_group_note(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    actions::cosign(state, staff, target(id)).await
}

/// Appends an addendum to the signed group note; answers the note with its addenda (201).
#[utoipa::path(tag = "notes", request_body = AddendumContent,
    responses((status = 201, body = Note), (status = 403), (status = 404), (status = 409), (status = 422)))]
#[post("/sessions/{id}/group-note/addenda")]
pub async fn add_group_addendum(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<AddendumContent>,
) -> AppResult<HttpResponse> {
    actions::add_addendum(state, staff, target(id), body.into_inner()).await
}

/// Marks the group note entered in error (v2): its author or a supervisor, with a reason. The
/// note is kept for supervisors and no longer counts as documentation; a replacement may follow.
#[utoipa::path(tag = "notes", request_body = VoidNote,
    responses((status = 200, body = Note), (status = 403), (status = 404), (status = 409), (status = 422)))]
#[post("/sessions/{id}/group-note/void")]
pub async fn void_group_note(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<VoidNote>,
) -> AppResult<HttpResponse> {
    actions::void(state, staff, target(id), body.into_inner()).await
}
