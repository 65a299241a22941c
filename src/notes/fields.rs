//! The clinical texts kept outside notes (SPEC §2 v2): a screening's assessment and a
//! membership's admission-override reason, exit-notice reason, discharge (exit) note and
//! exit-rescind reason. Each is sealed like a note — AES-256-GCM under `GROUPWORK_NOTES_KEY`
//! through the same [`NotesCipher`], a fresh nonce per write — with the table, the column and
//! the row's id as associated data, so a value copied onto another row or column does not open.
//! A value is one `bytea` column (`<column>_sealed`, see [`Sealed::to_bytes`]).
//!
//! What the rules need stays in plain columns: a screening's `status` and `outcome` (the
//! waitlist and admission read only those; the contraindication rule is checked on the
//! submitted assessment before it is sealed), a membership's `status` and `exit_reason` (an
//! enumeration the reports group by).
//!
//! Rows written before the sealed columns existed keep their text in the old plain column
//! until [`seal_legacy`] moves it (`groupwork serve` at start-up and `rotate-notes-key` run it);
//! until then reads fall back to the plain column.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bytea, Integer, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::crypto::{key_prefix, ClinicalReader, NotesCipher, OpenError, Sealed};
use crate::error::{AppError, ErrorCode};

const BATCH: i64 = 500;

/// A sealed clinical text: where it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `screenings.assessment` (the assessment's JSON).
    Assessment,
    /// `memberships.override_reason`
    OverrideReason,
    /// `memberships.exit_notice_reason`
    ExitNoticeReason,
    /// `memberships.exit_note` (the discharge note)
    ExitNote,
    /// `memberships.exit_rescind_reason`
    ExitRescindReason,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Assessment,
        Field::OverrideReason,
        Field::ExitNoticeReason,
        Field::ExitNote,
        Field::ExitRescindReason,
    ];

    pub fn table(self) -> &'static str {
        match self {
            Field::Assessment => "screenings",
            _ => "memberships",
        }
    }

    /// The logical column (and, for rows written before sealing, the plain one).
    pub fn column(self) -> &'static str {
        match self {
            Field::Assessment => "assessment",
            Field::OverrideReason => "override_reason",
            Field::ExitNoticeReason => "exit_notice_reason",
            Field::ExitNote => "exit_note",
            Field::ExitRescindReason => "exit_rescind_reason",
        }
    }

    fn sealed_column(self) -> String {
        format!("{}_sealed", self.column())
    }
}

/// Associated data: the table, the column and the row.
pub fn aad(field: Field, row_id: Uuid) -> Vec<u8> {
    format!(
        "groupwork-field|{}|{}|{row_id}",
        field.table(),
        field.column()
    )
    .into_bytes()
}

/// The value to store in `<column>_sealed`.
pub fn seal(cipher: &NotesCipher, field: Field, row_id: Uuid, text: &str) -> Vec<u8> {
    cipher.seal(&aad(field, row_id), text.as_bytes()).to_bytes()
}

/// [`seal`] of an optional text.
pub fn seal_opt(
    cipher: &NotesCipher,
    field: Field,
    row_id: Uuid,
    text: Option<&str>,
) -> Option<Vec<u8>> {
    text.map(|t| seal(cipher, field, row_id, t))
}

/// The text of a value stored in `<column>_sealed` of row `row_id`.
pub fn open(
    reader: &ClinicalReader,
    field: Field,
    row_id: Uuid,
    bytes: &[u8],
) -> Result<String, OpenError> {
    let sealed = Sealed::from_bytes(bytes)?;
    String::from_utf8(reader.open(&aad(field, row_id), &sealed)?).map_err(|_| OpenError::Tampered)
}

/// A stored value that does not open: 409 `note_undecryptable` (as for notes, never a 500;
/// nothing is disclosed), logged with where it is.
pub fn undecryptable(field: Field, row_id: Uuid, error: OpenError) -> AppError {
    tracing::error!(
        table = field.table(),
        column = field.column(),
        %row_id,
        %error,
        "a sealed clinical text does not open"
    );
    AppError::conflict(
        ErrorCode::NoteUndecryptable,
        "Clinical text of this record cannot be decrypted: its stored ciphertext does not \
         authenticate under a configured key. No content was disclosed.",
    )
}

