//! `POST /groups/{id}/members`.

use actix_web::{post, web, HttpResponse};
use chrono::Utc;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::act;
use crate::auth::{scope, Action, Staff};
use crate::domain::admission::{self, AdmissionFacts, AdmissionRefusal, ScreeningFacts};
use crate::domain::composition::{self, CompositionWarning};
use crate::domain::membership::MembershipStatus;
use crate::domain::text::text;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::groups::model as groups;
use crate::http::etag::created_with_etag;
use crate::http::Json;
use crate::memberships::model::{load_views, MembershipRow, MembershipView};
use crate::notes::fields::{self, Field};
use crate::schema::{clients, memberships, screenings};
use crate::state::AppState;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Admit {
    pub client_id: Uuid,
    pub screening_id: Uuid,
    /// A supervisor's reason for admitting a replacement into an active (closed) group.
    pub override_reason: Option<String>,
}

/// The answer to an admission: the new membership, and (v2) the group's composition warnings
/// with the new seat counted, with those the seat created and those it resolved.
#[derive(Debug, Serialize, ToSchema)]
pub struct Admission {
    #[serde(flatten)]
    pub membership: MembershipView,
    pub composition_warnings: Vec<CompositionWarning>,
    pub composition_warnings_created: Vec<CompositionWarning>,
    pub composition_warnings_resolved: Vec<CompositionWarning>,
}

const ENROLLMENT_CLOSED: &str = "The group is active: enrollment is closed unless a \
    supervisor admits a replacement with override_reason.";
const SCREENING_REQUIRED: &str = "Admission needs this client's accepted screening, completed \
    within 90 days, for this group or for none.";
const SCREENING_USED: &str = "This screening already admitted the client once; a returning \
    client needs a new screening.";

/// Loads what an admission is decided on. Lock order: the group's row (capacity holds under
/// concurrent admissions), then the screening's (v2: it serialises two admissions on the same
/// screening into different groups, each holding only its own group's lock).
fn admission_facts(
    conn: &mut PgConnection,
    staff: &Staff,
    group_id: Uuid,
    b: &Admit,
    override_given: bool,
) -> AppResult<AdmissionFacts> {
    let group = groups::lock(conn, group_id)?;
    let client_exists: bool =
        diesel::select(diesel::dsl::exists(clients::table.find(b.client_id))).get_result(conn)?;
    let screening = screenings::table
        .find(b.screening_id)
        .select((
            screenings::client_id,
            screenings::status,
            screenings::outcome,
            screenings::completed_at,
            screenings::group_id,
        ))
        .for_update()
        .first(conn)
        .optional()?
        .map(
            |(client_id, status, outcome, completed_at, group_id)| ScreeningFacts {
                client_id,
                status,
                outcome,
                completed_at,
                group_id,
            },
        );
    let already_seated: bool = diesel::select(diesel::dsl::exists(
        memberships::table
            .filter(memberships::group_id.eq(group_id))
            .filter(memberships::client_id.eq(b.client_id))
            .filter(memberships::status.eq_any(MembershipStatus::SEATED)),
    ))
    .get_result(conn)?;
    let screening_used: bool = diesel::select(diesel::dsl::exists(
        memberships::table.filter(memberships::screening_id.eq(b.screening_id)),
    ))
    .get_result(conn)?;
    Ok(AdmissionFacts {
        group_id,
        group_status: group.status(),
        max_size: group.max_size,
        seats_taken: groups::seats(conn, group_id)?.taken(),
        override_given,
        may_override: staff.can(Action::OverrideEnrollment),
        client_id: b.client_id,
        client_exists,
        screening,
        already_seated,
        screening_used,
        now: Utc::now(),
    })
}

/// A refused admission as its answer.
fn admission_refused(r: AdmissionRefusal) -> AppError {
    match r {
        AdmissionRefusal::EnrollmentClosed => {
            AppError::conflict(ErrorCode::EnrollmentClosed, ENROLLMENT_CLOSED)
        }
        AdmissionRefusal::OverrideNotAllowed => AppError::Forbidden,
        AdmissionRefusal::GroupEnded(s) => {
            AppError::conflict(ErrorCode::Conflict, format!("The group is {}.", s.as_str()))
        }
        AdmissionRefusal::NoSuchClient => AppError::invalid("client_id", "no such client"),
        AdmissionRefusal::ScreeningRequired => {
            AppError::conflict(ErrorCode::ScreeningRequired, SCREENING_REQUIRED)
        }
        AdmissionRefusal::AlreadyMember => AppError::conflict(
            ErrorCode::AlreadyMember,
            "The client already holds a seat in this group.",
        ),
        AdmissionRefusal::ScreeningUsed => {
            AppError::conflict(ErrorCode::ScreeningRequired, SCREENING_USED)
        }
        AdmissionRefusal::GroupFull { max_size } => AppError::conflict(
            ErrorCode::GroupFull,
            format!("All {max_size} seats are taken."),
        ),
    }
}

/// Admits a client to a group as `pending` (supervisor, the group's therapists). Needs a valid
/// accepted screening; the group's row lock makes capacity hold under concurrent admissions.
#[utoipa::path(tag = "memberships", request_body = Admit,
    responses((status = 201, body = Admission), (status = 409, description = "enrollment_closed, screening_required, already_member, group_full")))]
#[post("/groups/{id}/members")]
pub async fn admit(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<Admit>,
) -> AppResult<HttpResponse> {
    let group_id = id.into_inner();
    let b = body.into_inner();
    let override_reason = match b
        .override_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => None,
        Some(r) => Some(text(r, 2000).map_err(|m| AppError::invalid("override_reason", m))?),
    };
    let audit = staff.audit();
    let cipher = state.notes.clone();
    let clinical = state.notes.optional_reader::<act::ReadNotes>(&staff);
    let view = state
        .db
        .tx(move |conn| {
            scope::ensure_group(conn, &staff, group_id)?;
            let facts = admission_facts(conn, &staff, group_id, &b, override_reason.is_some())?;
            admission::decide(&facts).map_err(admission_refused)?;
            let membership_id = Uuid::new_v4();
            let override_sealed = fields::seal_opt(
                &cipher,
                Field::OverrideReason,
                membership_id,
                override_reason.as_deref(),
            );
            let row: MembershipRow = diesel::insert_into(memberships::table)
                .values((
                    memberships::id.eq(membership_id),
                    memberships::group_id.eq(group_id),
                    memberships::client_id.eq(b.client_id),
                    memberships::screening_id.eq(b.screening_id),
                    memberships::override_reason_sealed.eq(&override_sealed),
                    memberships::created_by.eq(staff.id),
                ))
                .returning(MembershipRow::as_returning())
                .get_result(conn)?;
            audit.allowed(
                conn,
                "membership.admit",
                "membership",
                Some(row.id),
                json!({"group_id": group_id, "client_id": b.client_id}),
            )?;
            if override_reason.is_some() {
                audit.allowed(
                    conn,
                    "membership.enrollment_override",
                    "membership",
                    Some(row.id),
                    json!({"group_id": group_id}),
                )?;
            }
            let after = groups::composition_warnings(conn, group_id, None)?;
            let before = groups::composition_warnings(conn, group_id, Some(row.id))?;
            let (created, resolved) = composition::changes(&before, &after);
            let membership = load_views(conn, vec![row], clinical.as_ref())?
                .pop()
                .ok_or(AppError::NotFound)?;
            Ok(Admission {
                membership,
                composition_warnings: after,
                composition_warnings_created: created,
                composition_warnings_resolved: resolved,
            })
        })
        .await?;
    Ok(created_with_etag(view.membership.version, &view))
}
