use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;
use diesel::sql_types::{Bool, Text, Uuid as SqlUuid};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::client::{Gender, ReferralSource};
use crate::schema::clients;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = clients)]
pub struct ClientRow {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub preferred_name: Option<String>,
    pub date_of_birth: NaiveDate,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub referral_source: ReferralSource,
    pub mandated: bool,
    pub search_text: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub gender: Option<Gender>,
}

/// A client as the API shows it (SPEC §2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Client {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub preferred_name: Option<String>,
    pub date_of_birth: NaiveDate,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub referral_source: ReferralSource,
    /// Involuntary participation, e.g. court-ordered.
    pub mandated: bool,
    /// v2, optional: what group composition looks at (TIP 41).
    pub gender: Option<Gender>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ClientRow> for Client {
    fn from(r: ClientRow) -> Self {
        Client {
            id: r.id,
            first_name: r.first_name,
            last_name: r.last_name,
            preferred_name: r.preferred_name,
            date_of_birth: r.date_of_birth,
            phone: r.phone,
            email: r.email,
            referral_source: r.referral_source,
            mandated: r.mandated,
            gender: r.gender,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The short form used inside other resources (waitlist, member lists).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientSummary {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub preferred_name: Option<String>,
    pub referral_source: ReferralSource,
    pub mandated: bool,
}

impl From<&ClientRow> for ClientSummary {
    fn from(r: &ClientRow) -> Self {
        ClientSummary {
            id: r.id,
            first_name: r.first_name.clone(),
            last_name: r.last_name.clone(),
            preferred_name: r.preferred_name.clone(),
            referral_source: r.referral_source,
            mandated: r.mandated,
        }
    }
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<ClientRow>> {
    clients::table
        .find(id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()
}

/// Summaries of the given clients, keyed by id.
pub fn summaries(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, ClientSummary>> {
    let rows: Vec<ClientRow> = clients::table
        .filter(clients::id.eq_any(ids))
        .select(ClientRow::as_select())
        .load(conn)?;
    Ok(rows
        .iter()
        .map(|r| (r.id, ClientSummary::from(r)))
        .collect())
}

/// The `search_text` column: accent-free, lower-case names, last name first. Matched by `?q=`
/// and also the list's sort key (see `sort_key`).
pub fn search_text(first_name: &str, last_name: &str, preferred_name: Option<&str>) -> String {
    let parts: Vec<&str> = [last_name, first_name, preferred_name.unwrap_or("")]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    crate::domain::text::search_key(&parts)
}

/// The list order: `search_text` (last, first, preferred name, accent-free lower case)
/// compared byte-wise, so the order is the same whatever the database's locale. Backed by
/// the index `clients_sort_idx`.
pub fn sort_key() -> SqlLiteral<Text> {
    sql::<Text>(r#"clients.search_text COLLATE "C""#)
}

/// Rows after the keyset cursor `(search_text, id)` in the list order.
pub fn after_sort_key(key: String, id: Uuid) -> SqlLiteral<Bool, impl QueryFragment<Pg>> {
    sql::<Bool>(r#"(clients.search_text COLLATE "C", clients.id) > ("#)
        .bind::<Text, _>(key)
        .sql(r#" COLLATE "C", "#)
        .bind::<SqlUuid, _>(id)
        .sql(")")
}

/// Escapes LIKE wildcards in user input.
pub fn like_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
