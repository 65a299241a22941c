//! `PATCH /clients/{id}`.

use actix_web::{patch, web, HttpResponse};
use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Fields;
use crate::auth::Staff;
use crate::clients::model::{Client, ClientRow};
use crate::domain::client::{Gender, ReferralSource};
use crate::error::{AppError, AppResult, Validations};
use crate::http::etag::{ok_with_etag, IfMatch};
use crate::http::extract::nullable;
use crate::http::Json;
use crate::schema::clients;
use crate::state::AppState;

/// Absent fields are left alone; `null` clears an optional field and is refused (422) for a
/// required one.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateClient {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub preferred_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub date_of_birth: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<ReferralSource>)]
    pub referral_source: Option<Option<ReferralSource>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<bool>)]
    pub mandated: Option<Option<bool>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Gender>)]
    pub gender: Option<Option<Gender>>,
}

impl UpdateClient {
    /// Names of the fields the request sets (for the audit event; never their values).
    fn changed(&self) -> Vec<&'static str> {
        [
            ("first_name", self.first_name.is_some()),
            ("last_name", self.last_name.is_some()),
            ("preferred_name", self.preferred_name.is_some()),
            ("date_of_birth", self.date_of_birth.is_some()),
            ("phone", self.phone.is_some()),
            ("email", self.email.is_some()),
            ("referral_source", self.referral_source.is_some()),
            ("mandated", self.mandated.is_some()),
            ("gender", self.gender.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect()
    }

    /// 422 naming every required field sent as `null`.
    fn refuse_nulls(&self) -> AppResult<()> {
        let mut v = Validations::new();
        for (field, is_null) in [
            ("first_name", matches!(self.first_name, Some(None))),
            ("last_name", matches!(self.last_name, Some(None))),
            ("date_of_birth", matches!(self.date_of_birth, Some(None))),
            (
                "referral_source",
                matches!(self.referral_source, Some(None)),
            ),
            ("mandated", matches!(self.mandated, Some(None))),
        ] {
            if is_null {
                v.add(field, "is required and cannot be null");
            }
        }
        v.finish().map_err(AppError::from)
    }
}

/// Changes demographics (supervisor, intake). Honours `If-Match` (412 on a stale ETag).
#[utoipa::path(tag = "clients", request_body = UpdateClient,
    responses((status = 200, body = Client), (status = 404), (status = 412), (status = 422)))]
#[patch("/clients/{id}")]
pub async fn update_client(
    state: web::Data<AppState>,
    staff: Staff,
    if_match: IfMatch,
    id: web::Path<Uuid>,
    body: Json<UpdateClient>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let b = body.into_inner();
    b.refuse_nulls()?;
    let changed = b.changed();
    let audit = staff.audit();
    let row = state
        .db
        .tx(move |conn| {
            let current: ClientRow = clients::table
                .find(id)
                .select(ClientRow::as_select())
                .for_update()
                .first(conn)?;
            if_match.check(current.version)?;
            let f = Fields {
                first_name: b.first_name.flatten().unwrap_or(current.first_name),
                last_name: b.last_name.flatten().unwrap_or(current.last_name),
                preferred_name: b.preferred_name.unwrap_or(current.preferred_name),
                date_of_birth: b.date_of_birth.flatten().unwrap_or(current.date_of_birth),
                phone: b.phone.unwrap_or(current.phone),
                email: b.email.unwrap_or(current.email),
                referral_source: b
                    .referral_source
                    .flatten()
                    .unwrap_or(current.referral_source),
                mandated: b.mandated.flatten().unwrap_or(current.mandated),
                gender: match b.gender {
                    Some(g) => g,
                    None => current.gender,
                },
            }
            .validate()?;
            let row: ClientRow = diesel::update(clients::table.find(id))
                .set((
                    f.values(),
                    clients::version.eq(clients::version + 1),
                    clients::updated_at.eq(Utc::now()),
                ))
                .returning(ClientRow::as_returning())
                .get_result(conn)?;
            audit.allowed(
                conn,
                "client.update",
                "client",
                Some(id),
                json!({"changed": changed}),
            )?;
            Ok(row)
        })
        .await?;
    Ok(ok_with_etag(row.version, &Client::from(row)))
}
