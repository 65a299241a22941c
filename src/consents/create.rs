//! `POST /clients/{id}/consents`: records a signed consent (§2.31 elements).

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{today, Consent, ConsentRow};
use crate::auth::Staff;
use crate::domain::consent::{check_dates, normalize_kinds, InformationKind, RecipientKind};
use crate::domain::text::{optional_line, required_line, text};
use crate::error::{AppError, AppResult, Validations};
use crate::http::Json;
use crate::notes::failure::{audited, Attempt};
use crate::schema::consents;
use crate::state::AppState;

const NAME_MAX: usize = 200;
const PURPOSE_MAX: usize = 1000;
const EVENT_MAX: usize = 500;

/// The elements of a written consent (42 CFR §2.31). Every field is checked and a 422 names
/// each one that is missing or wrong.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateConsent {
    /// Who receives the information (a person or an organisation).
    pub recipient_name: Option<String>,
    pub recipient_kind: Option<RecipientKind>,
    /// Why the information is disclosed.
    pub purpose: Option<String>,
    /// What may be disclosed: a non-empty subset of the information kinds.
    pub information: Option<Vec<InformationKind>>,
    /// Default: the day of the signature.
    pub effective_on: Option<NaiveDate>,
    /// One of `expires_on` and `expires_event` is required.
    pub expires_on: Option<NaiveDate>,
    pub expires_event: Option<String>,
    /// Default: now. Never in the future.
    pub signed_at: Option<DateTime<Utc>>,
    /// The name the client signed with.
    pub signature_name: Option<String>,
}

struct NewConsent {
    recipient_name: String,
    recipient_kind: RecipientKind,
    purpose: String,
    information: Vec<InformationKind>,
    effective_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    expires_event: Option<String>,
    signed_at: DateTime<Utc>,
    signature_name: String,
}

fn required<T>(v: &mut Validations, field: &str, value: Option<T>) -> Option<T> {
    if value.is_none() {
        v.add(field, "is required");
    }
    value
}

impl CreateConsent {
    fn validate(self) -> AppResult<NewConsent> {
        let mut v = Validations::new();
        let now = Utc::now();
        let recipient_name =
            required(&mut v, "recipient_name", self.recipient_name).and_then(|s| {
                required_line(&s, NAME_MAX)
                    .map_err(|m| v.add("recipient_name", m))
                    .ok()
            });
        let recipient_kind = required(&mut v, "recipient_kind", self.recipient_kind);
        let purpose = required(&mut v, "purpose", self.purpose).and_then(|s| {
            let t = s.trim();
            if t.is_empty() {
                v.add("purpose", "must not be empty");
                None
            } else {
                text(t, PURPOSE_MAX).map_err(|m| v.add("purpose", m)).ok()
            }
        });
        let information = required(&mut v, "information", self.information).and_then(|i| {
            if i.is_empty() {
                v.add("information", "must name at least one kind of information");
                None
            } else {
                Some(normalize_kinds(&i))
            }
        });
        let expires_event = optional_line(self.expires_event.as_deref(), EVENT_MAX)
            .map_err(|m| v.add("expires_event", m))
            .unwrap_or_default();
        let signature_name =
            required(&mut v, "signature_name", self.signature_name).and_then(|s| {
                required_line(&s, NAME_MAX)
                    .map_err(|m| v.add("signature_name", m))
                    .ok()
            });
        let signed_at = self.signed_at.unwrap_or(now);
        let effective_on = self.effective_on.unwrap_or(signed_at.date_naive());
        for (field, message) in check_dates(
            effective_on,
            self.expires_on,
            expires_event.is_some(),
            signed_at,
            now,
        ) {
            v.add(field, message);
        }
        v.finish()?;
        match (
            recipient_name,
            recipient_kind,
            purpose,
            information,
            signature_name,
        ) {
            (
                Some(recipient_name),
                Some(recipient_kind),
                Some(purpose),
                Some(information),
                Some(signature_name),
            ) => Ok(NewConsent {
                recipient_name,
                recipient_kind,
                purpose,
                information,
                effective_on,
                expires_on: self.expires_on,
                expires_event,
                signed_at,
                signature_name,
            }),
            _ => Err(AppError::invalid("body", "is incomplete")),
        }
    }
}

/// Records a client's signed consent to disclose (supervisor, intake, therapist of the client's
/// care team; the caller is the witness). Audited as `consent.create`.
#[utoipa::path(tag = "consents", request_body = CreateConsent,
    responses((status = 201, body = Consent), (status = 403), (status = 404), (status = 422)))]
#[post("/clients/{id}/consents")]
pub async fn create_consent(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<CreateConsent>,
) -> AppResult<HttpResponse> {
    let client_id = id.into_inner();
    let new = body.into_inner().validate()?;
    let consent = state
        .db
        .run(move |conn| {
            let audit = staff.audit();
            let attempt = Attempt {
                action: "consent.create",
                resource_type: "client",
                resource_id: Some(client_id),
                details: json!({}),
            };
            audited(conn, &audit, attempt, |conn| {
                super::model::ensure_care_team(conn, &staff, client_id)?;
                let row: ConsentRow = diesel::insert_into(consents::table)
                    .values((
                        consents::id.eq(Uuid::new_v4()),
                        consents::client_id.eq(client_id),
                        consents::recipient_name.eq(&new.recipient_name),
                        consents::recipient_kind.eq(new.recipient_kind),
                        consents::purpose.eq(&new.purpose),
                        consents::information.eq(&new.information),
                        consents::effective_on.eq(new.effective_on),
                        consents::expires_on.eq(new.expires_on),
                        consents::expires_event.eq(&new.expires_event),
                        consents::signed_at.eq(new.signed_at),
                        consents::signature_name.eq(&new.signature_name),
                        consents::witness_id.eq(staff.id),
                    ))
                    .returning(ConsentRow::as_returning())
                    .get_result(conn)?;
                audit.allowed(
                    conn,
                    "consent.create",
                    "consent",
                    Some(row.id),
                    json!({"client_id": client_id, "recipient_kind": new.recipient_kind.as_str(),
                           "information": row.information}),
                )?;
                Ok(row.view(today())?)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(consent))
}
