//! `POST /memberships/{id}/sign`.

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::act;
use crate::auth::Staff;
use crate::domain::agreement::{decide_signature, SignFacts, SignKind, SignRefusal};
use crate::domain::membership::MembershipStatus;
use crate::domain::text::required_line;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::groups::contracts::{current_version, Clauses};
use crate::http::etag::ok_with_etag;
use crate::http::Json;
use crate::memberships::model::{load_view, MembershipView};
use crate::memberships::{lock_with_group, signatures};
use crate::schema::{contracts, memberships, screenings};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct Sign {
    pub contract_id: Uuid,
    pub signature_name: String,
    /// Defaults to now; may lie in the past, never in the future nor before the screening.
    pub signed_at: Option<DateTime<Utc>>,
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
    let clinical = state.notes.optional_reader::<act::ReadNotes>(&staff);
    let view = state
        .db
        .tx(move |conn| {
            // Lock order: group (a new agreement version takes the same lock, so "current" holds
            // until commit), then the membership (concurrent signatures of one member queue here).
            let (group, m) = lock_with_group(conn, &staff, id)?;
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
