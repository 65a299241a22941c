//! `PATCH /groups/{id}`.

use actix_web::{patch, web, HttpResponse};
use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{active_clinicians, shows_composition, values};
use crate::auth::Staff;
use crate::domain::group::{
    decide_update, format_meeting_time, ConfigPatch, GroupConfig, MeetingDay, UpdateFacts,
    UpdateRefusal,
};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::groups::model::{self, Group, GroupRow};
use crate::http::etag::{ok_with_etag, IfMatch};
use crate::http::extract::nullable;
use crate::http::Json;
use crate::schema::groups;
use crate::state::AppState;

/// Absent fields are left alone; `end_date: null` removes the end date.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateGroup {
    pub name: Option<String>,
    pub lead_therapist_id: Option<Uuid>,
    pub co_therapist_ids: Option<Vec<Uuid>>,
    pub min_size: Option<i32>,
    pub max_size: Option<i32>,
    pub meeting_day: Option<MeetingDay>,
    pub meeting_time: Option<String>,
    pub timezone: Option<String>,
    pub duration_minutes: Option<i32>,
    pub min_term_sessions: Option<i32>,
    pub exit_notice_sessions: Option<i32>,
    pub absence_alert_threshold: Option<i32>,
    pub completion_attendance_rate: Option<f64>,
    pub start_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub end_date: Option<Option<NaiveDate>>,
}

/// Changes a group's configuration (admin, supervisor). Honours `If-Match`. A completed or
/// cancelled group is history (409); once active, `start_date` is fixed and `max_size` may not
/// drop below the seats taken.
#[utoipa::path(tag = "groups", request_body = UpdateGroup,
    responses((status = 200, body = Group), (status = 409), (status = 412), (status = 422)))]
#[patch("/groups/{id}")]
pub async fn update_group(
    state: web::Data<AppState>,
    staff: Staff,
    if_match: IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateGroup>,
) -> AppResult<HttpResponse> {
    let composition = shows_composition(&staff);
    let id = id.into_inner();
    let patch = ConfigPatch::from(body.into_inner());
    let audit = staff.audit();
    let (version, group) = state
        .db
        .tx(move |conn| {
            let cur = model::lock(conn, id)?;
            if_match.check(cur.version)?;
            let current = config_of(&cur);
            let named: Vec<Uuid> = current.therapists().chain(patch.therapists()).collect();
            let facts = UpdateFacts {
                status: cur.status(),
                active_clinicians: active_clinicians(conn, &named)?,
                seats_taken: model::seats(conn, id)?.taken(),
                current,
                patch,
            };
            let cfg = decide_update(facts).map_err(update_refused)?;
            let row: GroupRow = diesel::update(groups::table.find(id))
                .set((
                    values(&cfg)?,
                    groups::version.eq(groups::version + 1),
                    groups::updated_at.eq(Utc::now()),
                ))
                .returning(GroupRow::as_returning())
                .get_result(conn)?;
            audit.allowed(conn, "group.update", "group", Some(id), json!({}))?;
            Ok((row.version, model::view(conn, row, composition)?))
        })
        .await?;
    Ok(ok_with_etag(version, &group))
}

const START_DATE_FIXED: &str = "An active group's start_date cannot change.";

/// A refused change as its answer.
fn update_refused(r: UpdateRefusal) -> AppError {
    match r {
        UpdateRefusal::Closed(status) => AppError::conflict(
            ErrorCode::Conflict,
            format!("The group is {}; it can no longer change.", status.as_str()),
        ),
        UpdateRefusal::StartDateFixed => AppError::conflict(ErrorCode::Conflict, START_DATE_FIXED),
        UpdateRefusal::Invalid(v) => v.into(),
        UpdateRefusal::BelowSeatsTaken { taken } => AppError::invalid(
            "max_size",
            format!("must be at least the {taken} seats already taken"),
        ),
    }
}

/// The configuration as stored.
fn config_of(row: &GroupRow) -> GroupConfig {
    GroupConfig {
        name: row.name.clone(),
        lead_therapist_id: row.lead_therapist_id,
        co_therapist_ids: row.co_therapist_ids.clone(),
        min_size: row.min_size,
        max_size: row.max_size,
        meeting_day: row.meeting_day,
        meeting_time: format_meeting_time(row.meeting_time),
        timezone: row.timezone.as_str().to_string(),
        duration_minutes: row.duration_minutes,
        min_term_sessions: row.min_term_sessions,
        exit_notice_sessions: row.exit_notice_sessions,
        absence_alert_threshold: row.absence_alert_threshold,
        completion_attendance_rate: row.completion_attendance_rate,
        start_date: row.start_date,
        end_date: row.end_date,
    }
}

impl From<UpdateGroup> for ConfigPatch {
    fn from(b: UpdateGroup) -> Self {
        ConfigPatch {
            name: b.name,
            lead_therapist_id: b.lead_therapist_id,
            co_therapist_ids: b.co_therapist_ids,
            min_size: b.min_size,
            max_size: b.max_size,
            meeting_day: b.meeting_day,
            meeting_time: b.meeting_time,
            timezone: b.timezone,
            duration_minutes: b.duration_minutes,
            min_term_sessions: b.min_term_sessions,
            exit_notice_sessions: b.exit_notice_sessions,
            absence_alert_threshold: b.absence_alert_threshold,
            completion_attendance_rate: b.completion_attendance_rate,
            start_date: b.start_date,
            end_date: b.end_date,
        }
    }
}
