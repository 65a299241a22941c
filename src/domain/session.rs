//! A session's status (SPEC §2): `scheduled` until attendance is recorded (`held`) or it is
//! `cancelled`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Scheduled,
    Held,
    Cancelled,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Scheduled => "scheduled",
            SessionStatus::Held => "held",
            SessionStatus::Cancelled => "cancelled",
        }
    }

    /// `None` for a value the database should never hold.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Scheduled, Self::Held, Self::Cancelled]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}
