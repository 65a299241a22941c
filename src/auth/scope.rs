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

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Bool, SingleValue, Uuid as SqlUuid};
use uuid::Uuid;

use crate::auth::Staff;
use crate::error::{AppError, AppResult};

/// (a) The groups a therapist leads or co-leads.
macro_rules! groups_sql {
    () => {
        "SELECT g.id FROM groups g WHERE g.lead_therapist_id = $1 OR $1 = ANY (g.co_therapist_ids)"
    };
}

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

/// The clients in a therapist's scope, as a statement returning `client_id`.
macro_rules! clients_sql {
    () => {
        concat!(
            care_team_clients_sql!(),
            // (f) a live emergency access
            " UNION ",
            emergency_clients_sql!(),
        )
    };
}

/// The screenings in a therapist's scope, as a statement returning `id`.
macro_rules! screenings_sql {
    () => {
        concat!(
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
        )
    };
}

/// One of the statements of this file, with its parameters (`$1` the therapist, `$2` the id
/// asked about), as a query diesel prepares once per connection and keeps: its cache key is
/// the marker type `S`, where `diesel::sql_query` is prepared anew on every call (each scope
/// check is a `UNION` of several branches, so planning it cost more than running it).
struct ScopeQuery<S, T> {
    user_id: Uuid,
    id: Option<Uuid>,
    _sql: std::marker::PhantomData<(S, T)>,
}

/// A statement text of this file, named by a type so that its prepared form can be cached.
trait ScopeSql: 'static {
    const SQL: &'static str;
}

impl<S: ScopeSql, T: SingleValue + 'static> ScopeQuery<S, T> {
    fn new(user_id: Uuid, id: Option<Uuid>) -> Self {
        ScopeQuery {
            user_id,
            id,
            _sql: std::marker::PhantomData,
        }
    }
}

impl<S: ScopeSql, T: 'static> QueryId for ScopeQuery<S, T> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<S: ScopeSql, T: SingleValue + 'static> Query for ScopeQuery<S, T> {
    type SqlType = T;
}

impl<S: ScopeSql, T: SingleValue + 'static> QueryFragment<Pg> for ScopeQuery<S, T> {
    /// Copies the text, binding each `$1`/`$2` where it stands (diesel numbers them anew).
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut rest = S::SQL;
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            match rest.as_bytes().get(at + 1) {
                Some(b'1') => out.push_bind_param::<SqlUuid, _>(&self.user_id)?,
                Some(b'2') => match &self.id {
                    Some(id) => out.push_bind_param::<SqlUuid, _>(id)?,
                    None => {
                        return Err(diesel::result::Error::QueryBuilderError(
                            "scope statement needs an id".into(),
                        ))
                    }
                },
                _ => {
                    return Err(diesel::result::Error::QueryBuilderError(
                        "unknown parameter in a scope statement".into(),
                    ))
                }
            }
            rest = &rest[at + 2..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl<S, T> RunQueryDsl<PgConnection> for ScopeQuery<S, T> {}

/// `EXISTS` over a set: true when `$2` is in it.
struct Contains<S>(std::marker::PhantomData<S>);
impl<S: SetSql> ScopeSql for Contains<S> {
    const SQL: &'static str = S::CONTAINS;
}

/// The whole set, sorted.
struct All<S>(std::marker::PhantomData<S>);
impl<S: SetSql> ScopeSql for All<S> {
    const SQL: &'static str = S::IDS;
}

/// One scope set: its membership test and its listing, built from the same text.
trait SetSql: 'static {
    const CONTAINS: &'static str;
    const IDS: &'static str;
}

macro_rules! scope_set {
    ($name:ident, $sql:expr) => {
        struct $name;
        impl SetSql for $name {
            const CONTAINS: &'static str = concat!(
                "SELECT EXISTS (SELECT 1 FROM (",
                $sql,
                ") AS x(id) WHERE x.id = $2)"
            );
            const IDS: &'static str = concat!("SELECT x.id FROM (", $sql, ") AS x(id) ORDER BY 1");
        }
    };
}

scope_set!(Groups, groups_sql!());
scope_set!(CareTeam, care_team_clients_sql!());
scope_set!(Emergency, emergency_clients_sql!());
scope_set!(Clients, clients_sql!());
scope_set!(Screenings, screenings_sql!());

fn ids<S: SetSql>(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    ScopeQuery::<All<S>, SqlUuid>::new(user_id, None).load(conn)
}

fn contains<S: SetSql>(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> QueryResult<bool> {
    ScopeQuery::<Contains<S>, Bool>::new(user_id, Some(id)).get_result(conn)
}

/// (a) Ids of the groups `user_id` leads or co-leads.
pub fn therapist_group_ids(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    ids::<Groups>(conn, user_id)
}

/// (a) True when `user_id` leads or co-leads `group_id`.
pub fn is_group_therapist(
    conn: &mut PgConnection,
    user_id: Uuid,
    group_id: Uuid,
) -> QueryResult<bool> {
    contains::<Groups>(conn, user_id, group_id)
}

/// (b), (c), (e), (f): true when the client is in the therapist's scope.
pub fn is_client_in_therapist_scope(
    conn: &mut PgConnection,
    user_id: Uuid,
    client_id: Uuid,
) -> QueryResult<bool> {
    contains::<Clients>(conn, user_id, client_id)
}

/// (b), (c), (e): true when the client is in the therapist's care team, the clients they may
/// act for (an emergency access only reads).
pub fn is_client_in_care_team(
    conn: &mut PgConnection,
    user_id: Uuid,
    client_id: Uuid,
) -> QueryResult<bool> {
    contains::<CareTeam>(conn, user_id, client_id)
}

/// (f): true while the therapist holds a live emergency access to the client. Such a therapist
/// reads the client's whole chart (every seat, not only their own groups').
pub fn has_emergency_access(
    conn: &mut PgConnection,
    user_id: Uuid,
    client_id: Uuid,
) -> QueryResult<bool> {
    contains::<Emergency>(conn, user_id, client_id)
}

/// (b), (c), (e), (f): ids of every client in the therapist's scope, sorted.
pub fn therapist_client_ids(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    ids::<Clients>(conn, user_id)
}

/// (c), (d), (e), (f): ids of every screening in the therapist's scope, sorted.
pub fn therapist_screening_ids(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    ids::<Screenings>(conn, user_id)
}

/// (c), (d), (e), (f): true when the screening is in the therapist's scope.
pub fn is_screening_in_therapist_scope(
    conn: &mut PgConnection,
    user_id: Uuid,
    screening_id: Uuid,
) -> QueryResult<bool> {
    contains::<Screenings>(conn, user_id, screening_id)
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
