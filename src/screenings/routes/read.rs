//! `GET /screenings`, `GET /screenings/{id}`.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{audit_assessment_reads, load_visible};
use crate::auth::policy::act;
use crate::auth::Staff;
use crate::domain::screening::{Outcome, ScreeningStatus};
use crate::error::AppResult;
use crate::http::etag::ok_with_etag;
use crate::http::pagination::{self, ListCursor, Page};
use crate::http::Query;
use crate::schema::screenings;
use crate::screenings::model::{self, Screening, ScreeningRow};
use crate::state::AppState;

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScreeningQuery {
    #[param(inline)]
    pub status: Option<ScreeningStatus>,
    #[param(inline)]
    pub outcome: Option<Outcome>,
    pub interviewer_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub group_id: Option<Uuid>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Lists screenings, newest scheduled first. Clinical roles get assessments (each read
/// audited); admin and intake never do. A therapist sees their own and their groups'.
#[utoipa::path(tag = "screenings", params(ScreeningQuery), responses((status = 200, body = Page<Screening>), (status = 409, description = "note_undecryptable: stored clinical text does not open under a configured key")))]
#[get("/screenings")]
pub async fn list_screenings(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<ScreeningQuery>,
    cursor: ListCursor,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let limit = pagination::limit(q.limit)?;
    let after: Option<(DateTime<Utc>, Uuid)> = cursor.open()?;
    let reader = state.notes.optional_reader::<act::ReadAssessment>(&staff);
    let clinical = reader.is_some();
    let rows = state
        .db
        .tx(move |conn| {
            let mut query = screenings::table
                .select(ScreeningRow::as_select())
                .into_boxed();
            if staff.is_scoped() {
                query = query.filter(model::therapist_scope(conn, staff.id)?);
            }
            if let Some(s) = q.status {
                query = query.filter(screenings::status.eq(s));
            }
            if let Some(o) = q.outcome {
                query = query.filter(screenings::outcome.eq(o));
            }
            if let Some(i) = q.interviewer_id {
                query = query.filter(screenings::interviewer_id.eq(i));
            }
            if let Some(c) = q.client_id {
                query = query.filter(screenings::client_id.eq(c));
            }
            if let Some(g) = q.group_id {
                query = query.filter(screenings::group_id.eq(g));
            }
            if let Some((t, id)) = after {
                query = query.filter(
                    screenings::scheduled_at
                        .lt(t)
                        .or(screenings::scheduled_at.eq(t).and(screenings::id.lt(id))),
                );
            }
            let rows: Vec<ScreeningRow> = query
                .order((screenings::scheduled_at.desc(), screenings::id.desc()))
                .limit(limit + 1)
                .load(conn)?;
            if clinical {
                audit_assessment_reads(conn, &staff, &rows[..rows.len().min(limit as usize)])?;
            }
            Ok(rows)
        })
        .await?;
    let cipher = reader.as_ref();
    let mut views = Vec::with_capacity(rows.len());
    for (i, r) in rows.into_iter().enumerate() {
        // The row past the page only gives the cursor its key: not opened.
        let cipher = cipher.filter(|_| (i as i64) < limit);
        views.push(((r.scheduled_at, r.id), r.view(cipher)?));
    }
    let page = cursor.page(views, limit, |(k, _)| *k, |(_, v)| v);
    Ok(HttpResponse::Ok().json(page))
}

/// One screening; the assessment for clinical roles (audited).
#[utoipa::path(tag = "screenings", responses((status = 200, body = Screening), (status = 404), (status = 409, description = "note_undecryptable: stored clinical text does not open under a configured key")))]
#[get("/screenings/{id}")]
pub async fn get_screening(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let row = load_visible(&state, &staff, id, "screening.read").await?;
    let reader = state.notes.optional_reader::<act::ReadAssessment>(&staff);
    let clinical = reader.is_some();
    if clinical && row.has_assessment() {
        let (staff, r) = (staff.clone(), row.clone());
        state
            .db
            .tx(move |conn| audit_assessment_reads(conn, &staff, std::slice::from_ref(&r)))
            .await?;
    }
    let version = row.version;
    let view = row.view(reader.as_ref())?;
    Ok(ok_with_etag(version, &view))
}
