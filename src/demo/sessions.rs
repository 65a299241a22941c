//! Demo sessions: the active group's weekly sessions since it began, held with realistic
//! attendance, one member in the middle of a phased exit, one who rescinded an exit notice, one
//! at risk, and a few weeks ahead still scheduled.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::{DemoGroups, DemoStaff};
use crate::domain::attendance::AttendanceStatus;
use crate::domain::membership::MembershipStatus;
use crate::exits::plan::planned_last_session;
use crate::groups::model as groups;
use crate::schema::{attendance, memberships, sessions};
use crate::sessions::model::{generate_through, SessionStatus};

pub struct DemoSessions {
    /// Held sessions of the active group, oldest first.
    pub held: Vec<Uuid>,
}

/// A deterministic, realistic status: mostly present, some late, a few absences.
fn status_for(member: usize, session: usize) -> (AttendanceStatus, Option<i32>) {
    match (member * 7 + session * 13) % 23 {
        0 => (AttendanceStatus::Late, Some(5 + (session % 3) as i32 * 5)),
        1 => (AttendanceStatus::ExcusedAbsence, None),
        2 => (AttendanceStatus::UnexcusedAbsence, None),
        3 => (AttendanceStatus::LeftEarly, None),
        _ => (AttendanceStatus::Present, None),
    }
}

pub fn load(
    conn: &mut PgConnection,
    staff: &DemoStaff,
    g: &DemoGroups,
) -> anyhow::Result<DemoSessions> {
    let group =
        groups::find(conn, g.active_group)?.ok_or_else(|| anyhow::anyhow!("demo group missing"))?;
    let now = Utc::now();
    generate_through(conn, &group, now.date_naive() + Duration::weeks(4))?;
    let past: Vec<(Uuid, chrono::DateTime<Utc>)> = sessions::table
        .filter(sessions::group_id.eq(group.id))
        .filter(sessions::scheduled_at.lt(now - Duration::hours(3)))
        .order(sessions::sequence.asc())
        .select((sessions::id, sessions::scheduled_at))
        .load(conn)?;
    let at_risk = g.active_members[3];
    let mut held = Vec::new();
    for (i, (session_id, at)) in past.iter().enumerate() {
        // One session in the middle was cancelled for a holiday.
        if i == past.len() / 2 {
            diesel::update(sessions::table.find(session_id))
                .set((
                    sessions::status.eq(SessionStatus::Cancelled),
                    sessions::cancel_reason.eq("Public holiday"),
                ))
                .execute(conn)?;
            continue;
        }
        for (m, member) in g.active_members.iter().enumerate() {
            let recent = i + 3 >= past.len();
            let (status, late) = if *member == at_risk && recent {
                (AttendanceStatus::UnexcusedAbsence, None)
            } else {
                status_for(m, i)
            };
            diesel::insert_into(attendance::table)
                .values((
                    attendance::session_id.eq(session_id),
                    attendance::membership_id.eq(member),
                    attendance::status.eq(status),
                    attendance::minutes_late.eq(late),
                    attendance::recorded_by.eq(staff.therapists[0]),
                    attendance::recorded_at.eq(*at + Duration::hours(2)),
                ))
                .execute(conn)?;
        }
        diesel::update(sessions::table.find(session_id))
            .set(sessions::status.eq(SessionStatus::Held))
            .execute(conn)?;
        held.push(*session_id);
    }
    // Today's session: the next one is moved to half an hour ago, so that a new user signing in
    // as the therapist finds a session under way whose attendance and notes are still to do.
    let next: Option<(Uuid, chrono::DateTime<Utc>)> = sessions::table
        .filter(sessions::group_id.eq(group.id))
        .filter(sessions::scheduled_at.ge(now - Duration::hours(3)))
        .order(sessions::scheduled_at.asc())
        .select((sessions::id, sessions::scheduled_at))
        .first(conn)
        .optional()?;
    if let Some((today_id, at)) = next {
        let started = now - Duration::minutes(30);
        if at > started {
            diesel::update(sessions::table.find(today_id))
                .set(sessions::scheduled_at.eq(started))
                .execute(conn)?;
        }
    }
    // A member announced leaving at last week's session: saying goodbye over the next three.
    if let Some((_, last_week)) = past.last() {
        let announced_at = *last_week + Duration::minutes(80);
        let plan =
            planned_last_session(conn, &group, announced_at).map_err(|e| anyhow::anyhow!("{e}"))?;
        diesel::update(memberships::table.find(g.active_members[5]))
            .set((
                memberships::status.eq(MembershipStatus::Exiting),
                memberships::exit_notice_reason.eq("Starting a new job with evening shifts."),
                memberships::announced_at.eq(announced_at),
                memberships::planned_last_session_id.eq(plan.id),
            ))
            .execute(conn)?;
    }
    // Another member gave notice three weeks ago, explored it in the group, and took it back at
    // the next session (v2: a rescinded exit).
    if past.len() >= 3 {
        let (_, noticed) = past[past.len() - 3];
        let (_, rescinded) = past[past.len() - 2];
        diesel::update(memberships::table.find(g.active_members[6]))
            .set((
                memberships::exit_notice_reason.eq("Feels the group is not helping any more."),
                memberships::announced_at.eq(noticed + Duration::minutes(80)),
                memberships::exit_rescinded_at.eq(rescinded + Duration::minutes(85)),
                memberships::exit_rescind_reason
                    .eq("Explored the wish to leave with the group; decided to stay."),
            ))
            .execute(conn)?;
    }
    Ok(DemoSessions { held })
}
