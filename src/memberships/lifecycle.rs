//! Guarded membership transitions, shared by the membership endpoints, the phased exit and
//! group completion. Each is `UPDATE … WHERE id = $id AND status = $from`; zero rows is a 409.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::model::MembershipRow;
use crate::audit::AuditCtx;
use crate::domain::attendance::AttendanceStatus;
use crate::domain::group::GroupStatus;
use crate::domain::membership::{ExitReason, MembershipStatus};
use crate::domain::participation::completion_met;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::notes::crypto::NotesCipher;
use crate::notes::fields::{self, Field};
use crate::roster;
use crate::schema::memberships;

/// Moves a membership from one of `from` to `exited` with `reason`, and the note (sealed
/// with the cipher given beside it).
pub fn exit(
    conn: &mut PgConnection,
    id: Uuid,
    from: &[MembershipStatus],
    reason: ExitReason,
    note: Option<(&str, &NotesCipher)>,
    at: DateTime<Utc>,
) -> AppResult<MembershipRow> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let note = note.map(|(text, cipher)| fields::seal(cipher, Field::ExitNote, id, text));
    diesel::update(
        memberships::table
            .find(id)
            .filter(memberships::status.eq_any(from)),
    )
    .set((
        memberships::status.eq(MembershipStatus::Exited),
        memberships::exit_reason.eq(reason),
        memberships::exit_note_sealed.eq(note),
        memberships::exited_at.eq(at),
        memberships::version.eq(memberships::version + 1),
        memberships::updated_at.eq(Utc::now()),
    ))
    .returning(MembershipRow::as_returning())
    .get_result(conn)
    .optional()?
    .ok_or_else(|| {
        AppError::conflict(
            ErrorCode::Conflict,
            "The membership changed status meanwhile.",
        )
    })
}

/// (v2) After a late-entered discharge or withdrawal effective at `at`: the member held no seat
/// at sessions that began at or after it, so their attendance there is removed, each record
/// audited with its old value. The caller holds the group's lock (attendance is recorded under
/// it too). Returns how many records went.
pub fn remove_attendance_after(
    conn: &mut PgConnection,
    audit: &AuditCtx,
    membership_id: Uuid,
    at: DateTime<Utc>,
) -> AppResult<usize> {
    use crate::schema::{attendance, sessions};
    let after: Vec<Uuid> = sessions::table
        .inner_join(attendance::table)
        .filter(attendance::membership_id.eq(membership_id))
        .filter(sessions::scheduled_at.ge(at))
        .select(sessions::id)
        .load(conn)?;
    type Removed = (Uuid, AttendanceStatus, Option<i32>, Uuid, DateTime<Utc>);
    let removed: Vec<Removed> = diesel::delete(
        attendance::table
            .filter(attendance::membership_id.eq(membership_id))
            .filter(attendance::session_id.eq_any(&after)),
    )
    .returning((
        attendance::session_id,
        attendance::status,
        attendance::minutes_late,
        attendance::recorded_by,
        attendance::recorded_at,
    ))
    .get_results(conn)?;
    for (session_id, status, minutes_late, recorded_by, recorded_at) in &removed {
        audit.allowed(
            conn,
            "attendance.remove",
            "session",
            Some(*session_id),
            json!({
                "membership_id": membership_id,
                "from": {"status": status, "minutes_late": minutes_late,
                         "recorded_by": recorded_by, "recorded_at": recorded_at},
                "to": null,
                "cause": "the seat ended before this session (late-entered effective time)",
            }),
        )?;
    }
    Ok(removed.len())
}

/// Closes every open seat of a group that completes or is cancelled: pending seats are
/// withdrawn; members of a completed group who meet the completion criteria finish
/// `completed`; every other seat ends with `group_ended` (v2). Returns how many.
pub fn close_all_seats(
    conn: &mut PgConnection,
    audit: &AuditCtx,
    cipher: &NotesCipher,
    group_id: Uuid,
    to: GroupStatus,
) -> AppResult<usize> {
    let open: Vec<MembershipRow> = memberships::table
        .filter(memberships::group_id.eq(group_id))
        .filter(memberships::status.eq_any(MembershipStatus::SEATED))
        .select(MembershipRow::as_select())
        .for_update()
        .load(conn)?;
    let now = Utc::now();
    for m in &open {
        let (reason, note) = match (m.status(), to) {
            (MembershipStatus::Pending, _) => (
                ExitReason::Withdrawn,
                "group closed before the agreement was signed",
            ),
            (_, GroupStatus::Completed) => {
                let held = roster::held_before(conn, m.id, now)?;
                let attended = roster::attended_before(conn, m.id, now)?;
                let (term, rate): (i32, f64) = crate::schema::groups::table
                    .find(group_id)
                    .select((
                        crate::schema::groups::min_term_sessions,
                        crate::schema::groups::completion_attendance_rate,
                    ))
                    .first(conn)?;
                let met = completion_met(held >= term, attended as i64, held as i64, rate);
                (ExitReason::for_group_end(true, met), "group completed")
            }
            _ => (ExitReason::for_group_end(false, false), "group cancelled"),
        };
        exit(conn, m.id, &[m.status()], reason, Some((note, cipher)), now)?;
        audit.allowed(
            conn,
            "membership.exit",
            "membership",
            Some(m.id),
            json!({"exit_reason": reason.as_str(), "cause": note}),
        )?;
    }
    Ok(open.len())
}
