//! `GET/POST /groups`, `GET/PATCH /groups/{id}`, `POST /groups/{id}/start|complete|cancel`.
//!
//! One file per action (or small group of actions); the handlers are re-exported here, where
//! the route lists name them.

mod create;
mod read;
mod status;
mod update;

pub use create::*;
pub use read::*;
pub use status::*;
pub use update::*;

use chrono::NaiveDate;
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::{Action, Role, Staff};
use crate::domain::group::{self, parse_meeting_time, GroupConfig, MeetingDay};
use crate::error::{AppError, AppResult};
use crate::schema::{groups, users};

/// `composition_warnings` are shown to clinical roles and admins, not to intake (SPEC §2).
fn shows_composition(staff: &Staff) -> bool {
    staff.can(Action::ReadCompositionWarnings)
}

/// The lead and co-therapists must be active therapists or supervisors.
fn check_clinicians(conn: &mut PgConnection, cfg: &GroupConfig) -> AppResult<()> {
    let named: Vec<Uuid> = cfg.therapists().collect();
    let active = active_clinicians(conn, &named)?;
    group::check_clinicians(cfg, &active)
        .finish()
        .map_err(AppError::from)
}

/// Of `ids`, those of active therapists and supervisors.
fn active_clinicians(conn: &mut PgConnection, ids: &[Uuid]) -> AppResult<Vec<Uuid>> {
    let found: Vec<(Uuid, Role, bool)> = users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::role, users::active))
        .load(conn)?;
    Ok(found
        .into_iter()
        .filter(|(_, role, active)| *active && role.is_clinician())
        .map(|(id, _, _)| id)
        .collect())
}

/// The stored columns of a configuration (for INSERT and UPDATE).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = groups, treat_none_as_null = true)]
struct GroupValues {
    name: String,
    lead_therapist_id: Uuid,
    co_therapist_ids: Vec<Uuid>,
    min_size: i32,
    max_size: i32,
    meeting_day: MeetingDay,
    meeting_time: chrono::NaiveTime,
    timezone: String,
    duration_minutes: i32,
    min_term_sessions: i32,
    exit_notice_sessions: i32,
    absence_alert_threshold: i32,
    completion_attendance_rate: f64,
    start_date: NaiveDate,
    end_date: Option<NaiveDate>,
}

fn values(cfg: &GroupConfig) -> AppResult<GroupValues> {
    let time = parse_meeting_time(&cfg.meeting_time)
        .ok_or_else(|| AppError::invalid("meeting_time", "must be HH:MM"))?;
    Ok(GroupValues {
        name: cfg.name.trim().to_string(),
        lead_therapist_id: cfg.lead_therapist_id,
        co_therapist_ids: cfg.co_therapist_ids.clone(),
        min_size: cfg.min_size,
        max_size: cfg.max_size,
        meeting_day: cfg.meeting_day,
        meeting_time: time,
        timezone: cfg.timezone.clone(),
        duration_minutes: cfg.duration_minutes,
        min_term_sessions: cfg.min_term_sessions,
        exit_notice_sessions: cfg.exit_notice_sessions,
        absence_alert_threshold: cfg.absence_alert_threshold,
        completion_attendance_rate: cfg.completion_attendance_rate,
        start_date: cfg.start_date,
        end_date: cfg.end_date,
    })
}
