//! `GET /clients/{id}/record` (supervisor; therapist in scope).
//!
//! A therapist reads notes of their own groups only (SPEC §2: readers are the group's
//! therapists), so their export holds the client's seats in the groups they lead or co-lead,
//! with that attendance and those notes; a supervisor's holds every seat.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{self, RecordAttendance, RecordMembership};
use crate::auth::policy::{act, Permit};
use crate::auth::scope;
use crate::clients::model::{self as clients_model, Client};
use crate::domain::note::NoteStatus;
use crate::domain::redact::Redactor;
use crate::error::{AppError, AppResult};
use crate::notes::crypto::ClinicalReader;
use crate::notes::failure::{audited, Attempt, Failure};
use crate::notes::model as notes;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordAddendum {
    pub created_at: DateTime<Utc>,
    pub author_id: Uuid,
    pub content: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordNote {
    pub id: Uuid,
    pub membership_id: Uuid,
    pub session_id: Uuid,
    pub status: NoteStatus,
    pub author_id: Uuid,
    pub signed_at: Option<DateTime<Utc>>,
    pub cosigned_at: Option<DateTime<Utc>>,
    /// participation, progress, risk_flags, content (fellow members' names redacted).
    #[schema(value_type = crate::domain::note::MemberNoteFields)]
    pub fields: Value,
    pub addenda: Vec<RecordAddendum>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientRecord {
    pub client: Client,
    pub memberships: Vec<RecordMembership>,
    pub attendance: Vec<RecordAttendance>,
    /// Signed and co-signed member notes of this client, in session order.
    pub member_notes: Vec<RecordNote>,
    /// The accounting of disclosures (42 CFR §2.24): every disclosure of the client's
    /// information, newest first.
    pub disclosures: Vec<crate::disclosures::Disclosure>,
}

/// Free-text fields of a member note; the others are enums.
fn redact_fields(mut fields: Value, r: &Redactor) -> Value {
    for key in ["progress", "content"] {
        if let Some(Value::String(s)) = fields.get(key) {
            fields[key] = Value::String(r.redact(s));
        }
    }
    fields
}

fn build(
    conn: &mut diesel::PgConnection,
    permit: &Permit<act::ReadClientRecord>,
    reader: &ClinicalReader,
    client_id: Uuid,
) -> Result<ClientRecord, Failure> {
    let staff = permit.staff();
    let visible_groups = if staff.is_scoped() {
        if !scope::is_client_in_therapist_scope(conn, staff.id, client_id)? {
            return Err(Failure::OutOfScope);
        }
        // (f) an emergency access reads the whole chart, every seat
        if scope::has_emergency_access(conn, staff.id, client_id)? {
            None
        } else {
            Some(scope::therapist_group_ids(conn, staff.id)?)
        }
    } else {
        None
    };
    let client = clients_model::find(conn, client_id)?.ok_or(AppError::NotFound)?;
    let memberships = model::memberships_of(conn, client_id, visible_groups.as_deref())?;
    let membership_ids: Vec<Uuid> = memberships.iter().map(|m| m.id).collect();
    let attendance = model::attendance_of(conn, &membership_ids)?;
    let names = model::fellow_names(conn, client_id)?;
    let redactor = Redactor::with_ids(
        names.iter().map(String::as_str),
        model::fellow_ids(conn, client_id)?,
    );
    let mut member_notes = Vec::new();
    for row in notes::signed_member_notes(conn, &membership_ids)? {
        let n = notes::view(conn, reader, row)?;
        member_notes.push(RecordNote {
            id: n.id,
            membership_id: n.membership_id.unwrap_or_default(),
            session_id: n.session_id,
            status: n.status,
            author_id: n.author_id,
            signed_at: n.signed_at,
            cosigned_at: n.cosigned_at,
            fields: redact_fields(n.fields, &redactor),
            addenda: n
                .addenda
                .into_iter()
                .map(|a| RecordAddendum {
                    created_at: a.created_at,
                    author_id: a.author_id,
                    content: redactor.redact(&a.content),
                })
                .collect(),
        });
    }
    let disclosures = crate::disclosures::model::of_client(conn, client_id)?;
    Ok(ClientRecord {
        client: client.into(),
        memberships,
        attendance,
        member_notes,
        disclosures,
    })
}

/// The client's record for export: demographics, seats, attendance, and signed member notes
/// with their addenda, fellow members' names replaced by `[group member]`. Audited as
/// `client_record.read`; a note that cannot be decrypted answers 409 `note_undecryptable`.
#[utoipa::path(tag = "clients", responses((status = 200, body = ClientRecord), (status = 403), (status = 404), (status = 409)))]
#[get("/clients/{id}/record")]
pub async fn client_record(
    state: web::Data<AppState>,
    permit: Permit<act::ReadClientRecord>,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let client_id = id.into_inner();
    let reader = state.notes.reader(&permit);
    let record = state
        .db
        .run(move |conn| {
            let audit = permit.audit();
            let attempt = Attempt {
                action: "client_record.read",
                resource_type: "client",
                resource_id: Some(client_id),
                details: json!({}),
            };
            audited(conn, &audit, attempt, |conn| {
                let record = build(conn, &permit, &reader, client_id)?;
                audit.allowed(
                    conn,
                    "client_record.read",
                    "client",
                    Some(client_id),
                    // SPEC §2: a bulk read names what it disclosed (ids, never content).
                    json!({
                        "member_notes": record.member_notes.len(),
                        "note_ids": record.member_notes.iter().map(|n| n.id).collect::<Vec<_>>(),
                    }),
                )?;
                Ok(record)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(record))
}
