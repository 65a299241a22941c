//! `GET /waitlist` (SPEC §4): clients with a valid accepted screening and no seat, oldest
//! screening first. A seat anywhere (pending, active or exiting in any group) takes a client off
//! the waitlist. With `group_id`: those screened for that group or for no group in particular.
//! A screening a membership was already admitted on is used up: SPEC §2, "a returning client is
//! a new membership after a new screening", so a client who left waits again only once screened
//! again. A therapist sees the clients in their scope (`auth::scope`), which includes those screened for
//! the groups they lead.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Timestamptz, Uuid as SqlUuid};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{scope, Staff};
use crate::clients::model::{summaries, ClientSummary};
use crate::domain::screening::{valid_since, valid_until};
use crate::error::AppResult;
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitlistQuery {
    pub group_id: Option<Uuid>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistEntry {
    pub client: ClientSummary,
    /// The client's oldest still-valid accepted screening not yet used for an admission
    /// (matching `group_id` when given).
    pub screening_id: Uuid,
    pub interviewer_id: Uuid,
    pub screened_for_group_id: Option<Uuid>,
    pub completed_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    client_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    screening_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    interviewer_id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    group_id: Option<Uuid>,
    #[diesel(sql_type = Timestamptz)]
    completed_at: DateTime<Utc>,
}

/// The waiting clients (one row per client: their oldest usable screening). `$1` the oldest
/// `completed_at` still valid, `$2` a group (or null), `$3` a therapist's client scope (or null).
const WAITING: &str = "\
    SELECT DISTINCT ON (s.client_id) s.client_id, s.id AS screening_id, s.interviewer_id, \
           s.group_id, s.completed_at \
    FROM screenings s \
    WHERE s.status = 'completed' AND s.outcome = 'accepted' AND s.completed_at >= $1 \
      AND ($2::uuid IS NULL OR s.group_id IS NULL OR s.group_id = $2) \
      AND ($3::uuid[] IS NULL OR s.client_id = ANY($3)) \
      AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.client_id = s.client_id \
                      AND m.status IN ('pending', 'active', 'exiting')) \
      AND NOT EXISTS (SELECT 1 FROM memberships u WHERE u.screening_id = s.id) \
    ORDER BY s.client_id, s.completed_at, s.id";

/// How many clients wait (the dashboard's `waitlist`: the length of `GET /waitlist`).
pub fn count(conn: &mut PgConnection, scoped: Option<Vec<Uuid>>) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let since = valid_since(Utc::now());
    diesel::sql_query(format!("SELECT count(*) AS n FROM ({WAITING}) w"))
        .bind::<Timestamptz, _>(since)
        .bind::<Nullable<SqlUuid>, _>(None::<Uuid>)
        .bind::<Nullable<Array<SqlUuid>>, _>(scoped)
        .get_result::<N>(conn)
        .map(|r| r.n)
}

/// Waiting clients, oldest screening first.
#[utoipa::path(tag = "screenings", params(WaitlistQuery), responses((status = 200, body = Page<WaitlistEntry>), (status = 404)))]
#[get("/waitlist")]
pub async fn waitlist(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<WaitlistQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let audit = staff.audit();
    let (rows, clients) = state
        .db
        .tx(move |conn| {
            if let Some(g) = q.group_id {
                // An unknown group, or for a therapist one they do not lead, is not found.
                scope::ensure_group(conn, &staff, g)?;
            }
            let scoped: Option<Vec<Uuid>> = if staff.is_scoped() {
                Some(scope::therapist_client_ids(conn, staff.id)?)
            } else {
                None
            };
            let since = valid_since(Utc::now());
            let (after_t, after_id) = after.map_or((None, None), |(t, id)| (Some(t), Some(id)));
            let rows: Vec<Row> = diesel::sql_query(format!(
                "SELECT * FROM ({WAITING}) w \
                 WHERE $4::timestamptz IS NULL OR (w.completed_at, w.screening_id) > ($4, $5) \
                 ORDER BY w.completed_at, w.screening_id LIMIT $6",
            ))
            .bind::<Timestamptz, _>(since)
            .bind::<Nullable<SqlUuid>, _>(q.group_id)
            .bind::<Nullable<Array<SqlUuid>>, _>(scoped)
            .bind::<Nullable<Timestamptz>, _>(after_t)
            .bind::<Nullable<SqlUuid>, _>(after_id)
            .bind::<diesel::sql_types::BigInt, _>(limit + 1)
            .load(conn)?;
            let ids: Vec<Uuid> = rows.iter().map(|r| r.client_id).collect();
            let clients = summaries(conn, &ids)?;
            let shown = ids.iter().take(limit as usize).copied();
            crate::audit::bulk::list_read(
                &audit,
                conn,
                "waitlist.read",
                "waitlist",
                q.group_id,
                shown,
            )?;
            Ok((rows, clients))
        })
        .await?;
    let page = cursor.page(
        rows,
        limit,
        |r| (r.completed_at, r.screening_id),
        |r| WaitlistEntry {
            client: clients
                .get(&r.client_id)
                .cloned()
                .expect("summary loaded with the row"),
            screening_id: r.screening_id,
            interviewer_id: r.interviewer_id,
            screened_for_group_id: r.group_id,
            completed_at: r.completed_at,
            valid_until: valid_until(r.completed_at),
        },
    );
    Ok(HttpResponse::Ok().json(page))
}
