//! `POST /clients/{id}/disclosures`: a disclosure under a consent, with its document.

use actix_web::{post, web, HttpResponse};
use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::letter::{self, Request};
use super::model::{document_aad, Disclosure, DisclosureRow};
use crate::auth::{scope, Staff};
use crate::consents::model::ensure_care_team;
use crate::consents::ConsentRow;
use crate::domain::consent::{normalize_kinds, InformationKind};
use crate::error::{AppError, AppResult, ErrorCode, Validations};
use crate::http::Json;
use crate::notes::failure::{audited, Attempt, Failure};
use crate::schema::{consents, disclosures};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateDisclosure {
    /// The client's consent the disclosure is made under.
    pub consent_id: Option<Uuid>,
    /// What is disclosed: every kind must be named by the consent.
    pub information: Option<Vec<InformationKind>>,
    /// First day of the period disclosed (attendance, screenings); default: the start.
    pub from: Option<NaiveDate>,
    /// Last day of the period; default (and at the latest): today.
    pub to: Option<NaiveDate>,
}

struct Asked {
    consent_id: Uuid,
    information: Vec<InformationKind>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl CreateDisclosure {
    fn validate(self) -> AppResult<Asked> {
        let mut v = Validations::new();
        if self.consent_id.is_none() {
            v.add("consent_id", "is required");
        }
        match &self.information {
            None => v.add("information", "is required"),
            Some(i) if i.is_empty() => {
                v.add("information", "must name at least one kind of information")
            }
            Some(_) => {}
        }
        if let (Some(f), Some(t)) = (self.from, self.to) {
            if t < f {
                v.add("to", "must not be before from");
            }
        }
        v.finish()?;
        Ok(Asked {
            consent_id: self.consent_id.unwrap_or_default(),
            information: normalize_kinds(&self.information.unwrap_or_default()),
            from: self.from,
            to: self.to,
        })
    }
}

fn consent_required(detail: impl Into<String>) -> Failure {
    Failure::App(AppError::conflict(ErrorCode::ConsentRequired, detail))
}

/// Discloses the client's information to a consent's recipient (supervisor, intake, or a
/// therapist of the client's care team). The consent must be the client's, in force today,
/// and name every kind of information asked for, else 409 `consent_required` and nothing is
/// recorded. The disclosure is logged with the SHA-256 of its PDF, which is kept encrypted and
/// served again by `GET /disclosures/{id}/document`. Audited as `disclosure.create`.
#[utoipa::path(tag = "disclosures", request_body = CreateDisclosure,
    responses((status = 201, body = Disclosure), (status = 403), (status = 404),
              (status = 409, description = "`consent_required`: no such consent of this client, or it is revoked, expired, not yet in effect, or does not cover what was asked for"),
              (status = 422)))]
#[post("/clients/{id}/disclosures")]
pub async fn create_disclosure(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<CreateDisclosure>,
) -> AppResult<HttpResponse> {
    let client_id = id.into_inner();
    let asked = body.into_inner().validate()?;
    let st = state.clone();
    let disclosure = state
        .db
        .run(move |conn| {
            let audit = staff.audit();
            let attempt = Attempt {
                action: "disclosure.create",
                resource_type: "client",
                resource_id: Some(client_id),
                details: json!({
                    "consent_id": asked.consent_id,
                    "information": asked.information,
                }),
            };
            audited(conn, &audit, attempt, |conn| {
                ensure_care_team(conn, &staff, client_id)?;
                // FOR SHARE: a revocation committing meanwhile waits for this disclosure, or
                // this disclosure sees it.
                let consent: Option<ConsentRow> = consents::table
                    .find(asked.consent_id)
                    .filter(consents::client_id.eq(client_id))
                    .select(ConsentRow::as_select())
                    .for_share()
                    .first(conn)
                    .optional()?;
                let Some(consent) = consent else {
                    return Err(consent_required(
                        "The client has no consent with this id: nothing may be disclosed \
                         without the client's written consent.",
                    ));
                };
                let now = Utc::now();
                let today = now.date_naive();
                if let Err(refusal) = consent.terms()?.permits(&asked.information, today) {
                    return Err(consent_required(refusal.detail()));
                }
                let (groups, screenings) = if staff.is_scoped() {
                    (
                        Some(scope::therapist_group_ids(conn, staff.id)?),
                        Some(scope::therapist_screening_ids(conn, staff.id)?),
                    )
                } else {
                    (None, None)
                };
                let letter = letter::gather(
                    conn,
                    &Request {
                        practice_name: &st.settings.practice_name,
                        date: today,
                        client_id,
                        consent: &consent,
                        information: &asked.information,
                        period_from: asked.from,
                        period_to: asked.to,
                        released_by: &staff.display_name,
                        visible_groups: groups.as_deref(),
                        visible_screenings: screenings.as_deref(),
                    },
                )?;
                let pdf = letter.pdf();
                let digest = super::sha256(&pdf);
                let id = Uuid::new_v4();
                let sealed = st.notes.seal(&document_aad(id, client_id, &digest), &pdf);
                let row: DisclosureRow = diesel::insert_into(disclosures::table)
                    .values((
                        disclosures::id.eq(id),
                        disclosures::client_id.eq(client_id),
                        disclosures::consent_id.eq(consent.id),
                        disclosures::recipient_name.eq(&consent.recipient_name),
                        disclosures::information.eq(&asked.information),
                        disclosures::period_from.eq(asked.from),
                        disclosures::period_to.eq(asked.to),
                        disclosures::disclosed_at.eq(now),
                        disclosures::disclosed_by.eq(staff.id),
                        disclosures::document_sha256.eq(&digest),
                        disclosures::key_id.eq(&sealed.key_id),
                        disclosures::nonce.eq(&sealed.nonce),
                        disclosures::ciphertext.eq(&sealed.ciphertext),
                    ))
                    .returning(DisclosureRow::as_returning())
                    .get_result(conn)?;
                audit.allowed(
                    conn,
                    "disclosure.create",
                    "disclosure",
                    Some(id),
                    json!({
                        "client_id": client_id,
                        "consent_id": consent.id,
                        "recipient_kind": consent.recipient_kind,
                        "information": row.information,
                        "period_from": asked.from,
                        "period_to": asked.to,
                        "document_sha256": hex::encode(&digest),
                    }),
                )?;
                Ok(row.view(consent.purpose.clone())?)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(disclosure))
}
