use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::client::{Gender, ReferralSource};
use crate::domain::composition::{warnings, CompositionWarning, Traits};
use crate::domain::group::{format_meeting_time, GroupStatus, MeetingDay, TimeZone};
use crate::domain::membership::MembershipStatus;
use crate::error::{AppError, AppResult};
use crate::schema::{clients, groups, memberships};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = groups)]
pub struct GroupRow {
    pub id: Uuid,
    pub name: String,
    pub lead_therapist_id: Uuid,
    pub co_therapist_ids: Vec<Uuid>,
    pub min_size: i32,
    pub max_size: i32,
    pub meeting_day: MeetingDay,
    pub meeting_time: NaiveTime,
    pub timezone: TimeZone,
    pub duration_minutes: i32,
    pub min_term_sessions: i32,
    pub exit_notice_sessions: i32,
    pub absence_alert_threshold: i32,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub status: GroupStatus,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completion_attendance_rate: f64,
}

impl GroupRow {
    pub fn status(&self) -> GroupStatus {
        self.status
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.0
    }

    /// True when `user_id` leads or co-leads this group.
    pub fn is_therapist(&self, user_id: Uuid) -> bool {
        self.lead_therapist_id == user_id || self.co_therapist_ids.contains(&user_id)
    }
}

/// Seat counts of a group: pending, active and exiting memberships hold seats (SPEC §2).
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct Seats {
    pub pending: i64,
    pub active: i64,
    pub exiting: i64,
}

impl Seats {
    pub fn taken(&self) -> i64 {
        self.pending + self.active + self.exiting
    }
}

impl Seats {
    fn count(&mut self, status: MembershipStatus, n: i64) {
        match status {
            MembershipStatus::Pending => self.pending = n,
            MembershipStatus::Active => self.active = n,
            MembershipStatus::Exiting => self.exiting = n,
            MembershipStatus::Exited => {}
        }
    }
}

pub fn seats(conn: &mut PgConnection, group_id: Uuid) -> QueryResult<Seats> {
    Ok(seats_of(conn, &[group_id])?
        .remove(&group_id)
        .unwrap_or_default())
}

