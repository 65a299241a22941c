//! Consent rows and the consent as the API shows it.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::consent::{ConsentStatus, ConsentTerms, InformationKind, RecipientKind};
use crate::error::AppError;
use crate::schema::consents;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consents)]
pub struct ConsentRow {
    pub id: Uuid,
    pub client_id: Uuid,
    pub recipient_name: String,
    pub recipient_kind: RecipientKind,
    pub purpose: String,
    pub information: Vec<InformationKind>,
    pub effective_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub expires_event: Option<String>,
    pub signed_at: DateTime<Utc>,
    pub signature_name: String,
    pub witness_id: Uuid,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<Uuid>,
    pub revocation_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl ConsentRow {
    /// The facts that decide whether the consent is in force (a stored kind that does not
    /// parse already failed to load: never a default).
    pub fn terms(&self) -> Result<ConsentTerms, AppError> {
        Ok(ConsentTerms {
            information: self.information.clone(),
            effective_on: self.effective_on,
            expires_on: self.expires_on,
            revoked_at: self.revoked_at,
        })
    }

    pub fn view(self, today: NaiveDate) -> Result<Consent, AppError> {
        let terms = self.terms()?;
        let recipient_kind = self.recipient_kind;
        Ok(Consent {
            status: terms.status(today),
            information: terms.information,
            id: self.id,
            client_id: self.client_id,
            recipient_name: self.recipient_name,
            recipient_kind,
            purpose: self.purpose,
            effective_on: self.effective_on,
            expires_on: self.expires_on,
            expires_event: self.expires_event,
            signed_at: self.signed_at,
            signature_name: self.signature_name,
            witness_id: self.witness_id,
            revoked_at: self.revoked_at,
            revoked_by: self.revoked_by,
            revocation_reason: self.revocation_reason,
            created_at: self.created_at,
        })
    }
}

/// A consent (SPEC §8). `status` is derived: `revoked` once revoked (final), `expired` after
/// `expires_on`, else `active`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Consent {
    pub id: Uuid,
    pub client_id: Uuid,
    pub recipient_name: String,
    pub recipient_kind: RecipientKind,
    pub purpose: String,
    /// What may be disclosed.
    pub information: Vec<InformationKind>,
    pub effective_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    /// An event that ends the consent (e.g. "end of probation"); staff revoke it when it occurs.
    pub expires_event: Option<String>,
    pub signed_at: DateTime<Utc>,
    pub signature_name: String,
    /// The staff member who recorded the signature.
    pub witness_id: Uuid,
    pub status: ConsentStatus,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<Uuid>,
    pub revocation_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<ConsentRow>> {
    consents::table
        .find(id)
        .select(ConsentRow::as_select())
        .first(conn)
        .optional()
}

/// The practice's date today (UTC, as every other date rule of the service).
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The client must exist (404) and, for a therapist, belong to their care team: the scope of
/// SPEC §1 (a)–(e). An emergency access (f) gives read access to the chart, never the right to
/// record consents or disclose, so it does not count here.
pub fn ensure_care_team(
    conn: &mut PgConnection,
    staff: &crate::auth::Staff,
    client_id: Uuid,
) -> Result<(), crate::notes::failure::Failure> {
    use crate::notes::failure::Failure;
    if crate::clients::model::find(conn, client_id)?.is_none() {
        return Err(Failure::App(AppError::NotFound));
    }
    if staff.is_scoped() && !crate::auth::scope::is_client_in_care_team(conn, staff.id, client_id)?
    {
        return Err(Failure::OutOfScope);
    }
    Ok(())
}
