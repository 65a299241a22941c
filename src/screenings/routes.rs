//! `POST /clients/{id}/screenings`, `GET /screenings`, `GET /screenings/{id}`,
//! `POST /screenings/{id}/complete|cancel|no-show`.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::model::{self, Screening, ScreeningRow};
use crate::auth::policy::act;
use crate::auth::{scope, Role, Staff};
use crate::domain::group::GroupStatus;
use crate::domain::screening::{
    can_leave_scheduled, check_completion, Assessment, Outcome, ScreeningStatus,
};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::http::etag::{created_with_etag, ok_with_etag};
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::{Json, Query};
use crate::notes::fields::{self, Field};
use crate::schema::{clients, groups, screenings, users};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ScheduleScreening {
    /// An active therapist or supervisor. A therapist schedules only with themself.
    pub interviewer_id: Uuid,
    /// May lie in the past, to record an interview that already took place.
    pub scheduled_at: DateTime<Utc>,
    /// The group being considered, if any.
    pub group_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CompleteScreening {
    pub outcome: Outcome,
    pub assessment: Assessment,
    /// Defaults to now; may lie in the past, never in the future nor before `scheduled_at`.
    pub completed_at: Option<DateTime<Utc>>,
}

/// Schedules a screening interview for a client.
#[utoipa::path(tag = "screenings", request_body = ScheduleScreening,
    responses((status = 201, body = Screening), (status = 403), (status = 404), (status = 422)))]
