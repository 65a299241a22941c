//! Note rows of both kinds. The two tables share their shape (a member note adds
//! `membership_id`), so queries are written once over the table named by the kind.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::crypto::{NotesCipher, OpenError, Sealed};
use crate::domain::note::NoteStatus;

/// Which note: the group note of a session, or one member's note at a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Group {
        session_id: Uuid,
    },
    Member {
        session_id: Uuid,
        membership_id: Uuid,
    },
}

impl Target {
    pub fn session_id(self) -> Uuid {
        match self {
            Target::Group { session_id } | Target::Member { session_id, .. } => session_id,
        }
    }

    pub fn membership_id(self) -> Option<Uuid> {
        match self {
            Target::Group { .. } => None,
            Target::Member { membership_id, .. } => Some(membership_id),
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Target::Group { .. } => "group",
            Target::Member { .. } => "member",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Target::Group { .. } => "group_notes",
            Target::Member { .. } => "member_notes",
        }
    }

    fn membership_column(self) -> &'static str {
        match self {
            Target::Group { .. } => "NULL::uuid AS membership_id",
            Target::Member { .. } => "membership_id",
        }
    }
}

#[derive(Debug, Clone, QueryableByName)]
pub struct NoteRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub session_id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub membership_id: Option<Uuid>,
    #[diesel(sql_type = SqlUuid)]
    pub author_id: Uuid,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub key_id: String,
    #[diesel(sql_type = Bytea)]
    pub nonce: Vec<u8>,
    #[diesel(sql_type = Bytea)]
    pub ciphertext: Vec<u8>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub signed_by: Option<Uuid>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub signed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub cosigned_by: Option<Uuid>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub cosigned_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

impl NoteRow {
    pub fn status(&self) -> NoteStatus {
        NoteStatus::parse(&self.status).unwrap_or(NoteStatus::Draft)
    }

    pub fn target(&self) -> Target {
        match self.membership_id {
            Some(membership_id) => Target::Member {
                session_id: self.session_id,
                membership_id,
            },
            None => Target::Group {
                session_id: self.session_id,
            },
        }
    }

    fn sealed(&self) -> Sealed {
        Sealed {
            key_id: self.key_id.clone(),
            nonce: self.nonce.clone(),
            ciphertext: self.ciphertext.clone(),
        }
    }

    /// The note's fields, decrypted.
    pub fn open(&self, cipher: &NotesCipher) -> Result<Value, OpenError> {
        let plain = cipher.open(&note_aad(self.target(), self.id), &self.sealed())?;
        serde_json::from_slice(&plain).map_err(|_| OpenError::Tampered)
    }
}

/// Associated data binding a note's ciphertext to its row: kind, note, session, membership.
pub fn note_aad(target: Target, note_id: Uuid) -> Vec<u8> {
    format!(
        "groupwork-note|{}|{}|{}|{}",
        target.kind(),
        note_id,
        target.session_id(),
        target.membership_id().unwrap_or_default()
    )
    .into_bytes()
}

pub fn addendum_aad(note_id: Uuid, addendum_id: Uuid) -> Vec<u8> {
    format!("groupwork-addendum|{note_id}|{addendum_id}").into_bytes()
}

fn select_sql(target: Target, lock: bool) -> String {
    let filter = match target {
        Target::Group { .. } => "session_id = $1",
        Target::Member { .. } => "session_id = $1 AND membership_id = $2",
    };
    format!(
        "SELECT id, session_id, {}, author_id, status, key_id, nonce, ciphertext, signed_by, signed_at, \
         cosigned_by, cosigned_at, created_at, updated_at FROM {} WHERE {filter}{}",
        target.membership_column(),
        target.table(),
        if lock { " FOR UPDATE" } else { "" }
    )
}

/// The note at `target`, if written; locked for the transaction when `lock`.
pub fn find(conn: &mut PgConnection, target: Target, lock: bool) -> QueryResult<Option<NoteRow>> {
    let q = diesel::sql_query(select_sql(target, lock)).bind::<SqlUuid, _>(target.session_id());
    match target.membership_id() {
        Some(m) => q.bind::<SqlUuid, _>(m).get_result(conn).optional(),
        None => q.get_result(conn).optional(),
    }
}

