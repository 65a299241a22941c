use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::signatures::Signature;
use crate::clients::model::ClientSummary;
use crate::domain::agreement::contract_current;
use crate::domain::membership::{ExitReason, MembershipStatus};
use crate::domain::participation::{at_risk as streak_at_risk, attendance_rate};
use crate::error::{AppError, AppResult};
use crate::notes::crypto::ClinicalReader;
use crate::notes::fields::{self, Field};
use crate::roster;
use crate::schema::memberships;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = memberships)]
pub struct MembershipRow {
    pub id: Uuid,
    pub group_id: Uuid,
    pub client_id: Uuid,
    pub screening_id: Uuid,
    pub status: MembershipStatus,
    pub override_reason: Option<String>,
    pub contract_id: Option<Uuid>,
    pub signed_at: Option<DateTime<Utc>>,
    pub signature_name: Option<String>,
    pub witness_id: Option<Uuid>,
    pub joined_on: Option<NaiveDate>,
    pub exit_notice_reason: Option<String>,
    pub announced_at: Option<DateTime<Utc>>,
    pub planned_last_session_id: Option<Uuid>,
    pub exit_reason: Option<ExitReason>,
    pub exit_note: Option<String>,
    pub exited_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub exit_rescinded_at: Option<DateTime<Utc>>,
    pub exit_rescind_reason: Option<String>,
    /// The clinical texts, sealed (`crate::notes::fields`); the plain columns above hold only
    /// rows written before sealing, until converted.
    pub override_reason_sealed: Option<Vec<u8>>,
    pub exit_notice_reason_sealed: Option<Vec<u8>>,
    pub exit_note_sealed: Option<Vec<u8>>,
    pub exit_rescind_reason_sealed: Option<Vec<u8>>,
}

/// A membership's clinical texts, opened.
#[derive(Debug, Default)]
struct Texts {
    override_reason: Option<String>,
    exit_notice_reason: Option<String>,
    exit_note: Option<String>,
    exit_rescind_reason: Option<String>,
}

impl MembershipRow {
    fn texts(&self, reader: &ClinicalReader) -> AppResult<Texts> {
        let read = |field, sealed: &Option<Vec<u8>>, legacy: &Option<String>| {
            fields::read(reader, field, self.id, sealed.as_deref(), legacy.as_deref())
        };
        Ok(Texts {
            override_reason: read(
                Field::OverrideReason,
                &self.override_reason_sealed,
                &self.override_reason,
            )?,
            exit_notice_reason: read(
                Field::ExitNoticeReason,
                &self.exit_notice_reason_sealed,
                &self.exit_notice_reason,
            )?,
            exit_note: read(Field::ExitNote, &self.exit_note_sealed, &self.exit_note)?,
            exit_rescind_reason: read(
                Field::ExitRescindReason,
                &self.exit_rescind_reason_sealed,
                &self.exit_rescind_reason,
            )?,
        })
    }

    pub fn status(&self) -> MembershipStatus {
        self.status
    }
}

/// A membership as the API shows it, with the client's summary and the derived fields of
/// SPEC §2. Free-text reasons and notes are shown to clinical roles only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipView {
    pub id: Uuid,
    pub group_id: Uuid,
    pub client_id: Uuid,
    pub client: ClientSummary,
    pub screening_id: Uuid,
    pub status: MembershipStatus,
    pub override_reason: Option<String>,
    pub contract_id: Option<Uuid>,
    pub signed_at: Option<DateTime<Utc>>,
    pub signature_name: Option<String>,
    pub witness_id: Option<Uuid>,
    pub joined_on: Option<NaiveDate>,
    /// Every signature of the agreement, oldest first (v2). `contract_id`, `signed_at`,
    /// `signature_name` and `witness_id` above are the admission's.
    pub signatures: Vec<Signature>,
    /// The member signed the group's current agreement version (v2); false while pending.
    pub contract_current: bool,
    pub sessions_held_since_join: i32,
    pub minimum_term_met: bool,
    /// Sessions attended (present, late, left early) (v2).
    pub sessions_attended: i32,
    /// sessions_attended / sessions_held_since_join, 4 decimals; null while none was held (v2).
    pub attendance_rate: Option<f64>,
    /// Consecutive unexcused absences, newest first; excused absences are skipped (v2).
    pub absence_streak: i32,
    /// Local date of the last session attended (v2).
    pub last_attended_on: Option<NaiveDate>,
    /// A seated member whose `absence_streak` reached the group's `absence_alert_threshold`.
    pub at_risk: bool,
    pub exit_notice_reason: Option<String>,
    pub announced_at: Option<DateTime<Utc>>,
    pub planned_last_session_id: Option<Uuid>,
    pub exit_reason: Option<ExitReason>,
    pub exit_note: Option<String>,
    pub exited_at: Option<DateTime<Utc>>,
    /// When the latest exit notice was rescinded (v2); the member stayed.
    pub exit_rescinded_at: Option<DateTime<Utc>>,
    /// Why it was rescinded (clinical roles only).
    pub exit_rescind_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub version: i32,
}

