//! `POST /groups/{id}/members`, `GET /groups/{id}/members`, `GET /memberships/{id}`,
//! `POST /memberships/{id}/sign|discharge|withdraw`.
//!
//! One file per action (or small group of actions); the handlers are re-exported here, where
//! the route lists name them.

mod admission;
mod exit;
mod read;
mod signing;

pub use admission::*;
pub use exit::*;
pub use read::*;
pub use signing::*;

use diesel::prelude::*;
use uuid::Uuid;

use super::model::MembershipRow;
use crate::auth::{scope, Staff};
use crate::error::{AppError, AppResult};
use crate::groups::model as groups;
use crate::schema::memberships;

/// Loads a membership the caller may see (a therapist: their groups' only). With `lock`, a
/// transition follows the one lock order (group → session → membership → audit chain): the
/// group's row first — so a transition and a group start, completion or attendance of the
/// same group run one after the other — then the membership's, so it sees the current status.
fn visible(
    conn: &mut PgConnection,
    staff: &Staff,
    id: Uuid,
    lock: bool,
) -> AppResult<MembershipRow> {
    let q = memberships::table
        .find(id)
        .select(MembershipRow::as_select());
    let row = q.first(conn).optional()?.ok_or(AppError::NotFound)?;
    scope::ensure_group(conn, staff, row.group_id)?;
    if !lock {
        return Ok(row);
    }
    groups::lock(conn, row.group_id)?;
    // A seat never changes group, so the row locked is the one just checked.
    q.for_update().first(conn).map_err(AppError::from)
}
