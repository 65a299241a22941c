//! `GET /reports/retention` (SPEC §5): members admitted to active in the window (their
//! `joined_on` lies in it), bucketed by group, lead therapist, referral source or mandated.

use std::collections::BTreeMap;

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{check_window, filename, literal, Format};
use crate::auth::Staff;
use crate::domain::membership::{ExitReason, MembershipStatus};
use crate::domain::retention::{figures, MemberOutcome, RetentionFigures, ATTENDED};
use crate::error::AppResult;
use crate::http::csv::encode_rows;
use crate::http::Query;
use crate::roster::{HELD_SINCE_JOIN_LOCAL_SQL, SESSION_LOCAL_DATE_SQL};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Deserialize, Default, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    #[default]
    Group,
    Therapist,
    ReferralSource,
    Mandated,
}

impl GroupBy {
    fn as_str(self) -> &'static str {
        match self {
            GroupBy::Group => "group",
            GroupBy::Therapist => "therapist",
            GroupBy::ReferralSource => "referral_source",
            GroupBy::Mandated => "mandated",
        }
    }
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RetentionQuery {
    /// First `joined_on` date counted, inclusive; default: no lower bound.
    pub from: Option<NaiveDate>,
    /// Last `joined_on` date counted, inclusive; default: no upper bound.
    pub to: Option<NaiveDate>,
    #[param(inline)]
    pub group_by: Option<GroupBy>,
    #[param(inline)]
    pub format: Option<Format>,
}

#[derive(Debug, QueryableByName)]
struct MemberRow {
    #[diesel(sql_type = Text)]
    bucket: String,
    #[diesel(sql_type = Text)]
    label: String,
    #[diesel(sql_type = Text)]
    status: MembershipStatus,
    #[diesel(sql_type = Nullable<Text>)]
    exit_reason: Option<ExitReason>,
    #[diesel(sql_type = Integer)]
    min_term_sessions: i32,
    #[diesel(sql_type = BigInt)]
    held: i64,
    #[diesel(sql_type = BigInt)]
    attended: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Bucket {
    /// The group or therapist id, the referral source, or `true`/`false` for mandated.
    pub key: String,
    /// The group's name, the therapist's display name, or the key again.
    pub label: String,
    #[serde(flatten)]
    pub figures: RetentionFigures,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionReport {
    pub group_by: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub buckets: Vec<Bucket>,
}

/// One row per admitted membership (`joined_on` in the window) with its bucket, status, and
/// the counts retention needs. Set-based: the held sessions and attended records of all those
/// memberships are counted in two aggregate passes, not one subquery per membership. "Held
/// since join" is `crate::roster`'s rule.
fn members_sql(q: &RetentionQuery, group_by: GroupBy) -> String {
    let (bucket, label) = match group_by {
        GroupBy::Group => ("g.id::text", "g.name"),
        GroupBy::Therapist => ("u.id::text", "u.display_name"),
        GroupBy::ReferralSource => ("c.referral_source", "c.referral_source"),
        GroupBy::Mandated => ("c.mandated::text", "c.mandated::text"),
    };
    let attended = ATTENDED.map(|s| format!("'{}'", s.as_str())).join(", ");
    // Each held session's local date is computed once (not once per member), and attendance
    // is scanned once for all the memberships counted.
    format!(
        "WITH m AS MATERIALIZED ( \
           SELECT m.* FROM memberships m WHERE m.joined_on IS NOT NULL \
             AND ({from} IS NULL OR m.joined_on >= {from}) AND ({to} IS NULL OR m.joined_on <= {to})), \
         s AS MATERIALIZED ( \
           SELECT s.group_id, s.scheduled_at, s.status, {SESSION_LOCAL_DATE_SQL} AS local_date \
           FROM sessions s JOIN groups g ON g.id = s.group_id \
           WHERE s.status = 'held' AND s.group_id IN (SELECT group_id FROM m)), \
         held AS (SELECT m.id, count(*) AS n FROM m JOIN s ON {HELD_SINCE_JOIN_LOCAL_SQL} GROUP BY m.id), \
         attended AS (SELECT a.membership_id AS id, count(*) AS n FROM attendance a \
                      WHERE a.membership_id IN (SELECT id FROM m) AND a.status IN ({attended}) \
                      GROUP BY a.membership_id) \
         SELECT {bucket} AS bucket, {label} AS label, m.status, m.exit_reason, g.min_term_sessions, \
                COALESCE(held.n, 0) AS held, COALESCE(attended.n, 0) AS attended \
         FROM m JOIN groups g ON g.id = m.group_id JOIN users u ON u.id = g.lead_therapist_id \
         JOIN clients c ON c.id = m.client_id \
         LEFT JOIN held ON held.id = m.id LEFT JOIN attended ON attended.id = m.id",
        from = literal(q.from, "date"),
        to = literal(q.to, "date"),
    )
}

const CSV_HEADER: [&str; 26] = [
    "bucket",
    "label",
    "admitted",
    "still_active",
    "exiting",
    "completed",
    "early_exit",
    "dropped_out",
    "discharged",
    "against_advice",
    "higher_level_of_care",
    "hospitalized",
    "incarcerated",
    "relocated",
    "transferred",
    "other",
    "withdrawn",
    "group_ended",
    "reached_minimum_term",
    "minimum_term_rate",
    "median_sessions_attended",
    "retained_after_4",
    "retained_after_8",
    "retained_after_12",
    "retained_after_26",
    "group_by",
];

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Retention per bucket, as JSON or CSV.
///
/// Counts the memberships admitted to active (`joined_on`) in [`from`, `to`], per group, lead
/// therapist, referral source or mandated status: their current status and exit reason, how
/// many reached the minimum term, the median of sessions attended, and the share retained
/// after 4, 8, 12 and 26 held sessions. Admins and supervisors only; audited
/// (`report.retention`).
#[utoipa::path(tag = "reports", params(RetentionQuery),
    responses((status = 200, description = "JSON, or text/csv with format=csv",
               content((RetentionReport = "application/json"), (String = "text/csv"))),
              (status = 403, description = "not an admin or supervisor"),
              (status = 422, description = "bad filter")))]
