//! The lock order of a membership's transitions.
//!
//! Every transaction that changes a group, its sessions, its seats or their notes takes its row
//! locks in one order, so no two of them can wait for each other in a cycle:
//!
//! ```text
//! group → session → membership (→ screening, at admission) → note
//! ```
//!
//! and its audit events are appended last, just before the commit, taking no lock at all
//! (`audit::buffer`). Sign, discharge, withdraw, exit notice and rescinded exit lock through
//! [`lock_with_group`]; admission locks the group, then the screening; a session's cancellation,
//! rescheduling or attendance locks the group, then the session, then (through the exit plans
//! it completes or moves) the memberships.

use diesel::prelude::*;
use uuid::Uuid;

use super::model::MembershipRow;
use crate::auth::{scope, Staff};
use crate::error::{AppError, AppResult};
use crate::groups::{model as groups, GroupRow};
use crate::schema::memberships;

/// Locks a membership for a transition, its group first: reads the membership's group (a seat
/// never changes group, so it is the group of the row locked next), checks that `staff` may act
/// on that group (`scope::ensure_group`: 404, as for an unknown membership), locks the group's
/// row — so the transition runs after, or before, an admission, a new agreement version, a
/// change of the group's status and the attendance of its sessions — then the membership's
/// row, read under its lock so the caller decides on the current status.
///
/// The caller takes any further lock after these, in the order above (the membership's notes,
/// never a session: a session comes before the membership, and no caller needs one today).
pub fn lock_with_group(
    conn: &mut PgConnection,
    staff: &Staff,
    membership_id: Uuid,
) -> AppResult<(GroupRow, MembershipRow)> {
    let group_id: Uuid = memberships::table
        .find(membership_id)
        .select(memberships::group_id)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    scope::ensure_group(conn, staff, group_id)?;
    let group = groups::lock(conn, group_id)?;
    let membership = memberships::table
        .find(membership_id)
        .select(MembershipRow::as_select())
        .for_update()
        .first(conn)?;
    Ok((group, membership))
}
