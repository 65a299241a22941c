//! `POST /clients`.

use actix_web::{post, web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Fields;
use crate::auth::Staff;
use crate::clients::model::{Client, ClientRow};
use crate::domain::client::{Gender, ReferralSource};
use crate::error::AppResult;
use crate::http::etag::created_with_etag;
use crate::http::Json;
use crate::schema::clients;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateClient {
    pub first_name: String,
    pub last_name: String,
    pub preferred_name: Option<String>,
    pub date_of_birth: NaiveDate,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub referral_source: ReferralSource,
    #[serde(default)]
    pub mandated: bool,
    /// v2: `woman`, `man`, `nonbinary`, `other` or `undisclosed`; optional.
    pub gender: Option<Gender>,
}

/// Registers a client (supervisor, intake).
#[utoipa::path(tag = "clients", request_body = CreateClient, responses((status = 201, body = Client), (status = 422)))]
#[post("/clients")]
pub async fn create_client(
    state: web::Data<AppState>,
    staff: Staff,
    body: Json<CreateClient>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let f = Fields {
        first_name: b.first_name,
        last_name: b.last_name,
        preferred_name: b.preferred_name,
        date_of_birth: b.date_of_birth,
        phone: b.phone,
        email: b.email,
        referral_source: b.referral_source,
        mandated: b.mandated,
        gender: b.gender,
    }
    .validate()?;
    let audit = staff.audit();
    let row = state
        .db
        .tx(move |conn| {
            let row: ClientRow = diesel::insert_into(clients::table)
                .values((clients::id.eq(Uuid::new_v4()), f.values()))
                .returning(ClientRow::as_returning())
                .get_result(conn)?;
            audit.allowed(conn, "client.create", "client", Some(row.id), json!({}))?;
            Ok(row)
        })
        .await?;
    Ok(created_with_etag(row.version, &Client::from(row)))
}