/// Creates a draft.
pub fn insert(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    target: Target,
    author: Uuid,
    fields: &Value,
) -> QueryResult<()> {
    let id = Uuid::new_v4();
    let sealed = cipher.seal(&note_aad(target, id), fields.to_string().as_bytes());
    let (columns, values) = match target {
        Target::Group { .. } => ("", ""),
        Target::Member { .. } => (", membership_id", ", $7"),
    };
    let q = diesel::sql_query(format!(
        "INSERT INTO {} (id, session_id, author_id, key_id, nonce, ciphertext{columns}) VALUES ($1, $2, $3, $4, $5, $6{values})",
        target.table()
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(target.session_id())
    .bind::<SqlUuid, _>(author)
    .bind::<Text, _>(sealed.key_id)
    .bind::<Bytea, _>(sealed.nonce)
    .bind::<Bytea, _>(sealed.ciphertext);
    match target.membership_id() {
        Some(m) => q.bind::<SqlUuid, _>(m).execute(conn)?,
        None => q.execute(conn)?,
    };
    Ok(())
}

/// Re-encrypts a note's fields (a draft edit, or a key rotation).
pub fn store(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    note: &NoteRow,
    fields: &Value,
    touch: bool,
) -> QueryResult<()> {
    let sealed = cipher.seal(
        &note_aad(note.target(), note.id),
        fields.to_string().as_bytes(),
    );
    diesel::sql_query(format!(
        "UPDATE {} SET key_id = $2, nonce = $3, ciphertext = $4{} WHERE id = $1",
        note.target().table(),
        if touch { ", updated_at = now()" } else { "" }
    ))
    .bind::<SqlUuid, _>(note.id)
    .bind::<Text, _>(&sealed.key_id)
    .bind::<Bytea, _>(&sealed.nonce)
    .bind::<Bytea, _>(&sealed.ciphertext)
    .execute(conn)?;
    Ok(())
}

/// `draft → signed` by `who`, or `signed → cosigned`; guarded on the current status.
pub fn advance(
    conn: &mut PgConnection,
    note: &NoteRow,
    to: NoteStatus,
    who: Uuid,
) -> QueryResult<usize> {
    let (from, who_col, at_col) = match to {
        NoteStatus::Signed => ("draft", "signed_by", "signed_at"),
        _ => ("signed", "cosigned_by", "cosigned_at"),
    };
    diesel::sql_query(format!(
        "UPDATE {} SET status = $2, {who_col} = $3, {at_col} = now(), updated_at = now() WHERE id = $1 AND status = $4",
        note.target().table()
    ))
    .bind::<SqlUuid, _>(note.id)
    .bind::<Text, _>(to.as_str())
    .bind::<SqlUuid, _>(who)
    .bind::<Text, _>(from)
    .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::note_addenda)]
pub struct AddendumRow {
    pub id: Uuid,
    pub note_id: Uuid,
    pub author_id: Uuid,
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

impl AddendumRow {
    pub fn open(&self, cipher: &NotesCipher) -> Result<String, OpenError> {
        let sealed = Sealed {
            key_id: self.key_id.clone(),
            nonce: self.nonce.clone(),
            ciphertext: self.ciphertext.clone(),
        };
        String::from_utf8(cipher.open(&addendum_aad(self.note_id, self.id), &sealed)?)
            .map_err(|_| OpenError::Tampered)
    }
}

pub fn addenda(conn: &mut PgConnection, note_id: Uuid) -> QueryResult<Vec<AddendumRow>> {
    use crate::schema::note_addenda as na;
    na::table
        .filter(na::note_id.eq(note_id))
        .order(na::seq.asc())
        .select(AddendumRow::as_select())
        .load(conn)
}

pub fn add_addendum(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    note: &NoteRow,
    author: Uuid,
    content: &str,
) -> QueryResult<Uuid> {
    use crate::schema::note_addenda as na;
    let id = Uuid::new_v4();
    let sealed = cipher.seal(&addendum_aad(note.id, id), content.as_bytes());
    diesel::insert_into(na::table)
        .values((
            na::id.eq(id),
            na::note_kind.eq(note.target().kind()),
            na::note_id.eq(note.id),
            na::author_id.eq(author),
            na::key_id.eq(&sealed.key_id),
            na::nonce.eq(&sealed.nonce),
            na::ciphertext.eq(&sealed.ciphertext),
        ))
        .execute(conn)?;
    Ok(id)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Addendum {
    pub id: Uuid,
    pub author_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub content: String,
}

/// A note as the API shows it: its lifecycle fields, its decrypted fields at the top level
/// (group note: themes, group_process, interventions, plan; member note: participation,
/// progress, risk_flags, content), and its addenda in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct Note {
    pub id: Uuid,
    /// `group` or `member`.
    pub kind: &'static str,
    pub session_id: Uuid,
    pub membership_id: Option<Uuid>,
    pub status: NoteStatus,
    pub author_id: Uuid,
    pub signed_by: Option<Uuid>,
    pub signed_at: Option<DateTime<Utc>>,
    pub cosigned_by: Option<Uuid>,
    pub cosigned_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub fields: Value,
    pub addenda: Vec<Addendum>,
}

/// Decrypts a note and its addenda.
pub fn view(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    note: NoteRow,
) -> Result<Result<Note, OpenError>, diesel::result::Error> {
    let rows = addenda(conn, note.id)?;
    let fields = match note.open(cipher) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let mut list = Vec::with_capacity(rows.len());
    for a in rows {
        match a.open(cipher) {
            Ok(content) => list.push(Addendum {
                id: a.id,
                author_id: a.author_id,
                created_at: a.created_at,
                content,
            }),
            Err(e) => return Ok(Err(e)),
        }
    }
    let target = note.target();
    Ok(Ok(Note {
        id: note.id,
        kind: target.kind(),
        session_id: note.session_id,
        membership_id: note.membership_id,
        status: note.status(),
        author_id: note.author_id,
        signed_by: note.signed_by,
        signed_at: note.signed_at,
        cosigned_by: note.cosigned_by,
        cosigned_at: note.cosigned_at,
        created_at: note.created_at,
        updated_at: note.updated_at,
        fields,
        addenda: list,
    }))
}
