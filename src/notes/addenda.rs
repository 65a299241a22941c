//! Addenda (SPEC §2): what changes after a note is signed. Append-only (the database refuses
//! updates other than a key rotation, and deletes), authored, timestamped, returned with the
//! note in the order written, and encrypted like the note itself.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::crypto::{ClinicalReader, NotesCipher, OpenError, Sealed};
use super::model::NoteRow;
use crate::schema::note_addenda as na;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = na)]
pub struct AddendumRow {
    pub id: Uuid,
    pub note_id: Uuid,
    pub author_id: Uuid,
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Addendum {
    pub id: Uuid,
    pub author_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub content: String,
}

/// Associated data binding an addendum's ciphertext to its row and its note.
pub fn addendum_aad(note_id: Uuid, addendum_id: Uuid) -> Vec<u8> {
    format!("groupwork-addendum|{note_id}|{addendum_id}").into_bytes()
}

impl AddendumRow {
    pub fn content(&self, reader: &ClinicalReader) -> Result<String, OpenError> {
        let sealed = Sealed {
            key_id: self.key_id.clone(),
            nonce: self.nonce.clone(),
            ciphertext: self.ciphertext.clone(),
        };
        String::from_utf8(reader.open(&addendum_aad(self.note_id, self.id), &sealed)?)
            .map_err(|_| OpenError::Tampered)
    }

    pub fn open(self, reader: &ClinicalReader) -> Result<Addendum, OpenError> {
        Ok(Addendum {
            content: self.content(reader)?,
            id: self.id,
            author_id: self.author_id,
            created_at: self.created_at,
        })
    }
}

/// A note's addenda, oldest first (`seq` orders them even within one instant).
pub fn load(conn: &mut PgConnection, note_id: Uuid) -> QueryResult<Vec<AddendumRow>> {
    na::table
        .filter(na::note_id.eq(note_id))
        .order(na::seq.asc())
        .select(AddendumRow::as_select())
        .load(conn)
}

/// Appends an addendum by `author`; answers its id.
pub fn insert(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    note: &NoteRow,
    author: Uuid,
    content: &str,
) -> QueryResult<Uuid> {
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

/// Up to `limit` addenda sealed under another key than `key_id`, locked (rotation).
pub fn under_other_key(
    conn: &mut PgConnection,
    key_id: &str,
    limit: i64,
) -> QueryResult<Vec<AddendumRow>> {
    na::table
        .filter(na::key_id.ne(key_id))
        .order(na::id)
        .limit(limit)
        .select(AddendumRow::as_select())
        .for_update()
        .load(conn)
}

/// A key rotation: the same content sealed under the current key.
pub fn reseal(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    row: &AddendumRow,
    content: &str,
) -> QueryResult<()> {
    let sealed = cipher.seal(&addendum_aad(row.note_id, row.id), content.as_bytes());
    diesel::update(na::table.find(row.id))
        .set((
            na::key_id.eq(sealed.key_id),
            na::nonce.eq(sealed.nonce),
            na::ciphertext.eq(sealed.ciphertext),
        ))
        .execute(conn)?;
    Ok(())
}
