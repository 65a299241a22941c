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
//! | `contracts_to_resign` | `GET /groups/{id}/members?contract_current=false`, active and exiting members |
//! | `waitlist` | `GET /waitlist` (who reads it) |
//! | `approvals_pending` | `GET /staff/approvals` (supervisors) |

use actix_web::{get, web, HttpResponse};
use chrono::Utc;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{scope, Action, Staff};
use crate::domain::membership::MembershipStatus;
use crate::error::AppResult;
use crate::memberships::model::{load_views, MembershipRow, MembershipView};
use crate::notes::index::{self, NoteSet};
use crate::sessions::documentation::{self, SessionSet};
use crate::state::AppState;
use crate::users::model::Approval;

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
    /// Supervisors: clinical accounts awaiting approval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approvals_pending: Option<i64>,
}

/// The seats (pending, active, exiting) of the groups in scope, as the members lists show
/// them (the same derived `at_risk` and `contract_current`).
fn seats(conn: &mut PgConnection, me: Uuid, only_mine: bool) -> AppResult<Vec<MembershipView>> {
    use crate::schema::{groups, memberships};
    let mut q = memberships::table
        .inner_join(groups::table)
        .filter(memberships::status.eq_any(MembershipStatus::SEATED))
        .select(MembershipRow::as_select())
        .into_boxed();
    if only_mine {
        q = q.filter(
            groups::lead_therapist_id
                .eq(me)
                .or(groups::co_therapist_ids.contains(vec![me])),
        );
    }
    let rows = q.load(conn)?;
    load_views(conn, rows, None)
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
        let count =
            |f: &dyn Fn(&MembershipView) -> bool| seats.iter().filter(|m| f(m)).count() as i64;
        d.members_at_risk = Some(count(&|m| m.at_risk));
        d.members_exiting = Some(count(&|m| m.status == MembershipStatus::Exiting));
        if staff.can(Action::RecordSignature) {
            d.pending_signatures = Some(count(&|m| m.status == MembershipStatus::Pending));
            d.contracts_to_resign = Some(count(&|m| {
                m.status != MembershipStatus::Pending && !m.contract_current
            }));
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
    if staff.can(Action::ApproveAccounts) {
        use crate::schema::users;
        d.approvals_pending = Some(
            users::table
                .filter(users::approval.eq(Approval::Pending))
                .count()
                .get_result(conn)?,
        );
    }
    Ok(d)
}

/// Counts of the caller's working lists, within their scope; each equals the length of the
/// list it summarises for the same caller.
#[utoipa::path(tag = "day", responses((status = 200, body = Dashboard), (status = 401)))]
#[get("/me/dashboard")]
pub async fn dashboard(state: web::Data<AppState>, staff: Staff) -> AppResult<HttpResponse> {
    let due_hours = state.settings.notes_due_hours;
    let d = state
        .db
        .run(move |conn| compute(conn, &staff, due_hours))
        .await?;
    Ok(HttpResponse::Ok().json(d))
}
