//! `POST /clients/{id}/screenings`, `GET /screenings`, `GET /screenings/{id}`,
//! `POST /screenings/{id}/complete|cancel|no-show`.
//!
//! One file per action (or small group of actions); the handlers are re-exported here, where
//! the route lists name them.

mod close;
mod complete;
mod read;
mod schedule;

pub use close::*;
pub use complete::*;
pub use read::*;
pub use schedule::*;

use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::model::{self, ScreeningRow};
use crate::auth::Staff;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Writes one `screening.assessment_read` event per assessment returned.
fn audit_assessment_reads(
    conn: &mut PgConnection,
    staff: &Staff,
    rows: &[ScreeningRow],
) -> AppResult<()> {
    let audit = staff.audit();
    for r in rows.iter().filter(|r| r.has_assessment()) {
        audit.allowed(
            conn,
            "screening.assessment_read",
            "screening",
            Some(r.id),
            json!({"client_id": r.client_id}),
        )?;
    }
    Ok(())
}

/// Loads a screening the caller may see. Out of scope: a denied audit event (committed on
/// its own) and 404.
async fn load_visible(
    state: &AppState,
    staff: &Staff,
    id: Uuid,
    action: &'static str,
) -> AppResult<ScreeningRow> {
    let staff2 = staff.clone();
    let found = state
        .db
        .tx(move |conn| {
            let row = model::find(conn, id)?;
            match row {
                Some(r) if model::visible(conn, &staff2, &r)? => Ok(Some(r)),
                Some(_) => {
                    staff2.audit().denied(
                        conn,
                        action,
                        "screening",
                        Some(id),
                        json!({"reason": "out_of_scope"}),
                    )?;
                    Ok(None)
                }
                None => Ok(None),
            }
        })
        .await?;
    found.ok_or(AppError::NotFound)
}
