//! `GET/POST /clients`, `GET/PATCH /clients/{id}`.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::model::{self, like_pattern, Client, ClientRow};
use crate::auth::{scope, Action, Staff};
use crate::domain::client::{check_birth_date, parse_phone, Gender, ReferralSource};
use crate::domain::email::parse_email;
use crate::domain::text::{optional_line, required_line, search_key};
use crate::error::{AppError, AppResult, Validations};
use crate::http::etag::{created_with_etag, ok_with_etag, IfMatch};
use crate::http::extract::nullable;
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::{Json, Query};
use crate::schema::clients;
use crate::state::AppState;

const NAME_MAX: usize = 100;
const Q_MAX: usize = 200;

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

/// Validated values of every field, as stored.
#[derive(Clone)]
struct Fields {
    first_name: String,
    last_name: String,
    preferred_name: Option<String>,
    date_of_birth: NaiveDate,
    phone: Option<String>,
    email: Option<String>,
    referral_source: ReferralSource,
    mandated: bool,
    gender: Option<Gender>,
}

impl Fields {
    fn validate(self) -> AppResult<Fields> {
        let mut v = Validations::new();
        let first_name = required_line(&self.first_name, NAME_MAX)
            .map_err(|m| v.add("first_name", m))
            .unwrap_or_default();
        let last_name = required_line(&self.last_name, NAME_MAX)
            .map_err(|m| v.add("last_name", m))
            .unwrap_or_default();
        let preferred_name = optional_line(self.preferred_name.as_deref(), NAME_MAX)
            .map_err(|m| v.add("preferred_name", m))
            .unwrap_or_default();
        if let Err(m) = check_birth_date(self.date_of_birth) {
            v.add("date_of_birth", m);
        }
        let phone = match self
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => None,
            Some(p) => parse_phone(p).map_err(|m| v.add("phone", m)).ok(),
        };
        let email = match self
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            None => None,
            Some(e) => parse_email(e).map_err(|m| v.add("email", m)).ok(),
        };
        v.finish()?;
        Ok(Fields {
            first_name,
            last_name,
            preferred_name,
            phone,
            email,
            ..self
        })
    }

    fn search_text(&self) -> String {
        model::search_text(
            &self.first_name,
            &self.last_name,
            self.preferred_name.as_deref(),
        )
    }
}

/// Registers a client (supervisor, intake).
#[utoipa::path(tag = "clients", request_body = CreateClient, responses((status = 201, body = Client), (status = 422)))]
#[post("/clients")]
pub async fn create_client(
    state: web::Data<AppState>,
    staff: Staff,
    body: Json<CreateClient>,
) -> AppResult<HttpResponse> {
    staff.require(Action::WriteClients)?;
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
                .values((
                    clients::id.eq(Uuid::new_v4()),
                    clients::first_name.eq(&f.first_name),
                    clients::last_name.eq(&f.last_name),
                    clients::preferred_name.eq(&f.preferred_name),
                    clients::date_of_birth.eq(f.date_of_birth),
                    clients::phone.eq(&f.phone),
                    clients::email.eq(&f.email),
                    clients::referral_source.eq(f.referral_source),
                    clients::mandated.eq(f.mandated),
                    clients::gender.eq(f.gender),
                    clients::search_text.eq(f.search_text()),
                ))
                .returning(ClientRow::as_returning())
                .get_result(conn)?;
            audit.allowed(conn, "client.create", "client", Some(row.id), json!({}))?;
            Ok(row)
        })
        .await?;
    Ok(created_with_etag(row.version, &Client::from(row)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    /// Name search, case- and accent-insensitive: every word must appear in the first, last or
    /// preferred name.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Lists clients by last name, then first name (accents and case ignored); a therapist sees
/// only clients in scope. `?q=`: every word must appear in the first, last or preferred name.
#[utoipa::path(tag = "clients", params(ClientQuery), responses((status = 200, body = Page<Client>)))]
#[get("/clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<ClientQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    staff.require(Action::ReadClients)?;
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(String, Uuid)> = cursor.open()?;
    // Every word of `q` must appear in the names (in any order: "alvarez jose" finds José
    // Álvarez); LIKE wildcards in `q` are literals.
    let terms: Vec<String> = match q.q.as_deref().map(str::trim) {
        Some(s) if s.chars().count() > Q_MAX => {
            return Err(AppError::invalid(
                "q",
                format!("must be at most {Q_MAX} characters"),
            ))
        }
        Some(s) => search_key(&[s])
            .split_whitespace()
            .map(like_pattern)
            .collect(),
        None => Vec::new(),
    };
    let scoped = staff.is_scoped().then_some(staff.id);
    let audit = staff.audit();
    let rows = state
        .db
        .tx(move |conn| {
            let mut query = clients::table.select(ClientRow::as_select()).into_boxed();
            if let Some(user) = scoped {
                query = query.filter(clients::id.eq_any(scope::therapist_client_ids(conn, user)?));
            }
            for pattern in terms {
                query = query.filter(clients::search_text.like(pattern));
            }
            if let Some((key, id)) = after {
                query = query.filter(model::after_sort_key(key, id));
            }
            let rows: Vec<ClientRow> = query
                .order(model::sort_key())
                .then_order_by(clients::id.asc())
                .limit(limit + 1)
                .load(conn)?;
            let shown = rows.iter().take(limit as usize).map(|r| r.id);
            crate::audit::bulk::list_read(&audit, conn, "client.list", "client", None, shown)?;
            Ok(rows)
        })
        .await?;
    let page = cursor.page(rows, limit, |r| (r.search_text.clone(), r.id), Client::from);
    Ok(HttpResponse::Ok().json(page))
}

/// One client's demographics. Each read is audited, and so is a therapist's refused read of
/// a client outside their scope (which answers 404).
#[utoipa::path(tag = "clients", responses((status = 200, body = Client), (status = 404)))]
#[get("/clients/{id}")]
pub async fn get_client(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    staff.require(Action::ReadClients)?;
    let id = id.into_inner();
    let row = state
        .db
        .tx(move |conn| {
            if let Err(e) = scope::ensure_client(conn, &staff, id) {
                // SPEC §1: a refused read of a client record is audited too (committed, while
                // the caller learns only that nothing was found).
                if staff.is_scoped() && model::find(conn, id)?.is_some() {
                    staff.audit().denied(
                        conn,
                        "client.read",
                        "client",
                        Some(id),
                        json!({"reason": "out_of_scope"}),
                    )?;
                }
                return Ok(Err(e));
            }
            let row = model::find(conn, id)?.ok_or(AppError::NotFound)?;
            staff
                .audit()
                .allowed(conn, "client.read", "client", Some(id), json!({}))?;
            Ok(Ok(row))
        })
        .await??;
    Ok(ok_with_etag(row.version, &Client::from(row)))
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
    staff.require(Action::WriteClients)?;
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
                    clients::first_name.eq(&f.first_name),
                    clients::last_name.eq(&f.last_name),
                    clients::preferred_name.eq(&f.preferred_name),
                    clients::date_of_birth.eq(f.date_of_birth),
                    clients::phone.eq(&f.phone),
                    clients::email.eq(&f.email),
                    clients::referral_source.eq(f.referral_source),
                    clients::mandated.eq(f.mandated),
                    clients::gender.eq(f.gender),
                    clients::search_text.eq(f.search_text()),
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
