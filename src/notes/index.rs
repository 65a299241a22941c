//! `GET /notes` (SPEC §7): the metadata index of notes of both kinds — what a "my drafts" list
//! or a supervisor's co-sign queue needs, never content. One statement per page, audited as
//! one `note.list` event naming the clients whose member notes it listed.
//!
//! Scope: supervisors see every group's notes, a therapist the notes of the groups they lead
//! or co-lead (the readers of SPEC §2); other roles may not list notes (403).

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Staff;
use crate::error::AppResult;
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::Query;
use crate::sessions::list::check_window;
use crate::state::AppState;

/// A note's lifecycle state as the index shows it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "snake_case")]
pub enum IndexStatus {
    Draft,
    Signed,
    Cosigned,
    /// Entered in error (kept, never counted as documentation).
    Voided,
}

impl IndexStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IndexStatus::Draft => "draft",
            IndexStatus::Signed => "signed",
            IndexStatus::Cosigned => "cosigned",
            IndexStatus::Voided => "voided",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::Signed, Self::Cosigned, Self::Voided]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Which kind of note.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, diesel::AsExpression, diesel::FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    Group,
    Member,
}

impl NoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Group => "group",
            NoteKind::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Group, Self::Member]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One note's metadata: never its content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoteIndexEntry {
    pub id: Uuid,
    pub kind: NoteKind,
    pub session_id: Uuid,
    pub group_id: Uuid,
    /// Member notes only (null for a group note).
    pub membership_id: Option<Uuid>,
    /// Member notes only: the client the note describes (null for a group note).
    pub client_id: Option<Uuid>,
    pub author_id: Uuid,
    pub status: IndexStatus,
    pub signed_at: Option<DateTime<Utc>>,
    pub cosigned_at: Option<DateTime<Utc>>,
    pub cosigned_by: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
    /// Signed, not co-signed, and authored by a therapist: waits in the supervisors'
    /// co-sign queue.
    pub awaiting_cosign: bool,
    /// The session's start, for ordering and display.
    pub session_scheduled_at: DateTime<Utc>,
    pub session_sequence: i32,
    pub group_name: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotesQuery {
    pub group_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
    #[param(inline)]
    pub status: Option<IndexStatus>,
    /// `true`: signed, not co-signed, authored by a therapist (a supervisor's co-sign queue);
    /// `false`: every other note.
    pub awaiting_cosign: Option<bool>,
    /// First session date, in each group's time zone (inclusive).
    pub from: Option<NaiveDate>,
    /// Last session date, in each group's time zone (inclusive).
    pub to: Option<NaiveDate>,
    /// 1–200, default 50
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
}

/// Which notes: every field narrows the set; `None` does not filter.
#[derive(Debug, Clone, Default)]
pub struct NoteSet {
    pub me: Uuid,
    /// Only the groups `me` leads or co-leads (a therapist's scope).
    pub only_mine: bool,
    pub group_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
    pub status: Option<IndexStatus>,
    pub awaiting_cosign: Option<bool>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// The notes of a `NoteSet` as a CTE named `idx`. Parameters $1–$9 are bound by [`bind_set`].
const INDEX_CTE: &str = "
WITH n AS (
    SELECT id, 'group' AS kind, session_id, NULL::uuid AS membership_id, author_id,
           status::text AS status, signed_at, cosigned_at, cosigned_by, updated_at
    FROM group_notes
    UNION ALL
    SELECT id, 'member', session_id, membership_id, author_id,
           status::text, signed_at, cosigned_at, cosigned_by, updated_at
    FROM member_notes
), idx AS (
    SELECT n.id, n.kind, n.session_id, s.group_id, n.membership_id, m.client_id, n.author_id,
           n.status, n.signed_at, n.cosigned_at, n.cosigned_by, n.updated_at,
           (n.status = 'signed' AND u.role = 'therapist') AS awaiting_cosign,
           s.scheduled_at AS session_scheduled_at, s.sequence AS session_sequence,
           g.name AS group_name
    FROM n
    JOIN sessions s ON s.id = n.session_id
    JOIN groups g ON g.id = s.group_id
    JOIN users u ON u.id = n.author_id
    LEFT JOIN memberships m ON m.id = n.membership_id
    WHERE (NOT $2 OR g.lead_therapist_id = $1 OR $1 = ANY (g.co_therapist_ids))
      AND ($3::uuid IS NULL OR s.group_id = $3::uuid)
      AND ($4::uuid IS NULL OR n.session_id = $4::uuid)
      AND ($5::uuid IS NULL OR n.author_id = $5::uuid)
      AND ($6::text IS NULL OR n.status = $6::text)
      AND ($7::date IS NULL OR (s.scheduled_at >= (($7::date - 1)::timestamp AT TIME ZONE 'UTC')
           AND (s.scheduled_at AT TIME ZONE g.timezone)::date >= $7::date))
      AND ($8::date IS NULL OR (s.scheduled_at < (($8::date + 2)::timestamp AT TIME ZONE 'UTC')
           AND (s.scheduled_at AT TIME ZONE g.timezone)::date <= $8::date))
      AND ($9::bool IS NULL OR (n.status = 'signed' AND u.role = 'therapist') = $9::bool)
)";

type Boxed<'a> =
    diesel::query_builder::BoxedSqlQuery<'a, diesel::pg::Pg, diesel::query_builder::SqlQuery>;

fn bind_set<'a>(q: Boxed<'a>, set: &NoteSet) -> Boxed<'a> {
    q.bind::<SqlUuid, _>(set.me)
        .bind::<Bool, _>(set.only_mine)
        .bind::<Nullable<SqlUuid>, _>(set.group_id)
        .bind::<Nullable<SqlUuid>, _>(set.session_id)
        .bind::<Nullable<SqlUuid>, _>(set.author_id)
        .bind::<Nullable<Text>, _>(set.status)
        .bind::<Nullable<Date>, _>(set.from)
        .bind::<Nullable<Date>, _>(set.to)
        .bind::<Nullable<Bool>, _>(set.awaiting_cosign)
}

