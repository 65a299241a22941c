//! Computing, moving and completing exit plans. Called from the exit-notice endpoint, from
//! session cancellation and from attendance recording, inside their transactions.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditCtx;
use crate::domain::membership::{ExitReason, MembershipStatus};
use crate::domain::participation::completion_met;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::groups::GroupRow;
use crate::memberships::lifecycle;
use crate::roster;
use crate::schema::{memberships, sessions};
use crate::sessions::model::SessionStatus;
use crate::sessions::model::{nth_session_after, SessionRow};

const TOO_FEW_SESSIONS: &str =
    "The group has too few sessions left (before its end date) for the exit notice period.";

/// The planned last session: the `exit_notice_sessions`-th non-cancelled session scheduled
/// after `announced_at` (sessions are generated as needed).
pub fn planned_last_session(
    conn: &mut PgConnection,
    group: &GroupRow,
    announced_at: DateTime<Utc>,
) -> AppResult<SessionRow> {
    let notice = group.exit_notice_sessions as i64;
    nth_session_after(conn, group, announced_at, notice)?
        .ok_or_else(|| AppError::conflict(ErrorCode::Conflict, TOO_FEW_SESSIONS))
}

/// Ends an exiting membership whose planned last session is now held.
pub fn complete_exit(
    conn: &mut PgConnection,
    audit: &AuditCtx,
    membership_id: Uuid,
    last: &SessionRow,
    group: &GroupRow,
) -> AppResult<()> {
    let held = roster::held_before(conn, membership_id, last.scheduled_at)?;
    let attended = roster::attended_before(conn, membership_id, last.scheduled_at)?;
    let reason = ExitReason::for_planned_exit(completion_met(
        held >= group.min_term_sessions,
        attended as i64,
        held as i64,
        group.completion_attendance_rate,
    ));
    // The member left when the farewell session ended, however late its attendance is recorded:
    // seated at that session, not at the next.
    let left_at = last.scheduled_at + chrono::Duration::minutes(last.duration_minutes as i64);
    lifecycle::exit(
        conn,
        membership_id,
        &[MembershipStatus::Exiting],
        reason,
        None,
        left_at,
    )?;
    audit.allowed(
        conn,
        "membership.exit",
        "membership",
        Some(membership_id),
        json!({
            "exit_reason": reason.as_str(),
            "last_session_id": last.id,
            "sessions_held": held,
            "sessions_attended": attended,
        }),
    )
}

/// After attendance is recorded for `session`: members whose planned last session it is leave.
pub fn complete_planned_exits(
    conn: &mut PgConnection,
    audit: &AuditCtx,
    group: &GroupRow,
    session: &SessionRow,
) -> AppResult<usize> {
    let due: Vec<Uuid> = memberships::table
        .filter(memberships::planned_last_session_id.eq(session.id))
        .filter(memberships::status.eq(MembershipStatus::Exiting))
        .select(memberships::id)
        .for_update()
        .load(conn)?;
    for id in &due {
        complete_exit(conn, audit, *id, session, group)?;
    }
    Ok(due.len())
}

/// After `cancelled` is cancelled: cancelled sessions do not count toward a notice period
/// (SPEC §2), so every plan whose period contained it — announced before it, farewell session
/// on or after it — moves on to the next non-cancelled session after its farewell session
/// (the farewell session itself when that is the one cancelled). If that session is already
/// held (a past session cancelled after the next week was recorded), the exit completes at
/// once, as a late-entered notice does. A period cannot run past the group's `end_date`: with
/// no later session the plan stays (the cancellation is never refused for it), and the exit
/// ends when the group completes.
pub fn move_plans(
    conn: &mut PgConnection,
    audit: &AuditCtx,
    group: &GroupRow,
    cancelled: &SessionRow,
) -> AppResult<usize> {
    let affected: Vec<(Uuid, Uuid, DateTime<Utc>)> = memberships::table
        .inner_join(sessions::table)
        .filter(memberships::group_id.eq(group.id))
        .filter(memberships::status.eq(MembershipStatus::Exiting))
        .filter(memberships::announced_at.lt(cancelled.scheduled_at))
        .filter(sessions::scheduled_at.ge(cancelled.scheduled_at))
        .select((memberships::id, sessions::id, sessions::scheduled_at))
        // Locks the seats (and their farewell sessions, under the group lock the caller
        // holds) so that a concurrent discharge is seen, not overwritten.
        .for_update()
        .load(conn)?;
    let mut moved = 0;
    for (id, farewell, farewell_at) in &affected {
        let Some(next) = nth_session_after(conn, group, *farewell_at, 1)? else {
            continue;
        };
        moved += 1;
        diesel::update(memberships::table.find(*id))
            .set((
                memberships::planned_last_session_id.eq(next.id),
                memberships::version.eq(memberships::version + 1),
                memberships::updated_at.eq(Utc::now()),
            ))
            .execute(conn)?;
        audit.allowed(
            conn,
            "membership.exit_plan_moved",
            "membership",
            Some(*id),
            json!({"from": farewell, "to": next.id, "cancelled_session_id": cancelled.id}),
        )?;
        if next.status == SessionStatus::Held {
            complete_exit(conn, audit, *id, &next, group)?;
        }
    }
    Ok(moved)
}
