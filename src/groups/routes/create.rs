//! `POST /groups`.

use actix_web::{post, web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{check_clinicians, shows_composition, values};
use crate::auth::Staff;
use crate::domain::group::{GroupConfig, MeetingDay};
use crate::error::AppResult;
use crate::groups::model::{self, Group, GroupRow};
use crate::http::etag::created_with_etag;
use crate::http::Json;
use crate::schema::groups;
use crate::state::AppState;

fn default_min() -> i32 {
    8
}
fn default_max() -> i32 {
    15
}
fn default_tz() -> String {
    "UTC".into()
}
fn default_duration() -> i32 {
    90
}
fn default_term() -> i32 {
    12
}
fn default_notice() -> i32 {
    3
}
fn default_alert() -> i32 {
    3
}
fn default_completion_rate() -> f64 {
    crate::domain::participation::DEFAULT_COMPLETION_RATE
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateGroup {
    pub name: String,
    pub lead_therapist_id: Uuid,
    #[serde(default)]
    pub co_therapist_ids: Vec<Uuid>,
    #[serde(default = "default_min")]
    pub min_size: i32,
    #[serde(default = "default_max")]
    pub max_size: i32,
    pub meeting_day: MeetingDay,
    /// `HH:MM`, local to `timezone`.
    pub meeting_time: String,
    /// IANA zone, default `UTC`.
    #[serde(default = "default_tz")]
    pub timezone: String,
    #[serde(default = "default_duration")]
    pub duration_minutes: i32,
    #[serde(default = "default_term")]
    pub min_term_sessions: i32,
    #[serde(default = "default_notice")]
    pub exit_notice_sessions: i32,
    #[serde(default = "default_alert")]
    pub absence_alert_threshold: i32,
    /// 0–1, default 0.75 (v2).
    #[serde(default = "default_completion_rate")]
    pub completion_attendance_rate: f64,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

/// Creates a group in `forming` (admin, supervisor).
#[utoipa::path(tag = "groups", request_body = CreateGroup, responses((status = 201, body = Group), (status = 422)))]
#[post("/groups")]
pub async fn create_group(
    state: web::Data<AppState>,
    staff: Staff,
    body: Json<CreateGroup>,
) -> AppResult<HttpResponse> {
    let composition = shows_composition(&staff);
    let b = body.into_inner();
    let cfg = GroupConfig {
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
    };
    cfg.validate().finish()?;
    let audit = staff.audit();
    let group = state
        .db
        .tx(move |conn| {
            check_clinicians(conn, &cfg)?;
            let id = Uuid::new_v4();
            let row: GroupRow = diesel::insert_into(groups::table)
                .values((groups::id.eq(id), values(&cfg)?))
                .returning(GroupRow::as_returning())
                .get_result(conn)?;
            audit.allowed(conn, "group.create", "group", Some(id), json!({}))?;
            Ok(model::view(conn, row, composition)?)
        })
        .await?;
    Ok(created_with_etag(1, &group))
}