#[post("/clients/{id}/screenings")]
pub async fn schedule_screening(
    state: web::Data<AppState>,
    staff: Staff,
    client_id: web::Path<Uuid>,
    body: Json<ScheduleScreening>,
) -> AppResult<HttpResponse> {
    let client_id = client_id.into_inner();
    let b = body.into_inner();
    if staff.is_scoped() && b.interviewer_id != staff.id {
        // SPEC §4: a therapist schedules screenings with themself only.
        return Err(AppError::Forbidden);
    }
    let now = Utc::now();
    if (b.scheduled_at - now).abs() > Duration::days(3 * 365) {
        return Err(AppError::invalid(
            "scheduled_at",
            "must be within three years of today",
        ));
    }
    let audit = staff.audit();
    let row = state
        .db
        .tx(move |conn| {
            // SPEC §1 (v2): a therapist schedules only for a client already in their scope;
            // otherwise a screening with themself would be a key to any client's record. Out
            // of scope and unknown are the same 404; the refusal of a real client is audited
            // (and committed).
            let client_exists: bool =
                diesel::select(diesel::dsl::exists(clients::table.find(client_id)))
                    .get_result(conn)?;
            if !client_exists {
                return Ok(Err(AppError::NotFound));
            }
            // An emergency access (SPEC §8) reads the chart; it does not open scheduling.
            if staff.is_scoped() && !scope::is_client_in_care_team(conn, staff.id, client_id)? {
                audit.denied(
                    conn,
                    "screening.schedule",
                    "client",
                    Some(client_id),
                    json!({"reason": "out_of_scope"}),
                )?;
                return Ok(Err(AppError::NotFound));
            }
            let interviewer: Option<(Role, bool)> = users::table
                .find(b.interviewer_id)
                .select((users::role, users::active))
                .first(conn)
                .optional()?;
            let ok = matches!(interviewer, Some((role, true)) if role.is_clinician());
            if !ok {
                return Err(AppError::invalid(
                    "interviewer_id",
                    "must be an active therapist or supervisor",
                ));
            }
            if let Some(g) = b.group_id {
                let status: Option<GroupStatus> = groups::table
                    .find(g)
                    .select(groups::status)
                    .first(conn)
                    .optional()?;
                match status {
                    None => return Err(AppError::invalid("group_id", "no such group")),
                    Some(s) if s.is_closed() => {
                        return Err(AppError::invalid(
                            "group_id",
                            "the group is completed or cancelled",
                        ))
                    }
                    Some(_) => {}
                }
            }
            let row: ScreeningRow = diesel::insert_into(screenings::table)
                .values((
                    screenings::id.eq(Uuid::new_v4()),
                    screenings::client_id.eq(client_id),
                    screenings::interviewer_id.eq(b.interviewer_id),
                    screenings::group_id.eq(b.group_id),
                    screenings::scheduled_at.eq(b.scheduled_at),
                    screenings::created_by.eq(audit.actor_id.unwrap_or_default()),
                ))
                .returning(ScreeningRow::as_returning())
                .get_result(conn)?;
            audit.allowed(
                conn,
                "screening.schedule",
                "screening",
                Some(row.id),
                json!({"client_id": client_id}),
            )?;
            Ok(Ok(row))
        })
        .await??;
    Ok(created_with_etag(row.version, &row.view(None)?))
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScreeningQuery {
    #[param(inline)]
    pub status: Option<ScreeningStatus>,
    #[param(inline)]
    pub outcome: Option<Outcome>,
    pub interviewer_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub group_id: Option<Uuid>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Writes one `screening.assessment_read` event per assessment returned.
fn audit_assessment_reads(
    conn: &mut PgConnection,
    staff: &Staff,
    rows: &[ScreeningRow],
) -> AppResult<()> {
    let audit = staff.audit();
    for r in rows.iter().filter(|r| r.has_assessment()) {
        audit.allowed(
            conn,
            "screening.assessment_read",
            "screening",
            Some(r.id),
            json!({"client_id": r.client_id}),
        )?;
    }
    Ok(())
}

/// Lists screenings, newest scheduled first. Clinical roles get assessments (each read
/// audited); admin and intake never do. A therapist sees their own and their groups'.
#[utoipa::path(tag = "screenings", params(ScreeningQuery), responses((status = 200, body = Page<Screening>), (status = 409, description = "note_undecryptable: stored clinical text does not open under a configured key")))]
#[get("/screenings")]
pub async fn list_screenings(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<ScreeningQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let reader = staff
        .permit::<act::ReadAssessment>()
        .ok()
        .map(|p| state.notes.reader(&p));
    let clinical = reader.is_some();
    let rows = state
        .db
        .tx(move |conn| {
            let mut query = screenings::table
                .select(ScreeningRow::as_select())
                .into_boxed();
            if staff.is_scoped() {
                query = query.filter(model::therapist_scope(conn, staff.id)?);
            }
            if let Some(s) = q.status {
                query = query.filter(screenings::status.eq(s));
            }
            if let Some(o) = q.outcome {
                query = query.filter(screenings::outcome.eq(o));
            }
            if let Some(i) = q.interviewer_id {
                query = query.filter(screenings::interviewer_id.eq(i));
            }
            if let Some(c) = q.client_id {
                query = query.filter(screenings::client_id.eq(c));
            }
            if let Some(g) = q.group_id {
                query = query.filter(screenings::group_id.eq(g));
            }
            if let Some((t, id)) = after {
                query = query.filter(
                    screenings::scheduled_at
                        .lt(t)
                        .or(screenings::scheduled_at.eq(t).and(screenings::id.lt(id))),
                );
            }
            let rows: Vec<ScreeningRow> = query
                .order((screenings::scheduled_at.desc(), screenings::id.desc()))
                .limit(limit + 1)
                .load(conn)?;
            if clinical {
                audit_assessment_reads(conn, &staff, &rows[..rows.len().min(limit as usize)])?;
            }
            Ok(rows)
        })
        .await?;
    let cipher = reader.as_ref();
    let mut views = Vec::with_capacity(rows.len());
    for (i, r) in rows.into_iter().enumerate() {
        // The row past the page only gives the cursor its key: not opened.
        let cipher = cipher.filter(|_| (i as i64) < limit);
        views.push(((r.scheduled_at, r.id), r.view(cipher)?));
    }
    let page = cursor.page(views, limit, |(k, _)| *k, |(_, v)| v);
    Ok(HttpResponse::Ok().json(page))
}

/// Loads a screening the caller may see. Out of scope: a denied audit event (committed on
/// its own) and 404.
async fn load_visible(
    state: &AppState,
    staff: &Staff,
    id: Uuid,
    action: &'static str,
) -> AppResult<ScreeningRow> {
    let staff2 = staff.clone();
    let found = state
        .db
        .tx(move |conn| {
            let row = model::find(conn, id)?;
            match row {
                Some(r) if model::visible(conn, &staff2, &r)? => Ok(Some(r)),
                Some(_) => {
                    staff2.audit().denied(
                        conn,
                        action,
                        "screening",
                        Some(id),
                        json!({"reason": "out_of_scope"}),
                    )?;
                    Ok(None)
                }
                None => Ok(None),
            }
        })
        .await?;
    found.ok_or(AppError::NotFound)
}

/// One screening; the assessment for clinical roles (audited).
#[utoipa::path(tag = "screenings", responses((status = 200, body = Screening), (status = 404), (status = 409, description = "note_undecryptable: stored clinical text does not open under a configured key")))]
#[get("/screenings/{id}")]
pub async fn get_screening(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let row = load_visible(&state, &staff, id, "screening.read").await?;
    let reader = staff
        .permit::<act::ReadAssessment>()
        .ok()
        .map(|p| state.notes.reader(&p));
    let clinical = reader.is_some();
    if clinical && row.has_assessment() {
        let (staff, r) = (staff.clone(), row.clone());
        state
            .db
            .tx(move |conn| audit_assessment_reads(conn, &staff, std::slice::from_ref(&r)))
            .await?;
    }
    let version = row.version;
    let view = row.view(reader.as_ref())?;
    Ok(ok_with_etag(version, &view))
}

/// Moves a scheduled screening to `to`; 409 from any other status.
fn transition(conn: &mut PgConnection, id: Uuid, to: ScreeningStatus) -> AppResult<ScreeningRow> {
    let current: ScreeningRow = screenings::table
        .find(id)
        .select(ScreeningRow::as_select())
        .for_update()
        .first(conn)?;
    can_leave_scheduled(current.status())
        .map_err(|d| AppError::conflict(ErrorCode::Conflict, d))?;
    Ok(diesel::update(
        screenings::table
            .find(id)
            .filter(screenings::status.eq(ScreeningStatus::Scheduled)),
    )
    .set((
        screenings::status.eq(to),
        screenings::version.eq(screenings::version + 1),
        screenings::updated_at.eq(Utc::now()),
    ))
    .returning(ScreeningRow::as_returning())
    .get_result(conn)?)
}

/// Records the interview's outcome and assessment (the interviewer or a supervisor).
#[utoipa::path(tag = "screenings", request_body = CompleteScreening,
    responses((status = 200, body = Screening), (status = 409), (status = 422)))]
