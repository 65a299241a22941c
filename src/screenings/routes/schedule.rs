//! `POST /clients/{id}/screenings`.

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{scope, Role, Staff};
use crate::domain::group::GroupStatus;
use crate::error::{AppError, AppResult};
use crate::http::etag::created_with_etag;
use crate::http::Json;
use crate::schema::{clients, groups, screenings, users};
use crate::screenings::model::{Screening, ScreeningRow};
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
