use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::schedule::weekly;
pub use crate::domain::session::SessionStatus;
use crate::error::{AppError, AppResult};
use crate::groups::GroupRow;
use crate::schema::sessions;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: Uuid,
    pub group_id: Uuid,
    pub sequence: i32,
    pub scheduled_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub status: SessionStatus,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A session as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Session {
    pub id: Uuid,
    pub group_id: Uuid,
    pub sequence: i32,
    pub scheduled_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub status: SessionStatus,
    pub cancel_reason: Option<String>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: r.id,
            group_id: r.group_id,
            sequence: r.sequence,
            scheduled_at: r.scheduled_at,
            duration_minutes: r.duration_minutes,
            status: r.status,
            cancel_reason: r.cancel_reason,
        }
    }
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

pub fn lock(conn: &mut PgConnection, id: Uuid) -> AppResult<SessionRow> {
    sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Creates the group's missing weekly sessions up to `through` (never past `end_date`):
/// occurrences after the last existing session, numbered on from its sequence, so the
/// numbering has no gaps and running it twice creates nothing. The caller holds the group's
/// row lock. Returns the sessions created.
pub fn generate_through(
    conn: &mut PgConnection,
    group: &GroupRow,
    through: NaiveDate,
) -> QueryResult<Vec<SessionRow>> {
    generate_between(conn, group, None, through)
}

/// [`generate_through`], creating no session dated before `not_before` (the automatic
/// schedule never fills a group's past with sessions that did not take place).
pub fn generate_between(
    conn: &mut PgConnection,
    group: &GroupRow,
    not_before: Option<NaiveDate>,
    through: NaiveDate,
) -> QueryResult<Vec<SessionRow>> {
    let through = group.end_date.map_or(through, |end| end.min(through));
    let last: Option<(i32, DateTime<Utc>)> = sessions::table
        .filter(sessions::group_id.eq(group.id))
        .order(sessions::sequence.desc())
        .select((sessions::sequence, sessions::scheduled_at))
        .first(conn)
        .optional()?;
    let tz = group.tz();
    let from = match last {
        // The day after the last session, in the group's zone.
        Some((_, at)) => at.with_timezone(&tz).date_naive() + Duration::days(1),
        None => group.start_date,
    };
    let from = not_before.map_or(from, |floor| from.max(floor));
    let day = group.meeting_day.weekday();
    let mut sequence = last.map_or(0, |(s, _)| s);
    let mut created = Vec::new();
    for at in weekly(tz, day, group.meeting_time, from, through) {
        sequence += 1;
        // The caller's row lock makes generators take turns; should a slot be taken anyway
        // (the unique (group, sequence) and (group, scheduled_at) keys), it is skipped.
        created.extend(
            diesel::insert_into(sessions::table)
                .values((
                    sessions::id.eq(Uuid::new_v4()),
                    sessions::group_id.eq(group.id),
                    sessions::sequence.eq(sequence),
                    sessions::scheduled_at.eq(at),
                    sessions::duration_minutes.eq(group.duration_minutes),
                ))
                .on_conflict_do_nothing()
                .returning(SessionRow::as_returning())
                .get_results(conn)?,
        );
    }
    Ok(created)
}

/// The `n`-th non-cancelled session of the group scheduled strictly after `after`, generating
/// sessions as needed (up to a year beyond `after`, never past `end_date`).
pub fn nth_session_after(
    conn: &mut PgConnection,
    group: &GroupRow,
    after: DateTime<Utc>,
    n: i64,
) -> QueryResult<Option<SessionRow>> {
    let find = |conn: &mut PgConnection| -> QueryResult<Option<SessionRow>> {
        sessions::table
            .filter(sessions::group_id.eq(group.id))
            .filter(sessions::scheduled_at.gt(after))
            .filter(sessions::status.ne(SessionStatus::Cancelled))
            .order(sessions::scheduled_at.asc())
            .offset(n - 1)
            .select(SessionRow::as_select())
            .first(conn)
            .optional()
    };
    // Generate only as far as needed: a few weeks at a time (cancelled sessions push the
    // plan further), at most a year.
    let start = after.with_timezone(&group.tz()).date_naive();
    let mut weeks = n + 1;
    loop {
        if let Some(s) = find(conn)? {
            return Ok(Some(s));
        }
        if weeks > 52 {
            return Ok(None);
        }
        generate_through(conn, group, start + Duration::weeks(weeks))?;
        weeks += 4;
    }
}
