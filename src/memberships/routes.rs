//! `POST /groups/{id}/members`, `GET /groups/{id}/members`, `GET /memberships/{id}`,
//! `POST /memberships/{id}/sign|discharge|withdraw`.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::lifecycle;
use super::model::{load_view, load_views, MembershipRow, MembershipView};
use super::signatures;
use crate::auth::policy::act;
use crate::auth::{scope, Action, Staff};
use crate::domain::admission::{self, AdmissionFacts, AdmissionRefusal, ScreeningFacts};
use crate::domain::agreement::{decide_signature, SignFacts, SignKind, SignRefusal};
use crate::domain::composition::{self, CompositionWarning};
use crate::domain::membership::{
    check_discharge, decide_exit, Event, Exit, ExitFacts, ExitReason, ExitRefusal, MembershipStatus,
};
use crate::domain::text::{required_line, text};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::groups::contracts::{current_version, Clauses};
use crate::groups::model as groups;
use crate::http::etag::{created_with_etag, ok_with_etag};
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::{Json, Query};
use crate::notes::fields::{self, Field};
use crate::schema::{clients, contracts, memberships, screenings};
use crate::state::AppState;

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Admit {
    pub client_id: Uuid,
    pub screening_id: Uuid,
    /// A supervisor's reason for admitting a replacement into an active (closed) group.
    pub override_reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Sign {
    pub contract_id: Uuid,
    pub signature_name: String,
    /// Defaults to now; may lie in the past, never in the future nor before the screening.
    pub signed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Discharge {
    /// `dropped_out`, `discharged`, `against_advice`, `higher_level_of_care`, `hospitalized`,
    /// `incarcerated`, `relocated`, `transferred` or `other`.
    pub exit_reason: ExitReason,
    pub note: String,
    /// v2: when the discharge took effect, entered late; defaults to now. Not in the future, not
    /// before the admission.
    pub effective_at: Option<DateTime<Utc>>,
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

/// Loads a membership the caller may see (a therapist: their groups' only). With `lock`, a
/// transition follows the one lock order (group → session → membership → audit chain): the
/// group's row first — so a transition and a group start, completion or attendance of the
/// same group run one after the other — then the membership's, so it sees the current status.
fn visible(
    conn: &mut PgConnection,
    staff: &Staff,
    id: Uuid,
    lock: bool,
) -> AppResult<MembershipRow> {
    let q = memberships::table
        .find(id)
        .select(MembershipRow::as_select());
    let row = q.first(conn).optional()?.ok_or(AppError::NotFound)?;
    scope::ensure_group(conn, staff, row.group_id)?;
    if !lock {
        return Ok(row);
    }
    groups::lock(conn, row.group_id)?;
    // A seat never changes group, so the row locked is the one just checked.
    q.for_update().first(conn).map_err(AppError::from)
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
    let clinical = staff
        .permit::<act::ReadNotes>()
        .ok()
        .map(|p| state.notes.reader(&p));
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    #[param(inline)]
    pub status: Option<MembershipStatus>,
    pub at_risk: Option<bool>,
    /// v2: `false` lists who has yet to re-sign: active and exiting members whose newest
    /// signature is not of the current agreement; `true`, those who hold the current one.
    pub contract_current: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The group's members (every status unless filtered), in admission order.
#[utoipa::path(tag = "memberships", params(MemberQuery), responses((status = 200, body = Page<MembershipView>), (status = 409, description = "note_undecryptable: stored clinical text does not open under a configured key")))]
#[get("/groups/{id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    q: Query<MemberQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let group_id = id.into_inner();
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let clinical = staff
        .permit::<act::ReadNotes>()
        .ok()
        .map(|p| state.notes.reader(&p));
    let audit = staff.audit();
    let views = state
        .db
        .tx(move |conn| {
            scope::ensure_group(conn, &staff, group_id)?;
            let rows = super::model::of_group(conn, group_id, q.status, after)?;
            // A group's history is small (tens of rows): derive, filter, then page.
            let views = load_views(conn, rows, clinical.as_ref())?;
            let views: Vec<_> = views
                .into_iter()
                .filter(|v| q.at_risk.is_none_or(|r| v.at_risk == r))
                .filter(|v| match q.contract_current {
                    None => true,
                    Some(true) => v.contract_current,
                    Some(false) => {
                        !v.contract_current
                            && matches!(
                                v.status,
                                MembershipStatus::Active | MembershipStatus::Exiting
                            )
                    }
                })
                .collect();
            let shown = views.iter().take(limit as usize).map(|v| v.client_id);
            crate::audit::bulk::list_read(
                &audit,
                conn,
                "membership.list",
                "group",
                Some(group_id),
                shown,
            )?;
            Ok(views)
        })
        .await?;
    let page = cursor.page(views, limit, |v| (v.created_at, v.id), |v| v);
    Ok(HttpResponse::Ok().json(page))
}

/// One membership with its derived fields.
#[utoipa::path(tag = "memberships", responses((status = 200, body = MembershipView), (status = 404), (status = 409, description = "note_undecryptable: stored clinical text does not open under a configured key")))]
#[get("/memberships/{id}")]
pub async fn get_membership(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let clinical = staff
        .permit::<act::ReadNotes>()
        .ok()
        .map(|p| state.notes.reader(&p));
    let view = state
        .db
        .run(move |conn| {
            scope::ensure_membership_readable(conn, &staff, id)?;
            load_view(conn, id, clinical.as_ref())
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

/// A refused signature as its answer.
fn signature_refused(r: SignRefusal) -> AppError {
    match r {
        SignRefusal::NotThisGroups => {
            AppError::invalid("contract_id", "is not an agreement of this group")
        }
        SignRefusal::NotSignable(s) => AppError::conflict(
            ErrorCode::Conflict,
            format!(
                "A membership that is {} cannot take a signature.",
                s.as_str()
            ),
        ),
        SignRefusal::Outdated { offered, current } => AppError::conflict(
            ErrorCode::ContractOutdated,
            format!(
                "Version {offered} was replaced by version {current}; \
                 the member must sign the current agreement."
            ),
        ),
        SignRefusal::AlreadySigned(v) => AppError::conflict(
            ErrorCode::AlreadySigned,
            format!("The member already signed version {v}."),
        ),
        SignRefusal::Invalid(v) => v.into(),
    }
}

/// Records the client's signature of the group's current agreement: `pending → active`,
/// `joined_on` = the date of `signed_at` in the group's time zone. (v2) An `active` or
/// `exiting` member signs an amended agreement the same way: the signature is added to
/// `signatures`, nothing else changes. 409 `contract_outdated` for an older version,
/// `already_signed` for the version the member holds.
#[utoipa::path(tag = "memberships", request_body = Sign,
    responses((status = 200, body = MembershipView), (status = 409, description = "contract_outdated, already_signed or conflict"), (status = 422)))]
#[post("/memberships/{id}/sign")]
pub async fn sign(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<Sign>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let b = body.into_inner();
    let now = Utc::now();
    let signed_at = b.signed_at.unwrap_or(now);
    let signature_name = required_line(&b.signature_name, 200)
        .map_err(|m| AppError::invalid("signature_name", m))?;
    let audit = staff.audit();
    let clinical = staff
        .permit::<act::ReadNotes>()
        .ok()
        .map(|p| state.notes.reader(&p));
    let view = state
        .db
        .tx(move |conn| {
            // Lock order: group (a new agreement version takes the same lock, so "current" holds
            // until commit), then the membership (concurrent signatures of one member queue here).
            let group_id: Uuid = memberships::table
                .find(id)
                .select(memberships::group_id)
                .first(conn)
                .optional()?
                .ok_or(AppError::NotFound)?;
            scope::ensure_group(conn, &staff, group_id)?;
            let group = groups::lock(conn, group_id)?;
            let m = visible(conn, &staff, id, true)?;
            // The clauses are loaded (typed) though not written: an agreement whose stored
            // clauses do not read is never signed (500, its cause logged, nothing written).
            let contract: Option<(i32, Clauses)> = contracts::table
                .find(b.contract_id)
                .filter(contracts::group_id.eq(m.group_id))
                .select((contracts::version, contracts::clauses))
                .first(conn)
                .optional()?;
            let versions = match contract {
                Some((version, _clauses)) => Some((
                    version,
                    current_version(conn, m.group_id)?.unwrap_or(version),
                )),
                None => None,
            };
            let held: Vec<i32> = signatures::load(conn, std::slice::from_ref(&m))?
                .remove(&id)
                .unwrap_or_default()
                .iter()
                .map(|s| s.version)
                .collect();
            let screened_at: Option<DateTime<Utc>> = screenings::table
                .find(m.screening_id)
                .select(screenings::completed_at)
                .first(conn)?;
            let signature = decide_signature(&SignFacts {
                status: m.status(),
                versions,
                held,
                screened_at,
                first_signed_at: m.signed_at,
                signed_at,
                now,
            })
            .map_err(signature_refused)?;
            if signature.kind == SignKind::Admission {
                let joined_on = signed_at.with_timezone(&group.tz()).date_naive();
                let changed = diesel::update(
                    memberships::table
                        .find(id)
                        .filter(memberships::status.eq(MembershipStatus::Pending)),
                )
                .set((
                    memberships::status.eq(MembershipStatus::Active),
                    memberships::contract_id.eq(b.contract_id),
                    memberships::signed_at.eq(signed_at),
                    memberships::signature_name.eq(&signature_name),
                    memberships::witness_id.eq(staff.id),
                    memberships::joined_on.eq(joined_on),
                    memberships::version.eq(memberships::version + 1),
                    memberships::updated_at.eq(now),
                ))
                .execute(conn)?;
                if changed == 0 {
                    return Err(AppError::conflict(
                        ErrorCode::Conflict,
                        "The membership changed status meanwhile.",
                    ));
                }
            } else {
                diesel::update(memberships::table.find(id))
                    .set((
                        memberships::version.eq(memberships::version + 1),
                        memberships::updated_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            signatures::insert(
                conn,
                id,
                b.contract_id,
                signed_at,
                &signature_name,
                staff.id,
            )?;
            let action = match signature.kind {
                SignKind::Admission => "membership.sign",
                SignKind::Resign => "membership.resign",
            };
            let details = json!({"contract_version": signature.version});
            audit.allowed(conn, action, "membership", Some(id), details)?;
            load_view(conn, id, clinical.as_ref())
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

/// Ends a seat at once, unplanned (supervisor, the group's therapists): `active|exiting →
/// exited` with a reason and a required note. (v2) `effective_at` enters it late: the member
/// held no seat at sessions that began after it, and attendance recorded there is removed
/// (each record audited with its old value).
#[utoipa::path(tag = "memberships", request_body = Discharge, responses((status = 200, body = MembershipView), (status = 409), (status = 422)))]
#[post("/memberships/{id}/discharge")]
pub async fn discharge(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<Discharge>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let b = body.into_inner();
    check_discharge(b.exit_reason, &b.note).finish()?;
    let audit = staff.audit();
    let cipher = state.notes.clone();
    let reader = state.notes.reader(&staff.permit::<act::ReadNotes>()?);
    let view = state
        .db
        .tx(move |conn| {
            let Exit { from, at } =
                decide_exit_locked(conn, &staff, id, Event::Discharge, b.effective_at)?;
            lifecycle::exit(
                conn,
                id,
                &[from],
                b.exit_reason,
                Some((b.note.trim(), &cipher)),
                at,
            )?;
            let removed = lifecycle::remove_attendance_after(conn, &audit, id, at)?;
            audit.allowed(
                conn,
                "membership.discharge",
                "membership",
                Some(id),
                json!({"exit_reason": b.exit_reason.as_str(), "effective_at": at,
                       "late_entry": b.effective_at.is_some(), "attendance_removed": removed}),
            )?;
            load_view(conn, id, Some(&reader))
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}

/// Locks the group, then the membership (the lock order of attendance recording), and decides
/// a discharge or withdrawal (`event`) on what they hold.
fn decide_exit_locked(
    conn: &mut PgConnection,
    staff: &Staff,
    id: Uuid,
    event: Event,
    effective_at: Option<DateTime<Utc>>,
) -> AppResult<Exit> {
    let group_id: Uuid = memberships::table
        .find(id)
        .select(memberships::group_id)
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)?;
    scope::ensure_group(conn, staff, group_id)?;
    groups::lock(conn, group_id)?;
    let m = visible(conn, staff, id, true)?;
    let facts = ExitFacts {
        status: m.status(),
        created_at: m.created_at,
        signed_at: m.signed_at,
        effective_at,
        now: Utc::now(),
    };
    decide_exit(event, &facts).map_err(|r| match r {
        ExitRefusal::EffectiveAt(msg) => AppError::invalid("effective_at", msg),
        ExitRefusal::Transition(detail) => AppError::conflict(ErrorCode::Conflict, detail),
    })
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Withdraw {
    /// v2: when the admission was withdrawn, entered late; defaults to now. Not in the future,
    /// not before the admission.
    pub effective_at: Option<DateTime<Utc>>,
}

/// Withdraws a pending admission: `pending → exited` (`withdrawn`), optionally effective at an
/// earlier time (v2). The body may be omitted.
#[utoipa::path(tag = "memberships", request_body(content = Option<Withdraw>), responses((status = 200, body = MembershipView), (status = 409), (status = 422)))]
#[post("/memberships/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    // A malformed body is a 400 before anything else, as with every JSON body.
    let b: Withdraw = if body.iter().all(u8::is_ascii_whitespace) {
        Withdraw::default()
    } else {
        crate::http::extract::parse_json(&body)?
    };
    let id = id.into_inner();
    let audit = staff.audit();
    let reader = state.notes.reader(&staff.permit::<act::ReadNotes>()?);
    let view = state
        .db
        .tx(move |conn| {
            let Exit { from, at } = decide_exit_locked(conn, &staff, id, Event::Withdraw, b.effective_at)?;
            lifecycle::exit(
                conn,
                id,
                &[from],
                ExitReason::Withdrawn,
                None,
                at,
            )?;
            // A pending member is never seated, so holds no attendance; kept for symmetry.
            let removed = lifecycle::remove_attendance_after(conn, &audit, id, at)?;
            audit.allowed(
                conn,
                "membership.withdraw",
                "membership",
                Some(id),
                json!({"effective_at": at, "late_entry": b.effective_at.is_some(), "attendance_removed": removed}),
            )?;
            load_view(conn, id, Some(&reader))
        })
        .await?;
    Ok(ok_with_etag(view.version, &view))
}
