//! `POST /memberships/{id}/discharge`, `POST /memberships/{id}/withdraw`.

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::act;
use crate::auth::Staff;
use crate::domain::membership::{
    check_discharge, decide_exit, Event, Exit, ExitFacts, ExitReason, ExitRefusal,
};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::http::etag::ok_with_etag;
use crate::http::Json;
use crate::memberships::model::{load_view, MembershipView};
use crate::memberships::{lifecycle, lock_with_group};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Discharge {
    /// `dropped_out`, `discharged`, `against_advice`, `higher_level_of_care`, `hospitalized`,
    /// `incarcerated`, `relocated`, `transferred` or `other`.
    pub exit_reason: ExitReason,
    pub note: String,
    /// v2: when the discharge took effect, entered late; defaults to now. Not in the future, not
    /// before the admission.
    pub effective_at: Option<DateTime<Utc>>,
}

/// Ends a seat at once, unplanned (supervisor, the group's therapists): `active|exiting →
/// exited` with a reason and a required note. (v2) `effective_at` enters it late: the member
/// held no seat at sessions that began after it, and attendance recorded there is removed
/// (each record audited with its old value).
#[utoipa::path(tag = "memberships", request_body = Discharge, responses((status = 200, body = MembershipView), (status = 409), (status = 422)))]
#[post("/memberships/{id}/discharge")]
pub async fn discharge(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<Discharge>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let b = body.into_inner();
    check_discharge(b.exit_reason, &b.note).finish()?;
    let audit = staff.audit();
    let cipher = state.notes.clone();
    let reader = state.notes.reader(&staff.permit::<act::ReadNotes>()?);
    let view = state
        .db
        .tx(move |conn| {
            let Exit { from, at } =
                decide_exit_locked(conn, &staff, id, Event::Discharge, b.effective_at)?;
            lifecycle::exit(
                conn,
                id,
                &[from],
                b.exit_reason,
                Some((b.note.trim(), &cipher)),
                at,
            )?;
            let removed = lifecycle::remove_attendance_after(conn, &audit, id, at)?;
            audit.allowed(
                conn,
                "membership.discharge",
                "membership",
                Some(id),
                json!({
                    "exit_reason": b.exit_reason.as_str(),
                    "effective_at": at,
                    "late_entry": b.effective_at.is_some(),
                    "attendance_removed": removed,
                }),
            )?;
            load_view(conn, id, Some(&reader))
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

/// Locks the group, then the membership (the lock order of attendance recording), and decides
/// a discharge or withdrawal (`event`) on what they hold.
fn decide_exit_locked(
    conn: &mut PgConnection,
    staff: &Staff,
    id: Uuid,
    event: Event,
    effective_at: Option<DateTime<Utc>>,
) -> AppResult<Exit> {
    let (_, m) = lock_with_group(conn, staff, id)?;
    let facts = ExitFacts {
        status: m.status(),
        created_at: m.created_at,
        signed_at: m.signed_at,
        effective_at,
        now: Utc::now(),
    };
    decide_exit(event, &facts).map_err(|r| match r {
        ExitRefusal::EffectiveAt(msg) => AppError::invalid("effective_at", msg),
        ExitRefusal::Transition(detail) => AppError::conflict(ErrorCode::Conflict, detail),
    })
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Withdraw {
    /// v2: when the admission was withdrawn, entered late; defaults to now. Not in the future,
    /// not before the admission.
    pub effective_at: Option<DateTime<Utc>>,
}

/// Withdraws a pending admission: `pending → exited` (`withdrawn`), optionally effective at an
/// earlier time (v2). The body may be omitted.
#[utoipa::path(tag = "memberships", request_body(content = Option<Withdraw>), responses((status = 200, body = MembershipView), (status = 409), (status = 422)))]
#[post("/memberships/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    // A malformed body is a 400 before anything else, as with every JSON body.
    let b: Withdraw = if body.iter().all(u8::is_ascii_whitespace) {
        Withdraw::default()
    } else {
        crate::http::extract::parse_json(&body)?
    };
    let id = id.into_inner();
    let audit = staff.audit();
    let reader = state.notes.reader(&staff.permit::<act::ReadNotes>()?);
    let view = state
        .db
        .tx(move |conn| {
            let Exit { from, at } =
                decide_exit_locked(conn, &staff, id, Event::Withdraw, b.effective_at)?;
            lifecycle::exit(conn, id, &[from], ExitReason::Withdrawn, None, at)?;
            // A pending member is never seated, so holds no attendance; kept for symmetry.
            let removed = lifecycle::remove_attendance_after(conn, &audit, id, at)?;
            audit.allowed(
                conn,
                "membership.withdraw",
                "membership",
                Some(id),
                json!({
                    "effective_at": at,
                    "late_entry": b.effective_at.is_some(),
                    "attendance_removed": removed,
                }),
            )?;
            load_view(conn, id, Some(&reader))
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}
