use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{scope, Staff};
use crate::domain::screening::{valid_until, Assessment, Outcome, ScreeningStatus};
use crate::error::{AppError, AppResult};
use crate::notes::crypto::ClinicalReader;
use crate::notes::fields::{self, Field};
use crate::schema::screenings;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = screenings)]
pub struct ScreeningRow {
    pub id: Uuid,
    pub client_id: Uuid,
    pub interviewer_id: Uuid,
    pub group_id: Option<Uuid>,
    pub scheduled_at: DateTime<Utc>,
    pub status: ScreeningStatus,
    pub completed_at: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    pub assessment: Option<serde_json::Value>,
    pub created_by: Uuid,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The assessment's JSON, sealed (`crate::notes::fields`); `assessment` is only the plain
    /// form of rows written before sealing, until converted.
    pub assessment_sealed: Option<Vec<u8>>,
}

/// A screening as the API shows it. `assessment` is present only for clinical roles.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Screening {
    pub id: Uuid,
    pub client_id: Uuid,
    pub interviewer_id: Uuid,
    pub group_id: Option<Uuid>,
    pub scheduled_at: DateTime<Utc>,
    pub status: ScreeningStatus,
    pub completed_at: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment: Option<Assessment>,
    /// For an accepted screening: the end of its 90-day validity for admission.
    pub valid_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ScreeningRow {
    pub fn status(&self) -> ScreeningStatus {
        self.status
    }

    /// Whether an assessment was recorded.
    pub fn has_assessment(&self) -> bool {
        self.assessment_sealed.is_some() || self.assessment.is_some()
    }

    /// The assessment, opened (`None` when none was recorded).
    pub fn assessment(&self, reader: &ClinicalReader) -> AppResult<Option<Assessment>> {
        let json = match &self.assessment_sealed {
            Some(b) => fields::open(reader, Field::Assessment, self.id, b)
                .map_err(|e| fields::undecryptable(Field::Assessment, self.id, e))?,
            None => match &self.assessment {
                Some(v) => v.to_string(),
                None => return Ok(None),
            },
        };
        serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("screening {}: {e}", self.id)))
    }

    /// The API view; the assessment only when given a reader (clinical roles' permit).
    pub fn view(self, reader: Option<&ClinicalReader>) -> AppResult<Screening> {
        let assessment = match reader {
            Some(c) => self.assessment(c)?,
            None => None,
        };
        let outcome = self.outcome;
        Ok(Screening {
            id: self.id,
            client_id: self.client_id,
            interviewer_id: self.interviewer_id,
            group_id: self.group_id,
            scheduled_at: self.scheduled_at,
            status: self.status(),
            completed_at: self.completed_at,
            valid_until: match (outcome, self.completed_at) {
                (Some(Outcome::Accepted), Some(at)) => Some(valid_until(at)),
                _ => None,
            },
            outcome,
            assessment,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<ScreeningRow>> {
    screenings::table
        .find(id)
        .select(ScreeningRow::as_select())
        .first(conn)
        .optional()
}

/// The screenings in a therapist's scope (SPEC §1 (c)–(e), defined in `auth::scope`).
pub fn therapist_scope(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> QueryResult<Box<dyn BoxableExpression<screenings::table, Pg, SqlType = Bool>>> {
    let ids = scope::therapist_screening_ids(conn, user_id)?;
    Ok(Box::new(screenings::id.eq_any(ids)))
}

/// True when the staff member may see this screening: everyone with the read permission
/// except therapists, who see their scope only.
pub fn visible(conn: &mut PgConnection, staff: &Staff, row: &ScreeningRow) -> QueryResult<bool> {
    if !staff.is_scoped() || row.interviewer_id == staff.id {
        return Ok(true);
    }
    scope::is_screening_in_therapist_scope(conn, staff.id, row.id)
}
