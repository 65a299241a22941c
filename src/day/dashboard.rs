//! `GET /me/dashboard` (SPEC §7): the counts of the caller's working lists, each computed by
//! the same SQL as the list it counts, within the caller's scope (a therapist: the groups they
//! lead or co-lead and their clients). A field the role may not see is absent.
//!
//! | field | the list it counts |
//! |---|---|
//! | `sessions_today` | `GET /sessions?from=D&to=D`, D = today (UTC) |
//! | `documentation_incomplete` | `GET /sessions?documentation=incomplete` (clinical roles) |
//! | `documentation_overdue` | `GET /sessions?documentation=overdue` (clinical roles) |
//! | `awaiting_cosign` | `GET /notes?awaiting_cosign=true` (supervisors) |
//! | `members_at_risk` | `GET /groups/{id}/members?at_risk=true`, over the groups in scope |
//! | `members_exiting` | `GET /groups/{id}/members?status=exiting`, likewise |
//! | `pending_signatures` | `GET /groups/{id}/members?status=pending`, likewise (who records signatures) |
//! | `contracts_to_resign` | active and exiting members whose signed agreement is not the group's current version |
//! | `waitlist` | `GET /waitlist` (who reads it) |

use actix_web::{get, web, HttpResponse};
use chrono::Utc;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Uuid as SqlUuid};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{scope, Action, Staff};
use crate::error::AppResult;
use crate::notes::index::{self, NoteSet};
use crate::roster;
use crate::sessions::documentation::{self, SessionSet};
use crate::state::AppState;

/// The caller's counts; absent where the role may not see the list.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Dashboard {
    /// Sessions in scope on today's date (UTC), placed on each group's local calendar.
    pub sessions_today: i64,
    /// Clinical roles: ended, non-cancelled sessions whose documentation is not complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation_incomplete: Option<i64>,
    /// Clinical roles: incomplete past `GROUPWORK_NOTES_DUE_HOURS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation_overdue: Option<i64>,
    /// Supervisors: signed notes by therapists awaiting a co-signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub awaiting_cosign: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members_at_risk: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members_exiting: Option<i64>,
    /// Admitted members (`pending`) whose agreement is still to be signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_signatures: Option<i64>,
    /// Active and exiting members who signed an older version of their group's agreement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contracts_to_resign: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waitlist: Option<i64>,
}

#[derive(QueryableByName)]
struct Seat {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = Bool)]
    outdated: bool,
}

/// The seats (pending, active, exiting) of the groups in scope, with whether the agreement
/// the member signed is the group's current version.
fn seats(conn: &mut PgConnection, me: Uuid, only_mine: bool) -> QueryResult<Vec<Seat>> {
    diesel::sql_query(
        "SELECT m.id, m.status::text AS status,
                m.contract_id IS DISTINCT FROM (
                    SELECT c.id FROM contracts c WHERE c.group_id = m.group_id
                    ORDER BY c.version DESC LIMIT 1) AS outdated
         FROM memberships m JOIN groups g ON g.id = m.group_id
         WHERE m.status::text IN ('pending', 'active', 'exiting')
           AND (NOT $2 OR g.lead_therapist_id = $1 OR $1 = ANY (g.co_therapist_ids))",
    )
    .bind::<SqlUuid, _>(me)
    .bind::<Bool, _>(only_mine)
    .load(conn)
}

/// Computes the caller's dashboard (one transaction, a handful of statements).
pub fn compute(conn: &mut PgConnection, staff: &Staff, due_hours: u32) -> AppResult<Dashboard> {
    let only_mine = staff.is_scoped();
    let today = Utc::now().date_naive();
    let all = SessionSet {
        me: staff.id,
        only_mine,
        due_hours,
        ..SessionSet::default()
    };
    let today_set = SessionSet {
        from: Some(today),
        to: Some(today),
        ..all.clone()
    };
    let mut d = Dashboard {
        sessions_today: documentation::counts(conn, &today_set)?.sessions,
        ..Dashboard::default()
    };
    if staff.can(Action::ReadNotes) {
        let c = documentation::counts(conn, &all)?;
        d.documentation_incomplete = Some(c.incomplete);
        d.documentation_overdue = Some(c.overdue);
    }
    if staff.can(Action::CosignNote) {
        let queue = NoteSet {
            me: staff.id,
            only_mine,
            awaiting_cosign: Some(true),
            ..NoteSet::default()
        };
        d.awaiting_cosign = Some(index::count(conn, &queue)?);
    }
    if staff.can(Action::ReadMembers) {
        let seats = seats(conn, staff.id, only_mine)?;
        let seated: Vec<Uuid> = seats
            .iter()
            .filter(|s| s.status != "pending")
            .map(|s| s.id)
            .collect();
        let at_risk = roster::at_risk(conn, &seated)?
            .into_iter()
            .filter(|r| r.at_risk)
            .count();
        d.members_at_risk = Some(at_risk as i64);
        d.members_exiting = Some(seats.iter().filter(|s| s.status == "exiting").count() as i64);
        if staff.can(Action::RecordSignature) {
            d.pending_signatures =
                Some(seats.iter().filter(|s| s.status == "pending").count() as i64);
            d.contracts_to_resign = Some(
                seats
                    .iter()
                    .filter(|s| s.status != "pending" && s.outdated)
                    .count() as i64,
            );
        }
    }
    if staff.can(Action::ReadWaitlist) {
        let scoped = if only_mine {
            Some(scope::therapist_client_ids(conn, staff.id)?)
        } else {
            None
        };
        d.waitlist = Some(crate::screenings::waitlist::count(conn, scoped)?);
    }
    Ok(d)
}

/// Counts of the caller's working lists, within their scope; each equals the length of the
/// list it summarises for the same caller.
#[utoipa::path(tag = "day", responses((status = 200, body = Dashboard), (status = 401)))]
#[get("/me/dashboard")]
pub async fn dashboard(state: web::Data<AppState>, staff: Staff) -> AppResult<HttpResponse> {
    staff.require(Action::ReadOwnDay)?;
    let due_hours = state.settings.notes_due_hours;
    let d = state
        .db
        .run(move |conn| compute(conn, &staff, due_hours))
        .await?;
    Ok(HttpResponse::Ok().json(d))
}
