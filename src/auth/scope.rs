//! A therapist's scope (SPEC §1): groups they lead or co-lead, clients with a seat of any
//! status in those groups, screenings assigned to them and those screenings' clients.
//! Other roles see the whole practice. Out of scope answers 404.
//!
//! A screening done *for* a group the therapist leads (its `group_id`), or the one a member of
//! such a group was admitted on, belongs to that group's intake and is in scope too
//! (`screenings::model::visible`); so are the clients of those screenings: the therapist who
//! admits a client to their group sees them on the waitlist and can open their record first.

use diesel::dsl::exists;
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::Staff;
use crate::error::{AppError, AppResult};
use crate::schema::{groups, memberships, screenings};

/// Ids of the groups `user_id` leads or co-leads.
pub fn therapist_group_ids(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    groups::table
        .filter(
            groups::lead_therapist_id
                .eq(user_id)
                .or(groups::co_therapist_ids.contains(vec![user_id])),
        )
        .select(groups::id)
        .load(conn)
}

/// True when `user_id` leads or co-leads `group_id`.
pub fn is_group_therapist(
    conn: &mut PgConnection,
    user_id: Uuid,
    group_id: Uuid,
) -> QueryResult<bool> {
    diesel::select(exists(
        groups::table.filter(groups::id.eq(group_id)).filter(
            groups::lead_therapist_id
                .eq(user_id)
                .or(groups::co_therapist_ids.contains(vec![user_id])),
        ),
    ))
    .get_result(conn)
}

/// True when the client has a seat (any status) in one of the therapist's groups, or a
/// screening assigned to the therapist or done for one of their groups.
pub fn is_client_in_therapist_scope(
    conn: &mut PgConnection,
    user_id: Uuid,
    client_id: Uuid,
) -> QueryResult<bool> {
    let group_ids = therapist_group_ids(conn, user_id)?;
    let seated: bool = diesel::select(exists(
        memberships::table
            .filter(memberships::client_id.eq(client_id))
            .filter(memberships::group_id.eq_any(&group_ids)),
    ))
    .get_result(conn)?;
    if seated {
        return Ok(true);
    }
    diesel::select(exists(
        screenings::table
            .filter(screenings::client_id.eq(client_id))
            .filter(
                screenings::interviewer_id
                    .eq(user_id)
                    .or(screenings::group_id.eq_any(&group_ids)),
            ),
    ))
    .get_result(conn)
}

/// Ids of every client in the therapist's scope.
pub fn therapist_client_ids(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    let group_ids = therapist_group_ids(conn, user_id)?;
    let mut ids: Vec<Uuid> = memberships::table
        .filter(memberships::group_id.eq_any(&group_ids))
        .select(memberships::client_id)
        .load(conn)?;
    ids.extend(
        screenings::table
            .filter(
                screenings::interviewer_id
                    .eq(user_id)
                    .or(screenings::group_id.eq_any(&group_ids)),
            )
            .select(screenings::client_id)
            .load::<Uuid>(conn)?,
    );
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// 404 unless the staff member may see this group.
pub fn ensure_group(conn: &mut PgConnection, staff: &Staff, group_id: Uuid) -> AppResult<()> {
    let visible = if staff.is_scoped() {
        is_group_therapist(conn, staff.id, group_id)?
    } else {
        diesel::select(exists(groups::table.find(group_id))).get_result(conn)?
    };
    visible.then_some(()).ok_or(AppError::NotFound)
}

/// 404 unless the staff member may see this client.
pub fn ensure_client(conn: &mut PgConnection, staff: &Staff, client_id: Uuid) -> AppResult<()> {
    let visible = if staff.is_scoped() {
        is_client_in_therapist_scope(conn, staff.id, client_id)?
    } else {
        diesel::select(exists(crate::schema::clients::table.find(client_id))).get_result(conn)?
    };
    visible.then_some(()).ok_or(AppError::NotFound)
}
