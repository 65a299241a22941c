//! Attendance report rows (SPEC §5): one per attendance record of a held session whose local
//! date lies in the window, ordered by group, session sequence and membership. The one query
//! shape serves both the JSON pages (keyset + LIMIT) and the CSV cursor.
//!
//! Rows come from the database in a narrow form (ids, dates, status); group names and client
//! ids and names are looked up once per batch, and the session's local date is computed once
//! per session rather than once per row: on a large practice this halves the database's work.

use std::collections::HashMap;
use std::io::Write as _;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Integer, Nullable, Text, Uuid as SqlUuid};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::literal;
use super::pseudonym::Pseudonymizer;
use crate::domain::attendance::AttendanceStatus;
use crate::http::csv::write_cell;
use crate::roster::SESSION_LOCAL_DATE_SQL;

/// The report's filters (validated).
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub group_id: Option<Uuid>,
}

/// A row's keyset position: group, session sequence, membership.
pub type Key = (Uuid, i32, Uuid);

#[derive(Debug, QueryableByName)]
pub struct Row {
    #[diesel(sql_type = SqlUuid)]
    pub group_id: Uuid,
    #[diesel(sql_type = Integer)]
    pub session_sequence: i32,
    #[diesel(sql_type = SqlUuid)]
    pub session_id: Uuid,
    #[diesel(sql_type = Date)]
    pub session_date: NaiveDate,
    #[diesel(sql_type = SqlUuid)]
    pub membership_id: Uuid,
    #[diesel(sql_type = Text)]
    pub status: AttendanceStatus,
    #[diesel(sql_type = Nullable<Integer>)]
    pub minutes_late: Option<i32>,
}

impl Row {
    pub fn key(&self) -> Key {
        (self.group_id, self.session_sequence, self.membership_id)
    }
}

/// A row as exported. With `deidentified`, `client_id` is the pseudonym and no name is given.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceRow {
    pub group_id: Uuid,
    pub group_name: String,
    pub session_id: Uuid,
    pub session_sequence: i32,
    /// The session's date in the group's time zone.
    pub session_date: NaiveDate,
    /// The client's id, or with `deidentified=true` their pseudonym (`p_` + 20 hex digits).
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    pub status: AttendanceStatus,
    pub minutes_late: Option<i32>,
}

pub const HEADER: [&str; 9] = [
    "group_id",
    "group_name",
    "session_id",
    "session_sequence",
    "session_date",
    "client_id",
    "client_name",
    "status",
    "minutes_late",
];

/// The rows after `after` (all of them when `None`), at most `limit` when given. Dates and
/// uuids are typed values rendered as literals, never caller text.
pub fn rows_sql(f: &Filter, after: Option<Key>, limit: Option<i64>) -> String {
    let (coarse, fine) = match after {
        Some((g, seq, m)) => (
            format!("AND (s.group_id, s.sequence) >= ('{g}'::uuid, {seq})"),
            format!(
                "AND (ss.group_id, ss.sequence, a.membership_id) > \
                 ('{g}'::uuid, {seq}, '{m}'::uuid)"
            ),
        ),
        None => (String::new(), String::new()),
    };
    let group = literal(f.group_id, "uuid");
    let from = literal(f.from, "date");
    let to = literal(f.to, "date");
    // OFFSET 0 keeps the session subquery from being flattened, so the time-zone conversion
    // runs once per session, not once per attendance row.
    format!(
        "SELECT ss.group_id, ss.sequence AS session_sequence, ss.id AS session_id, \
                ss.day AS session_date, a.membership_id, a.status, a.minutes_late \
         FROM (SELECT s.id, s.group_id, s.sequence, {SESSION_LOCAL_DATE_SQL} AS day \
               FROM sessions s JOIN groups g ON g.id = s.group_id \
               WHERE s.status = 'held' AND ({group} IS NULL OR s.group_id = {group}) {coarse} \
               ORDER BY s.group_id, s.sequence OFFSET 0) ss \
         JOIN attendance a ON a.session_id = ss.id \
         WHERE ({from} IS NULL OR ss.day >= {from}) AND ({to} IS NULL OR ss.day <= {to}) {fine} \
         ORDER BY ss.group_id, ss.sequence, a.membership_id{}",
        limit.map(|l| format!(" LIMIT {l}")).unwrap_or_default()
    )
}