#[get("/reports/retention")]
pub async fn retention_report(
    state: web::Data<AppState>,
    staff: Staff,
    q: Query<RetentionQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    check_window(q.from, q.to)?;
    let group_by = q.group_by.unwrap_or_default();
    let format = q.format.unwrap_or_default();
    let audit = staff.audit();
    let details = json!({
        "from": q.from,
        "to": q.to,
        "group_by": group_by.as_str(),
        "format": format.as_str(),
    });
    let sql = members_sql(&q, group_by);
    // The audit event on the primary; the rows from `reports_db` (perhaps a replica).
    state
        .db
        .tx(move |conn| audit.allowed(conn, "report.retention", "report", None, details))
        .await?;
    let rows: Vec<MemberRow> = state
        .reports_db
        .read(move |conn| {
            conn.batch_execute("SET LOCAL statement_timeout = '120s'; SET LOCAL jit = off")?;
            Ok(diesel::sql_query(sql).load(conn)?)
        })
        .await?;
    let mut by_bucket: BTreeMap<(String, String), Vec<MemberOutcome>> = BTreeMap::new();
    for r in rows {
        by_bucket
            .entry((r.label, r.bucket))
            .or_default()
            .push(MemberOutcome {
                status: r.status,
                exit_reason: r.exit_reason,
                sessions_held_since_join: r.held,
                min_term_sessions: r.min_term_sessions as i64,
                sessions_attended: r.attended,
            });
    }
    let buckets: Vec<Bucket> = by_bucket
        .into_iter()
        .map(|((label, key), members)| Bucket {
            key,
            label,
            figures: figures(&members),
        })
        .collect();
    if format == Format::Csv {
        let lines: Vec<Vec<String>> = buckets
            .iter()
            .map(|b| {
                let f = &b.figures;
                let mut cells = vec![b.key.clone(), b.label.clone()];
                cells.push(f.admitted.to_string());
                cells.extend(f.buckets().iter().map(|(_, n)| n.to_string()));
                cells.push(f.reached_minimum_term.to_string());
                cells.push(opt(f.minimum_term_rate));
                cells.push(opt(f.median_sessions_attended));
                cells.extend(f.retained_after_sessions.iter().map(|p| opt(p.retained)));
                cells.push(group_by.as_str().to_string());
                cells
            })
            .collect();
        let mut body = encode_rows([CSV_HEADER.iter().copied()]);
        body.extend(encode_rows(
            lines.iter().map(|l| l.iter().map(String::as_str)),
        ));
        return Ok(HttpResponse::Ok()
            .insert_header(("content-type", "text/csv; charset=utf-8"))
            .insert_header((
                "content-disposition",
                format!(
                    "attachment; filename=\"{}\"",
                    filename(&format!("retention_by_{}", group_by.as_str()), q.from, q.to)
                ),
            ))
            .body(body));
    }
    Ok(HttpResponse::Ok().json(RetentionReport {
        group_by: group_by.as_str().into(),
        from: q.from,
        to: q.to,
        buckets,
    }))
}