/// The seat counts of several groups in one query (`group_id = ANY(..) GROUP BY`); a group
/// without a seat held is absent.
pub fn seats_of(conn: &mut PgConnection, group_ids: &[Uuid]) -> QueryResult<HashMap<Uuid, Seats>> {
    let counts: Vec<(Uuid, MembershipStatus, i64)> = memberships::table
        .filter(memberships::group_id.eq_any(group_ids))
        .filter(memberships::status.eq_any(MembershipStatus::SEATED))
        .group_by((memberships::group_id, memberships::status))
        .select((
            memberships::group_id,
            memberships::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let mut by_group: HashMap<Uuid, Seats> = HashMap::new();
    for (group_id, status, n) in counts {
        by_group.entry(group_id).or_default().count(status, n);
    }
    Ok(by_group)
}

/// A group as the API shows it (SPEC §2), with its seat counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Group {
    pub id: Uuid,
    pub name: String,
    pub lead_therapist_id: Uuid,
    pub co_therapist_ids: Vec<Uuid>,
    pub min_size: i32,
    pub max_size: i32,
    pub meeting_day: MeetingDay,
    /// `HH:MM`, local to `timezone`.
    pub meeting_time: String,
    pub timezone: String,
    pub duration_minutes: i32,
    pub min_term_sessions: i32,
    pub exit_notice_sessions: i32,
    pub absence_alert_threshold: i32,
    /// Share (0–1) of the sessions held while seated a member must have attended for a
    /// finished stay to be `completed` (v2).
    pub completion_attendance_rate: f64,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub status: GroupStatus,
    /// Active seats (active + exiting) below `min_size` while the group is active.
    pub below_minimum: bool,
    pub seats: Seats,
    /// v2 (clinical roles and admins): one entry per value of `gender`, `mandated` or
    /// `referral_source` held by exactly one seated member, once at least three are seated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composition_warnings: Option<Vec<CompositionWarning>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Group {
    pub fn from_row(r: GroupRow, seats: Seats) -> Group {
        let status = r.status();
        Group {
            below_minimum: status == GroupStatus::Active
                && seats.active + seats.exiting < r.min_size as i64,
            id: r.id,
            name: r.name,
            lead_therapist_id: r.lead_therapist_id,
            co_therapist_ids: r.co_therapist_ids,
            min_size: r.min_size,
            max_size: r.max_size,
            meeting_day: r.meeting_day,
            meeting_time: format_meeting_time(r.meeting_time),
            timezone: r.timezone.as_str().to_string(),
            duration_minutes: r.duration_minutes,
            min_term_sessions: r.min_term_sessions,
            exit_notice_sessions: r.exit_notice_sessions,
            absence_alert_threshold: r.absence_alert_threshold,
            completion_attendance_rate: r.completion_attendance_rate,
            start_date: r.start_date,
            end_date: r.end_date,
            status,
            seats,
            composition_warnings: None,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<GroupRow>> {
    groups::table
        .find(id)
        .select(GroupRow::as_select())
        .first(conn)
        .optional()
}

/// Locks the group row for the rest of the transaction: admissions, contract versions and
/// status changes of one group happen one at a time, so capacity holds under concurrency.
pub fn lock(conn: &mut PgConnection, id: Uuid) -> AppResult<GroupRow> {
    groups::table
        .find(id)
        .select(GroupRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// The group as the API shows it, with seats and, when `composition`, its composition
/// warnings.
pub fn view(conn: &mut PgConnection, row: GroupRow, composition: bool) -> QueryResult<Group> {
    if !composition {
        let s = seats(conn, row.id)?;
        return Ok(Group::from_row(row, s));
    }
    // The seats and the traits of the members holding them, in one query rather than two.
    let seated: Vec<(MembershipStatus, Option<Gender>, bool, ReferralSource)> = memberships::table
        .inner_join(clients::table)
        .filter(memberships::group_id.eq(row.id))
        .filter(memberships::status.eq_any(MembershipStatus::SEATED))
        .select((
            memberships::status,
            clients::gender,
            clients::mandated,
            clients::referral_source,
        ))
        .load(conn)?;
    let mut s = Seats::default();
    let mut traits = Vec::with_capacity(seated.len());
    for (status, gender, mandated, referral_source) in seated {
        match status {
            MembershipStatus::Pending => s.pending += 1,
            MembershipStatus::Active => s.active += 1,
            MembershipStatus::Exiting => s.exiting += 1,
            MembershipStatus::Exited => {}
        }
        traits.push(Traits {
            gender,
            mandated,
            referral_source,
        });
    }
    let mut g = Group::from_row(row, s);
    g.composition_warnings = Some(warnings(&traits));
    Ok(g)
}

/// A page of groups as the API shows them: the seats (and composition warnings) of every
/// group on the page in one query each, not one per group.
pub fn views(
    conn: &mut PgConnection,
    rows: Vec<GroupRow>,
    composition: bool,
) -> QueryResult<Vec<Group>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut seats = seats_of(conn, &ids)?;
    let mut traits = if composition {
        Some(seated_traits_of(conn, &ids)?)
    } else {
        None
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.id;
            let mut g = Group::from_row(row, seats.remove(&id).unwrap_or_default());
            g.composition_warnings = traits
                .as_mut()
                .map(|t| warnings(&t.remove(&id).unwrap_or_default()));
            g
        })
        .collect())
}

/// The traits of the seated members of several groups, by group.
fn seated_traits_of(
    conn: &mut PgConnection,
    group_ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, Vec<Traits>>> {
    let rows: Vec<(Uuid, Option<Gender>, bool, ReferralSource)> = memberships::table
        .inner_join(clients::table)
        .filter(memberships::group_id.eq_any(group_ids))
        .filter(memberships::status.eq_any(MembershipStatus::SEATED))
        .select((
            memberships::group_id,
            clients::gender,
            clients::mandated,
            clients::referral_source,
        ))
        .load(conn)?;
    let mut by_group: HashMap<Uuid, Vec<Traits>> = HashMap::new();
    for (group_id, gender, mandated, referral_source) in rows {
        by_group.entry(group_id).or_default().push(Traits {
            gender,
            mandated,
            referral_source,
        });
    }
    Ok(by_group)
}

/// The traits of the members holding a seat (pending, active, exiting) in the group, leaving
/// out the seat `without` when given.
pub fn seated_traits(
    conn: &mut PgConnection,
    group_id: Uuid,
    without: Option<Uuid>,
) -> QueryResult<Vec<Traits>> {
    // One statement shape whether or not a seat is left out (`IS DISTINCT FROM NULL` holds
    // for every row), so that it is prepared once and cached: a boxed query never is, and
    // GET /groups/{id} runs this on every call.
    let rows: Vec<(Option<Gender>, bool, ReferralSource)> = memberships::table
        .inner_join(clients::table)
        .filter(memberships::group_id.eq(group_id))
        .filter(memberships::status.eq_any(MembershipStatus::SEATED))
        .filter(memberships::id.nullable().is_distinct_from(without))
        .select((clients::gender, clients::mandated, clients::referral_source))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(gender, mandated, referral_source)| Traits {
            gender,
            mandated,
            referral_source,
        })
        .collect())
}

/// The group's composition warnings (SPEC §2); with `without`, as if that seat were not held.
pub fn composition_warnings(
    conn: &mut PgConnection,
    group_id: Uuid,
    without: Option<Uuid>,
) -> QueryResult<Vec<CompositionWarning>> {
    Ok(warnings(&seated_traits(conn, group_id, without)?))
}
