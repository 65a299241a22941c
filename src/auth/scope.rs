//! A therapist's scope, exactly as SPEC §1 (v2) states it, defined in this one file.
//!
//! A therapist sees:
//! (a) groups they lead or co-lead;
//! (b) clients holding or having held a seat in those groups, and their memberships there;
//! (c) screenings where they are the interviewer, and those clients;
//! (d) the screening on which a member of one of their groups was admitted;
//! (e) completed `accepted` screenings that name one of their groups (their candidates), and
//!     those clients;
//! (f) clients they hold an active emergency access to (§8).
//! Nothing else: a candidate declined by another interviewer stays out of scope. Other roles
//! see the whole practice. Out of scope answers 404, exactly like an unknown id.
//!
//! Each set is one SQL text below, one `UNION` branch per clause, so that the rule is written
//! once and every handler (lists, single reads, the record export, the waitlist, scheduling)
//! asks the same question. `$1` is always the therapist's user id.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Uuid as SqlUuid};
use uuid::Uuid;

use crate::auth::Staff;
use crate::error::{AppError, AppResult};

/// (a) The groups a therapist leads or co-leads.
macro_rules! groups_sql {
    () => {
        "SELECT g.id FROM groups g WHERE g.lead_therapist_id = $1 OR $1 = ANY (g.co_therapist_ids)"
    };
}

/// (a) as a statement returning `id`.
const GROUPS_SQL: &str = groups_sql!();

/// (f) The clients a therapist holds a live emergency access to (SPEC §8): a grant ends at its
/// `expires_at`, reviewed or not, at once.
macro_rules! emergency_clients_sql {
    () => {
        "SELECT e.client_id FROM emergency_access e WHERE e.granted_to = $1 AND e.expires_at > now()"
    };
}

/// The clients of a therapist's care team, (b), (c) and (e): what they may write for (consents,
/// disclosures, scheduling a screening). An emergency access (f) reads, never writes.
macro_rules! care_team_clients_sql {
    () => {
        concat!(
            // (b) a seat of any status, now or in the past, in one of their groups
            "SELECT m.client_id FROM memberships m WHERE m.group_id IN (",
            groups_sql!(),
            ")",
            // (c) the clients of screenings they interview (or interviewed)
            " UNION SELECT s.client_id FROM screenings s WHERE s.interviewer_id = $1",
            // (d) adds no client: a member admitted on a screening is seated, so already in (b)
            // (e) their candidates: completed, accepted screenings naming one of their groups
            " UNION SELECT s.client_id FROM screenings s WHERE s.status = 'completed'",
            " AND s.outcome = 'accepted' AND s.group_id IN (",
            groups_sql!(),
            ")",
        )
    };
}

const CARE_TEAM_SQL: &str = care_team_clients_sql!();

const EMERGENCY_SQL: &str = emergency_clients_sql!();

/// The clients in a therapist's scope, as a statement returning `client_id`.
const CLIENTS_SQL: &str = concat!(
    care_team_clients_sql!(),
    // (f) a live emergency access
    " UNION ",
    emergency_clients_sql!(),
);

/// The screenings in a therapist's scope, as a statement returning `id`.
const SCREENINGS_SQL: &str = concat!(
    // (c) screenings they interview
    "SELECT s.id FROM screenings s WHERE s.interviewer_id = $1",
    // (d) the screening each member of their groups was admitted on
    " UNION SELECT m.screening_id FROM memberships m WHERE m.group_id IN (",
    groups_sql!(),
    ")",
    // (e) completed, accepted screenings naming one of their groups
    " UNION SELECT s.id FROM screenings s WHERE s.status = 'completed'",
    " AND s.outcome = 'accepted' AND s.group_id IN (",
    groups_sql!(),
    ")",
    // (f) the screenings of a client they hold a live emergency access to
    " UNION SELECT s.id FROM screenings s WHERE s.client_id IN (",
    emergency_clients_sql!(),
    ")",
);

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Bool)]
    found: bool,
}

fn ids(conn: &mut PgConnection, set_sql: &str, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    let mut ids: Vec<Uuid> = diesel::sql_query(format!("SELECT x.id FROM ({set_sql}) AS x(id)"))
        .bind::<SqlUuid, _>(user_id)
        .load::<Id>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    Ok(ids)
}

fn contains(conn: &mut PgConnection, set_sql: &str, user_id: Uuid, id: Uuid) -> QueryResult<bool> {
    diesel::sql_query(format!(
        "SELECT EXISTS (SELECT 1 FROM ({set_sql}) AS x(id) WHERE x.id = $2) AS found"
    ))
    .bind::<SqlUuid, _>(user_id)
    .bind::<SqlUuid, _>(id)
    .get_result::<Found>(conn)
    .map(|f| f.found)
}

