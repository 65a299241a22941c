//! Note rows of both kinds. The two tables share their shape (a member note adds
//! `membership_id`), so queries are written once over the table named by the kind.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bytea, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::addenda::{self, Addendum};
use super::crypto::{ClinicalReader, NotesCipher, OpenError, Sealed};
use super::failure::Failure;
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

    pub fn kind(self) -> Kind {
        match self {
            Target::Group { .. } => Kind::Group,
            Target::Member { .. } => Kind::Member,
        }
    }
}

/// The two kinds of note, each in its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum Kind {
    Group,
    Member,
}

impl Kind {
    /// As stored in `note_addenda.note_kind` and shown in a note's `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Group => "group",
            Kind::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Kind::Group, Kind::Member]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The audit trail's `resource_type`.
    pub fn resource_type(self) -> &'static str {
        match self {
            Kind::Group => "group_note",
            Kind::Member => "member_note",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Kind::Group => "group_notes",
            Kind::Member => "member_notes",
        }
    }

    fn membership_column(self) -> &'static str {
        match self {
            Kind::Group => "NULL::uuid AS membership_id",
            Kind::Member => "membership_id",
        }
    }

    fn select(self) -> String {
        format!(
            "SELECT id, session_id, {}, author_id, status, key_id, nonce, ciphertext, signed_by, \
             signed_at, cosigned_by, cosigned_at, version, created_at, updated_at, voided_at, \
             voided_by, void_reason FROM {}",
            self.membership_column(),
            self.table()
        )
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
    pub status: NoteStatus,
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
    #[diesel(sql_type = Integer)]
    pub version: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub voided_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub voided_by: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub void_reason: Option<String>,
}

