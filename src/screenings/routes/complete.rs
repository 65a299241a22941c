//! `POST /screenings/{id}/complete`.

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::load_visible;
use crate::auth::policy::act;
use crate::auth::Staff;
use crate::domain::screening::{
    can_leave_scheduled, check_completion, Assessment, Outcome, ScreeningStatus,
};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::http::etag::ok_with_etag;
use crate::http::Json;
use crate::notes::fields::{self, Field};
use crate::schema::screenings;
use crate::screenings::model::{Screening, ScreeningRow};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CompleteScreening {
    pub outcome: Outcome,
    pub assessment: Assessment,
    /// Defaults to now; may lie in the past, never in the future nor before `scheduled_at`.
    pub completed_at: Option<DateTime<Utc>>,
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