/// The text of a row's field: the sealed value when there is one, else a legacy plain value.
pub fn read(
    reader: &ClinicalReader,
    field: Field,
    row_id: Uuid,
    sealed: Option<&[u8]>,
    legacy: Option<&str>,
) -> Result<Option<String>, AppError> {
    match sealed {
        Some(b) => open(reader, field, row_id, b)
            .map(Some)
            .map_err(|e| undecryptable(field, row_id, e)),
        None => Ok(legacy.map(str::to_string)),
    }
}

#[derive(QueryableByName)]
struct SealedRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Bytea)]
    sealed: Vec<u8>,
}

#[derive(QueryableByName)]
struct PlainRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    plain: String,
}

/// Re-seals under the cipher's current key every value of `field` under another key, in
/// batches (each resealed row leaves the selection). Answers how many moved.
fn rotate_field(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    field: Field,
) -> anyhow::Result<usize> {
    let prefix = key_prefix(cipher.current_key_id());
    let (table, col) = (field.table(), field.sealed_column());
    let select = format!(
        "SELECT id, {col} AS sealed FROM {table} \
         WHERE {col} IS NOT NULL AND substring({col} FROM 1 FOR $1) <> $2 \
         ORDER BY id LIMIT $3 FOR UPDATE"
    );
    let update = format!("UPDATE {table} SET {col} = $1 WHERE id = $2");
    let reader = ClinicalReader::for_maintenance(cipher);
    let mut n = 0;
    loop {
        let batch: Vec<SealedRow> = diesel::sql_query(&select)
            .bind::<Integer, _>(prefix.len() as i32)
            .bind::<Bytea, _>(&prefix)
            .bind::<BigInt, _>(BATCH)
            .load(conn)?;
        if batch.is_empty() {
            return Ok(n);
        }
        for row in &batch {
            let text = open(&reader, field, row.id, &row.sealed)
                .map_err(|e| anyhow::anyhow!("{table}.{} of {}: {e}", field.column(), row.id))?;
            diesel::sql_query(&update)
                .bind::<Bytea, _>(seal(cipher, field, row.id, &text))
                .bind::<SqlUuid, _>(row.id)
                .execute(conn)?;
        }
        n += batch.len();
    }
}

/// A key rotation of every sealed clinical text (`rotate-notes-key`).
pub fn rotate(conn: &mut PgConnection, cipher: &NotesCipher) -> anyhow::Result<usize> {
    let mut n = 0;
    for field in Field::ALL {
        n += rotate_field(conn, cipher, field)?;
    }
    Ok(n)
}

/// Seals the texts of rows written before the sealed columns existed and clears their plain
/// column, in batches, in the caller's transaction. Idempotent (nothing is left to do the
/// second time) and safe beside another instance doing the same (rows are locked, and a row
/// another instance converted meanwhile no longer matches). Answers how many moved.
pub fn seal_legacy(conn: &mut PgConnection, cipher: &NotesCipher) -> anyhow::Result<usize> {
    let mut n = 0;
    for field in Field::ALL {
        let (table, plain, col) = (field.table(), field.column(), field.sealed_column());
        // The assessment's plain form is JSONB; sealed, it is the JSON text.
        let select = format!(
            "SELECT id, {plain}::text AS plain FROM {table} WHERE {plain} IS NOT NULL \
             ORDER BY id LIMIT $1 FOR UPDATE"
        );
        let update = format!("UPDATE {table} SET {col} = $1, {plain} = NULL WHERE id = $2");
        loop {
            let batch: Vec<PlainRow> = diesel::sql_query(&select)
                .bind::<BigInt, _>(BATCH)
                .load(conn)?;
            if batch.is_empty() {
                break;
            }
            for row in &batch {
                diesel::sql_query(&update)
                    .bind::<Bytea, _>(seal(cipher, field, row.id, &row.plain))
                    .bind::<SqlUuid, _>(row.id)
                    .execute(conn)?;
            }
            n += batch.len();
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_to_table_column_and_row() {
        let c = NotesCipher::new(&[5; 32], None);
        let r = ClinicalReader::for_maintenance(&c);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let v = seal(&c, Field::ExitNote, a, "marker");
        assert_eq!(open(&r, Field::ExitNote, a, &v).unwrap(), "marker");
        assert_eq!(
            open(&r, Field::ExitNote, b, &v).unwrap_err(),
            OpenError::Tampered
        );
        assert_eq!(
            open(&r, Field::ExitNoticeReason, a, &v).unwrap_err(),
            OpenError::Tampered
        );
        assert!(!v.windows(6).any(|w| w == b"marker"));
    }
}