/// (a) Ids of the groups `user_id` leads or co-leads.
pub fn therapist_group_ids(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    ids(conn, GROUPS_SQL, user_id)
}

/// (a) True when `user_id` leads or co-leads `group_id`.
pub fn is_group_therapist(
    conn: &mut PgConnection,
    user_id: Uuid,
    group_id: Uuid,
) -> QueryResult<bool> {
    contains(conn, GROUPS_SQL, user_id, group_id)
}

/// (b), (c), (e), (f): true when the client is in the therapist's scope.
pub fn is_client_in_therapist_scope(
    conn: &mut PgConnection,
    user_id: Uuid,
    client_id: Uuid,
) -> QueryResult<bool> {
    contains(conn, CLIENTS_SQL, user_id, client_id)
}

/// (b), (c), (e): true when the client is in the therapist's care team, the clients they may
/// act for (an emergency access only reads).
pub fn is_client_in_care_team(
    conn: &mut PgConnection,
    user_id: Uuid,
    client_id: Uuid,
) -> QueryResult<bool> {
    contains(conn, CARE_TEAM_SQL, user_id, client_id)
}

/// (f): true while the therapist holds a live emergency access to the client. Such a therapist
/// reads the client's whole chart (every seat, not only their own groups').
pub fn has_emergency_access(
    conn: &mut PgConnection,
    user_id: Uuid,
    client_id: Uuid,
) -> QueryResult<bool> {
    contains(conn, EMERGENCY_SQL, user_id, client_id)
}

/// (b), (c), (e), (f): ids of every client in the therapist's scope, sorted.
pub fn therapist_client_ids(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    ids(conn, CLIENTS_SQL, user_id)
}

/// (c), (d), (e), (f): ids of every screening in the therapist's scope, sorted.
pub fn therapist_screening_ids(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    ids(conn, SCREENINGS_SQL, user_id)
}

/// (c), (d), (e), (f): true when the screening is in the therapist's scope.
pub fn is_screening_in_therapist_scope(
    conn: &mut PgConnection,
    user_id: Uuid,
    screening_id: Uuid,
) -> QueryResult<bool> {
    contains(conn, SCREENINGS_SQL, user_id, screening_id)
}

/// 404 unless the staff member may see this group.
pub fn ensure_group(conn: &mut PgConnection, staff: &Staff, group_id: Uuid) -> AppResult<()> {
    let visible = if staff.is_scoped() {
        is_group_therapist(conn, staff.id, group_id)?
    } else {
        diesel::select(diesel::dsl::exists(
            crate::schema::groups::table.find(group_id),
        ))
        .get_result(conn)?
    };
    visible.then_some(()).ok_or(AppError::NotFound)
}

/// (a) on a group row already read: what [`ensure_group`] answers for an existing group, without
/// a query (a therapist sees the groups they lead or co-lead; other roles, every group).
pub fn group_row_visible(
    staff: &Staff,
    lead_therapist_id: Uuid,
    co_therapist_ids: &[Uuid],
) -> bool {
    !staff.is_scoped() || lead_therapist_id == staff.id || co_therapist_ids.contains(&staff.id)
}

/// 404 unless the staff member may read this membership: a therapist, those of their groups
/// and (f) every seat of a client they hold a live emergency access to. Changes to a seat keep
/// to the groups (`ensure_group`).
pub fn ensure_membership_readable(
    conn: &mut PgConnection,
    staff: &Staff,
    membership_id: Uuid,
) -> AppResult<()> {
    use crate::schema::memberships;
    let (group_id, client_id): (Uuid, Uuid) = memberships::table
        .find(membership_id)
        .select((memberships::group_id, memberships::client_id))
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    let in_group = ensure_group(conn, staff, group_id);
    if in_group.is_err() && staff.is_scoped() && has_emergency_access(conn, staff.id, client_id)? {
        return Ok(());
    }
    in_group
}

/// 404 unless the staff member may see this client.
pub fn ensure_client(conn: &mut PgConnection, staff: &Staff, client_id: Uuid) -> AppResult<()> {
    let visible = if staff.is_scoped() {
        is_client_in_therapist_scope(conn, staff.id, client_id)?
    } else {
        diesel::select(diesel::dsl::exists(
            crate::schema::clients::table.find(client_id),
        ))
        .get_result(conn)?
    };
    visible.then_some(()).ok_or(AppError::NotFound)
}