impl NoteRow {
    pub fn status(&self) -> NoteStatus {
        self.status
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

    /// The note's fields, decrypted.
    pub fn open(&self, reader: &ClinicalReader) -> Result<Value, OpenError> {
        let sealed = Sealed {
            key_id: self.key_id.clone(),
            nonce: self.nonce.clone(),
            ciphertext: self.ciphertext.clone(),
        };
        let plain = reader.open(&note_aad(self.target(), self.id), &sealed)?;
        serde_json::from_slice(&plain).map_err(|_| OpenError::Tampered)
    }
}

/// Associated data binding a note's ciphertext to its row: kind, note, session, membership
/// (nil for a group note). A ciphertext copied onto another row does not authenticate.
pub fn note_aad(target: Target, note_id: Uuid) -> Vec<u8> {
    format!(
        "groupwork-note|{}|{}|{}|{}",
        target.kind().as_str(),
        note_id,
        target.session_id(),
        target.membership_id().unwrap_or_default()
    )
    .into_bytes()
}

/// The note at `target`, if written; locked for the transaction when `lock`.
pub fn find(conn: &mut PgConnection, target: Target, lock: bool) -> QueryResult<Option<NoteRow>> {
    find_where(conn, target, "status <> 'voided'", lock)
}

/// The most recently voided note at `target` (v2: kept for supervisors).
pub fn find_voided(conn: &mut PgConnection, target: Target) -> QueryResult<Option<NoteRow>> {
    find_where(
        conn,
        target,
        "status = 'voided' ORDER BY voided_at DESC, id LIMIT 1",
        false,
    )
}

/// The live (not voided) note at `target` — there is at most one — or, with `also`, the
/// rows `also` selects.
fn find_where(
    conn: &mut PgConnection,
    target: Target,
    also: &str,
    lock: bool,
) -> QueryResult<Option<NoteRow>> {
    let filter = match target {
        Target::Group { .. } => "session_id = $1",
        Target::Member { .. } => "session_id = $1 AND membership_id = $2",
    };
    let sql = format!(
        "{} WHERE {filter} AND {also}{}",
        target.kind().select(),
        if lock { " FOR UPDATE" } else { "" }
    );
    let q = diesel::sql_query(sql).bind::<SqlUuid, _>(target.session_id());
    match target.membership_id() {
        Some(m) => q.bind::<SqlUuid, _>(m).get_result(conn).optional(),
        None => q.get_result(conn).optional(),
    }
}

/// Up to `limit` notes of `kind` sealed under another key than `key_id`, locked (rotation).
pub fn under_other_key(
    conn: &mut PgConnection,
    kind: Kind,
    key_id: &str,
    limit: i64,
) -> QueryResult<Vec<NoteRow>> {
    diesel::sql_query(format!(
        "{} WHERE key_id <> $1 ORDER BY id LIMIT $2 FOR UPDATE",
        kind.select()
    ))
    .bind::<Text, _>(key_id)
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// Creates a draft by `author`; answers its id.
pub fn insert(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    target: Target,
    author: Uuid,
    fields: &Value,
) -> QueryResult<Uuid> {
    let id = Uuid::new_v4();
    let sealed = cipher.seal(&note_aad(target, id), fields.to_string().as_bytes());
    let (columns, values) = match target {
        Target::Group { .. } => ("", ""),
        Target::Member { .. } => (", membership_id", ", $7"),
    };
    let q = diesel::sql_query(format!(
        "INSERT INTO {} (id, session_id, author_id, key_id, nonce, ciphertext{columns}) \
         VALUES ($1, $2, $3, $4, $5, $6{values})",
        target.kind().table()
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
    Ok(id)
}

fn seal_into(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    note: &NoteRow,
    fields: &Value,
    also_set: &str,
) -> QueryResult<()> {
    let sealed = cipher.seal(
        &note_aad(note.target(), note.id),
        fields.to_string().as_bytes(),
    );
    diesel::sql_query(format!(
        "UPDATE {} SET key_id = $2, nonce = $3, ciphertext = $4{also_set} WHERE id = $1",
        note.target().kind().table(),
    ))
    .bind::<SqlUuid, _>(note.id)
    .bind::<Text, _>(&sealed.key_id)
    .bind::<Bytea, _>(&sealed.nonce)
    .bind::<Bytea, _>(&sealed.ciphertext)
    .execute(conn)?;
    Ok(())
}

/// A draft edit: new fields under a fresh nonce, a new version.
pub fn edit(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    note: &NoteRow,
    fields: &Value,
) -> QueryResult<()> {
    seal_into(
        conn,
        cipher,
        note,
        fields,
        ", version = version + 1, updated_at = now()",
    )
}

/// A key rotation: the same fields sealed under the current key; the note itself (its
/// version, its `updated_at`) does not change.
pub fn reseal(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    note: &NoteRow,
    fields: &Value,
) -> QueryResult<()> {
    seal_into(conn, cipher, note, fields, "")
}

/// `draft → signed` by `who`, or `signed → cosigned`; guarded on the current status, so 0
/// rows means the note moved on meanwhile.
pub fn advance(
    conn: &mut PgConnection,
    note: &NoteRow,
    to: NoteStatus,
    who: Uuid,
) -> QueryResult<usize> {
    let (from, who_col, at_col) = match to {
        NoteStatus::Signed => (NoteStatus::Draft, "signed_by", "signed_at"),
        _ => (NoteStatus::Signed, "cosigned_by", "cosigned_at"),
    };
    diesel::sql_query(format!(
        "UPDATE {} SET status = $2, {who_col} = $3, {at_col} = now(), updated_at = now(), \
         version = version + 1 WHERE id = $1 AND status = $4",
        note.target().kind().table()
    ))
    .bind::<SqlUuid, _>(note.id)
    .bind::<Text, _>(to)
    .bind::<SqlUuid, _>(who)
    .bind::<Text, _>(from)
    .execute(conn)
}

/// Marks a note entered in error (v2); guarded on it not being voided already.
pub fn void(
    conn: &mut PgConnection,
    note: &NoteRow,
    who: Uuid,
    reason: &str,
) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "UPDATE {} SET status = 'voided', voided_at = now(), voided_by = $2, void_reason = $3, \
         updated_at = now(), version = version + 1 WHERE id = $1 AND status <> 'voided'",
        note.target().kind().table()
    ))
    .bind::<SqlUuid, _>(note.id)
    .bind::<SqlUuid, _>(who)
    .bind::<Text, _>(reason)
    .execute(conn)
}

/// A new version of the note as shown (an addendum was appended), for its ETag.
pub fn bump_version(conn: &mut PgConnection, note: &NoteRow) -> QueryResult<()> {
    diesel::sql_query(format!(
        "UPDATE {} SET version = version + 1 WHERE id = $1",
        note.target().kind().table()
    ))
    .bind::<SqlUuid, _>(note.id)
    .execute(conn)?;
    Ok(())
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
    /// v2: when and by whom the note was marked entered in error, and why.
    pub voided_at: Option<DateTime<Utc>>,
    pub voided_by: Option<Uuid>,
    pub void_reason: Option<String>,
    /// Group note: themes, group_process, interventions, plan; member note: participation,
    /// progress, risk_flags, content.
    #[serde(flatten)]
    #[schema(value_type = crate::domain::note::NoteFields)]
    pub fields: Value,
    pub addenda: Vec<Addendum>,
    /// Carried by the `ETag` header.
    #[serde(skip)]
    pub version: i32,
}

/// Decrypts a note and its addenda; a ciphertext that does not open is `Undecryptable`.
pub fn view(
    conn: &mut PgConnection,
    reader: &ClinicalReader,
    note: NoteRow,
) -> Result<Note, Failure> {
    let target = note.target();
    let undecryptable = |error| Failure::Undecryptable {
        kind: target.kind(),
        note_id: note.id,
        error,
    };
    let fields = note.open(reader).map_err(undecryptable)?;
    let addenda = addenda::load(conn, note.id)?
        .into_iter()
        .map(|a| a.open(reader))
        .collect::<Result<Vec<_>, _>>()
        .map_err(undecryptable)?;
    Ok(Note {
        id: note.id,
        kind: target.kind().as_str(),
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
        voided_at: note.voided_at,
        voided_by: note.voided_by,
        void_reason: note.void_reason,
        fields,
        addenda,
        version: note.version,
    })
}

/// The signed (or co-signed) member notes of these memberships, in session order: what a
/// client record export holds (SPEC §2: never drafts, never group notes, never notes voided as
/// entered in error).
pub fn signed_member_notes(
    conn: &mut PgConnection,
    membership_ids: &[Uuid],
) -> QueryResult<Vec<NoteRow>> {
    diesel::sql_query(format!(
        "SELECT n.* FROM ({}) n JOIN sessions s ON s.id = n.session_id \
         WHERE n.membership_id = ANY($1) AND n.status IN ('signed', 'cosigned') \
         ORDER BY s.scheduled_at, n.id",
        Kind::Member.select()
    ))
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(membership_ids)
    .load(conn)
}
