//! Disclosure rows, the disclosure as the accounting shows it, and the sealed document.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::consent::InformationKind;
use crate::error::AppError;
use crate::notes::crypto::{ClinicalReader, NotesCipher, OpenError, Sealed};
use crate::schema::{consents, disclosures};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disclosures)]
pub struct DisclosureRow {
    pub id: Uuid,
    pub client_id: Uuid,
    pub consent_id: Uuid,
    pub recipient_name: String,
    pub information: Vec<InformationKind>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub disclosed_at: DateTime<Utc>,
    pub disclosed_by: Uuid,
    pub document_sha256: Vec<u8>,
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// Associated data binding a document's ciphertext to its disclosure: the row's id, the
/// client, and the digest the accounting shows. Moved to another row, it does not open.
pub fn document_aad(id: Uuid, client_id: Uuid, sha256: &[u8]) -> Vec<u8> {
    format!(
        "groupwork-disclosure|{id}|{client_id}|{}",
        hex::encode(sha256)
    )
    .into_bytes()
}

impl DisclosureRow {
    fn sealed(&self) -> Sealed {
        Sealed {
            key_id: self.key_id.clone(),
            nonce: self.nonce.clone(),
            ciphertext: self.ciphertext.clone(),
        }
    }

    /// The document as released; a ciphertext that does not open, or opens to other bytes
    /// than the digest recorded, is an error.
    pub fn document(&self, reader: &ClinicalReader) -> Result<Vec<u8>, OpenError> {
        let pdf = reader.open(
            &document_aad(self.id, self.client_id, &self.document_sha256),
            &self.sealed(),
        )?;
        if crate::disclosures::sha256(&pdf) != self.document_sha256 {
            return Err(OpenError::Tampered);
        }
        Ok(pdf)
    }

    pub fn view(self, purpose: String) -> Result<Disclosure, AppError> {
        Ok(Disclosure {
            information: self.information,
            id: self.id,
            client_id: self.client_id,
            consent_id: self.consent_id,
            recipient_name: self.recipient_name,
            purpose,
            period_from: self.period_from,
            period_to: self.period_to,
            disclosed_at: self.disclosed_at,
            disclosed_by: self.disclosed_by,
            document_sha256: hex::encode(&self.document_sha256),
        })
    }
}

/// One entry of the accounting of disclosures (42 CFR §2.24, SPEC §8).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Disclosure {
    pub id: Uuid,
    pub client_id: Uuid,
    /// The consent the disclosure was made under.
    pub consent_id: Uuid,
    pub recipient_name: String,
    /// The consent's purpose, for the accounting.
    pub purpose: String,
    /// What was disclosed.
    pub information: Vec<InformationKind>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub disclosed_at: DateTime<Utc>,
    /// The staff member who made the disclosure.
    pub disclosed_by: Uuid,
    /// SHA-256 of the released PDF, lowercase hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub document_sha256: String,
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<DisclosureRow>> {
    disclosures::table
        .find(id)
        .select(DisclosureRow::as_select())
        .first(conn)
        .optional()
}

/// The purpose of each row's consent, in the rows' order, and the views.
pub fn views(
    conn: &mut PgConnection,
    rows: Vec<DisclosureRow>,
) -> Result<Vec<Disclosure>, AppError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.consent_id).collect();
    let purposes: std::collections::HashMap<Uuid, String> = consents::table
        .filter(consents::id.eq_any(&ids))
        .select((consents::id, consents::purpose))
        .load::<(Uuid, String)>(conn)?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|r| {
            let purpose = purposes.get(&r.consent_id).cloned().unwrap_or_default();
            r.view(purpose)
        })
        .collect()
}

/// Every disclosure of the client, newest first (the accounting, as the record export
/// includes it).
pub fn of_client(conn: &mut PgConnection, client_id: Uuid) -> Result<Vec<Disclosure>, AppError> {
    let rows = disclosures::table
        .filter(disclosures::client_id.eq(client_id))
        .order((disclosures::disclosed_at.desc(), disclosures::id.desc()))
        .select(DisclosureRow::as_select())
        .load(conn)?;
    views(conn, rows)
}

/// A batch of rows whose document is under another key than `key_id` (a rotation).
pub fn under_other_key(
    conn: &mut PgConnection,
    key_id: &str,
    limit: i64,
) -> QueryResult<Vec<DisclosureRow>> {
    disclosures::table
        .filter(disclosures::key_id.ne(key_id))
        .order(disclosures::id)
        .limit(limit)
        .select(DisclosureRow::as_select())
        .for_update()
        .load(conn)
}

/// A key rotation: the same document sealed under the current key (the database lets only
/// these three columns change, and only to another key).
pub fn reseal(
    conn: &mut PgConnection,
    cipher: &NotesCipher,
    row: &DisclosureRow,
    pdf: &[u8],
) -> QueryResult<()> {
    let sealed = cipher.seal(
        &document_aad(row.id, row.client_id, &row.document_sha256),
        pdf,
    );
    diesel::update(disclosures::table.find(row.id))
        .set((
            disclosures::key_id.eq(sealed.key_id),
            disclosures::nonce.eq(sealed.nonce),
            disclosures::ciphertext.eq(sealed.ciphertext),
        ))
        .execute(conn)?;
    Ok(())
}