#[derive(QueryableByName)]
struct GroupName {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Client {
    #[diesel(sql_type = SqlUuid)]
    membership_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    client_id: Uuid,
    #[diesel(sql_type = Text)]
    client_name: String,
}

/// A batch of rows with the names they refer to.
pub struct Batch {
    pub rows: Vec<Row>,
    groups: HashMap<Uuid, String>,
    clients: HashMap<Uuid, (Uuid, String)>,
}

impl Batch {
    /// Looks up the group names and clients of `rows` (two queries, whatever the batch size).
    pub fn load(conn: &mut PgConnection, rows: Vec<Row>) -> QueryResult<Batch> {
        let mut group_ids: Vec<Uuid> = rows.iter().map(|r| r.group_id).collect();
        group_ids.sort_unstable();
        group_ids.dedup();
        let mut membership_ids: Vec<Uuid> = rows.iter().map(|r| r.membership_id).collect();
        membership_ids.sort_unstable();
        membership_ids.dedup();
        let groups: Vec<GroupName> =
            diesel::sql_query("SELECT id, name FROM groups WHERE id = ANY($1)")
                .bind::<Array<SqlUuid>, _>(&group_ids)
                .load(conn)?;
        let clients: Vec<Client> = diesel::sql_query(
            "SELECT m.id AS membership_id, c.id AS client_id, \
                    c.first_name || ' ' || c.last_name AS client_name \
             FROM memberships m JOIN clients c ON c.id = m.client_id WHERE m.id = ANY($1)",
        )
        .bind::<Array<SqlUuid>, _>(&membership_ids)
        .load(conn)?;
        Ok(Batch {
            rows,
            groups: groups.into_iter().map(|g| (g.id, g.name)).collect(),
            clients: clients
                .into_iter()
                .map(|c| (c.membership_id, (c.client_id, c.client_name)))
                .collect(),
        })
    }

    fn group_name(&self, id: Uuid) -> &str {
        self.groups.get(&id).map_or("", String::as_str)
    }

    fn client(&self, membership_id: Uuid) -> (Uuid, &str) {
        self.clients
            .get(&membership_id)
            .map_or((Uuid::nil(), ""), |(id, name)| (*id, name.as_str()))
    }

    /// The rows as JSON items.
    pub fn items(&self, p: Option<&Pseudonymizer>) -> Vec<AttendanceRow> {
        self.rows
            .iter()
            .map(|r| {
                let (client_id, name) = self.client(r.membership_id);
                AttendanceRow {
                    group_id: r.group_id,
                    group_name: self.group_name(r.group_id).to_string(),
                    session_id: r.session_id,
                    session_sequence: r.session_sequence,
                    session_date: r.session_date,
                    client_id: p.map_or_else(|| client_id.to_string(), |p| p.pseudonym(client_id)),
                    client_name: p.is_none().then(|| name.to_string()),
                    status: r.status,
                    minutes_late: r.minutes_late,
                }
            })
            .collect()
    }

    /// Appends the rows as CSV lines (columns of `HEADER`, without `client_name` when
    /// de-identified). The cells of a session and of a client are rendered once per batch.
    pub fn write_csv(&self, p: Option<&Pseudonymizer>, out: &mut Vec<u8>) {
        let mut session: Option<Uuid> = None;
        let mut session_cells = Vec::with_capacity(160);
        let mut client_cells: HashMap<Uuid, Vec<u8>> = HashMap::new();
        let mut uuid_buf = Uuid::encode_buffer();
        // Ids, dates and pseudonyms are text (SPEC §5 v2: every cell but a number is quoted);
        // they hold no quote to double, so they are written between quotes as they are.
        let quoted = |out: &mut Vec<u8>, bytes: &[u8]| {
            out.push(b'"');
            out.extend_from_slice(bytes);
            out.push(b'"');
        };
        for r in &self.rows {
            if session != Some(r.session_id) {
                session = Some(r.session_id);
                session_cells.clear();
                let s = &mut session_cells;
                quoted(
                    s,
                    r.group_id
                        .hyphenated()
                        .encode_lower(&mut uuid_buf)
                        .as_bytes(),
                );
                s.push(b',');
                write_cell(s, self.group_name(r.group_id));
                s.push(b',');
                quoted(
                    s,
                    r.session_id
                        .hyphenated()
                        .encode_lower(&mut uuid_buf)
                        .as_bytes(),
                );
                let _ = write!(s, ",{},\"{}\",", r.session_sequence, r.session_date);
            }
            out.extend_from_slice(&session_cells);
            let cells = client_cells.entry(r.membership_id).or_insert_with(|| {
                let (client_id, name) = self.client(r.membership_id);
                let mut c = Vec::with_capacity(64);
                match p {
                    Some(p) => quoted(&mut c, p.pseudonym(client_id).as_bytes()),
                    None => {
                        quoted(
                            &mut c,
                            client_id
                                .hyphenated()
                                .encode_lower(&mut uuid_buf)
                                .as_bytes(),
                        );
                        c.push(b',');
                        write_cell(&mut c, name);
                    }
                }
                c.push(b',');
                c
            });
            out.extend_from_slice(cells);
            write_cell(out, r.status.as_str());
            out.push(b',');
            if let Some(m) = r.minutes_late {
                let _ = write!(out, "{m}");
            }
            out.extend_from_slice(b"\r\n");
        }
    }
}