#[derive(Debug, QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    kind: NoteKind,
    #[diesel(sql_type = SqlUuid)]
    session_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    group_id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    membership_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    client_id: Option<Uuid>,
    #[diesel(sql_type = SqlUuid)]
    author_id: Uuid,
    #[diesel(sql_type = Text)]
    status: IndexStatus,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    signed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    cosigned_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    cosigned_by: Option<Uuid>,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
    #[diesel(sql_type = Bool)]
    awaiting_cosign: bool,
    #[diesel(sql_type = Timestamptz)]
    session_scheduled_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    session_sequence: i32,
    #[diesel(sql_type = Text)]
    group_name: String,
}

impl Row {
    fn into_entry(self) -> NoteIndexEntry {
        NoteIndexEntry {
            id: self.id,
            kind: self.kind,
            session_id: self.session_id,
            group_id: self.group_id,
            membership_id: self.membership_id,
            client_id: self.client_id,
            author_id: self.author_id,
            status: self.status,
            signed_at: self.signed_at,
            cosigned_at: self.cosigned_at,
            cosigned_by: self.cosigned_by,
            updated_at: self.updated_at,
            awaiting_cosign: self.awaiting_cosign,
            session_scheduled_at: self.session_scheduled_at,
            session_sequence: self.session_sequence,
            group_name: self.group_name,
        }
    }
}

/// Up to `limit` notes of the set, by the session's `scheduled_at`, then note id, after the
/// keyset position `after`.
pub fn page(
    conn: &mut PgConnection,
    set: &NoteSet,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> AppResult<Vec<NoteIndexEntry>> {
    let sql = format!(
        "{INDEX_CTE}
        SELECT * FROM idx
        WHERE $10::timestamptz IS NULL OR (session_scheduled_at, id) > ($10::timestamptz, $11::uuid)
        ORDER BY session_scheduled_at, id
        LIMIT $12"
    );
    let rows: Vec<Row> = bind_set(diesel::sql_query(sql).into_boxed(), set)
        .bind::<Nullable<Timestamptz>, _>(after.map(|a| a.0))
        .bind::<Nullable<SqlUuid>, _>(after.map(|a| a.1))
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    Ok(rows.into_iter().map(Row::into_entry).collect())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many notes the set holds (the dashboard's `awaiting_cosign` is this count for the
/// co-sign queue).
pub fn count(conn: &mut PgConnection, set: &NoteSet) -> QueryResult<i64> {
    let sql = format!("{INDEX_CTE} SELECT count(*) AS n FROM idx");
    bind_set(diesel::sql_query(sql).into_boxed(), set)
        .get_result::<Count>(conn)
        .map(|c| c.n)
}

/// Notes' metadata, by session time then id (supervisors; a therapist within their groups).
/// Never content. Audited as one `note.list` naming the clients of the member notes listed.
#[utoipa::path(tag = "notes", params(NotesQuery),
    responses((status = 200, body = Page<NoteIndexEntry>), (status = 401), (status = 403), (status = 422)))]
#[get("/notes")]
pub async fn list_notes(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<NotesQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    check_window(q.from, q.to)?;
    let after: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let set = NoteSet {
        me: staff.id,
        only_mine: staff.is_scoped(),
        group_id: q.group_id,
        session_id: q.session_id,
        author_id: q.author_id,
        status: q.status,
        awaiting_cosign: q.awaiting_cosign,
        from: q.from,
        to: q.to,
    };
    let audit = staff.audit();
    let items = state
        .db
        .tx(move |conn| {
            let items = page(conn, &set, after, limit + 1)?;
            let shown = items
                .iter()
                .take(limit as usize)
                .filter_map(|n| n.client_id);
            crate::audit::bulk::list_read(&audit, conn, "note.list", "note", None, shown)?;
            Ok(items)
        })
        .await?;
    let page = cursor.page(items, limit, |n| (n.session_scheduled_at, n.id), |n| n);
    Ok(HttpResponse::Ok().json(page))
}
