//! Bulk reads of client data (SPEC §2 v2): one event per list request, naming the ids of the
//! clients it returned — never their content — so "who saw this client" covers lists too.

use diesel::PgConnection;
use serde_json::json;
use uuid::Uuid;

use super::AuditCtx;
use crate::error::AppResult;

/// Records `action` (`client.list`, `membership.list`, `waitlist.read`, `attendance.read`,
/// `note.list`) for the clients in `client_ids` (duplicates kept once, in order).
pub fn list_read(
    audit: &AuditCtx,
    conn: &mut PgConnection,
    action: &str,
    resource_type: &str,
    resource_id: Option<Uuid>,
    client_ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<()> {
    let mut ids: Vec<Uuid> = Vec::new();
    for id in client_ids {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    audit.allowed(
        conn,
        action,
        resource_type,
        resource_id,
        json!({"client_ids": ids, "count": ids.len()}),
    )
}