#[post("/screenings/{id}/complete")]
pub async fn complete_screening(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<CompleteScreening>,
) -> AppResult<HttpResponse> {
    // Completing returns the assessment just recorded: a clinical read (the roles that
    // complete are those that read assessments).
    let reader = state.notes.reader(&staff.permit::<act::ReadAssessment>()?);
    let id = id.into_inner();
    let row = load_visible(&state, &staff, id, "screening.complete").await?;
    if staff.is_scoped() && row.interviewer_id != staff.id {
        return Err(AppError::Forbidden);
    }
    let mut b = body.into_inner();
    b.assessment.dedup_contraindications();
    let now = Utc::now();
    let completed_at = b.completed_at.unwrap_or(now);
    let audit = staff.audit();
    let cipher = state.notes.clone();
    let row = state
        .db
        .tx(move |conn| {
            let current: ScreeningRow = screenings::table
                .find(id)
                .select(ScreeningRow::as_select())
                .for_update()
                .first(conn)?;
            can_leave_scheduled(current.status())
                .map_err(|d| AppError::conflict(ErrorCode::Conflict, d))?;
            check_completion(
                b.outcome,
                &b.assessment,
                completed_at,
                current.scheduled_at,
                now,
            )
            .finish()?;
            let assessment = serde_json::to_string(&b.assessment).map_err(anyhow::Error::from)?;
            let assessment = fields::seal(&cipher, Field::Assessment, id, &assessment);
            let row: ScreeningRow = diesel::update(
                screenings::table
                    .find(id)
                    .filter(screenings::status.eq(ScreeningStatus::Scheduled)),
            )
            .set((
                screenings::status.eq(ScreeningStatus::Completed),
                screenings::completed_at.eq(completed_at),
                screenings::outcome.eq(b.outcome),
                screenings::assessment_sealed.eq(assessment),
                screenings::version.eq(screenings::version + 1),
                screenings::updated_at.eq(now),
            ))
            .returning(ScreeningRow::as_returning())
            .get_result(conn)?;
            audit.allowed(
                conn,
                "screening.complete",
                "screening",
                Some(id),
                json!({"outcome": b.outcome.as_str()}),
            )?;
            Ok(row)
        })
        .await?;
    Ok(ok_with_etag(row.version, &row.view(Some(&reader))?))
}

async fn close(
    state: web::Data<AppState>,
    staff: Staff,
    id: Uuid,
    to: ScreeningStatus,
) -> AppResult<HttpResponse> {
    let row = load_visible(&state, &staff, id, "screening.update").await?;
    if staff.is_scoped() && row.interviewer_id != staff.id {
        return Err(AppError::Forbidden);
    }
    if to == ScreeningStatus::NoShow && row.scheduled_at > Utc::now() {
        return Err(AppError::conflict(
            ErrorCode::Conflict,
            "The interview has not been due yet; it cannot be a no-show.",
        ));
    }
    let audit = staff.audit();
    let row = state
        .db
        .tx(move |conn| {
            let row = transition(conn, id, to)?;
            audit.allowed(
                conn,
                &format!("screening.{}", to.as_str()),
                "screening",
                Some(id),
                json!({}),
            )?;
            Ok(row)
        })
        .await?;
    let reader = staff
        .permit::<act::ReadAssessment>()
        .ok()
        .map(|p| state.notes.reader(&p));
    Ok(ok_with_etag(row.version, &row.view(reader.as_ref())?))
}

/// Cancels a scheduled screening.
#[utoipa::path(tag = "screenings", responses((status = 200, body = Screening), (status = 409)))]
#[post("/screenings/{id}/cancel")]
pub async fn cancel_screening(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    close(state, staff, id.into_inner(), ScreeningStatus::Cancelled).await
}

/// Marks a due screening as a no-show.
#[utoipa::path(tag = "screenings", responses((status = 200, body = Screening), (status = 409)))]
#[post("/screenings/{id}/no-show")]
pub async fn no_show_screening(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    close(state, staff, id.into_inner(), ScreeningStatus::NoShow).await
}
