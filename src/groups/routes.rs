//! `GET/POST /groups`, `GET/PATCH /groups/{id}`, `POST /groups/{id}/start|complete|cancel`.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::model::{self, Group, GroupRow};
use crate::auth::{scope, Action, Role, Staff};
use crate::domain::group::{
    decide_status, parse_meeting_time, GroupConfig, GroupStatus, MeetingDay, StatusFacts,
    StatusRefusal,
};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::http::etag::{created_with_etag, ok_with_etag, IfMatch};
use crate::http::extract::nullable;
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::{Json, Query};
use crate::memberships::lifecycle;
use crate::schema::{contracts, groups, users};
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

/// `composition_warnings` are shown to clinical roles and admins, not to intake (SPEC §2).
fn shows_composition(staff: &Staff) -> bool {
    staff.can(Action::ReadCompositionWarnings)
}

/// The lead and co-therapists must be active therapists or supervisors.
fn check_clinicians(conn: &mut PgConnection, cfg: &GroupConfig) -> AppResult<()> {
    let mut ids = cfg.co_therapist_ids.clone();
    ids.push(cfg.lead_therapist_id);
    let found: Vec<(Uuid, Role, bool)> = users::table
        .filter(users::id.eq_any(&ids))
        .select((users::id, users::role, users::active))
        .load(conn)?;
    let ok = |id: &Uuid| {
        found
            .iter()
            .any(|(u, role, active)| u == id && *active && role.is_clinician())
    };
    let mut v = crate::error::Validations::new();
    v.check(
        ok(&cfg.lead_therapist_id),
        "lead_therapist_id",
        "must be an active therapist or supervisor",
    );
    v.check(
        cfg.co_therapist_ids.iter().all(ok),
        "co_therapist_ids",
        "must all be active therapists or supervisors",
    );
    v.finish().map_err(AppError::from)
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupQuery {
    #[param(inline)]
    pub status: Option<GroupStatus>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Lists groups by name (a therapist sees the groups they lead or co-lead).
#[utoipa::path(tag = "groups", params(GroupQuery), responses((status = 200, body = Page<Group>)))]
#[get("/groups")]
pub async fn list_groups(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<GroupQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let composition = shows_composition(&staff);
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(String, Uuid)> = cursor.open()?;
    let page = state
        .db
        .run(move |conn| {
            let mut query = groups::table.select(GroupRow::as_select()).into_boxed();
            if staff.is_scoped() {
                query =
                    query.filter(groups::id.eq_any(scope::therapist_group_ids(conn, staff.id)?));
            }
            if let Some(s) = q.status {
                query = query.filter(groups::status.eq(s));
            }
            if let Some((name, id)) = after {
                query = query.filter(
                    groups::name
                        .gt(name.clone())
                        .or(groups::name.eq(name).and(groups::id.gt(id))),
                );
            }
            let rows: Vec<GroupRow> = query
                .order((groups::name.asc(), groups::id.asc()))
                .limit(limit + 1)
                .load(conn)?;
            let groups = model::views(conn, rows, composition)?;
            Ok(cursor.page(groups, limit, |g| (g.name.clone(), g.id), |g| g))
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One group.
#[utoipa::path(tag = "groups", responses((status = 200, body = Group), (status = 404)))]
#[get("/groups/{id}")]
pub async fn get_group(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let composition = shows_composition(&staff);
    let id = id.into_inner();
    let (version, group) = state
        .db
        .run(move |conn| {
            // The row answers the scope question too (rule (a)), one round trip fewer.
            let row = model::find(conn, id)?
                .filter(|g| {
                    scope::group_row_visible(&staff, g.lead_therapist_id, &g.co_therapist_ids)
                })
                .ok_or(AppError::NotFound)?;
            Ok((row.version, model::view(conn, row, composition)?))
        })
        .await?;
    Ok(ok_with_etag(version, &group))
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
    let b = body.into_inner();
    let audit = staff.audit();
    let (version, group) = state
        .db
        .tx(move |conn| {
            let cur = model::lock(conn, id)?;
            if_match.check(cur.version)?;
            let status = cur.status();
            if status.is_closed() {
                return Err(AppError::conflict(
                    ErrorCode::Conflict,
                    format!("The group is {}; it can no longer change.", status.as_str()),
                ));
            }
            if status == GroupStatus::Active && b.start_date.is_some_and(|d| d != cur.start_date) {
                return Err(AppError::conflict(
                    ErrorCode::Conflict,
                    "An active group's start_date cannot change.",
                ));
            }
            let cfg = GroupConfig {
                name: b.name.unwrap_or_else(|| cur.name.clone()),
                lead_therapist_id: b.lead_therapist_id.unwrap_or(cur.lead_therapist_id),
                co_therapist_ids: b
                    .co_therapist_ids
                    .unwrap_or_else(|| cur.co_therapist_ids.clone()),
                min_size: b.min_size.unwrap_or(cur.min_size),
                max_size: b.max_size.unwrap_or(cur.max_size),
                meeting_day: b.meeting_day.unwrap_or(cur.meeting_day),
                meeting_time: b
                    .meeting_time
                    .unwrap_or_else(|| crate::domain::group::format_meeting_time(cur.meeting_time)),
                timezone: b
                    .timezone
                    .unwrap_or_else(|| cur.timezone.as_str().to_string()),
                duration_minutes: b.duration_minutes.unwrap_or(cur.duration_minutes),
                min_term_sessions: b.min_term_sessions.unwrap_or(cur.min_term_sessions),
                exit_notice_sessions: b.exit_notice_sessions.unwrap_or(cur.exit_notice_sessions),
                absence_alert_threshold: b
                    .absence_alert_threshold
                    .unwrap_or(cur.absence_alert_threshold),
                completion_attendance_rate: b
                    .completion_attendance_rate
                    .unwrap_or(cur.completion_attendance_rate),
                start_date: b.start_date.unwrap_or(cur.start_date),
                end_date: b.end_date.unwrap_or(cur.end_date),
            };
            cfg.validate().finish()?;
            check_clinicians(conn, &cfg)?;
            let taken = model::seats(conn, id)?.taken();
            if (cfg.max_size as i64) < taken {
                return Err(AppError::invalid(
                    "max_size",
                    format!("must be at least the {taken} seats already taken"),
                ));
            }
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

/// A refused status change as its 409.
fn status_refused(r: StatusRefusal) -> AppError {
    match r {
        StatusRefusal::NotFrom { from, to } => AppError::conflict(
            ErrorCode::Conflict,
            format!("A {} group cannot become {}.", from.as_str(), to.as_str()),
        ),
        StatusRefusal::ContractMissing => AppError::conflict(
            ErrorCode::ContractMissing,
            "The group has no agreement (contract) yet.",
        ),
        StatusRefusal::BelowMinimum { active, min_size } => AppError::conflict(
            ErrorCode::GroupBelowMinimum,
            format!("{active} active members; the group needs at least {min_size} to start."),
        ),
    }
}

/// Moves the group to `to`, enforcing SPEC §2's preconditions for starting, and closing the
/// seats of a completed or cancelled group.
async fn change_status(
    state: web::Data<AppState>,
    staff: Staff,
    id: Uuid,
    to: GroupStatus,
) -> AppResult<HttpResponse> {
    let composition = shows_composition(&staff);
    let audit = staff.audit();
    let cipher = state.notes.clone();
    let weeks = state.settings.schedule_weeks;
    let (version, group) = state
        .db
        .tx(move |conn| {
            let cur = model::lock(conn, id)?;
            let has_contract: bool = diesel::select(diesel::dsl::exists(
                contracts::table.filter(contracts::group_id.eq(id)),
            ))
            .get_result(conn)?;
            let facts = StatusFacts {
                from: cur.status(),
                min_size: cur.min_size,
                has_contract,
                active_members: model::seats(conn, id)?.active,
            };
            let from = decide_status(to, &facts).map_err(status_refused)?;
            let closed = if to.is_closed() {
                lifecycle::close_all_seats(conn, &audit, &cipher, id, to)?
            } else {
                0
            };
            let row: GroupRow =
                diesel::update(groups::table.find(id).filter(groups::status.eq(from)))
                    .set((
                        groups::status.eq(to),
                        groups::version.eq(groups::version + 1),
                        groups::updated_at.eq(Utc::now()),
                    ))
                    .returning(GroupRow::as_returning())
                    .get_result(conn)?;
            audit.allowed(
                conn,
                &format!(
                    "group.{}",
                    match to {
                        GroupStatus::Active => "start",
                        GroupStatus::Completed => "complete",
                        _ => "cancel",
                    }
                ),
                "group",
                Some(id),
                json!({"from": from.as_str(), "seats_closed": closed}),
            )?;
            if to == GroupStatus::Active {
                // A group that starts has its next weeks of sessions at once (SPEC §2 v2).
                crate::sessions::horizon::keep_ahead(conn, &audit, &row, weeks)?;
            }
            Ok((row.version, model::view(conn, row, composition)?))
        })
        .await?;
    Ok(ok_with_etag(version, &group))
}

/// Starts the group: needs a contract and at least `min_size` active members.
#[utoipa::path(tag = "groups", responses((status = 200, body = Group), (status = 409)))]
#[post("/groups/{id}/start")]
pub async fn start_group(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    change_status(state, staff, id.into_inner(), GroupStatus::Active).await
}

/// Completes an active group. Remaining seats close: pending → `withdrawn`, members →
/// `completed` (minimum term met and the group's `completion_attendance_rate` attended) or
/// `group_ended`.
#[utoipa::path(tag = "groups", responses((status = 200, body = Group), (status = 409)))]
#[post("/groups/{id}/complete")]
pub async fn complete_group(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    change_status(state, staff, id.into_inner(), GroupStatus::Completed).await
}

/// Cancels a forming or active group. Remaining seats close: pending → `withdrawn`, members →
/// `group_ended` with the note "group cancelled".
#[utoipa::path(tag = "groups", responses((status = 200, body = Group), (status = 409)))]
#[post("/groups/{id}/cancel")]
pub async fn cancel_group(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    change_status(state, staff, id.into_inner(), GroupStatus::Cancelled).await
}
