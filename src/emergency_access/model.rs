//! Grant rows and the grant as the API shows it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::emergency_access::{is_active, ReviewOutcome};
use crate::schema::emergency_access;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = emergency_access)]
pub struct GrantRow {
    pub id: Uuid,
    pub client_id: Uuid,
    pub granted_to: Uuid,
    pub reason: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<Uuid>,
    pub review_outcome: Option<ReviewOutcome>,
    pub review_note: Option<String>,
}

/// An emergency access grant (SPEC §8).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmergencyAccess {
    pub id: Uuid,
    pub client_id: Uuid,
    /// The therapist who granted themself the access.
    pub granted_to: Uuid,
    pub reason: String,
    pub granted_at: DateTime<Utc>,
    /// Four hours after `granted_at`; the access ends then, reviewed or not.
    pub expires_at: DateTime<Utc>,
    /// True until `expires_at`.
    pub active: bool,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<Uuid>,
    pub review_outcome: Option<ReviewOutcome>,
    pub review_note: Option<String>,
}

impl GrantRow {
    pub fn view(self, now: DateTime<Utc>) -> EmergencyAccess {
        EmergencyAccess {
            active: is_active(self.expires_at, now),
            review_outcome: self.review_outcome,
            id: self.id,
            client_id: self.client_id,
            granted_to: self.granted_to,
            reason: self.reason,
            granted_at: self.granted_at,
            expires_at: self.expires_at,
            reviewed_at: self.reviewed_at,
            reviewed_by: self.reviewed_by,
            review_note: self.review_note,
        }
    }
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<GrantRow>> {
    emergency_access::table
        .find(id)
        .select(GrantRow::as_select())
        .first(conn)
        .optional()
}
