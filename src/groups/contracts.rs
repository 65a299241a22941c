//! Group agreements (SPEC §2): versioned per group, immutable once created; the newest is
//! current. `GET/POST /groups/{id}/contracts`.

use std::io::Write;

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::prelude::*;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Jsonb;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model;
use crate::auth::{scope, Staff};
use crate::error::{AppError, AppResult, ErrorCode, Validations};
use crate::http::pagination::Page;
use crate::http::Json;
use crate::schema::contracts;
use crate::state::AppState;

const CLAUSE_MAX: usize = 20_000;

// Stored as `contracts.clauses` (jsonb) and read back typed: a stored value that is not such
// an object, or states no confidentiality rule, fails to load (a 500 with its cause logged),
// so a corrupt agreement is never shown or signed as an empty one.
/// The agreement's clauses (texts).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = Jsonb)]
#[serde(deny_unknown_fields)]
pub struct Clauses {
    #[serde(default)]
    pub attendance: String,
    #[serde(default)]
    pub confidentiality: String,
    #[serde(default)]
    pub outside_socialization: String,
    #[serde(default)]
    pub substance_use: String,
    #[serde(default)]
    pub exit_notice: String,
    #[serde(default)]
    pub other: String,
}

impl FromSql<Jsonb, Pg> for Clauses {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let json = <serde_json::Value as FromSql<Jsonb, Pg>>::from_sql(value)?;
        let clauses: Clauses = serde_json::from_value(json)
            .map_err(|e| format!("unreadable agreement clauses: {e}"))?;
        if clauses.confidentiality.trim().is_empty() {
            return Err("stored agreement states no confidentiality rule".into());
        }
        Ok(clauses)
    }
}

impl ToSql<Jsonb, Pg> for Clauses {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        // jsonb's binary format: a version byte, then the JSON text.
        out.write_all(&[1])?;
        serde_json::to_writer(out, self)?;
        Ok(IsNull::No)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateContract {
    pub clauses: Clauses,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Contract {
    pub id: Uuid,
    pub group_id: Uuid,
    pub version: i32,
    pub clauses: Clauses,
    /// True for the newest version, the one members sign.
    pub current: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = contracts)]
pub struct ContractRow {
    pub id: Uuid,
    pub group_id: Uuid,
    pub version: i32,
    pub clauses: Clauses,
    pub created_at: DateTime<Utc>,
}

impl ContractRow {
    fn view(self, current_version: i32) -> Contract {
        Contract {
            current: self.version == current_version,
            id: self.id,
            group_id: self.group_id,
            version: self.version,
            clauses: self.clauses,
            created_at: self.created_at,
        }
    }
}

/// The newest version of the group's agreement, if any.
pub fn current_version(conn: &mut PgConnection, group_id: Uuid) -> QueryResult<Option<i32>> {
    contracts::table
        .filter(contracts::group_id.eq(group_id))
        .select(diesel::dsl::max(contracts::version))
        .first(conn)
}

fn validate(c: &Clauses) -> AppResult<()> {
    let mut v = Validations::new();
    let all = [
        ("clauses.attendance", &c.attendance),
        ("clauses.confidentiality", &c.confidentiality),
        ("clauses.outside_socialization", &c.outside_socialization),
        ("clauses.substance_use", &c.substance_use),
        ("clauses.exit_notice", &c.exit_notice),
        ("clauses.other", &c.other),
    ];
    for (field, text) in all {
        if let Err(m) = crate::domain::text::text(text, CLAUSE_MAX) {
            v.add(field, m);
        }
    }
    v.check(
        !c.confidentiality.trim().is_empty(),
        "clauses.confidentiality",
        "an agreement must state its confidentiality rule",
    );
    v.finish().map_err(AppError::from)
}

/// Adds a new version of the group's agreement (admin, supervisor). Members who signed an
/// older version keep it; new signatures need this one.
#[utoipa::path(tag = "groups", request_body = CreateContract, responses((status = 201, body = Contract), (status = 409), (status = 422)))]
#[post("/groups/{id}/contracts")]
pub async fn create_contract(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
    body: Json<CreateContract>,
) -> AppResult<HttpResponse> {
    let group_id = id.into_inner();
    let clauses = body.into_inner().clauses;
    validate(&clauses)?;
    let audit = staff.audit();
    let contract = state
        .db
        .tx(move |conn| {
            let group = model::lock(conn, group_id)?;
            if group.status().is_closed() {
                return Err(AppError::conflict(
                    ErrorCode::Conflict,
                    "The group is closed; its agreement can no longer change.",
                ));
            }
            let version = current_version(conn, group_id)?.unwrap_or(0) + 1;
            let row: ContractRow = diesel::insert_into(contracts::table)
                .values((
                    contracts::id.eq(Uuid::new_v4()),
                    contracts::group_id.eq(group_id),
                    contracts::version.eq(version),
                    contracts::clauses.eq(&clauses),
                    contracts::created_by.eq(audit.actor_id.unwrap_or_default()),
                ))
                .returning(ContractRow::as_returning())
                .get_result(conn)?;
            audit.allowed(
                conn,
                "contract.create",
                "contract",
                Some(row.id),
                json!({"group_id": group_id, "version": version}),
            )?;
            Ok(row.view(version))
        })
        .await?;
    Ok(HttpResponse::Created().json(contract))
}

/// Every version of the group's agreement, newest first.
#[utoipa::path(tag = "groups", responses((status = 200, body = Page<Contract>), (status = 404)))]
#[get("/groups/{id}/contracts")]
pub async fn list_contracts(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let group_id = id.into_inner();
    let items = state
        .db
        .run(move |conn| {
            scope::ensure_group(conn, &staff, group_id)?;
            let rows: Vec<ContractRow> = contracts::table
                .filter(contracts::group_id.eq(group_id))
                .order(contracts::version.desc())
                .select(ContractRow::as_select())
                .load(conn)?;
            let current = rows.first().map_or(0, |r| r.version);
            Ok(rows
                .into_iter()
                .map(|r| r.view(current))
                .collect::<Vec<_>>())
        })
        .await?;
    // Every version at once (a group has a handful): one page, never a cursor.
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}