/// Renders memberships (in the order given), computing the derived fields in two queries.
/// The clinical texts are opened and shown only given a reader (clinical roles' permit).
pub fn load_views(
    conn: &mut PgConnection,
    rows: Vec<MembershipRow>,
    clinical: Option<&ClinicalReader>,
) -> AppResult<Vec<MembershipView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    // Term progress, participation (the view `membership_stats`) and the client's summary, in
    // one query.
    let mut clients: HashMap<Uuid, ClientSummary> = HashMap::new();
    let mut stats: HashMap<Uuid, roster::Stats> = HashMap::new();
    for (st, client) in roster::stats_with_clients(conn, &ids)? {
        clients.insert(client.id, ClientSummary::from(&client));
        stats.insert(st.membership_id, st);
    }
    let (mut signatures, current) = super::signatures::load_with_current(conn, &rows)?;
    let mut views = Vec::with_capacity(rows.len());
    for r in rows {
        let texts = match clinical {
            Some(cipher) => r.texts(cipher)?,
            None => Texts::default(),
        };
        let (Some(st), Some(client)) = (stats.get(&r.id), clients.get(&r.client_id)) else {
            continue;
        };
        {
            let p = st.progress();
            let part = st.participation();
            let status = r.status();
            let signed = signatures.remove(&r.id).unwrap_or_default();
            let held: Vec<i32> = signed.iter().map(|s| s.version).collect();
            views.push(MembershipView {
                contract_current: contract_current(&held, current.get(&r.group_id).copied()),
                signatures: signed,
                client: client.clone(),
                sessions_held_since_join: p.sessions_held_since_join,
                minimum_term_met: p.minimum_term_met(),
                sessions_attended: part.sessions_attended,
                attendance_rate: attendance_rate(
                    part.sessions_attended as i64,
                    p.sessions_held_since_join as i64,
                ),
                absence_streak: part.absence_streak,
                last_attended_on: part.last_attended_on,
                // Only a seated member can be at risk.
                at_risk: matches!(status, MembershipStatus::Active | MembershipStatus::Exiting)
                    && streak_at_risk(part.absence_streak, p.absence_alert_threshold),
                id: r.id,
                group_id: r.group_id,
                client_id: r.client_id,
                screening_id: r.screening_id,
                status,
                override_reason: texts.override_reason,
                contract_id: r.contract_id,
                signed_at: r.signed_at,
                signature_name: r.signature_name,
                witness_id: r.witness_id,
                joined_on: r.joined_on,
                exit_notice_reason: texts.exit_notice_reason,
                announced_at: r.announced_at,
                planned_last_session_id: r.planned_last_session_id,
                exit_reason: r.exit_reason,
                exit_note: texts.exit_note,
                exited_at: r.exited_at,
                exit_rescinded_at: r.exit_rescinded_at,
                exit_rescind_reason: texts.exit_rescind_reason,
                created_at: r.created_at,
                updated_at: r.updated_at,
                version: r.version,
            });
        }
    }
    Ok(views)
}

/// A group's memberships (every status unless filtered, after the cursor, in admission
/// order) for a staff member, with the group's visibility read in the same statement
/// (each membership joined to its group's therapists): 404 when the group does not exist or is
/// outside a therapist's scope (rule (a) of `auth::scope`, on the row read). One round trip on
/// the roster's hot path where `scope::ensure_group` and then the rows took two; only a
/// page with no membership asks `ensure_group` whether the group is there to see.
pub fn of_visible_group(
    conn: &mut PgConnection,
    staff: &crate::auth::Staff,
    group_id: Uuid,
    status: Option<MembershipStatus>,
    after: Option<(DateTime<Utc>, Uuid)>,
) -> AppResult<Vec<MembershipRow>> {
    use crate::schema::groups;
    use diesel::sql_types::Bool;
    let (after_at, after_id) = after.unwrap_or((DateTime::<Utc>::UNIX_EPOCH, Uuid::nil()));
    let found: Vec<(Uuid, Vec<Uuid>, MembershipRow)> = memberships::table
        .inner_join(groups::table)
        .filter(memberships::group_id.eq(group_id))
        .filter(
            status
                .is_none()
                .into_sql::<Bool>()
                .or(memberships::status.eq(status.unwrap_or(MembershipStatus::Active))),
        )
        .filter(
            after
                .is_none()
                .into_sql::<Bool>()
                .or(memberships::created_at
                    .gt(after_at)
                    .or(memberships::created_at
                        .eq(after_at)
                        .and(memberships::id.gt(after_id)))),
        )
        .order((memberships::created_at.asc(), memberships::id.asc()))
        .select((
            groups::lead_therapist_id,
            groups::co_therapist_ids,
            MembershipRow::as_select(),
        ))
        .load(conn)?;
    match found.first() {
        None => crate::auth::scope::ensure_group(conn, staff, group_id)?,
        Some((lead, co, _)) => {
            if !crate::auth::scope::group_row_visible(staff, *lead, co) {
                return Err(AppError::NotFound);
            }
        }
    }
    Ok(found.into_iter().map(|(_, _, m)| m).collect())
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<MembershipRow>> {
    memberships::table
        .find(id)
        .select(MembershipRow::as_select())
        .first(conn)
        .optional()
}

/// One membership's view.
pub fn load_view(
    conn: &mut PgConnection,
    id: Uuid,
    clinical: Option<&ClinicalReader>,
) -> AppResult<MembershipView> {
    let row = find(conn, id)?.ok_or(AppError::NotFound)?;
    load_views(conn, vec![row], clinical)?
        .pop()
        .ok_or(AppError::NotFound)
}
